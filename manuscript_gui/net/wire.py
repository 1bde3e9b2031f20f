"""Typed results of the API, validated field by field from JSON.

The server is outside our control, so nothing it sends is trusted blindly. The
rule is *what the export needs*:

- **Needed** fields are checked for presence and type. A missing or malformed
  one raises :class:`~manuscript_gui.net.errors.ProtocolError` (code
  ``bad_field``) naming the field (``file.versions[0].size: expected an
  integer from 0 to 2**63-1, got str '12'``) -- except inside a folder listing, where a
  *file* entry with a bad needed field becomes a :class:`BadFileEntry`, so
  that one file fails with that reason and the rest of the page goes on.
- **Optional** fields (timestamps, ``contentType``, a project's ``code``,
  ``client`` and ``period``, display names and labels) never stop anything:
  missing, null or malformed, they become ``None`` (display names fall back
  to the id they belong to). What was ignored is logged once per answer at
  INFO (logger ``manuscript_gui.net.wire``), not once per item.
- Timestamps are read leniently as RFC 3339: ``T``, ``t`` or a space between
  date and time, fractional seconds of any length (cut to microseconds), a
  leap second ``:60`` (clamped to ``:59``), ``Z``/``z`` or a ``+hh:mm`` offset
  (``-00:00`` is UTC). A time without an offset is ambiguous and counts as
  malformed (``None``).

Which fields are needed, per model (from ``docs/server-api.md``):

=================  ====================================  ==============================
model              needed                                optional
=================  ====================================  ==============================
LoginResult        token, user, userType                 expiresAt, identities
Me                 user, userType                        identities
User               id                                    name (falls back to the id)
Identity           userType                              label (falls back to userType)
Project            id                                    name (falls back to the id),
                                                         code, client, period, updatedAt
FolderEntry        id (else the page is a ProtocolError) name (falls back to the id),
                                                         updatedAt
FileEntry          id, name, version, size, sha256       contentType, updatedAt
                   (else a BadFileEntry)
FileInfo           id, currentVersion, versions          projectId, name
FileVersion        version, size, sha256                 createdAt
page               items (a list), nextCursor (a         --
                   non-empty string or null)
=================  ====================================  ==============================

Ids are opaque strings that go into URL paths as one segment each; an id is
*usable* when it is a non-empty string with no lone surrogate (it could not be
encoded into a URL) that is not ``.`` or ``..`` (URL normalisation removes
dot segments, so ``/files/../versions/1/content`` would address another
resource).

Listing decisions: a folder entry without a usable id cannot be listed, and
dropping it would silently lose everything under it, so the page fails. An
entry whose ``kind`` is a string other than ``folder``/``file`` (a newer
server's links or shortcuts) becomes a :class:`BadFileEntry` ("the server
lists an item of unknown kind 'x'; it cannot be exported"): the contract knows
only those two kinds, this client cannot download anything else, and skipping
it would let an export say "completed" with that item missing and nothing
said. An entry with no ``kind`` at all, or one that is not a JSON object,
could be a folder, so the page fails. Unknown extra fields are ignored so a
newer server keeps working. Names are kept exactly as sent (hostile ones
included); making them safe on disk (core) and on a terminal (the command
line) is the job of those layers.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeAlias, TypeGuard, TypeVar

from manuscript_gui.net.errors import ProtocolError

__all__ = [
    "BadFileEntry",
    "ChildEntry",
    "DownloadResult",
    "DownloadStart",
    "FileEntry",
    "FileInfo",
    "FileVersion",
    "FolderEntry",
    "Identity",
    "LoginResult",
    "Me",
    "Page",
    "Project",
    "User",
    "parse_rfc3339",
]

_log = logging.getLogger(__name__)

_SHA256_RE = re.compile(r"[0-9a-fA-F]{64}")
_TOKEN_RE = re.compile(r"[\x21-\x7e]+")
_RFC3339_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:[Zz]|([+-])(\d{2}):(\d{2}))",
    re.ASCII,  # \d: ASCII digits only, not every Unicode digit
)
#: Sizes and versions end up in SQLite INTEGER columns (signed 64-bit).
_INT64_MAX = 2**63 - 1
#: How many ignored fields one log line quotes.
_LOG_EXAMPLES = 3

T = TypeVar("T")


def parse_rfc3339(text: str) -> datetime.datetime | None:
    """Parse an RFC 3339 date-time leniently; ``None`` when it is not one.

    Accepts ``T``/``t``/space as separator, any number of fractional digits
    (cut to microseconds), a leap second ``:60`` (clamped to ``:59``), and
    ``Z``/``z`` or a ``+hh:mm``/``-hh:mm`` offset. The result is timezone-aware.
    """
    m = _RFC3339_RE.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    fraction, sign, off_h, off_m = m.group(7, 8, 9, 10)
    if second == 60:
        second = 59  # a leap second; Python's datetime has no :60
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = datetime.UTC
    if sign is not None:
        hours, minutes = int(off_h), int(off_m)
        if hours > 23 or minutes > 59:
            return None
        delta = datetime.timedelta(hours=hours, minutes=minutes)
        tz = datetime.timezone(-delta if sign == "-" else delta)
    try:
        return datetime.datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except ValueError:
        return None


def _show(value: object) -> str:
    """A JSON value as a short, readable quote for messages (``'12'``, ``null``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        text = repr(value)
    else:
        try:
            text = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError):
            text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class _Notes:
    """Optional fields ignored while parsing one answer, logged once at the end."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, text: str) -> None:
        self.items.append(text)

    def log(self, what: str) -> None:
        if self.items:
            shown = "; ".join(self.items[:_LOG_EXAMPLES])
            more = len(self.items) - _LOG_EXAMPLES
            _log.info(
                "%s: %d field(s) ignored or replaced: %s%s",
                what,
                len(self.items),
                shown,
                f"; and {more} more" if more > 0 else "",
            )


class _Fields:
    """Typed access to one JSON object, with the path used in error messages.

    The plain accessors are for needed fields and raise ProtocolError; the
    ``opt_*`` ones are for optional fields and answer ``None`` instead,
    noting what they ignored in the answer's :class:`_Notes`.
    """

    __slots__ = ("_data", "_notes", "_path")

    def __init__(self, data: object, path: str, notes: _Notes) -> None:
        if not isinstance(data, dict):
            raise ProtocolError(f"{path}: expected an object, got {_describe(data)}")
        self._data: dict[str, object] = data
        self._path = path
        self._notes = notes

    def child(self, data: object, path: str) -> _Fields:
        return _Fields(data, path, self._notes)

    @property
    def path(self) -> str:
        return self._path

    def where(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

    def get(self, key: str) -> object:
        return self._data.get(key)

    def has(self, key: str) -> bool:
        return key in self._data

    def note(self, text: str) -> None:
        self._notes.add(text)

    def require(self, key: str) -> object:
        try:
            return self._data[key]
        except KeyError:
            raise ProtocolError(f"{self.where(key)}: missing") from None

    def _fail(self, key: str, wanted: str, value: object) -> ProtocolError:
        return ProtocolError(f"{self.where(key)}: expected {wanted}, got {_describe(value)}")

    def text(self, key: str) -> str:
        value = self.require(key)
        if not isinstance(value, str):
            raise self._fail(key, "a string", value)
        return _clean(value)

    def id(self, key: str) -> str:
        # Ids go into URL paths; an empty one would silently address the parent.
        value = self.require(key)
        if not _is_id(value):
            raise self._fail(key, "a non-empty string id other than '.' and '..'", value)
        return value

    def nullable_text(self, key: str) -> str | None:
        """A needed field that may be null (``nextCursor``): any other type raises."""
        value = self._data.get(key)
        if value is not None and not isinstance(value, str):
            raise self._fail(key, "a string or null", value)
        return value

    def integer(self, key: str, *, minimum: int = 0) -> int:
        value = self.require(key)
        if not _is_int(value, minimum):
            raise self._fail(key, f"an integer from {minimum} to 2**63-1", value)
        return value

    def sha256(self, key: str) -> str:
        value = self.require(key)
        if not isinstance(value, str) or not _SHA256_RE.fullmatch(value):
            raise self._fail(key, "a sha256 as 64 hex digits", value)
        return value.lower()

    def obj(self, key: str) -> _Fields:
        return self.child(self.require(key), self.where(key))

    def array(self, key: str) -> list[object]:
        value = self.require(key)
        if not isinstance(value, list):
            raise self._fail(key, "a list", value)
        return value

    # -- optional fields ---------------------------------------------------------

    def _ignored(self, key: str, wanted: str) -> None:
        self.note(f"{self.where(key)}: expected {wanted}, got {_show(self._data[key])}")

    def opt_text(self, key: str) -> str | None:
        """An optional string: null, absent or not a string all give ``None``."""
        value = self._data.get(key)
        if value is None or isinstance(value, str):
            return value if value is None else _clean(value)
        self._ignored(key, "a string or null")
        return None

    def opt_timestamp(self, key: str) -> datetime.datetime | None:
        """An optional RFC 3339 time (see :func:`parse_rfc3339`); ``None`` if unusable."""
        value = self._data.get(key)
        if value is None:
            return None
        parsed = parse_rfc3339(value) if isinstance(value, str) else None
        if parsed is None:
            self._ignored(key, "an RFC 3339 timestamp with offset")
        return parsed

    def opt_id(self, key: str) -> str | None:
        """An optional id: ``None`` unless usable (see the module docstring)."""
        value = self._data.get(key)
        if value is None:
            return None
        if _is_id(value):
            return value
        self._ignored(key, "a usable string id or null")
        return None

    def display_name(self, key: str, fallback: str) -> str:
        """A name shown to people: ``fallback`` (the id) when it is not a string."""
        value = self._data.get(key)
        if isinstance(value, str):
            return _clean(value)
        got = _show(value) if key in self._data else "nothing"
        self.note(f"{self.where(key)}: expected a string, got {got}; using {fallback!r}")
        return fallback


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


#: Ids that are URL dot segments: normalisation would remove them from the path.
_DOT_SEGMENTS = frozenset({".", ".."})


def _is_id(value: object) -> TypeGuard[str]:
    """Whether ``value`` is a usable id (see the module docstring)."""
    # A lone surrogate (JSON "\ud800") cannot be encoded into a URL: not a usable id.
    return (
        isinstance(value, str)
        and value != ""
        and value not in _DOT_SEGMENTS
        and not _LONE_SURROGATE.search(value)
    )


def _clean(text: str) -> str:
    """Text with lone surrogates (valid JSON, not valid Unicode) replaced by U+FFFD.

    Names are shown, stored in SQLite and turned into file names; none of
    those accept a lone surrogate.
    """
    return _LONE_SURROGATE.sub("\ufffd", text)


def _is_int(value: object, minimum: int) -> TypeGuard[int]:
    # bool is an int subclass in Python, but `true` is not a size.
    return isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= _INT64_MAX


def _describe(value: object) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


@dataclass(frozen=True, slots=True)
class User:
    """The account behind a session; ``name`` is the id when the server gave none."""

    id: str
    name: str

    @classmethod
    def _parse(cls, f: _Fields) -> User:
        user_id = f.id("id")
        return cls(id=user_id, name=f.display_name("name", user_id))


@dataclass(frozen=True, slots=True)
class Identity:
    """One role (``userType``) a user can act under; it decides the visible projects.

    ``label`` is the ``userType`` when the server gave none.
    """

    user_type: str
    label: str

    @classmethod
    def _parse(cls, f: _Fields) -> Identity:
        user_type = f.text("userType")
        return cls(user_type=user_type, label=f.display_name("label", user_type))


def _identities(f: _Fields) -> tuple[Identity, ...]:
    """The optional ``identities`` list; unusable items (no ``userType``) are left out."""
    value = f.get("identities")
    if not isinstance(value, list):
        if f.has("identities"):
            f.note(f"{f.where('identities')}: expected a list, got {_show(value)}")
        return ()
    where = f.where("identities")
    found = []
    for i, item in enumerate(value):
        try:
            found.append(Identity._parse(f.child(item, f"{where}[{i}]")))
        except ProtocolError as exc:
            f.note(f"{exc} (identity left out)")
    return tuple(found)


@dataclass(frozen=True, slots=True)
class LoginResult:
    """A successful login: the token is bound to one user *and* one identity.

    ``expires_at`` is ``None`` when the server sent no usable ``expiresAt``.
    """

    # Kept out of repr so the bearer token never lands in logs or tracebacks.
    token: str = field(repr=False)
    expires_at: datetime.datetime | None
    user: User
    user_type: str
    identities: tuple[Identity, ...]

    @classmethod
    def from_json(cls, data: object) -> LoginResult:
        notes = _Notes()
        f = _Fields(data, "login", notes)
        token = f.text("token")
        # It is sent back in a header: anything but visible ASCII would either
        # be rejected by httpx at the next request or smuggle header bytes.
        if not _TOKEN_RE.fullmatch(token):
            raise ProtocolError("login.token: expected a non-empty string of visible ASCII")
        result = cls(
            token=token,
            expires_at=f.opt_timestamp("expiresAt"),
            user=User._parse(f.obj("user")),
            user_type=f.text("userType"),
            identities=_identities(f),
        )
        notes.log("login")
        return result


@dataclass(frozen=True, slots=True)
class Me:
    """``GET /me``: who the current token speaks for."""

    user: User
    user_type: str
    identities: tuple[Identity, ...]

    @classmethod
    def from_json(cls, data: object) -> Me:
        notes = _Notes()
        f = _Fields(data, "me", notes)
        result = cls(
            user=User._parse(f.obj("user")),
            user_type=f.text("userType"),
            identities=_identities(f),
        )
        notes.log("me")
        return result


@dataclass(frozen=True, slots=True)
class Project:
    """An audit project visible to the current identity.

    Only ``id`` is needed. ``name`` is the id when the server gave none;
    ``code``, ``client`` and ``period`` (named without types by the contract)
    are strings or ``None``; ``updated_at`` is ``None`` when unusable.
    """

    id: str
    name: str
    code: str | None
    client: str | None
    period: str | None
    updated_at: datetime.datetime | None

    @classmethod
    def _parse(cls, f: _Fields) -> Project:
        project_id = f.id("id")
        return cls(
            id=project_id,
            name=f.display_name("name", project_id),
            code=f.opt_text("code"),
            client=f.opt_text("client"),
            period=f.opt_text("period"),
            updated_at=f.opt_timestamp("updatedAt"),
        )


@dataclass(frozen=True, slots=True)
class FolderEntry:
    """A folder inside a project (``kind: folder``).

    ``name`` is the id when the server gave no string name (the folder and
    everything in it are still exported, under that name); ``updated_at`` is
    ``None`` when unusable.
    """

    id: str
    name: str
    updated_at: datetime.datetime | None


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A file inside a project folder, described by its *current* version.

    ``version``, ``size`` and ``sha256`` are what a task pins at creation and
    later passes to :meth:`ApiClient.download_to`. ``content_type`` and
    ``updated_at`` are ``None`` when the server gave none (or an unusable one).
    """

    id: str
    name: str
    size: int
    version: int
    sha256: str
    content_type: str | None
    updated_at: datetime.datetime | None


@dataclass(frozen=True, slots=True)
class BadFileEntry:
    """An item of a folder listing that the export cannot fetch.

    Either a file entry that lacks a field the export needs (no usable
    ``id``, ``name``, ``version``, ``size`` or ``sha256``), or an item of a
    ``kind`` other than ``folder``/``file``. That one item fails with
    ``problem`` while the rest of the listing goes on. ``id`` and ``name`` are
    what the entry gave, when usable (a usable id, see the module docstring;
    a string name), else ``None``. ``problem`` is an English sentence naming
    what was wrong and what was sent, e.g. ``the server's listing gives no
    valid size for this file (got '12')`` or ``the server lists an item of
    unknown kind 'shortcut'; it cannot be exported``.
    """

    id: str | None
    name: str | None
    problem: str


ChildEntry: TypeAlias = FolderEntry | FileEntry | BadFileEntry


def _is_name(value: object) -> bool:
    return isinstance(value, str)


def _is_count(value: object) -> bool:
    return _is_int(value, 0)


def _is_sha256(value: object) -> bool:
    return isinstance(value, str) and _SHA256_RE.fullmatch(value) is not None


#: What the export needs of a file entry, in message order.
_FILE_NEEDS: dict[str, Callable[[object], bool]] = {
    "id": _is_id,
    "name": _is_name,
    "version": _is_count,
    "size": _is_count,
    "sha256": _is_sha256,
}


def _file_problem(f: _Fields) -> str | None:
    """The sentence describing the file entry's unusable needed fields, or None."""
    parts: list[tuple[str, str]] = []
    for key, check in _FILE_NEEDS.items():
        if not f.has(key):
            parts.append((f"no {key}", ""))
        elif not check(f.get(key)):
            parts.append((f"no valid {key}", f" (got {_show(f.get(key))})"))
    if not parts:
        return None
    if len(parts) == 1:
        what, got = parts[0]
        return f"the server's listing gives {what} for this file{got}"
    listed = [what + got for what, got in parts]
    joined = ", ".join(listed[:-1]) + " and " + listed[-1]
    return f"the server's listing gives {joined} for this file"


def _bad_entry(f: _Fields, problem: str) -> BadFileEntry:
    file_id, name = f.get("id"), f.get("name")
    f.note(f"{f.path}: {problem}")
    return BadFileEntry(
        id=file_id if _is_id(file_id) else None,
        name=_clean(name) if isinstance(name, str) else None,
        problem=problem,
    )


def _parse_child(f: _Fields) -> ChildEntry:
    """One children item (an item of an unknown kind is a :class:`BadFileEntry`)."""
    kind = f.text("kind")
    if kind == "folder":
        folder_id = f.id("id")
        return FolderEntry(
            id=folder_id,
            name=f.display_name("name", folder_id),
            updated_at=f.opt_timestamp("updatedAt"),
        )
    if kind == "file":
        problem = _file_problem(f)
        if problem is not None:
            return _bad_entry(f, problem)
        return FileEntry(
            id=f.id("id"),
            name=f.text("name"),
            size=f.integer("size"),
            version=f.integer("version"),
            sha256=f.sha256("sha256"),
            content_type=f.opt_text("contentType"),
            updated_at=f.opt_timestamp("updatedAt"),
        )
    return _bad_entry(
        f, f"the server lists an item of unknown kind {_show(kind)}; it cannot be exported"
    )


@dataclass(frozen=True, slots=True)
class FileVersion:
    """One stored version of a file; ``created_at`` is ``None`` when unusable."""

    version: int
    size: int
    sha256: str
    created_at: datetime.datetime | None


@dataclass(frozen=True, slots=True)
class FileInfo:
    """``GET /files/{id}``: a file and every version the server still keeps.

    ``project_id`` and ``name`` are ``None`` when the server gave none (or an
    unusable one); every version's ``version``, ``size`` and ``sha256`` are
    needed (a ProtocolError otherwise).
    """

    id: str
    project_id: str | None
    name: str | None
    current_version: int
    versions: tuple[FileVersion, ...]

    @classmethod
    def from_json(cls, data: object) -> FileInfo:
        notes = _Notes()
        f = _Fields(data, "file", notes)
        where = f.where("versions")
        versions = []
        for i, item in enumerate(f.array("versions")):
            v = f.child(item, f"{where}[{i}]")
            versions.append(
                FileVersion(
                    version=v.integer("version"),
                    size=v.integer("size"),
                    sha256=v.sha256("sha256"),
                    created_at=v.opt_timestamp("createdAt"),
                )
            )
        result = cls(
            id=f.id("id"),
            project_id=f.opt_id("projectId"),
            name=f.opt_text("name"),
            current_version=f.integer("currentVersion"),
            versions=tuple(versions),
        )
        notes.log("file")
        return result

    def get_version(self, version: int) -> FileVersion | None:
        """The stored version ``version``, or ``None`` if it was purged."""
        for v in self.versions:
            if v.version == version:
                return v
        return None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a paginated list; ``next_cursor`` is ``None`` on the last page."""

    items: tuple[T, ...]
    next_cursor: str | None


def parse_project_page(data: object) -> Page[Project]:
    """Validate one ``GET /projects`` page.

    Raises ProtocolError for a page that is not one, or for a project without
    a usable id; optional fields never do (see the module docstring).
    """
    notes = _Notes()
    f = _Fields(data, "projects", notes)
    items = tuple(
        Project._parse(f.child(item, f"projects.items[{i}]"))
        for i, item in enumerate(f.array("items"))
    )
    page = Page(items=items, next_cursor=_next_cursor(f))
    notes.log("projects page")
    return page


def parse_children_page(data: object) -> Page[ChildEntry]:
    """Validate one ``GET .../children`` page.

    Items are :class:`FolderEntry`, :class:`FileEntry`, or
    :class:`BadFileEntry` for a file entry without a needed field and for an
    item of an unknown ``kind``, in the server's order. Raises ProtocolError
    (``bad_field``) for a page that is not one (``items`` not a list, a bad
    ``nextCursor``), an item that is not an object or has no string ``kind``,
    and a folder without a usable id.
    """
    notes = _Notes()
    f = _Fields(data, "children", notes)
    items = tuple(
        _parse_child(f.child(item, f"children.items[{i}]"))
        for i, item in enumerate(f.array("items"))
    )
    page = Page(items=items, next_cursor=_next_cursor(f))
    notes.log("children page")
    return page


def _next_cursor(f: _Fields) -> str | None:
    # The contract says the key is always present (null on the last page);
    # requiring it catches an answer that is not a page at all.
    f.require("nextCursor")
    cursor = f.nullable_text("nextCursor")
    if cursor == "":
        # An empty cursor would be sent as "?cursor=" and mean "start over".
        raise ProtocolError("nextCursor: expected a non-empty string or null, got ''")
    return cursor


@dataclass(frozen=True, slots=True)
class DownloadStart:
    """What a download answer turned out to be, reported before the first byte is written.

    The engine records ``etag`` here (the validator for the next resume) and
    uses ``offset`` to correct its byte counters: ``0`` after a partial existed
    means the partial is being discarded and the file starts over.
    """

    #: 200 (full body), 206 (resuming) or 416 (the partial is already whole).
    status: int
    #: Bytes of the existing partial that are kept.
    offset: int
    #: The answer's strong ETag, if it sent one.
    etag: str | None


@dataclass(frozen=True, slots=True)
class DownloadResult:
    """The outcome of :meth:`ApiClient.download_to`.

    ``size`` and ``sha256`` describe the whole destination file as it now is
    (kept prefix + new bytes): ``size`` is its length on disk after the last
    write, and the client raises ``partial_changed`` rather than report a
    sha256 over other bytes. The client checks that every answer *fits*; the
    caller still compares ``size``/``sha256`` with what the task pinned before
    renaming the file into place. ``etag`` is a strong validator or ``None``
    (a weak or missing ETag is never reported).
    """

    size: int
    sha256: str
    etag: str | None
    status: int
    offset: int
    received: int

    def matches(self, size: int, sha256: str) -> bool:
        """Whether the file is exactly the pinned version (size and sha256)."""
        return self.size == size and self.sha256 == sha256.lower()
