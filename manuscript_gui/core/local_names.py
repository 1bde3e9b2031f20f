"""Safe local paths for untrusted remote names.

The server does not clean names (server-api.md): they may hold ``/``, ``\\``,
``..``, control characters, invisible or direction-changing code points,
Windows device names, trailing dots or spaces, names over 255 bytes, and names
that differ only by case. An export folder may later be copied to any of
Windows, macOS or Linux, so every segment is made safe for all three at once,
not just for the machine it is written on.

Rules for one segment (:func:`safe_segment`)
--------------------------------------------

* Code points that are invisible, change the rendering direction or are
  controls never reach a local name. ``invoice<U+202E>fdp.exe`` (a
  right-to-left override) shows as "invoiceexe.pdf" in a file manager: in a
  folder of audit evidence that is a spoofing vector, so the whole class goes,
  per kind:

  - ``< > : " / \\ | ? *`` (forbidden on Windows, ``/`` everywhere),
    controls (general category Cc: C0, DEL and C1), format characters (Cf:
    bidi embeddings, overrides, isolates and marks, zero-width space and
    joiners, word joiner and invisible operators, BOM, soft hyphen,
    interlinear annotation, tags, ...), line and paragraph separators (Zl,
    Zp), lone surrogates (Cs: what a JSON ``"\\ud800"`` decodes to; such a
    ``str`` cannot be encoded to UTF-8, so it made this function raise and
    SQLite refuses it) and noncharacters (U+FDD0..U+FDEF and U+xxFFFE/U+xxFFFF
    of every plane) become ``_``: something stood there, and the reader should
    see that. Removing them would hide it: ``a<ZWSP>b`` would read as ``ab``
    (and an existing ``ab`` would push it to ``ab (2)`` with no visible reason),
    and a removed zero-width joiner would silently glue two words.
  - Default_Ignorable_Code_Point (:data:`DEFAULT_IGNORABLE`) code points
    that are not covered above: the Hangul fillers (U+115F, U+1160, U+3164,
    U+FFA0, letters that render as nothing and are used for "blank" names)
    and the reserved, still unassigned ignorable ranges become ``_`` for the
    same reason. The ignorable *combining marks* (general category Mn:
    variation selectors U+FE00..U+FE0F and U+E0100..U+E01EF, Mongolian free
    variation selectors, the combining grapheme joiner U+034F, the deprecated
    Khmer inherent vowels U+17B4/U+17B5) are *removed*: they belong to the
    character before them and only pick its glyph (❤ vs ❤️, a variant of 葛)
    or steer collation, so the character a reader sees is still there without
    them, while a ``_`` would split an emoji or an ideograph from its variant
    and show something nobody saw.

  Names that become equal this way (``a<ZWJ>b`` and ``a<ZWNJ>b``, ``❤️`` and
  ``❤``) are kept apart by the collision rule below (``name (2)``).
* Whitespace other than U+0020 (general category Zs: NBSP, U+3000
  IDEOGRAPHIC SPACE, en/em and the other typographic spaces) is kept inside a
  name: it is visible as space and Chinese users type U+3000 on purpose. At
  either end of a name it is stripped like U+0020: there it is invisible, and
  ``审计报告<U+3000>`` next to ``审计报告`` would be two folders that look the same.
* NFC-normalised (macOS stores decomposed forms; comparing NFC keeps
  collision checks honest across systems), after the mapping above, so that
  removing a mark never leaves a decomposed name behind.
* Leading whitespace and trailing dots/whitespace are stripped (Windows
  silently drops trailing dots and spaces, which would merge names); what is
  left empty becomes ``_``. ``.`` and ``..`` therefore never survive.
* Windows device names (``CON``, ``nul.txt``, ``COM1.tar.gz``, ``CONIN$`` …),
  which Windows treats as devices whatever the extension, get a ``_`` prefix.
* At most :data:`MAX_SEGMENT_BYTES` UTF-8 bytes, cut at a character boundary,
  keeping a short extension (files only: a folder has none), leaving room for a
  `` (N)`` suffix. Linux allows 255 bytes and Windows/macOS 255 UTF-16 units;
  200 bytes satisfies both with room to spare.

Collisions are resolved per directory by :class:`PathAllocator`, comparing
names case-insensitively (NFC + casefold) because Windows and macOS folders
are case-insensitive by default: the second ``Report.pdf`` / ``report.PDF``
becomes ``report (2).PDF``.

Whole-path budget
-----------------

Segments alone are not enough: a deep tree of long names makes paths that
Windows refuses (a 4,600-byte path fails), while the export folder is meant to
open anywhere. Given the export root, :class:`PathAllocator` budgets every
full path ``root + separator + relative path`` against the strictest of the
three platforms, measured the way each one measures:

* Windows, without the ``\\\\?\\`` prefix: MAX_PATH is 260 UTF-16 code units
  *including* the terminating NUL, so a file path may hold
  :data:`WINDOWS_MAX_FILE_PATH` = 259 units; a directory must leave room for
  an 8.3 name ("the directory name cannot exceed MAX_PATH minus 12", i.e.
  248 with the NUL), so :data:`WINDOWS_MAX_DIR_PATH` = 247 units. Source:
  Microsoft Learn, "Maximum Path Length Limitation"
  (https://learn.microsoft.com/windows/win32/fileio/maximum-file-path-limitation)
  and "Naming Files, Paths, and Namespaces"
  (https://learn.microsoft.com/windows/win32/fileio/naming-a-file).
* macOS: PATH_MAX is 1024 bytes with the NUL (``<sys/syslimits.h>``), so
  :data:`MACOS_MAX_PATH_BYTES` = 1023 UTF-8 bytes.
* Linux: PATH_MAX is 4096 bytes with the NUL (``<linux/limits.h>``), so
  :data:`LINUX_MAX_PATH_BYTES` = 4095 bytes.

One UTF-16 unit is at most 3 UTF-8 bytes (a surrogate pair, 2 units, is 4
bytes), so a path within the Windows limit (259 units, at most 777 bytes) is
within both byte limits too: Windows binds, and budgets are kept in UTF-16
units (:func:`windows_units`). The root is measured as given, with the path
semantics of its flavour (a :class:`~pathlib.PureWindowsPath` root is
measured as Windows would, on any OS).

How the budget is spent (file paths get ``259 - COUNTER_RESERVE_UNITS``
units and folder paths ``247 - COUNTER_RESERVE_UNITS``, so that a
``name (NN).ext`` or ``folder (NN)`` the engine picks at run time when the
planned target is taken still fits):

* A file name is shortened stem first, keeping its extension, never below
  :data:`MIN_FILE_UNITS` units.
* A folder is named when it is first seen, before anything below it is known,
  so its cap cannot depend on its subtree. Rule: a folder segment may use at
  most half of the room left below its parent after
  :data:`FILE_NAME_ROOM_UNITS` units are kept for the names inside it,
  ``cap = (room - FILE_NAME_ROOM_UNITS) // 2``, never below
  :data:`MIN_FOLDER_UNITS`. Halving keeps, at every depth, at least as much
  room for the subtree as the folder takes, so caps only shrink where earlier
  levels actually used the room; names that fit are never touched (a usual
  audit tree under ``C:\\Users\\张三\\Desktop\\底稿导出`` keeps every name whole).
* Shortened names stay distinct: collisions are resolved after shortening,
  with the `` (N)`` counter inside the cap.
* When the budget cannot be met at all (a root of 240 units, a tree 60 levels
  deep) paths are still produced, with minimal segments, and counted in
  :attr:`PathAllocator.over_budget`; :func:`fits_windows_path` tells for one
  path whether the engine must use the extended-length form
  (:func:`extended_length_path`) for its own I/O on Windows.

Everything here is pure: no file system access.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePath, PureWindowsPath

__all__ = [
    "COUNTER_RESERVE_UNITS",
    "DEFAULT_IGNORABLE",
    "FILE_NAME_ROOM_UNITS",
    "LINUX_MAX_PATH_BYTES",
    "MACOS_MAX_PATH_BYTES",
    "MAX_SEGMENT_BYTES",
    "MIN_FILE_UNITS",
    "MIN_FOLDER_UNITS",
    "WINDOWS_MAX_DIR_PATH",
    "WINDOWS_MAX_FILE_PATH",
    "PathAllocator",
    "collision_key",
    "extended_length_path",
    "fits_path_limits",
    "fits_windows_path",
    "full_path",
    "safe_segment",
    "windows_units",
    "with_counter",
]

MAX_SEGMENT_BYTES = 200
_MAX_EXT_CHARS = 16

#: Full-path limits (see the module docstring for sources): UTF-16 code units
#: on Windows without the ``\\?\`` prefix, UTF-8 bytes on macOS and Linux.
WINDOWS_MAX_FILE_PATH = 259
WINDOWS_MAX_DIR_PATH = 247
MACOS_MAX_PATH_BYTES = 1023
LINUX_MAX_PATH_BYTES = 4095

#: Units kept free in every planned file path for `` (NN)``, the counter the
#: engine adds at run time when the planned target is taken (up to 99).
COUNTER_RESERVE_UNITS = len(" (99)")
# What a planned path may use: the Windows limits minus the counter reserve
# (folders too: a folder may take a counter at run time when a file is in its way).
_FILE_BUDGET = WINDOWS_MAX_FILE_PATH - COUNTER_RESERVE_UNITS
_FOLDER_BUDGET = WINDOWS_MAX_DIR_PATH - COUNTER_RESERVE_UNITS
#: A shortened file name keeps at least this many UTF-16 units, extension included.
MIN_FILE_UNITS = 16
#: A shortened folder name keeps at least this many UTF-16 units.
MIN_FOLDER_UNITS = 8
#: Units a folder's cap keeps free below it for the names inside it.
FILE_NAME_ROOM_UNITS = 64

#: Default_Ignorable_Code_Point, as inclusive ranges of code points.
#: Source: Unicode 14.0.0, DerivedCoreProperties.txt
#: (https://www.unicode.org/Public/14.0.0/ucd/DerivedCoreProperties.txt), the
#: version of Python 3.11's ``unicodedata``; the set is unchanged in 15.0 and
#: 15.1. Derived there as Other_Default_Ignorable_Code_Point + Cf +
#: Variation_Selector - White_Space - U+FFF9..U+FFFB - U+13430..U+1343F -
#: Prepended_Concatenation_Mark. Python has no accessor for the property;
#: tests/core/test_local_names.py cross-checks this table against ``unicodedata``.
DEFAULT_IGNORABLE: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),  # Cf  SOFT HYPHEN
    (0x034F, 0x034F),  # Mn  COMBINING GRAPHEME JOINER
    (0x061C, 0x061C),  # Cf  ARABIC LETTER MARK
    (0x115F, 0x1160),  # Lo  HANGUL CHOSEONG FILLER..HANGUL JUNGSEONG FILLER
    (0x17B4, 0x17B5),  # Mn  KHMER VOWEL INHERENT AQ..KHMER VOWEL INHERENT AA
    (0x180B, 0x180D),  # Mn  MONGOLIAN FREE VARIATION SELECTOR ONE..THREE
    (0x180E, 0x180E),  # Cf  MONGOLIAN VOWEL SEPARATOR
    (0x180F, 0x180F),  # Mn  MONGOLIAN FREE VARIATION SELECTOR FOUR
    (0x200B, 0x200F),  # Cf  ZERO WIDTH SPACE..RIGHT-TO-LEFT MARK
    (0x202A, 0x202E),  # Cf  LEFT-TO-RIGHT EMBEDDING..RIGHT-TO-LEFT OVERRIDE
    (0x2060, 0x2064),  # Cf  WORD JOINER..INVISIBLE PLUS
    (0x2065, 0x2065),  # Cn  <reserved-2065>
    (0x2066, 0x206F),  # Cf  LEFT-TO-RIGHT ISOLATE..NOMINAL DIGIT SHAPES
    (0x3164, 0x3164),  # Lo  HANGUL FILLER
    (0xFE00, 0xFE0F),  # Mn  VARIATION SELECTOR-1..VARIATION SELECTOR-16
    (0xFEFF, 0xFEFF),  # Cf  ZERO WIDTH NO-BREAK SPACE
    (0xFFA0, 0xFFA0),  # Lo  HALFWIDTH HANGUL FILLER
    (0xFFF0, 0xFFF8),  # Cn  <reserved-FFF0>..<reserved-FFF8>
    (0x1BCA0, 0x1BCA3),  # Cf  SHORTHAND FORMAT LETTER OVERLAP..SHORTHAND FORMAT UP STEP
    (0x1D173, 0x1D17A),  # Cf  MUSICAL SYMBOL BEGIN BEAM..MUSICAL SYMBOL END PHRASE
    (0xE0000, 0xE0000),  # Cn  <reserved-E0000>
    (0xE0001, 0xE0001),  # Cf  LANGUAGE TAG
    (0xE0002, 0xE001F),  # Cn  <reserved-E0002>..<reserved-E001F>
    (0xE0020, 0xE007F),  # Cf  TAG SPACE..CANCEL TAG
    (0xE0080, 0xE00FF),  # Cn  <reserved-E0080>..<reserved-E00FF>
    (0xE0100, 0xE01EF),  # Mn  VARIATION SELECTOR-17..VARIATION SELECTOR-256
    (0xE01F0, 0xE0FFF),  # Cn  <reserved-E01F0>..<reserved-E0FFF>
)

#: General category Zs (Unicode 14.0.0; the test checks it against
#: ``unicodedata``): U+0020 and the other spaces, stripped at a name's ends.
_SPACES = "\u0020\u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f\u3000"
_TRAILING = _SPACES + "."

_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_FORBIDDEN_CHARS = frozenset('<>:"/\\|?*')
_REPLACED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"} | {
    f"{stem}{n}" for stem in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")
}


def _is_default_ignorable(cp: int) -> bool:
    return any(low <= cp <= high for low, high in DEFAULT_IGNORABLE)


def _is_noncharacter(cp: int) -> bool:
    return 0xFDD0 <= cp <= 0xFDEF or (cp & 0xFFFE) == 0xFFFE


@functools.lru_cache(maxsize=1 << 16)
def _map_char(ch: str) -> str:
    """What one code point becomes in a local name: itself, ``_`` or nothing."""
    if ch in _FORBIDDEN_CHARS:
        return "_"
    category = unicodedata.category(ch)
    if category in _REPLACED_CATEGORIES or _is_noncharacter(ord(ch)):
        return "_"
    if _is_default_ignorable(ord(ch)):
        return "" if category == "Mn" else "_"
    return ch


def _printable_ignorable() -> re.Pattern[str]:
    """A character class of the Default_Ignorable code points ``str.isprintable`` accepts."""
    ranges: list[list[int]] = []
    for low, high in DEFAULT_IGNORABLE:
        for cp in range(low, high + 1):
            if not chr(cp).isprintable():
                continue
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1][1] = cp
            else:
                ranges.append([cp, cp])
    # As ranges: re matches a class of ranges far faster than one of 260 characters.
    return re.compile(
        "[" + "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges) + "]"
    )


# str.isprintable() is False for every code point of categories C* and Z*
# except U+0020, so a printable name needs only the ignorable letters and
# marks this class finds (and the forbidden ASCII): the common case stays fast.
_PRINTABLE_IGNORABLE = _printable_ignorable()


def _map_text(text: str) -> str:
    """Apply :func:`_map_char` to every code point of an NFC ``text``; the result is NFC."""
    if text.isprintable():
        mapped = _FORBIDDEN.sub("_", text)
        if text.isascii() or not _PRINTABLE_IGNORABLE.search(mapped):
            return mapped
        mapped = _PRINTABLE_IGNORABLE.sub(lambda m: _map_char(m.group()), mapped)
    else:
        mapped = "".join(map(_map_char, text))
    # Removing a mark can leave a decomposed sequence ("e<CGJ><U+0301>").
    return unicodedata.normalize("NFC", mapped)


def _is_reserved(name: str) -> bool:
    # Windows ignores everything after the first dot (and trailing spaces
    # before it) when matching device names: "nul.txt" and "CON .x" are devices.
    stem = name.split(".", 1)[0].rstrip(" ")
    return stem.upper() in _RESERVED


def windows_units(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Windows path limits.

    A code point above U+FFFF counts 2; a lone surrogate (from an undecodable
    POSIX file name, ``surrogateescape``) counts 1, as Windows would store it.
    """
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _utf8_bytes(text: str) -> int:
    """UTF-8 length; a lone surrogate counts 3 bytes (never less than it could take)."""
    return len(text.encode("utf-8", "surrogatepass"))


def _posix_bytes(text: str) -> int:
    """Length in bytes of a path as ``os.fsencode`` would write it on macOS/Linux."""
    try:
        return len(text.encode("utf-8", "surrogateescape"))
    except UnicodeEncodeError:
        return _utf8_bytes(text)


def _cut(text: str, max_bytes: int, max_units: int | None) -> str:
    """The longest prefix of ``text`` (whole code points) within both limits."""
    if len(text) <= max_bytes // 4 and (max_units is None or len(text) <= max_units // 2):
        return text  # short enough whatever its characters
    if _utf8_bytes(text) <= max_bytes and (max_units is None or windows_units(text) <= max_units):
        return text
    used_bytes = used_units = 0
    for i, ch in enumerate(text):
        cp = ord(ch)
        size = 1 if cp < 0x80 else 2 if cp < 0x800 else 3 if cp < 0x10000 else 4
        units = 2 if cp > 0xFFFF else 1
        if used_bytes + size > max_bytes or (
            max_units is not None and used_units + units > max_units
        ):
            return text[:i]
        used_bytes += size
        used_units += units
    return text


def _split_ext(name: str) -> tuple[str, str]:
    """Split off a short extension ("a.tar.gz" keeps ".gz"); dotfiles have none."""
    dot = name.rfind(".")
    if dot <= 0 or len(name) - dot > _MAX_EXT_CHARS:
        return name, ""
    return name[:dot], name[dot:]


def _fit(stem: str, ext: str, suffix: str = "", max_units: int | None = None) -> str:
    """``stem + suffix + ext`` within MAX_SEGMENT_BYTES and ``max_units``, cutting the stem.

    The extension is kept unless the cap leaves no unit for the stem; then the
    whole name is cut as one stem. The stem never ends in a dot or space and
    is never empty (``_``); a Windows device name gets a ``_`` prefix.
    """
    room_bytes = MAX_SEGMENT_BYTES - _utf8_bytes(ext) - _utf8_bytes(suffix)
    room_units = None
    if max_units is not None:
        room_units = max_units - windows_units(ext) - windows_units(suffix)
        if ext and room_units < 1:
            stem, ext = stem + ext, ""
            room_bytes = MAX_SEGMENT_BYTES - _utf8_bytes(suffix)
            room_units = max_units - windows_units(suffix)
        room_units = max(room_units, 1)
    stem = _cut(stem, max(room_bytes, 1), room_units).rstrip(_TRAILING)
    name = f"{stem or '_'}{suffix}{ext}"
    # Checked on the final name: stripping before the extension can make one
    # ("CON<U+3000>.txt" -> "CON.txt"). A device name is at most 7 characters
    # plus an extension, so the prefix fits any cap this module uses.
    return "_" + name if _is_reserved(name) else name


def _clean(name: str) -> str:
    """The code point and whitespace rules of :func:`safe_segment` (no length, no device names)."""
    text = _map_text(unicodedata.normalize("NFC", name))
    return text.lstrip(_SPACES).rstrip(_TRAILING) or "_"


def _fit_name(text: str, folder: bool, max_units: int | None) -> str:
    stem, ext = (text, "") if folder else _split_ext(text)
    return _fit(stem, ext, "", max_units)


def safe_segment(name: str, *, folder: bool = False, max_units: int | None = None) -> str:
    """Return a version of one remote name that is a safe file name everywhere.

    ``name`` may be any Python ``str`` (lone surrogates included). The result
    is non-empty, NFC, valid UTF-8, at most :data:`MAX_SEGMENT_BYTES` bytes
    and, when given, ``max_units`` UTF-16 units (cutting the stem and keeping
    a file's extension; a ``folder`` name has no extension). Never raises.
    """
    return _fit_name(_clean(name), folder, max_units)


def collision_key(name: str) -> str:
    """How case-insensitive file systems compare names."""
    return unicodedata.normalize("NFC", name).casefold()


def with_counter(name: str, n: int, *, folder: bool = False, max_units: int | None = None) -> str:
    """``report.pdf`` → ``report (n).pdf`` (a folder: ``js`` → ``js (n)``).

    Still within the segment limit and, when given, ``max_units`` UTF-16 units
    (the stem is cut to make room for the counter).
    """
    stem, ext = (name, "") if folder else _split_ext(name)
    return _fit(stem, ext, f" ({n})", max_units)


# -- whole paths ---------------------------------------------------------------------


def _pure(root: str | PurePath) -> PurePath:
    # A str is a path of the machine we run on; a PurePath keeps its flavour,
    # so PureWindowsPath("C:\\...") is measured as Windows would on any OS.
    return root if isinstance(root, PurePath) else PurePath(root)


def _prefix(root: str | PurePath) -> tuple[str, str]:
    """``(root + separator, separator)`` in the root's flavour."""
    pure = _pure(root)
    sep = "\\" if isinstance(pure, PureWindowsPath) else "/"
    text = str(pure)
    return (text if text.endswith(("\\", "/")) else text + sep), sep


def full_path(root: str | PurePath, rel: str) -> str:
    r"""``root`` joined with a ``/``-separated relative path, in the root's flavour.

    ``full_path(PureWindowsPath(r"C:\导出"), "a/b.pdf") == r"C:\导出\a\b.pdf"`` on
    any OS. ``rel`` is expected to be one the allocator made (safe segments).
    """
    prefix, sep = _prefix(root)
    return prefix + rel.replace("/", sep) if rel else str(_pure(root))


def fits_windows_path(root: str | PurePath, rel: str, *, folder: bool = False) -> bool:
    r"""Whether ``root`` + ``rel`` is usable on Windows without the ``\\?\`` prefix.

    At most :data:`WINDOWS_MAX_FILE_PATH` UTF-16 units for a file,
    :data:`WINDOWS_MAX_DIR_PATH` for a folder (``folder=True``). Pure: the
    root is measured as given, on any OS.
    """
    limit = WINDOWS_MAX_DIR_PATH if folder else WINDOWS_MAX_FILE_PATH
    return windows_units(full_path(root, rel)) <= limit


def fits_path_limits(root: str | PurePath, rel: str, *, folder: bool = False) -> bool:
    """Whether ``root`` + ``rel`` is within the Windows, macOS and Linux path limits."""
    size = _posix_bytes(full_path(root, rel))
    return (
        fits_windows_path(root, rel, folder=folder)
        and size <= MACOS_MAX_PATH_BYTES
        and size <= LINUX_MAX_PATH_BYTES
    )


def extended_length_path(path: str | PureWindowsPath) -> str:
    r"""The extended-length form of an absolute Windows path, for paths over MAX_PATH.

    ``C:\a\b`` → ``\\?\C:\a\b``; ``\\server\share\a`` → ``\\?\UNC\server\share\a``;
    a path already in that form is returned as is. The prefix turns off Win32
    normalisation, so it is done here the way Win32 does it: ``/`` becomes
    ``\``, repeated separators collapse, ``.`` components go and ``..``
    removes the component before it (never the drive or share). Pure
    (PureWindowsPath semantics on any OS).

    Raises ValueError for a path that is not fully qualified (relative,
    ``C:x``, ``\x``), a device path (``\\.\``), or a component that ends in a
    dot or space (Win32 would trim it and the prefix would not, so the two forms
    would name different files).
    """
    pure = PureWindowsPath(path)
    text = str(pure)
    if text.startswith("\\\\?\\"):
        return text
    drive = pure.drive
    if not drive or not pure.root:
        raise ValueError(f"not a fully qualified Windows path: {text!r}")
    if drive.startswith("\\\\.\\"):
        raise ValueError(f"a device path has no extended-length form: {text!r}")
    parts: list[str] = []
    for part in pure.parts[1:]:
        if part == "..":
            if parts:
                parts.pop()
        elif part != ".":
            if part.endswith((".", " ")):
                raise ValueError(f"Win32 would trim the component {part!r} of {text!r}")
            parts.append(part)
    head = "\\\\?\\UNC\\" + drive[2:] if drive.startswith("\\\\") else "\\\\?\\" + drive
    return head + "\\" + "\\".join(parts)


# -- allocation ----------------------------------------------------------------------


@dataclass
class _Dir:
    room: int | None
    """UTF-16 units a segment directly in this folder may use (None: no budget)."""
    taken: set[str] = field(default_factory=set)
    folders: dict[str, str] = field(default_factory=dict)


class PathAllocator:
    """Assigns distinct, safe relative paths to a remote tree.

    A remote folder keeps one local name for every file below it (keyed by
    its id), so two remote folders whose names collide get ``X`` and
    ``X (2)`` and their files never mix. Paths use ``/`` as separator and are
    relative to the export folder; none can climb out of it because no
    segment is ever ``..`` or contains a separator.

    ``root`` is the export folder as the user chose it (absolute). With it,
    every path is budgeted as the module docstring says; a ``str`` root is a
    path of this machine, a :class:`~pathlib.PurePath` keeps its flavour
    (``PureWindowsPath`` on any OS). Without it (``None``) only the segment
    rules apply.
    """

    def __init__(self, root: str | PurePath | None = None) -> None:
        self._dirs: dict[str, _Dir] = {}
        self._top_room: int | None = None
        if root is not None:
            prefix, _ = _prefix(root)
            self._top_room = _FILE_BUDGET - windows_units(prefix)
        self._over_budget = 0

    @property
    def over_budget(self) -> int:
        """How many of the paths handed out (folders and files) exceed the budget.

        Non-zero only when even minimal segments cannot fit (a very long root,
        a very deep tree). Such a path may still be within the Windows limit
        (the budget keeps :data:`COUNTER_RESERVE_UNITS` spare); where it is
        not (:func:`fits_windows_path`), the engine's own I/O on Windows needs
        :func:`extended_length_path`. Always 0 without a root.
        """
        return self._over_budget

    def _dir(self, parent: str) -> _Dir:
        entry = self._dirs.get(parent)
        if entry is None:
            room = self._top_room
            if room is not None and parent:
                room -= windows_units(parent) + 1
            entry = self._dirs[parent] = _Dir(room)
        return entry

    def _claim(self, parent: str, name: str, *, folder: bool) -> str:
        entry = self._dir(parent)
        cap: int | None = None
        if entry.room is not None:
            if folder:
                cap = max(MIN_FOLDER_UNITS, (entry.room - FILE_NAME_ROOM_UNITS) // 2)
            else:
                cap = max(MIN_FILE_UNITS, entry.room)
        text = _clean(name)
        base = _fit_name(text, folder, cap)
        candidate, n = base, 1
        while collision_key(candidate) in entry.taken:
            n += 1
            candidate = with_counter(base, n, folder=folder, max_units=cap)
        entry.taken.add(collision_key(candidate))
        if entry.room is not None:
            limit = entry.room - (_FILE_BUDGET - _FOLDER_BUDGET if folder else 0)
            if windows_units(candidate) > limit:
                self._over_budget += 1
        return candidate if not parent else f"{parent}/{candidate}"

    def reserve(self, parent: str, name: str) -> None:
        """Keep ``name`` (exactly as given: not cleaned, not shortened) free in ``parent``.

        For names the engine itself uses, such as the staging folder: no remote
        folder or file is then given that name, in any case.
        """
        self._dir(parent).taken.add(collision_key(name))

    def folder(self, parent: str, folder_id: str, name: str) -> str:
        """The local relative path of remote folder ``folder_id`` under ``parent``."""
        entry = self._dir(parent)
        existing = entry.folders.get(folder_id)
        if existing is not None:
            return existing
        path = self._claim(parent, name, folder=True)
        entry.folders[folder_id] = path
        return path

    def file(self, parent: str, name: str) -> str:
        """A new local relative path for a file named ``name`` under ``parent``."""
        return self._claim(parent, name, folder=False)
