"""Whole-path budget (issue #6, item 7c): Windows roots measured on any OS.

A deep tree of long names makes paths Windows refuses (MAX_PATH: 259 UTF-16
units for a file, 247 for a folder). The allocator, given the export root,
keeps every path within that (less a reserve for a run-time `` (NN)``), and
says so when it cannot.
"""

from __future__ import annotations

import random
import re
import unicodedata
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

from manuscript_gui.core.listing import SelectionItem
from manuscript_gui.core.local_names import (
    COUNTER_RESERVE_UNITS,
    MAX_SEGMENT_BYTES,
    MIN_FILE_UNITS,
    MIN_FOLDER_UNITS,
    WINDOWS_MAX_DIR_PATH,
    WINDOWS_MAX_FILE_PATH,
    PathAllocator,
    collision_key,
    extended_length_path,
    fits_path_limits,
    fits_windows_path,
    full_path,
    safe_segment,
    windows_units,
    with_counter,
)
from manuscript_gui.reference_server import ServerHandle
from tests.core.engine_helpers import (
    assert_completed,
    check_on_disk,
    export_and_wait,
    files_of,
    signed_in,
    store_of,
)
from tests.fixtures_server import Admin

ZHANG_SAN = PureWindowsPath(r"C:\Users\张三\Desktop\底稿导出")
FILE_BUDGET = WINDOWS_MAX_FILE_PATH - COUNTER_RESERVE_UNITS  # 254
FOLDER_BUDGET = WINDOWS_MAX_DIR_PATH - COUNTER_RESERVE_UNITS  # 242


def _root_of(units: int) -> PureWindowsPath:
    """A Windows root exactly ``units`` UTF-16 units long (Chinese folder names)."""
    text = "D:\\" + "审计项目归档"[: units - 3]
    while len(text) < units:
        left = units - len(text)
        text += "x" if left == 1 else "\\" + ("项目资料" * 4)[: min(16, left - 1)]
    root = PureWindowsPath(text)
    assert windows_units(str(root)) == units
    return root


def _units(root: PureWindowsPath | PurePosixPath, rel: str) -> int:
    return windows_units(full_path(root, rel))


def _check_segment(segment: str) -> None:
    assert segment not in ("", ".", "..")
    assert not re.search(r'[\x00-\x1f\x7f<>:"/\\|?*]', segment)
    assert segment == segment.strip(" ").rstrip(".")
    assert len(segment.encode("utf-8")) <= MAX_SEGMENT_BYTES
    assert unicodedata.normalize("NFC", segment) == segment


# -- measuring -------------------------------------------------------------------------


def test_windows_paths_are_measured_in_utf16_units_on_any_os() -> None:
    assert str(ZHANG_SAN) == "C:\\Users\\张三\\Desktop\\底稿导出"
    assert windows_units(str(ZHANG_SAN)) == 24
    assert full_path(ZHANG_SAN, "a/b.pdf") == "C:\\Users\\张三\\Desktop\\底稿导出\\a\\b.pdf"
    # 24 + separator + 234 = 259: the last file path Windows takes without \\?\.
    assert fits_windows_path(ZHANG_SAN, "底" * 234)
    assert not fits_windows_path(ZHANG_SAN, "底" * 235)
    # A code point above U+FFFF is two UTF-16 units (a surrogate pair).
    assert windows_units("\U00020000") == 2
    assert fits_windows_path(ZHANG_SAN, "\U00020000" * 117)
    assert not fits_windows_path(ZHANG_SAN, "\U00020000" * 117 + "x")
    # Folders: 247 (CreateDirectory keeps 12 units for an 8.3 name below them).
    assert fits_windows_path(ZHANG_SAN, "夹" * 222, folder=True)
    assert not fits_windows_path(ZHANG_SAN, "夹" * 223, folder=True)
    assert fits_windows_path(ZHANG_SAN, "夹" * 223)
    # Separators count; "/" in the relative path is "\" on Windows.
    assert _units(ZHANG_SAN, "a/b/c") == 24 + 6


@pytest.mark.parametrize(
    ("root", "rel", "expected"),
    [
        (PureWindowsPath("C:\\"), "a/b.txt", "C:\\a\\b.txt"),
        (PureWindowsPath("C:/Users/x/"), "a", "C:\\Users\\x\\a"),
        (PureWindowsPath(r"\\nas\审计\2023"), "a.pdf", "\\\\nas\\审计\\2023\\a.pdf"),
        (PurePosixPath("/home/张三/导出"), "a/b.pdf", "/home/张三/导出/a/b.pdf"),
        (PurePosixPath("/"), "a", "/a"),
    ],
)
def test_full_path_uses_the_flavour_of_the_root(
    root: PureWindowsPath | PurePosixPath, rel: str, expected: str
) -> None:
    assert full_path(root, rel) == expected
    assert _units(root, rel) == len(expected)


def test_the_byte_limits_of_macos_and_linux_follow_from_the_windows_one() -> None:
    # 259 units of the widest characters are 777 UTF-8 bytes (< 1023 < 4095).
    root = PurePosixPath("/")
    assert fits_path_limits(root, "\U00020000" * 129)  # 259 units, 517 bytes
    assert fits_path_limits(root, "报" * 258)  # 774 bytes
    assert not fits_path_limits(root, "报" * 259)
    assert not fits_path_limits(root, "a/" * 600 + "b")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (r"C:\Users\张三\导出\a.pdf", r"\\?\C:\Users\张三\导出\a.pdf"),
        ("C:/a/b", r"\\?\C:\a\b"),
        (r"C:\a\.\b\..\c", r"\\?\C:\a\c"),
        (r"C:\..\a", r"\\?\C:\a"),
        ("C:\\", "\\\\?\\C:\\"),
        (r"\\server\share\审计\x.pdf", r"\\?\UNC\server\share\审计\x.pdf"),
        ("//server/share/a//b", r"\\?\UNC\server\share\a\b"),
        (r"\\server\share\..\a", r"\\?\UNC\server\share\a"),
        (r"\\?\C:\already\long", r"\\?\C:\already\long"),
        (r"\\?\UNC\s\sh\a", r"\\?\UNC\s\sh\a"),
    ],
)
def test_extended_length_form(path: str, expected: str) -> None:
    assert extended_length_path(path) == expected
    assert extended_length_path(PureWindowsPath(path)) == expected


@pytest.mark.parametrize(
    "path", ["a\\b", "C:a", r"\a", r"\\.\C:\a", "C:\\dir.\\x", "C:\\dir \\x", "C:\\a\\x."]
)
def test_extended_length_form_refuses_what_it_cannot_express(path: str) -> None:
    with pytest.raises(ValueError, match=r"Windows path|device path|trim"):
        extended_length_path(path)


# -- allocating under a root -----------------------------------------------------------


def test_an_ordinary_tree_keeps_every_name() -> None:
    alloc = PathAllocator(ZHANG_SAN)
    project = alloc.folder("", "p", "上海某某科技有限公司2023年度财务报表审计")
    d = alloc.folder(project, "d", "D 实质性程序")
    d1 = alloc.folder(d, "d1", "D1 货币资金")
    rel = alloc.file(d1, "D1-1 货币资金审定表（含银行存款余额调节表）.xlsx")
    assert rel == (
        "上海某某科技有限公司2023年度财务报表审计/D 实质性程序/D1 货币资金/"
        "D1-1 货币资金审定表（含银行存款余额调节表）.xlsx"
    )
    assert alloc.over_budget == 0


def test_a_300_character_chinese_name_under_a_200_character_root() -> None:
    root = _root_of(200)
    alloc = PathAllocator(root)
    project = alloc.folder("", "p", "某某控股集团")
    rel = alloc.file(project, "长" * 300 + ".pdf")
    name = rel.rsplit("/", 1)[1]
    assert name.endswith(".pdf")
    assert name.startswith("长长长")
    assert windows_units(name) >= MIN_FILE_UNITS
    # The whole budget is used, and no more: 200 + 1 + 6 + 1 + 46 + 4 = 258 - 4.
    assert _units(root, rel) == FILE_BUDGET
    assert fits_windows_path(root, rel)
    assert alloc.over_budget == 0
    # The reserve: a "(NN)" the engine adds at run time when the target is taken
    # still fits without the \\?\ prefix.
    for n in (2, 10, 99):
        renamed = f"{project}/{with_counter(name, n)}"
        assert fits_windows_path(root, renamed), n
    # Without the reserve the same name would not have fitted.
    assert not fits_windows_path(root, f"{project}/{name[:-4]}长长长长长 (99).pdf")


def test_names_stay_unique_after_shortening() -> None:
    root = _root_of(150)
    alloc = PathAllocator(root)
    common = "审计底稿" * 60  # 240 units: cut well before the names differ
    folders = [alloc.folder("", f"f{i}", f"{common}{i}") for i in range(12)]
    assert len({collision_key(f) for f in folders}) == len(folders)
    files = [alloc.file(folders[0], f"{common}-{i}.xlsx") for i in range(30)]
    files += [alloc.file(folders[0], f"{'ABC' * 100}.pdf"), alloc.file(folders[0], "abc" * 100)]
    files.append(alloc.file(folders[0], f"{'abc' * 100}.PDF"))
    assert len({collision_key(f) for f in files}) == len(files)
    assert files[1].endswith(" (2).xlsx")
    assert files[-1].endswith(" (2).PDF")
    for rel in folders:
        assert fits_windows_path(root, rel, folder=True)
        assert _units(root, rel) <= FOLDER_BUDGET
    for rel in files:
        assert _units(root, rel) <= FILE_BUDGET, rel
        for segment in rel.split("/"):
            _check_segment(segment)
    assert alloc.over_budget == 0


def test_a_sixty_level_tree_shrinks_with_depth_and_says_when_it_cannot_fit() -> None:
    alloc = PathAllocator(ZHANG_SAN)
    parent = ""
    folders: list[str] = []
    files: list[str] = []
    for level in range(60):
        parent = alloc.folder(parent, f"L{level}", f"第{level}层 " + "很长的文件夹名称" * 5)
        folders.append(parent)
        files.append(alloc.file(parent, "底稿 " + "x" * 100 + ".xlsx"))
    segments = [f.rsplit("/", 1)[-1] for f in folders]
    widths = [windows_units(s) for s in segments]
    # Caps shrink with depth (never grow), down to the minimum, never below it.
    assert widths == sorted(widths, reverse=True)
    assert widths[0] > widths[3] > MIN_FOLDER_UNITS
    assert widths[-1] == MIN_FOLDER_UNITS
    assert all(s.startswith("第") for s in segments)
    # Every file keeps its extension and at least the minimal name.
    for rel in files:
        name = rel.rsplit("/", 1)[1]
        assert name.endswith(".xlsx")
        assert windows_units(name) >= MIN_FILE_UNITS
        for segment in rel.split("/"):
            _check_segment(segment)
    # The first levels fit; from some depth on nothing can, and the count says so.
    over = [rel for rel in files if _units(ZHANG_SAN, rel) > FILE_BUDGET]
    over += [rel for rel in folders if _units(ZHANG_SAN, rel) > FOLDER_BUDGET]
    assert files[0] not in over
    assert files[4] not in over
    assert files[-1] in over
    assert alloc.over_budget == len(over)
    # Such a path goes to the engine's I/O in its extended-length form.
    deepest = full_path(ZHANG_SAN, files[-1])
    assert not fits_windows_path(ZHANG_SAN, files[-1])
    assert extended_length_path(deepest) == "\\\\?\\" + deepest
    # Compared with no budget at all (the old allocator): a path Windows refuses.
    unbounded = PathAllocator()
    parent = ""
    for level in range(60):
        parent = unbounded.folder(parent, f"L{level}", f"第{level}层 " + "很长的文件夹名称" * 5)
    assert _units(ZHANG_SAN, parent) > 2_000


def test_a_sixty_level_tree_of_short_names_is_left_alone() -> None:
    alloc = PathAllocator(ZHANG_SAN)
    parent = ""
    for level in range(60):
        parent = alloc.folder(parent, f"L{level}", chr(ord("a") + level % 26))
    rel = alloc.file(parent, "底稿.xlsx")
    assert rel == "/".join(chr(ord("a") + i % 26) for i in range(60)) + "/底稿.xlsx"
    assert fits_windows_path(ZHANG_SAN, rel)
    assert alloc.over_budget == 0


def test_a_root_of_240_units_still_gets_paths_and_says_so() -> None:
    root = _root_of(240)
    alloc = PathAllocator(root)
    project = alloc.folder("", "p", "上海某某科技有限公司")
    assert windows_units(project) == MIN_FOLDER_UNITS
    rel = alloc.file(project, "D1-1 货币资金审定表（含调节表）.xlsx")
    assert rel == "上海某某科技有限/D1-1 货币资金审定.xlsx"
    assert windows_units(rel.rsplit("/", 1)[1]) == MIN_FILE_UNITS
    assert alloc.over_budget == 2  # the folder and the file
    assert not fits_windows_path(root, rel)
    assert extended_length_path(full_path(root, rel)).startswith("\\\\?\\D:\\审计项目归档\\")


def test_a_posix_root_is_budgeted_for_windows_too() -> None:
    """The folder may be copied to a Windows PC later: the strictest limit binds."""
    root = PurePosixPath("/home/zhangsan/" + "导出" * 50)
    alloc = PathAllocator(root)
    rel = alloc.file(alloc.folder("", "p", "项目"), "report " * 50 + ".docx")
    assert _units(root, rel) == FILE_BUDGET
    assert fits_path_limits(root, rel)
    assert alloc.over_budget == 0


def test_without_a_root_only_segments_are_limited() -> None:
    alloc = PathAllocator()
    parent = ""
    for level in range(30):
        parent = alloc.folder(parent, f"L{level}", "夹" * 100)
    rel = alloc.file(parent, "长" * 300 + ".pdf")
    assert all(s == "夹" * 66 for s in rel.split("/")[:-1])  # 198 bytes: the segment cap
    assert len(rel.rsplit("/", 1)[1].encode()) <= MAX_SEGMENT_BYTES
    assert alloc.over_budget == 0


def test_folder_names_have_no_extension() -> None:
    # A folder "2023.12 final" is not of type ".12 final": counters and cuts go at the end.
    assert with_counter("2023.12 final", 2, folder=True) == "2023.12 final (2)"
    assert with_counter("2023.12 final", 2) == "2023 (2).12 final"
    assert safe_segment("v1.2" + "x" * 300, folder=True, max_units=10) == "v1.2xxxxxx"
    alloc = PathAllocator()
    assert alloc.folder("", "a", "v1.2") == "v1.2"
    assert alloc.folder("", "b", "V1.2") == "V1.2 (2)"


@pytest.mark.parametrize("root", [None, ZHANG_SAN, _root_of(200)])
def test_a_reserved_name_is_never_handed_out(root: PureWindowsPath | None) -> None:
    """The staging folder's name stays free whatever the budget does to other names."""
    alloc = PathAllocator(root)
    alloc.reserve("", ".manuscript-partial")
    names = [
        alloc.folder("", f"p{i}", n)
        for i, n in enumerate((".manuscript-partial", ".MANUSCRIPT-PARTIAL"))
    ]
    names.append(alloc.file("", ".manuscript-partial"))
    assert all(collision_key(n) != ".manuscript-partial" for n in names)
    assert len({collision_key(n) for n in names}) == 3


# -- property: random trees under random roots -----------------------------------------

_ALPHABET = (
    "abcXYZ019 .-_()"
    + "审计底稿货币资金项目报告长"
    + "\U00020000\U0001f600"  # two units each
    + "\u202e\u200b\ufe0f\u3000\u00a0"  # invisible, direction, variation, spaces
)


def _name(rng: random.Random) -> str:
    size = rng.choice((1, 3, 8, 20, 60, 150, 300))
    text = "".join(rng.choice(_ALPHABET) for _ in range(size))
    return text + rng.choice(("", ".pdf", ".xlsx", ".tar.gz", ""))


@pytest.mark.parametrize("seed", range(12))
def test_random_trees_fit_or_are_counted(seed: int) -> None:
    rng = random.Random(seed)
    root: PureWindowsPath | PurePosixPath = rng.choice(
        (ZHANG_SAN, _root_of(rng.choice((3, 60, 120, 180, 230))), PurePosixPath("/srv/导出"))
    )
    alloc = PathAllocator(root)
    folders = [""]
    seen: dict[str, set[str]] = {}
    over = 0
    for i in range(400):
        parent = rng.choice(folders[-8:] if rng.random() < 0.7 else folders)
        if rng.random() < 0.3:
            rel = alloc.folder(parent, f"id-{i}", _name(rng))
            folders.append(rel)
            over += _units(root, rel) > FOLDER_BUDGET
        else:
            rel = alloc.file(parent, _name(rng))
            over += _units(root, rel) > FILE_BUDGET
            if _units(root, rel) <= FILE_BUDGET:
                assert fits_windows_path(root, rel)
                assert fits_path_limits(root, rel)
        head, _, name = rel.rpartition("/")
        assert head == parent
        _check_segment(name)
        assert windows_units(name) >= min(MIN_FILE_UNITS, windows_units(safe_segment(name)))
        key = collision_key(name)
        assert key not in seen.setdefault(parent, set()), rel
        seen[parent].add(key)
    assert alloc.over_budget == over


# -- the engine, against the real reference server -------------------------------------


async def test_an_export_of_a_deep_tree_fits_windows_under_its_folder(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    """Needs the export folder passed to the allocator at task creation
    (``PathAllocator(task.target_dir)`` in core/listing.py)."""
    pid = admin.create_project("某某控股集团2023年度合并财务报表审计")
    chain = [f"{level}层" + "合并范围内子公司审计底稿" * 5 for level in range(8)]
    for depth in (2, 5, 8):
        for n in range(3):
            name = f"{n}" + "货币资金审定表" * 20 + ".xlsx"
            admin.add_file(pid, chain[:depth], name, f"{depth}/{n}".encode() * 50)
    admin.access("demo", "auditor", pid, True)
    out = tmp_path / "out"
    async with signed_in(fresh_server.base_url) as service:
        assert service.user is not None
        names = {p.id: p.name async for p in service.user.client.iter_projects()}
        task = await export_and_wait(service, [SelectionItem(pid, names[pid])], out)
        assert_completed(task)
        store = store_of(service)
        rows = files_of(store, task.id)
        assert check_on_disk(store, task) == 9
    assert len({collision_key(r.local_path) for r in rows}) == len(rows)
    for row in rows:
        assert fits_windows_path(out, row.local_path), (len(str(out)), row.local_path)
        assert windows_units(full_path(out, row.local_path)) <= FILE_BUDGET
        assert row.local_path.endswith(".xlsx")
        assert row.local_path.rsplit("/", 1)[1][0] in "012"
