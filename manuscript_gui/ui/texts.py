"""Every code the window shows, turned into text in the user's language: one module.

The engine, the database and the service speak stable codes with plain
parameters (:class:`~manuscript_gui.domain.StopReason`,
:class:`~manuscript_gui.domain.FileError`, :class:`~manuscript_gui.core.actions.Action`,
``ActionError.code``, :class:`~manuscript_gui.domain.SessionChange`, ...);
``services/messages.py`` holds the English of the command line. The window
shows the same information through Qt's translation system: the English
source strings below are marked with ``QT_TRANSLATE_NOOP`` (context
``"Texts"``), extracted by ``pyside6-lupdate`` into
``resources/translations/manuscript_<lang>.ts`` and translated at the moment a
function here is called, so a language installed later (``ui/i18n.py``)
applies to every later call.

What a caller gets (all return ``str``; numbers follow the default
``QLocale``, which ``ui/i18n.py`` sets with the language):

- :func:`task_status_text` ``(task, running)``: ``"已暂停 · 磁盘空间不足"``,
  ``"已完成（3 个失败）"``, ``"进行中"`` (``full=True``: the reason's whole sentence,
  ``"已暂停 · 磁盘空间不足（还需 4.7 GB，可用 1.2 GB）"``); :func:`task_status_name` the
  bare status; :func:`task_status_variants` every text the status cell can show
  (to size the column).
- :func:`stop_reason_text` ``(code, params)``: why a task stopped (no status in
  front); :func:`stop_reason_short_text` ``(code)`` the few words of the status cell.
- :func:`file_status_text` ``(file, in_flight, percent)`` and
  :func:`file_error_text` ``(code, params)``: a file's status and failure reason.
- :func:`action_text` ``(action)``: button and menu labels (also ``"new_export"``).
- :func:`action_error_text` ``(code, params)``: why an action was refused.
- :func:`session_change_text` ``(change, session)``, :func:`file_filter_text`,
  :func:`listing_text`, :func:`queue_state_text`, :func:`queue_holder_text`.
- Figures: :func:`size_text` (1024-based B/KB/MB/GB), :func:`speed_text`,
  :func:`duration_text`, :func:`time_left_text`, :func:`count_text`.
- :func:`display_safe`: text from the server (names, paths, details) with
  control and invisible format characters (a right-to-left override that
  could disguise ``invoice\\u202efdp.exe``) shown as escapes. Every parameter
  this module puts into a sentence goes through it; callers use it for the
  names and paths they show themselves.

Each code has templates from the richest to the plainest (as in
``services/messages.py``); the first whose parameters are all present and
usable is taken, so a missing or malformed parameter gives a plainer
sentence, never an error or a ``%1`` left in the text. A code this version
does not know (a database written by a newer app) gets a generic translated
sentence naming it. Placeholders are Qt's ``%1``, ``%2``, ... (the
translation may reorder them) and ``%Ln`` for counted phrases (plural forms,
locale digits).

Parameters read (names as in ``services/messages.py``): stop reasons ``error``,
``need``/``free`` (bytes), ``path``, ``files``; file errors ``attempts``,
``status`` (HTTP), ``error``, ``problem``; action errors ``action``, ``status``,
``task``, ``path``, ``front_end``, ``pid``. A record's ``reason_detail`` or
``error_message`` stands in for a missing ``error``.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

from PySide6 import QtGui
from PySide6.QtCore import QCoreApplication, QLocale, QObject

from manuscript_gui.core.actions import Action
from manuscript_gui.domain import (
    FileError,
    FileOutcome,
    FileRecord,
    FileStatus,
    QueueOwner,
    SessionChange,
    SessionInfo,
    StopReason,
    TaskRecord,
    TaskStatus,
)
from manuscript_gui.services.reads import FileFilter

__all__ = [
    "CONTEXT",
    "DETAIL_LIMIT",
    "NAME_LIMIT",
    "NEW_EXPORT",
    "QT_TRANSLATE_NOOP",
    "RUNNING",
    "TOOLTIP_LIMIT",
    "action_error_text",
    "action_text",
    "count_text",
    "display_safe",
    "duration_text",
    "file_error_text",
    "file_filter_text",
    "file_status_text",
    "fill",
    "in_sentence",
    "listing_text",
    "plain_tooltip",
    "queue_holder_text",
    "queue_state_text",
    "session_change_text",
    "shortened",
    "size_text",
    "speed_text",
    "stop_reason_short_text",
    "stop_reason_text",
    "task_status_name",
    "task_status_text",
    "task_status_variants",
    "time_left_text",
]

# The translation context of every string in this module.
CONTEXT: Final = "Texts"
# The pseudo-action of the "new export" button (not a task action).
NEW_EXPORT: Final = "new_export"
# The derived status of the running task (never stored).
RUNNING: Final = "running"


def QT_TRANSLATE_NOOP(context: str, source: str) -> str:
    """Marks *source* for ``pyside6-lupdate`` (which matches this name) in *context*; returns it
    untranslated. Typed as ``str`` (PySide6's stub says ``object``)."""
    return source


class Texts(QObject):
    """The counted phrases (plural forms). ``pyside6-lupdate`` extracts ``self.tr(text, "", n)``
    in a class as a plural (numerus) message of the class's context, here ``"Texts"``;
    ``QCoreApplication.translate`` with ``n`` would come out as a plain one
    (research/desktop-stack-pitfalls.md §4). ``%Ln`` is the count in the locale's digits."""

    def completed_with_failures(self, n: int) -> str:
        return self.tr("Completed (%Ln failed)", "", n)

    def found_files(self, n: int) -> str:
        return self.tr("Found %Ln file(s)", "", n)

    def attempts(self, n: int) -> str:
        return self.tr("%Ln attempt(s)", "", n)

    def files(self, n: int) -> str:
        return self.tr("%Ln file(s)", "", n)


_PLURALS: Final = Texts()


def _tr(source: str, n: int = -1) -> str:
    return QCoreApplication.translate(CONTEXT, source, None, n)


@dataclass(frozen=True, slots=True)
class _Template:
    """A marked source string whose ``%1``, ``%2``, ... are *fields*, in that order."""

    source: str
    fields: tuple[str, ...] = ()


def _t(source: str, *fields: str) -> _Template:
    return _Template(source, fields)


_PLACEHOLDER = re.compile(r"%(\d+)")


def _fill(text: str, values: tuple[str, ...]) -> str:
    """Replace ``%1``..``%9`` in one pass (a value holding ``%2`` stays as it is)."""

    def one(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return values[index] if 0 <= index < len(values) else match.group(0)

    return _PLACEHOLDER.sub(one, text)


# ------------------------------------------------------------------ figures


def _locale() -> QLocale:
    return QLocale()


def count_text(n: int) -> str:
    """An integer with the locale's digit grouping: ``"1,240"``."""
    return _locale().toString(int(n))


def _decimal(value: float) -> str:
    """One decimal below 100, none from 100 on (99.96 shows as "100"), in the locale's
    digits."""
    return _locale().toString(float(value), "f", 1 if round(value, 1) < 100 else 0)


_SIZE_UNITS: Final = (
    (1024**3, QT_TRANSLATE_NOOP("Texts", "%1 GB")),
    (1024**2, QT_TRANSLATE_NOOP("Texts", "%1 MB")),
    (1024, QT_TRANSLATE_NOOP("Texts", "%1 KB")),
)


def size_text(n: float) -> str:
    """A byte count for people: ``"812 B"``, ``"1.5 KB"``, ``"4.2 GB"``.

    1024-based units with the labels Windows Explorer uses, so a size here
    matches the one the auditor sees in the file manager. Negative or
    non-finite input counts as 0.
    """
    value = float(n) if math.isfinite(n) and n > 0 else 0.0
    for factor, source in _SIZE_UNITS:
        # Round first so 1023.96 KB shows as "1.0 MB", not "1,024 KB".
        if value >= factor * 0.99995:
            return _fill(_tr(source), (_decimal(value / factor),))
    return _fill(_tr(QT_TRANSLATE_NOOP("Texts", "%1 B")), (count_text(int(value)),))


def speed_text(bytes_per_second: float) -> str:
    """A transfer rate: ``"1.5 MB/s"``."""
    #: A transfer rate; %1 is a size ("1.5 MB").
    return _fill(_tr(QT_TRANSLATE_NOOP("Texts", "%1/s")), (size_text(bytes_per_second),))


def duration_text(seconds: float) -> str:
    """A duration, its two largest units: ``"45 秒"``, ``"3 分 20 秒"``, ``"2 小时 5 分"``,
    ``"3 天 4 小时"`` (``"3 min 20 s"`` in English). Rounded up to whole seconds:
    a time left never shows 0 while something remains."""
    total = math.ceil(seconds) if math.isfinite(seconds) and seconds > 0 else 0
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    values: tuple[int, ...]
    if days:
        #: Durations: d days, h hours, min minutes, s seconds.
        source, values = QT_TRANSLATE_NOOP("Texts", "%1 d %2 h"), (days, hours)
        if not hours:
            source, values = QT_TRANSLATE_NOOP("Texts", "%1 d"), (days,)
    elif hours:
        source, values = QT_TRANSLATE_NOOP("Texts", "%1 h %2 min"), (hours, minutes)
        if not minutes:
            source, values = QT_TRANSLATE_NOOP("Texts", "%1 h"), (hours,)
    elif minutes:
        source, values = QT_TRANSLATE_NOOP("Texts", "%1 min %2 s"), (minutes, secs)
        if not secs:
            source, values = QT_TRANSLATE_NOOP("Texts", "%1 min"), (minutes,)
    else:
        source, values = QT_TRANSLATE_NOOP("Texts", "%1 s"), (secs,)
    return _fill(_tr(source), tuple(count_text(v) for v in values))


def time_left_text(seconds: float | None) -> str:
    """``"剩余 3 分 20 秒"`` / ``"3 min 20 s left"``; ``"—"`` when unknown (``None``,
    negative, infinite)."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        #: The time left when it is not known (nothing received yet).
        return _tr(QT_TRANSLATE_NOOP("Texts", "—"))
    return _fill(_tr(QT_TRANSLATE_NOOP("Texts", "%1 left")), (duration_text(seconds),))


# ---------------------------------------------------------- text from outside

# Never shown raw: controls, format characters (bidi overrides and isolates,
# zero-width ones, BOM), line/paragraph separators, lone surrogates.
_UNSAFE_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _escaped(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def display_safe(text: str, limit: int | None = None) -> str:
    """*text* (a name, path or detail from the server) with every control, format,
    line/paragraph separator and lone-surrogate character shown as an escape
    (``\\u202e``); everything else, CJK included, as it is. Plain text: callers
    still show it in plain-text widgets, never as rich text.

    *limit* (characters): text placed inside a sentence is at most this long,
    its middle replaced by ``…`` (:func:`shortened`): a 10,000-character name
    from the server must not stretch a message, a confirmation or the window
    beyond the screen. ``None``: whole (a table cell elides it itself).
    """
    safe = text
    if not text.isprintable():
        safe = "".join(
            _escaped(c) if unicodedata.category(c) in _UNSAFE_CATEGORIES else c for c in text
        )
    return safe if limit is None else shortened(safe, limit)


#: The most characters of a name from the server (a task, project, folder or user
#: name, a path) inside a sentence: a message, a confirmation, a title.
NAME_LIMIT: Final = 120
#: The most characters of a detail from the server (an error text) inside a sentence.
DETAIL_LIMIT: Final = 300
#: The most characters a tooltip shows (it shows what a cell had to elide).
TOOLTIP_LIMIT: Final = 1000


def shortened(text: str, limit: int) -> str:
    """*text* when it has at most *limit* characters (``limit >= 3``); else its first
    and last characters around ``"…"``, *limit* characters in all (the start and the
    end tell names and paths apart)."""
    if len(text) <= limit:
        return text
    keep = max(limit, 3) - 1
    head = (keep + 1) // 2
    return text[:head] + "…" + text[len(text) - (keep - head) :]


def in_sentence(text: str) -> str:
    """A name or path from the server to place inside a sentence: escaped
    (:func:`display_safe`) and at most :data:`NAME_LIMIT` characters."""
    return display_safe(text, NAME_LIMIT)


def plain_tooltip(text: str) -> str:
    """*text* (already translated or escaped) as a tooltip that shows it literally.

    Qt shows a tooltip as rich text whenever the string looks like HTML
    (``Qt::mightBeRichText``): a name such as ``<img src=...>`` from the server
    would be rendered. The result is *text* as escaped HTML (``<br>`` for new
    lines, words still wrap), at most :data:`TOOLTIP_LIMIT` characters; ``""``
    stays ``""`` (no tooltip).
    """
    if not text:
        return ""
    plain = shortened(text, TOOLTIP_LIMIT)
    return QtGui.Qt.convertFromPlainText(plain, QtGui.Qt.WhiteSpaceMode.WhiteSpaceNormal)


def fill(template: str, *values: str) -> str:
    """*template* (translated) with ``%1``, ``%2``, ... replaced by *values* in one pass:
    a value that holds ``%2`` (a name from the server) stays as it is, where chained
    ``str.replace`` calls would put the second value inside the first."""
    return _fill(template, values)


# ------------------------------------------------------------------ statuses

_TASK_STATUS: Final[Mapping[str, str]] = {
    TaskStatus.INITIALIZING: QT_TRANSLATE_NOOP("Texts", "Initializing"),
    TaskStatus.WAITING: QT_TRANSLATE_NOOP("Texts", "Waiting"),
    RUNNING: QT_TRANSLATE_NOOP("Texts", "Running"),
    TaskStatus.PAUSED: QT_TRANSLATE_NOOP("Texts", "Paused"),
    TaskStatus.COMPLETED: QT_TRANSLATE_NOOP("Texts", "Completed"),
    TaskStatus.CANCELED: QT_TRANSLATE_NOOP("Texts", "Canceled"),
}

# A status inside a sentence ("“Pause” is not possible: the task is paused.").
_TASK_STATUS_IN_SENTENCE: Final[Mapping[str, str]] = {
    TaskStatus.INITIALIZING: QT_TRANSLATE_NOOP("Texts", "initializing"),
    TaskStatus.WAITING: QT_TRANSLATE_NOOP("Texts", "waiting"),
    RUNNING: QT_TRANSLATE_NOOP("Texts", "running"),
    TaskStatus.PAUSED: QT_TRANSLATE_NOOP("Texts", "paused"),
    TaskStatus.COMPLETED: QT_TRANSLATE_NOOP("Texts", "completed"),
    TaskStatus.CANCELED: QT_TRANSLATE_NOOP("Texts", "canceled"),
}


def _with_code(source: str, code: object) -> str:
    return _fill(_tr(source), (display_safe(str(code)),))


def task_status_name(status: str) -> str:
    """A task status alone (a :class:`TaskStatus` value or :data:`RUNNING`): ``"已暂停"``."""
    source = _TASK_STATUS.get(status)
    if source is None:
        return _with_code(QT_TRANSLATE_NOOP("Texts", "Unknown status (%1)"), status)
    return _tr(source)


def task_status_text(
    task: TaskRecord, running: bool, *, with_reason: bool = True, full: bool = False
) -> str:
    """What the status column says about *task*.

    ``running`` (the live task manager holds it) shows a ``waiting`` task as
    running. A paused task adds its reason, a canceled one its reason unless
    the user canceled it; a completed task with failed files says how many
    (``"已完成（3 个失败）"``).

    The reason is :func:`stop_reason_short_text` by default
    (``"已暂停 · 登录已过期"``: the cell, in the user's language, one short
    phrase per code, so the column has a known widest text); ``full=True``
    gives the whole sentence with the stored parameters and the server's
    ``reason_detail`` (``"已暂停 · 登录已过期（401 unauthorized），请重新登录后继续"``:
    the cell's tooltip). ``with_reason=False`` leaves the reason out.
    """
    status = str(task.status)
    if status == TaskStatus.WAITING and running:
        return task_status_name(RUNNING)
    if status == TaskStatus.COMPLETED and task.failed > 0:
        return _PLURALS.completed_with_failures(task.failed)
    name = task_status_name(status)
    if not with_reason or not task.reason or status not in (TaskStatus.PAUSED, TaskStatus.CANCELED):
        return name
    if status == TaskStatus.CANCELED and task.reason == StopReason.BY_USER:
        return name
    if full:
        params = _with_detail(task.reason_params, task.reason_detail)
        reason = stop_reason_text(task.reason, params)
    else:
        reason = stop_reason_short_text(task.reason)
    return _status_with(name, reason)


def _status_with(name: str, reason: str) -> str:
    #: A task's status (%1) and why it stopped (%2).
    return _fill(_tr(QT_TRANSLATE_NOOP("Texts", "%1 · %2")), (name, reason))


def task_status_variants(count: int = 999_999, *, running: bool = False) -> list[str]:
    """Every text the status cell can show, in the current language, with *count* as
    the number in the counted ones (failed files, files found while listing): the
    widest of them sizes the status column.

    Each status alone, a paused and a canceled task with every
    :func:`stop_reason_short_text` (an unknown code included), completed with
    *count* failures, initializing with *count* files found (the task table
    joins it to the status with the same ``"%1 · %2"``). *running*: only the
    texts of the running task (its row is bold): running, initializing.
    """
    initializing = task_status_name(TaskStatus.INITIALIZING)
    listing = _status_with(initializing, listing_text(count))
    if running:
        return [task_status_name(RUNNING), initializing, listing]
    variants = [task_status_name(s) for s in _TASK_STATUS]
    variants += [_PLURALS.completed_with_failures(count), listing]
    for status in (TaskStatus.PAUSED, TaskStatus.CANCELED):
        name = task_status_name(status)
        for code in (*_STOP_SHORT, ""):
            variants.append(_status_with(name, stop_reason_short_text(code)))
    return variants


def _with_detail(params: Mapping[str, object] | None, detail: str | None) -> dict[str, object]:
    merged: dict[str, object] = dict(params or {})
    if detail and not isinstance(merged.get("error"), str):
        merged["error"] = detail
    return merged


_FILE_STATUS: Final[Mapping[str, str]] = {
    FileStatus.WAITING: QT_TRANSLATE_NOOP("Texts", "Waiting"),
    FileStatus.PAUSED: QT_TRANSLATE_NOOP("Texts", "Paused"),
    FileOutcome.SUCCEEDED: QT_TRANSLATE_NOOP("Texts", "Succeeded"),
    FileOutcome.FAILED: QT_TRANSLATE_NOOP("Texts", "Failed"),
}


def file_status_text(file: FileRecord, in_flight: bool, percent: int | None = None) -> str:
    """A file's status: ``"等待中"``, ``"进行中 · 45%"`` (in flight, the word of the
    :data:`FileFilter.IN_PROGRESS` filter, "In progress"; *percent* 0–100 or ``None``
    when unknown), ``"成功"``, ``"失败"`` (the reason is :func:`file_error_text`)."""
    if in_flight and file.status != FileStatus.COMPLETED:
        # The word of the "in progress" filter above the list, not the task's "running".
        name = file_filter_text(FileFilter.IN_PROGRESS)
        if percent is None:
            return name
        pct = _locale().toString(max(0, min(100, int(percent))))
        #: A file being downloaded: its status (%1) and the percent done (%2).
        return _fill(_tr(QT_TRANSLATE_NOOP("Texts", "%1 · %2%")), (name, pct))
    key = str(file.outcome) if file.status == FileStatus.COMPLETED else str(file.status)
    source = _FILE_STATUS.get(key)
    if source is None:
        return _with_code(QT_TRANSLATE_NOOP("Texts", "Unknown status (%1)"), key)
    return _tr(source)


_FILTERS: Final[Mapping[str, str]] = {
    FileFilter.ALL: QT_TRANSLATE_NOOP("Texts", "All"),
    FileFilter.WAITING: QT_TRANSLATE_NOOP("Texts", "Waiting"),
    FileFilter.IN_PROGRESS: QT_TRANSLATE_NOOP("Texts", "In progress"),
    FileFilter.SUCCEEDED: QT_TRANSLATE_NOOP("Texts", "Succeeded"),
    FileFilter.FAILED: QT_TRANSLATE_NOOP("Texts", "Failed"),
}


def file_filter_text(filter: str) -> str:
    """The label of a detail-pane filter (:class:`~manuscript_gui.services.reads.FileFilter`)."""
    source = _FILTERS.get(filter)
    if source is None:
        return _with_code(QT_TRANSLATE_NOOP("Texts", "Unknown filter (%1)"), filter)
    return _tr(source)


def listing_text(found: int, found_bytes: int | None = None) -> str:
    """While a task initializes: ``"已统计 1,240 个文件（4.2 GB）"``."""
    files = _PLURALS.found_files(max(0, found))
    if found_bytes is None or found_bytes <= 0:
        return files
    #: Files found so far (%1) and their total size (%2).
    return _fill(_tr(QT_TRANSLATE_NOOP("Texts", "%1 (%2)")), (files, size_text(found_bytes)))


def queue_state_text(running: bool, has_user: bool) -> str:
    """The queue in the status bar: exporting, idle, or nobody signed in."""
    if not has_user:
        return _tr(QT_TRANSLATE_NOOP("Texts", "Not signed in"))
    if running:
        return _tr(QT_TRANSLATE_NOOP("Texts", "Exporting"))
    return _tr(QT_TRANSLATE_NOOP("Texts", "Idle"))


# -------------------------------------------------------------- parameters
# Each turns a parameter into display text, or None when it is missing or unusable
# (then a template needing it is skipped).

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
    return _PLURALS.attempts(n) if n else None


def _files(value: object) -> str | None:
    n = _count(value)
    return _PLURALS.files(n) if n else None


def _http_status(value: object) -> str | None:
    n = _count(value)
    return str(n) if n is not None and 100 <= n <= 599 else None


def _number(value: object) -> str | None:
    n = _count(value)
    return None if n is None else str(n)


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip().rstrip(".").strip()
    return display_safe(text, DETAIL_LIMIT) if text else None


def _action_name(value: object) -> str | None:
    return action_text(value) if isinstance(value, str) and value in _ACTIONS else None


def _status_in_sentence(value: object) -> str | None:
    source = _TASK_STATUS_IN_SENTENCE.get(value) if isinstance(value, str) else None
    return None if source is None else _tr(source)


_FRONT_ENDS: Final[Mapping[str, str]] = {
    "window": QT_TRANSLATE_NOOP("Texts", "another window"),
    "cli": QT_TRANSLATE_NOOP("Texts", "manuscript-cli"),
}


def _front_end(value: object) -> str | None:
    source = _FRONT_ENDS.get(value) if isinstance(value, str) else None
    return None if source is None else _tr(source)


_STOP_PARAMS: Final[Mapping[str, _Convert]] = {
    "need": _bytes,
    "free": _bytes,
    "error": _text,
    "path": _text,
    "files": _files,
    "code": _text,
}
_FILE_PARAMS: Final[Mapping[str, _Convert]] = {
    "attempts": _attempts,
    "status": _http_status,
    "error": _text,
    "problem": _text,
    "code": _text,
}
_ACTION_PARAMS: Final[Mapping[str, _Convert]] = {
    "action": _action_name,
    "status": _status_in_sentence,
    "task": _number,
    "path": _text,
    "front_end": _front_end,
    "pid": _number,
    "code": _text,
}


def _render(
    templates: tuple[_Template, ...],
    params: Mapping[str, object],
    convert: Mapping[str, _Convert],
) -> str:
    """The first template whose fields all have a usable parameter, translated and filled."""
    values: dict[str, str] = {}
    for key, fn in convert.items():
        text = fn(params.get(key))
        if text is not None:
            values[key] = text
    for template in templates:
        if all(name in values for name in template.fields):
            return _fill(_tr(template.source), tuple(values[n] for n in template.fields))
    raise AssertionError(f"no template without parameters in {templates}")  # pragma: no cover


# ------------------------------------------------------------ stop reasons

_STOP_TEXTS: Final[Mapping[str, tuple[_Template, ...]]] = {
    StopReason.BY_USER: (_t(QT_TRANSLATE_NOOP("Texts", "by you")),),
    StopReason.LOGIN_EXPIRED: (
        _t(
            QT_TRANSLATE_NOOP("Texts", "login expired (%1): sign in again, then resume"),
            "error",
        ),
        _t(QT_TRANSLATE_NOOP("Texts", "login expired: sign in again, then resume")),
    ),
    StopReason.LOGGED_OUT: (_t(QT_TRANSLATE_NOOP("Texts", "signed out")),),
    StopReason.SWITCHED_USER: (_t(QT_TRANSLATE_NOOP("Texts", "switched user")),),
    StopReason.DISK_FULL: (
        _t(QT_TRANSLATE_NOOP("Texts", "disk full (needs %1, %2 free)"), "need", "free"),
        _t(QT_TRANSLATE_NOOP("Texts", "disk full: %1: %2"), "path", "error"),
        _t(QT_TRANSLATE_NOOP("Texts", "disk full: %1"), "error"),
        _t(QT_TRANSLATE_NOOP("Texts", "disk full")),
    ),
    StopReason.FOLDER_NOT_WRITABLE: (
        _t(QT_TRANSLATE_NOOP("Texts", "export folder not writable: %1: %2"), "path", "error"),
        _t(QT_TRANSLATE_NOOP("Texts", "export folder not writable: %1"), "error"),
        _t(QT_TRANSLATE_NOOP("Texts", "export folder not writable")),
    ),
    StopReason.SERVER_UNREACHABLE: (
        _t(QT_TRANSLATE_NOOP("Texts", "server unreachable: %1"), "error"),
        _t(QT_TRANSLATE_NOOP("Texts", "server unreachable")),
    ),
    StopReason.SERVER_UNAVAILABLE: (
        _t(
            QT_TRANSLATE_NOOP(
                "Texts",
                "server unavailable: %1 in a row failed the same way and none succeeded "
                "(the server's doing, or a proxy's): %2",
            ),
            "files",
            "error",
        ),
        _t(QT_TRANSLATE_NOOP("Texts", "server unavailable: %1"), "error"),
        _t(QT_TRANSLATE_NOOP("Texts", "server unavailable")),
    ),
    StopReason.EXPORT_IN_USE: (
        _t(QT_TRANSLATE_NOOP("Texts", "export in use by another process: %1"), "error"),
        _t(QT_TRANSLATE_NOOP("Texts", "export in use by another process")),
    ),
    StopReason.LISTING_FAILED: (
        _t(QT_TRANSLATE_NOOP("Texts", "the server would not list the selection: %1"), "error"),
        _t(QT_TRANSLATE_NOOP("Texts", "the server would not list the selection")),
    ),
    StopReason.UNEXPECTED_ERROR: (
        _t(QT_TRANSLATE_NOOP("Texts", "unexpected error: %1 (the log says more)"), "error"),
        _t(
            QT_TRANSLATE_NOOP(
                "Texts", "unexpected error: %1 could not be scheduled (the log says more)"
            ),
            "files",
        ),
        _t(QT_TRANSLATE_NOOP("Texts", "unexpected error (the log says more)")),
    ),
}
_STOP_UNKNOWN: Final = (
    _t(QT_TRANSLATE_NOOP("Texts", "a reason this version does not know (%1): %2"), "code", "error"),
    _t(QT_TRANSLATE_NOOP("Texts", "a reason this version does not know (%1)"), "code"),
    _t(QT_TRANSLATE_NOOP("Texts", "a reason this version does not know")),
)


# One short phrase per code, without parameters: the reason in the status cell (its
# column is sized to the widest). The whole sentence is the cell's tooltip.
_STOP_SHORT: Final[Mapping[str, str]] = {
    StopReason.BY_USER: QT_TRANSLATE_NOOP("Texts", "by you"),
    #: Short, in the status cell: "Paused · login expired".
    StopReason.LOGIN_EXPIRED: QT_TRANSLATE_NOOP("Texts", "login expired"),
    StopReason.LOGGED_OUT: QT_TRANSLATE_NOOP("Texts", "signed out"),
    StopReason.SWITCHED_USER: QT_TRANSLATE_NOOP("Texts", "switched user"),
    StopReason.DISK_FULL: QT_TRANSLATE_NOOP("Texts", "disk full"),
    StopReason.FOLDER_NOT_WRITABLE: QT_TRANSLATE_NOOP("Texts", "export folder not writable"),
    StopReason.SERVER_UNREACHABLE: QT_TRANSLATE_NOOP("Texts", "server unreachable"),
    StopReason.SERVER_UNAVAILABLE: QT_TRANSLATE_NOOP("Texts", "server unavailable"),
    #: Short, in the status cell: another process holds the export folder's lock.
    StopReason.EXPORT_IN_USE: QT_TRANSLATE_NOOP("Texts", "export folder in use"),
    #: Short, in the status cell: the server would not list the files of the selection.
    StopReason.LISTING_FAILED: QT_TRANSLATE_NOOP("Texts", "could not list the files"),
    #: Short, in the status cell.
    StopReason.UNEXPECTED_ERROR: QT_TRANSLATE_NOOP("Texts", "unexpected error"),
}


def stop_reason_short_text(code: str) -> str:
    """Why a task stopped, in a few words for the status cell (``"登录已过期"``,
    ``"disk full"``): one phrase per :class:`StopReason` value, no parameters, no
    text from the server; a code this version does not know: ``"unknown reason"``.
    The whole sentence is :func:`stop_reason_text`."""
    source = _STOP_SHORT.get(code)
    if source is None:
        #: Short, in the status cell: a stop reason this version does not know.
        source = QT_TRANSLATE_NOOP("Texts", "unknown reason")
    return _tr(source)


def stop_reason_text(code: str, params: Mapping[str, object] | None = None) -> str:
    """Why a task stopped: a :class:`StopReason` value and its parameters, as a phrase
    without the status (``"磁盘空间不足（还需 4.7 GB，可用 1.2 GB）"``,
    ``"disk full (needs 4.7 GB, 1.2 GB free)"``)."""
    params = params or {}
    templates = _STOP_TEXTS.get(code)
    if templates is None:
        return _render(_STOP_UNKNOWN, {**params, "code": code}, _STOP_PARAMS)
    return _render(templates, params, _STOP_PARAMS)


# ------------------------------------------------------------- file errors

_FILE_TEXTS: Final[Mapping[str, tuple[_Template, ...]]] = {
    FileError.VERSION_GONE: (
        _t(QT_TRANSLATE_NOOP("Texts", "version no longer on the server (HTTP %1)"), "status"),
        _t(QT_TRANSLATE_NOOP("Texts", "version no longer on the server")),
    ),
    FileError.FILE_DELETED: (
        _t(QT_TRANSLATE_NOOP("Texts", "file deleted on the server (HTTP %1)"), "status"),
        _t(QT_TRANSLATE_NOOP("Texts", "file deleted on the server")),
    ),
    FileError.NO_PERMISSION: (
        _t(QT_TRANSLATE_NOOP("Texts", "no permission (HTTP %1)"), "status"),
        _t(QT_TRANSLATE_NOOP("Texts", "no permission")),
    ),
    FileError.CHECKSUM_MISMATCH: (
        _t(QT_TRANSLATE_NOOP("Texts", "checksum mismatch (SHA-256), after %1"), "attempts"),
        _t(QT_TRANSLATE_NOOP("Texts", "checksum mismatch (SHA-256)")),
    ),
    FileError.SIZE_MISMATCH: (
        _t(QT_TRANSLATE_NOOP("Texts", "size mismatch, after %1"), "attempts"),
        _t(QT_TRANSLATE_NOOP("Texts", "size mismatch")),
    ),
    FileError.UNSAFE_NAME: (
        _t(QT_TRANSLATE_NOOP("Texts", "name could not be made safe: %1"), "error"),
        _t(QT_TRANSLATE_NOOP("Texts", "name could not be made safe")),
    ),
    FileError.UNEXPECTED_RESPONSE: (
        _t(
            QT_TRANSLATE_NOOP("Texts", "the server's answer did not fit the file, after %1: %2"),
            "attempts",
            "error",
        ),
        _t(QT_TRANSLATE_NOOP("Texts", "the server's answer did not fit the file: %1"), "error"),
        _t(
            QT_TRANSLATE_NOOP(
                "Texts", "the server's answer did not fit the file (a web page instead, say)"
            )
        ),
    ),
    FileError.NETWORK_ERROR: (
        _t(QT_TRANSLATE_NOOP("Texts", "network error, after %1: %2"), "attempts", "error"),
        _t(QT_TRANSLATE_NOOP("Texts", "network error, after %1"), "attempts"),
        _t(QT_TRANSLATE_NOOP("Texts", "network error: %1"), "error"),
        _t(QT_TRANSLATE_NOOP("Texts", "network error until the retries ran out")),
    ),
    FileError.SERVER_ERROR: (
        _t(QT_TRANSLATE_NOOP("Texts", "server error (HTTP %1), after %2"), "status", "attempts"),
        _t(QT_TRANSLATE_NOOP("Texts", "server error (HTTP %1)"), "status"),
        _t(QT_TRANSLATE_NOOP("Texts", "server error, after %1: %2"), "attempts", "error"),
        _t(QT_TRANSLATE_NOOP("Texts", "server error: %1"), "error"),
        _t(QT_TRANSLATE_NOOP("Texts", "server error until the retries ran out")),
    ),
    FileError.LOCAL_WRITE_ERROR: (
        _t(QT_TRANSLATE_NOOP("Texts", "could not be written: %1"), "error"),
        _t(QT_TRANSLATE_NOOP("Texts", "could not be written")),
    ),
    FileError.BAD_LISTING: (
        _t(
            QT_TRANSLATE_NOOP("Texts", "the server's listing of this file is malformed: %1"),
            "problem",
        ),
        _t(
            QT_TRANSLATE_NOOP("Texts", "the server's listing of this file is malformed: %1"),
            "error",
        ),
        _t(QT_TRANSLATE_NOOP("Texts", "the server's listing of this file is malformed")),
    ),
}
_FILE_UNKNOWN: Final = (
    _t(
        QT_TRANSLATE_NOOP("Texts", "failed for a reason this version does not know (%1): %2"),
        "code",
        "error",
    ),
    _t(QT_TRANSLATE_NOOP("Texts", "failed for a reason this version does not know (%1)"), "code"),
    _t(QT_TRANSLATE_NOOP("Texts", "failed for a reason this version does not know")),
)


def file_error_text(
    code: str, params: Mapping[str, object] | None = None, message: str | None = None
) -> str:
    """Why a file failed: a :class:`FileError` value and its parameters
    (``"服务器上已无此版本（HTTP 410）"``). *message* (the row's ``error_message``)
    stands in for a missing ``error`` parameter."""
    merged = _with_detail(params, message)
    templates = _FILE_TEXTS.get(code)
    if templates is None:
        return _render(_FILE_UNKNOWN, {**merged, "code": code}, _FILE_PARAMS)
    return _render(templates, merged, _FILE_PARAMS)


# ----------------------------------------------------------------- actions

_ACTIONS: Final[Mapping[str, str]] = {
    Action.PAUSE: QT_TRANSLATE_NOOP("Texts", "Pause"),
    Action.RESUME: QT_TRANSLATE_NOOP("Texts", "Resume"),
    Action.CANCEL: QT_TRANSLATE_NOOP("Texts", "Cancel"),
    Action.RETRY_FAILED: QT_TRANSLATE_NOOP("Texts", "Retry failed"),
    Action.MOVE_UP: QT_TRANSLATE_NOOP("Texts", "Move up"),
    Action.MOVE_DOWN: QT_TRANSLATE_NOOP("Texts", "Move down"),
    Action.DELETE: QT_TRANSLATE_NOOP("Texts", "Delete task"),
    Action.OPEN_FOLDER: QT_TRANSLATE_NOOP("Texts", "Open folder"),
    Action.FAILURE_REPORT: QT_TRANSLATE_NOOP("Texts", "Export failure list"),
    NEW_EXPORT: QT_TRANSLATE_NOOP("Texts", "New export"),
}


def action_text(action: str) -> str:
    """A button or menu label: an :class:`Action` value or :data:`NEW_EXPORT`
    (``"暂停"``, ``"重试失败项"``, ``"新建导出"``). No mnemonic or shortcut in it."""
    source = _ACTIONS.get(action)
    if source is None:
        return _with_code(QT_TRANSLATE_NOOP("Texts", "Unknown action (%1)"), action)
    return _tr(source)


_ACTION_ERRORS: Final[Mapping[str, tuple[_Template, ...]]] = {
    "not_allowed": (
        _t(
            QT_TRANSLATE_NOOP("Texts", "“%1” is not possible: the task is %2."),
            "action",
            "status",
        ),
        _t(QT_TRANSLATE_NOOP("Texts", "This is not possible: the task is %1."), "status"),
        _t(QT_TRANSLATE_NOOP("Texts", "The task does not allow this now.")),
    ),
    "busy": (
        _t(
            QT_TRANSLATE_NOOP(
                "Texts",
                "“%1” cannot be done now: another action on this task is still in progress.",
            ),
            "action",
        ),
        _t(
            QT_TRANSLATE_NOOP(
                "Texts",
                "Another action on this task is still in progress; try again when it is done.",
            )
        ),
    ),
    "no_task": (
        _t(QT_TRANSLATE_NOOP("Texts", "There is no task %1."), "task"),
        _t(QT_TRANSLATE_NOOP("Texts", "There is no such task.")),
    ),
    "no_failed_files": (_t(QT_TRANSLATE_NOOP("Texts", "This task has no failed files.")),),
    "not_signed_in": (_t(QT_TRANSLATE_NOOP("Texts", "Not signed in: sign in first.")),),
    "no_selection": (
        _t(QT_TRANSLATE_NOOP("Texts", "Choose at least one project or folder to export.")),
    ),
    "relative_target": (
        _t(QT_TRANSLATE_NOOP("Texts", "The export folder must be an absolute path: %1"), "path"),
        _t(QT_TRANSLATE_NOOP("Texts", "The export folder must be an absolute path.")),
    ),
    "target_in_staging": (
        _t(
            QT_TRANSLATE_NOOP(
                "Texts",
                "The export folder cannot be inside a .manuscript-partial folder "
                "(where partial downloads are kept and removed): %1",
            ),
            "path",
        ),
        _t(
            QT_TRANSLATE_NOOP(
                "Texts",
                "The export folder cannot be inside a .manuscript-partial folder "
                "(where partial downloads are kept and removed).",
            )
        ),
    ),
    "queue_in_use": (
        _t(
            QT_TRANSLATE_NOOP(
                "Texts", "This queue is exporting in %1 (process %2); stop it there first."
            ),
            "front_end",
            "pid",
        ),
        _t(
            QT_TRANSLATE_NOOP("Texts", "This queue is exporting in %1; stop it there first."),
            "front_end",
        ),
        _t(
            QT_TRANSLATE_NOOP(
                "Texts",
                "This queue is exporting in another process (process %1); stop it there first.",
            ),
            "pid",
        ),
        _t(
            QT_TRANSLATE_NOOP(
                "Texts", "This queue is exporting in another process; stop it there first."
            )
        ),
    ),
}
_ACTION_UNKNOWN: Final = (
    _t(QT_TRANSLATE_NOOP("Texts", "The action was refused (%1)."), "code"),
    _t(QT_TRANSLATE_NOOP("Texts", "The action was refused.")),
)


def action_error_text(code: str, params: Mapping[str, object] | None = None) -> str:
    """Why an action was refused: ``ActionError.code`` and ``ActionError.params``
    (codes: ``services.messages.ACTION_ERROR_CODES``)."""
    params = params or {}
    templates = _ACTION_ERRORS.get(code)
    if templates is None:
        return _render(_ACTION_UNKNOWN, {**params, "code": code}, _ACTION_PARAMS)
    return _render(templates, params, _ACTION_PARAMS)


def queue_holder_text(owner: QueueOwner) -> str:
    """Who runs this identity's queue in another process (``QueueHolder.other``), for the
    status bar while the window waits: ``"此队列正在命令行工具（manuscript-cli）中导出（进程
    4242），请先在那里停止。"`` (the sentence of the ``queue_in_use`` refusal)."""
    return action_error_text("queue_in_use", {"front_end": owner.front_end, "pid": owner.pid})


# ----------------------------------------------------------------- session


def session_change_text(change: str, session: SessionInfo | None = None) -> str:
    """What happened to the session, for a status message: ``"已登录：demo（审计员）"``,
    ``"已切换到 lisi（审计员）"``, ``"已退出登录"``, ``"登录已过期，请重新登录"``.
    *session* is the session afterwards (``SessionChanged.session``)."""
    who = None
    if session is not None:
        who = (in_sentence(session.user_name), in_sentence(session.identity_label))
    if change == SessionChange.SIGNED_IN and who:
        return _fill(_tr(QT_TRANSLATE_NOOP("Texts", "Signed in as %1 (%2)")), who)
    if change == SessionChange.SWITCHED and who:
        return _fill(_tr(QT_TRANSLATE_NOOP("Texts", "Switched to %1 (%2)")), who)
    if change in (SessionChange.SIGNED_IN, SessionChange.SWITCHED):
        return _tr(QT_TRANSLATE_NOOP("Texts", "Signed in"))
    if change == SessionChange.SIGNED_OUT:
        return _tr(QT_TRANSLATE_NOOP("Texts", "Signed out"))
    if change == SessionChange.LOGIN_EXPIRED:
        return _tr(QT_TRANSLATE_NOOP("Texts", "Your login expired: sign in again"))
    return _with_code(QT_TRANSLATE_NOOP("Texts", "The session changed (%1)"), change)
