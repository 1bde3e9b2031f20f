"""Stored statuses, outcomes and reason codes (see ``shared/design/behaviour.md``).

These are identifiers, not labels: the UI maps them to translated text, the
engine and the database speak only these strings. ``StrEnum`` members compare
equal to their plain string values, so rows read back as ``str`` still match.

``running`` is deliberately absent: a task (or file) is running when the live
task manager holds its id, so a crash can never leave one stuck "running".
"""

from __future__ import annotations

from enum import StrEnum, unique

__all__ = ["FileError", "FileOutcome", "FileStatus", "StopReason", "TaskStatus"]


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
