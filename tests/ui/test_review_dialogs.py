"""Review (issue #8): folder paths as users type or paste them into the dialogs.

``~/底稿导出`` is how a user on Linux or macOS names a folder in the home folder (every
shell and file dialog takes it); the dialogs took it for a relative path and refused
it. Pasted paths with white space around them, ``.`` and ``..`` in them are made
usable the same way in the new-export and the settings dialogs (``dialogs.typed_path``).

The new-export dialog lists one account's projects: it closes when another user or
identity signs in (or everybody signs out) while it is open.

Real widgets (offscreen), the real reference server, real files.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from manuscript_gui.config import Settings, app_paths, load_settings
from manuscript_gui.domain import TaskRecord
from manuscript_gui.reference_server import ServerHandle
from manuscript_gui.services.exports import ExportService, ServiceOptions
from manuscript_gui.ui.bridge import EventBridge
from manuscript_gui.ui.dialogs import typed_path
from manuscript_gui.ui.dialogs.new_export import NewExportDialog
from manuscript_gui.ui.dialogs.settings import SettingsDialog
from manuscript_gui.ui.main_window import MainWindow
from tests.ui.conftest import run

WAIT = 30_000


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.setenv("USERPROFILE", str(folder))  # Windows' expanduser
    return folder


@pytest.fixture
def service(
    qloop: qasync.QEventLoop, fresh_server: ServerHandle, qtbot: QtBot
) -> Iterator[ExportService]:
    svc = ExportService(
        Settings(retries=1),
        paths=app_paths(),
        options=ServiceOptions(fsync=False, autostart=False),
    )
    run(qtbot, svc.session.sign_in(fresh_server.base_url, "demo", "demo", "auditor"))
    yield svc
    run(qtbot, svc.close())


def test_typed_path_expands_the_home_folder_and_normalises(home: Path) -> None:
    assert typed_path("  ~/底稿导出/./2025/../2026  ") == os.path.join(
        str(home), "底稿导出", "2026"
    )
    assert typed_path("~") == str(home)
    assert typed_path("/srv//exports/") == os.path.normpath("/srv//exports/")
    assert typed_path("exports") == "exports"  # relative: refused by the dialogs
    assert typed_path("  ") == ""


def test_the_new_export_takes_a_target_in_the_home_folder(
    qtbot: QtBot, service: ExportService, home: Path
) -> None:
    dialog = NewExportDialog(service, Settings())
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitUntil(lambda: not dialog.busy and bool(dialog.projects()), timeout=WAIT)
    project = next(n for n in dialog.projects() if n.project.id == "prj-3")
    project.setCheckState(0, Qt.CheckState.Checked)
    dialog.target_edit.setText(" ~/底稿导出/./2025 ")
    # The free space of the typed folder's volume is shown, as for a full path.
    qtbot.waitUntil(lambda: bool(dialog.free_label.text()), timeout=WAIT)
    with qtbot.waitSignal(dialog.created, timeout=WAIT) as signal:
        dialog.create_button.click()
    task = signal.args[0]
    assert isinstance(task, TaskRecord)
    assert task.target_dir == str(home / "底稿导出" / "2025")


def test_the_settings_store_a_default_folder_in_the_home_folder(
    qtbot: QtBot, qloop: qasync.QEventLoop, tmp_path: Path, home: Path
) -> None:
    settings_file = tmp_path / "config" / "settings.json"
    dialog = SettingsDialog(Settings(), settings_file=settings_file)
    qtbot.addWidget(dialog)
    dialog.open()
    dialog.export_dir_edit.setText("~/底稿导出")
    with qtbot.waitSignal(dialog.changed, timeout=WAIT) as signal:
        dialog.ok_button.click()
    saved = signal.args[0]
    assert isinstance(saved, Settings)
    assert saved.default_export_dir == str(home / "底稿导出")
    assert load_settings(settings_file).settings.default_export_dir == str(home / "底稿导出")


# ------------------------------------------------------------------ session changes


def test_the_new_export_dialog_closes_when_another_identity_signs_in(
    qtbot: QtBot, service: ExportService, fresh_server: ServerHandle, tmp_path: Path
) -> None:
    """Its tree is the old identity's projects: a Create after the switch would put that
    selection into the new identity's queue. The same account signing in again keeps it."""
    bridge = EventBridge(service.events)
    window = MainWindow(
        service, Settings(), settings_path=tmp_path / "settings.json", bridge=bridge
    )
    bridge.setParent(window)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.showing_tasks and not window.busy, timeout=WAIT)

    window.show_new_export()
    dialog = window.new_export_dialog
    assert isinstance(dialog, NewExportDialog)
    qtbot.waitUntil(lambda: not dialog.busy and bool(dialog.projects()), timeout=WAIT)
    dialog.projects()[0].setCheckState(0, Qt.CheckState.Checked)
    dialog.target_edit.setText(str(tmp_path / "out"))

    # The same account again (a new sign-in, e.g. after an expired login): kept.
    run(qtbot, service.session.sign_in(fresh_server.base_url, "demo", "demo", "auditor"))
    qtbot.waitUntil(lambda: not window.busy, timeout=WAIT)
    assert window.new_export_dialog is dialog
    assert dialog.isVisible()

    # Another identity: closed, nothing created in its queue.
    run(qtbot, service.session.sign_in(fresh_server.base_url, "demo", "demo", "manager"))
    qtbot.waitUntil(lambda: window.new_export_dialog is None, timeout=WAIT)
    assert run(qtbot, service.tasks()) == []
