"""Parsers for the download headers the client must not take on trust.

Pure functions, no I/O: each returns ``None`` (or raises nothing) for a header
it cannot read, and the caller decides whether that is fatal. Kept apart from
the client so the rules can be tested exhaustively without a server.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

__all__ = [
    "ContentRange",
    "is_html",
    "is_weak_etag",
    "media_type",
    "parse_content_length",
    "parse_content_range",
    "parse_repr_digest_sha256",
]

# RFC 9110 §14.4: "bytes first-last/complete" or "bytes */complete".
_RANGE_RE = re.compile(r"\s*bytes\s+(?:(\d+)-(\d+)|\*)/(\d+|\*)\s*", re.IGNORECASE)

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})


@dataclass(frozen=True, slots=True)
class ContentRange:
    """A parsed ``Content-Range``; ``first``/``last`` are ``None`` for ``bytes */N``."""

    first: int | None
    last: int | None
    complete: int | None

    @property
    def length(self) -> int | None:
        """Bytes the range covers (``last - first + 1``)."""
        if self.first is None or self.last is None:
            return None
        return self.last - self.first + 1


def parse_content_range(value: str | None) -> ContentRange | None:
    """Parse ``Content-Range`` (RFC 9110 §14.4); ``None`` if absent or malformed.

    A range whose last byte lies before its first is malformed, and so is one
    whose end lies at or past a known complete length.
    """
    if value is None:
        return None
    m = _RANGE_RE.fullmatch(value)
    if m is None:
        return None
    first_s, last_s, complete_s = m.groups()
    complete = None if complete_s == "*" else int(complete_s)
    if first_s is None:
        # "bytes */*" says nothing at all.
        if complete is None:
            return None
        return ContentRange(None, None, complete)
    first, last = int(first_s), int(last_s)
    if last < first or (complete is not None and last >= complete):
        return None
    return ContentRange(first, last, complete)


def parse_content_length(value: str | None) -> int | None:
    """Parse ``Content-Length``; ``None`` if absent, ``-1`` if present but malformed."""
    if value is None:
        return None
    text = value.strip()
    # Repeated headers arrive joined ("10, 10"); identical values are allowed.
    parts = {p.strip() for p in text.split(",")}
    if len(parts) != 1:
        return -1
    (only,) = parts
    if not only.isascii() or not only.isdigit():
        return -1
    return int(only)


def media_type(content_type: str | None) -> str | None:
    """The lower-cased media type of a ``Content-Type`` value, parameters dropped."""
    if content_type is None:
        return None
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind or None


def is_html(content_type: str | None) -> bool:
    """Whether a ``Content-Type`` announces a web page (HTML or XHTML)."""
    return media_type(content_type) in _HTML_TYPES


def is_weak_etag(etag: str) -> bool:
    """Whether an entity tag is weak (``W/"..."``).

    A weak tag never goes into ``If-Range`` (RFC 9110 §13.1.5: a weak
    validator never matches there) and is never reported as the validator of
    a partial; a download with one resumes by ``Range`` alone.
    """
    return etag.lstrip().startswith(("W/", "w/"))


def parse_repr_digest_sha256(value: str | None) -> str | None:
    """The sha-256 of an RFC 9530 ``Repr-Digest`` header as lower-case hex.

    ``Repr-Digest: sha-256=:<base64>:, sha-512=:...:`` is a structured-field
    dictionary. Only ``sha-256`` is read; a missing or malformed member gives
    ``None`` (the digest is an early warning, the caller's own sha256 check
    of the finished file stays the gate).
    """
    if value is None:
        return None
    for member in value.split(","):
        key, sep, rest = member.partition("=")
        if not sep or key.strip().lower() != "sha-256":
            continue
        item = rest.split(";", 1)[0].strip()
        if len(item) < 2 or item[0] != ":" or item[-1] != ":":
            return None
        try:
            raw = base64.b64decode(item[1:-1], validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(raw) != 32:
            return None
        return raw.hex()
    return None
