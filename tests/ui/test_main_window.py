"""The main window against the real reference server (issue #8, "Done when").

Real widgets (offscreen), a real ``ExportService`` with real SQLite databases,
HTTP to the reference server on loopback. Each test signs in (through the
sign-in dialog or the service), exports, and drives the window's own actions:
pause / resume / cancel from the toolbar's actions, retry failed files, switch
identity, log out (no request afterwards, witnessed by a recording proxy), a
token revoked on the server (the sign-in dialog opens with the reason); the
detail pane's filters and search; the remembered layout.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QHeaderView, QMessageBox
from pytestqt.exceptions import TimeoutError
from pytestqt.qtbot import QtBot

from manuscript_gui.config import Settings, app_paths
from manuscript_gui.core.actions import Action, allowed_actions_in_queue
from manuscript_gui.core.events import ListingProgress, SessionChanged, TaskAdded
from manuscript_gui.domain import SessionChange, StopReason, TaskRecord, TaskStatus
from manuscript_gui.reference_server import DemoSpec, ServerHandle
from manuscript_gui.services.exports import ExportService, SelectionItem, ServiceOptions
from manuscript_gui.services.reads import FileFilter
from manuscript_gui.ui import i18n, texts
from manuscript_gui.ui.bridge import EventBridge
from manuscript_gui.ui.dialogs.login import LoginDialog
from manuscript_gui.ui.dialogs.new_export import NewExportDialog
from manuscript_gui.ui.dialogs.settings import SettingsDialog
from manuscript_gui.ui.main_window import DEFAULT_SIZE, LAYOUT_FILENAME, MainWindow
from manuscript_gui.ui.models import file_table
from manuscript_gui.ui.models.task_table import (
    COL_FAILED,
    COL_FILES,
    COL_NAME,
    COL_PROGRESS,
    COL_SIZE,
    COL_SPEED,
    COL_STATUS,
    COL_TIME_LEFT,
)
from tests.e2e.proxy import RecordingProxy
from tests.fixtures_server import Admin
from tests.ui.conftest import run

WAIT = 30_000

#: Larger files than the tiny demo: a throttled server keeps a task running for a while.
SLOW = DemoSpec(
    seed=21,
    files_per_project=10,
    min_size=40_000,
    max_size=90_000,
    large_project_files=0,
    wide_folder_children=0,
)


# ----------------------------------------------------------------------- fixtures


@pytest.fixture
def service(qloop: qasync.QEventLoop, qtbot: QtBot) -> Iterator[ExportService]:
    svc = ExportService(
        Settings(concurrency=2, retries=1),
        paths=app_paths(),
        options=ServiceOptions(fsync=False, backoff_base=0.05),
    )
    yield svc
    run(qtbot, svc.close())


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "settings.json"


def make_window(service: ExportService, qtbot: QtBot, settings_path: Path) -> MainWindow:
    bridge = EventBridge(service.events)
    window = MainWindow(service, Settings(), settings_path=settings_path, bridge=bridge)
    bridge.setParent(window)
    qtbot.addWidget(window)
    window.show()
    return window


@pytest.fixture
def window(service: ExportService, qtbot: QtBot, settings_path: Path) -> MainWindow:
    return make_window(service, qtbot, settings_path)


def sign_in(
    qtbot: QtBot,
    window: MainWindow,
    service: ExportService,
    url: str,
    user: str = "demo",
    user_type: str = "auditor",
) -> None:
    run(qtbot, service.session.sign_in(url, user, user, user_type))
    qtbot.waitUntil(lambda: window.showing_tasks, timeout=WAIT)
    qtbot.waitUntil(lambda: not window.busy, timeout=WAIT)


def create_export(
    qtbot: QtBot, service: ExportService, target: Path, project_id: str = "prj-1"
) -> TaskRecord:
    projects = run(qtbot, service.projects())
    project = next(p for p in projects if p.id == project_id)
    return run(qtbot, service.create_export([SelectionItem(project.id, project.name)], target))


def shown(window: MainWindow, task_id: int) -> TaskRecord:
    row = window.task_model.row_of(task_id)
    assert row is not None, f"task {task_id} is not in the list"
    return window.task_model.task_at(row)


def wait_status(
    qtbot: QtBot,
    window: MainWindow,
    task_id: int,
    *statuses: TaskStatus,
    running: bool | None = None,
) -> TaskRecord:
    def ok() -> bool:
        row = window.task_model.row_of(task_id)
        if row is None:
            return False
        task = window.task_model.task_at(row)
        if task.status not in statuses:
            return False
        return running is None or (window.task_model.running_task_id == task_id) == running

    try:
        qtbot.waitUntil(ok, timeout=WAIT)
    except TimeoutError as exc:
        row = window.task_model.row_of(task_id)
        now = None if row is None else window.task_model.task_at(row)
        raise AssertionError(
            f"task {task_id} never became {statuses} (running={running}): now {now}, "
            f"running task {window.task_model.running_task_id}"
        ) from exc
    return shown(window, task_id)


def enabled(window: MainWindow) -> frozenset[Action]:
    return window.window_actions.enabled_task_actions()


def expected_enabled(qtbot: QtBot, window: MainWindow, service: ExportService) -> frozenset[Action]:
    """What the service says the selected task allows (``core.actions`` over its own list)."""
    selected = window.selected_task_id
    assert selected is not None
    tasks = run(qtbot, service.tasks())
    expected = allowed_actions_in_queue(tasks, service.running_task_id)[selected]
    assert run(qtbot, service.allowed(selected)) == expected
    return expected


def click_confirmation(qtbot: QtBot, window: MainWindow, *, yes: bool) -> None:
    qtbot.waitUntil(lambda: window.runner.confirmation is not None, timeout=WAIT)
    box = window.runner.confirmation
    assert isinstance(box, QMessageBox)
    assert box.isVisible()
    wanted = QMessageBox.ButtonRole.DestructiveRole if yes else QMessageBox.ButtonRole.RejectRole
    button = next(b for b in box.buttons() if box.buttonRole(b) == wanted)
    button.click()
    qtbot.waitUntil(lambda: window.runner.confirmation is None, timeout=WAIT)


# ----------------------------------------------------------------------- tests


def test_signed_out_the_table_gives_way_to_a_sign_in_prompt(
    window: MainWindow, qtbot: QtBot
) -> None:
    assert window.stack.currentWidget() is window.prompt
    assert window.prompt_button.isVisible()
    assert enabled(window) == frozenset()
    acts = window.window_actions
    assert not acts.new_export.isEnabled()
    assert not acts.sign_out.isEnabled()
    assert acts.sign_in.isEnabled()
    assert acts.settings.isEnabled()
    assert acts.quit.isEnabled()
    assert window.queue_label.text() == texts.queue_state_text(False, False)
    assert not window.user_label.isVisible()
    window.prompt_button.click()
    assert isinstance(window.login_dialog, LoginDialog)
    assert window.login_dialog.isVisible()
    window.login_dialog.reject()
    qtbot.waitUntil(lambda: window.login_dialog is None, timeout=WAIT)


def test_sign_in_through_the_dialog_then_an_export_completes_in_the_table(
    window: MainWindow,
    service: ExportService,
    fresh_server: ServerHandle,
    qtbot: QtBot,
    tmp_path: Path,
    qtmodeltester: Any,
) -> None:
    window.window_actions.sign_in.trigger()
    dialog = window.login_dialog
    assert isinstance(dialog, LoginDialog)
    dialog.server_edit.setText(fresh_server.base_url)
    dialog.user_edit.setText("demo")
    dialog.password_edit.setText("demo")
    dialog.sign_in_button.click()
    # demo has two identities: the dialog offers them after the password check.
    qtbot.waitUntil(lambda: len(dialog.choices) == 2, timeout=WAIT)
    dialog.identity_combo.setCurrentIndex(dialog.identity_combo.findData("manager"))
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: window.login_dialog is None, timeout=WAIT)
    session = service.session.current
    assert session is not None
    assert session.user_type == "manager"
    assert window.showing_tasks
    assert "演示用户" in window.user_label.text()
    assert "项目经理" in window.identity_label.text()
    assert fresh_server.base_url in window.server_label.text()
    assert window.window_actions.new_export.isEnabled()
    assert window.window_actions.sign_in.text() != window.prompt_button.text()  # switch user

    # No task yet: a hint and its button open the new-export dialog. Tick a project,
    # a target folder, create.
    qtbot.waitUntil(lambda: not window.busy, timeout=WAIT)
    assert window.showing_empty_hint
    window.empty_button.click()
    new = window.new_export_dialog
    assert isinstance(new, NewExportDialog)
    qtbot.waitUntil(lambda: bool(new.projects()), timeout=WAIT)
    node = new.projects()[0]
    node.setCheckState(0, Qt.CheckState.Checked)
    new.target_edit.setText(str(tmp_path / "out"))
    new.create_button.click()
    qtbot.waitUntil(lambda: window.new_export_dialog is None, timeout=WAIT)
    qtbot.waitUntil(lambda: window.task_model.rowCount() == 1, timeout=WAIT)
    task = window.task_model.task_at(0)
    assert task.selection["items"][0]["projectId"] == node.project.id
    assert not window.showing_empty_hint
    assert window.task_view.isVisible()
    assert window.selected_task_id == task.id  # the only task is selected
    done = wait_status(qtbot, window, task.id, TaskStatus.COMPLETED, running=False)
    assert done.succeeded == done.total_files > 0
    assert done.failed == 0
    row = window.row_index(task.id).row()
    status = window.proxy.index(row, COL_STATUS).data()
    assert status == texts.task_status_text(done, False)
    assert window.proxy.index(row, COL_NAME).data() == texts.display_safe(done.name)
    # Completed without failures: delete and open folder only.
    qtbot.waitUntil(lambda: enabled(window) == {Action.DELETE, Action.OPEN_FOLDER}, timeout=WAIT)
    assert window.queue_label.text() == texts.queue_state_text(False, True)
    # The detail pane shows every file as succeeded.
    qtbot.waitUntil(lambda: window.detail.model.rowCount() == done.total_files, timeout=WAIT)
    qtbot.waitUntil(
        lambda: window.detail.counts.get(FileFilter.SUCCEEDED) == done.total_files, timeout=WAIT
    )
    qtmodeltester.check(window.proxy)
    qtmodeltester.check(window.detail.model)


def test_pause_resume_and_cancel_from_the_toolbar(
    service: ExportService, make_server: Any, qtbot: QtBot, tmp_path: Path, settings_path: Path
) -> None:
    server = make_server(demo=SLOW)
    Admin(server.base_url).faults(bandwidth_bps=40_000)
    window = make_window(service, qtbot, settings_path)
    sign_in(qtbot, window, service, server.base_url)
    task = create_export(qtbot, service, tmp_path / "out")
    wait_status(qtbot, window, task.id, TaskStatus.WAITING, running=True)
    window.select_task(task.id)
    qtbot.waitUntil(
        lambda: enabled(window) == expected_enabled(qtbot, window, service), timeout=WAIT
    )
    assert enabled(window) == {Action.PAUSE, Action.CANCEL, Action.OPEN_FOLDER}
    assert window.queue_label.text() == texts.queue_state_text(True, True)
    qtbot.waitUntil(lambda: window.speed_label.text() != "", timeout=WAIT)

    window.window_actions.task[Action.PAUSE].trigger()
    paused = wait_status(qtbot, window, task.id, TaskStatus.PAUSED, running=False)
    assert paused.reason == StopReason.BY_USER
    qtbot.waitUntil(
        lambda: enabled(window) == expected_enabled(qtbot, window, service), timeout=WAIT
    )
    assert enabled(window) == {Action.RESUME, Action.CANCEL, Action.OPEN_FOLDER}
    assert window.queue_label.text() == texts.queue_state_text(False, True)

    window.window_actions.task[Action.RESUME].trigger()
    wait_status(qtbot, window, task.id, TaskStatus.WAITING, running=True)

    # Cancel asks first; "keep" changes nothing.
    window.window_actions.task[Action.CANCEL].trigger()
    click_confirmation(qtbot, window, yes=False)
    assert service.running_task_id == task.id
    window.window_actions.task[Action.CANCEL].trigger()
    click_confirmation(qtbot, window, yes=True)
    canceled = wait_status(qtbot, window, task.id, TaskStatus.CANCELED, running=False)
    assert canceled.status is TaskStatus.CANCELED
    qtbot.waitUntil(lambda: enabled(window) == {Action.DELETE, Action.OPEN_FOLDER}, timeout=WAIT)

    # Delete asks too, then the row goes.
    window.window_actions.task[Action.DELETE].trigger()
    click_confirmation(qtbot, window, yes=True)
    qtbot.waitUntil(lambda: window.task_model.row_of(task.id) is None, timeout=WAIT)
    assert window.selected_task_id is None
    assert enabled(window) == frozenset()


def test_retry_failed_files_and_the_failure_list(
    window: MainWindow,
    service: ExportService,
    fresh_server: ServerHandle,
    admin: Admin,
    qtbot: QtBot,
    tmp_path: Path,
) -> None:
    sign_in(qtbot, window, service, fresh_server.base_url)
    broken = _first_file_id(fresh_server, "prj-1")
    admin.faults(error_files=[broken], error_status=500, retry_after_s=None)
    task = create_export(qtbot, service, tmp_path / "out")
    done = wait_status(qtbot, window, task.id, TaskStatus.COMPLETED, running=False)
    assert done.failed == 1
    window.select_task(task.id)
    qtbot.waitUntil(
        lambda: (
            enabled(window)
            == {Action.RETRY_FAILED, Action.DELETE, Action.OPEN_FOLDER, Action.FAILURE_REPORT}
        ),
        timeout=WAIT,
    )
    assert (
        texts.task_status_text(done, False)
        in window.proxy.index(window.row_index(task.id).row(), COL_STATUS).data()
    )

    # The failure list: a save dialog (opened, not exec'd), then the CSV. A place that
    # cannot be written first (its "folder" is a file): said in the status bar.
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    window.window_actions.task[Action.FAILURE_REPORT].trigger()
    qtbot.waitUntil(lambda: window.runner.save_dialog is not None, timeout=WAIT)
    dialog = window.runner.save_dialog
    assert isinstance(dialog, QFileDialog)
    dialog.fileSelected.emit(str(blocker / "failures.csv"))
    dialog.done(QFileDialog.DialogCode.Accepted)
    qtbot.waitUntil(lambda: "a-file" in window.statusBar().currentMessage(), timeout=WAIT)
    window.window_actions.task[Action.FAILURE_REPORT].trigger()
    qtbot.waitUntil(lambda: window.runner.save_dialog is not None, timeout=WAIT)
    dialog = window.runner.save_dialog
    assert isinstance(dialog, QFileDialog)
    report = tmp_path / "failures.csv"
    dialog.fileSelected.emit(str(report))
    dialog.done(QFileDialog.DialogCode.Accepted)
    qtbot.waitUntil(report.exists, timeout=WAIT)
    qtbot.waitUntil(lambda: not window.busy, timeout=WAIT)
    lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("path,")

    # Retry: the failed file is fetched again and the task completes clean.
    admin.reset()
    window.window_actions.task[Action.RETRY_FAILED].trigger()
    qtbot.waitUntil(lambda: shown(window, task.id).failed == 0, timeout=WAIT)
    again = wait_status(qtbot, window, task.id, TaskStatus.COMPLETED, running=False)
    assert again.failed == 0
    assert again.succeeded == again.total_files


def test_open_folder_hands_the_export_folder_to_the_desktop(
    window: MainWindow,
    service: ExportService,
    fresh_server: ServerHandle,
    qtbot: QtBot,
    tmp_path: Path,
) -> None:
    sign_in(qtbot, window, service, fresh_server.base_url)
    task = create_export(qtbot, service, tmp_path / "out")
    wait_status(qtbot, window, task.id, TaskStatus.COMPLETED, running=False)
    opened: list[str] = []
    window.runner.open_url = lambda url: opened.append(url.toLocalFile())
    window.select_task(task.id)
    window.window_actions.task[Action.OPEN_FOLDER].trigger()
    qtbot.waitUntil(lambda: bool(opened), timeout=WAIT)
    assert Path(opened[0]) == tmp_path / "out"


def test_switching_identity_shows_the_other_queue_and_stops_the_running_task(
    service: ExportService, make_server: Any, qtbot: QtBot, tmp_path: Path, settings_path: Path
) -> None:
    server = make_server(demo=SLOW)
    Admin(server.base_url).faults(bandwidth_bps=40_000)
    window = make_window(service, qtbot, settings_path)
    sign_in(qtbot, window, service, server.base_url, user_type="auditor")
    task = create_export(qtbot, service, tmp_path / "a")
    wait_status(qtbot, window, task.id, TaskStatus.WAITING, running=True)

    # Switch user from the menu: the same dialog, titled for a switch, the identity list.
    window.window_actions.sign_in.trigger()
    dialog = window.login_dialog
    assert isinstance(dialog, LoginDialog)
    assert dialog.server_edit.text() == server.base_url
    dialog.user_edit.setText("demo")
    dialog.password_edit.setText("demo")
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: len(dialog.choices) == 2, timeout=WAIT)
    dialog.identity_combo.setCurrentIndex(dialog.identity_combo.findData("manager"))
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: window.login_dialog is None, timeout=WAIT)
    qtbot.waitUntil(lambda: not window.busy, timeout=WAIT)

    # The other identity: its own (empty) list and queue.
    assert "项目经理" in window.identity_label.text()
    assert window.task_model.rowCount() == 0
    Admin(server.base_url).reset()
    manager_projects = server.facts.projects_for("demo", "manager")
    other = create_export(qtbot, service, tmp_path / "m", manager_projects[-1])
    done = wait_status(qtbot, window, other.id, TaskStatus.COMPLETED)
    assert window.task_model.task_ids() == [other.id]
    assert done.target_dir == str(tmp_path / "m")

    # Back: the first identity's list, its task stopped by the switch with that reason.
    sign_in(qtbot, window, service, server.base_url, user_type="auditor")
    stopped = wait_status(qtbot, window, task.id, TaskStatus.PAUSED, running=False)
    assert stopped.reason == StopReason.SWITCHED_USER
    assert stopped.target_dir == str(tmp_path / "a")
    assert window.task_model.rowCount() == 1
    assert "审计员" in window.identity_label.text()


def test_log_out_stops_the_queue_and_no_request_follows(
    service: ExportService, make_server: Any, qtbot: QtBot, tmp_path: Path, settings_path: Path
) -> None:
    server = make_server(demo=SLOW)
    Admin(server.base_url).faults(bandwidth_bps=40_000)
    proxy = RecordingProxy(server.base_url)
    proxy.start()
    try:
        window = make_window(service, qtbot, settings_path)
        sign_in(qtbot, window, service, proxy.base_url)
        task = create_export(qtbot, service, tmp_path / "out")
        wait_status(qtbot, window, task.id, TaskStatus.WAITING, running=True)
        window.window_actions.sign_out.trigger()
        qtbot.waitUntil(lambda: window.stack.currentWidget() is window.prompt, timeout=WAIT)
        qtbot.waitUntil(lambda: not window.busy, timeout=WAIT)
        assert window.task_model.rowCount() == 0
        assert window.detail.task_id is None
        assert window.queue_label.text() == texts.queue_state_text(False, False)
        assert enabled(window) == frozenset()
        assert service.session.current is None
        seen = len(proxy.requests)
        assert proxy.requests[-1].path.endswith("/auth/logout")
        qtbot.wait(1500)  # a window for a stray request, not a timing assertion
        assert len(proxy.requests) == seen

        # Signing in again shows the task, stopped with "logged out".
        sign_in(qtbot, window, service, proxy.base_url)
        stopped = wait_status(qtbot, window, task.id, TaskStatus.PAUSED, running=False)
        assert stopped.reason == StopReason.LOGGED_OUT
        status = window.proxy.index(window.row_index(task.id).row(), COL_STATUS).data()
        assert status == texts.task_status_text(stopped, False)
    finally:
        proxy.stop()


def test_a_revoked_token_opens_the_sign_in_dialog_with_the_reason(
    service: ExportService, make_server: Any, qtbot: QtBot, tmp_path: Path, settings_path: Path
) -> None:
    server = make_server(demo=SLOW)
    admin = Admin(server.base_url)
    admin.faults(bandwidth_bps=40_000)
    window = make_window(service, qtbot, settings_path)
    sign_in(qtbot, window, service, server.base_url)
    task = create_export(qtbot, service, tmp_path / "out")
    wait_status(qtbot, window, task.id, TaskStatus.WAITING, running=True)
    admin.revoke("demo")
    qtbot.waitUntil(lambda: window.login_dialog is not None, timeout=WAIT)
    dialog = window.login_dialog
    assert isinstance(dialog, LoginDialog)
    # A sentence (capitalised, with its advice), not the status cell's phrase.
    assert dialog.reason_label.text() == texts.session_change_text(SessionChange.LOGIN_EXPIRED)
    assert dialog.reason_label.text() != texts.stop_reason_text(StopReason.LOGIN_EXPIRED)
    assert window.stack.currentWidget() is window.prompt
    # Sign in again from that dialog: the task shows paused with its reason; resume it.
    admin.reset()
    dialog.server_edit.setText(server.base_url)
    dialog.user_edit.setText("demo")
    dialog.password_edit.setText("demo")
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: len(dialog.choices) == 2, timeout=WAIT)
    dialog.identity_combo.setCurrentIndex(dialog.identity_combo.findData("auditor"))
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: window.login_dialog is None, timeout=WAIT)
    paused = wait_status(qtbot, window, task.id, TaskStatus.PAUSED)
    assert paused.reason == StopReason.LOGIN_EXPIRED
    window.select_task(task.id)
    qtbot.waitUntil(lambda: Action.RESUME in enabled(window), timeout=WAIT)
    window.window_actions.task[Action.RESUME].trigger()
    wait_status(qtbot, window, task.id, TaskStatus.COMPLETED)


def test_the_detail_pane_filters_and_searches(
    window: MainWindow,
    service: ExportService,
    fresh_server: ServerHandle,
    admin: Admin,
    qtbot: QtBot,
    tmp_path: Path,
) -> None:
    sign_in(qtbot, window, service, fresh_server.base_url)
    broken = _first_file_id(fresh_server, "prj-1")
    admin.faults(error_files=[broken], error_status=500, retry_after_s=None)
    task = create_export(qtbot, service, tmp_path / "out")
    done = wait_status(qtbot, window, task.id, TaskStatus.COMPLETED, running=False)
    window.select_task(task.id)
    pane = window.detail
    qtbot.waitUntil(lambda: pane.counts.get(FileFilter.FAILED) == 1, timeout=WAIT)
    assert pane.counts[FileFilter.ALL] == done.total_files
    assert pane.counts[FileFilter.SUCCEEDED] == done.total_files - 1
    assert pane.filter_buttons[FileFilter.FAILED].text().endswith("(1)")

    pane.filter_buttons[FileFilter.FAILED].click()
    qtbot.waitUntil(lambda: not pane.busy and pane.model.rowCount() == 1, timeout=WAIT)
    failed = pane.model.file_at(0)
    assert failed.remote_id == broken
    assert pane.model.index(0, 4).data()  # the failure reason is shown

    pane.filter_buttons[FileFilter.ALL].click()
    qtbot.waitUntil(
        lambda: not pane.busy and pane.model.rowCount() == done.total_files, timeout=WAIT
    )
    # Search: typing is debounced, then one query on the paths. A working-paper index
    # number (e.g. "D5-1") names one paper; typed as keys (QTest types ASCII only).
    names = [Path(pane.model.file_at(r).local_path).name for r in range(pane.model.rowCount())]
    name = next(m[0] for n in names if (m := re.match(r"[A-Z]\d+-\d+", n)))
    qtbot.keyClicks(pane.search_edit, name)
    qtbot.waitUntil(lambda: pane.model.text == name and not pane.busy, timeout=WAIT)
    assert 1 <= pane.model.rowCount() < done.total_files
    assert all(
        name.lower() in pane.model.file_at(r).local_path.lower()
        for r in range(pane.model.rowCount())
    )
    pane.set_search("no-such-file-anywhere")
    qtbot.waitUntil(lambda: not pane.busy and pane.model.rowCount() == 0, timeout=WAIT)
    assert pane.message_label.isVisible()


def test_the_layout_is_remembered(
    service: ExportService, qtbot: QtBot, settings_path: Path
) -> None:
    first = make_window(service, qtbot, settings_path)
    first.resize(640, 480)  # the offscreen screen is 800×800
    header = first.task_view.horizontalHeader()
    header.resizeSection(COL_STATUS, 321)
    first.splitter.setSizes([200, 400])
    sizes = first.splitter.sizes()
    size = first.size()
    first.close()
    assert (settings_path.parent / LAYOUT_FILENAME).exists()

    second = make_window(service, qtbot, settings_path)
    assert second.task_view.horizontalHeader().sectionSize(COL_STATUS) == 321
    assert second.splitter.sizes() == sizes
    assert second.size() == size


def _first_file_id(server: ServerHandle, project_id: str) -> str:
    import httpx

    from tests.fixtures_server import login

    token = login(server.base_url, "wangwu", "wangwu", "qc")["token"]
    headers = {"Authorization": f"Bearer {token}"}
    todo = ["root"]
    found: list[str] = []
    with httpx.Client(base_url=server.base_url, trust_env=False, headers=headers) as client:
        while todo:
            folder = todo.pop()
            cursor: str | None = None
            while True:
                params = {"cursor": cursor} if cursor else {}
                page = client.get(
                    f"/api/v1/projects/{project_id}/folders/{folder}/children", params=params
                ).json()
                for item in page["items"]:
                    if item["kind"] == "file":
                        found.append(str(item["id"]))
                    else:
                        todo.append(item["id"])
                cursor = page.get("nextCursor")
                if not cursor:
                    break
    assert found, f"no file in {project_id}"
    # The smallest id is fetched first: its failure comes while the others still succeed.
    return sorted(found)[0]


def _record(task_id: int) -> TaskRecord:
    now = datetime.now(UTC)
    return TaskRecord(
        id=task_id,
        name=f"task {task_id}",
        target_dir="/tmp/out",
        selection={"items": []},
        status=TaskStatus.WAITING,
        reason=None,
        reason_detail=None,
        position=task_id,
        total_files=1,
        succeeded=0,
        failed=0,
        total_bytes=1,
        done_bytes=0,
        created_at=now,
        updated_at=now,
        finished_at=None,
    )


@pytest.mark.parametrize("switch", [False, True], ids=["same session", "after a switch"])
def test_task_events_during_a_reload_are_applied_only_to_their_own_session(
    window: MainWindow,
    service: ExportService,
    fresh_server: ServerHandle,
    qtbot: QtBot,
    switch: bool,
) -> None:
    sign_in(qtbot, window, service, fresh_server.base_url, user_type="auditor")
    window.reload_tasks()  # a reload in flight: task events wait for the fresh list
    service.events.publish(TaskAdded(_record(999)))
    assert window.task_model.row_of(999) is None
    if switch:
        # The switch lands while that reload is still out (as the bus delivers it).
        current = service.session.current
        assert current is not None
        other = dataclasses.replace(current, key=current.key + 1000, user_type="manager")
        service.events.publish(SessionChanged(SessionChange.SWITCHED, other, current))
    qtbot.waitUntil(lambda: not window.busy, timeout=WAIT)
    if switch:  # the other identity's list never shows the first one's task
        assert window.task_model.row_of(999) is None
    else:  # held back, then applied over the fresh list
        assert window.task_model.row_of(999) is not None


def test_settings_from_the_menu_apply_to_the_engine_at_once(
    window: MainWindow, service: ExportService, qtbot: QtBot, settings_path: Path
) -> None:
    window.window_actions.settings.trigger()
    dialog = window.settings_dialog
    assert isinstance(dialog, SettingsDialog)
    dialog.concurrency_spin.setValue(3)
    dialog.bandwidth_spin.setValue(256)
    dialog.bandwidth_unit.setCurrentIndex(0)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: window.settings_dialog is None, timeout=WAIT)
    limit = window.settings.bandwidth_limit_bps
    assert limit > 0
    assert window.settings.concurrency == 3
    assert service.settings.concurrency == 3  # the next run uses it
    assert service.limiter.rate == limit  # the running task too, at once
    assert settings_path.exists()  # saved by the dialog


def test_a_queue_another_process_runs_is_shown_read_only_until_it_is_free(
    service: ExportService, make_server: Any, qtbot: QtBot, tmp_path: Path, settings_path: Path
) -> None:
    """Another window (here: a second service in this process, with its own lock) runs
    the identity's queue: this window names it, allows only what changes nothing, and
    takes the queue over once the other lets go."""
    server = make_server(demo=SLOW)
    Admin(server.base_url).faults(bandwidth_bps=40_000)
    other = ExportService(
        Settings(concurrency=2),
        paths=app_paths(),
        options=ServiceOptions(fsync=False, lock_poll_s=0.05),
    )
    run(qtbot, other.session.sign_in(server.base_url, "demo", "demo", "auditor"))
    try:
        task = create_export(qtbot, other, tmp_path / "a")
        qtbot.waitUntil(lambda: other.running_task_id == task.id, timeout=WAIT)

        window = make_window(service, qtbot, settings_path)
        sign_in(qtbot, window, service, server.base_url, user_type="auditor")
        owner = service.queue_owner
        assert owner is not None
        assert owner.front_end == "window"
        qtbot.waitUntil(lambda: window.task_model.row_of(task.id) is not None, timeout=WAIT)
        window.select_task(task.id)
        assert window.queue_label.text() == texts.queue_holder_text(owner)
        assert str(owner.pid) in window.queue_label.text()
        assert window.allowed() == {Action.OPEN_FOLDER}
        assert run(qtbot, service.allowed(task.id)) == {Action.OPEN_FOLDER}
        enabled = {a for a, qa in window.window_actions.task.items() if qa.isEnabled()}
        assert enabled == {Action.OPEN_FOLDER}

        # The other window pauses its task and signs out: this one takes the queue over.
        run(qtbot, other.pause(task.id))
        run(qtbot, other.close())
        qtbot.waitUntil(lambda: service.queue_owner is None, timeout=WAIT)
        qtbot.waitUntil(
            lambda: window.queue_label.text() == texts.queue_state_text(False, True),
            timeout=WAIT,
        )
        wait_status(qtbot, window, task.id, TaskStatus.PAUSED)
        qtbot.waitUntil(lambda: Action.RESUME in window.allowed(), timeout=WAIT)
        Admin(server.base_url).reset()
        window.window_actions.task[Action.RESUME].trigger()
        wait_status(qtbot, window, task.id, TaskStatus.COMPLETED)
    finally:
        run(qtbot, other.close())


# ------------------------------------------------------------- the window's look


@pytest.fixture(params=["zh_CN", "en"])
def language(request: pytest.FixtureRequest) -> Iterator[str]:
    translation = i18n.install(request.param)
    try:
        yield request.param
    finally:
        translation.remove()
        i18n.uninstall()


def _every_status(count: int) -> list[TaskRecord]:
    """A task for every status the cell shows: every reason with a server detail and
    its parameters, many failures, a listing (``set_listing``), the running one (id 1)."""
    params = {"need": 5_000_000_000, "free": 1_300_000_000, "path": "/导出/D1", "files": 7}
    records = [
        dataclasses.replace(_record(1), status=TaskStatus.WAITING),
        dataclasses.replace(_record(2), status=TaskStatus.INITIALIZING),
        dataclasses.replace(_record(3), status=TaskStatus.COMPLETED, failed=count),
    ]
    for status in (TaskStatus.PAUSED, TaskStatus.CANCELED):
        for reason in [*StopReason, "reason_from_2030"]:
            records.append(
                dataclasses.replace(
                    _record(len(records) + 1),
                    status=status,
                    reason=reason,
                    reason_params=params,
                    reason_detail="401 unauthorized: the token was revoked by the server",
                )
            )
    return records


def test_the_status_column_fits_every_status_and_keeps_server_text_in_the_tooltip(
    language: str, service: ExportService, qtbot: QtBot, settings_path: Path
) -> None:
    """At the window's first size, in both languages: every status text fits its column
    (Qt's own size hint of each cell: dot, margins, bold for the running task), no
    English detail from the server in a cell, the whole sentence in its tooltip."""
    window = make_window(service, qtbot, settings_path)
    assert (window.width(), window.height()) == DEFAULT_SIZE
    window.stack.setCurrentWidget(window.splitter)  # the table, as when signed in
    window.tasks_stack.setCurrentWidget(window.task_view)
    view, model = window.task_view, window.task_model
    header = view.horizontalHeader()
    width = header.sectionSize(COL_STATUS)
    for record in _every_status(99_999):
        model.set_tasks([record])  # one row: always in the viewport, measured
        model.set_running(1 if record.id == 1 else None)
        if record.status is TaskStatus.INITIALIZING:
            model.set_listing(ListingProgress(record.id, found=99_999, found_bytes=1))
        cell = model.index(0, COL_STATUS)
        text = cell.data()
        assert view.sizeHintForColumn(COL_STATUS) <= width, (language, text, width)
        assert "401" not in text
        tooltip = cell.data(Qt.ItemDataRole.ToolTipRole)
        full = texts.task_status_text(record, record.id == 1, full=True)
        assert tooltip == texts.plain_tooltip(full) or (record.status is TaskStatus.INITIALIZING)
        if record.reason in (StopReason.LOGIN_EXPIRED, StopReason.SERVER_UNREACHABLE):
            assert "401 unauthorized" in tooltip
    # The whole table fits the window: no column pushed out of sight.
    qtbot.waitUntil(lambda: header.length() <= view.viewport().width(), timeout=WAIT)


def test_number_columns_are_narrow_and_the_name_takes_the_rest(
    language: str, service: ExportService, qtbot: QtBot, settings_path: Path
) -> None:
    window = make_window(service, qtbot, settings_path)
    window.stack.setCurrentWidget(window.splitter)
    window.tasks_stack.setCurrentWidget(window.task_view)
    header = window.task_view.horizontalHeader()
    nominal = {
        COL_PROGRESS: 140,
        COL_FILES: 90,
        COL_FAILED: 60,
        COL_SIZE: 80,
        COL_SPEED: 90,
        COL_TIME_LEFT: 80,
    }
    for col, width in nominal.items():
        # The nominal width, or a little more where the font or the label needs it.
        assert width <= header.sectionSize(col) <= width * 1.2, (col, header.sectionSize(col))
    assert header.sectionResizeMode(COL_NAME) == QHeaderView.ResizeMode.Stretch
    viewport = window.task_view.viewport()
    qtbot.waitUntil(lambda: header.length() == viewport.width(), timeout=WAIT)
    others = sum(header.sectionSize(c) for c in range(header.count()) if c != COL_NAME)
    assert header.sectionSize(COL_NAME) == viewport.width() - others
    assert header.sectionSize(COL_NAME) >= 300  # a long project name shows whole


def test_widths_the_user_never_changed_follow_todays_defaults(
    service: ExportService, qtbot: QtBot, settings_path: Path
) -> None:
    """A layout saved with other default widths (another language, an older version)
    keeps only the widths the user changed; the others are today's defaults."""
    first = make_window(service, qtbot, settings_path)
    header = first.task_view.horizontalHeader()
    header.resizeSection(COL_STATUS, 240)  # an older version's default, never touched
    header.resizeSection(COL_FAILED, 75)  # the user widened it
    first.close()
    store = QSettings(str(settings_path.parent / LAYOUT_FILENAME), QSettings.Format.IniFormat)
    defaults = first.default_column_widths
    store.setValue("tasks/default_widths", f"{COL_STATUS}:240 {COL_FAILED}:{defaults[COL_FAILED]}")
    store.sync()

    second = make_window(service, qtbot, settings_path)
    header = second.task_view.horizontalHeader()
    assert second.default_column_widths[COL_STATUS] != 240
    assert header.sectionSize(COL_STATUS) == second.default_column_widths[COL_STATUS]
    assert header.sectionSize(COL_FAILED) == 75


def test_the_detail_panes_title_is_not_flush_against_the_window_edge(
    window: MainWindow, qtbot: QtBot
) -> None:
    window.stack.setCurrentWidget(window.splitter)
    pane = window.detail
    qtbot.waitUntil(lambda: pane.title_label.isVisible(), timeout=WAIT)
    origin = QPoint(0, 0)
    table_left = pane.view.mapTo(window, origin).x()
    title_left = pane.title_label.mapTo(window, origin).x()
    # Where the cells' text starts: past the table's frame and the item's margin.
    assert 2 <= title_left - table_left <= 12
    search_right = pane.search_edit.mapTo(window, origin).x() + pane.search_edit.width()
    table_right = table_left + pane.view.width()
    assert 2 <= table_right - search_right <= 12


def test_files_in_flight_show_their_percent(
    service: ExportService, make_server: Any, qtbot: QtBot, tmp_path: Path, settings_path: Path
) -> None:
    """A throttled export: the rows of files being downloaded say "In progress · N%" from
    the bytes each has on disk (TaskProgress.in_flight_bytes), the word of the filter."""
    server = make_server(demo=SLOW)
    Admin(server.base_url).faults(bandwidth_bps=20_000)
    window = make_window(service, qtbot, settings_path)
    sign_in(qtbot, window, service, server.base_url)
    task = create_export(qtbot, service, tmp_path / "out")
    wait_status(qtbot, window, task.id, TaskStatus.WAITING, running=True)
    window.select_task(task.id)
    pane = window.detail
    qtbot.waitUntil(
        lambda: (
            pane.model.rowCount() == task.total_files
            or (pane.model.rowCount() > 0 and pane.model.exhausted)
        ),
        timeout=WAIT,
    )
    word = texts.file_filter_text(FileFilter.IN_PROGRESS)
    pattern = re.compile(re.escape(word) + r" · (\d+)%")
    seen: list[tuple[str, int]] = []

    def percent_shown() -> bool:
        for row in range(pane.model.rowCount()):
            text = pane.model.index(row, file_table.COL_STATUS).data()
            match = pattern.fullmatch(text)
            if match:
                seen.append((pane.model.file_at(row).local_path, int(match[1])))
        return any(0 < p < 100 for _, p in seen)

    qtbot.waitUntil(percent_shown, timeout=WAIT)
    progress = window.task_model.running_progress
    assert progress is not None
    assert len(progress.in_flight_bytes) == len(progress.in_flight_ids)
    run(qtbot, service.pause(task.id))
    wait_status(qtbot, window, task.id, TaskStatus.PAUSED, running=False)
    # Nothing in flight once paused: no row says "in progress" any more.
    qtbot.waitUntil(
        lambda: (
            not any(
                word in pane.model.index(r, file_table.COL_STATUS).data()
                for r in range(pane.model.rowCount())
            )
        ),
        timeout=WAIT,
    )


def test_help_opens_the_log_folder_and_tells_the_version_and_the_places(
    service: ExportService, qtbot: QtBot, settings_path: Path
) -> None:
    window = make_window(service, qtbot, settings_path)
    opened: list[str] = []
    window.runner.open_url = lambda url: opened.append(url.toLocalFile())
    assert window.open_log_action in window.help_menu.actions()
    window.open_log_action.trigger()
    log_dir = app_paths().log_dir
    qtbot.waitUntil(lambda: bool(opened), timeout=WAIT)
    assert opened == [str(log_dir)]
    assert log_dir.is_dir()

    window.about_action.trigger()
    box = window.about_box
    assert isinstance(box, QMessageBox)
    qtbot.waitUntil(box.isVisible, timeout=WAIT)
    text = box.text()
    from manuscript_gui import __version__

    for part in (__version__, str(app_paths().data_dir), str(settings_path), str(log_dir)):
        assert part in text
    assert box.textFormat() == Qt.TextFormat.PlainText
    window.about_action.trigger()  # a second click raises the same box
    assert window.about_box is box
    box.accept()
    qtbot.waitUntil(lambda: window.about_box is None, timeout=WAIT)
