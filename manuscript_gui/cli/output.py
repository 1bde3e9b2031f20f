"""Everything the command line prints: human lines, JSON lines, the progress line, log lines.

Text from the server (names, paths, messages, pause details) is never written
raw for people: :func:`say` (every human line), :class:`Progress` (the
updating line on a terminal) and :class:`SafeFormatter` (``-v`` log lines)
show control and format characters as escapes (:func:`terminal_safe`). That is
done here, in one place, never per message. ``--json`` goes through
:func:`say_json` (:func:`json_text`), which stays exact.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import sys
import time
import unicodedata
from collections.abc import Iterator
from typing import Any, TextIO

from manuscript_gui.core.events import Event, ListingProgress, TaskProgress
from manuscript_gui.services.messages import size_text

__all__ = [
    "PROG",
    "Progress",
    "SafeFormatter",
    "duration_text",
    "json_text",
    "log_to_stderr",
    "say",
    "say_json",
    "terminal_safe",
]

#: The program's name, as its messages start.
PROG = "manuscript-cli"

#: Characters never written raw in human-readable output: controls (C0, DEL, C1:
#: ESC starts terminal sequences, CR and BS overwrite what was shown), format
#: characters (bidi overrides and isolates such as U+202E, zero-width ones, BOM),
#: line and paragraph separators, and lone surrogates.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def _escaped(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def terminal_safe(text: str) -> str:
    """``text`` as the command line shows it: every control, format, line/paragraph
    separator and lone-surrogate character as a backslash escape.

    ``\\xNN`` up to U+00FF, ``\\uNNNN`` in the BMP, ``\\UNNNNNNNN`` beyond:
    ESC (U+001B) is shown as ``\\x1b``, a tab as ``\\x09``, U+202E RIGHT-TO-LEFT
    OVERRIDE as ``\\u202e``. Everything else (CJK, spaces, accents, right-to-left
    letters) stays as it is. Names, paths and messages come from the server and
    must not clear the screen, recolour it, reorder what follows or fake a line.
    The escapes are for reading; ``--json`` gives the exact text.
    """
    if text.isprintable():  # fast path: no Cc/Cf/Cs/Zl/Zp (nor Zs other than " ")
        return text
    return "".join(_escaped(c) if _unsafe(c) else c for c in text)


def _json_escaped(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON spells characters beyond the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_text(value: object) -> str:
    """``value`` as one line of JSON that is exact and safe on a terminal.

    ``json.dumps`` escapes C0 controls but writes DEL, C1 controls, format
    characters (U+202E, zero-width ones), U+2028/U+2029 and lone surrogates
    raw. Those are written as ``\\uXXXX`` escapes here: a JSON reader gets
    exactly the same strings back, Chinese names stay readable (no
    ``ensure_ascii``), and a terminal that shows the output is never driven
    by it.
    """
    text = json.dumps(value, ensure_ascii=False)
    if text.isprintable():
        return text
    # Outside strings JSON has only ASCII punctuation, digits and letters: every
    # unsafe character is inside a string, where an escape means the same.
    return "".join(_json_escaped(c) if _unsafe(c) else c for c in text)


def say(*parts: object, sep: str = " ", err: bool = False) -> None:
    """Print one line of human-readable output (stdout, or stderr with ``err``).

    The one place where such output is made safe: every part goes through
    :func:`terminal_safe`; ``sep`` (a tab between columns) and the line end
    are the command line's own.
    """
    stream = sys.stderr if err else sys.stdout
    print(*(terminal_safe(str(part)) for part in parts), sep=sep, file=stream)


def say_json(value: object) -> None:
    """Print one line of ``--json`` output (see :func:`json_text`)."""
    print(json_text(value))


class SafeFormatter(logging.Formatter):
    """Log lines on stderr made safe like :func:`say` (messages quote the server)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:
        text = super().formatException(ei)
        return "\n".join(terminal_safe(line) for line in text.split("\n"))


@contextlib.contextmanager
def log_to_stderr(verbosity: int) -> Iterator[None]:
    """The engine's log on stderr while the command runs: ``1`` info, ``2`` debug;
    errors always. Lines are made safe by :class:`SafeFormatter`."""
    logger = logging.getLogger("manuscript_gui")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFormatter(f"{PROG}: %(levelname)s %(name)s: %(message)s"))
    level = logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity == 1 else logging.ERROR
    handler.setLevel(level)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(min(level, old_level) if old_level else level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def duration_text(seconds: float) -> str:
    """``"0:35"``, ``"1:02:03"``: seconds rounded, hours only when there are some."""
    s = int(seconds + 0.5)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """The single updating line on a terminal; silent otherwise.

    Fed by engine events (:class:`ListingProgress`, :class:`TaskProgress`);
    redraws at most ten times a second. :meth:`note` prints a permanent line
    above it. Texts are made safe like :func:`say` (a task's name comes from
    the server); the carriage return and the erase-line sequence around them
    are the progress line's own.
    """

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self._shown = False
        self._last = 0.0

    def __call__(self, event: Event) -> None:
        if not self.enabled:
            return
        if isinstance(event, ListingProgress):
            self.show(
                f"task {event.task_id}: listing… found {event.found:,} files "
                f"({size_text(event.found_bytes)})"
            )
        elif isinstance(event, TaskProgress):
            self.show(self.progress_text(event))

    @staticmethod
    def progress_text(event: TaskProgress) -> str:
        """``task 3: 120/1,240 files  4.5 MB/45.2 MB  1.2 MB/s  ETA 0:35``."""
        text = (
            f"task {event.task_id}: {event.files_done:,}/{event.files_total:,} files  "
            f"{size_text(event.bytes_done)}/{size_text(event.bytes_total)}  "
            f"{size_text(event.rate)}/s"
        )
        left = event.bytes_total - event.bytes_done
        if event.rate > 0 and left > 0:
            text += f"  ETA {duration_text(left / event.rate)}"
        return text

    def show(self, text: str, *, force: bool = False) -> None:
        """Replace the line with *text* (cut to the terminal's width); at most ten
        times a second unless *force*."""
        now = time.monotonic()
        if not self.enabled or (not force and now - self._last < 0.1):
            return
        self._last = now
        width = shutil.get_terminal_size((100, 24)).columns - 1
        self.stream.write("\r" + terminal_safe(text)[:width] + "\x1b[K")
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        """Erase the line (before other output)."""
        if self.enabled and self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False

    def note(self, text: str) -> None:
        """Print a permanent line above the progress line (a terminal only)."""
        if self.enabled:
            self.clear()
            self.stream.write(terminal_safe(text) + "\n")
            self.stream.flush()
