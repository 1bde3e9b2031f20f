"""Safe local paths for untrusted remote names.

The server does not clean names (server-api.md): they may hold ``/``, ``\\``,
``..``, control characters, Windows device names, trailing dots or spaces,
names over 255 bytes, and names that differ only by case. An export folder
may later be copied to any of Windows, macOS or Linux, so every segment is
made safe for all three at once, not just for the machine it is written on.

Rules for one segment (:func:`safe_segment`):

* NFC-normalised (macOS stores decomposed forms; comparing NFC keeps
  collision checks honest across systems).
* Control characters and ``< > : " / \\ | ? *`` become ``_``: those are
  forbidden on Windows (and ``/`` everywhere); replacing rather than dropping
  keeps names recognisable and distinct.
* Leading spaces and trailing dots/spaces are stripped (Windows silently
  drops trailing ones, which would merge names); what is left empty becomes
  ``_``. ``.`` and ``..`` therefore never survive.
* Windows device names (``CON``, ``nul.txt``, ``COM1.tar.gz``, ``CONIN$`` …),
  which Windows treats as devices whatever the extension, get a ``_`` prefix.
* At most :data:`MAX_SEGMENT_BYTES` UTF-8 bytes, cut at a character boundary,
  keeping a short extension, leaving room for a `` (N)`` suffix. Linux allows
  255 bytes and Windows/macOS 255 UTF-16 units; 200 bytes satisfies both with
  room to spare for the staging suffix and disambiguation.

Collisions are resolved per directory by :class:`PathAllocator`, comparing
names case-insensitively (NFC + casefold) because Windows and macOS folders
are case-insensitive by default: the second ``Report.pdf`` / ``report.PDF``
becomes ``report (2).PDF``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

MAX_SEGMENT_BYTES = 200
_MAX_EXT_CHARS = 16

_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"} | {
    f"{stem}{n}" for stem in ("COM", "LPT") for n in (*"123456789", "¹", "²", "³")
}


def _is_reserved(name: str) -> bool:
    # Windows ignores everything after the first dot (and trailing spaces
    # before it) when matching device names: "nul.txt" and "CON .x" are devices.
    stem = name.split(".", 1)[0].rstrip(" ")
    return stem.upper() in _RESERVED


def _truncate_utf8(text: str, limit: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", errors="ignore")


def _split_ext(name: str) -> tuple[str, str]:
    """Split off a short extension ("a.tar.gz" keeps ".gz"); dotfiles have none."""
    dot = name.rfind(".")
    if dot <= 0 or len(name) - dot > _MAX_EXT_CHARS:
        return name, ""
    return name[:dot], name[dot:]


def _fit(stem: str, ext: str, suffix: str = "") -> str:
    budget = MAX_SEGMENT_BYTES - len(ext.encode("utf-8")) - len(suffix.encode("utf-8"))
    stem = _truncate_utf8(stem, max(budget, 1)).rstrip(" .")
    return f"{stem or '_'}{suffix}{ext}"


def safe_segment(name: str) -> str:
    """Return a version of one remote name that is a safe file name everywhere."""
    text = unicodedata.normalize("NFC", name)
    text = _FORBIDDEN.sub("_", text)
    text = text.lstrip(" ").rstrip(" .")
    if not text:
        return "_"
    if _is_reserved(text):
        text = "_" + text
    stem, ext = _split_ext(text)
    return _fit(stem, ext)


def collision_key(name: str) -> str:
    """How case-insensitive file systems compare names."""
    return unicodedata.normalize("NFC", name).casefold()


def with_counter(name: str, n: int) -> str:
    """``report.pdf`` → ``report (n).pdf``, still within the segment limit."""
    stem, ext = _split_ext(name)
    return _fit(stem, ext, f" ({n})")


@dataclass
class _Dir:
    taken: set[str] = field(default_factory=set)
    folders: dict[str, str] = field(default_factory=dict)


class PathAllocator:
    """Assigns distinct, safe relative paths to a remote tree.

    A remote folder keeps one local name for every file below it (keyed by
    its id), so two remote folders whose names collide get ``X`` and
    ``X (2)`` and their files never mix. Paths use ``/`` as separator and are
    relative to the export folder; none can climb out of it because no
    segment is ever ``..`` or contains a separator.
    """

    def __init__(self) -> None:
        self._dirs: dict[str, _Dir] = {}

    def _dir(self, parent: str) -> _Dir:
        entry = self._dirs.get(parent)
        if entry is None:
            entry = self._dirs[parent] = _Dir()
        return entry

    def _claim(self, parent: str, name: str) -> str:
        entry = self._dir(parent)
        base = safe_segment(name)
        candidate, n = base, 1
        while collision_key(candidate) in entry.taken:
            n += 1
            candidate = with_counter(base, n)
        entry.taken.add(collision_key(candidate))
        return candidate if not parent else f"{parent}/{candidate}"

    def folder(self, parent: str, folder_id: str, name: str) -> str:
        """The local relative path of remote folder ``folder_id`` under ``parent``."""
        entry = self._dir(parent)
        existing = entry.folders.get(folder_id)
        if existing is not None:
            return existing
        path = self._claim(parent, name)
        entry.folders[folder_id] = path
        return path

    def file(self, parent: str, name: str) -> str:
        """A new local relative path for a file named ``name`` under ``parent``."""
        return self._claim(parent, name)
