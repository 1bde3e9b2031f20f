"""Storage layer: one SQLite database per server + user + identity (no Qt, no network).

Open one with :func:`open_identity_db`; everything else goes through the
returned :class:`ExportStore`, which hands out the domain's immutable records
(re-exported here with the statuses, the vocabulary the store speaks). Design
notes live in the docstrings of ``store`` (repository, threading, transitions),
``migrations`` (schema versions, backups), ``tables`` (the peewee models of the
two tables) and ``locations`` (where a database lives, folder names from
untrusted ids).
"""

from manuscript_gui.domain.records import FileRecord, JsonObject, NewFile, TaskRecord
from manuscript_gui.domain.status import (
    TRANSITIONS,
    FileError,
    FileOutcome,
    FileStatus,
    StopReason,
    TaskStatus,
    Transition,
)
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
from manuscript_gui.storage.locations import identity_db_path
from manuscript_gui.storage.migrations import SCHEMA_VERSION
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
