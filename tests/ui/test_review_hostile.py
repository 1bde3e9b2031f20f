"""Review (issue #8): hostile text from the server in the window, and credentials in the
server address.

A name from the server (project, folder, file, user) can be anything: HTML that Qt
would render as rich text (``<b>``, ``<img src=...>``) wherever it guesses a string is
HTML (tooltips, labels left in ``AutoText``), placeholders (``%1``, ``%2``) that a
chained ``str.replace`` would fill again, a right-to-left override, 10,000 characters
that a label would ask as its minimum width. Every place shows it literally, escaped,
and bounded; the window never grows past the screen for it. An address such as
``https://user:password@host`` is refused before any request and never stored.

Real widgets (offscreen), the real reference server, real SQLite.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import qasync
from PySide6 import QtGui
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel, QMessageBox, QTreeWidgetItem, QWidget
from pytestqt.qtbot import QtBot

from manuscript_gui.config import Settings, app_paths, load_settings
from manuscript_gui.core.actions import Action
from manuscript_gui.domain import IdentityChoice, TaskRecord
from manuscript_gui.reference_server import ServerHandle
from manuscript_gui.services.exports import ExportService, SelectionItem, ServiceOptions
from manuscript_gui.ui import texts
from manuscript_gui.ui.actions import _file_name_part
from manuscript_gui.ui.bridge import EventBridge
from manuscript_gui.ui.dialogs import TargetProblem, target_problem_text
from manuscript_gui.ui.dialogs.login import LoginDialog, url_problem, without_credentials
from manuscript_gui.ui.dialogs.new_export import NewExportDialog
from manuscript_gui.ui.main_window import MainWindow
from manuscript_gui.ui.models.file_table import COL_PATH
from manuscript_gui.ui.models.task_table import COL_NAME, COL_STATUS
from manuscript_gui.ui.widgets import ElidedLabel, InlineMessage, MessageKind
from tests.fixtures_server import Admin
from tests.ui.conftest import run

WAIT = 30_000

#: What Qt would render: markup, an image, a right-to-left override, a zero-width space,
#: a new line, placeholders, an emoji.
MARKUP = "<b>B</b><img src='x.png'>\u202efdp.exe\u200b\n%1%2%n😀"
#: ... and long enough to ask for tens of thousands of pixels.
HUGE = MARKUP + "长" * 5000
#: Widest a window or a box may ask to be for any of it (pixels; the window starts at 1280).
SCREEN = 1600


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
def window(service: ExportService, qtbot: QtBot, tmp_path: Path) -> MainWindow:
    bridge = EventBridge(service.events)
    shown = MainWindow(service, Settings(), settings_path=tmp_path / "settings.json", bridge=bridge)
    bridge.setParent(shown)
    qtbot.addWidget(shown)
    shown.show()
    return shown


@pytest.fixture
def hostile_project(admin: Admin) -> str:
    """A project, its folder and a file named with :data:`HUGE`, visible to demo/auditor."""
    pid = admin.create_project(HUGE, code=HUGE)
    admin.access("demo", "auditor", pid, True)
    admin.add_file(pid, [MARKUP], MARKUP + ".pdf", b"%PDF hostile")
    return pid


def sign_in(qtbot: QtBot, window: MainWindow, service: ExportService, url: str) -> None:
    run(qtbot, service.session.sign_in(url, "demo", "demo", "auditor"))
    qtbot.waitUntil(lambda: window.showing_tasks, timeout=WAIT)
    qtbot.waitUntil(lambda: not window.busy, timeout=WAIT)


def export_hostile(
    qtbot: QtBot, service: ExportService, project_id: str, target: Path
) -> TaskRecord:
    project = next(p for p in run(qtbot, service.projects()) if p.id == project_id)
    return run(qtbot, service.create_export([SelectionItem(project.id, project.name)], target))


def shown_as(tooltip: str) -> str:
    """What Qt shows for *tooltip*: rich text rendered when it looks like HTML."""
    if not QtGui.Qt.mightBeRichText(tooltip):
        return tooltip
    document = QTextDocument()
    document.setHtml(tooltip)
    return document.toPlainText()


def assert_literal(tooltip: object, expected: str) -> None:
    """*tooltip* shows *expected* (already escaped) as written, nothing rendered."""
    assert isinstance(tooltip, str)
    assert expected in shown_as(tooltip).replace("\u2028", "\n"), tooltip[:200]


def raw_controls(text: str) -> list[str]:
    return [repr(c) for c in ("\u202e", "\u200b") if c in text]


# ------------------------------------------------------------------ the main window


def test_a_huge_hostile_task_name_never_widens_the_window_and_shows_literally(
    qtbot: QtBot,
    window: MainWindow,
    service: ExportService,
    fresh_server: ServerHandle,
    hostile_project: str,
    tmp_path: Path,
) -> None:
    sign_in(qtbot, window, service, fresh_server.base_url)
    task = export_hostile(qtbot, service, hostile_project, tmp_path / "out")
    qtbot.waitUntil(lambda: window.task_model.row_of(task.id) is not None, timeout=WAIT)
    window.select_task(task.id)
    qtbot.waitUntil(lambda: window.detail.task_id == task.id, timeout=WAIT)
    qtbot.waitUntil(lambda: window.detail.model.rowCount() > 0, timeout=WAIT)

    # The detail pane's title names the task, escaped and elided: the window keeps its size.
    assert window.minimumSizeHint().width() < SCREEN
    assert window.width() < SCREEN
    title = window.detail.title_label
    assert isinstance(title, ElidedLabel)
    assert title.elided()
    assert texts.display_safe(HUGE) in title.text()
    assert not raw_controls(title.shown_text())
    assert_literal(title.toolTip(), texts.display_safe(MARKUP))
    for label in window.findChildren(QLabel):
        if label.isVisible() and label.text():
            assert label.minimumSizeHint().width() < SCREEN, label.text()[:80]

    # Tooltips of the task's name and the file's path: markup shown as written.
    model = window.task_model
    row = model.row_of(task.id)
    assert row is not None
    name_tip = model.data(model.index(row, COL_NAME), Qt.ItemDataRole.ToolTipRole)
    assert_literal(name_tip, texts.display_safe(MARKUP))
    assert not raw_controls(shown_as(name_tip))
    status_tip = model.data(model.index(row, COL_STATUS), Qt.ItemDataRole.ToolTipRole)
    assert isinstance(status_tip, str)
    assert not raw_controls(shown_as(status_tip))
    files = window.detail.model
    path_tip = files.data(files.index(0, COL_PATH), Qt.ItemDataRole.ToolTipRole)
    # (the engine made the local name safe for the disk; the tooltip shows it as it is)
    assert_literal(path_tip, files.data(files.index(0, COL_PATH)))
    assert len(path_tip) < 10 * texts.TOOLTIP_LIMIT


def test_the_confirmation_for_a_huge_name_fits_the_screen(
    qtbot: QtBot,
    window: MainWindow,
    service: ExportService,
    fresh_server: ServerHandle,
    admin: Admin,
    hostile_project: str,
    tmp_path: Path,
) -> None:
    sign_in(qtbot, window, service, fresh_server.base_url)
    # Paused at once: the task waits with its files, cancel and delete stay possible.
    admin.faults(latency_ms=400)
    task = export_hostile(qtbot, service, hostile_project, tmp_path / "out")
    qtbot.waitUntil(lambda: window.task_model.row_of(task.id) is not None, timeout=WAIT)
    window.select_task(task.id)
    qtbot.waitUntil(lambda: Action.CANCEL in window.allowed(), timeout=WAIT)
    window.runner.trigger(Action.CANCEL, window.selected_task() or task)
    qtbot.waitUntil(lambda: window.runner.confirmation is not None, timeout=WAIT)
    box = window.runner.confirmation
    assert isinstance(box, QMessageBox)
    qtbot.waitUntil(box.isVisible, timeout=WAIT)
    size = box.sizeHint().expandedTo(box.size())
    assert size.width() < SCREEN, size
    assert size.height() < 900, size
    assert box.textFormat() == Qt.TextFormat.PlainText
    assert "<b>B</b>" in box.text()
    assert "…" in box.text()
    assert not raw_controls(box.text())
    keep = next(b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.RejectRole)
    keep.click()
    qtbot.waitUntil(lambda: window.runner.confirmation is None, timeout=WAIT)
    admin.reset()


def test_a_failure_list_named_after_a_huge_task_name_fits_a_file_name() -> None:
    for name in (HUGE, "a" * 10_000, "报" * 300 + ".", "  ...  "):
        file_name = texts.fill("%1 failures.csv", _file_name_part(name))
        assert len(file_name.encode("utf-8")) <= 255
        assert not [c for c in file_name if not c.isprintable() or c in '\\/:*?"<>|']
    assert _file_name_part("审计 2025") == "审计 2025"


# ------------------------------------------------------------------ the new-export dialog


def test_the_new_export_tree_shows_hostile_names_literally(
    qtbot: QtBot,
    service: ExportService,
    fresh_server: ServerHandle,
    hostile_project: str,
) -> None:
    run(qtbot, service.session.sign_in(fresh_server.base_url, "demo", "demo", "auditor"))
    dialog = NewExportDialog(service, Settings())
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitUntil(lambda: bool(dialog.projects()), timeout=WAIT)
    node = next(n for n in dialog.projects() if n.project.id == hostile_project)
    assert node.text(0) == texts.display_safe(HUGE)
    for column in (0, 1):  # the name and the details (its code here)
        assert_literal(node.toolTip(column), texts.display_safe(MARKUP))
    dialog.tree.expandItem(node)
    qtbot.waitUntil(lambda: node.loaded, timeout=WAIT)
    folder = node.child(0)
    assert isinstance(folder, QTreeWidgetItem)
    assert folder.text(0) == texts.display_safe(MARKUP)
    assert_literal(folder.toolTip(0), texts.display_safe(MARKUP))
    node.setCheckState(0, Qt.CheckState.Checked)
    assert dialog.minimumSizeHint().width() < SCREEN
    assert not raw_controls(dialog.name_edit.placeholderText())


# ------------------------------------------------------------------ sentences


def test_a_placeholder_in_a_name_is_never_filled_again() -> None:
    assert texts.fill("%1 and %2", "a%2b", "c") == "a%2b and c"
    assert texts.fill("%2 before %1", "x", "%1") == "%1 before x"
    text = target_problem_text(TargetProblem("not_writable", "/srv/%2/底稿", "Permission denied"))
    assert "/srv/%2/底稿" in text
    assert "Permission denied" in text


def test_no_chained_placeholder_replacement_is_left_in_the_window() -> None:
    """The kind: every sentence of the window is filled in one pass (texts.fill)."""
    root = Path(__file__).resolve().parents[2] / "manuscript_gui"
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for path in [*root.joinpath("ui").rglob("*.py"), root / "app.py"]
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if '.replace("%' in line or line.strip().startswith('"%1", ')
    ]
    assert offenders == []


def test_names_and_details_inside_sentences_are_bounded() -> None:
    name = texts.in_sentence(HUGE)
    assert len(name) == texts.NAME_LIMIT
    assert name.startswith("<b>B</b>")
    assert name.endswith("长")
    assert "…" in name
    assert not raw_controls(name)
    assert texts.in_sentence("上海某某科技 D1-1") == "上海某某科技 D1-1"
    reason = texts.stop_reason_text("server_error", {"error": "x" * 10_000})
    assert len(reason) < texts.DETAIL_LIMIT + 200
    assert texts.shortened("abcdef", 5) == "ab…ef"
    assert texts.plain_tooltip("") == ""


def test_a_huge_message_does_not_widen_its_dialog(qtbot: QtBot) -> None:
    holder = QWidget()
    qtbot.addWidget(holder)
    message = InlineMessage(holder)
    message.show_error(
        texts.fill(
            "The folder %1 could not be loaded: %2",
            texts.in_sentence("a" * 10_000),
            texts.display_safe("b" * 10_000, texts.DETAIL_LIMIT),
        )
    )
    assert message.kind is MessageKind.ERROR
    assert message.minimumSizeHint().width() < SCREEN


def test_an_elided_label_keeps_its_text_and_asks_for_little_room(qtbot: QtBot) -> None:
    label = ElidedLabel(max_width=200)
    qtbot.addWidget(label)
    label.setText(HUGE)
    label.resize(300, 30)
    label.show()
    assert label.text() == HUGE
    assert label.minimumSizeHint().width() < 100
    assert label.sizeHint().width() == 200
    assert label.elided()
    assert label.shown_text().endswith("…")
    assert_literal(label.toolTip(), "<b>B</b><img src='x.png'>")
    label.setText("短")
    assert not label.elided()
    assert label.toolTip() == ""


# ------------------------------------------------------------------ the server address


@pytest.mark.parametrize(
    "userinfo", ["lisi:secret@", "lisi@", ":secret@", "lisi:sec%40ret@"], ids=repr
)
def test_credentials_in_the_server_address_are_refused_and_never_stored(
    qtbot: QtBot,
    service: ExportService,
    fresh_server: ServerHandle,
    tmp_path: Path,
    userinfo: str,
) -> None:
    settings_file = tmp_path / "config" / "settings.json"
    dialog = LoginDialog(service, Settings(), settings_file=settings_file)
    qtbot.addWidget(dialog)
    dialog.open()
    scheme, rest = fresh_server.base_url.split("://", 1)
    dialog.server_edit.setText(f"{scheme}://{userinfo}{rest}")
    dialog.user_edit.setText("lisi")  # one identity: signed in at once
    dialog.password_edit.setText("lisi")
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=WAIT)
    assert dialog.message.kind is MessageKind.ERROR
    assert "password" in dialog.message.text()
    assert service.session.current is None
    assert not settings_file.exists()
    # The field keeps the address alone: a second press signs in with it.
    assert dialog.server_edit.text() == fresh_server.base_url
    with qtbot.waitSignal(dialog.signed_in, timeout=WAIT):
        dialog.sign_in_button.click()
    saved = load_settings(settings_file).settings
    assert saved.server_url == fresh_server.base_url
    assert "secret" not in json.dumps(json.loads(settings_file.read_text(encoding="utf-8")))


def test_url_problem_refuses_credentials_and_keeps_ipv6_and_paths() -> None:
    for url in ("https://u:p@wp.example.com", "http://u@[::1]:8080/wp", "https://a@b@c/"):
        assert url_problem(url) is not None, url
    for url in ("http://[::1]:8080", "https://wp.example.com:8443/prefix/", "http://127.0.0.1"):
        assert url_problem(url) is None, url
        assert without_credentials(url) == url
    assert (
        without_credentials("https://u:p@wp.example.com:8443/x") == "https://wp.example.com:8443/x"
    )


def test_a_huge_identity_name_does_not_widen_the_sign_in_dialog(
    qtbot: QtBot, service: ExportService, tmp_path: Path
) -> None:
    dialog = LoginDialog(service, Settings(), settings_file=tmp_path / "settings.json")
    qtbot.addWidget(dialog)
    dialog.open()
    before = dialog.sizeHint().width()
    # As offered after the password check (the server names the identities).
    dialog._offer(
        ("http://127.0.0.1:1", "demo", "pw"),
        (IdentityChoice("auditor", HUGE), IdentityChoice("manager", "经理")),
    )
    assert dialog.identity_combo.isVisible()
    assert dialog.sizeHint().width() < max(before, 600)
    assert dialog.minimumSizeHint().width() < SCREEN
    shown = dialog.identity_combo.itemText(0)
    assert len(shown) == texts.NAME_LIMIT
    assert not raw_controls(shown)
    tooltip = dialog.identity_combo.itemData(0, Qt.ItemDataRole.ToolTipRole)
    assert_literal(tooltip, texts.display_safe(MARKUP))
    assert dialog.identity_combo.currentData() == "auditor"
