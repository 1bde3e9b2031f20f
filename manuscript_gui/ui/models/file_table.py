"""The detail pane's model: one task's files, loaded a page at a time.

A task may hold 100k files; the model never holds them all. It asks an async
*page source* for the next page (:data:`PAGE_SIZE` rows) when the view asks
for more (``canFetchMore``/``fetchMore``, i.e. when the user scrolls near the
end), so the pane shows its first rows after one query and scrolling costs
one keyset query per page (``services/reads.py``: an index range scan at any
depth).

The page source is given by the window, bound to the selected task::

    async def fetch(filter, text, after, limit):
        return await service.files(task_id, filter=filter, text=text, after=after, limit=limit)

    model.set_source(fetch)                      # a new task: first page
    model.set_query(FileFilter.FAILED, "D3")     # a filter or a search: first page again

**Queries supersede each other.** Every :meth:`set_source`, :meth:`set_query`
and :meth:`clear` starts a new *generation*; a page that arrives for an older
one (the user typed on while it was in flight) is dropped, so rows of two
queries never mix. Only one page of the current query is in flight at a time,
so two ``fetchMore`` calls never fetch the same page twice.

**Updates keep the rows the model holds.** :meth:`apply_files_changed`
(``FilesChanged``) rewrites the rows the model already holds, in place, and
ignores the others; it never inserts or removes rows. A row that stops
matching the filter (a file in "waiting" that just succeeded) therefore stays,
showing its new status, until the next query: the list does not jump under
the user's eyes while they read it, and rows that *start* to match (a file
that just failed, under "failed") could not be put in their place without a
query anyway. The window re-queries when the user changes the filter or asks
for a refresh. :meth:`set_in_flight` marks the files being downloaded now
(``TaskProgress.in_flight_ids``) as "in progress", with a percent when their
live byte counts are known.

The view should use fixed row heights (pitfalls §2):
:func:`manuscript_gui.ui.delegates.use_fixed_row_height`. Rows come in natural
path order (the keyset the pages follow: ``D2`` before ``D10``, a folder's files
together) and the model offers no sorting: a
``QSortFilterProxyModel`` sort would read every loaded row through Python and
would sort only the pages loaded so far (pitfalls §2); narrowing is the
query's job (:meth:`set_query`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Final

from PySide6.QtCore import (
    QDir,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from manuscript_gui.domain import FileOutcome, FileRecord, FileStatus
from manuscript_gui.services.reads import FileFilter, FilePage
from manuscript_gui.ui import texts
from manuscript_gui.ui.models.flat_table import FlatTableModel
from manuscript_gui.ui.texts import QT_TRANSLATE_NOOP

__all__ = [
    "COLUMN_COUNT",
    "COL_ATTEMPTS",
    "COL_PATH",
    "COL_REASON",
    "COL_SIZE",
    "COL_STATUS",
    "COL_VERSION",
    "PAGE_SIZE",
    "FileIdRole",
    "FileRole",
    "FileTableModel",
    "PageSource",
]

_log = logging.getLogger(__name__)

COL_PATH, COL_SIZE, COL_VERSION, COL_STATUS, COL_REASON, COL_ATTEMPTS = range(6)
COLUMN_COUNT: Final = 6

#: Rows per page (a screen shows a few dozen; a page is one index range scan).
PAGE_SIZE: Final = 200

_USER: Final = int(Qt.ItemDataRole.UserRole)
FileIdRole: Final = _USER + 11
"""The row's file id (``int``), any column."""
FileRole: Final = _USER + 12
"""The row's :class:`FileRecord`, any column."""

PageSource = Callable[[FileFilter, str, int, int], Awaitable[FilePage]]
"""``fetch(filter, text, after, limit)`` → the page of files with ids above *after*
(``services.reads.files`` semantics: ``FilePage.next_after`` is ``None`` at the end)."""

_HEADERS: Final[tuple[str, ...]] = (
    QT_TRANSLATE_NOOP("FileTableModel", "File"),
    QT_TRANSLATE_NOOP("FileTableModel", "Size"),
    QT_TRANSLATE_NOOP("FileTableModel", "Version"),
    QT_TRANSLATE_NOOP("FileTableModel", "Status"),
    QT_TRANSLATE_NOOP("FileTableModel", "Failure reason"),
    QT_TRANSLATE_NOOP("FileTableModel", "Attempts"),
)
_NUMERIC: Final = frozenset({COL_SIZE, COL_VERSION, COL_ATTEMPTS})


class FileTableModel(FlatTableModel):
    """A page-loaded list of one task's files (see the module docstring).

    Signals:
        pageLoaded(int): rows were appended from a page of the current query
            (their number; 0 for an empty result).
        loadFailed(object): the page source raised (the exception); the model
            stops asking for more until the next :meth:`set_query`/:meth:`reload`.
    """

    CONTEXT = "FileTableModel"
    HEADERS = _HEADERS
    NUMERIC = _NUMERIC

    pageLoaded = Signal(int)
    loadFailed = Signal(object)

    def __init__(self, parent: QObject | None = None, *, page_size: int = PAGE_SIZE) -> None:
        super().__init__(parent)
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self._page_size = page_size
        self._fetch: PageSource | None = None
        self._filter = FileFilter.ALL
        self._text = ""
        self._rows: list[FileRecord] = []
        self._row_of: dict[int, int] = {}
        self._next_after: int | None = None
        """Where the next page starts; ``None``: the current query has no more rows."""
        self._generation = 0
        self._loading = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._in_flight: frozenset[int] = frozenset()
        self._live_bytes: Mapping[int, int] = {}

    # ----------------------------------------------------------------- state

    @property
    def filter(self) -> FileFilter:
        return self._filter

    @property
    def text(self) -> str:
        return self._text

    @property
    def loading(self) -> bool:
        """A page of the current query is being fetched."""
        return self._loading

    @property
    def exhausted(self) -> bool:
        """Every row of the current query is loaded (or there is no source)."""
        return self._next_after is None

    def file_at(self, row: int) -> FileRecord:
        """The file shown in *row*; ``IndexError`` outside 0..rowCount-1."""
        if not 0 <= row < len(self._rows):
            raise IndexError(row)
        return self._rows[row]

    def row_of(self, file_id: int) -> int | None:
        """The row of a file, ``None`` when the model does not hold it."""
        return self._row_of.get(file_id)

    # --------------------------------------------------------------- queries

    def set_source(
        self, fetch: PageSource | None, filter: FileFilter = FileFilter.ALL, text: str = ""
    ) -> None:
        """Show another task's files (*fetch* bound to it; ``None``: none) and load page 1."""
        self._fetch = fetch
        self._in_flight = frozenset()
        self._live_bytes = {}
        self.set_query(filter, text)

    def set_query(self, filter: FileFilter, text: str = "") -> None:
        """Reset to the files matching *filter* and *text*, and load the first page."""
        self._filter = FileFilter(filter)
        self._text = text
        self.reload()

    def reload(self) -> None:
        """Drop the rows and load the current query's first page again."""
        self._restart(more=self._fetch is not None)
        self._load_next()

    def clear(self) -> None:
        """No task: no rows, nothing to load; a page still in flight is dropped."""
        self._fetch = None
        self._in_flight = frozenset()
        self._live_bytes = {}
        self._restart(more=False)

    def _restart(self, *, more: bool) -> None:
        self._generation += 1
        self._loading = False
        self.beginResetModel()
        self._rows = []
        self._row_of = {}
        self._next_after = 0 if more else None
        self.endResetModel()

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008
        if parent.isValid():
            return False
        return self._fetch is not None and self._next_after is not None

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:  # noqa: B008
        if not parent.isValid():
            self._load_next()

    def _load_next(self) -> None:
        """Schedule the next page of the current query unless one is in flight or none is left."""
        fetch, after = self._fetch, self._next_after
        if self._loading or fetch is None or after is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            _log.warning("no running event loop: the file list cannot load a page")
            return
        self._loading = True
        task = loop.create_task(
            self._load(fetch, self._generation, self._filter, self._text, after)
        )
        self._tasks.add(task)  # a task nobody references may be collected mid-way
        task.add_done_callback(self._tasks.discard)

    async def _load(
        self, fetch: PageSource, generation: int, filter: FileFilter, text: str, after: int
    ) -> None:
        try:
            page = await fetch(filter, text, after, self._page_size)
        except asyncio.CancelledError:
            if generation == self._generation:
                self._loading = False  # the next fetchMore asks again
            raise
        except Exception as exc:
            if generation != self._generation:
                return
            _log.warning("loading files (%s, %r, after %d) failed: %s", filter, text, after, exc)
            self._loading = False
            self._next_after = None
            self.loadFailed.emit(exc)
            return
        if generation != self._generation:
            return  # superseded by a newer query: its rows must not mix with these
        self._loading = False
        self._append(page)

    def _append(self, page: FilePage) -> None:
        # Keyset pages never repeat a row; a source that does must not duplicate one here.
        new = [r for r in dict((r.id, r) for r in page.rows).values() if r.id not in self._row_of]
        self._next_after = page.next_after
        if new:
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for i, record in enumerate(new, start=first):
                self._rows.append(record)
                self._row_of[record.id] = i
            self.endInsertRows()
        self.pageLoaded.emit(len(new))

    # --------------------------------------------------------------- updates

    def apply_files_changed(self, files: Iterable[FileRecord]) -> None:
        """Rewrite the held rows among *files* (``FilesChanged.files``); ignore the others.

        One ``dataChanged`` per run of consecutive rows, over the columns whose
        text changed. Rows are never added or removed (module docstring).
        """
        changed: dict[int, tuple[tuple[object, ...], tuple[object, ...]]] = {}
        for record in files:
            row = self._row_of.get(record.id)
            if row is None or self._rows[row].task_id != record.task_id:
                continue
            before = changed[row][0] if row in changed else self._cells(row)
            self._rows[row] = record
            changed[row] = (before, self._cells(row))
        self._emit_rows({row: _diff(b, a) for row, (b, a) in changed.items()})

    def set_in_flight(
        self, ids: Iterable[int], live_bytes: Mapping[int, int] | None = None
    ) -> None:
        """The files being downloaded now, with their bytes so far when known.

        *ids*: ``TaskProgress.in_flight_ids`` of the task shown (empty when it
        is not running). *live_bytes*: file id → bytes on disk so far, for an
        "in progress 42 %" status. Repaints the status column of the held rows
        whose state changed.
        """
        new_ids = frozenset(ids)
        rows = [self._row_of[i] for i in self._in_flight | new_ids if i in self._row_of]
        before = {row: self._cells(row) for row in rows}
        self._in_flight = new_ids
        self._live_bytes = dict(live_bytes or {})
        self._emit_rows({row: _diff(before[row], self._cells(row)) for row in rows})

    def _emit_rows(self, columns_by_row: Mapping[int, Sequence[int]]) -> None:
        """One ``dataChanged`` per run of consecutive rows, spanning their changed columns."""
        rows = sorted(r for r, cols in columns_by_row.items() if cols)
        start = 0
        while start < len(rows):
            end = start
            while end + 1 < len(rows) and rows[end + 1] == rows[end] + 1:
                end += 1
            cols = [c for r in rows[start : end + 1] for c in columns_by_row[r]]
            self.dataChanged.emit(
                self.index(rows[start], min(cols)), self.index(rows[end], max(cols))
            )
            start = end + 1

    # ------------------------------------------------------------ Qt model

    def row_total(self) -> int:
        return len(self._rows)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if not (0 <= row < len(self._rows) and 0 <= col < COLUMN_COUNT):
            return None
        record = self._rows[row]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell_text(record, col)
        if role == Qt.ItemDataRole.ToolTipRole:
            # Escaped rich text: Qt would render a path that looks like HTML (plain_tooltip).
            if col in (COL_PATH, COL_STATUS, COL_REASON):
                return texts.plain_tooltip(self._cell_text(record, col)) or None
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.alignment(col)
        if role == FileIdRole:
            return record.id
        if role == FileRole:
            return record
        return None

    # ------------------------------------------------------------- helpers

    def _cells(self, row: int) -> tuple[object, ...]:
        record = self._rows[row]
        return tuple(self._cell_text(record, col) for col in range(COLUMN_COUNT))

    def _in_flight_now(self, record: FileRecord) -> bool:
        """In flight and still open (a completed row wins over a stale in-flight list)."""
        return record.id in self._in_flight and record.status is not FileStatus.COMPLETED

    def _percent(self, record: FileRecord) -> int | None:
        done = self._live_bytes.get(record.id)
        if done is None or not self._in_flight_now(record):
            return None
        if record.size <= 0:
            return 0
        # Floor: "100 %" only once the file is verified and completed.
        return max(0, min(99, done * 100 // record.size))

    def _cell_text(self, record: FileRecord, col: int) -> str:
        if col == COL_PATH:
            return texts.display_safe(QDir.toNativeSeparators(record.local_path))
        if col == COL_SIZE:
            return texts.size_text(record.size)
        if col == COL_VERSION:
            return texts.count_text(record.version)
        if col == COL_STATUS:
            return texts.file_status_text(
                record, self._in_flight_now(record), self._percent(record)
            )
        if col == COL_REASON:
            if record.outcome != FileOutcome.FAILED:
                return ""
            return texts.file_error_text(
                record.error_code or "", record.error_params, record.error_message
            )
        if col == COL_ATTEMPTS:
            return texts.count_text(record.attempts) if record.attempts else ""
        return ""


def _diff(before: Sequence[object], after: Sequence[object]) -> list[int]:
    return [col for col, (b, a) in enumerate(zip(before, after, strict=True)) if b != a]
