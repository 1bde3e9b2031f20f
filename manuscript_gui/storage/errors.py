"""Exceptions of the storage layer.

The engine and services catch these, never peewee's or sqlite3's own::

    StorageError
    ├── DatabaseOpenError          the file exists but cannot be opened (locked, no permission);
    │                              nothing was touched
    ├── CorruptDatabaseError       damaged; the file was moved aside, a next open starts empty
    ├── IncompatibleDatabaseError  a valid SQLite file that is not ours; nothing was touched
    │   └── SchemaTooNewError      written by a newer version of the app; never downgraded
    ├── MigrationError             a migration step failed and was rolled back
    ├── ValidationError (+ValueError)   a value the schema does not allow (e.g. status "running")
    │   └── InvalidTransition      a status change the task's current status does not allow
    └── NotFoundError (+LookupError)    no such task / file row
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "CorruptDatabaseError",
    "DatabaseOpenError",
    "IncompatibleDatabaseError",
    "InvalidTransition",
    "MigrationError",
    "NotFoundError",
    "SchemaTooNewError",
    "StorageError",
    "ValidationError",
]


class StorageError(Exception):
    """Base of every error raised by ``manuscript_gui.storage``."""


class DatabaseOpenError(StorageError):
    """The database could not be opened for a reason other than damage."""

    def __init__(self, path: Path, detail: str) -> None:
        super().__init__(f"Cannot open the export database {path}: {detail}")
        self.path = path
        self.detail = detail


class CorruptDatabaseError(StorageError):
    """The database was damaged and has been moved aside (with its -wal/-shm files).

    It is never replaced silently: the caller decides whether to start afresh
    (a next open of the same path creates an empty database) and tells the user
    where the damaged copy is.
    """

    def __init__(self, original_path: Path, moved_to: Path, detail: str) -> None:
        super().__init__(
            f"The export database {original_path} is damaged ({detail}). "
            f"It was moved to {moved_to} and kept for recovery; "
            "a new, empty database is created the next time it is opened."
        )
        self.original_path = original_path
        self.moved_to = moved_to
        self.detail = detail


class IncompatibleDatabaseError(StorageError):
    """A readable SQLite file this version of the app cannot use."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path


class SchemaTooNewError(IncompatibleDatabaseError):
    """Written by a newer version of the app; downgrading could lose its data."""

    def __init__(self, path: Path, found_version: int, supported_version: int) -> None:
        super().__init__(
            path,
            f"The export database {path} has schema version {found_version}, but this "
            f"version of manuscript-gui only knows versions up to {supported_version}. "
            "It was written by a newer version of the app; please update. "
            "The file was left unchanged.",
        )
        self.found_version = found_version
        self.supported_version = supported_version


class MigrationError(StorageError):
    """Upgrading the schema failed; the failing step was rolled back."""

    def __init__(self, path: Path, version: int, backup_path: Path | None, detail: str) -> None:
        backup = f" A copy made before migrating is at {backup_path}." if backup_path else ""
        super().__init__(
            f"Upgrading the export database {path} to schema version {version} failed: "
            f"{detail}.{backup}"
        )
        self.path = path
        self.version = version
        self.backup_path = backup_path


class ValidationError(StorageError, ValueError):
    """A value the stored data model does not allow."""


class InvalidTransition(ValidationError):
    """A transition (``storage.status.TRANSITIONS``) from a status it does not start from.

    ``status`` is the task's current status (a ``TaskStatus`` value), ``transition``
    the refused ``Transition`` value; nothing was written.
    """

    def __init__(self, task_id: int, transition: str, status: str) -> None:
        super().__init__(f"task {task_id} is {status}: {transition} is not possible")
        self.task_id = task_id
        self.transition = transition
        self.status = status


class NotFoundError(StorageError, LookupError):
    """No row with the given id (in the given task)."""
