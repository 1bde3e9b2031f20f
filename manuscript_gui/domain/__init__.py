"""The domain's vocabulary: statuses, reasons, transitions and records.

Below every other package (it imports none of them), so that the engine, the
services, the storage and the window all speak it without importing each
other: ``core/events.py`` and the window never need the database layer.
"""

from manuscript_gui.domain.records import FileRecord, JsonObject, NewFile, TaskRecord
from manuscript_gui.domain.session import IdentityChoice, QueueOwner, SessionChange, SessionInfo
from manuscript_gui.domain.status import (
    TRANSITIONS,
    FileError,
    FileOutcome,
    FileStatus,
    StopReason,
    TaskStatus,
    Transition,
)

__all__ = [
    "TRANSITIONS",
    "FileError",
    "FileOutcome",
    "FileRecord",
    "FileStatus",
    "IdentityChoice",
    "JsonObject",
    "NewFile",
    "QueueOwner",
    "SessionChange",
    "SessionInfo",
    "StopReason",
    "TaskRecord",
    "TaskStatus",
    "Transition",
]
