"""ui/texts.py: every code the window shows has a finished sentence in zh_CN and en.

The catalogues are the real ones (``resources/translations/*.ts``), compiled
into a temporary folder once per session and installed with ``ui/i18n.py`` as
the app does. Each test runs in both languages; a Chinese sentence must be
Chinese (no English word left but the parameters and a few technical names),
and every parameter a code's English sentence in ``services/messages.py`` uses
must show in the window's sentence too (same codes, same parameters).
"""

from __future__ import annotations

import re
import shutil
import string
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QLocale

from manuscript_gui.core.actions import Action
from manuscript_gui.domain import (
    FileError,
    FileOutcome,
    FileRecord,
    FileStatus,
    IdentityChoice,
    QueueOwner,
    SessionChange,
    SessionInfo,
    StopReason,
    TaskRecord,
    TaskStatus,
)
from manuscript_gui.services import messages
from manuscript_gui.services.reads import FileFilter
from manuscript_gui.ui import i18n, texts

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("zh_CN", "en")

# Words a Chinese sentence may keep in Latin letters: units, protocols, the CLI's name.
# ("partial": the staging folder .manuscript-partial.)
_LATIN_OK = {"HTTP", "SHA", "GB", "MB", "KB", "B", "s", "manuscript", "cli", "partial"}


@pytest.fixture(scope="session")
def catalogue_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed .ts files in a folder of their own (compiled there on install)."""
    directory = tmp_path_factory.mktemp("translations")
    for ts in (ROOT / "resources" / "translations").glob("*.ts"):
        shutil.copy(ts, directory / ts.name)
    return directory


@pytest.fixture(params=LANGUAGES)
def lang(request: pytest.FixtureRequest, qapp: Any, catalogue_dir: Path) -> Iterator[str]:
    installed = i18n.install(request.param, directory=catalogue_dir)
    assert installed.language == request.param
    # The app's catalogue and Qt's own: both loaded, both referenced.
    assert len(installed.translators) >= 1
    try:
        yield request.param
    finally:
        i18n.uninstall()


def _cjk(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def assert_finished(text: str, lang: str, values: tuple[str, ...] = ()) -> None:
    """*text* is a whole sentence in *lang*: not empty, no placeholder left; in Chinese,
    Chinese (no English word left once the parameter *values* are taken out)."""
    assert text.strip(), "empty text"
    assert not re.search(r"%L?\d|%L?n\b", text), f"placeholder left in {text!r}"
    rest = text
    for value in sorted(values, key=len, reverse=True):
        rest = rest.replace(value, " ")
    if lang == "zh_CN":
        words = set(re.findall(r"[A-Za-z]+", rest)) - _LATIN_OK
        assert not words, f"English left in the Chinese text {text!r}: {sorted(words)}"
        assert _cjk(rest), f"no Chinese in {text!r}"
    else:
        assert not _cjk(rest), f"Chinese in the English text {text!r}"


def task(**changes: Any) -> TaskRecord:
    now = datetime(2026, 11, 29, tzinfo=UTC)
    base = TaskRecord(
        id=7,
        name="2025 年报审计",
        target_dir="/exports",
        selection={},
        status=TaskStatus.WAITING,
        reason=None,
        reason_detail=None,
        position=1,
        total_files=10,
        succeeded=0,
        failed=0,
        total_bytes=1000,
        done_bytes=0,
        created_at=now,
        updated_at=now,
        finished_at=None,
    )
    return replace(base, **changes)


def file(**changes: Any) -> FileRecord:
    base = FileRecord(
        id=1,
        task_id=7,
        remote_id="f-1",
        project_id="prj-1",
        remote_path="/D 货币资金/D1-1.xlsx",
        local_path="D 货币资金/D1-1.xlsx",
        version=2,
        size=1234,
        sha256="0" * 64,
        content_type=None,
        etag=None,
        status=FileStatus.WAITING,
        outcome=None,
        error_code=None,
        error_message=None,
        attempts=0,
        updated_at=datetime(2026, 11, 29, tzinfo=UTC),
    )
    return replace(base, **changes)


# ----------------------------------------------------- parameters of each code

# A value for every parameter the English sentences use, and what the window's
# sentence must then contain (in both languages: figures, server text, ids).
SAMPLES: dict[str, tuple[object, str]] = {
    "need": (5_000_000_000, "4.7 GB"),
    "free": (1_300_000_000, "1.2 GB"),
    "error": ("Connection reset by peer", "Connection reset by peer"),
    "path": ("/data/导出/D1", "/data/导出/D1"),
    "files": (7, "7"),
    "attempts": (3, "3"),
    "status": (503, "503"),
    "problem": ("size is negative", "size is negative"),
    "task": (42, "42"),
    "pid": (4242, "4242"),
}
# Parameters whose shown form is translated itself (checked per language below).
ACTION_SAMPLES: dict[str, object] = {
    "action": Action.PAUSE,
    "status": TaskStatus.PAUSED,
    "front_end": "cli",
}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _cases(table: Mapping[str, tuple[str, ...]]) -> list[tuple[str, frozenset[str]]]:
    """(code, parameters) for each template of each code in services/messages.py."""
    return [
        (code, frozenset(_fields(template) - {"code"}))
        for code, templates in table.items()
        for template in templates
    ]


STOP_CASES = _cases(messages._STOP_TEXTS)
FILE_CASES = _cases(messages._FILE_TEXTS)
ACTION_CASES = _cases(messages._ACTION_TEXTS)


def _params(names: frozenset[str]) -> dict[str, object]:
    return {name: SAMPLES[name][0] for name in names}


def _shown(names: frozenset[str]) -> tuple[str, ...]:
    return tuple(SAMPLES[name][1] for name in names if name in SAMPLES)


def test_the_cases_cover_every_code() -> None:
    assert {code for code, _ in STOP_CASES} == set(StopReason)
    assert {code for code, _ in FILE_CASES} == set(FileError)
    assert {code for code, _ in ACTION_CASES} == set(messages.ACTION_ERROR_CODES)


@pytest.mark.parametrize(("code", "names"), STOP_CASES, ids=str)
def test_every_stop_reason_shows_its_parameters(
    lang: str, code: str, names: frozenset[str]
) -> None:
    text = texts.stop_reason_text(code, _params(names))
    for shown in _shown(names):
        assert shown in text, f"{code} {sorted(names)}: {shown!r} not in {text!r}"
    assert_finished(text, lang, _shown(names))
    # The plainest sentence, with no parameter at all.
    assert_finished(texts.stop_reason_text(code, {}), lang)


@pytest.mark.parametrize(("code", "names"), FILE_CASES, ids=str)
def test_every_file_error_shows_its_parameters(lang: str, code: str, names: frozenset[str]) -> None:
    text = texts.file_error_text(code, _params(names))
    for shown in _shown(names):
        assert shown in text, f"{code} {sorted(names)}: {shown!r} not in {text!r}"
    assert_finished(text, lang, _shown(names))
    assert_finished(texts.file_error_text(code, {}), lang)


@pytest.mark.parametrize(("code", "names"), ACTION_CASES, ids=str)
def test_every_action_error_shows_its_parameters(
    lang: str, code: str, names: frozenset[str]
) -> None:
    params = {n: ACTION_SAMPLES[n] if n in ACTION_SAMPLES else SAMPLES[n][0] for n in names}
    text = texts.action_error_text(code, params)
    plain = tuple(SAMPLES[n][1] for n in names if n not in ACTION_SAMPLES)
    for value in plain:
        assert value in text, f"{code} {sorted(names)}: {value!r} not in {text!r}"
    if "action" in names:
        assert texts.action_text(Action.PAUSE) in text
    if "status" in names:
        assert ("已暂停" if lang == "zh_CN" else "paused") in text
    assert_finished(text, lang, plain)
    assert_finished(texts.action_error_text(code, {}), lang)


def test_a_running_task_in_a_refusal_is_named(lang: str) -> None:
    text = texts.action_error_text("not_allowed", {"action": Action.DELETE, "status": "running"})
    assert ("进行中" if lang == "zh_CN" else "running") in text
    assert texts.action_text(Action.DELETE) in text


@pytest.mark.parametrize("status", [*TaskStatus, texts.RUNNING])
def test_every_task_status_has_a_name(lang: str, status: str) -> None:
    assert_finished(texts.task_status_name(status), lang)


@pytest.mark.parametrize("action", [*Action, texts.NEW_EXPORT])
def test_every_action_has_a_label_without_mnemonic(lang: str, action: str) -> None:
    label = texts.action_text(action)
    assert_finished(label, lang)
    assert "&" not in label


def test_the_glossary_words(lang: str) -> None:
    """The words of ../shared/glossary-zh.md (and their English) for the seed's statuses
    and the toolbar."""
    expected = {
        "zh_CN": (
            ["初始化中", "等待中", "进行中", "已暂停", "已完成", "已取消"],
            ["暂停", "继续", "取消", "重试失败项", "上移", "下移", "删除任务"],
            ["打开文件夹", "导出失败清单", "新建导出"],
        ),
        "en": (
            ["Initializing", "Waiting", "Running", "Paused", "Completed", "Canceled"],
            ["Pause", "Resume", "Cancel", "Retry failed", "Move up", "Move down", "Delete task"],
            ["Open folder", "Export failure list", "New export"],
        ),
    }[lang]
    statuses = [
        TaskStatus.INITIALIZING,
        TaskStatus.WAITING,
        texts.RUNNING,
        TaskStatus.PAUSED,
        TaskStatus.COMPLETED,
        TaskStatus.CANCELED,
    ]
    assert [texts.task_status_name(s) for s in statuses] == expected[0]
    actions = [*Action, texts.NEW_EXPORT]
    assert [texts.action_text(a) for a in actions] == expected[1] + expected[2]


def test_task_status_with_its_reason(lang: str) -> None:
    """The cell: the status and a short reason; ``full``: the whole sentence (the tooltip)."""
    zh = lang == "zh_CN"
    disk = task(
        status=TaskStatus.PAUSED,
        reason=StopReason.DISK_FULL,
        reason_params={"need": 5_000_000_000, "free": 1_300_000_000},
    )
    assert texts.task_status_text(disk, running=False) == (
        "已暂停 · 磁盘空间不足" if zh else "Paused · disk full"
    )
    assert texts.task_status_text(disk, running=False, full=True) == (
        "已暂停 · 磁盘空间不足（还需 4.7 GB，可用 1.2 GB）"
        if zh
        else "Paused · disk full (needs 4.7 GB, 1.2 GB free)"
    )
    assert texts.task_status_text(disk, running=False, with_reason=False) == (
        "已暂停" if zh else "Paused"
    )
    expired = task(
        status=TaskStatus.PAUSED,
        reason=StopReason.LOGIN_EXPIRED,
        reason_detail="401 unauthorized",
    )
    assert texts.task_status_text(expired, running=False) == (
        "已暂停 · 登录已过期" if zh else "Paused · login expired"
    )
    # The detail stored with the reason stands in for a missing "error" parameter.
    assert texts.task_status_text(expired, running=False, full=True) == (
        "已暂停 · 登录已过期（401 unauthorized），请重新登录后继续"
        if zh
        else "Paused · login expired (401 unauthorized): sign in again, then resume"
    )
    unreachable = task(
        status=TaskStatus.PAUSED,
        reason=StopReason.SERVER_UNREACHABLE,
        reason_detail="connection refused",
    )
    assert texts.task_status_text(unreachable, running=False) == (
        "已暂停 · 无法连接服务器" if zh else "Paused · server unreachable"
    )
    assert texts.task_status_text(unreachable, running=False, full=True) == (
        "已暂停 · 无法连接服务器：connection refused"
        if zh
        else "Paused · server unreachable: connection refused"
    )
    by_user = task(status=TaskStatus.CANCELED, reason=StopReason.BY_USER)
    assert texts.task_status_text(by_user, running=False) == ("已取消" if zh else "Canceled")
    by_logout = task(status=TaskStatus.CANCELED, reason=StopReason.LOGGED_OUT)
    assert texts.task_status_text(by_logout, running=False) == (
        "已取消 · 已退出登录" if zh else "Canceled · signed out"
    )


@pytest.mark.parametrize("status", [TaskStatus.PAUSED, TaskStatus.CANCELED])
@pytest.mark.parametrize("code", [*StopReason, "quota_exceeded"])
def test_the_status_cell_keeps_server_text_and_figures_for_its_tooltip(
    lang: str, status: TaskStatus, code: str
) -> None:
    """Every reason, with every parameter and a detail from the server: the cell is the
    status and a few words in the user's language; the tooltip has all of it."""
    detail = "401 unauthorized"
    # Every parameter but "error": the server's detail stands in for it.
    params = {name: value for name, (value, _) in SAMPLES.items() if name != "error"}
    record = task(status=status, reason=code, reason_params=params, reason_detail=detail)
    cell = texts.task_status_text(record, running=False)
    figures = [shown for _, shown in SAMPLES.values()]
    assert not any(f in cell for f in [detail, *figures]), cell
    assert_finished(cell, lang)
    if status is TaskStatus.CANCELED and code == StopReason.BY_USER:
        return  # canceled by the user: the bare status
    assert cell == texts.task_status_text(record, False, with_reason=False) + " · " + (
        texts.stop_reason_short_text(code)
    )
    assert cell in texts.task_status_variants()
    tooltip = texts.task_status_text(record, running=False, full=True)
    assert tooltip.startswith(texts.task_status_name(status))
    assert texts.stop_reason_text(code, {**params, "error": detail}) in tooltip
    if code in (StopReason.LOGIN_EXPIRED, StopReason.SERVER_UNREACHABLE):
        assert detail in tooltip


def test_every_stop_reason_has_its_own_short_text(lang: str) -> None:
    shorts = [texts.stop_reason_short_text(code) for code in StopReason]
    assert len(set(shorts)) == len(shorts)
    assert texts.stop_reason_short_text("quota_exceeded") not in shorts
    for text in shorts:
        assert_finished(text, lang)


def test_the_status_variants_are_every_text_the_cell_shows(lang: str) -> None:
    variants = texts.task_status_variants(12_345)
    running = texts.task_status_variants(12_345, running=True)
    for status in TaskStatus:
        assert texts.task_status_name(status) in variants
    assert texts.task_status_name(texts.RUNNING) in running
    failed = task(status=TaskStatus.COMPLETED, succeeded=1, failed=12_345)
    assert texts.task_status_text(failed, running=False) in variants
    listing = texts.listing_text(12_345)
    assert any(listing in v and v != listing for v in variants)
    assert any(listing in v for v in running)
    for text in variants + running:
        assert_finished(text, lang, ("12,345",))


def test_task_status_running_and_completed(lang: str) -> None:
    zh = lang == "zh_CN"
    waiting = task(status=TaskStatus.WAITING)
    assert texts.task_status_text(waiting, running=True) == ("进行中" if zh else "Running")
    assert texts.task_status_text(waiting, running=False) == ("等待中" if zh else "Waiting")
    done = task(status=TaskStatus.COMPLETED, succeeded=10)
    assert texts.task_status_text(done, running=False) == ("已完成" if zh else "Completed")
    some_failed = task(status=TaskStatus.COMPLETED, succeeded=7, failed=3)
    assert texts.task_status_text(some_failed, running=False) == (
        "已完成（3 个失败）" if zh else "Completed (3 failed)"
    )
    many_failed = task(status=TaskStatus.COMPLETED, succeeded=0, failed=12345)
    assert texts.task_status_text(many_failed, running=False) == (
        "已完成（12,345 个失败）" if zh else "Completed (12,345 failed)"
    )


def test_file_statuses(lang: str) -> None:
    zh = lang == "zh_CN"
    waiting = file()
    assert texts.file_status_text(waiting, in_flight=False) == ("等待中" if zh else "Waiting")
    # A file in flight says the word of the "in progress" filter above the list.
    assert texts.file_status_text(waiting, in_flight=True) == ("进行中" if zh else "In progress")
    assert texts.file_status_text(waiting, in_flight=True) == texts.file_filter_text(
        FileFilter.IN_PROGRESS
    )
    assert texts.file_status_text(waiting, in_flight=True, percent=45) == (
        "进行中 · 45%" if zh else "In progress · 45%"
    )
    # A percent out of range is clamped, never shown as 130 %.
    assert texts.file_status_text(waiting, in_flight=True, percent=130).endswith("100%")
    paused = file(status=FileStatus.PAUSED)
    assert texts.file_status_text(paused, in_flight=False) == ("已暂停" if zh else "Paused")
    ok = file(status=FileStatus.COMPLETED, outcome=FileOutcome.SUCCEEDED)
    # A completed row stays completed even if a stale in-flight set still names it.
    assert texts.file_status_text(ok, in_flight=True) == ("成功" if zh else "Succeeded")
    failed = file(
        status=FileStatus.COMPLETED,
        outcome=FileOutcome.FAILED,
        error_code=FileError.VERSION_GONE,
        error_params={"status": 410},
    )
    assert texts.file_status_text(failed, in_flight=False) == ("失败" if zh else "Failed")
    assert texts.file_error_text(failed.error_code or "", failed.error_params) == (
        "服务器上已无此版本（HTTP 410）" if zh else "version no longer on the server (HTTP 410)"
    )


def test_file_error_message_stands_in_for_the_error_parameter(lang: str) -> None:
    text = texts.file_error_text(FileError.LOCAL_WRITE_ERROR, None, "Permission denied")
    assert text == (
        "无法写入文件：Permission denied"
        if lang == "zh_CN"
        else "could not be written: Permission denied"
    )
    # An "error" parameter wins over the message.
    text = texts.file_error_text(
        FileError.LOCAL_WRITE_ERROR, {"error": "Read-only file system"}, "Permission denied"
    )
    assert "Read-only file system" in text
    assert "Permission denied" not in text


@pytest.mark.parametrize("value", list(FileFilter))
def test_every_file_filter_has_a_label(lang: str, value: FileFilter) -> None:
    assert_finished(texts.file_filter_text(value), lang)


def test_file_filter_labels(lang: str) -> None:
    labels = [texts.file_filter_text(f) for f in FileFilter]
    assert labels == (
        ["全部", "等待中", "进行中", "成功", "失败"]
        if lang == "zh_CN"
        else ["All", "Waiting", "In progress", "Succeeded", "Failed"]
    )


def test_unknown_codes_get_a_generic_sentence_naming_them(lang: str) -> None:
    cases = [
        texts.stop_reason_text("quota_exceeded", {"error": "over quota"}),
        texts.stop_reason_text("quota_exceeded"),
        texts.file_error_text("virus_found", {"error": "EICAR"}),
        texts.file_error_text("virus_found"),
        texts.action_error_text("frozen"),
        texts.task_status_name("archived"),
        texts.action_text("archive"),
        texts.file_filter_text("huge"),
        texts.session_change_text("impersonated"),
    ]
    for text, code in zip(
        cases,
        [
            "quota_exceeded",
            "quota_exceeded",
            "virus_found",
            "virus_found",
            "frozen",
            "archived",
            "archive",
            "huge",
            "impersonated",
        ],
        strict=True,
    ):
        assert code in text
        assert_finished(text, lang, (code, "over quota", "EICAR"))
    assert "over quota" in cases[0]


@pytest.mark.parametrize(
    "params",
    [
        {"need": "lots", "free": -1},  # malformed figures
        {"need": 5_000_000_000},  # half of a pair
        {"need": True, "free": False},  # bool is not a count
        {"error": "   "},  # blank detail
        {"error": 12},  # not text
        {"path": None, "error": None},
    ],
    ids=str,
)
def test_malformed_parameters_give_a_plainer_sentence(lang: str, params: dict[str, object]) -> None:
    text = texts.stop_reason_text(StopReason.DISK_FULL, params)
    assert text == ("磁盘空间不足" if lang == "zh_CN" else "disk full")


def test_server_text_is_shown_with_escapes_for_invisible_characters(lang: str) -> None:
    # A right-to-left override would make "invoice\u202efdp.exe" read "invoiceexe.pdf".
    assert texts.display_safe("invoice\u202efdp.exe") == "invoice\\u202efdp.exe"
    assert texts.display_safe("a\x00b\x1b[31m\u200bc\u2028d") == "a\\x00b\\x1b[31m\\u200bc\\u2028d"
    assert texts.display_safe("底稿 D1-1（审定）.xlsx") == "底稿 D1-1（审定）.xlsx"
    assert texts.display_safe("tab\there") == "tab\\x09here"
    text = texts.stop_reason_text(StopReason.SERVER_UNREACHABLE, {"error": "evil\u202eexe"})
    assert "\u202e" not in text
    assert "evil\\u202eexe" in text
    text = texts.file_error_text(FileError.UNSAFE_NAME, {"error": "bad\u202ename"})
    assert "bad\\u202ename" in text
    text = texts.action_error_text("relative_target", {"path": "x\u202ey"})
    assert "x\\u202ey" in text


def test_a_parameter_holding_a_placeholder_is_not_filled_again(lang: str) -> None:
    text = texts.stop_reason_text(StopReason.DISK_FULL, {"path": "/a/%2/b", "error": "full"})
    assert "/a/%2/b" in text
    assert "full" in text


def test_who_holds_the_queue(lang: str) -> None:
    zh = lang == "zh_CN"
    cli = texts.queue_holder_text(QueueOwner(pid=4242, task=3, front_end="cli"))
    assert cli == (
        "此队列正在命令行工具（manuscript-cli）中导出（进程 4242），请先在那里停止。"
        if zh
        else "This queue is exporting in manuscript-cli (process 4242); stop it there first."
    )
    unknown = texts.queue_holder_text(QueueOwner(pid=None, task=None, front_end="tablet"))
    assert unknown == (
        "此队列正在另一个进程中导出，请先在那里停止。"
        if zh
        else "This queue is exporting in another process; stop it there first."
    )
    window = texts.queue_holder_text(QueueOwner(pid=7, task=None, front_end="window"))
    assert_finished(window, lang, ("7",))
    assert "7" in window


def test_session_changes(lang: str) -> None:
    zh = lang == "zh_CN"
    demo = SessionInfo(
        key=1,
        server_url="http://127.0.0.1:8765",
        user_id="u-1",
        user_name="demo",
        user_type="auditor",
        identity_label="审计员",
        identities=(IdentityChoice("auditor", "审计员"),),
    )
    assert texts.session_change_text(SessionChange.SIGNED_IN, demo) == (
        "已登录：demo（审计员）" if zh else "Signed in as demo (审计员)"
    )
    assert texts.session_change_text(SessionChange.SWITCHED, demo) == (
        "已切换到 demo（审计员）" if zh else "Switched to demo (审计员)"
    )
    assert texts.session_change_text(SessionChange.SIGNED_OUT, None) == (
        "已退出登录" if zh else "Signed out"
    )
    assert texts.session_change_text(SessionChange.LOGIN_EXPIRED, None) == (
        "登录已过期，请重新登录" if zh else "Your login expired: sign in again"
    )
    for change in SessionChange:
        assert_finished(texts.session_change_text(change, demo), lang, ("demo", "审计员"))
        assert_finished(texts.session_change_text(change, None), lang)


def test_queue_and_listing_texts(lang: str) -> None:
    zh = lang == "zh_CN"
    assert texts.queue_state_text(running=True, has_user=True) == (
        "正在导出" if zh else "Exporting"
    )
    assert texts.queue_state_text(running=False, has_user=True) == ("空闲" if zh else "Idle")
    assert texts.queue_state_text(running=True, has_user=False) == (
        "未登录" if zh else "Not signed in"
    )
    assert texts.listing_text(1240, 4_500_000_000) == (
        "已统计 1,240 个文件（4.2 GB）" if zh else "Found 1,240 files (4.2 GB)"
    )
    assert texts.listing_text(1) == ("已统计 1 个文件" if zh else "Found 1 file")
    assert texts.listing_text(0, 0) == ("已统计 0 个文件" if zh else "Found 0 files")


# ------------------------------------------------------------------- figures


@pytest.mark.parametrize(
    ("n", "shown"),
    [
        (0, "0 B"),
        (812, "812 B"),
        (1023, "1,023 B"),
        (1024, "1.0 KB"),
        (1536, "1.5 KB"),
        (1024 * 1024 - 1, "1.0 MB"),  # rounds up into the next unit, never "1,024.0 KB"
        (int(99.96 * 1024**2), "100 MB"),  # no decimal from 100 on
        (5_000_000_000, "4.7 GB"),
        (3 * 1024**4, "3,072 GB"),  # no TB: Explorer's biggest common unit here
        (-5, "0 B"),
        (float("nan"), "0 B"),
        (float("inf"), "0 B"),
    ],
)
def test_size_text(lang: str, n: float, shown: str) -> None:
    assert texts.size_text(n) == shown


def test_speed_and_durations(lang: str) -> None:
    zh = lang == "zh_CN"
    assert texts.speed_text(1.5 * 1024**2) == "1.5 MB/s"
    cases = [
        (0, "0 秒", "0 s"),
        (0.2, "1 秒", "1 s"),  # rounded up: never "0 s" while something remains
        (45, "45 秒", "45 s"),
        (60, "1 分钟", "1 min"),
        (200, "3 分 20 秒", "3 min 20 s"),
        (3600, "1 小时", "1 h"),
        (7500, "2 小时 5 分", "2 h 5 min"),
        (86_400 * 3, "3 天", "3 d"),
        (86_400 * 3 + 4 * 3600 + 59, "3 天 4 小时", "3 d 4 h"),
    ]
    for seconds, in_zh, in_en in cases:
        assert texts.duration_text(seconds) == (in_zh if zh else in_en), seconds
    assert texts.time_left_text(200) == ("剩余 3 分 20 秒" if zh else "3 min 20 s left")
    for unknown in (None, float("inf"), float("nan"), -1.0):
        assert texts.time_left_text(unknown) == "—"


def test_numbers_follow_the_installed_locale(lang: str) -> None:
    """The default QLocale is the language's (digit grouping), set by i18n.install."""
    assert QLocale().name() == ("zh_CN" if lang == "zh_CN" else "en_US")
    assert texts.count_text(1234567) == "1,234,567"


def test_translated_at_call_time(qapp: Any, catalogue_dir: Path) -> None:
    """A language installed later applies to the next call (nothing is cached)."""
    try:
        i18n.install("en", directory=catalogue_dir)
        assert texts.action_text(Action.RESUME) == "Resume"
        i18n.install("zh_CN", directory=catalogue_dir)
        assert texts.action_text(Action.RESUME) == "继续"
    finally:
        i18n.uninstall()
    # Nothing installed: the source strings.
    assert texts.action_text(Action.RESUME) == "Resume"
