"""The order a window lists a task's files in: natural path order.

Auditors read a file list the way the folders read: ``D2`` before ``D10``,
a folder's files together, letters without regard to case. SQLite compares
text byte by byte, so every file row stores a *sort key* built from its
local path (``task_file.sort_key``, schema v6), and the detail pane's pages
are index range scans in key order (``ExportStore.find_files``).

The key: the path's segments joined by ``"\\x01"`` (below every character a
local name can hold, so a folder's files come before a sibling whose name
merely starts like it); in each segment, runs of ASCII digits become their
digit count (three digits) then the digits without leading zeros, so numbers
compare by value; other text is case-folded. Chinese and other scripts sort
by code point (SQLite has no collation for pinyin). Equal keys (``A01`` and
``A1``) are ordered by file id.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Final

__all__ = ["SQL_FUNCTION", "natural_sort_key", "register"]

_DIGITS: Final = re.compile(r"([0-9]+)")
_SEPARATOR: Final = "\x01"
SQL_FUNCTION: Final = "natural_key"
"""The key as an SQL function, for updates that rewrite paths in SQL (relocations)."""


def natural_sort_key(local_path: str) -> str:
    """The sort key of a ``/``-separated local path (see the module docstring)."""
    segments = []
    for segment in local_path.split("/"):
        pieces = _DIGITS.split(segment)
        for i in range(1, len(pieces), 2):
            digits = pieces[i].lstrip("0") or "0"
            pieces[i] = f"{len(digits):03d}{digits}"
        for i in range(0, len(pieces), 2):
            pieces[i] = pieces[i].casefold()
        segments.append("".join(pieces))
    return _SEPARATOR.join(segments)


def register(conn: sqlite3.Connection) -> None:
    """Make ``natural_key(path)`` available to SQL on *conn* (deterministic)."""
    conn.create_function(SQL_FUNCTION, 1, natural_sort_key, deterministic=True)
