"""The new-export dialog: choose projects and folders, a target folder, a task name.

Issue #8 item 3. The tree lists the projects the signed-in identity sees
(``service.projects()``, filtered by a search box on the project's name, code
and client); a project's folders are listed when it is expanded
(``service.children``), level by level, never all at once. Projects and folders
come in natural order (D1, D2, …, D10; :func:`natural_sorted`); a project's
details column says its code and what its name does not already say
(:func:`project_details`).

Check boxes are tri-state, kept by this dialog (not Qt's auto-tristate, which
cannot know that a folder holds files of its own):

- checking a project or folder checks everything under it, loaded now or later;
  unchecking it unchecks everything under it;
- a parent shows *checked* when all its subfolders are checked and it holds no
  files of its own, *unchecked* when none is checked or partly checked, else
  *partly checked*;
- the selection is the topmost checked items: a checked project is exported
  whole (``folder_id="root"``), a checked folder with everything under it; a
  partly checked parent is not itself selected, only its checked descendants.

The target folder starts at ``settings.default_export_dir`` (else the user's
documents folder); files land under ``<target>/<project name>/<folder path>``.
The free space of its volume (``service.free_space``) is shown as it is typed.
The task name may stay empty: the service then names the task like the
placeholder shows (the first item's name, ``" (+n)"`` for more).

Create checks the input inline: nothing selected, no folder, a relative path,
a target (or one of its parents) that is a file, a folder that cannot be
written (``os.access`` and a probe file in the nearest existing folder, off the
event loop), then calls ``service.create_export`` and emits
``created(TaskRecord)``; the service lists the files in the background. Load
failures (projects, a folder) are said inline; *Reload* lists the projects
again, expanding a folder again retries it.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import (
    QCollator,
    QEvent,
    QLocale,
    QObject,
    QStandardPaths,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from manuscript_gui.config import Settings
from manuscript_gui.domain import SessionChange
from manuscript_gui.services.errors import ApiError, Unauthorized
from manuscript_gui.services.exports import (
    ActionError,
    ExportService,
    SelectionItem,
    ServerCallFailed,
)
from manuscript_gui.services.reads import FolderEntry, Project
from manuscript_gui.ui import texts
from manuscript_gui.ui.dialogs import (
    TargetProblem,
    check_target,
    target_problem_text,
    typed_path,
)
from manuscript_gui.ui.widgets import BusyBar, InlineMessage, JobRunner

__all__ = [
    "DETAILS_MAX_SHARE",
    "NewExportDialog",
    "TargetProblem",
    "check_target",
    "natural_sorted",
    "project_details",
]

T = TypeVar("T")


_log = logging.getLogger(__name__)

CHECKED = Qt.CheckState.Checked
UNCHECKED = Qt.CheckState.Unchecked
PARTIAL = Qt.CheckState.PartiallyChecked
_FREE_SPACE_DELAY_MS = 300


DETAILS_MAX_SHARE = 0.35
"""The details column takes at most this share of the tree's width."""


def natural_sorted(items: Iterable[T], key: Callable[[T], str]) -> list[T]:
    """*items* by ``key(item)`` in the order people expect: numbers by value (D1, D2, …,
    D10), letters by the current language's collation (``QLocale()``; Chinese by
    pinyin), case ignored. The C locale sorts like English: its collation compares
    code points and knows no numbers."""
    locale = QLocale()
    if locale.language() == QLocale.Language.C:
        locale = QLocale(QLocale.Language.English)
    collator = QCollator(locale)
    collator.setNumericMode(True)
    collator.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    compare = functools.cmp_to_key(collator.compare)
    return sorted(items, key=lambda item: compare(key(item)))


def project_details(project: Project) -> str:
    """The details column of a project: its code, then its client and period unless its
    name already says them (``"SH-2025-001"`` for
    ``"上海某某科技股份有限公司2025年度财务报表审计"``, client
    ``"上海某某科技股份有限公司"``, period ``"2025年度"``), joined by ``" · "``."""
    name = project.name.casefold()
    parts = [project.code] + [
        p for p in (project.client, project.period) if p and p.strip().casefold() not in name
    ]
    return " · ".join(p for p in parts if p)


class _Node(QTreeWidgetItem):
    """A project or folder row; ``loaded`` once its children are listed."""

    def __init__(
        self,
        parent: QTreeWidget | QTreeWidgetItem,
        project: Project,
        folder: FolderEntry | None = None,
        path: tuple[str, ...] = (),
    ) -> None:
        super().__init__(parent)
        self.project = project
        self.folder = folder
        self.path = path
        self.loaded = False
        self.loading = False
        self.own_files = 0
        self.placeholder: QTreeWidgetItem | None = None
        name = project.name if folder is None else folder.name
        self.setText(0, texts.display_safe(name))
        # Escaped rich text: Qt would render a name that looks like HTML (plain_tooltip).
        self.setToolTip(0, texts.plain_tooltip(self.text(0)))
        self.setFlags(
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemIsUserCheckable
        )
        self.setCheckState(0, UNCHECKED)
        self.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)

    @property
    def folder_id(self) -> str:
        return "root" if self.folder is None else self.folder.id

    def selection_item(self) -> SelectionItem:
        return SelectionItem(self.project.id, self.project.name, self.folder_id, self.path)

    def nodes(self) -> list[_Node]:
        """The folder rows under this one (not the loading/error placeholder)."""
        return [c for i in range(self.childCount()) if isinstance(c := self.child(i), _Node)]


class NewExportDialog(QDialog):
    """Create an export task from projects and folders chosen in a lazily loaded tree.

    Args:
        service: the app's export service, signed in (its ``projects``,
            ``children``, ``free_space`` and ``create_export`` are used).
        settings: ``default_export_dir`` is the starting target folder.

    Signals:
        created(TaskRecord): the task was created (``initializing``; the service
            lists its files); the dialog then closes with ``accept()``.
    """

    created = Signal(object)

    def __init__(
        self, service: ExportService, settings: Settings, *, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._settings = settings
        self._updating = False
        self._creating = False
        self._nothing_selected_shown = False
        self._file_dialog: QFileDialog | None = None
        self._loads = JobRunner(self)  # projects and folders
        self._space = JobRunner(self)  # the free space of the target's volume
        self._submits = JobRunner(self)  # the checks and the creation
        self._free_job: asyncio.Task[None] | None = None
        self._free_timer = QTimer(self)
        self._free_timer.setSingleShot(True)
        self._free_timer.setInterval(_FREE_SPACE_DELAY_MS)
        self._free_timer.timeout.connect(self._update_free_space)
        self._setup_ui()
        for runner in (self._loads, self._space, self._submits):
            runner.busy_changed.connect(self._busy_changed)
        self.target_edit.setText(self._default_target())
        self.reload_projects()

    # -- building ------------------------------------------------------------------

    def _setup_ui(self) -> None:
        self.setWindowTitle(self.tr("New export"))
        self.setModal(True)
        self.resize(640, 560)

        self.search_edit = QLineEdit(self)
        self.search_edit.setPlaceholderText(self.tr("Search projects by name, code or client"))
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.installEventFilter(self)
        self.reload_button = QPushButton(self.tr("Reload"), self)
        self.reload_button.hide()
        search_row = QHBoxLayout()
        search_row.addWidget(self.search_edit, 1)
        search_row.addWidget(self.reload_button)

        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels([self.tr("Project / folder"), self.tr("Details")])
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # The details fit their text up to a share of the tree (_fit_details_column): the
        # project's name keeps the rest; a longer detail is elided, whole in its tooltip.
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        self.summary_label = QLabel(self)

        self.target_edit = QLineEdit(self)
        self.browse_button = QPushButton(self.tr("Browse…"), self)
        target_row = QHBoxLayout()
        target_row.addWidget(self.target_edit, 1)
        target_row.addWidget(self.browse_button)
        self.free_label = QLabel(self)
        self.name_edit = QLineEdit(self)

        form = QFormLayout()
        target_label = QLabel(self.tr("Export &to:"), self)
        target_label.setBuddy(self.target_edit)
        name_label = QLabel(self.tr("Task &name:"), self)
        name_label.setBuddy(self.name_edit)
        form.addRow(target_label, target_row)
        form.addRow("", self.free_label)
        form.addRow(name_label, self.name_edit)

        self.message = InlineMessage(self)
        self.busy_bar = BusyBar(self)
        self.create_button = QPushButton(self.tr("Create export"), self)
        self.create_button.setDefault(True)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.create_button)
        buttons.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addLayout(search_row)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.summary_label)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.busy_bar)
        layout.addLayout(buttons)

        self.search_edit.textChanged.connect(self._filter_projects)
        self.reload_button.clicked.connect(self.reload_projects)
        self.tree.itemExpanded.connect(self._expanded)
        self.tree.itemChanged.connect(self._item_changed)
        self.target_edit.textChanged.connect(self._target_changed)
        self.browse_button.clicked.connect(self._browse)
        self.create_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.reject)
        self._selection_changed()

    def _default_target(self) -> str:
        if self._settings.default_export_dir:
            return self._settings.default_export_dir
        documents = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation
        )
        return os.path.normpath(documents) if documents else str(Path.home())

    # -- state ---------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Loading (projects, folders, free space) or creating."""
        return self._loads.busy or self._space.busy or self._submits.busy

    @property
    def file_dialog(self) -> QFileDialog | None:
        """The folder picker opened last (tests drive it)."""
        return self._file_dialog

    def _busy_changed(self) -> None:
        self.busy_bar.set_busy(self.busy)
        self.create_button.setEnabled(not self._submits.busy)

    def projects(self) -> list[_Node]:
        """The project rows in natural order of their names (:func:`natural_sorted`),
        hidden ones by the search included."""
        tree = self.tree
        count = tree.topLevelItemCount()
        return [n for i in range(count) if isinstance(n := tree.topLevelItem(i), _Node)]

    def selection(self) -> list[SelectionItem]:
        """What Create would export: the topmost checked rows, in tree order."""
        items: list[SelectionItem] = []

        def walk(node: _Node) -> None:
            state = node.checkState(0)
            if state == CHECKED:
                items.append(node.selection_item())
            elif state == PARTIAL:
                for child in node.nodes():
                    walk(child)

        for project in self.projects():
            walk(project)
        return items

    # -- projects ------------------------------------------------------------------

    def reload_projects(self) -> None:
        """List the projects (again); checked rows and loaded folders are dropped."""
        self.reload_button.hide()
        self.message.clear_message()
        self._loads.cancel_all()  # folder loads of rows about to be dropped
        self._loads.start(self._load_projects())

    async def _load_projects(self) -> None:
        try:
            projects = await self._service.projects()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every failure is said inline
            _log.info("listing the projects failed: %r", exc)
            self.message.show_error(
                texts.fill(self.tr("The projects could not be loaded: %1"), self._failure_text(exc))
            )
            self.reload_button.show()
            return
        self._updating = True
        try:
            self.tree.clear()
            for project in natural_sorted(projects, key=lambda p: p.name):
                node = _Node(self.tree, project)
                details = texts.display_safe(project_details(project))
                node.setText(1, details)
                node.setToolTip(1, texts.plain_tooltip(details))
        finally:
            self._updating = False
        self._fit_details_column()
        self._filter_projects()
        self._selection_changed()
        if not projects:
            self.message.show_info(self.tr("You cannot see any project with this identity."))

    def _fit_details_column(self) -> None:
        """The details column as wide as its widest text, at most
        :data:`DETAILS_MAX_SHARE` of the tree (at least its header label)."""
        header = self.tree.header()
        metrics = self.tree.fontMetrics()
        texts_shown = [self.tree.headerItem().text(1)]
        texts_shown += [n.text(1) for n in self.projects()]
        margin = 2 * (self.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin) + 4)
        wanted = max(metrics.horizontalAdvance(t) for t in texts_shown) + margin
        cap = int(self.tree.viewport().width() * DETAILS_MAX_SHARE)
        label = metrics.horizontalAdvance(texts_shown[0]) + margin
        header.resizeSection(1, max(label, min(wanted, cap)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.projects():
            self._fit_details_column()

    def _filter_projects(self) -> None:
        needle = self.search_edit.text().strip().casefold()
        for node in self.projects():
            project = node.project
            haystack = " ".join(p for p in (project.name, project.code, project.client) if p)
            node.setHidden(bool(needle) and needle not in haystack.casefold())

    # -- folders (loaded on expand) -------------------------------------------------

    def _expanded(self, item: QTreeWidgetItem) -> None:
        if not isinstance(item, _Node) or item.loaded or item.loading:
            return
        item.loading = True
        self._updating = True
        try:
            if item.placeholder is None:
                item.placeholder = QTreeWidgetItem(item)
                item.placeholder.setFlags(Qt.ItemFlag.ItemIsEnabled)
            item.placeholder.setText(0, self.tr("Loading…"))
        finally:
            self._updating = False
        self._loads.start(self._load_children(item))

    async def _load_children(self, node: _Node) -> None:
        try:
            entries = await self._service.children(node.project.id, node.folder_id)
        except asyncio.CancelledError:
            node.loading = False
            raise
        except Exception as exc:  # every failure is said inline
            node.loading = False
            _log.info("listing folder %s of %s failed: %r", node.folder_id, node.project.id, exc)
            text = texts.fill(
                self.tr("The folder %1 could not be loaded: %2"),
                texts.in_sentence(node.project.name if node.folder is None else node.folder.name),
                self._failure_text(exc),
            )
            self._updating = True
            try:
                if node.placeholder is not None:
                    node.placeholder.setText(
                        0, self.tr("Not loaded. Collapse and expand to retry.")
                    )
            finally:
                self._updating = False
            self.message.show_error(text)
            return
        folders = [e for e in entries if isinstance(e, FolderEntry)]
        state = node.checkState(0)
        self._updating = True
        try:
            if node.placeholder is not None:
                node.removeChild(node.placeholder)
                node.placeholder = None
            for folder in natural_sorted(folders, key=lambda f: f.name):
                child = _Node(node, node.project, folder, (*node.path, folder.name))
                child.setCheckState(0, state)  # a checked parent's new rows are checked
            node.own_files = len(entries) - len(folders)
            node.loaded = True
            node.loading = False
            if node.own_files:
                here = self.tr("%n file(s) here", "", node.own_files)
                node.setText(1, here)
                node.setToolTip(1, texts.plain_tooltip(here))
            node.setChildIndicatorPolicy(
                QTreeWidgetItem.ChildIndicatorPolicy.DontShowIndicatorWhenChildless
            )
        finally:
            self._updating = False

    def _failure_text(self, exc: Exception) -> str:
        if isinstance(exc, Unauthorized):
            return texts.session_change_text(SessionChange.LOGIN_EXPIRED, None)
        if isinstance(exc, ServerCallFailed) and exc.reason is not None:
            return texts.stop_reason_text(exc.reason.value, {"error": str(exc.error)})
        if isinstance(exc, ServerCallFailed):
            return texts.display_safe(str(exc.error), texts.DETAIL_LIMIT)
        if isinstance(exc, ApiError):
            return texts.display_safe(str(exc), texts.DETAIL_LIMIT)
        _log.error("unexpected failure while browsing", exc_info=exc)
        return texts.display_safe(str(exc) or type(exc).__name__, texts.DETAIL_LIMIT)

    # -- check boxes ------------------------------------------------------------------

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if self._updating or column != 0 or not isinstance(item, _Node):
            return
        state = item.checkState(0)
        self._updating = True
        try:
            if state != PARTIAL:  # a click: the row and everything under it
                self._set_subtree(item, state)
            parent = item.parent()
            while isinstance(parent, _Node):
                parent.setCheckState(0, self._derived_state(parent))
                parent = parent.parent()
        finally:
            self._updating = False
        self._selection_changed()

    def _set_subtree(self, node: _Node, state: Qt.CheckState) -> None:
        for child in node.nodes():
            child.setCheckState(0, state)
            self._set_subtree(child, state)

    @staticmethod
    def _derived_state(node: _Node) -> Qt.CheckState:
        states = {child.checkState(0) for child in node.nodes()}
        if states == {CHECKED} and not node.own_files:
            return CHECKED
        if states <= {UNCHECKED}:
            return UNCHECKED
        return PARTIAL

    def _selection_changed(self) -> None:
        items = self.selection()
        self.summary_label.setText(
            self.tr("%n item(s) selected", "", len(items))
            if items
            else self.tr("Tick the projects or folders to export.")
        )
        default_name = ExportService.default_task_name(items) if items else ""
        self.name_edit.setPlaceholderText(texts.display_safe(default_name))
        if items and self._nothing_selected_shown:
            self._nothing_selected_shown = False
            self.message.clear_message()

    # -- target folder -------------------------------------------------------------------

    def _target_changed(self) -> None:
        self._free_timer.start()

    def _update_free_space(self) -> None:
        if self._free_job is not None:
            self._free_job.cancel()
        text = typed_path(self.target_edit.text())
        if not text or not os.path.isabs(text):
            self.free_label.setText("")
            return
        self._free_job = self._space.start(self._free_space(Path(text)))

    async def _free_space(self, target: Path) -> None:
        try:
            free = await self._service.free_space(target)
        except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
            _log.info("free space of %s unknown: %s", target, exc)
            self.free_label.setText(self.tr("Free space: unknown"))
            return
        self.free_label.setText(texts.fill(self.tr("Free space: %1"), texts.size_text(free)))

    def _browse(self) -> None:
        if self._file_dialog is not None:
            self._file_dialog.deleteLater()
        dialog = QFileDialog(self, self.tr("Export to"))
        self._file_dialog = dialog
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        start = Path(typed_path(self.target_edit.text()))
        if start.is_absolute():
            while not start.is_dir() and start.parent != start:
                start = start.parent
            dialog.setDirectory(str(start))
        dialog.fileSelected.connect(lambda path: self.target_edit.setText(os.path.normpath(path)))
        dialog.open()

    # -- creating ------------------------------------------------------------------------

    def submit(self) -> None:
        """Create: check the input, check the folder off the loop, create, emit, close."""
        if self._submits.busy or self._creating:
            return
        items = self.selection()
        target = typed_path(self.target_edit.text())
        self._nothing_selected_shown = False
        if not items:
            self._nothing_selected_shown = True
            self._refuse(self.tree, self.tr("Tick at least one project or folder to export."))
            return
        if not target:
            self._refuse(self.target_edit, self.tr("Choose the folder to export to."))
            return
        if not os.path.isabs(target):
            example = "D:\\底稿导出" if os.name == "nt" else "/home/me/底稿导出"
            self._refuse(
                self.target_edit,
                texts.fill(self.tr("The export folder must be a full path, e.g. %1."), example),
            )
            return
        name = self.name_edit.text().strip() or None
        self.message.clear_message()
        self._submits.start(self._create(items, Path(target), name))

    def _refuse(self, widget: QWidget, text: str) -> None:
        self.message.show_error(text)
        widget.setFocus()

    async def _create(self, items: list[SelectionItem], target: Path, name: str | None) -> None:
        problem = await asyncio.to_thread(check_target, target)
        if problem is not None:
            self._refuse(self.target_edit, target_problem_text(problem))
            return
        self._creating = True  # from here the task may exist: no cancelling
        self.cancel_button.setEnabled(False)
        try:
            task = await self._service.create_export(items, target, name)
        except ActionError as exc:
            self._creating = False
            self.cancel_button.setEnabled(True)
            self.message.show_error(texts.action_error_text(exc.code, exc.params))
            return
        except Exception as exc:  # every failure is said inline
            self._creating = False
            self.cancel_button.setEnabled(True)
            _log.error("creating the export failed", exc_info=exc)
            self.message.show_error(
                texts.fill(
                    self.tr("The export could not be created.\n(%1)"),
                    texts.display_safe(str(exc), texts.DETAIL_LIMIT),
                )
            )
            return
        self.created.emit(task)
        self.accept()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # the search box's
        """Enter in the search box finishes the search; it does not create the export."""
        if (
            watched is self.search_edit
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            return True
        return super().eventFilter(watched, event)

    def reject(self) -> None:
        """Cancel, Escape, closing the window: stop loading and close (not while creating)."""
        if self._creating:
            return
        self._free_timer.stop()
        for runner in (self._loads, self._space, self._submits):
            runner.cancel_all()
        super().reject()

    def done(self, result: int) -> None:
        self._free_timer.stop()
        super().done(result)
