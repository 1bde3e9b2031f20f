"""Storage layer: one SQLite database per server + user + identity (no Qt, no network).

Open one with :func:`open_identity_db`; everything else goes through the
returned :class:`ExportStore`, which hands out immutable records. Design notes
live in the docstrings of ``store`` (repository, threading, one-way flow),
``migrations`` (schema versions, backups) and ``paths`` (folder names from
untrusted ids).
"""

from manuscript_gui.storage.errors import (
    CorruptDatabaseError,
    DatabaseOpenError,
    IncompatibleDatabaseError,
    InvalidTransition,
    MigrationError,
    NotFoundError,
    SchemaTooNewError,
    StorageError,
    ValidationError,
)
from manuscript_gui.storage.migrations import SCHEMA_VERSION
from manuscript_gui.storage.paths import identity_db_path
from manuscript_gui.storage.records import FileRecord, JsonObject, NewFile, TaskRecord
from manuscript_gui.storage.status import (
    TRANSITIONS,
    FileError,
    FileOutcome,
    FileStatus,
    StopReason,
    TaskStatus,
    Transition,
)
from manuscript_gui.storage.store import ExportStore, open_identity_db

__all__ = [
    "SCHEMA_VERSION",
    "TRANSITIONS",
    "CorruptDatabaseError",
    "DatabaseOpenError",
    "ExportStore",
    "FileError",
    "FileOutcome",
    "FileRecord",
    "FileStatus",
    "IncompatibleDatabaseError",
    "InvalidTransition",
    "JsonObject",
    "MigrationError",
    "NewFile",
    "NotFoundError",
    "SchemaTooNewError",
    "StopReason",
    "StorageError",
    "TaskRecord",
    "TaskStatus",
    "Transition",
    "ValidationError",
    "identity_db_path",
    "open_identity_db",
]
