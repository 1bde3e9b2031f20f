"""The domain's records: plain, immutable snapshots of a task and its files.

Callers (engine, services, Qt table models) get these instead of live peewee
rows: they are safe to hand to another thread, cannot trigger a query when a
view reads them, and keep the database out of every layer above ``storage``.
Nothing here imports anything of the app but :mod:`manuscript_gui.domain.status`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from manuscript_gui.domain.status import FileOutcome, FileStatus, TaskStatus

__all__ = ["FileRecord", "JsonObject", "NewFile", "TaskRecord"]

JsonObject = dict[str, Any]
"""The task's selection: storage only requires it to be a JSON object."""


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A task row. Counters are derived from its file rows (never set directly)."""

    id: int
    name: str
    target_dir: str
    selection: JsonObject
    status: TaskStatus
    reason: str | None
    """A :class:`StopReason` value, read as ``str``: a code from a newer app still loads."""
    reason_detail: str | None
    position: int
    total_files: int
    succeeded: int
    failed: int
    total_bytes: int
    done_bytes: int
    """Bytes of the files that succeeded (partial data of in-flight files is live state)."""
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    listed: bool = True
    """The file list is complete; a task paused while listing must list again."""
    staging_key: str = ""
    """Names the task's private staging folder (random, unique across databases)."""
    reason_params: JsonObject | None = None
    """Parameters of the stop reason (e.g. ``disk_full``: ``need``, ``free`` in bytes),
    from which a front end builds the sentence in the user's language."""

    @property
    def remaining_files(self) -> int:
        """Files not completed yet (waiting or paused)."""
        return self.total_files - self.succeeded - self.failed


@dataclass(frozen=True, slots=True)
class NewFile:
    """A file to add to a task, as listed from the server at task creation."""

    remote_id: str
    project_id: str
    remote_path: str
    local_path: str
    """Relative to the task's target folder, ``/``-separated, already made safe."""
    version: int
    """The version pinned at creation; downloads ask for exactly this one."""
    size: int
    sha256: str
    content_type: str | None = None
    error_code: str | None = None
    """Set for a file the listing already knows cannot be exported (a :class:`FileError`
    value, e.g. ``bad_listing``): the row is stored completed + failed with this code."""
    error_message: str | None = None
    error_params: JsonObject | None = None


@dataclass(frozen=True, slots=True)
class FileRecord:
    """A file row. To change one, ``dataclasses.replace`` it and pass it to ``update_files``."""

    id: int
    task_id: int
    remote_id: str
    project_id: str
    remote_path: str
    local_path: str
    version: int
    size: int
    sha256: str
    content_type: str | None
    etag: str | None
    status: FileStatus
    outcome: FileOutcome | None
    error_code: str | None
    """A :class:`FileError` value (``str`` for the same reason as ``TaskRecord.reason``)."""
    error_message: str | None
    attempts: int
    updated_at: datetime
    error_params: JsonObject | None = None
    """Parameters of the failure (``attempts``, ``status``, ``error``, ...), as for
    :attr:`TaskRecord.reason_params`."""
