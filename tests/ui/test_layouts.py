"""Every widget of every window and dialog is laid out (nothing piled up at (0, 0)).

The kind: a field created and labelled but never added to its layout shows on
top of its neighbours (found in the settings dialog's screenshots). Each
dialog and the main window, opened on the real reference server, is checked
with :func:`~tests.ui.layout_check.unplaced_widgets`, in both languages.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from pytestqt.qtbot import QtBot

from manuscript_gui.config import Settings, app_paths
from manuscript_gui.reference_server import ServerHandle
from manuscript_gui.services.exports import ExportService, SelectionItem, ServiceOptions
from manuscript_gui.ui import i18n
from manuscript_gui.ui.bridge import EventBridge
from manuscript_gui.ui.dialogs.login import LoginDialog
from manuscript_gui.ui.dialogs.new_export import NewExportDialog
from manuscript_gui.ui.dialogs.settings import SettingsDialog
from manuscript_gui.ui.main_window import MainWindow
from tests.ui.conftest import run
from tests.ui.layout_check import unplaced_widgets

WAIT = 30_000


@pytest.fixture(params=["zh_CN", "en"])
def language(request: pytest.FixtureRequest) -> Iterator[str]:
    translation = i18n.install(request.param)
    yield request.param
    translation.remove()


@pytest.fixture
def service(qloop: qasync.QEventLoop, qtbot: QtBot) -> Iterator[ExportService]:
    svc = ExportService(
        Settings(concurrency=2, retries=1), paths=app_paths(), options=ServiceOptions(fsync=False)
    )
    yield svc
    run(qtbot, svc.close())


def test_the_dialogs_and_the_window_lay_out_every_widget(
    language: str,
    service: ExportService,
    fresh_server: ServerHandle,
    qtbot: QtBot,
    tmp_path: Path,
) -> None:
    settings_file = tmp_path / "config" / "settings.json"
    login = LoginDialog(service, Settings(), settings_file=settings_file)
    qtbot.addWidget(login)
    login.open()
    qtbot.waitExposed(login)
    assert unplaced_widgets(login) == []
    login.reject()

    settings = SettingsDialog(Settings(), settings_file=settings_file)
    qtbot.addWidget(settings)
    settings.open()
    qtbot.waitExposed(settings)
    assert unplaced_widgets(settings) == []
    settings.reject()

    run(qtbot, service.session.sign_in(fresh_server.base_url, "demo", "demo", "auditor"))
    bridge = EventBridge(service.events)
    window = MainWindow(service, Settings(), settings_path=settings_file, bridge=bridge)
    bridge.setParent(window)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: not window.busy, timeout=WAIT)
    assert unplaced_widgets(window) == []  # the empty queue's hint

    projects = run(qtbot, service.projects())
    item = SelectionItem(projects[0].id, projects[0].name)
    task = run(qtbot, service.create_export([item], tmp_path / "out"))
    qtbot.waitUntil(lambda: window.task_model.row_of(task.id) is not None, timeout=WAIT)
    window.select_task(task.id)
    qtbot.waitUntil(lambda: window.showing_tasks, timeout=WAIT)
    assert unplaced_widgets(window) == []  # the task list and the detail pane

    new_export = NewExportDialog(service, Settings(default_export_dir=str(tmp_path)))
    qtbot.addWidget(new_export)
    new_export.open()
    qtbot.waitExposed(new_export)
    assert unplaced_widgets(new_export) == []
    new_export.reject()
