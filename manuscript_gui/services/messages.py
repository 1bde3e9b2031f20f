"""The English wording at the edge: sentences built from stable codes and parameters.

The engine, the database and the events speak codes (:class:`StopReason`,
:class:`FileError`, the service's action error codes) and plain parameters
(``{"need": 5_000_000_000, "free": 1_200_000}``); only a front end turns them
into words. This module is the English for the command line and the window's
fallback (a translated window maps the same codes to its own strings, with the
same parameters).

- Labels, short: :data:`REASON_LABELS` (``"login expired"``),
  :data:`FILE_ERROR_LABELS`, :data:`ACTION_LABELS`.
- Sentences: :func:`stop_reason_text`, :func:`file_error_text`,
  :func:`action_error_text`.
- Figures: :func:`size_text` (``"1.5 MB"``).

Every code has a sentence; a code this version does not know (a database
written by a newer app) gets a generic sentence naming the code. Each code has
a few templates, the richest first; the first whose parameters are all present
and usable is taken, so a missing or malformed parameter gives a plainer
sentence, never an error or a ``{placeholder}`` left in the text.

Parameters (what the engine and the service store or raise with):

- every stop reason: ``error``, the detail (str); ``disk_full`` also ``need`` and
  ``free``, in bytes (int); ``disk_full`` and ``folder_not_writable`` from a local
  error ``path`` (str); ``server_unavailable`` (failures piling up) and
  ``unexpected_error`` (files that could not be scheduled) ``files`` (int);
- file errors: ``attempts`` (int), ``status``, the HTTP status (int), ``error`` (str);
  ``bad_listing`` ``problem`` (str);
- action errors: ``not_allowed`` ``action`` (an :class:`Action` value) and
  ``status`` (the task's, or ``"running"``); ``busy`` ``action`` (the one
  refused); ``no_task`` ``task`` (the id); ``relative_target`` and
  ``target_in_staging`` ``path``;
  ``queue_in_use`` ``front_end`` (``"window"`` or ``"cli"``) and ``pid``;
  ``no_failed_files``, ``not_signed_in``, ``no_selection`` none.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final

from manuscript_gui.core.actions import Action
from manuscript_gui.domain import FileError, StopReason

__all__ = [
    "ACTION_ERROR_CODES",
    "ACTION_LABELS",
    "FILE_ERROR_LABELS",
    "REASON_LABELS",
    "action_error_text",
    "file_error_label",
    "file_error_text",
    "queue_owner_text",
    "reason_label",
    "size_text",
    "stop_reason_text",
]


def size_text(n: float) -> str:
    """A byte count for people, in decimal units: ``"812 B"``, ``"1.5 kB"``, ``"4.2 GB"``."""
    for unit, factor in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= factor:
            return f"{n / factor:.1f} {unit}"
    return f"{int(n)} B"


# ------------------------------------------------------------------------ labels

#: What a stop reason says in a list or a status line (docs/behaviour.md).
REASON_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        StopReason.BY_USER: "by you",
        StopReason.LOGIN_EXPIRED: "login expired",
        StopReason.LOGGED_OUT: "logged out",
        StopReason.SWITCHED_USER: "switched user",
        StopReason.DISK_FULL: "disk full",
        StopReason.FOLDER_NOT_WRITABLE: "export folder not writable",
        StopReason.SERVER_UNREACHABLE: "server unreachable",
        StopReason.SERVER_UNAVAILABLE: "server unavailable",
        StopReason.EXPORT_IN_USE: "export in use by another process",
        StopReason.LISTING_FAILED: "listing failed",
        StopReason.UNEXPECTED_ERROR: "unexpected error",
    }
)

#: Why a file failed, in a column of the file list (docs/behaviour.md).
FILE_ERROR_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        FileError.VERSION_GONE: "version no longer on the server",
        FileError.FILE_DELETED: "file deleted on the server",
        FileError.NO_PERMISSION: "no permission",
        FileError.CHECKSUM_MISMATCH: "checksum mismatch",
        FileError.SIZE_MISMATCH: "size mismatch",
        FileError.UNSAFE_NAME: "name could not be made safe",
        FileError.UNEXPECTED_RESPONSE: "unexpected answer from the server",
        FileError.NETWORK_ERROR: "network error",
        FileError.SERVER_ERROR: "server error",
        FileError.LOCAL_WRITE_ERROR: "could not be written",
        FileError.BAD_LISTING: "the server's listing of this file is malformed",
    }
)

#: Button and menu labels of the task actions.
ACTION_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        Action.PAUSE: "Pause",
        Action.RESUME: "Resume",
        Action.CANCEL: "Cancel",
        Action.RETRY_FAILED: "Retry failed",
        Action.MOVE_UP: "Move up",
        Action.MOVE_DOWN: "Move down",
        Action.DELETE: "Delete",
        Action.OPEN_FOLDER: "Open folder",
        Action.FAILURE_REPORT: "Failure report",
    }
)


def reason_label(code: str | None) -> str:
    """The label of a stop reason; an unknown code is shown as it is."""
    if not code:
        return "unknown reason"
    return REASON_LABELS.get(code, code)


def file_error_label(code: str | None) -> str:
    """The label of a file error; an unknown code is shown as it is."""
    if not code:
        return "unknown error"
    return FILE_ERROR_LABELS.get(code, code)


# ------------------------------------------------------------ parameter values
# Each turns a parameter into text, or None when it is missing or unusable (then a
# template needing it is skipped).

_Convert = Callable[[object], str | None]


def _count(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def _bytes(value: object) -> str | None:
    n = _count(value)
    return None if n is None else size_text(n)


def _attempts(value: object) -> str | None:
    n = _count(value)
    if not n:
        return None
    return f"{n:,} attempt" + ("" if n == 1 else "s")


def _http_status(value: object) -> str | None:
    n = _count(value)
    return str(n) if n is not None and 100 <= n <= 599 else None


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip().rstrip(".").strip()
    return text or None


def _files(value: object) -> str | None:
    n = _count(value)
    if not n:
        return None
    return f"{n:,} file" + ("" if n == 1 else "s")


def _number(value: object) -> str | None:
    n = _count(value)
    return None if n is None else str(n)


#: A task action as the end of "A task that is paused cannot be ..." (and "... now").
_DONE_TO: Final[Mapping[str, str]] = {
    Action.PAUSE: "paused",
    Action.RESUME: "resumed",
    Action.CANCEL: "canceled",
    Action.RETRY_FAILED: "retried",
    Action.MOVE_UP: "moved up",
    Action.MOVE_DOWN: "moved down",
    Action.DELETE: "deleted",
    Action.OPEN_FOLDER: "opened",
    Action.FAILURE_REPORT: "reported on",
}


def _done_to(value: object) -> str | None:
    return _DONE_TO.get(value) if isinstance(value, str) else None


_FRONT_ENDS: Final[Mapping[str, str]] = {
    "window": "another window",
    "cli": "manuscript-cli",
}


def _front_end(value: object) -> str | None:
    return _FRONT_ENDS.get(value) if isinstance(value, str) else None


_STOP_PARAMS: Final[Mapping[str, _Convert]] = {
    "need": _bytes,
    "free": _bytes,
    "error": _text,
    "path": _text,
    "files": _files,
}
_FILE_PARAMS: Final[Mapping[str, _Convert]] = {
    "attempts": _attempts,
    "status": _http_status,
    "error": _text,
    "problem": _text,
}
_ACTION_PARAMS: Final[Mapping[str, _Convert]] = {
    "action": _done_to,
    "status": _text,
    "task": _number,
    "path": _text,
    "front_end": _front_end,
    "pid": _number,
}

# ------------------------------------------------------------------- sentences
# Per code, templates from the richest to the plainest; the last needs no parameter.

_STOP_TEXTS: Final[Mapping[str, tuple[str, ...]]] = {
    StopReason.BY_USER: ("Paused by you.",),
    StopReason.LOGIN_EXPIRED: (
        "Paused: your login expired ({error}). Sign in again, then resume the task.",
        "Paused: your login expired. Sign in again, then resume the task.",
    ),
    StopReason.LOGGED_OUT: ("Paused: you signed out.",),
    StopReason.SWITCHED_USER: ("Paused: another user or identity signed in.",),
    StopReason.DISK_FULL: (
        "Paused: the disk is full. The export still needs {need}; {free} is free.",
        "Paused: the disk of the export folder is full: {path}: {error}.",
        "Paused: the disk of the export folder is full: {error}.",
        "Paused: the disk of the export folder is full.",
    ),
    StopReason.FOLDER_NOT_WRITABLE: (
        "Paused: the export folder cannot be written to: {path}: {error}.",
        "Paused: the export folder cannot be written to: {error}.",
        "Paused: the export folder cannot be written to.",
    ),
    StopReason.SERVER_UNREACHABLE: (
        "Paused: the server cannot be reached: {error}.",
        "Paused: the server cannot be reached.",
    ),
    StopReason.SERVER_UNAVAILABLE: (
        "Paused: {files} in a row failed the same way and none succeeded "
        "(the server's doing, or a proxy's): {error}.",
        "Paused: the server kept failing, for every file: {error}.",
        "Paused: the server kept failing, for every file.",
    ),
    StopReason.EXPORT_IN_USE: (
        "Paused: another program is writing this export: {error}.",
        "Paused: another program is writing this export.",
    ),
    StopReason.LISTING_FAILED: (
        "Paused: the server would not list the selection: {error}.",
        "Paused: the server would not list the selection.",
    ),
    StopReason.UNEXPECTED_ERROR: (
        "Stopped by an unexpected error: {error}. The log says more.",
        "Stopped by an unexpected error: {files} could not be scheduled. The log says more.",
        "Stopped by an unexpected error. The log says more.",
    ),
}
_STOP_UNKNOWN: Final = (
    "Paused for a reason this version of the app does not know ({code}): {error}.",
    "Paused for a reason this version of the app does not know ({code}).",
    "Paused for a reason this version of the app does not know.",
)

_FILE_TEXTS: Final[Mapping[str, tuple[str, ...]]] = {
    FileError.VERSION_GONE: (
        "This version is no longer on the server (HTTP {status}).",
        "This version is no longer on the server.",
    ),
    FileError.FILE_DELETED: (
        "The file was deleted on the server (HTTP {status}).",
        "The file was deleted on the server.",
    ),
    FileError.NO_PERMISSION: (
        "You have no permission to download this file (HTTP {status}).",
        "You have no permission to download this file.",
    ),
    FileError.CHECKSUM_MISMATCH: (
        "The bytes received did not match the file's checksum, after {attempts}.",
        "The bytes received did not match the file's checksum.",
    ),
    FileError.SIZE_MISMATCH: (
        "The bytes received did not match the file's size, after {attempts}.",
        "The bytes received did not match the file's size.",
    ),
    FileError.UNSAFE_NAME: (
        "The name could not be made safe for this computer: {error}.",
        "The name could not be made safe for this computer.",
    ),
    FileError.UNEXPECTED_RESPONSE: (
        "The server's answer did not fit the file, after {attempts}: {error}.",
        "The server's answer did not fit the file: {error}.",
        "The server's answer did not fit the file (a web page instead of it, say).",
    ),
    FileError.NETWORK_ERROR: (
        "The network failed, after {attempts}: {error}.",
        "The network failed, after {attempts}.",
        "The network failed: {error}.",
        "The network failed until the retries ran out.",
    ),
    FileError.SERVER_ERROR: (
        "The server failed (HTTP {status}), after {attempts}.",
        "The server failed (HTTP {status}).",
        "The server failed, after {attempts}: {error}.",
        "The server failed: {error}.",
        "The server failed until the retries ran out.",
    ),
    FileError.LOCAL_WRITE_ERROR: (
        "The file could not be written: {error}.",
        "The file could not be written.",
    ),
    FileError.BAD_LISTING: (
        "The server's listing of this file is malformed: {problem}.",
        "The server's listing of this file is malformed: {error}.",
        "The server's listing of this file is malformed.",
    ),
}
_FILE_UNKNOWN: Final = (
    "Failed for a reason this version of the app does not know ({code}): {error}.",
    "Failed for a reason this version of the app does not know ({code}).",
    "Failed for a reason this version of the app does not know.",
)

#: The codes of the service's ``ActionError`` that have a sentence here.
ACTION_ERROR_CODES: Final = frozenset(
    {
        "not_allowed",
        "busy",
        "no_task",
        "no_failed_files",
        "not_signed_in",
        "no_selection",
        "relative_target",
        "target_in_staging",
        "queue_in_use",
    }
)
_ACTION_TEXTS: Final[Mapping[str, tuple[str, ...]]] = {
    "not_allowed": (
        "A task that is {status} cannot be {action}.",
        "A task that is {status} does not allow this.",
        "The task does not allow this now.",
    ),
    "busy": (
        "The task cannot be {action} now: another action on it is still in progress.",
        "Another action on this task is still in progress; try again when it is done.",
    ),
    "no_task": ("There is no task {task}.", "There is no such task."),
    "no_failed_files": ("This task has no failed files.",),
    "not_signed_in": ("Not signed in: sign in first.",),
    "no_selection": ("Choose at least one project or folder to export.",),
    "relative_target": (
        "The export folder must be an absolute path: {path}",
        "The export folder must be an absolute path.",
    ),
    "target_in_staging": (
        "The export folder cannot be inside a .manuscript-partial folder (where partial "
        "downloads are kept and removed): {path}",
        "The export folder cannot be inside a .manuscript-partial folder (where partial "
        "downloads are kept and removed).",
    ),
    "queue_in_use": (
        "This queue is exporting in {front_end} (pid {pid}); stop it there first.",
        "This queue is exporting in {front_end}; stop it there first.",
        "This queue is exporting in another process (pid {pid}); stop it there first.",
        "This queue is exporting in another process; stop it there first.",
    ),
}
_ACTION_UNKNOWN: Final = ("The action was refused ({code}).", "The action was refused.")


def _render(
    templates: tuple[str, ...], params: Mapping[str, object], convert: Mapping[str, _Convert]
) -> str:
    """The first template whose fields all have a usable parameter, filled in."""
    values: dict[str, str] = {}
    for key, fn in convert.items():
        text = fn(params.get(key))
        if text is not None:
            values[key] = text
    for template in templates:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        if fields <= values.keys():
            return template.format_map(values)
    raise AssertionError(f"no template without parameters in {templates}")  # pragma: no cover


def _with_code(
    templates: tuple[str, ...],
    code: str,
    params: Mapping[str, object],
    convert: Mapping[str, _Convert],
) -> str:
    return _render(templates, {**params, "code": code}, {**convert, "code": _text})


def stop_reason_text(code: str, params: Mapping[str, object] | None = None) -> str:
    """The sentence saying why a task stopped (a :class:`StopReason` value and its parameters).

    ``disk_full`` uses ``need``/``free`` (bytes); every reason shows ``error``
    (the detail) when it has no richer sentence. An unknown code gets a
    generic sentence naming it.
    """
    params = params or {}
    if code in _STOP_TEXTS:
        return _render(_STOP_TEXTS[code], params, _STOP_PARAMS)
    return _with_code(_STOP_UNKNOWN, code, params, _STOP_PARAMS)


def file_error_text(code: str, params: Mapping[str, object] | None = None) -> str:
    """The sentence saying why a file failed (a :class:`FileError` value; ``attempts``,
    ``status``, ``error``). An unknown code gets a generic sentence naming it."""
    params = params or {}
    if code in _FILE_TEXTS:
        return _render(_FILE_TEXTS[code], params, _FILE_PARAMS)
    return _with_code(_FILE_UNKNOWN, code, params, _FILE_PARAMS)


def action_error_text(code: str, params: Mapping[str, object] | None = None) -> str:
    """The sentence saying why an action was refused (:data:`ACTION_ERROR_CODES`; parameters
    in the module docstring). An unknown code gets a generic sentence naming it."""
    params = params or {}
    if code in _ACTION_TEXTS:
        return _render(_ACTION_TEXTS[code], params, _ACTION_PARAMS)
    return _with_code(_ACTION_UNKNOWN, code, params, _ACTION_PARAMS)


def queue_owner_text(front_end: str | None, pid: int | None, task: int | None = None) -> str:
    """Who runs a queue another process holds: ``"exporting in another window (pid 4242)"``.

    From :class:`~manuscript_gui.services.queue_lock.QueueOwner` fields; any of
    them may be unknown (``None``).
    """
    where = _front_end(front_end) or "another process"
    details = [f"pid {n}" for n in (_number(pid),) if n is not None]
    details += [f"task {n} running" for n in (_number(task),) if n is not None]
    return f"exporting in {where}" + (f" ({', '.join(details)})" if details else "")
