"""The detail pane: the files of the selected task, filtered and searched.

A row of filter buttons (全部 / 等待中 / 进行中 / 成功 / 失败, each with its
count from ``service.file_counts``), a search box on the file paths and a
table over :class:`~manuscript_gui.ui.models.file_table.FileTableModel`,
which loads a page at a time from ``service.files`` (a 100k-file task opens
after one query and scrolls one keyset page at a time).

The window feeds it: :meth:`DetailPane.set_task` when the selection changes,
:meth:`~DetailPane.apply_files_changed` (``FilesChanged``),
:meth:`~DetailPane.apply_progress` (``TaskProgress``: the files in flight) and
:meth:`~DetailPane.apply_task` (``TaskChanged``: the counts). Counts are
re-read at most every :data:`COUNTS_INTERVAL_MS`; typing in the search box
queries once the user pauses for :data:`SEARCH_DEBOUNCE_MS`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from manuscript_gui.core.events import FilesChanged, TaskProgress
from manuscript_gui.domain import TaskRecord
from manuscript_gui.services.exports import ActionError, ExportService
from manuscript_gui.services.reads import FileFilter, FilePage
from manuscript_gui.ui import texts
from manuscript_gui.ui.delegates import use_fixed_row_height
from manuscript_gui.ui.models.file_table import (
    COL_PATH,
    COL_REASON,
    COL_STATUS,
    FileTableModel,
    PageSource,
)
from manuscript_gui.ui.widgets import ElidedLabel, JobRunner

__all__ = ["COUNTS_INTERVAL_MS", "FILTERS", "SEARCH_DEBOUNCE_MS", "DetailPane"]

_log = logging.getLogger(__name__)

#: The filter buttons, left to right.
FILTERS: Final[tuple[FileFilter, ...]] = (
    FileFilter.ALL,
    FileFilter.WAITING,
    FileFilter.IN_PROGRESS,
    FileFilter.SUCCEEDED,
    FileFilter.FAILED,
)
SEARCH_DEBOUNCE_MS: Final = 250
"""Typing pauses this long before the search runs."""
COUNTS_INTERVAL_MS: Final = 500
"""The filter counts are re-read at most this often while files change."""


class DetailPane(QWidget):
    """The selected task's files (see the module docstring).

    Args:
        service: the app's export service (``files``, ``file_counts``).
        parent: the window.

    Attributes (for the window and tests): ``view`` (the table), ``model``
    (its :class:`FileTableModel`), ``filter_buttons`` (``FileFilter`` → button),
    ``search_edit``, ``title_label``.
    """

    def __init__(self, service: ExportService, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._service = service
        self._task_id: int | None = None
        self._task_name = ""
        self._total_files = 0
        self._counts: dict[FileFilter, int] = {}
        self._jobs = JobRunner(self)
        self._counts_job: asyncio.Task[None] | None = None
        self._counts_again = False
        self.model = FileTableModel(self)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DEBOUNCE_MS)
        self._search_timer.timeout.connect(self._run_query)
        self._counts_timer = QTimer(self)
        self._counts_timer.setSingleShot(True)
        self._counts_timer.setInterval(COUNTS_INTERVAL_MS)
        self._counts_timer.timeout.connect(self.refresh_counts)
        self._setup_ui()
        self.model.loadFailed.connect(self._load_failed)
        self.model.pageLoaded.connect(self._page_loaded)
        self.set_task(None)

    # -- building --------------------------------------------------------------------

    def _setup_ui(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        top = QHBoxLayout()
        # The title starts where the text of the tables' cells does (their frame and the
        # item's text margin), not flush against the window's edge.
        inset = (
            self.style().pixelMetric(QStyle.PixelMetric.PM_DefaultFrameWidth, None, self)
            + self.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self)
            + 1
        )
        top.setContentsMargins(inset, 0, inset, 0)
        # A long task name is elided, never widening the window (whole in the tooltip).
        self.title_label = ElidedLabel(self, mode=Qt.TextElideMode.ElideMiddle)
        font = self.title_label.font()
        font.setBold(True)
        self.title_label.setFont(font)
        top.addWidget(self.title_label, 1)
        self.filter_group = QButtonGroup(self)
        self.filter_group.setExclusive(True)
        self.filter_buttons: dict[FileFilter, QPushButton] = {}
        for file_filter in FILTERS:
            button = QPushButton(self)
            button.setObjectName(f"filter_{file_filter.value}")
            button.setCheckable(True)
            button.setFlat(True)
            button.setChecked(file_filter is FileFilter.ALL)
            button.clicked.connect(lambda _=False, f=file_filter: self.set_filter(f))
            self.filter_group.addButton(button)
            self.filter_buttons[file_filter] = button
            top.addWidget(button)
        self.search_edit = QLineEdit(self)
        self.search_edit.setObjectName("file_search")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMinimumWidth(180)
        self.search_edit.textEdited.connect(lambda _: self._search_timer.start())
        self.search_edit.returnPressed.connect(self._search_now)
        top.addWidget(self.search_edit)
        layout.addLayout(top)

        self.view = QTableView(self)
        self.view.setObjectName("file_table")
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.view.verticalHeader().setVisible(False)
        use_fixed_row_height(self.view)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # The path takes the room the other columns leave (they keep the widths set).
        header.setSectionResizeMode(COL_PATH, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(COL_STATUS, 130)
        header.resizeSection(COL_REASON, 280)
        header.setHighlightSections(False)
        layout.addWidget(self.view, 1)

        self.message_label = QLabel(self)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.setWordWrap(True)
        self.message_label.setVisible(False)
        layout.addWidget(self.message_label)
        self.retranslate()

    def retranslate(self) -> None:
        """Labels and counts in the current language."""
        self.search_edit.setPlaceholderText(self.tr("Search file names"))
        self._show_title()
        self._show_counts()

    # -- state -----------------------------------------------------------------------

    @property
    def task_id(self) -> int | None:
        """The task whose files are shown (``None``: none)."""
        return self._task_id

    @property
    def filter(self) -> FileFilter:
        return self.model.filter

    @property
    def counts(self) -> dict[FileFilter, int]:
        """Files per filter, as last read (empty before the first read)."""
        return dict(self._counts)

    @property
    def busy(self) -> bool:
        """A page or the counts are being read (tests wait for it to end)."""
        return self.model.loading or self._jobs.busy or self._counts_timer.isActive()

    # -- feeding -----------------------------------------------------------------------

    def set_task(self, task: TaskRecord | None) -> None:
        """Show *task*'s files (``None``: nothing) from the first page, filter kept."""
        if task is None:
            self._task_id = None
            self._task_name = ""
            self._counts = {}
            self.model.clear()
            self._show_title()
            self._show_counts()
            self._set_enabled(False)
            return
        self._task_name = task.name
        if task.id == self._task_id:
            self._show_title()
            return
        self._task_id = task.id
        self._total_files = task.total_files
        self._counts = {}
        self._set_enabled(True)
        self._show_title()
        self.message_label.setVisible(False)
        self.model.set_source(self._page_source(task.id), self.model.filter, self._search_text())
        self.refresh_counts()

    def _page_source(self, task_id: int) -> PageSource:
        service = self._service

        async def fetch(file_filter: FileFilter, text: str, after: int, limit: int) -> FilePage:
            return await service.files(
                task_id, filter=file_filter, text=text, after=after, limit=limit
            )

        return fetch

    def apply_task(self, task: TaskRecord) -> None:
        """A task row changed (``TaskChanged``): new counts when it is the one shown.

        When its number of files changed (its listing ended, so the rows exist
        only now) the list is read again from the first page.
        """
        if task.id != self._task_id:
            return
        self._task_name = task.name
        self._show_title()
        if task.total_files != self._total_files:
            self._total_files = task.total_files
            self.model.reload()
        self._schedule_counts()

    def apply_files_changed(self, event: FilesChanged) -> None:
        """File rows were written: the rows shown change in place, counts follow."""
        if event.task_id != self._task_id:
            return
        self.model.apply_files_changed(event.files)
        self._schedule_counts()

    def apply_progress(self, progress: TaskProgress) -> None:
        """The running task's files in flight: "in progress · 45%" on the rows shown.

        The percent is each file's bytes on disk (``TaskProgress.in_flight_bytes``,
        in the order of ``in_flight_ids``) over its size; without them (an event
        whose two tuples differ in length) the rows say "in progress" alone.
        """
        if progress.task_id != self._task_id:
            return
        ids, done = progress.in_flight_ids, progress.in_flight_bytes
        live = dict(zip(ids, done, strict=True)) if len(ids) == len(done) else None
        self.model.set_in_flight(ids, live)
        if self._counts.get(FileFilter.IN_PROGRESS, 0) != len(progress.in_flight_ids):
            self._schedule_counts()

    def run_stopped(self, task_id: int | None) -> None:
        """The running task changed: a task no longer running has nothing in flight."""
        if self._task_id is not None and task_id != self._task_id:
            self.model.set_in_flight(())
            self._schedule_counts()

    def set_filter(self, file_filter: FileFilter) -> None:
        """Show the files of one filter from the first page (the same filter again: a refresh,
        which also brings in rows that started to match since, e.g. new failures)."""
        file_filter = FileFilter(file_filter)
        self.filter_buttons[file_filter].setChecked(True)
        if self._task_id is None:
            return
        self.model.set_query(file_filter, self._search_text())
        self.refresh_counts()

    def set_search(self, text: str) -> None:
        """Search file paths for *text* now (no debounce: the window and tests)."""
        self.search_edit.setText(text)
        self._search_now()

    def reload(self) -> None:
        """Read the rows and the counts again (a refresh)."""
        if self._task_id is not None:
            self.model.reload()
            self.refresh_counts()

    # -- reading ---------------------------------------------------------------------

    def _search_text(self) -> str:
        return self.search_edit.text().strip()

    def _search_now(self) -> None:
        self._search_timer.stop()
        self._run_query()

    def _run_query(self) -> None:
        text = self._search_text()
        if self._task_id is None or text == self.model.text:
            return
        self.model.set_query(self.model.filter, text)

    def _schedule_counts(self) -> None:
        if not self._counts_timer.isActive():
            self._counts_timer.start()

    def refresh_counts(self) -> None:
        """Read the filter counts of the task shown (one read at a time)."""
        self._counts_timer.stop()
        if self._task_id is None:
            return
        if self._counts_job is not None and not self._counts_job.done():
            self._counts_again = True
            return
        self._counts_job = self._jobs.start(self._read_counts(self._task_id))

    async def _read_counts(self, task_id: int) -> None:
        counts: dict[FileFilter, int] | None
        try:
            counts = await self._service.file_counts(task_id)
        except ActionError as exc:  # signed out, or the task was deleted meanwhile
            _log.debug("file counts of task %s: %s", task_id, exc)
            counts = None
        if not shiboken6.isValid(self):
            return  # the pane went while the read was out
        again, self._counts_again = self._counts_again, False
        if again:
            self._counts_timer.start()
        if counts is not None and task_id == self._task_id:
            self._counts = counts
            self._show_counts()

    # -- showing -----------------------------------------------------------------------

    def _set_enabled(self, enabled: bool) -> None:
        for button in self.filter_buttons.values():
            button.setEnabled(enabled)
        self.search_edit.setEnabled(enabled)

    def _show_title(self) -> None:
        if self._task_id is None:
            self.title_label.setText(self.tr("Task details: select a task above"))
        else:
            self.title_label.setText(
                texts.fill(self.tr("Task details: %1"), texts.display_safe(self._task_name))
            )

    def _show_counts(self) -> None:
        for file_filter, button in self.filter_buttons.items():
            label = texts.file_filter_text(file_filter)
            count = self._counts.get(file_filter)
            if count is not None:
                label = texts.fill(self.tr("%1 (%2)"), label, texts.count_text(count))
            button.setText(label)

    def _page_loaded(self, _count: int) -> None:
        if self.model.rowCount() == 0 and self.model.exhausted:
            if self._search_text():
                self._show_message(self.tr("No file matches the search."))
            else:
                self._show_message(self.tr("No files here."))
        else:
            self.message_label.setVisible(False)

    def _load_failed(self, exc: object) -> None:
        if isinstance(exc, ActionError):
            text = texts.action_error_text(exc.code, exc.params)
        else:
            text = texts.display_safe(str(exc), texts.DETAIL_LIMIT)
        self._show_message(texts.fill(self.tr("The files could not be read: %1"), text))

    def _show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setVisible(True)
