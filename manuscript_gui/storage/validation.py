"""The checks applied before writing a row, and the conversions of stored values.

The records themselves are the domain's (:mod:`manuscript_gui.domain.records`).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Final

from manuscript_gui.domain.records import FileRecord, JsonObject, NewFile
from manuscript_gui.domain.status import FileOutcome, FileStatus, StopReason, TaskStatus
from manuscript_gui.storage.errors import ValidationError

# ----------------------------------------------------------------------- helpers

_CODE_RE: Final = re.compile(r"[a-z][a-z0-9_]*")
_SHA256_RE: Final = re.compile(r"[0-9a-f]{64}")


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def dump_json(value: JsonObject) -> str:
    """A stored JSON object (a task's selection, reason or error parameters)."""
    if not isinstance(value, dict):
        raise ValidationError("a stored value (selection, parameters) must be a JSON object")
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"a stored value must be JSON-serialisable: {exc}") from None


def load_json(text: str) -> JsonObject:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValidationError("a stored value is not a JSON object")
    return value


def task_status(value: str) -> TaskStatus:
    """Coerce to a storable task status; ``running`` is refused with the reason why."""
    try:
        return TaskStatus(value)
    except ValueError:
        pass
    if value == "running":
        raise ValidationError(
            "'running' is never stored: a task is running when the live task manager holds "
            "its id, so a crash cannot leave it stuck (store 'waiting' instead)"
        )
    raise ValidationError(f"unknown task status {value!r}")


def file_status(value: str) -> FileStatus:
    """Coerce to a storable file status (again, never ``running``)."""
    try:
        return FileStatus(value)
    except ValueError:
        raise ValidationError(
            f"file status {value!r} cannot be stored (one of: {', '.join(FileStatus)}; "
            "in-flight files are known to the task manager only)"
        ) from None


def file_outcome(value: str) -> FileOutcome:
    try:
        return FileOutcome(value)
    except ValueError:
        raise ValidationError(f"unknown file outcome {value!r}") from None


def stop_reason(value: str) -> StopReason:
    try:
        return StopReason(value)
    except ValueError:
        raise ValidationError(f"unknown stop reason {value!r}") from None


def check_code(value: str | None, what: str) -> None:
    """Codes are identifiers the UI translates, not prose."""
    if value is not None and not _CODE_RE.fullmatch(value):
        raise ValidationError(f"{what} must be a snake_case identifier, got {value!r}")


def check_local_path(path: str) -> None:
    """Refuse anything that could resolve outside the task's target folder.

    The engine makes names safe; this is the last line of defence, cheap
    enough to run on every row.
    """
    if (
        not path
        or path.startswith("/")
        or "\\" in path
        or ":" in path  # "C:x" is drive-relative on Windows
        or "\x00" in path
        or any(part in ("", ".", "..") for part in path.split("/"))
    ):
        raise ValidationError(f"unsafe local path {path!r}")


def check_new_file(file: NewFile) -> None:
    if not file.remote_id or not file.project_id:
        raise ValidationError("a file needs its remote id and project id")
    check_local_path(file.local_path)
    if file.version < 0 or file.size < 0:
        raise ValidationError(f"negative version or size for {file.local_path!r}")
    if not _SHA256_RE.fullmatch(file.sha256):
        raise ValidationError(f"sha256 of {file.local_path!r} must be 64 lowercase hex digits")
    check_code(file.error_code, "error code")
    if (file.error_code is None) != (file.error_message is None):
        raise ValidationError(f"{file.local_path!r}: an error code comes with its message")


def check_file_state(file: FileRecord) -> tuple[FileStatus, FileOutcome | None]:
    """The status/outcome/error combinations a file row may hold."""
    status = file_status(file.status)
    outcome = None if file.outcome is None else file_outcome(file.outcome)
    if (status is FileStatus.COMPLETED) != (outcome is not None):
        raise ValidationError(f"file {file.id}: an outcome is set exactly when it is completed")
    if outcome is FileOutcome.FAILED and file.error_code is None:
        raise ValidationError(f"file {file.id}: a failed file needs an error code")
    if outcome is FileOutcome.SUCCEEDED and file.error_code is not None:
        raise ValidationError(f"file {file.id}: a succeeded file carries no error")
    check_code(file.error_code, "error code")
    if file.attempts < 0:
        raise ValidationError(f"file {file.id}: negative attempts")
    return status, outcome
