"""Local path safety for hostile remote names (server-api.md: names are untrusted)."""

from __future__ import annotations

import functools
import json
import os
import sys
import unicodedata
from pathlib import Path

import pytest

from manuscript_gui.core import local_names as paths
from manuscript_gui.core.listing import SelectionItem
from manuscript_gui.core.local_names import (
    MAX_SEGMENT_BYTES,
    PathAllocator,
    collision_key,
    safe_segment,
)
from manuscript_gui.core.task_manager import STAGING_DIR
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
    "invoice\u202efdp.exe",  # right-to-left override: shows as "invoiceexe.pdf"
    "\u200b",
    "\ufeff\u200d\u2060",
    "\u3164",  # Hangul filler: a "blank" name
    "\u3000\u00a0",
    "c1\x85\x9b",
    "a\ud800b.txt",  # lone surrogate, as json.loads('"a\\ud800b.txt"') gives it
    "\udfff" * 300,
]


# Unicode 14.0.0 PropList.txt (https://www.unicode.org/Public/14.0.0/ucd/PropList.txt):
# the two inputs of Default_Ignorable_Code_Point that unicodedata cannot tell.
OTHER_DEFAULT_IGNORABLE = [
    *range(0x034F, 0x0350),
    *range(0x115F, 0x1161),
    *range(0x17B4, 0x17B6),
    0x2065,
    0x3164,
    0xFFA0,
    *range(0xFFF0, 0xFFF9),
    0xE0000,
    *range(0xE0002, 0xE0020),
    *range(0xE0080, 0xE0100),
    *range(0xE01F0, 0xE1000),
]
PREPENDED_CONCATENATION_MARK = [*range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891]
PREPENDED_CONCATENATION_MARK += [0x08E2, 0x110BD, 0x110CD]


@functools.cache
def default_ignorable() -> frozenset[int]:
    """Default_Ignorable_Code_Point, derived as DerivedCoreProperties.txt says:
    Other_Default_Ignorable_Code_Point + Cf + Variation_Selector - White_Space
    - FFF9..FFFB - 13430..1343F - Prepended_Concatenation_Mark."""
    found = set(OTHER_DEFAULT_IGNORABLE)
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        if unicodedata.category(ch) == "Cf" or "VARIATION SELECTOR" in unicodedata.name(ch, ""):
            found.add(cp)
    white_space = {cp for cp in found if chr(cp).isspace()}
    excluded = {*range(0xFFF9, 0xFFFC), *range(0x13430, 0x13440), *PREPENDED_CONCATENATION_MARK}
    return frozenset(found - white_space - excluded)


def _must_not_survive(ch: str) -> bool:
    """Invisible, direction-changing or control code points (the classes of item 7a)."""
    cp = ord(ch)
    return (
        unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Zl", "Zp"}
        or 0xFDD0 <= cp <= 0xFDEF
        or (cp & 0xFFFE) == 0xFFFE
        or cp in default_ignorable()
    )


@pytest.mark.parametrize("name", HOSTILE)
def test_segment_is_safe_everywhere(name: str) -> None:
    seg = safe_segment(name)
    assert seg not in {"", ".", ".."}
    assert "/" not in seg
    assert "\\" not in seg
    assert not any(ord(c) < 32 or ord(c) == 127 for c in seg)
    assert not any(_must_not_survive(c) for c in seg), ascii(seg)
    seg.encode("utf-8")  # no lone surrogate: a file system and SQLite both take it
    assert unicodedata.normalize("NFC", seg) == seg
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


# -- invisible, direction-changing and control code points (issue #6, item 7a) --------

# What each class becomes: "_" where something stood that a reader should see,
# nothing for the ignorable marks that only select the glyph before them.
MAPPED = [
    ("invoice\u202efdp.exe", "invoice_fdp.exe"),  # RLO: the real extension stays visible
    ("\u202aLRE\u202bRLE\u202cPDF\u202dLRO", "_LRE_RLE_PDF_LRO"),  # embeddings, overrides
    ("a\u2066b\u2067c\u2068d\u2069e", "a_b_c_d_e"),  # isolates
    ("a\u200eb\u200fc\u061cd", "a_b_c_d"),  # LRM, RLM, ALM
    ("a\u200bb\u200cc\u200dd", "a_b_c_d"),  # zero-width space, non-joiner, joiner
    ("a\u2060b\u2062c\u2064d", "a_b_c_d"),  # word joiner, invisible operators
    ("\ufeffbom.txt", "_bom.txt"),  # BOM / zero-width no-break space
    ("Prüfungs\u00adbericht.docx", "Prüfungs_bericht.docx"),  # soft hyphen
    ("a\ufff9b\ufffac\ufffbd", "a_b_c_d"),  # interlinear annotation
    ("flag\U000e0067\U000e0062\U000e007f", "flag___"),  # tag characters
    ("a\u180eb", "a_b"),  # Mongolian vowel separator (Cf)
    ("a\U0001bca0b\U0001d173c", "a_b_c"),  # shorthand and musical format controls
    ("\u0600\u06dd1", "__1"),  # prepended concatenation marks are Cf too
    ("line\u2028para\u2029end", "line_para_end"),  # Zl, Zp
    ("tab\tc1\x85\x9b.txt", "tab_c1__.txt"),  # C0 and C1 controls
    ("nc\ufdd0\ufffe\U0001ffff\U0010ffff.txt", "nc____.txt"),  # noncharacters
    ("a\ud800b\udc00c.txt", "a_b_c.txt"),  # lone surrogates
    ("\u3164", "_"),  # Hangul filler alone
    ("a\u115fb\u1160c\uffa0d", "a_b_c_d"),  # Hangul fillers
    ("a\u2065b\ufff0c\U000e0fffd", "a_b_c_d"),  # reserved default-ignorable (unassigned)
    ("\u2764\ufe0f.txt", "\u2764.txt"),  # variation selector 16: removed
    ("葛\U000e0100.pdf", "葛.pdf"),  # ideographic variation selector: removed
    ("\u1820\u180b\u1821\u180f", "\u1820\u1821"),  # Mongolian free variation selectors
    ("\u1780\u17b4\u17b5", "\u1780"),  # Khmer inherent vowels
    ("e\u034f\u0301.txt", "\u00e9.txt"),  # CGJ removed, then NFC composes é
    ("CON\ufe0f", "_CON"),  # removing a mark must not leave a device name
    ("CON\u200b", "CON_"),
]


@pytest.mark.parametrize(("name", "expected"), MAPPED)
def test_invisible_and_control_code_points_are_mapped_per_class(name: str, expected: str) -> None:
    assert safe_segment(name) == expected


def test_a_lone_surrogate_from_json_is_made_safe() -> None:
    """json.loads turns "\\ud800" into a str no codec takes; today that raises
    UnicodeEncodeError in safe_segment (and in SQLite), stopping the listing."""
    short = json.loads('"\\u62a5\\u544a\\ud800.xlsx"')
    long = json.loads('"' + "\\u62a5" * 120 + '\\udbff.xlsx"')
    assert safe_segment(short) == "报告_.xlsx"
    seg = safe_segment(long)
    assert seg.startswith("报报报")
    assert seg.endswith(".xlsx")
    assert len(seg.encode("utf-8")) <= MAX_SEGMENT_BYTES
    alloc = PathAllocator()
    folder = alloc.folder("", "f", json.loads('"\\udc80\\u9879\\u76ee"'))
    assert folder == "_项目"
    assert alloc.file(folder, short) == "_项目/报告_.xlsx"


WHITESPACE = [
    ("\u3000审计报告\u3000", "审计报告"),  # ideographic space at the ends: invisible, stripped
    ("审计\u3000报告.xlsx", "审计\u3000报告.xlsx"),  # typed on purpose inside: kept
    ("\u00a0a\u00a0b\u00a0", "a\u00a0b"),
    ("x\u2002y\u2003z\u2009", "x\u2002y\u2003z"),  # en, em, thin space
    ("\u202fa\u205fb\u1680", "a\u205fb"),
    ("报告.pdf\u3000", "报告.pdf"),
    ("报告\u3000.pdf", "报告.pdf"),  # like "report .pdf": no space before the extension
    ("\u3000 \u2003", "_"),
    ("dots.\u3000.", "dots"),
    ("CON\u3000.txt", "_CON.txt"),  # stripping before the extension makes a device name
]


@pytest.mark.parametrize(("name", "expected"), WHITESPACE)
def test_other_whitespace_is_kept_inside_and_stripped_at_the_ends(name: str, expected: str) -> None:
    assert safe_segment(name) == expected


def test_names_stay_distinct_after_the_mapping() -> None:
    alloc = PathAllocator()
    names = [
        "a\u200bb.txt",
        "a\u200cb.txt",
        "a\u200db.txt",
        "a_b.txt",
        "ab.txt",
        "a\ufe0fb.txt",
        "A\u034fB.TXT",
        "invoice\u202efdp.exe",
        "invoice_fdp.exe",
    ]
    got = [alloc.file("", name) for name in names]
    assert got == [
        "a_b.txt",
        "a_b (2).txt",
        "a_b (3).txt",
        "a_b (4).txt",
        "ab.txt",
        "ab (2).txt",
        "AB (3).TXT",
        "invoice_fdp.exe",
        "invoice_fdp (2).exe",
    ]
    assert len({collision_key(p) for p in got}) == len(got)
    # Folders too: a folder named with an RLO never shares a local folder.
    f1 = alloc.folder("", "id-1", "\u202eabc")
    f2 = alloc.folder("", "id-2", "_abc")
    assert (f1, f2) == ("_abc", "_abc (2)")


def test_default_ignorable_table_agrees_with_unicodedata() -> None:
    """The module's table is Unicode's Default_Ignorable_Code_Point: the same set
    as derived here from PropList.txt and unicodedata's categories and names."""
    table = {cp for low, high in paths.DEFAULT_IGNORABLE for cp in range(low, high + 1)}
    assert table == default_ignorable()
    for cp in table:
        category = unicodedata.category(chr(cp))
        assert category in {"Cf", "Mn", "Lo", "Cn"}, (hex(cp), category)
        if category == "Lo":
            assert "FILLER" in unicodedata.name(chr(cp)), hex(cp)
    # The stripped spaces are exactly general category Zs.
    zs = {chr(cp) for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)) == "Zs"}
    assert zs == set(paths._SPACES)


def test_nothing_invisible_survives_any_code_point() -> None:
    """Every code point 0..0x10FFFF inside a name: none of the classes survives."""
    survivors = 0
    chunk = 16  # 16 code points of at most 12 UTF-8 bytes after NFC: never cut
    for start in range(0, sys.maxunicode + 1, chunk):
        text = "".join(chr(cp) for cp in range(start, min(start + chunk, sys.maxunicode + 1)))
        seg = safe_segment(f"_{text}_")  # "_" composes with no combining mark
        assert seg[0] == seg[-1] == "_", hex(start)
        bad = [f"U+{ord(c):04X}" for c in seg if _must_not_survive(c)]
        assert not bad, (hex(start), bad)
        seg.encode("utf-8")
        survivors += sum(1 for c in text if c in seg)
    # Not vacuous: letters, ideographs, private use and unassigned code points
    # (rendered as visible boxes) stay.
    assert survivors > 1_000_000
    for kept in ("中", "é", "ß", "\ue000", "\U0001f600", "\U0010fffd", "Ω"):
        assert safe_segment(f"x{kept}y") == f"x{kept}y"


# -- the engine, against the real reference server -------------------------------------


async def test_invisible_names_never_reach_the_disk(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    """Folders and files named with every invisible class land under visible,
    distinct names, byte-exact; nothing of those classes is in any name on disk."""
    pid = admin.create_project("\u202e项目\u200b名称")
    tree: list[tuple[list[str], str]] = [
        ([], "invoice\u202efdp.exe"),
        ([], "invoice_fdp.exe"),
        ([], "a\u200bb.txt"),
        ([], "a\u200db.txt"),
        ([], "ab.txt"),
        ([], "\u2764\ufe0f.txt"),
        ([], "\u2764.txt"),
        ([], "\ufeff\u00ad\u2066x\u2069.pdf"),
        ([], "c1\x85\x9b.txt"),
        ([], "nc\ufdd0\ufffe.txt"),
        ([], "\u3164"),
        ([], "line\u2028end"),
        ([], "\u3000审计　报告\u3000.xlsx"),
        (["\u202d底稿\u202c"], "flag\U000e0067\U000e0062.txt"),
        (["底稿"], "x.txt"),
        (["\u200b"], "y.txt"),
    ]
    for n, (folders, name) in enumerate(tree):
        admin.add_file(pid, folders, name, f"{n}:{name!a}".encode() * (n + 1))
    admin.access("demo", "auditor", pid, True)
    out = tmp_path / "out"
    async with signed_in(fresh_server.base_url) as service:
        assert service.user is not None
        names = {p.id: p.name async for p in service.user.client.iter_projects()}
        task = await export_and_wait(service, [SelectionItem(pid, names[pid])], out)
        assert_completed(task)
        store = store_of(service)
        rows = files_of(store, task.id)
        assert check_on_disk(store, task) == len(tree)
    assert len({collision_key(r.local_path) for r in rows}) == len(rows)
    seen = 0
    for folder, dirs, files in os.walk(out):
        for entry in (*dirs, *files):
            if folder == str(out) and entry == STAGING_DIR:
                continue
            bad = [f"U+{ord(c):04X}" for c in entry if _must_not_survive(c)]
            assert not bad, (entry, bad)
            seen += 1
    assert seen >= len(tree)
    by_remote = {r.remote_path.rsplit("/", 1)[1]: r.local_path for r in rows}
    # The real extension stays what the reader sees; the order of the listing
    # decides which of the two equal names takes the counter.
    spoof, plain = by_remote["invoice\u202efdp.exe"], by_remote["invoice_fdp.exe"]
    assert {spoof, plain} == {"_项目_名称/invoice_fdp.exe", "_项目_名称/invoice_fdp (2).exe"}
    assert by_remote["\u3000审计　报告\u3000.xlsx"] == "_项目_名称/审计　报告.xlsx"
