"""Local path safety for hostile remote names (server-api.md: names are untrusted)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from manuscript_gui.core.paths import (
    MAX_SEGMENT_BYTES,
    PathAllocator,
    collision_key,
    safe_segment,
)

HOSTILE = [
    "..",
    ".",
    "",
    "/",
    "\\",
    "../../etc/passwd",
    "..\\..\\boot.ini",
    "CON",
    "con",
    "nul.txt",
    "COM1.tar.gz",
    "LPT9",
    "CONIN$",
    "aux .txt",
    "trailing dots...",
    "trailing space   ",
    "   leading space",
    "ctl\x00\x01\x1f\x7fname",
    "tab\tnew\nline",
    'wild<>:"|?*card',
    "报" * 120 + ".xlsx",  # 360 UTF-8 bytes
    "x" * 300,
    "D1-1 货币资金审定表.xlsx",
    "Report.PDF",
    "report.pdf",
    "e\u0301t\u00e9",  # decomposed and composed é
    "\u00e9t\u00e9",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_segment_is_safe_everywhere(name: str) -> None:
    seg = safe_segment(name)
    assert seg not in {"", ".", ".."}
    assert "/" not in seg
    assert "\\" not in seg
    assert not any(ord(c) < 32 or ord(c) == 127 for c in seg)
    assert not any(c in '<>:"|?*' for c in seg)
    assert not seg.endswith((".", " "))
    assert not seg.startswith(" ")
    assert len(seg.encode("utf-8")) <= MAX_SEGMENT_BYTES
    stem = seg.split(".", 1)[0].rstrip(" ").upper()
    assert stem not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT9", "CONIN$"}


def test_ordinary_names_are_kept() -> None:
    assert safe_segment("D1-1 货币资金审定表.xlsx") == "D1-1 货币资金审定表.xlsx"
    assert safe_segment("A 业务承接") == "A 业务承接"
    assert safe_segment(".hidden") == ".hidden"


def test_long_names_keep_their_extension() -> None:
    seg = safe_segment("报" * 120 + ".xlsx")
    assert seg.endswith(".xlsx")
    assert seg.startswith("报报报")


def test_reserved_names_are_prefixed_not_dropped() -> None:
    assert safe_segment("CON") == "_CON"
    assert safe_segment("nul.txt") == "_nul.txt"
    assert safe_segment("console.log") == "console.log"


def test_case_and_normalisation_collisions_are_disambiguated() -> None:
    alloc = PathAllocator()
    a = alloc.file("", "Report.PDF")
    b = alloc.file("", "report.pdf")
    c = alloc.file("", "REPORT.pdf")
    assert (a, b, c) == ("Report.PDF", "report (2).pdf", "REPORT (3).pdf")
    d = alloc.file("", "e\u0301t\u00e9")
    e = alloc.file("", "\u00e9t\u00e9")
    assert collision_key(d) != collision_key(e)


def test_colliding_folders_keep_their_files_apart() -> None:
    alloc = PathAllocator()
    f1 = alloc.folder("", "id-1", "Audit")
    f2 = alloc.folder("", "id-2", "audit")
    assert f1 == "Audit"
    assert f2 == "audit (2)"
    # The same remote folder always maps to the same local folder.
    assert alloc.folder("", "id-1", "Audit") == "Audit"
    assert alloc.file(f1, "x.txt") == "Audit/x.txt"
    assert alloc.file(f2, "x.txt") == "audit (2)/x.txt"


def test_file_and_folder_of_the_same_name_do_not_collide() -> None:
    alloc = PathAllocator()
    folder = alloc.folder("", "id", "data")
    file = alloc.file("", "DATA")
    assert collision_key(folder) != collision_key(file)


def test_hostile_tree_lands_inside_target_with_distinct_names(tmp_path: Path) -> None:
    """Every hostile name becomes a real file inside the target, none overwritten."""
    alloc = PathAllocator()
    target = tmp_path / "export"
    target.mkdir()
    written: list[Path] = []
    for i, folder_name in enumerate(["..", "CON", "a/b", "A/B", "trailing. "]):
        folder = alloc.folder("", f"folder-{i}", folder_name)
        for name in HOSTILE:
            rel = alloc.file(folder, name)
            path = target / rel
            assert os.path.commonpath([target.resolve(), path.resolve()]) == str(target.resolve())
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(rel.encode())
            written.append(path)
    keys = {collision_key(str(p.relative_to(target))) for p in written}
    assert len(keys) == len(written)
    for path in written:
        assert path.read_bytes() == str(path.relative_to(target)).encode()
