"""Typed results of the API, validated field by field from JSON.

The server is outside our control, so nothing it sends is trusted blindly: each
``from_json`` checks every field the contract names for presence and type and
raises :class:`~manuscript_gui.net.errors.ProtocolError` naming the field
(``items[3].size: expected a non-negative integer, got "12"``). Unknown extra
fields are ignored so a newer server keeps working. Names are kept exactly as
sent (hostile ones included); making them safe on disk is core's job.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from typing import Generic, TypeAlias, TypeVar

from manuscript_gui.net.errors import ProtocolError

__all__ = [
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
]

_SHA256_RE = re.compile(r"[0-9a-fA-F]{64}")
_TOKEN_RE = re.compile(r"[\x21-\x7e]+")

T = TypeVar("T")


class _Fields:
    """Typed access to one JSON object, with the path used in error messages."""

    __slots__ = ("_data", "_path")

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, dict):
            raise ProtocolError(f"{path}: expected an object, got {_describe(data)}")
        self._data: dict[str, object] = data
        self._path = path

    def where(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

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
        return value

    def id(self, key: str) -> str:
        # Ids go into URL paths; an empty one would silently address the parent.
        value = self.require(key)
        if not isinstance(value, str) or not value:
            raise self._fail(key, "a non-empty string id", value)
        return value

    def opt_text(self, key: str) -> str | None:
        # Nullable fields: null and (leniently) absent both mean "not set".
        value = self._data.get(key)
        if value is not None and not isinstance(value, str):
            raise self._fail(key, "a string or null", value)
        return value

    def integer(self, key: str, *, minimum: int = 0) -> int:
        value = self.require(key)
        # bool is an int subclass in Python, but `true` is not a size.
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise self._fail(key, f"an integer >= {minimum}", value)
        return value

    def sha256(self, key: str) -> str:
        value = self.require(key)
        if not isinstance(value, str) or not _SHA256_RE.fullmatch(value):
            raise self._fail(key, "a sha256 as 64 hex digits", value)
        return value.lower()

    def timestamp(self, key: str) -> datetime.datetime:
        value = self.require(key)
        if isinstance(value, str):
            try:
                parsed = datetime.datetime.fromisoformat(value)
            except ValueError:
                pass
            else:
                # RFC 3339 always carries an offset; a naive time is ambiguous.
                if parsed.tzinfo is not None:
                    return parsed
        raise self._fail(key, "an RFC 3339 timestamp with offset", value)

    def obj(self, key: str) -> _Fields:
        return _Fields(self.require(key), self.where(key))

    def array(self, key: str) -> list[object]:
        value = self.require(key)
        if not isinstance(value, list):
            raise self._fail(key, "a list", value)
        return value


def _describe(value: object) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def _root(data: object, what: str) -> _Fields:
    return _Fields(data, what)


@dataclass(frozen=True, slots=True)
class User:
    """The account behind a session."""

    id: str
    name: str

    @classmethod
    def _parse(cls, f: _Fields) -> User:
        return cls(id=f.id("id"), name=f.text("name"))


@dataclass(frozen=True, slots=True)
class Identity:
    """One role (``userType``) a user can act under; it decides the visible projects."""

    user_type: str
    label: str

    @classmethod
    def _parse(cls, f: _Fields) -> Identity:
        return cls(user_type=f.text("userType"), label=f.text("label"))


def _identities(f: _Fields) -> tuple[Identity, ...]:
    items = f.array("identities")
    where = f.where("identities")
    return tuple(Identity._parse(_Fields(item, f"{where}[{i}]")) for i, item in enumerate(items))


@dataclass(frozen=True, slots=True)
class LoginResult:
    """A successful login: the token is bound to one user *and* one identity."""

    # Kept out of repr so the bearer token never lands in logs or tracebacks.
    token: str = field(repr=False)
    expires_at: datetime.datetime
    user: User
    user_type: str
    identities: tuple[Identity, ...]

    @classmethod
    def from_json(cls, data: object) -> LoginResult:
        f = _root(data, "login")
        token = f.text("token")
        # It is sent back in a header: anything but visible ASCII would either
        # be rejected by httpx at the next request or smuggle header bytes.
        if not _TOKEN_RE.fullmatch(token):
            raise ProtocolError("login.token: expected a non-empty string of visible ASCII")
        return cls(
            token=token,
            expires_at=f.timestamp("expiresAt"),
            user=User._parse(f.obj("user")),
            user_type=f.text("userType"),
            identities=_identities(f),
        )


@dataclass(frozen=True, slots=True)
class Me:
    """``GET /me``: who the current token speaks for."""

    user: User
    user_type: str
    identities: tuple[Identity, ...]

    @classmethod
    def from_json(cls, data: object) -> Me:
        f = _root(data, "me")
        return cls(
            user=User._parse(f.obj("user")),
            user_type=f.text("userType"),
            identities=_identities(f),
        )


@dataclass(frozen=True, slots=True)
class Project:
    """An audit project visible to the current identity.

    The contract names ``code``, ``client`` and ``period`` without types; they
    are taken as optional strings (``None`` when null or absent).
    """

    id: str
    name: str
    code: str | None
    client: str | None
    period: str | None
    updated_at: datetime.datetime

    @classmethod
    def _parse(cls, f: _Fields) -> Project:
        return cls(
            id=f.id("id"),
            name=f.text("name"),
            code=f.opt_text("code"),
            client=f.opt_text("client"),
            period=f.opt_text("period"),
            updated_at=f.timestamp("updatedAt"),
        )


@dataclass(frozen=True, slots=True)
class FolderEntry:
    """A folder inside a project (``kind: folder``)."""

    id: str
    name: str
    updated_at: datetime.datetime


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A file inside a project folder, described by its *current* version.

    ``version``, ``size`` and ``sha256`` are what a task pins at creation and
    later passes to :meth:`ApiClient.download_to`.
    """

    id: str
    name: str
    size: int
    version: int
    sha256: str
    content_type: str
    updated_at: datetime.datetime


ChildEntry: TypeAlias = FolderEntry | FileEntry


def _parse_child(f: _Fields) -> ChildEntry:
    kind = f.text("kind")
    if kind == "folder":
        return FolderEntry(id=f.id("id"), name=f.text("name"), updated_at=f.timestamp("updatedAt"))
    if kind == "file":
        return FileEntry(
            id=f.id("id"),
            name=f.text("name"),
            size=f.integer("size"),
            version=f.integer("version"),
            sha256=f.sha256("sha256"),
            content_type=f.text("contentType"),
            updated_at=f.timestamp("updatedAt"),
        )
    raise ProtocolError(f"{f.where('kind')}: expected 'folder' or 'file', got {kind!r}")


@dataclass(frozen=True, slots=True)
class FileVersion:
    """One stored version of a file."""

    version: int
    size: int
    sha256: str
    created_at: datetime.datetime


@dataclass(frozen=True, slots=True)
class FileInfo:
    """``GET /files/{id}``: a file and every version the server still keeps."""

    id: str
    project_id: str
    name: str
    current_version: int
    versions: tuple[FileVersion, ...]

    @classmethod
    def from_json(cls, data: object) -> FileInfo:
        f = _root(data, "file")
        where = f.where("versions")
        versions = []
        for i, item in enumerate(f.array("versions")):
            v = _Fields(item, f"{where}[{i}]")
            versions.append(
                FileVersion(
                    version=v.integer("version"),
                    size=v.integer("size"),
                    sha256=v.sha256("sha256"),
                    created_at=v.timestamp("createdAt"),
                )
            )
        return cls(
            id=f.id("id"),
            project_id=f.id("projectId"),
            name=f.text("name"),
            current_version=f.integer("currentVersion"),
            versions=tuple(versions),
        )

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
    """Validate one ``GET /projects`` page."""
    f = _root(data, "projects")
    items = tuple(
        Project._parse(_Fields(item, f"projects.items[{i}]"))
        for i, item in enumerate(f.array("items"))
    )
    return Page(items=items, next_cursor=_next_cursor(f))


def parse_children_page(data: object) -> Page[ChildEntry]:
    """Validate one ``GET .../children`` page."""
    f = _root(data, "children")
    items = tuple(
        _parse_child(_Fields(item, f"children.items[{i}]"))
        for i, item in enumerate(f.array("items"))
    )
    return Page(items=items, next_cursor=_next_cursor(f))


def _next_cursor(f: _Fields) -> str | None:
    # The contract says the key is always present (null on the last page);
    # requiring it catches an answer that is not a page at all.
    f.require("nextCursor")
    cursor = f.opt_text("nextCursor")
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
    (kept prefix + new bytes). The client checks that every answer *fits*; the
    caller still compares ``size``/``sha256`` with what the task pinned before
    renaming the file into place.
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
