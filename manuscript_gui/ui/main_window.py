"""The main window: the task list, the selected task's files, actions, session, status.

A thin client of the service API (docs/architecture.md "The API a front end
uses"): it reads through awaited ``ExportService`` calls, changes nothing but
through them, and follows the engine through the events the
:class:`~manuscript_gui.ui.bridge.EventBridge` turns into Qt signals.

Layout: a vertical :class:`~PySide6.QtWidgets.QSplitter` with the task table
(:class:`~manuscript_gui.ui.models.task_table.TaskTableModel` behind a
:class:`~PySide6.QtCore.QSortFilterProxyModel`, a progress-bar column, fixed
row heights) above the :class:`~manuscript_gui.ui.detail_pane.DetailPane`;
a toolbar, menus and the table's context menu with the actions of
:mod:`manuscript_gui.ui.actions`; a status bar with the user, the identity,
the server, the overall speed (the running task's rate) and the queue state.

**Signed out** the task table and the detail pane are replaced by a prompt with a "Sign in" button.
A ``SessionChanged`` ``login_expired`` (a 401 during an export) opens the
sign-in dialog with the reason; *Switch user* opens the same dialog while
someone is signed in (the service stops the old identity's task and shows the
other queue); *Log out* calls ``service.session.sign_out()`` (the queue stops,
no request is sent afterwards).

**Remembered layout**: window geometry and state, the splitter and both tables'
column widths (header state) are kept in ``window.ini`` (``QSettings``, INI
format) next to the settings file — a window's own state, apart from the
user's settings (``config.Settings``), written when the window closes. The task
table's default widths (:func:`task_column_widths`: the status column fits its
widest text in the current language, the number columns are narrow, the name
takes the rest) are saved with them: a width the user never changed follows
the defaults of the next start (another language, another font).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Final

import shiboken6
from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QItemSelection,
    QModelIndex,
    QPoint,
    QSettings,
    QSortFilterProxyModel,
    Qt,
    QUrl,
)
from PySide6.QtGui import QAction, QCloseEvent, QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QStyle,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from manuscript_gui import __version__
from manuscript_gui.config import AppPaths, Settings, app_paths
from manuscript_gui.core.actions import Action
from manuscript_gui.core.events import (
    Event,
    FilesChanged,
    ListingProgress,
    QueueHolder,
    QueueReordered,
    RunEnded,
    SchedulerState,
    SessionChanged,
    TaskAdded,
    TaskChanged,
    TaskProgress,
    TaskRemoved,
)
from manuscript_gui.domain import SessionChange, SessionInfo, TaskRecord
from manuscript_gui.services.exports import ActionError, ExportService
from manuscript_gui.ui import texts
from manuscript_gui.ui.actions import (
    TASK_ACTIONS,
    TaskActionRunner,
    WindowActions,
    allowed_for_selection,
)
from manuscript_gui.ui.bridge import EventBridge
from manuscript_gui.ui.delegates import ProgressBarDelegate, use_fixed_row_height
from manuscript_gui.ui.detail_pane import DetailPane
from manuscript_gui.ui.models.task_table import (
    COL_CREATED,
    COL_FAILED,
    COL_FILES,
    COL_NAME,
    COL_PROGRESS,
    COL_SIZE,
    COL_SPEED,
    COL_STATUS,
    COL_TIME_LEFT,
    COLUMN_COUNT,
    SortRole,
    TaskTableModel,
)
from manuscript_gui.ui.widgets import ElidedLabel, JobRunner

__all__ = ["DEFAULT_SIZE", "LAYOUT_FILENAME", "MainWindow", "task_column_widths"]

_log = logging.getLogger(__name__)

LAYOUT_FILENAME: Final = "window.ini"
"""The window's remembered layout, in the settings file's folder."""

_BRIDGE_SIGNALS: Final = (
    "task_added",
    "task_changed",
    "task_removed",
    "queue_reordered",
    "files_changed",
    "listing_progress",
    "task_progress",
    "run_ended",
    "scheduler_state",
    "session_changed",
    "queue_holder",
)
"""The bridge signals the window handles (each carries the event object)."""
_TABLE_PAGE, _PROMPT_PAGE = 0, 1

DEFAULT_SIZE: Final = (1280, 760)
"""The window's size at first start (pixels); later the remembered one."""
#: The widest the status bar's user, identity, server and queue fields get (pixels).
STATUS_LABEL_MAX_WIDTH: Final = 320

_COLUMN_WIDTHS: Final[dict[int, int]] = {
    COL_PROGRESS: 140,
    COL_FILES: 90,
    COL_FAILED: 60,
    COL_SIZE: 80,
    COL_SPEED: 90,
    COL_TIME_LEFT: 80,
    COL_CREATED: 130,
}
"""The task table's default column widths (px), name aside (it takes the rest); a column
is never narrower than its header label or a typical wide value."""
_DEFAULT_WIDTHS_KEY: Final = "tasks/default_widths"
_TASK_EVENTS: Final = (TaskAdded, TaskChanged, TaskRemoved, QueueReordered)


class MainWindow(QMainWindow):
    """The app's window (see the module docstring).

    Args:
        service: the app's export service (its ``session`` signs in and out).
        settings: the user's settings as loaded (dialogs start from them).
        settings_path: the settings file (``None``: the app's default); the
            window's layout file lives beside it.
        bridge: the app's event bridge (events → Qt signals, coalesced).

    Public attributes (the app, screenshots and tests use them): ``task_model``,
    ``proxy``, ``task_view``, ``detail``, ``window_actions`` (:class:`WindowActions`),
    ``runner`` (:class:`TaskActionRunner`), ``login_dialog`` (the open
    sign-in dialog or ``None``), the status labels ``user_label``,
    ``identity_label``, ``server_label``, ``speed_label``, ``queue_label``.
    """

    def __init__(
        self,
        service: ExportService,
        settings: Settings,
        *,
        settings_path: Path | None = None,
        bridge: EventBridge,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._settings = settings
        self._settings_path = settings_path
        self._bridge = bridge
        self._session: SessionInfo | None = service.session.current
        self._selected_id: int | None = None
        self._select_when_added: int | None = None
        self._reloading = 0
        self._pending: list[Event] = []
        self.login_dialog: QDialog | None = None
        self.settings_dialog: QDialog | None = None
        self.new_export_dialog: QDialog | None = None
        self._jobs = JobRunner(self)
        self.window_actions = WindowActions(self)
        self.runner = TaskActionRunner(service, self)
        self._setup_ui()
        self._connect()
        self._restore_layout()
        self._show_session(self._session)
        if self._session is not None:
            self.reload_tasks()

    # -- building --------------------------------------------------------------------

    def _setup_ui(self) -> None:
        self.setObjectName("main_window")
        self.resize(*DEFAULT_SIZE)

        self.task_model = TaskTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.task_model)
        self.proxy.setSortRole(SortRole)
        self.proxy.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setSortLocaleAware(True)

        self.task_view = QTableView(self)
        self.task_view.setObjectName("task_table")
        self.task_view.setModel(self.proxy)
        self.task_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.task_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.task_view.setAlternatingRowColors(True)
        self.task_view.setWordWrap(False)
        self.task_view.verticalHeader().setVisible(False)
        self.task_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.task_view.setItemDelegateForColumn(COL_PROGRESS, ProgressBarDelegate(self.task_view))
        use_fixed_row_height(self.task_view)
        header = self.task_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setHighlightSections(False)
        header.setSortIndicatorClearable(True)
        # Sort column -1 is the queue order (the model's own): no column sorted at start.
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.task_view.setSortingEnabled(True)
        header.setMinimumSectionSize(48)
        self.default_column_widths = task_column_widths(self.task_view)
        for col, width in self.default_column_widths.items():
            header.resizeSection(col, width)
        # The name takes the room the other columns leave (they keep the widths set).
        header.setSectionResizeMode(COL_NAME, QHeaderView.ResizeMode.Stretch)

        self.prompt = QWidget(self)
        self.prompt.setObjectName("sign_in_prompt")
        prompt_layout = QVBoxLayout(self.prompt)
        prompt_layout.addStretch(1)
        self.prompt_label = QLabel(self.prompt)
        self.prompt_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.prompt_label.setWordWrap(True)
        prompt_layout.addWidget(self.prompt_label)
        self.prompt_button = QPushButton(self.prompt)
        self.prompt_button.setObjectName("sign_in_button")
        prompt_layout.addWidget(self.prompt_button, 0, Qt.AlignmentFlag.AlignHCenter)
        prompt_layout.addStretch(2)

        self.detail = DetailPane(self._service, self)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("main_splitter")
        # No task yet: a hint with the way to the first export instead of an empty table.
        self.empty_hint = QWidget(self)
        self.empty_hint.setObjectName("empty_hint")
        hint_layout = QVBoxLayout(self.empty_hint)
        hint_layout.addStretch(1)
        self.empty_label = QLabel(self.empty_hint)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setWordWrap(True)
        hint_layout.addWidget(self.empty_label)
        self.empty_button = QPushButton(self.empty_hint)
        self.empty_button.setObjectName("new_export_button")
        hint_layout.addWidget(self.empty_button, 0, Qt.AlignmentFlag.AlignHCenter)
        hint_layout.addStretch(1)
        self.tasks_stack = QStackedWidget(self)
        self.tasks_stack.addWidget(self.task_view)
        self.tasks_stack.addWidget(self.empty_hint)
        self.splitter.addWidget(self.tasks_stack)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)

        # Signed out, the prompt takes the whole window (the lists have nothing to show).
        self.stack = QStackedWidget(self)
        self.stack.insertWidget(_TABLE_PAGE, self.splitter)
        self.stack.insertWidget(_PROMPT_PAGE, self.prompt)
        self.setCentralWidget(self.stack)

        self._setup_toolbar_and_menus()
        self._setup_status_bar()
        self.retranslate()

    def _setup_toolbar_and_menus(self) -> None:
        a = self.window_actions
        self.toolbar = QToolBar(self)
        self.toolbar.setObjectName("main_toolbar")
        self.toolbar.setMovable(False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toolbar.addAction(a.new_export)
        self.toolbar.addSeparator()
        for action in (Action.PAUSE, Action.RESUME, Action.CANCEL, Action.RETRY_FAILED):
            self.toolbar.addAction(a.task[action])
        self.toolbar.addSeparator()
        for action in (Action.MOVE_UP, Action.MOVE_DOWN, Action.DELETE):
            self.toolbar.addAction(a.task[action])
        self.toolbar.addSeparator()
        for action in (Action.OPEN_FOLDER, Action.FAILURE_REPORT):
            self.toolbar.addAction(a.task[action])
        self.addToolBar(self.toolbar)

        bar = self.menuBar()
        self.file_menu = bar.addMenu("")
        self.file_menu.addAction(a.new_export)
        self.file_menu.addSeparator()
        self.file_menu.addAction(a.settings)
        self.file_menu.addSeparator()
        self.file_menu.addAction(a.quit)
        self.task_menu = bar.addMenu("")
        self._fill_task_menu(self.task_menu)
        self.account_menu = bar.addMenu("")
        self.account_menu.addAction(a.sign_in)
        self.account_menu.addAction(a.sign_out)
        self.help_menu = bar.addMenu("")
        self.open_log_action = QAction(self)
        self.open_log_action.triggered.connect(self.open_log_folder)
        self.help_menu.addAction(self.open_log_action)
        self.about_action = QAction(self)
        self.about_action.triggered.connect(self.show_about)
        self.help_menu.addAction(self.about_action)
        self.about_box: QMessageBox | None = None

        self.context_menu = QMenu(self)
        self.context_menu.addAction(a.new_export)
        self.context_menu.addSeparator()
        self._fill_task_menu(self.context_menu)

    def _fill_task_menu(self, menu: QMenu) -> None:
        groups = (
            (Action.PAUSE, Action.RESUME, Action.CANCEL, Action.RETRY_FAILED),
            (Action.MOVE_UP, Action.MOVE_DOWN, Action.DELETE),
            (Action.OPEN_FOLDER, Action.FAILURE_REPORT),
        )
        for i, group in enumerate(groups):
            if i:
                menu.addSeparator()
            for action in group:
                menu.addAction(self.window_actions.task[action])

    def _setup_status_bar(self) -> None:
        bar = self.statusBar()
        # Names from the server are elided past STATUS_LABEL_MAX_WIDTH (whole in the tooltip).
        self.user_label = ElidedLabel(self, max_width=STATUS_LABEL_MAX_WIDTH)
        self.identity_label = ElidedLabel(self, max_width=STATUS_LABEL_MAX_WIDTH)
        self.server_label = ElidedLabel(
            self, max_width=STATUS_LABEL_MAX_WIDTH, mode=Qt.TextElideMode.ElideMiddle
        )
        self.speed_label = QLabel(self)
        self.queue_label = ElidedLabel(self, max_width=STATUS_LABEL_MAX_WIDTH)
        for name, label in (
            ("status_user", self.user_label),
            ("status_identity", self.identity_label),
            ("status_server", self.server_label),
            ("status_speed", self.speed_label),
            ("status_queue", self.queue_label),
        ):
            label.setObjectName(name)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setContentsMargins(6, 0, 6, 0)
            bar.addPermanentWidget(label)

    def retranslate(self) -> None:
        """Every label in the current language (also after a language change)."""
        self.setWindowTitle(self.tr("Working-paper batch export"))
        self.toolbar.setWindowTitle(self.tr("Toolbar"))
        self.file_menu.setTitle(self.tr("&File"))
        self.task_menu.setTitle(self.tr("&Task"))
        self.account_menu.setTitle(self.tr("&Account"))
        self.help_menu.setTitle(self.tr("&Help"))
        self.open_log_action.setText(self.tr("Open &log folder"))
        self.about_action.setText(self.tr("&About…"))
        self.prompt_label.setText(
            self.tr("Not signed in. Sign in to see your export tasks and continue them.")
        )
        self.prompt_button.setText(self.tr("Sign in…"))
        self.empty_label.setText(
            self.tr("No export tasks yet. Choose projects or folders to export to your computer.")
        )
        self.empty_button.setText(texts.action_text(texts.NEW_EXPORT) + "…")
        self.window_actions.retranslate()
        self.detail.retranslate()
        self.task_model.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, COLUMN_COUNT - 1)
        self.detail.model.headerDataChanged.emit(
            Qt.Orientation.Horizontal, 0, self.detail.model.columnCount() - 1
        )
        self._show_session(self._session)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _connect(self) -> None:
        a = self.window_actions
        for action in TASK_ACTIONS:
            a.task[action].triggered.connect(lambda _=False, act=action: self.trigger(act))
        a.new_export.triggered.connect(self.show_new_export)
        a.sign_in.triggered.connect(lambda: self.show_login())
        a.sign_out.triggered.connect(self.sign_out)
        a.settings.triggered.connect(self.show_settings)
        a.quit.triggered.connect(self.close)
        self.prompt_button.clicked.connect(lambda: self.show_login())
        self.task_view.customContextMenuRequested.connect(self._context_menu)
        self.empty_button.clicked.connect(self.show_new_export)
        for signal in (
            self.task_model.rowsInserted,
            self.task_model.rowsRemoved,
            self.task_model.modelReset,
        ):
            signal.connect(self._show_empty_hint)
        self._show_empty_hint()
        selection = self.task_view.selectionModel()
        selection.selectionChanged.connect(self._selection_changed)
        self.proxy.layoutChanged.connect(self._keep_selection_visible)
        self.runner.failed.connect(self.show_error)
        self.runner.message.connect(self.show_message)
        self.runner.done.connect(self._action_done)
        for name in _BRIDGE_SIGNALS:
            getattr(self._bridge, name).connect(self.handle_event)
        self.addActions(self.window_actions.all())

    # -- layout memory -------------------------------------------------------------------

    def layout_file(self) -> Path:
        """Where the window's layout is remembered (``window.ini`` beside the settings)."""
        folder = (
            self._settings_path.parent
            if self._settings_path is not None
            else app_paths().config_dir
        )
        return folder / LAYOUT_FILENAME

    def _layout_store(self) -> QSettings:
        return QSettings(str(self.layout_file()), QSettings.Format.IniFormat)

    def _restore_layout(self) -> None:
        # First start: the task list and the files share the height (scaled to the window).
        self.splitter.setSizes([400, 400])
        store = self._layout_store()
        for key, restore in (
            ("window/geometry", self.restoreGeometry),
            ("window/state", self.restoreState),
            ("window/splitter", self.splitter.restoreState),
            ("tasks/header", self.task_view.horizontalHeader().restoreState),
            ("files/header", self.detail.view.horizontalHeader().restoreState),
        ):
            value = store.value(key)
            if isinstance(value, QByteArray) and not value.isEmpty():
                restore(value)
        # A width the user never changed (it is the default the layout was saved with)
        # follows today's default: the status texts of another language, another font.
        header = self.task_view.horizontalHeader()
        saved_defaults = _parse_widths(store.value(_DEFAULT_WIDTHS_KEY))
        for col, width in self.default_column_widths.items():
            if col in saved_defaults and header.sectionSize(col) == saved_defaults[col]:
                header.resizeSection(col, width)

    def save_layout(self) -> None:
        """Write geometry, splitter and column widths (done when the window closes)."""
        store = self._layout_store()
        store.setValue("window/geometry", self.saveGeometry())
        store.setValue("window/state", self.saveState())
        store.setValue("window/splitter", self.splitter.saveState())
        store.setValue("tasks/header", self.task_view.horizontalHeader().saveState())
        store.setValue(_DEFAULT_WIDTHS_KEY, _format_widths(self.default_column_widths))
        store.setValue("files/header", self.detail.view.horizontalHeader().saveState())
        store.sync()
        if store.status() != QSettings.Status.NoError:
            _log.warning("could not save the window layout to %s", self.layout_file())

    def closeEvent(self, event: QCloseEvent) -> None:
        try:
            self.save_layout()
        except OSError as exc:  # a read-only profile must not keep the window open
            _log.warning("could not save the window layout: %s", exc)
        for dialog in (self.login_dialog, self.settings_dialog, self.new_export_dialog):
            if dialog is not None:
                dialog.reject()
        super().closeEvent(event)

    # -- selection and enablement ------------------------------------------------------

    @property
    def selected_task_id(self) -> int | None:
        return self._selected_id

    def selected_task(self) -> TaskRecord | None:
        """The selected task as the list shows it (``None``: none selected)."""
        if self._selected_id is None:
            return None
        row = self.task_model.row_of(self._selected_id)
        return None if row is None else self.task_model.task_at(row)

    def tasks(self) -> list[TaskRecord]:
        """The tasks the list shows, in queue order."""
        return [self.task_model.task_at(r) for r in range(self.task_model.rowCount())]

    def select_task(self, task_id: int | None) -> None:
        """Select a task's row (``None``: clear the selection)."""
        selection = self.task_view.selectionModel()
        row = None if task_id is None else self.task_model.row_of(task_id)
        if row is None:
            selection.clearSelection()
            return
        index = self.proxy.mapFromSource(self.task_model.index(row, 0))
        self.task_view.selectRow(index.row())
        self.task_view.scrollTo(index)

    def _selection_changed(self, _selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = self.task_view.selectionModel().selectedRows()
        task: TaskRecord | None = None
        if rows:
            source = self.proxy.mapToSource(rows[0])
            if source.isValid():
                task = self.task_model.task_at(source.row())
        self._selected_id = None if task is None else task.id
        self.detail.set_task(task)
        self.update_actions()

    def _show_empty_hint(self, *_args: object) -> None:
        empty = self.task_model.rowCount() == 0
        self.tasks_stack.setCurrentWidget(self.empty_hint if empty else self.task_view)

    @property
    def showing_empty_hint(self) -> bool:
        """Signed in with no task: the hint with *New export* shows instead of the table."""
        return self.showing_tasks and self.tasks_stack.currentWidget() is self.empty_hint

    def _keep_selection_visible(self) -> None:
        rows = self.task_view.selectionModel().selectedRows()
        if rows:
            self.task_view.scrollTo(rows[0])

    def allowed(self) -> frozenset[Action]:
        """What the selected task allows now (``core.actions`` over the list shown)."""
        return allowed_for_selection(
            self.tasks(),
            self.task_model.running_task_id,
            self._selected_id,
            queue_elsewhere=self._service.queue_owner is not None,
        )

    def update_actions(self) -> None:
        """Enable the actions for the selected task and the session."""
        self.window_actions.update_for(self.allowed(), signed_in=self._session is not None)

    def trigger(self, action: Action) -> None:
        """Do a task action on the selected task (a toolbar button, a menu, a shortcut)."""
        task = self.selected_task()
        if task is None or action not in self.allowed():
            return
        self.runner.trigger(action, task)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.task_view.indexAt(pos)
        if index.isValid():
            self.task_view.selectRow(index.row())
        self.context_menu.popup(self.task_view.viewport().mapToGlobal(pos))

    def _action_done(self, action: str, task_id: int) -> None:
        if action == Action.RETRY_FAILED and task_id == self.detail.task_id:
            self.detail.reload()

    # -- messages ------------------------------------------------------------------------

    def show_error(self, text: str) -> None:
        """A refused or failed action, in the status bar (non-blocking)."""
        self.statusBar().showMessage(text, 15_000)

    # -- help ----------------------------------------------------------------------------

    def _paths(self) -> AppPaths:
        return self._service.paths or app_paths()

    def open_log_folder(self) -> None:
        """Help → Open log folder: the log folder in the desktop's file manager (created
        first, off the UI thread, when nothing was logged yet)."""
        self._jobs.start(self._open_log_folder())

    async def _open_log_folder(self) -> None:
        folder = self._paths().log_dir
        try:
            await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        except OSError as exc:
            if shiboken6.isValid(self):
                self.show_error(
                    texts.fill(self.tr("Cannot open the log folder %1: %2"), str(folder), str(exc))
                )
            return
        if shiboken6.isValid(self):
            self.runner.open_url(QUrl.fromLocalFile(str(folder)))

    def show_about(self) -> None:
        """Help → About: the version and where the app keeps its data, settings and log."""
        if self.about_box is not None:
            self.about_box.raise_()
            return
        paths = self._paths()
        text = texts.fill(
            self.tr(
                "Working-paper batch export (manuscript-gui) %1\n\n"
                "Databases: %2\nSettings: %3\nLog: %4"
            ),
            __version__,
            str(paths.data_dir),
            str(self._settings_path or paths.settings_file),
            str(paths.log_dir),
        )
        box = QMessageBox(QMessageBox.Icon.Information, self.tr("About"), text, parent=self)
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.finished.connect(lambda _=0: setattr(self, "about_box", None))
        self.about_box = box
        box.open()

    def show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 10_000)

    # -- events ----------------------------------------------------------------------------

    def handle_event(self, event: Event) -> None:
        """One engine or session event (from the bridge)."""
        if isinstance(event, SessionChanged):
            self._session_changed(event)
            return
        if isinstance(event, SchedulerState):
            self._scheduler_state(event)
            return
        if isinstance(event, QueueHolder):  # another window or the CLI runs this queue
            self._show_queue_state(self.task_model.running_task_id is not None, True)
            self.update_actions()
            return
        if self._session is None:
            return  # signed out: nothing to show (the bus drops such events anyway)
        if self._reloading and isinstance(event, _TASK_EVENTS):
            self._pending.append(event)  # applied over the fresh list when it arrives
            return
        if isinstance(event, TaskAdded | TaskChanged):
            self._upsert(event.task)
        elif isinstance(event, TaskRemoved):
            self.task_model.remove(event.task_id)
            if event.task_id == self._selected_id:
                self.task_view.selectionModel().clearSelection()
            self.update_actions()
        elif isinstance(event, QueueReordered):
            self.task_model.set_order(event.order)
            self.update_actions()
        elif isinstance(event, TaskProgress):
            self.task_model.set_progress(event)
            self.detail.apply_progress(event)
            self._show_speed()
        elif isinstance(event, ListingProgress):
            self.task_model.set_listing(event)
        elif isinstance(event, FilesChanged):
            self.detail.apply_files_changed(event)
        elif isinstance(event, RunEnded):
            self._upsert(event.task)

    def _upsert(self, task: TaskRecord) -> None:
        self.task_model.upsert(task)
        self.detail.apply_task(task)
        if task.id == self._select_when_added:
            self._select_when_added = None
            self.select_task(task.id)
        elif self._selected_id is None and self.task_model.rowCount() == 1:
            self.select_task(task.id)
        # A new row may make the selected task no longer the last (move down).
        self.update_actions()

    def _scheduler_state(self, state: SchedulerState) -> None:
        previous = self.task_model.running_task_id
        self.task_model.set_running(state.running_task_id if self._session else None)
        if state.running_task_id != previous:
            self.detail.run_stopped(state.running_task_id)
        self._show_speed()
        self._show_queue_state(state.running_task_id is not None, state.has_user)
        self.update_actions()

    def _session_changed(self, event: SessionChanged) -> None:
        # Task events held back during a reload belong to the session that just ended.
        self._pending.clear()
        previous, self._session = self._session, event.session
        if self.new_export_dialog is not None and _account(event.session) != _account(previous):
            # Its projects and folders are another account's (or nobody's now): creating
            # from them would put that selection into this identity's queue.
            self.new_export_dialog.reject()
        self._show_session(event.session)
        if event.session is None:
            self._clear_tasks()
        else:
            self.reload_tasks()
        self.show_message(texts.session_change_text(event.change, event.session))
        if event.change is SessionChange.LOGIN_EXPIRED:
            self.show_login(texts.session_change_text(event.change, event.session))

    def _clear_tasks(self) -> None:
        self._pending.clear()
        self.task_model.set_tasks([])
        self.task_model.set_running(None)
        self._selected_id = None
        self.detail.set_task(None)
        self._show_speed()
        self.update_actions()

    # -- session -------------------------------------------------------------------------

    def _show_session(self, session: SessionInfo | None) -> None:
        signed_in = session is not None
        self.stack.setCurrentIndex(_TABLE_PAGE if signed_in else _PROMPT_PAGE)
        if session is None:
            for label in (self.user_label, self.identity_label, self.server_label):
                label.clear()
                label.setVisible(False)
        else:
            self.user_label.setText(
                texts.fill(self.tr("User: %1"), texts.display_safe(session.user_name))
            )
            self.identity_label.setText(
                texts.fill(self.tr("Identity: %1"), texts.display_safe(session.identity_label))
            )
            self.server_label.setText(
                texts.fill(self.tr("Server: %1"), texts.display_safe(session.server_url))
            )
            for label in (self.user_label, self.identity_label, self.server_label):
                label.setVisible(True)
        running = self.task_model.running_task_id is not None
        self._show_queue_state(running, signed_in)
        self.update_actions()

    def _show_queue_state(self, running: bool, has_user: bool) -> None:
        owner = self._service.queue_owner if has_user else None
        if owner is not None:
            # Waiting for the queue: say who runs it (the service takes over when it ends).
            self.queue_label.setText(texts.queue_holder_text(owner))
        else:
            self.queue_label.setText(texts.queue_state_text(running, has_user))

    def _show_speed(self) -> None:
        """The overall speed: the running task's rate (nothing while idle)."""
        rate = self.task_model.overall_rate()
        self.speed_label.setText("" if rate is None else texts.speed_text(rate))
        self.speed_label.setVisible(rate is not None)

    def reload_tasks(self) -> None:
        """Read the task list again from the service (sign-in, switch)."""
        self._reloading += 1
        self._jobs.start(self._reload(self._session))

    async def _reload(self, session: SessionInfo | None) -> None:
        try:
            tasks = await self._service.tasks()
        except ActionError as exc:  # signed out meanwhile
            _log.debug("task list not read: %s", exc)
            if self._reloading == 1:
                self._pending.clear()
            return
        finally:
            self._reloading -= 1
        if not shiboken6.isValid(self):
            return  # the window closed while the list was read
        if session is None or self._session is None or session.key != self._session.key:
            return  # a switch happened meanwhile: that session's reload shows its list
        keep = self._selected_id
        pending, self._pending = self._pending, []
        self.task_model.set_tasks(tasks)
        running = self._service.running_task_id
        self.task_model.set_running(running)
        self._show_queue_state(running is not None, True)
        self._show_speed()
        for event in pending:
            self.handle_event(event)
        if keep is not None and self.task_model.row_of(keep) is not None:
            self.select_task(keep)
        elif self.task_model.rowCount():
            self.select_task(self.task_model.task_at(0).id)
        else:
            self._selected_id = None
            self.detail.set_task(None)
        self.update_actions()

    def show_login(self, reason: str | None = None) -> None:
        """Open the sign-in dialog (*Switch user* while signed in); one at a time."""
        if self.login_dialog is not None:
            self.login_dialog.raise_()
            self.login_dialog.activateWindow()
            return
        from manuscript_gui.ui.dialogs.login import LoginDialog

        dialog = LoginDialog(
            self._service,
            self._settings,
            reason=reason,
            settings_file=self._settings_path,
            parent=self,
        )
        dialog.remembered.connect(self._remember_settings)
        dialog.finished.connect(lambda _=0: self._dialog_closed("login_dialog", dialog))
        self.login_dialog = dialog
        dialog.open()

    def sign_out(self) -> None:
        """Log out: the queue stops (*logged out*), no request is sent afterwards."""
        self._jobs.start(self._service.session.sign_out())

    def _remember_settings(self, settings: object) -> None:
        if isinstance(settings, Settings):
            self._settings = settings

    def _dialog_closed(self, name: str, dialog: QDialog) -> None:
        if getattr(self, name) is dialog:
            setattr(self, name, None)
        dialog.deleteLater()

    # -- new export, settings ---------------------------------------------------------------

    def show_new_export(self) -> None:
        """Open the new-export dialog (signed in only); one at a time."""
        if self._session is None:
            return
        if self.new_export_dialog is not None:
            self.new_export_dialog.raise_()
            return
        from manuscript_gui.ui.dialogs.new_export import NewExportDialog

        dialog = NewExportDialog(self._service, self._settings, parent=self)
        dialog.created.connect(self._created)
        dialog.finished.connect(lambda _=0: self._dialog_closed("new_export_dialog", dialog))
        self.new_export_dialog = dialog
        dialog.open()

    def _created(self, task: object) -> None:
        if not isinstance(task, TaskRecord):
            return
        if self.task_model.row_of(task.id) is not None:
            self.select_task(task.id)
        else:
            self._select_when_added = task.id

    def show_settings(self) -> None:
        """Open the settings dialog; one at a time."""
        if self.settings_dialog is not None:
            self.settings_dialog.raise_()
            return
        from manuscript_gui.ui.dialogs.settings import SettingsDialog

        dialog = SettingsDialog(self._settings, settings_file=self._settings_path, parent=self)
        dialog.changed.connect(self.apply_settings)
        dialog.finished.connect(lambda _=0: self._dialog_closed("settings_dialog", dialog))
        self.settings_dialog = dialog
        dialog.open()

    def apply_settings(self, settings: object) -> None:
        """New settings (saved by the dialog): the engine uses them from now on.

        Concurrency and retries apply to the next run, the bandwidth limit at
        once (also to the running task); the language at the next start (the
        settings dialog says so).
        """
        if not isinstance(settings, Settings):
            return
        self._settings = settings
        self._service.settings = dataclasses.replace(settings)
        self._service.set_bandwidth_limit(settings.bandwidth_limit_bps or None)

    # -- for the app and tests -------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        """The settings the window holds now."""
        return self._settings

    @property
    def showing_tasks(self) -> bool:
        """The task list and the detail pane are shown (signed in), not the sign-in prompt."""
        return self.stack.currentWidget() is self.splitter

    @property
    def busy(self) -> bool:
        """Background reads or actions are in flight (tests wait for it to end)."""
        return self._jobs.busy or self.runner.jobs.busy or bool(self._reloading)

    def row_index(self, task_id: int) -> QModelIndex:
        """The view's (proxy) index of a task's row, column 0 (invalid: not shown)."""
        row = self.task_model.row_of(task_id)
        if row is None:
            return QModelIndex()
        return self.proxy.mapFromSource(self.task_model.index(row, 0))


def _text_width(view: QTableView, samples: Iterable[str], *, bold: bool = True) -> int:
    """The widest of *samples* in *view*'s font, *bold* (the running task's row is bold),
    with the item's text margins (pixels)."""
    font = QFont(view.font())
    font.setBold(bold)
    metrics = QFontMetrics(font)
    margin = view.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
    return max((metrics.horizontalAdvance(t) for t in samples), default=0) + 2 * margin + 2


def task_column_widths(view: QTableView) -> dict[int, int]:
    """Default widths (pixels) of the task table's columns but the name, in the current
    language and *view*'s font.

    The status column fits the widest of :func:`texts.task_status_variants` after the
    status dot (the running task's texts in bold); the others take
    :data:`_COLUMN_WIDTHS`, widened to their header label (with the sort arrow) or a
    typical wide value when the font needs more.
    """
    model = view.model()
    header = view.horizontalHeader()
    style = view.style()
    label_metrics = QFontMetrics(header.font())
    label_extra = (
        2 * style.pixelMetric(QStyle.PixelMetric.PM_HeaderMargin, None, header)
        + style.pixelMetric(QStyle.PixelMetric.PM_HeaderMarkSize, None, header)
        + 8
    )

    def label_width(col: int) -> int:
        label = model.headerData(col, Qt.Orientation.Horizontal) if model is not None else ""
        return label_metrics.horizontalAdvance(str(label or "")) + label_extra

    samples = _column_samples()
    icon = view.iconSize()
    icon_width = (
        icon.width()
        if icon.isValid()
        else style.pixelMetric(QStyle.PixelMetric.PM_SmallIconSize, None, view)
    )
    icon_margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, view) + 1
    status_text = max(
        _text_width(view, texts.task_status_variants(), bold=False),
        _text_width(view, texts.task_status_variants(running=True)),
    )
    widths = {COL_STATUS: max(status_text + icon_width + 2 * icon_margin, label_width(COL_STATUS))}
    for col, width in _COLUMN_WIDTHS.items():
        sample = samples.get(col)
        content = _text_width(view, [sample]) if sample else 0
        widths[col] = max(width, content, label_width(col))
    return widths


def _column_samples() -> dict[int, str]:
    """Typical wide values of the number columns, in the current language."""
    many = texts.count_text(9_999)
    return {
        COL_FILES: f"{many} / {many}",
        COL_FAILED: many,
        COL_SIZE: texts.size_text(999.9 * 1024**2),
        COL_SPEED: texts.speed_text(999.9 * 1024),
        COL_TIME_LEFT: texts.duration_text(59 * 60 + 59),
        COL_CREATED: "2000-00-00 00:00",
    }


def _account(session: SessionInfo | None) -> tuple[str, str, str] | None:
    """Whose projects a session sees: its server, user and identity (``None``: nobody)."""
    return None if session is None else (session.server_url, session.user_id, session.user_type)


def _format_widths(widths: dict[int, int]) -> str:
    return " ".join(f"{col}:{width}" for col, width in sorted(widths.items()))


def _parse_widths(value: object) -> dict[int, int]:
    """``"1:250 2:140"`` → ``{1: 250, 2: 140}``; anything malformed is left out."""
    widths: dict[int, int] = {}
    for part in str(value or "").split():
        col, _, width = part.partition(":")
        if col.isdigit() and width.isdigit():
            widths[int(col)] = int(width)
    return widths
