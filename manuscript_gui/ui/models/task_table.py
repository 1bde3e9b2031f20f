"""The task list's model: one row per export task, in queue order.

Rows are :class:`~manuscript_gui.domain.TaskRecord` snapshots (never live
database rows); the window feeds them from the service and its events through
plain methods, and the model does no I/O:

==========================  ====================================================
window call                 from
==========================  ====================================================
:meth:`set_tasks`           ``service.tasks()`` after sign-in or a switch (a reset)
:meth:`upsert`              ``TaskAdded`` / ``TaskChanged`` (insert or update one row)
:meth:`remove`              ``TaskRemoved``
:meth:`set_order`           ``QueueReordered`` (``layoutChanged``; selections stay)
:meth:`set_running`         ``SchedulerState.running_task_id``
:meth:`set_progress`        ``TaskProgress`` (live bytes, rate: the running task)
:meth:`set_listing`         ``ListingProgress`` ("initializing · found N files")
==========================  ====================================================

**Targeted updates.** Every change emits ``dataChanged`` for one row and only
the columns whose text (or bar) changed, one signal per run of adjacent
columns (a progress tick: progress + files, speed + time left; a new failure,
the failed column too), never a reset, so a view repaints a few cells and a
``QSortFilterProxyModel`` above re-checks one row, and re-sorts only when its
sort column is among them.

**Status bar.** :meth:`TaskTableModel.overall_rate` (and the pure
:func:`overall_rate`) give the queue's speed: the running task's
``TaskProgress.rate``, ``None`` when idle.

**Sorting** is the window's :class:`~PySide6.QtCore.QSortFilterProxyModel`
with ``setSortRole(SortRole)``: :data:`SortRole` gives numbers for the numeric
columns (bytes, counts, seconds, a timestamp), so "9 MB" sorts below "10 MB".
The list holds tens or hundreds of tasks, so the proxy may keep
``dynamicSortFilter`` on (each update is one row × a few columns: the proxy
re-sorts only when the sort column is among them). With it off the model
works as well: rows inserted, removed and reordered still reach the proxy
through their own signals; only a changed *value* in the sort column does not
move its row until the window calls ``proxy.invalidate()`` (or sorts again).
Sort column ``-1`` shows the queue order (the source order).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from PySide6.QtCore import (
    QCoreApplication,
    QDateTime,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRectF,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QGuiApplication, QIcon, QPainter, QPalette, QPixmap

from manuscript_gui.core.events import ListingProgress, TaskProgress
from manuscript_gui.domain import TaskRecord, TaskStatus
from manuscript_gui.ui import texts
from manuscript_gui.ui.models.flat_table import FlatTableModel
from manuscript_gui.ui.texts import QT_TRANSLATE_NOOP

__all__ = [
    "COLUMN_COUNT",
    "COL_CREATED",
    "COL_FAILED",
    "COL_FILES",
    "COL_NAME",
    "COL_PROGRESS",
    "COL_SIZE",
    "COL_SPEED",
    "COL_STATUS",
    "COL_TIME_LEFT",
    "ProgressRole",
    "SortRole",
    "TaskIdRole",
    "TaskRole",
    "TaskTableModel",
    "overall_rate",
]

(
    COL_NAME,
    COL_STATUS,
    COL_PROGRESS,
    COL_FILES,
    COL_FAILED,
    COL_SIZE,
    COL_SPEED,
    COL_TIME_LEFT,
    COL_CREATED,
) = range(9)
COLUMN_COUNT: Final = 9

_USER: Final = int(Qt.ItemDataRole.UserRole)
TaskIdRole: Final = _USER + 1
"""The row's task id (``int``), any column."""
TaskRole: Final = _USER + 2
"""The row's :class:`TaskRecord`, any column."""
SortRole: Final = _USER + 3
"""What the proxy sorts on: numbers for numeric columns, text otherwise."""
ProgressRole: Final = _USER + 4
"""Progress column: percent done as a ``float`` 0–100 (``None``: no bar, e.g. initializing).
Read by :class:`~manuscript_gui.ui.delegates.ProgressBarDelegate`."""

# Header labels: marked for extraction here, translated when a view asks for them.
_HEADERS: Final[tuple[str, ...]] = (
    QT_TRANSLATE_NOOP("TaskTableModel", "Name"),
    QT_TRANSLATE_NOOP("TaskTableModel", "Status"),
    QT_TRANSLATE_NOOP("TaskTableModel", "Progress"),
    QT_TRANSLATE_NOOP("TaskTableModel", "Files"),
    QT_TRANSLATE_NOOP("TaskTableModel", "Failed"),
    QT_TRANSLATE_NOOP("TaskTableModel", "Size"),
    QT_TRANSLATE_NOOP("TaskTableModel", "Speed"),
    QT_TRANSLATE_NOOP("TaskTableModel", "Time left"),
    QT_TRANSLATE_NOOP("TaskTableModel", "Created"),
)
_NUMERIC: Final = frozenset(
    {COL_PROGRESS, COL_FILES, COL_FAILED, COL_SIZE, COL_SPEED, COL_TIME_LEFT}
)

# Status colours of the dot in the status column (and the running row's text).
_RUNNING_COLOR: Final = QColor(0x1A, 0x73, 0xE8)
_DOT_COLORS: Final[Mapping[str, QColor]] = {
    "running": _RUNNING_COLOR,
    TaskStatus.INITIALIZING: QColor(0x80, 0x86, 0x8B),
    TaskStatus.WAITING: QColor(0x80, 0x86, 0x8B),
    TaskStatus.PAUSED: QColor(0xE3, 0x74, 0x00),
    TaskStatus.COMPLETED: QColor(0x18, 0x80, 0x38),
    "failures": QColor(0xD9, 0x30, 0x25),
    TaskStatus.CANCELED: QColor(0x5F, 0x63, 0x68),
}
# Sort order of the status column: what needs attention first.
_STATUS_RANK: Final[Mapping[str, int]] = {
    "running": 0,
    TaskStatus.INITIALIZING: 1,
    TaskStatus.WAITING: 2,
    TaskStatus.PAUSED: 3,
    TaskStatus.COMPLETED: 4,
    TaskStatus.CANCELED: 5,
}


class TaskTableModel(FlatTableModel):
    """Export tasks in queue order, with the running task's live figures.

    Rows are :class:`TaskRecord` snapshots; nothing here calls the service.
    Percent, speed and time left of the running task come from the last
    :class:`TaskProgress` (bytes of finished files plus partial bytes of files
    in flight); other tasks show their stored ``done_bytes``.
    """

    CONTEXT = "TaskTableModel"
    HEADERS = _HEADERS
    NUMERIC = _NUMERIC

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: list[TaskRecord] = []
        self._rows: dict[int, int] = {}
        self._running: int | None = None
        self._progress: dict[int, TaskProgress] = {}
        self._listing: dict[int, ListingProgress] = {}
        self._icons: dict[str, QIcon] = {}

    # ----------------------------------------------------------------- reads

    def task_at(self, row: int) -> TaskRecord:
        """The task shown in *row* (source row); ``IndexError`` outside 0..rowCount-1."""
        if not 0 <= row < len(self._tasks):
            raise IndexError(row)
        return self._tasks[row]

    def row_of(self, task_id: int) -> int | None:
        """The source row of a task, ``None`` when the model does not hold it."""
        return self._rows.get(task_id)

    def task_ids(self) -> list[int]:
        """Every task id, in the model's (queue) order."""
        return [t.id for t in self._tasks]

    @property
    def running_task_id(self) -> int | None:
        """The task the scheduler runs now (:meth:`set_running`), ``None`` when idle."""
        return self._running

    @property
    def running_progress(self) -> TaskProgress | None:
        """The running task's last :class:`TaskProgress`, ``None`` when idle or none came yet."""
        return self._progress.get(self._running) if self._running is not None else None

    def overall_rate(self) -> float | None:
        """The queue's download speed now, bytes per second (the status bar's "overall speed").

        One task runs at a time, so it is the running task's
        ``TaskProgress.rate``: see :func:`overall_rate`. ``None`` when nothing
        runs or no figure came yet (show nothing, not "0 B/s").
        """
        return overall_rate(self._running, self.running_progress)

    # ---------------------------------------------------------------- writes

    def set_tasks(self, tasks: Sequence[TaskRecord]) -> None:
        """Show exactly *tasks*, in this (queue) order: a reset (sign-in, switch, reload)."""
        self.beginResetModel()
        self._tasks = list(tasks)
        self._reindex()
        kept = set(self._rows)
        self._progress = {k: v for k, v in self._progress.items() if k in kept}
        self._listing = {k: v for k, v in self._listing.items() if k in kept}
        self.endResetModel()

    def upsert(self, task: TaskRecord) -> None:
        """Update the row of *task*, or insert it where its queue position puts it."""
        row = self._rows.get(task.id)
        if row is None:
            self._insert(task)
            return
        before = self._cells(row)
        self._tasks[row] = task
        if task.status is not TaskStatus.INITIALIZING:
            self._listing.pop(task.id, None)
        self._emit_changed(row, before)

    def remove(self, task_id: int) -> None:
        """Drop the row of a task (deleted); unknown ids are ignored."""
        row = self._rows.get(task_id)
        if row is None:
            return
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._tasks[row]
        self._reindex()
        self._progress.pop(task_id, None)
        self._listing.pop(task_id, None)
        if self._running == task_id:
            self._running = None
        self.endRemoveRows()

    def set_order(self, order: Sequence[int]) -> None:
        """Put the rows in queue *order* (task ids): a layout change, selections kept.

        Ids the model does not hold are ignored; tasks missing from *order*
        keep their relative order after the ordered ones.
        """
        wanted = [self._rows[i] for i in dict.fromkeys(order) if i in self._rows]
        placed = set(wanted)
        new_rows = wanted + [r for r in range(len(self._tasks)) if r not in placed]
        if new_rows == list(range(len(self._tasks))):
            return
        self.layoutAboutToBeChanged.emit()
        old_to_new = {old: new for new, old in enumerate(new_rows)}
        persistent = self.persistentIndexList()
        moved = [
            self.index(old_to_new[p.row()], p.column()) if p.isValid() else QModelIndex()
            for p in persistent
        ]
        self._tasks = [self._tasks[r] for r in new_rows]
        self._reindex()
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    def set_running(self, task_id: int | None) -> None:
        """Mark the running task (``None``: nothing runs); both rows repaint whole.

        From ``SchedulerState.running_task_id``. Drops the live figures of both
        tasks (see the comment in the body).
        """
        if task_id == self._running:
            return
        previous, self._running = self._running, task_id
        # Live figures belong to one run: once it stops, the stored row speaks; a run
        # that starts shows none until its first tick (the scheduler announces a run
        # before its manager ticks, so what is held for it is a late tick of an old run).
        for tid in (previous, task_id):
            if tid is not None:
                self._progress.pop(tid, None)
        for tid in (previous, task_id):
            row = self._rows.get(tid) if tid is not None else None
            if row is not None:
                self.dataChanged.emit(self.index(row, 0), self.index(row, COLUMN_COUNT - 1))

    def set_progress(self, progress: TaskProgress) -> None:
        """Live figures of a task's run; shown while it is the running task."""
        row = self._rows.get(progress.task_id)
        if row is None:
            return
        before = self._cells(row)
        self._progress[progress.task_id] = progress
        self._emit_changed(row, before)

    def set_listing(self, listing: ListingProgress) -> None:
        """Files found so far by an initializing task's listing."""
        row = self._rows.get(listing.task_id)
        if row is None or self._tasks[row].status is not TaskStatus.INITIALIZING:
            return
        before = self._cells(row)
        self._listing[listing.task_id] = listing
        self._emit_changed(row, before)

    # ------------------------------------------------------------ Qt model

    def row_total(self) -> int:
        return len(self._tasks)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        row, col = index.row(), index.column()
        if not (0 <= row < len(self._tasks) and 0 <= col < COLUMN_COUNT):
            return None
        task = self._tasks[row]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell_text(task, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(task, col)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.alignment(col)
        if role == Qt.ItemDataRole.FontRole:
            return self._bold() if task.id == self._running else None
        if role == Qt.ItemDataRole.DecorationRole:
            return self._icon(self._state(task)) if col == COL_STATUS else None
        if role == Qt.ItemDataRole.ForegroundRole:
            running = col == COL_STATUS and task.id == self._running
            return _RUNNING_COLOR if running else None
        if role == TaskIdRole:
            return task.id
        if role == TaskRole:
            return task
        if role == SortRole:
            return self._sort_key(task, col)
        if role == ProgressRole:
            return self._percent(task) if col == COL_PROGRESS else None
        return None

    # ------------------------------------------------------------- helpers

    def _reindex(self) -> None:
        self._rows = {t.id: i for i, t in enumerate(self._tasks)}

    def _insert(self, task: TaskRecord) -> None:
        # Queue order is position order; a new task lands after every task placed before it.
        row = len(self._tasks)
        for i, other in enumerate(self._tasks):
            if other.position > task.position:
                row = i
                break
        self.beginInsertRows(QModelIndex(), row, row)
        self._tasks.insert(row, task)
        self._reindex()
        self.endInsertRows()

    def _live(self, task: TaskRecord) -> TaskProgress | None:
        """The running task's last progress; ``None`` for every other task."""
        if task.id != self._running:
            return None
        return self._progress.get(task.id)

    def _cells(self, row: int) -> tuple[object, ...]:
        """What each column shows now (text and bar), to find the columns a change touches."""
        task = self._tasks[row]
        return tuple(
            (self._cell_text(task, col), self._percent(task) if col == COL_PROGRESS else None)
            for col in range(COLUMN_COUNT)
        )

    def _emit_changed(self, row: int, before: tuple[object, ...]) -> None:
        """One ``dataChanged`` per run of adjacent changed columns of *row*.

        A progress tick changes progress, files, speed and time left: two
        signals (2–3, 6–7), so a proxy sorted on size or failures never sees
        its sort column touched and does not re-sort.
        """
        after = self._cells(row)
        changed = [col for col in range(COLUMN_COUNT) if before[col] != after[col]]
        start = 0
        while start < len(changed):
            end = start
            while end + 1 < len(changed) and changed[end + 1] == changed[end] + 1:
                end += 1
            self.dataChanged.emit(self.index(row, changed[start]), self.index(row, changed[end]))
            start = end + 1

    def _done_bytes(self, task: TaskRecord) -> int:
        live = self._live(task)
        return live.bytes_done if live is not None else task.done_bytes

    def _total_bytes(self, task: TaskRecord) -> int:
        live = self._live(task)
        return live.bytes_total if live is not None else task.total_bytes

    def _percent(self, task: TaskRecord) -> float | None:
        if task.status is TaskStatus.INITIALIZING:
            return None
        total = self._total_bytes(task)
        if total <= 0:
            # Nothing to fetch (empty files, or no file at all): done when completed.
            return 100.0 if task.status is TaskStatus.COMPLETED else 0.0
        return max(0.0, min(100.0, 100.0 * self._done_bytes(task) / total))

    def _rate(self, task: TaskRecord) -> float | None:
        return overall_rate(self._running, self._live(task))

    def _seconds_left(self, task: TaskRecord) -> float | None:
        rate = self._rate(task)
        if rate is None or rate <= 0 or not math.isfinite(rate):
            return None
        return max(0, self._total_bytes(task) - self._done_bytes(task)) / rate

    def _files_done(self, task: TaskRecord) -> int:
        live = self._live(task)
        return live.files_done if live is not None else task.succeeded + task.failed

    def _cell_text(self, task: TaskRecord, col: int) -> str:
        if col == COL_NAME:
            return texts.display_safe(task.name)
        if col == COL_STATUS:
            return self._status_text(task)
        if col == COL_PROGRESS:
            percent = self._percent(task)
            # Floor: a bar never says 100% before the last byte is in.
            return "" if percent is None else f"{texts.count_text(int(percent))}%"
        if col == COL_FILES:
            if task.status is TaskStatus.INITIALIZING:
                return ""
            done, total = (
                texts.count_text(self._files_done(task)),
                texts.count_text(task.total_files),
            )
            return f"{done} / {total}"
        if col == COL_FAILED:
            return texts.count_text(task.failed) if task.failed else ""
        if col == COL_SIZE:
            if task.status is TaskStatus.INITIALIZING:
                listing = self._listing.get(task.id)
                return texts.size_text(listing.found_bytes) if listing is not None else ""
            return texts.size_text(task.total_bytes)
        if col == COL_SPEED:
            rate = self._rate(task)
            return "" if rate is None else texts.speed_text(rate)
        if col == COL_TIME_LEFT:
            if task.id != self._running:
                return ""
            seconds = self._seconds_left(task)
            # The header says "time left": the cell is the bare duration, or "—".
            return texts.time_left_text(None) if seconds is None else texts.duration_text(seconds)
        if col == COL_CREATED:
            return _local_time(task)
        return ""

    def _status_text(self, task: TaskRecord, *, full: bool = False) -> str:
        """The status cell (a short reason) or, *full*, its tooltip (the whole sentence,
        the server's detail included)."""
        status = texts.task_status_text(task, task.id == self._running, full=full)
        listing = self._listing.get(task.id)
        if task.status is not TaskStatus.INITIALIZING or listing is None:
            return status
        # "初始化中 · 已统计 1,240 个文件": the status and the listing's count, joined by
        # the catalogue's own "%1 · %2" (context "Texts", as task_status_text joins a reason).
        joined = QCoreApplication.translate("Texts", "%1 · %2")
        return _fill(joined, status, texts.listing_text(listing.found))

    def _tooltip(self, task: TaskRecord, col: int) -> str | None:
        # Escaped rich text: Qt would render a name that looks like HTML (plain_tooltip).
        if col == COL_NAME:
            name, folder = texts.display_safe(task.name), texts.display_safe(task.target_dir)
            return texts.plain_tooltip(f"{name}\n{folder}")
        if col == COL_STATUS:
            return texts.plain_tooltip(self._status_text(task, full=True))
        return None

    def _state(self, task: TaskRecord) -> str:
        """The status column's state: a stored status, ``running`` or ``failures``."""
        if task.id == self._running:
            return "running"
        if task.status is TaskStatus.COMPLETED and task.failed:
            return "failures"
        return str(task.status)

    def _sort_key(self, task: TaskRecord, col: int) -> object:
        if col == COL_NAME:
            return task.name
        if col == COL_STATUS:
            state = "running" if task.id == self._running else str(task.status)
            return _STATUS_RANK.get(state, len(_STATUS_RANK))
        if col == COL_PROGRESS:
            percent = self._percent(task)
            return -1.0 if percent is None else percent
        if col == COL_FILES:
            return self._files_done(task)
        if col == COL_FAILED:
            return task.failed
        if col == COL_SIZE:
            return task.total_bytes
        if col == COL_SPEED:
            rate = self._rate(task)
            return 0.0 if rate is None else rate
        if col == COL_TIME_LEFT:
            seconds = self._seconds_left(task)
            return math.inf if seconds is None else seconds
        if col == COL_CREATED:
            return task.created_at.timestamp()
        return None

    def _bold(self) -> QFont:
        font = QFont()
        font.setBold(True)
        return font

    def _icon(self, state: str) -> QIcon:
        icon = self._icons.get(state)
        if icon is None:
            color = _DOT_COLORS.get(state, _DOT_COLORS[TaskStatus.WAITING])
            icon = QIcon(_dot(color))
            # A selected row is painted in the highlight colour, which may be the dot's own
            # (the running task's blue): there the dot has a ring in the highlighted text's
            # colour, so it stays visible (item views draw an icon's Selected mode there).
            ring = QGuiApplication.palette().color(QPalette.ColorRole.HighlightedText)
            icon.addPixmap(_dot(color, ring), QIcon.Mode.Selected)
            self._icons[state] = icon
        return icon


def overall_rate(running_task_id: int | None, progress: TaskProgress | None) -> float | None:
    """The queue's speed in bytes per second, from the last progress of the running task.

    The scheduler runs one task at a time, so the queue's speed is that
    task's ``TaskProgress.rate`` (bytes over the last few seconds, partial
    files included). Returns ``None`` when nothing runs (*running_task_id*
    ``None``), when *progress* is ``None`` or belongs to another task (a late
    tick of a task that just stopped), or when the rate is not a finite
    number ≥ 0. ``0.0`` is a real figure: running, nothing received lately.
    """
    if running_task_id is None or progress is None or progress.task_id != running_task_id:
        return None
    rate = progress.rate
    if not math.isfinite(rate) or rate < 0:
        return None
    return float(rate)


def _fill(template: str, *values: str) -> str:
    """``%1``, ``%2``, ... of a translated *template* replaced in one pass."""
    return re.sub(
        r"%(\d)",
        lambda m: values[int(m[1]) - 1] if 0 < int(m[1]) <= len(values) else m[0],
        template,
    )


def _local_time(task: TaskRecord) -> str:
    """The creation time in the user's time zone, ``yyyy-MM-dd HH:mm`` (both languages)."""
    when = QDateTime.fromSecsSinceEpoch(int(task.created_at.timestamp())).toLocalTime()
    return when.toString("yyyy-MM-dd HH:mm")


def _dot(color: QColor, ring: QColor | None = None, size: int = 12) -> QPixmap:
    """A filled circle: the status colour beside the status text; with *ring*, inside a
    disc of that colour (1.5 px around it)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    if ring is not None:
        painter.setBrush(ring)
        painter.drawEllipse(QRectF(0.5, 0.5, size - 1, size - 1))
    painter.setBrush(color)
    painter.drawEllipse(2, 2, size - 4, size - 4)
    painter.end()
    return pixmap
