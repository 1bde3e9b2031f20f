"""Stored statuses, outcomes and reason codes (see ``shared/design/behaviour.md``).

These are identifiers, not labels: the UI maps them to translated text, the
engine and the database speak only these strings. ``StrEnum`` members compare
equal to their plain string values, so rows read back as ``str`` still match.

``running`` is deliberately absent: a task (or file) is running when the live
task manager holds its id, so a crash can never leave one stuck "running".
"""

from __future__ import annotations

from enum import StrEnum, unique

__all__ = [
    "TRANSITIONS",
    "FileError",
    "FileOutcome",
    "FileStatus",
    "StopReason",
    "TaskStatus",
    "Transition",
]


@unique
class TaskStatus(StrEnum):
    """What a task row may hold. ``running`` is derived, never stored."""

    INITIALIZING = "initializing"
    WAITING = "waiting"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELED = "canceled"


@unique
class FileStatus(StrEnum):
    """What a file row may hold. In-flight files are known to the task manager only."""

    WAITING = "waiting"
    PAUSED = "paused"
    COMPLETED = "completed"


@unique
class FileOutcome(StrEnum):
    """Set exactly when a file is ``completed``."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"


@unique
class StopReason(StrEnum):
    """Why a task was paused (or canceled). Every stop carries one."""

    BY_USER = "by_user"
    LOGIN_EXPIRED = "login_expired"
    LOGGED_OUT = "logged_out"
    SWITCHED_USER = "switched_user"
    DISK_FULL = "disk_full"
    FOLDER_NOT_WRITABLE = "folder_not_writable"
    SERVER_UNREACHABLE = "server_unreachable"
    """No connection could be made (refused, DNS, TLS handshake) after the retries."""
    SERVER_UNAVAILABLE = "server_unavailable"
    """The server kept failing (5xx, timeouts, cut connections, endless 429) for every file
    while nothing succeeded: the task's files stay waiting (detail: the last error)."""
    EXPORT_IN_USE = "export_in_use"
    """Another process holds the lock on one of this task's partial files."""
    LISTING_FAILED = "listing_failed"
    """The server refused to list part of the selection (the detail says why)."""
    UNEXPECTED_ERROR = "unexpected_error"
    """A bug: the task stops rather than guess; the detail and the log say more."""


@unique
class FileError(StrEnum):
    """Why one file failed. The stored message adds the details (status code, attempts)."""

    VERSION_GONE = "version_gone"
    FILE_DELETED = "file_deleted"
    NO_PERMISSION = "no_permission"
    CHECKSUM_MISMATCH = "checksum_mismatch"
    SIZE_MISMATCH = "size_mismatch"
    UNSAFE_NAME = "unsafe_name"
    UNEXPECTED_RESPONSE = "unexpected_response"
    """The answer did not fit the file (an HTML login page from a proxy, say)."""
    NETWORK_ERROR = "network_error"
    """Transient network failures until the retries ran out."""
    SERVER_ERROR = "server_error"
    """5xx/429 until the retries ran out."""
    LOCAL_WRITE_ERROR = "local_write_error"
    """A write problem specific to this file (a problem every file would hit pauses the task)."""
    BAD_LISTING = "bad_listing"
    """The server's listing of this file lacks a field the export needs (size, version,
    sha256, ...); the message names it. Nothing was requested."""


@unique
class Transition(StrEnum):
    """The status changes of a task (docs/behaviour.md), each one transaction.

    :meth:`ExportStore.transition <manuscript_gui.storage.ExportStore.transition>`
    is the only code that writes a task's status; it also brings the task's
    open file rows (not completed) in line with the new status and re-derives
    the counters, in the same transaction.
    """

    START_LISTING = "start_listing"
    """List (again) from scratch: file rows are deleted, status ``initializing``."""
    END_LISTING = "end_listing"
    """The file list is complete: ``initializing`` → ``waiting``."""
    PAUSE = "pause"
    """By the user, or any stop of a running task (401, logout, switch, disk full, ...)."""
    CANCEL = "cancel"
    RESUME = "resume"
    """``paused`` → ``waiting`` (or, never fully listed, back to listing)."""
    RETRY_FAILED = "retry_failed"
    """A completed task's failed files back to ``waiting``."""
    END_RUN = "end_run"
    """A run processed every file: ``completed`` when **every** file row is completed,
    otherwise the task stays ``waiting`` (its open rows run next time)."""


#: The statuses each transition may start from. Anything else is refused.
TRANSITIONS: dict[Transition, frozenset[TaskStatus]] = {
    Transition.START_LISTING: frozenset({TaskStatus.INITIALIZING, TaskStatus.PAUSED}),
    Transition.END_LISTING: frozenset({TaskStatus.INITIALIZING}),
    Transition.PAUSE: frozenset({TaskStatus.INITIALIZING, TaskStatus.WAITING}),
    Transition.CANCEL: frozenset({TaskStatus.INITIALIZING, TaskStatus.WAITING, TaskStatus.PAUSED}),
    Transition.RESUME: frozenset({TaskStatus.PAUSED}),
    Transition.RETRY_FAILED: frozenset({TaskStatus.COMPLETED}),
    Transition.END_RUN: frozenset({TaskStatus.WAITING}),
}
