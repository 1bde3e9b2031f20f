"""The new-export dialog against the real reference server (issue #8 item 3).

The project list and its search, folders listed only when expanded, tri-state
check boxes that turn into the right ``SelectionItem``s (checked by creating
the task and letting the service list exactly those files), the target folder
(default, picker, free space), the task name, and every inline message: nothing
selected, no folder, a relative path, a file in the way, a folder that cannot be
written, projects and folders that fail to load.

The tree is a QTreeWidget: its item model is Qt's own (QTreeModel), not ours, so
there is no ``qtmodeltester`` run on it. (Qt's C++ tester reports
``childIndex != childIndex1`` for a bare QTreeWidget on its first child insertion,
and pytest-qt's fixture keeps that tester alive past the widget, which crashes
PySide6 6.11 at teardown.)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from manuscript_gui.config import Settings, app_paths
from manuscript_gui.domain import TaskRecord
from manuscript_gui.reference_server import ServerHandle
from manuscript_gui.services.exports import (
    ActionError,
    ExportService,
    SelectionItem,
    ServiceOptions,
)
from manuscript_gui.services.reads import Project
from manuscript_gui.ui import texts
from manuscript_gui.ui.dialogs.new_export import (
    DETAILS_MAX_SHARE,
    NewExportDialog,
    _Node,
    check_target,
    natural_sorted,
    project_details,
)
from manuscript_gui.ui.widgets import MessageKind
from tests.fixtures_server import Admin
from tests.ui.conftest import run

#: Every test here runs on the qasync loop (the dialogs' coroutines).
pytestmark = pytest.mark.usefixtures("qloop")

WAIT = 30_000
CHECKED = Qt.CheckState.Checked
UNCHECKED = Qt.CheckState.Unchecked
PARTIAL = Qt.CheckState.PartiallyChecked

# TINY_DEMO's prj-1 as the demo user sees it: top-level folders, D's subfolders, in
# natural order (the server lists them by name: D12, D16, D2, D5, D7).
TOP = ["A 业务承接", "B 风险评估", "C 控制测试", "D 实质性程序", "E 完成阶段"]
D_SUBS = ["D2 应收票据", "D5 其他应收款", "D7 固定资产", "D12 营业收入", "D16 所得税费用"]


class CountingService(ExportService):
    """The real service, counting the folder listings the dialog asks for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.children_calls: list[tuple[str, str]] = []

    async def children(self, project_id: str, folder_id: str = "root") -> Any:
        self.children_calls.append((project_id, folder_id))
        return await super().children(project_id, folder_id)


@pytest.fixture
def service(fresh_server: ServerHandle, qtbot: QtBot) -> Iterator[CountingService]:
    svc = CountingService(
        Settings(retries=1),
        paths=app_paths(),
        options=ServiceOptions(fsync=False, autostart=False, backoff_base=0.01),
    )
    run(qtbot, svc.session.sign_in(fresh_server.base_url, "demo", "demo", "auditor"))
    yield svc
    run(qtbot, svc.close())


def _dialog(
    qtbot: QtBot, service: ExportService, settings: Settings | None = None, *, loaded: bool = True
) -> NewExportDialog:
    dialog = NewExportDialog(service, settings or Settings())
    qtbot.addWidget(dialog)
    dialog.open()
    if loaded:
        qtbot.waitUntil(lambda: not dialog.busy and bool(dialog.projects()), timeout=WAIT)
    return dialog


def _project(dialog: NewExportDialog, project_id: str) -> _Node:
    return next(n for n in dialog.projects() if n.project.id == project_id)


def _expand(qtbot: QtBot, dialog: NewExportDialog, node: _Node) -> None:
    node.setExpanded(True)
    qtbot.waitUntil(lambda: node.loaded, timeout=WAIT)


def _child(node: _Node, name: str) -> _Node:
    return next(c for c in node.nodes() if c.folder is not None and c.folder.name == name)


def _click(node: _Node) -> None:
    """What a click on the check box does: Checked <-> Unchecked, PartiallyChecked -> Checked."""
    node.setCheckState(0, UNCHECKED if node.checkState(0) == CHECKED else CHECKED)


def _create(qtbot: QtBot, dialog: NewExportDialog) -> TaskRecord:
    with qtbot.waitSignal(dialog.created, timeout=WAIT) as signal:
        dialog.create_button.click()
    task = signal.args[0]
    assert isinstance(task, TaskRecord)
    assert not dialog.isVisible()
    assert dialog.result() == NewExportDialog.DialogCode.Accepted
    return task


def _refused(qtbot: QtBot, dialog: NewExportDialog) -> str:
    emitted: list[object] = []
    dialog.created.connect(emitted.append)
    dialog.create_button.click()
    qtbot.waitUntil(lambda: dialog.create_button.isEnabled(), timeout=WAIT)
    assert dialog.message.kind is MessageKind.ERROR, dialog.message.text()
    assert dialog.message.isVisible()
    assert dialog.isVisible()
    assert emitted == []
    return dialog.message.text()


# -- projects, search, lazy folders ---------------------------------------------------------


def test_the_projects_are_listed_and_searched(qtbot: QtBot, service: CountingService) -> None:
    dialog = _dialog(qtbot, service)
    assert [n.project.id for n in dialog.projects()] == ["prj-1", "prj-2", "prj-3"]
    first = _project(dialog, "prj-1")
    assert first.text(0) == first.project.name
    assert "SH-2025-001" in first.text(1)
    assert service.children_calls == []  # nothing below the projects yet

    def shown() -> list[str]:
        return [n.project.id for n in dialog.projects() if not n.isHidden()]

    dialog.search_edit.setText("北京")  # name
    assert shown() == ["prj-2"]
    dialog.search_edit.setText("sz-2025")  # code, any case
    assert shown() == ["prj-3"]
    dialog.search_edit.setText("  上海某某科技股份有限公司 ")  # client, spaces trimmed
    assert shown() == ["prj-1"]
    dialog.search_edit.setText("no such project")
    assert shown() == []
    dialog.search_edit.clear()
    assert shown() == ["prj-1", "prj-2", "prj-3"]


def test_names_sort_naturally_in_the_languages_collation() -> None:
    """Numbers by value, case ignored; Chinese by pinyin under zh_CN; the C locale (no
    language) like English, whose collation knows numbers."""
    names = ["D12 营业收入", "d3 存货", "D2 应收票据", "D1 货币资金", "D 实质性程序", "D10 x"]
    natural = ["D 实质性程序", "D1 货币资金", "D2 应收票据", "d3 存货", "D10 x", "D12 营业收入"]
    clients = ["上海某某科技", "北京某某贸易", "深圳某某电子"]
    before = QLocale()
    try:
        for locale in (QLocale.c(), QLocale("en"), QLocale("zh_CN")):
            QLocale.setDefault(locale)
            assert natural_sorted(names, key=str) == natural, locale.name()
        assert natural_sorted(clients, key=str) == ["北京某某贸易", "上海某某科技", "深圳某某电子"]
    finally:
        QLocale.setDefault(before)


def test_project_details_leave_out_what_the_name_says() -> None:
    def project(name: str, client: str | None, period: str | None) -> Project:
        return Project("p", name, "SH-2025-001", client, period, None)

    named = project(
        "上海某某科技股份有限公司2025年度财务报表审计", "上海某某科技股份有限公司", "2025年度"
    )
    assert project_details(named) == "SH-2025-001"
    bare = project("年报审计", "上海某某科技股份有限公司", "2025年度")
    assert project_details(bare) == "SH-2025-001 · 上海某某科技股份有限公司 · 2025年度"
    assert project_details(project("Audit 2025", "ACME Ltd", "2025")) == "SH-2025-001 · ACME Ltd"
    assert project_details(Project("p", "n", None, None, None, None)) == ""


def test_the_details_column_leaves_the_project_names_their_room(
    qtbot: QtBot, service: CountingService
) -> None:
    dialog = _dialog(qtbot, service)
    qtbot.waitExposed(dialog)
    header = dialog.tree.header()
    viewport = dialog.tree.viewport().width()
    assert [n.text(1) for n in dialog.projects()] == ["SH-2025-001", "BJ-2025-014", "SZ-2025-007"]
    assert header.sectionSize(1) <= viewport * DETAILS_MAX_SHARE
    metrics = dialog.tree.fontMetrics()
    for node in dialog.projects():
        # Room for the branch arrow and the check box, then the whole name.
        name_rect = dialog.tree.visualItemRect(node)
        assert metrics.horizontalAdvance(node.text(0)) + 60 <= header.sectionSize(0), node.text(0)
        assert name_rect.width() > 0
    # A wider dialog: the details keep their width, the names take the rest.
    details = header.sectionSize(1)
    dialog.resize(dialog.width() + 200, dialog.height())
    qtbot.waitUntil(lambda: dialog.tree.viewport().width() >= viewport + 200, timeout=WAIT)
    assert header.sectionSize(1) == details
    assert header.sectionSize(0) + details == dialog.tree.viewport().width()


def test_folders_are_listed_one_level_at_a_time_when_expanded(
    qtbot: QtBot, service: CountingService
) -> None:
    dialog = _dialog(qtbot, service)
    prj1 = _project(dialog, "prj-1")
    assert not prj1.loaded
    assert prj1.childCount() == 0
    assert prj1.childIndicatorPolicy() == prj1.ChildIndicatorPolicy.ShowIndicator

    _expand(qtbot, dialog, prj1)
    assert service.children_calls == [("prj-1", "root")]
    assert [c.text(0) for c in prj1.nodes()] == TOP
    assert prj1.childCount() == len(TOP)  # the "Loading…" row is gone
    d = _child(prj1, "D 实质性程序")
    assert not d.loaded
    assert d.childCount() == 0

    _expand(qtbot, dialog, d)
    assert service.children_calls == [("prj-1", "root"), ("prj-1", d.folder_id)]
    assert [c.text(0) for c in d.nodes()] == D_SUBS
    assert d.nodes()[0].path == ("D 实质性程序", "D2 应收票据")

    a = _child(prj1, "A 业务承接")
    _expand(qtbot, dialog, a)
    assert a.nodes() == []
    assert a.text(1) == "1 file(s) here"
    assert a.childIndicatorPolicy() == a.ChildIndicatorPolicy.DontShowIndicatorWhenChildless

    # Collapsing and expanding again does not list again.
    d.setExpanded(False)
    d.setExpanded(True)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=WAIT)
    assert service.children_calls.count(("prj-1", d.folder_id)) == 1


# -- tri-state check boxes and the selection --------------------------------------------------


def test_checking_a_project_selects_it_whole_and_its_folders_follow(
    qtbot: QtBot, service: CountingService
) -> None:
    dialog = _dialog(qtbot, service)
    prj1 = _project(dialog, "prj-1")
    _click(prj1)
    assert dialog.selection() == [SelectionItem("prj-1", prj1.project.name)]
    assert dialog.name_edit.placeholderText() == prj1.project.name
    assert dialog.summary_label.text() == "1 item(s) selected"

    _expand(qtbot, dialog, prj1)  # rows loaded under a checked project are checked
    assert {c.checkState(0) for c in prj1.nodes()} == {CHECKED}
    assert dialog.selection() == [SelectionItem("prj-1", prj1.project.name)]

    _click(prj1)
    assert {c.checkState(0) for c in prj1.nodes()} == {UNCHECKED}
    assert dialog.selection() == []


def test_a_partly_checked_parent_is_not_itself_selected(
    qtbot: QtBot, service: CountingService
) -> None:
    dialog = _dialog(qtbot, service)
    prj1 = _project(dialog, "prj-1")
    name = prj1.project.name
    _expand(qtbot, dialog, prj1)
    _click(prj1)
    c = _child(prj1, "C 控制测试")
    d = _child(prj1, "D 实质性程序")

    _click(c)  # uncheck one folder: the project is partly checked, the others selected
    assert prj1.checkState(0) == PARTIAL
    folder = {n.text(0): n.folder_id for n in prj1.nodes()}
    assert dialog.selection() == [
        SelectionItem("prj-1", name, folder[t], (t,)) for t in TOP if t != "C 控制测试"
    ]
    assert dialog.name_edit.placeholderText() == "A 业务承接 (+3)"

    _expand(qtbot, dialog, d)
    assert {s.checkState(0) for s in d.nodes()} == {CHECKED}
    d12 = _child(d, "D12 营业收入")
    _click(d12)
    assert d.checkState(0) == PARTIAL
    assert prj1.checkState(0) == PARTIAL
    selected = dialog.selection()
    assert SelectionItem("prj-1", name, d.folder_id, ("D 实质性程序",)) not in selected
    assert [s.folder_path for s in selected if s.folder_path[0] == "D 实质性程序"] == [
        ("D 实质性程序", sub) for sub in D_SUBS if sub != "D12 营业收入"
    ]

    _click(d12)  # all of D checked again: D is whole again, the project still partly
    assert d.checkState(0) == CHECKED
    assert prj1.checkState(0) == PARTIAL
    _click(c)  # and now everything: the project is whole again
    assert prj1.checkState(0) == CHECKED
    assert dialog.selection() == [SelectionItem("prj-1", name)]

    # Unchecking every folder by hand unchecks the project.
    for node in prj1.nodes():
        _click(node)
    assert prj1.checkState(0) == UNCHECKED
    assert dialog.selection() == []
    # A click on a partly checked row checks it whole.
    _click(_child(prj1, "B 风险评估"))
    assert prj1.checkState(0) == PARTIAL
    _click(prj1)
    assert prj1.checkState(0) == CHECKED
    assert {n.checkState(0) for n in prj1.nodes()} == {CHECKED}


def test_a_folder_with_files_of_its_own_is_whole_only_when_checked_itself(
    qtbot: QtBot, service: CountingService, admin: Admin
) -> None:
    admin.add_file("prj-1", ["D 实质性程序"], "D0 实质性程序说明.docx", b"own file of D")
    dialog = _dialog(qtbot, service)
    prj1 = _project(dialog, "prj-1")
    _expand(qtbot, dialog, prj1)
    d = _child(prj1, "D 实质性程序")
    _expand(qtbot, dialog, d)
    assert d.own_files == 1
    for sub in d.nodes():
        _click(sub)
    # Every subfolder, but not D's own file: D is partly checked, its subfolders selected.
    assert d.checkState(0) == PARTIAL
    assert [s.folder_path[-1] for s in dialog.selection()] == D_SUBS
    _click(d)
    assert d.checkState(0) == CHECKED
    assert [s.folder_path for s in dialog.selection()] == [("D 实质性程序",)]


def test_the_selection_creates_a_task_of_exactly_those_files(
    qtbot: QtBot, service: CountingService, tmp_path: Path
) -> None:
    target = tmp_path / "导出"
    dialog = _dialog(qtbot, service, Settings(default_export_dir=str(target)))
    assert dialog.target_edit.text() == str(target)
    prj1 = _project(dialog, "prj-1")
    prj2 = _project(dialog, "prj-2")
    _expand(qtbot, dialog, prj1)
    d = _child(prj1, "D 实质性程序")
    _expand(qtbot, dialog, d)
    _click(_child(d, "D2 应收票据"))
    _click(_child(d, "D7 固定资产"))
    _click(_child(prj1, "A 业务承接"))
    _click(prj2)
    items = dialog.selection()
    assert [(i.project_id, i.folder_path) for i in items] == [
        ("prj-1", ("A 业务承接",)),
        ("prj-1", ("D 实质性程序", "D2 应收票据")),
        ("prj-1", ("D 实质性程序", "D7 固定资产")),
        ("prj-2", ()),
    ]
    assert dialog.name_edit.placeholderText() == "A 业务承接 (+3)"

    task = _create(qtbot, dialog)
    assert task.name == "A 业务承接 (+3)"  # the service's default, as the placeholder said
    assert Path(task.target_dir) == target
    assert [SelectionItem.from_json(i) for i in task.selection["items"]] == items
    run(qtbot, service.wait_listing(task.id))
    listed = run(qtbot, service.task(task.id))
    # A: 1 file, D2: 1, D7: 1, and prj-2 whole: 8 (TINY_DEMO: 8 files per project).
    assert listed.total_files == 3 + 8


def test_enter_in_the_search_box_does_not_create(
    qtbot: QtBot, service: CountingService, tmp_path: Path
) -> None:
    dialog = _dialog(qtbot, service)
    dialog.target_edit.setText(str(tmp_path))
    _click(_project(dialog, "prj-1"))
    dialog.search_edit.setFocus()
    qtbot.keyClicks(dialog.search_edit, "bj")
    qtbot.keyClick(dialog.search_edit, Qt.Key.Key_Return)
    assert dialog.isVisible()
    assert not dialog.busy
    assert run(qtbot, service.tasks()) == []
    # Enter elsewhere (the task name) is the default button: it creates.
    with qtbot.waitSignal(dialog.created, timeout=WAIT):
        qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)


def test_the_task_name_typed_is_used(
    qtbot: QtBot, service: CountingService, tmp_path: Path
) -> None:
    dialog = _dialog(qtbot, service)
    dialog.target_edit.setText(str(tmp_path))
    _click(_project(dialog, "prj-3"))
    dialog.name_edit.setText("  内控审计底稿  ")
    task = _create(qtbot, dialog)
    assert task.name == "内控审计底稿"
    assert task.target_dir == str(tmp_path)


def test_the_default_task_name_is_the_services() -> None:
    whole = SelectionItem("p", "项目甲")
    folder = SelectionItem("p", "项目甲", "f", ("D", "D2 应收票据"))
    with pytest.raises(ActionError):
        ExportService.default_task_name([])
    assert ExportService.default_task_name([whole]) == "项目甲"
    assert ExportService.default_task_name([folder, whole]) == "D2 应收票据 (+1)"


# -- inline messages ---------------------------------------------------------------------------


def test_nothing_selected(qtbot: QtBot, service: CountingService, tmp_path: Path) -> None:
    dialog = _dialog(qtbot, service)
    dialog.target_edit.setText(str(tmp_path))
    assert "at least one project or folder" in _refused(qtbot, dialog)
    assert dialog.focusWidget() is dialog.tree
    _click(_project(dialog, "prj-1"))  # ticking something clears it
    assert not dialog.message.isVisible()


@pytest.mark.parametrize(
    ("target", "words"),
    [("", "Choose the folder"), ("   ", "Choose the folder"), ("exports", "full path")],
)
def test_a_missing_or_relative_target(
    qtbot: QtBot, service: CountingService, target: str, words: str
) -> None:
    dialog = _dialog(qtbot, service)
    _click(_project(dialog, "prj-1"))
    dialog.target_edit.setText(target)
    assert words in _refused(qtbot, dialog)
    assert dialog.focusWidget() is dialog.target_edit
    assert run(qtbot, service.tasks()) == []


def test_a_target_that_is_a_file(qtbot: QtBot, service: CountingService, tmp_path: Path) -> None:
    a_file = tmp_path / "底稿"
    a_file.write_bytes(b"x")
    dialog = _dialog(qtbot, service)
    _click(_project(dialog, "prj-1"))
    dialog.target_edit.setText(str(a_file))
    assert "is a file, not a folder" in _refused(qtbot, dialog)
    dialog.target_edit.setText(str(a_file / "2025" / "exports"))
    text = _refused(qtbot, dialog)
    assert "cannot be created" in text
    assert str(a_file) in text
    assert run(qtbot, service.tasks()) == []


def test_a_folder_that_cannot_be_written(qtbot: QtBot, service: CountingService) -> None:
    # /proc refuses new files even to root (for whom os.access always says yes):
    # the probe file is what finds it out.
    target = Path("/proc/manuscript-export")
    assert check_target(target) is not None
    dialog = _dialog(qtbot, service)
    _click(_project(dialog, "prj-1"))
    dialog.target_edit.setText(str(target))
    text = _refused(qtbot, dialog)
    assert "You cannot write to /proc" in text
    assert run(qtbot, service.tasks()) == []


def test_a_path_no_file_system_takes(
    qtbot: QtBot, service: CountingService, tmp_path: Path
) -> None:
    dialog = _dialog(qtbot, service)
    _click(_project(dialog, "prj-1"))
    dialog.target_edit.setText(f"{tmp_path}/a\0b")
    assert "You cannot write to" in _refused(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.free_label.text() == "Free space: unknown", timeout=WAIT)


def test_check_target_accepts_a_new_folder_and_leaves_no_probe(tmp_path: Path) -> None:
    assert check_target(tmp_path / "new" / "deeper") is None
    assert check_target(tmp_path) is None
    assert list(tmp_path.iterdir()) == []  # the probe file was removed


def test_projects_that_fail_to_load_are_said_and_reloaded(
    qtbot: QtBot, service: CountingService, admin: Admin
) -> None:
    admin.faults(error_rate=1, error_status=503, retry_after_s=None)
    dialog = _dialog(qtbot, service, loaded=False)
    qtbot.waitUntil(lambda: dialog.reload_button.isVisible(), timeout=WAIT)
    assert dialog.projects() == []
    text = dialog.message.text()
    assert dialog.message.kind is MessageKind.ERROR
    assert text.startswith("The projects could not be loaded")
    assert "server unavailable" in text

    admin.reset()
    dialog.reload_button.click()
    qtbot.waitUntil(lambda: len(dialog.projects()) == 3, timeout=WAIT)
    assert not dialog.reload_button.isVisible()
    assert not dialog.message.isVisible()


def test_a_folder_that_fails_to_load_is_said_and_retried(
    qtbot: QtBot, service: CountingService, admin: Admin
) -> None:
    dialog = _dialog(qtbot, service)
    prj1 = _project(dialog, "prj-1")
    admin.faults(error_rate=1, error_status=502, retry_after_s=None)
    prj1.setExpanded(True)
    qtbot.waitUntil(lambda: dialog.message.isVisible(), timeout=WAIT)
    qtbot.waitUntil(lambda: not dialog.busy, timeout=WAIT)
    assert dialog.message.kind is MessageKind.ERROR
    assert dialog.message.text().startswith(f"The folder {prj1.text(0)} could not be loaded")
    assert not prj1.loaded
    assert prj1.nodes() == []
    placeholder = prj1.child(0)
    assert placeholder is not None
    assert placeholder.text(0).startswith("Not loaded")

    admin.reset()
    prj1.setExpanded(False)
    _expand(qtbot, dialog, prj1)
    assert [c.text(0) for c in prj1.nodes()] == TOP
    assert prj1.childCount() == len(TOP)


def test_a_project_list_after_the_login_expired_says_so(
    qtbot: QtBot, service: CountingService, admin: Admin
) -> None:
    admin.revoke()
    dialog = _dialog(qtbot, service, loaded=False)
    qtbot.waitUntil(lambda: dialog.reload_button.isVisible(), timeout=WAIT)
    assert "login expired" in dialog.message.text().lower()


# -- target folder: default, picker, free space ------------------------------------------------


def test_free_space_is_shown_for_the_target(
    qtbot: QtBot, service: CountingService, tmp_path: Path
) -> None:
    dialog = _dialog(qtbot, service, Settings(default_export_dir=str(tmp_path / "new")))
    qtbot.waitUntil(lambda: dialog.free_label.text() != "", timeout=WAIT)
    assert dialog.free_label.text().startswith("Free space: ")
    assert "unknown" not in dialog.free_label.text()
    free = run(qtbot, service.free_space(tmp_path))
    unit = texts.size_text(free).split()[-1]
    assert dialog.free_label.text().endswith(unit)

    dialog.target_edit.setText("relative")
    qtbot.waitUntil(lambda: dialog.free_label.text() == "", timeout=WAIT)


def test_the_default_target_is_the_documents_folder_without_a_setting(
    qtbot: QtBot, service: CountingService
) -> None:
    dialog = _dialog(qtbot, service)
    assert os.path.isabs(dialog.target_edit.text())


def test_the_browse_button_opens_a_folder_picker(
    qtbot: QtBot, service: CountingService, tmp_path: Path
) -> None:
    chosen = tmp_path / "exports"
    chosen.mkdir()
    dialog = _dialog(qtbot, service, Settings(default_export_dir=str(tmp_path / "a" / "b")))
    dialog.browse_button.click()
    picker = dialog.file_dialog
    assert picker is not None
    assert picker.isVisible()
    assert picker.isModal()  # opened with open(), not exec()
    assert picker.fileMode() == QFileDialog.FileMode.Directory
    assert os.path.samefile(picker.directory().absolutePath(), tmp_path)  # nearest existing
    picker.fileSelected.emit(str(chosen))
    assert dialog.target_edit.text() == str(chosen)
    picker.reject()


# -- responsiveness ------------------------------------------------------------------------------


def test_the_dialog_stays_responsive_while_the_server_is_slow(
    qtbot: QtBot, service: CountingService, admin: Admin
) -> None:
    admin.faults(latency_ms=20_000)
    dialog = _dialog(qtbot, service, loaded=False)
    assert dialog.busy
    assert dialog.busy_bar.isVisible()
    qtbot.keyClicks(dialog.search_edit, "sh-2025")  # typing is handled while it waits
    assert dialog.search_edit.text() == "sh-2025"
    assert dialog.busy
    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=WAIT)
    assert not dialog.isVisible()
    assert dialog.result() == NewExportDialog.DialogCode.Rejected
    assert run(qtbot, service.tasks()) == []
    admin.reset()  # the sign-out at teardown need not wait 20 s
