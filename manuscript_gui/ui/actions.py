"""The window's actions: one :class:`~PySide6.QtGui.QAction` per thing a user can do.

:class:`WindowActions` builds them (labels, shortcuts, tooltips) for the
toolbar, the menus and the task table's context menu, enables the task
actions exactly as :func:`manuscript_gui.core.actions.allowed_actions` says for
the selected task (:meth:`WindowActions.update_for`), and carries them out
through the awaited service calls (:class:`TaskActionRunner`):

=====================  =========================  ==================================
action                 shortcut                   does
=====================  =========================  ==================================
new export             Ctrl+N                     the window opens the dialog
pause / resume         Ctrl+P / Ctrl+R            ``service.pause`` / ``resume``
cancel                 Ctrl+Shift+C               asks first, then ``service.cancel``
retry failed           Ctrl+Shift+R               ``service.retry_failed``
move up / down         Ctrl+Up / Ctrl+Down        ``service.move(up=...)``
delete task            Delete                     asks first, then ``service.delete``
open folder            Ctrl+O                     the task's export folder, by the OS
export failure list    Ctrl+Shift+E               a save dialog, then ``failure_report``
sign in / switch user  Ctrl+Shift+L               the window opens the sign-in dialog
log out                —                          the window signs out
settings               Ctrl+, (platform's own)    the window opens the settings
quit                   Ctrl+Q (platform's own)    closes the window
=====================  =========================  ==================================

Confirmations and the save dialog are opened with ``open()`` and answered
through signals (never ``exec()`` inside a coroutine: research/desktop-stack-
pitfalls.md §1). Every service call runs as a task the runner keeps a strong
reference to; an :class:`~manuscript_gui.services.exports.ActionError` becomes
``failed(str)`` with the translated sentence (``texts.action_error_text``),
which the window shows in its status bar.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import shiboken6
from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from manuscript_gui.core.actions import Action, allowed_actions
from manuscript_gui.domain import TaskRecord
from manuscript_gui.services.exports import ActionError, ExportService
from manuscript_gui.ui import texts
from manuscript_gui.ui.widgets import JobRunner

__all__ = ["TASK_ACTIONS", "TaskActionRunner", "WindowActions", "allowed_for_selection"]

_log = logging.getLogger(__name__)

#: The most characters of a task name in a suggested file name (60 CJK characters are
#: 180 bytes in UTF-8, well inside a file name's 255).
FILE_NAME_PART_LIMIT: Final = 60

#: The task actions in toolbar and menu order.
TASK_ACTIONS: Final[tuple[Action, ...]] = (
    Action.PAUSE,
    Action.RESUME,
    Action.CANCEL,
    Action.RETRY_FAILED,
    Action.MOVE_UP,
    Action.MOVE_DOWN,
    Action.DELETE,
    Action.OPEN_FOLDER,
    Action.FAILURE_REPORT,
)

# Key sequences are built when the actions are (a QKeySequence needs a QGuiApplication).
_SHORTCUTS: Final[Mapping[Action, QKeySequence.StandardKey | str]] = {
    Action.PAUSE: "Ctrl+P",
    Action.RESUME: "Ctrl+R",
    Action.CANCEL: "Ctrl+Shift+C",
    Action.RETRY_FAILED: "Ctrl+Shift+R",
    Action.MOVE_UP: "Ctrl+Up",
    Action.MOVE_DOWN: "Ctrl+Down",
    Action.DELETE: QKeySequence.StandardKey.Delete,
    Action.OPEN_FOLDER: "Ctrl+O",
    Action.FAILURE_REPORT: "Ctrl+Shift+E",
}


def allowed_for_selection(
    tasks: Sequence[TaskRecord],
    running_task_id: int | None,
    selected: int | None,
    *,
    queue_elsewhere: bool = False,
) -> frozenset[Action]:
    """What the selected task allows: :func:`~manuscript_gui.core.actions.allowed_actions`
    with its neighbours in the list.

    *tasks* is the task list the window shows, **in queue order** (the list's
    order decides first and last: after a move, ``QueueReordered`` reorders the
    rows while the records keep the ``position`` they were read with).
    *selected* is the selected task's id (``None``, or a task not in *tasks*:
    no action). *queue_elsewhere*: another process runs this queue (only what
    changes nothing).
    """
    if selected is None:
        return frozenset()
    ids = [t.id for t in tasks]
    if selected not in ids:
        return frozenset()
    i = ids.index(selected)
    task = tasks[i]
    return allowed_actions(
        task,
        task.id == running_task_id,
        first=i == 0,
        last=i == len(tasks) - 1,
        queue_elsewhere=queue_elsewhere,
    )


class WindowActions(QObject):
    """Every action of the window, built once; the window connects the non-task ones.

    Attributes:
        task: ``Action`` → its ``QAction`` (the nine task actions).
        new_export, sign_in, sign_out, settings, quit: the window's own actions;
            ``sign_in`` reads "Switch user…" while someone is signed in.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.task: dict[Action, QAction] = {}
        for action in TASK_ACTIONS:
            qaction = QAction(texts.action_text(action), self)
            qaction.setObjectName(f"action_{action.value}")
            qaction.setShortcut(QKeySequence(_SHORTCUTS[action]))
            qaction.setEnabled(False)
            self.task[action] = qaction
        self.new_export = self._make("action_new_export", QKeySequence.StandardKey.New)
        self.sign_in = self._make("action_sign_in", "Ctrl+Shift+L")
        self.sign_out = self._make("action_sign_out", None)
        self.settings = self._make("action_settings", QKeySequence.StandardKey.Preferences)
        if self.settings.shortcut().isEmpty():  # no platform standard (Linux, Windows)
            self.settings.setShortcut(QKeySequence("Ctrl+,"))
        self.quit = self._make("action_quit", QKeySequence.StandardKey.Quit)
        if self.quit.shortcut().isEmpty():
            self.quit.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit.setMenuRole(QAction.MenuRole.QuitRole)
        self.settings.setMenuRole(QAction.MenuRole.PreferencesRole)
        self._signed_in = False
        self.retranslate()
        self.update_for(frozenset(), signed_in=False)

    def _make(self, name: str, shortcut: QKeySequence.StandardKey | str | None) -> QAction:
        action = QAction(self)
        action.setObjectName(name)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        return action

    def retranslate(self) -> None:
        """Set every label again (after a language change)."""
        for action, qaction in self.task.items():
            qaction.setText(texts.action_text(action))
            qaction.setToolTip(_with_shortcut(qaction))
        self.new_export.setText(texts.action_text(texts.NEW_EXPORT) + "…")
        self.new_export.setToolTip(_with_shortcut(self.new_export))
        self.sign_in.setText(self.tr("Switch user…") if self._signed_in else self.tr("Sign in…"))
        self.sign_out.setText(self.tr("Log out"))
        self.settings.setText(self.tr("Settings…"))
        self.quit.setText(self.tr("Quit"))

    def all(self) -> list[QAction]:
        """Every action (for the window to add them as shortcuts)."""
        return [
            self.new_export,
            *self.task.values(),
            self.sign_in,
            self.sign_out,
            self.settings,
            self.quit,
        ]

    def update_for(self, allowed: frozenset[Action], *, signed_in: bool) -> None:
        """Enable exactly the task actions in *allowed*; the others follow *signed_in*."""
        for action, qaction in self.task.items():
            qaction.setEnabled(signed_in and action in allowed)
        self.new_export.setEnabled(signed_in)
        self.sign_out.setEnabled(signed_in)
        if signed_in != self._signed_in:
            self._signed_in = signed_in
            self.retranslate()

    def enabled_task_actions(self) -> frozenset[Action]:
        """The task actions enabled now."""
        return frozenset(a for a, q in self.task.items() if q.isEnabled())


def _with_shortcut(action: QAction) -> str:
    shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    return f"{action.text()} ({shortcut})" if shortcut else action.text()


class TaskActionRunner(QObject):
    """Carries out task actions on the service, one coroutine each, for one window.

    Args:
        service: the app's export service.
        parent: the window: parent of the confirmation and save dialogs.

    Signals:
        failed(str): an action was refused or failed (translated text for the
            status bar).
        done(str, int): an action finished: its ``Action`` value and the task id.
        message(str): something to tell the user (e.g. where a failure list went).
    """

    failed = Signal(str)
    done = Signal(str, int)
    message = Signal(str)

    def __init__(self, service: ExportService, parent: QWidget) -> None:
        super().__init__(parent)
        self._service = service
        self._window = parent
        self.jobs = JobRunner(self)
        self.open_url: Callable[[QUrl], object] = QDesktopServices.openUrl
        """How a folder is opened (the OS's file manager); tests replace it."""
        self.confirmation: QMessageBox | None = None
        """The confirmation open now (cancel, delete), if any."""
        self.save_dialog: QFileDialog | None = None
        """The failure list's save dialog open now, if any."""

    # -- entry point -----------------------------------------------------------------

    def trigger(self, action: Action, task: TaskRecord) -> None:
        """Do *action* to *task*: at once, or after a confirmation or a save dialog."""
        if action is Action.CANCEL:
            # "取消" alone would read as "close this box": the buttons say what they do.
            self._confirm(
                action,
                task,
                self._cancel_question(task),
                self.tr("Cancel export"),
                self.tr("Keep exporting"),
            )
        elif action is Action.DELETE:
            self._confirm(
                action,
                task,
                self._delete_question(task),
                texts.action_text(Action.DELETE),
                self.tr("Keep task"),
            )
        elif action is Action.FAILURE_REPORT:
            self._ask_report_path(task)
        elif action is Action.OPEN_FOLDER:
            self.start(action, task.id, self._open_folder(task.id))
        else:
            self.start(action, task.id, self._call(action, task.id))

    def start(self, action: Action, task_id: int, coro: Coroutine[Any, Any, object]) -> None:
        """Run *coro* for *action* in the background; ``ActionError`` → ``failed``."""
        self.jobs.start(self._guarded(action, task_id, coro))

    async def _guarded(
        self, action: Action, task_id: int, coro: Coroutine[Any, Any, object]
    ) -> None:
        try:
            await coro
        except ActionError as exc:
            if shiboken6.isValid(self):  # the window may have closed meanwhile
                self.failed.emit(texts.action_error_text(exc.code, exc.params))
            return
        except OSError as exc:  # the failure list could not be written
            _log.warning("%s on task %s failed: %s", action.value, task_id, exc)
            if shiboken6.isValid(self):
                self.failed.emit(
                    texts.fill(
                        self.tr("Could not write the file: %1"),
                        texts.display_safe(str(exc), texts.DETAIL_LIMIT),
                    )
                )
            return
        except Exception as exc:  # a fault of ours: said, logged, and the window goes on
            _log.exception("%s on task %s failed", action.value, task_id)
            if shiboken6.isValid(self):
                self.failed.emit(
                    texts.fill(
                        self.tr("“%1” failed: %2"),
                        texts.action_text(action),
                        texts.display_safe(str(exc) or type(exc).__name__, texts.DETAIL_LIMIT),
                    )
                )
            return
        if shiboken6.isValid(self):
            self.done.emit(action.value, task_id)

    async def _call(self, action: Action, task_id: int) -> None:
        service = self._service
        if action is Action.PAUSE:
            await service.pause(task_id)
        elif action is Action.RESUME:
            await service.resume(task_id)
        elif action is Action.CANCEL:
            await service.cancel(task_id)
        elif action is Action.RETRY_FAILED:
            await service.retry_failed(task_id)
        elif action is Action.MOVE_UP:
            await service.move(task_id, up=True)
        elif action is Action.MOVE_DOWN:
            await service.move(task_id, up=False)
        elif action is Action.DELETE:
            await service.delete(task_id)
        else:  # open folder and the failure list have their own coroutines
            raise ValueError(f"not a plain call: {action}")

    # -- confirmations -------------------------------------------------------------

    def _cancel_question(self, task: TaskRecord) -> str:
        return texts.fill(
            self.tr(
                "Cancel the export “%1”? Files not finished yet are discarded; "
                "files already exported stay in the folder."
            ),
            texts.in_sentence(task.name),
        )

    def _delete_question(self, task: TaskRecord) -> str:
        return texts.fill(
            self.tr("Delete the task “%1” from the list? The exported files stay in the folder."),
            texts.in_sentence(task.name),
        )

    def _confirm(
        self, action: Action, task: TaskRecord, question: str, do_label: str, keep_label: str
    ) -> None:
        if self.confirmation is not None:
            self.confirmation.close()
        box = QMessageBox(self._window)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(texts.action_text(action))
        box.setText(question)
        box.setTextFormat(Qt.TextFormat.PlainText)
        yes = box.addButton(do_label, QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton(keep_label, QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        task_id = task.id

        def answered() -> None:
            if self.confirmation is box:
                self.confirmation = None
            if box.clickedButton() is yes:
                self.start(action, task_id, self._call(action, task_id))
            box.deleteLater()

        box.finished.connect(answered)
        self.confirmation = box
        box.open()

    # -- open folder, failure list ---------------------------------------------------

    async def _open_folder(self, task_id: int) -> None:
        folder = await self._service.folder(task_id)
        exists = await asyncio.to_thread(folder.is_dir)
        if not shiboken6.isValid(self):
            return
        if not exists:
            self.failed.emit(
                texts.fill(
                    self.tr("The export folder does not exist (yet): %1"),
                    texts.in_sentence(str(folder)),
                )
            )
            return
        self.open_url(QUrl.fromLocalFile(str(folder)))

    def _ask_report_path(self, task: TaskRecord) -> None:
        if self.save_dialog is not None:
            self.save_dialog.close()
        dialog = QFileDialog(self._window, self.tr("Export failure list"))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setNameFilter(self.tr("CSV files (*.csv)"))
        dialog.setDefaultSuffix("csv")
        dialog.setDirectory(task.target_dir)
        name = texts.fill(self.tr("%1 failures.csv"), _file_name_part(task.name))
        dialog.selectFile(name)
        task_id = task.id

        def accepted(path: str) -> None:
            self.start(Action.FAILURE_REPORT, task_id, self._write_report(task_id, Path(path)))

        def finished() -> None:
            if self.save_dialog is dialog:
                self.save_dialog = None
            dialog.deleteLater()

        dialog.fileSelected.connect(accepted)
        dialog.finished.connect(finished)
        self.save_dialog = dialog
        dialog.open()

    async def _write_report(self, task_id: int, path: Path) -> None:
        count = await self._service.failure_report(task_id, path)
        if not shiboken6.isValid(self):
            return
        self.message.emit(
            texts.fill(
                self.tr("%n failed file(s) written to %1", "", count), texts.in_sentence(str(path))
            )
        )


def _file_name_part(name: str) -> str:
    """A task name as part of a suggested file name (no separators, no control chars, at
    most :data:`FILE_NAME_PART_LIMIT` characters: a file name has 255 bytes at most)."""
    cleaned = "".join("_" if ch in '\\/:*?"<>|' or not ch.isprintable() else ch for ch in name)
    return texts.shortened(cleaned.strip(" ."), FILE_NAME_PART_LIMIT).strip(" .") or "export"
