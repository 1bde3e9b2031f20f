"""The window's actions: enabled exactly as ``core.actions.allowed_actions`` says.

For every task state of docs/behaviour.md (initializing, waiting first / in
the middle / last, running, paused, completed with and without failures,
canceled) the toolbar's, menus' and context menu's task actions (one
``QAction`` each) are enabled exactly as ``allowed_actions`` answers for the
selected task; the window signed in to the real reference server, the task
rows arriving as the engine's events do (on the service's bus). Then, against
real tasks: a refused action shows the translated reason in the status bar,
a keyboard shortcut acts on the selected task, the confirmations of cancel
and delete are opened (not exec'd) and "keep" changes nothing, and an action
the selected task does not allow does nothing even when triggered.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from manuscript_gui.config import Settings, app_paths
from manuscript_gui.core.actions import Action, allowed_actions
from manuscript_gui.core.events import SchedulerState, TaskAdded
from manuscript_gui.domain import StopReason, TaskRecord, TaskStatus
from manuscript_gui.reference_server import ServerHandle
from manuscript_gui.services.exports import ExportService, SelectionItem, ServiceOptions
from manuscript_gui.ui import texts
from manuscript_gui.ui.actions import TASK_ACTIONS, WindowActions
from manuscript_gui.ui.bridge import EventBridge
from manuscript_gui.ui.main_window import MainWindow
from tests.ui.conftest import run

WAIT = 30_000


@pytest.fixture
def service(qloop: qasync.QEventLoop, qtbot: QtBot) -> Iterator[ExportService]:
    # The queue is held: nothing runs unless a test says so, states stay put.
    svc = ExportService(
        Settings(concurrency=2, retries=1),
        paths=app_paths(),
        options=ServiceOptions(fsync=False, autostart=False),
    )
    yield svc
    run(qtbot, svc.close())


@pytest.fixture
def window(
    service: ExportService, fresh_server: ServerHandle, qtbot: QtBot, tmp_path: Path
) -> MainWindow:
    bridge = EventBridge(service.events)
    win = MainWindow(
        service, Settings(), settings_path=tmp_path / "config" / "settings.json", bridge=bridge
    )
    bridge.setParent(win)
    qtbot.addWidget(win)
    win.show()
    run(qtbot, service.session.sign_in(fresh_server.base_url, "demo", "demo", "auditor"))
    qtbot.waitUntil(lambda: win.showing_tasks, timeout=WAIT)
    qtbot.waitUntil(lambda: not win.busy, timeout=WAIT)
    return win


def record(task_id: int, status: TaskStatus, *, failed: int = 0, position: int) -> TaskRecord:
    now = datetime.now(UTC)
    return TaskRecord(
        id=task_id,
        name=f"task {task_id}",
        target_dir="/tmp/out",
        selection={"items": []},
        status=status,
        reason=StopReason.BY_USER if status is TaskStatus.PAUSED else None,
        reason_detail=None,
        position=position,
        total_files=10,
        succeeded=10 - failed if status is TaskStatus.COMPLETED else 0,
        failed=failed,
        total_bytes=1000,
        done_bytes=0,
        created_at=now,
        updated_at=now,
        finished_at=None,
    )


#: (state, stored status, failed files, running, place in the list of three)
STATES = [
    ("initializing", TaskStatus.INITIALIZING, 0, False, 1),
    ("waiting, first", TaskStatus.WAITING, 0, False, 0),
    ("waiting, in the middle", TaskStatus.WAITING, 0, False, 1),
    ("waiting, last", TaskStatus.WAITING, 0, False, 2),
    ("running", TaskStatus.WAITING, 0, True, 0),
    ("running, in the middle", TaskStatus.WAITING, 0, True, 1),
    ("paused", TaskStatus.PAUSED, 0, False, 1),
    ("paused with failures", TaskStatus.PAUSED, 2, False, 1),
    ("completed", TaskStatus.COMPLETED, 0, False, 1),
    ("completed with failures", TaskStatus.COMPLETED, 3, False, 2),
    ("canceled", TaskStatus.CANCELED, 0, False, 0),
    ("canceled with failures", TaskStatus.CANCELED, 1, False, 2),
]


@pytest.mark.parametrize(
    ("status", "failed", "running", "place"),
    [s[1:] for s in STATES],
    ids=[s[0] for s in STATES],
)
def test_task_actions_are_enabled_exactly_as_allowed_actions_says(
    window: MainWindow,
    service: ExportService,
    qtbot: QtBot,
    status: TaskStatus,
    failed: int,
    running: bool,
    place: int,
) -> None:
    ids = [101, 102, 103]
    target_id = ids[place]
    tasks = [
        record(
            task_id,
            status if task_id == target_id else TaskStatus.WAITING,
            failed=failed if task_id == target_id else 0,
            position=i + 1,
        )
        for i, task_id in enumerate(ids)
    ]
    # The rows arrive as the engine's events do (the bus → the bridge → the window).
    for task in tasks:
        service.events.publish(TaskAdded(task))
    service.events.publish(SchedulerState(target_id if running else None, True))
    qtbot.waitUntil(lambda: window.task_model.rowCount() == 3, timeout=WAIT)
    window.select_task(target_id)
    assert window.selected_task_id == target_id

    target = tasks[place]
    expected = allowed_actions(target, running, first=place == 0, last=place == 2)
    assert window.window_actions.enabled_task_actions() == expected
    # The same QActions sit in the toolbar, the task menu and the context menu.
    task_actions = set(window.window_actions.task.values())
    assert {a for a in window.task_menu.actions() if not a.isSeparator()} == task_actions
    in_context = {a for a in window.context_menu.actions() if not a.isSeparator()}
    assert in_context == task_actions | {window.window_actions.new_export}
    assert {a for a in window.toolbar.actions() if a.isEnabled() and not a.isSeparator()} == {
        window.window_actions.task[a] for a in expected
    } | {window.window_actions.new_export}

    # Nothing selected: no task action.
    window.select_task(None)
    assert window.window_actions.enabled_task_actions() == frozenset()
    assert window.detail.task_id is None


def test_every_action_has_its_label_and_a_distinct_shortcut(qapp: object) -> None:
    actions = WindowActions()
    for action in TASK_ACTIONS:
        assert actions.task[action].text() == texts.action_text(action)
        assert not actions.task[action].isEnabled()
    shortcuts = [a.shortcut().toString() for a in actions.all() if a is not actions.sign_out]
    assert all(shortcuts)
    assert len(set(shortcuts)) == len(shortcuts)
    assert actions.new_export.shortcut() == QKeySequence(QKeySequence.StandardKey.New)
    # Signed out: task actions, new export and log out are off; signing in, settings, quit on.
    actions.update_for(frozenset(TASK_ACTIONS), signed_in=False)
    assert actions.enabled_task_actions() == frozenset()
    assert not actions.new_export.isEnabled()
    assert not actions.sign_out.isEnabled()
    signed_out_label = actions.sign_in.text()
    actions.update_for(frozenset({Action.PAUSE}), signed_in=True)
    assert actions.enabled_task_actions() == {Action.PAUSE}
    assert actions.sign_in.text() != signed_out_label  # "Switch user…"


def _waiting_task(
    window: MainWindow, service: ExportService, qtbot: QtBot, target: Path
) -> TaskRecord:
    projects = run(qtbot, service.projects())
    project = projects[0]
    task = run(qtbot, service.create_export([SelectionItem(project.id, project.name)], target))
    run(qtbot, service.wait_listing(task.id))

    def waiting() -> bool:
        row = window.task_model.row_of(task.id)
        return row is not None and window.task_model.task_at(row).status is TaskStatus.WAITING

    qtbot.waitUntil(waiting, timeout=WAIT)
    window.select_task(task.id)
    return task


def test_a_refused_action_shows_its_reason_in_the_status_bar(
    window: MainWindow, service: ExportService, qtbot: QtBot, tmp_path: Path
) -> None:
    task = _waiting_task(window, service, qtbot, tmp_path / "out")
    # The runner is asked directly for what the buttons would never offer: the
    # service refuses, the window says why.
    window.runner.trigger(Action.RESUME, task)
    expected = texts.action_error_text("not_allowed", {"action": "resume", "status": "waiting"})
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == expected, timeout=WAIT)


def test_an_action_the_task_does_not_allow_does_nothing(
    window: MainWindow, service: ExportService, qtbot: QtBot, tmp_path: Path
) -> None:
    task = _waiting_task(window, service, qtbot, tmp_path / "out")
    assert Action.DELETE not in window.window_actions.enabled_task_actions()
    window.trigger(Action.DELETE)  # e.g. a stale shortcut: the window checks again
    assert window.runner.confirmation is None
    assert not window.runner.jobs.busy
    assert window.task_model.row_of(task.id) is not None


def test_a_shortcut_acts_on_the_selected_task(
    window: MainWindow, service: ExportService, qtbot: QtBot, tmp_path: Path
) -> None:
    task = _waiting_task(window, service, qtbot, tmp_path / "out")
    window.activateWindow()
    window.task_view.setFocus()
    qtbot.keyClick(window.task_view, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)

    def paused() -> bool:
        return window.selected_task() is not None and window.selected_task().status is (  # type: ignore[union-attr]
            TaskStatus.PAUSED
        )

    qtbot.waitUntil(paused, timeout=WAIT)
    assert run(qtbot, service.task(task.id)).reason == StopReason.BY_USER


def test_cancel_and_delete_ask_first_without_blocking(
    window: MainWindow, service: ExportService, qtbot: QtBot, tmp_path: Path
) -> None:
    task = _waiting_task(window, service, qtbot, tmp_path / "out")
    window.window_actions.task[Action.CANCEL].trigger()
    box = window.runner.confirmation
    assert isinstance(box, QMessageBox)  # open() returned: the loop keeps running
    assert box.isVisible()
    assert box.textFormat() == Qt.TextFormat.PlainText
    assert texts.display_safe(task.name) in box.text()
    keep = next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.RejectRole)
    # The buttons say what they do ("取消" alone reads as "close this box").
    assert keep.text() == window.runner.tr("Keep exporting")
    assert box.defaultButton() is keep
    keep.click()
    qtbot.waitUntil(lambda: window.runner.confirmation is None, timeout=WAIT)
    qtbot.waitUntil(lambda: not window.busy, timeout=WAIT)
    assert run(qtbot, service.task(task.id)).status is TaskStatus.WAITING

    window.window_actions.task[Action.CANCEL].trigger()
    box = window.runner.confirmation
    assert isinstance(box, QMessageBox)
    yes = next(
        b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.DestructiveRole
    )
    assert yes.text() == window.runner.tr("Cancel export")
    yes.click()

    def canceled() -> bool:
        row = window.task_model.row_of(task.id)
        return row is not None and window.task_model.task_at(row).status is TaskStatus.CANCELED

    qtbot.waitUntil(canceled, timeout=WAIT)
    qtbot.waitUntil(
        lambda: Action.DELETE in window.window_actions.enabled_task_actions(), timeout=WAIT
    )
    window.window_actions.task[Action.DELETE].trigger()
    box = window.runner.confirmation
    assert isinstance(box, QMessageBox)
    assert {b.text() for b in box.buttons()} == {
        texts.action_text(Action.DELETE),
        window.runner.tr("Keep task"),
    }
    box.reject()  # Escape / closing the box: keep
    qtbot.waitUntil(lambda: window.runner.confirmation is None, timeout=WAIT)
    assert window.task_model.row_of(task.id) is not None


def test_move_up_and_down_keep_the_selection_and_follow_the_edges(
    window: MainWindow, service: ExportService, qtbot: QtBot, tmp_path: Path
) -> None:
    first = _waiting_task(window, service, qtbot, tmp_path / "a")
    second = _waiting_task(window, service, qtbot, tmp_path / "b")
    assert window.task_model.task_ids() == [first.id, second.id]
    assert window.selected_task_id == second.id
    assert Action.MOVE_UP in window.window_actions.enabled_task_actions()
    assert Action.MOVE_DOWN not in window.window_actions.enabled_task_actions()

    window.window_actions.task[Action.MOVE_UP].trigger()
    qtbot.waitUntil(lambda: window.task_model.task_ids() == [second.id, first.id], timeout=WAIT)
    assert window.selected_task_id == second.id  # the selection moved with its row
    assert window.task_view.selectionModel().selectedRows()[0].row() == 0
    assert window.window_actions.enabled_task_actions() == allowed_actions(
        window.selected_task(), False, first=True, last=False
    )
    assert [t.id for t in run(qtbot, service.tasks())] == [second.id, first.id]

    window.window_actions.task[Action.MOVE_DOWN].trigger()
    qtbot.waitUntil(lambda: window.task_model.task_ids() == [first.id, second.id], timeout=WAIT)
    assert window.selected_task_id == second.id
    assert Action.MOVE_DOWN not in window.window_actions.enabled_task_actions()
