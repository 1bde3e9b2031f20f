"""In-memory records of the reference server, and the small helpers they share.

Everything the request handlers touch lives in these slotted records, indexed in
plain dicts by :class:`~manuscript_gui.reference_server.store.Store`. SQLite is
only the durable copy: it is read once at start and written on admin changes,
so a request never waits on a query.
"""

from __future__ import annotations

import base64
import mimetypes
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from datetime import UTC, datetime

#: Sort rank of the two kinds of children: folders are listed before files.
FOLDER_RANK = 0
FILE_RANK = 1

ChildKey = tuple[int, str, str]

_CONTENT_TYPES: dict[str, str] = {
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".xls": "application/vnd.ms-excel",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".doc": "application/msword",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".pdf": "application/pdf",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".zip": "application/zip",
    ".txt": "text/plain; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
}


def content_type_for(name: str) -> str:
    """Guess a file's Content-Type from its name.

    Office types are listed explicitly because the stdlib table does not know
    them on every platform; everything unknown is plain bytes.
    """
    dot = name.rfind(".")
    if dot >= 0:
        known = _CONTENT_TYPES.get(name[dot:].lower())
        if known is not None:
            return known
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or "application/octet-stream"


def rfc3339(ts: float) -> str:
    """Format a POSIX timestamp as the API's RFC 3339 UTC form (whole seconds)."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class Identity:
    """One identity (``userType``) a user may log in as."""

    user_type: str
    label: str
    is_default: bool


@dataclass(slots=True)
class User:
    """An account. Passwords are kept only as a salted hash."""

    id: str
    username: str
    name: str
    salt: bytes
    pw_hash: bytes
    identities: list[Identity] = field(default_factory=list)

    def identity(self, user_type: str | None) -> Identity | None:
        """The identity for ``user_type``, or the default one when it is None."""
        for ident in self.identities:
            if (user_type is None and ident.is_default) or ident.user_type == user_type:
                return ident
        return None


@dataclass(slots=True)
class Project:
    """An audit project (one engagement)."""

    id: str
    name: str
    code: str | None
    client: str
    period: str
    updated_at: str
    origin: str  # "demo" or "admin"

    def as_item(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "code": self.code,
            "client": self.client,
            "period": self.period,
            "updatedAt": self.updated_at,
        }


@dataclass(slots=True)
class Folder:
    """A folder; ``parent_id`` None means the project's top level."""

    id: str
    project_id: str
    parent_id: str | None
    name: str
    updated_at: str

    @property
    def key(self) -> ChildKey:
        return (FOLDER_RANK, self.name, self.id)

    def as_item(self) -> dict[str, object]:
        return {"kind": "folder", "id": self.id, "name": self.name, "updatedAt": self.updated_at}


@dataclass(slots=True)
class Version:
    """One stored version of a file: where its bytes sit and what they hash to.

    The ETag and the Repr-Digest header value are computed once, at load, so
    the download path only copies strings.
    """

    file_id: str
    version: int
    size: int
    sha256: str
    pack: str
    offset: int
    created_at: str
    purged: bool
    etag: str = ""
    repr_digest: str = ""

    def __post_init__(self) -> None:
        # Strong, quoted, and unique per file version even if ids were reused.
        self.etag = f'"{self.file_id}.v{self.version}.{self.sha256[:16]}"'
        raw = bytes.fromhex(self.sha256)
        self.repr_digest = f"sha-256=:{base64.b64encode(raw).decode('ascii')}:"

    def as_item(self) -> dict[str, object]:
        return {
            "version": self.version,
            "size": self.size,
            "sha256": self.sha256,
            "createdAt": self.created_at,
        }


@dataclass(slots=True)
class FileEntry:
    """A file and all its versions (purged ones included, flagged)."""

    id: str
    project_id: str
    folder_id: str | None
    name: str
    content_type: str
    current_version: int
    deleted: bool
    updated_at: str
    versions: dict[int, Version] = field(default_factory=dict)

    @property
    def key(self) -> ChildKey:
        return (FILE_RANK, self.name, self.id)

    def as_item(self) -> dict[str, object]:
        cur = self.versions[self.current_version]
        return {
            "kind": "file",
            "id": self.id,
            "name": self.name,
            "size": cur.size,
            "version": cur.version,
            "sha256": cur.sha256,
            "contentType": self.content_type,
            "updatedAt": self.updated_at,
        }

    def refresh_current(self) -> None:
        """Point ``current_version`` at the newest version that was not purged.

        When every version was purged the pointer stays where it was: the file
        is still listed, and its content answers 404 ``version_not_found``.
        """
        live = [v for v, rec in self.versions.items() if not rec.purged]
        if live:
            self.current_version = max(live)


class Children:
    """The direct children of one folder, kept sorted by (kind, name, id).

    Sorted keys make keyset pagination a bisect: a cursor names the last key
    it saw, so concurrent inserts and deletes never duplicate or skip items.
    """

    __slots__ = ("keys", "nodes")

    def __init__(self) -> None:
        self.keys: list[ChildKey] = []
        self.nodes: list[Folder | FileEntry] = []

    def append_unsorted(self, node: Folder | FileEntry) -> None:
        """Bulk-load path: append now, call :meth:`sort` once at the end."""
        self.keys.append(node.key)
        self.nodes.append(node)

    def sort(self) -> None:
        order = sorted(range(len(self.keys)), key=self.keys.__getitem__)
        self.keys = [self.keys[i] for i in order]
        self.nodes = [self.nodes[i] for i in order]

    def add(self, node: Folder | FileEntry) -> None:
        key = node.key
        i = bisect_left(self.keys, key)
        self.keys.insert(i, key)
        self.nodes.insert(i, node)

    def remove(self, node: Folder | FileEntry) -> None:
        key = node.key
        i = bisect_left(self.keys, key)
        if i < len(self.keys) and self.keys[i] == key:
            del self.keys[i]
            del self.nodes[i]

    def find_folder(self, name: str) -> Folder | None:
        """The first child folder named exactly ``name`` (names are compared verbatim)."""
        i = bisect_left(self.keys, (FOLDER_RANK, name, ""))
        if i < len(self.keys):
            node = self.nodes[i]
            if isinstance(node, Folder) and node.name == name:
                return node
        return None

    def page(
        self, after: ChildKey | None, limit: int
    ) -> tuple[list[Folder | FileEntry], ChildKey | None]:
        start = 0 if after is None else bisect_right(self.keys, after)
        stop = start + limit
        nodes = self.nodes[start:stop]
        more = stop < len(self.keys)
        return nodes, (self.keys[stop - 1] if more and nodes else None)

    def __len__(self) -> int:
        return len(self.keys)
