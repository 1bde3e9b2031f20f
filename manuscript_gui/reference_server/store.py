"""The reference server's metadata: SQLite on disk, dicts in memory.

``server.sqlite3`` (stdlib ``sqlite3``; the client's peewee models are not
used here on purpose, the two sides must not share code) is the durable copy.
It is loaded once at start into :mod:`.model` records; request handlers read
only those. Admin changes write through to both.

Layout of a data directory::

    DATA/
      server.sqlite3    users, identities, projects, access, folders, files, versions, meta
      packs/            demo-NNNN.pack, data-NNNN.pack (see packs.py)

Everything here runs on the server's event-loop thread (or, before the server
listens, on the thread that opens the store); nothing is locked.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path

from .model import (
    Children,
    FileEntry,
    Folder,
    Identity,
    Project,
    User,
    Version,
    content_type_for,
    rfc3339,
)
from .packs import PackStore, PackWriter

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    salt BLOB NOT NULL, pw_hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS identities (
    user_id TEXT NOT NULL, user_type TEXT NOT NULL, label TEXT NOT NULL,
    is_default INTEGER NOT NULL, ord INTEGER NOT NULL, PRIMARY KEY (user_id, user_type));
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, code TEXT, client TEXT NOT NULL,
    period TEXT NOT NULL, updated_at TEXT NOT NULL, origin TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS access (
    user_id TEXT NOT NULL, user_type TEXT NOT NULL, project_id TEXT NOT NULL,
    PRIMARY KEY (user_id, user_type, project_id));
CREATE TABLE IF NOT EXISTS folders (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, parent_id TEXT, name TEXT NOT NULL,
    updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS folders_project ON folders (project_id);
CREATE TABLE IF NOT EXISTS files (
    id TEXT PRIMARY KEY, project_id TEXT NOT NULL, folder_id TEXT, name TEXT NOT NULL,
    content_type TEXT NOT NULL, current_version INTEGER NOT NULL, deleted INTEGER NOT NULL,
    updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS files_project ON files (project_id);
CREATE TABLE IF NOT EXISTS versions (
    file_id TEXT NOT NULL, version INTEGER NOT NULL, size INTEGER NOT NULL,
    sha256 TEXT NOT NULL, pack TEXT NOT NULL, "offset" INTEGER NOT NULL,
    created_at TEXT NOT NULL, purged INTEGER NOT NULL, PRIMARY KEY (file_id, version));
"""

#: Rows as the demo generator hands them over (tuples in column order).
ProjectRow = tuple[str, str, str | None, str, str, str]  # id name code client period updated_at
FolderRow = tuple[str, str, str | None, str, str]  # id project parent name updated_at
FileRow = tuple[str, str, str | None, str, str, int, str]  # id project folder name ctype ver upd
VersionRow = tuple[str, int, int, str, str, int, str]  # file ver size sha pack offset created
AccessRow = tuple[str, str, str]  # user_id user_type project_id


class StoreError(Exception):
    """A store operation that the API maps to an error answer."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def hash_password(password: str, salt: bytes) -> bytes:
    # A deliberately light KDF: this is a test server, and tests log in often.
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, 1000)


class Store:
    """All server state except tokens and faults (those live in the app)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(
            data_dir / "server.sqlite3", isolation_level=None, check_same_thread=False
        )
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(_SCHEMA)
        version = self.meta_get("schema_version")
        if version is None:
            self.meta_set("schema_version", str(SCHEMA_VERSION))
        elif version != str(SCHEMA_VERSION):
            self.db.close()
            raise RuntimeError(
                f"{data_dir} holds reference-server data of schema {version}, "
                f"this server knows {SCHEMA_VERSION}; use a fresh --data directory"
            )
        self.packs = PackStore(data_dir / "packs")
        self._data_writer: PackWriter | None = None
        self._reset_memory()

    def _reset_memory(self) -> None:
        self.users_by_name: dict[str, User] = {}
        self.users_by_id: dict[str, User] = {}
        self.projects: dict[str, Project] = {}
        self.folders: dict[str, Folder] = {}
        self.files: dict[str, FileEntry] = {}
        self.children: dict[tuple[str, str | None], Children] = {}
        self.access: dict[tuple[str, str], set[str]] = {}
        # Only admin-published ("data") blobs are deduplicated: demo packs are
        # deleted on regeneration and must never be referenced from elsewhere.
        self._dedup: dict[tuple[str, int], tuple[str, int]] = {}

    # -- meta ---------------------------------------------------------------

    def meta_get(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def meta_set(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    # -- bulk writes used at start -----------------------------------------

    def ensure_accounts(
        self, accounts: Iterable[tuple[str, str, str, str, list[tuple[str, str]]]]
    ) -> None:
        """Create missing accounts: ``(id, username, password, name, [(userType, label)])``.

        The first identity listed is the default one.
        """
        with self.db:
            self.db.execute("BEGIN")
            for user_id, username, password, name, identities in accounts:
                exists = self.db.execute(
                    "SELECT 1 FROM users WHERE username = ?", (username,)
                ).fetchone()
                if exists:
                    continue
                salt = secrets.token_bytes(16)
                self.db.execute(
                    "INSERT INTO users VALUES (?, ?, ?, ?, ?)",
                    (user_id, username, name, salt, hash_password(password, salt)),
                )
                self.db.executemany(
                    "INSERT INTO identities VALUES (?, ?, ?, ?, ?)",
                    [
                        (user_id, utype, label, int(i == 0), i)
                        for i, (utype, label) in enumerate(identities)
                    ],
                )

    def replace_demo(
        self,
        fingerprint: str,
        projects: list[ProjectRow],
        folders: list[FolderRow],
        files: list[FileRow],
        versions: list[VersionRow],
        access: list[AccessRow],
    ) -> None:
        """Swap the demo projects (and everything in them) for freshly generated ones.

        Projects created through the admin API are left alone. The demo packs
        must already be written; the caller removed the old ones first.
        """
        with self.db:
            self.db.execute("BEGIN")
            demo_ids = "SELECT id FROM projects WHERE origin = 'demo'"
            self.db.execute(
                "DELETE FROM versions WHERE file_id IN "
                f"(SELECT id FROM files WHERE project_id IN ({demo_ids}))"
            )
            self.db.execute(f"DELETE FROM files WHERE project_id IN ({demo_ids})")
            self.db.execute(f"DELETE FROM folders WHERE project_id IN ({demo_ids})")
            self.db.execute(f"DELETE FROM access WHERE project_id IN ({demo_ids})")
            self.db.execute("DELETE FROM projects WHERE origin = 'demo'")
            self.db.executemany("INSERT INTO projects VALUES (?, ?, ?, ?, ?, ?, 'demo')", projects)
            self.db.executemany("INSERT INTO folders VALUES (?, ?, ?, ?, ?)", folders)
            self.db.executemany("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, 0, ?)", files)
            self.db.executemany("INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, 0)", versions)
            self.db.executemany("INSERT OR IGNORE INTO access VALUES (?, ?, ?)", access)
            self.meta_set("demo_fingerprint", fingerprint)

    # -- loading -------------------------------------------------------------

    def load(self) -> None:
        """Read everything into memory (once, at start)."""
        self._reset_memory()
        db = self.db
        for uid, username, name, salt, pw_hash in db.execute("SELECT * FROM users"):
            user = User(uid, username, name, bytes(salt), bytes(pw_hash))
            self.users_by_id[uid] = user
            self.users_by_name[username] = user
        for uid, utype, label, is_default, _ in db.execute(
            "SELECT * FROM identities ORDER BY user_id, ord"
        ):
            if uid in self.users_by_id:
                self.users_by_id[uid].identities.append(Identity(utype, label, bool(is_default)))
        for pid, name, code, client, period, updated, origin in db.execute(
            "SELECT * FROM projects"
        ):
            self.projects[pid] = Project(pid, name, code, client, period, updated, origin)
        for uid, utype, pid in db.execute("SELECT * FROM access"):
            self.access.setdefault((uid, utype), set()).add(pid)
        for fid, pid, parent, name, updated in db.execute("SELECT * FROM folders"):
            folder = Folder(fid, pid, parent, name, updated)
            self.folders[fid] = folder
        for fid, pid, folder_id, name, ctype, cur, deleted, updated in db.execute(
            "SELECT * FROM files"
        ):
            self.files[fid] = FileEntry(
                fid, pid, folder_id, name, ctype, cur, bool(deleted), updated
            )
        for fid, ver, size, sha, pack, offset, created, purged in db.execute(
            "SELECT * FROM versions"
        ):
            entry = self.files.get(fid)
            if entry is None:
                continue
            rec = Version(fid, ver, size, sha, pack, offset, created, bool(purged))
            entry.versions[ver] = rec
            if pack.startswith("data-"):
                self._dedup.setdefault((sha, size), (pack, offset))
        for folder in self.folders.values():
            self._children_of(folder.project_id, folder.parent_id, create=True).append_unsorted(
                folder
            )
        for entry in self.files.values():
            if not entry.deleted and entry.versions:
                self._children_of(entry.project_id, entry.folder_id, create=True).append_unsorted(
                    entry
                )
        for children in self.children.values():
            children.sort()

    def _children_of(self, project_id: str, folder_id: str | None, *, create: bool) -> Children:
        key = (project_id, folder_id)
        children = self.children.get(key)
        if children is None:
            children = Children()
            if create:
                self.children[key] = children
        return children

    # -- reads ---------------------------------------------------------------

    def check_password(self, username: str, password: str) -> User | None:
        user = self.users_by_name.get(username)
        if user is None:
            # Same work either way, so timing does not tell which part was wrong.
            hash_password(password, b"\0" * 16)
            return None
        if hmac.compare_digest(hash_password(password, user.salt), user.pw_hash):
            return user
        return None

    def can_see(self, user_id: str, user_type: str, project_id: str) -> bool:
        return project_id in self.access.get((user_id, user_type), ())

    def visible_projects(self, user_id: str, user_type: str) -> list[Project]:
        ids = self.access.get((user_id, user_type), set())
        return [self.projects[p] for p in ids if p in self.projects]

    def children_of(self, project_id: str, folder_id: str | None) -> Children:
        return self._children_of(project_id, folder_id, create=False)

    def read_version(self, rec: Version) -> bytes:
        return self.packs.read(rec.pack, rec.offset, rec.size)

    # -- admin mutations -----------------------------------------------------

    def _next_id(self, kind: str) -> str:
        # Admin ids live in their own namespace ("x" after the kind) so that a
        # regenerated demo, which numbers from 1 again, never collides with them.
        seq = int(self.meta_get("admin_seq") or "0") + 1
        self.meta_set("admin_seq", str(seq))
        return f"{kind}-x{seq}"

    def _store_blob(self, data: bytes) -> tuple[str, int, str]:
        sha = hashlib.sha256(data).hexdigest()
        where = self._dedup.get((sha, len(data)))
        if where is None:
            if self._data_writer is None:
                self._data_writer = self.packs.writer("data", buffer_size=1 << 16)
            where = self._data_writer.append(data)
            self._data_writer.flush()
            self._dedup[(sha, len(data))] = where
        return where[0], where[1], sha

    def create_project(
        self, name: str, code: str | None, client: str = "", period: str = ""
    ) -> Project:
        project = Project(
            self._next_id("prj"), name, code, client, period, rfc3339(time.time()), "admin"
        )
        self.db.execute(
            "INSERT INTO projects VALUES (?, ?, ?, ?, ?, ?, ?)",
            (project.id, name, code, client, period, project.updated_at, project.origin),
        )
        self.projects[project.id] = project
        return project

    def set_access(self, user_id: str, user_type: str, project_id: str, allowed: bool) -> None:
        if allowed:
            self.db.execute(
                "INSERT OR IGNORE INTO access VALUES (?, ?, ?)", (user_id, user_type, project_id)
            )
            self.access.setdefault((user_id, user_type), set()).add(project_id)
        else:
            self.db.execute(
                "DELETE FROM access WHERE user_id = ? AND user_type = ? AND project_id = ?",
                (user_id, user_type, project_id),
            )
            self.access.get((user_id, user_type), set()).discard(project_id)

    def add_file(
        self, project_id: str, folders: list[str], name: str, data: bytes
    ) -> tuple[FileEntry, Version]:
        """Create the folder chain (verbatim names, reused when present) and a new file.

        A file is always created, even beside one of the same name: duplicate
        names are one of the hostile trees tests want to build.
        """
        project = self.projects.get(project_id)
        if project is None:
            raise StoreError(404, "not_found", f"no project {project_id!r}")
        now = rfc3339(time.time())
        parent: str | None = None
        with self.db:
            self.db.execute("BEGIN")
            for folder_name in folders:
                siblings = self._children_of(project_id, parent, create=True)
                found = siblings.find_folder(folder_name)
                if found is None:
                    found = Folder(self._next_id("fld"), project_id, parent, folder_name, now)
                    self.db.execute(
                        "INSERT INTO folders VALUES (?, ?, ?, ?, ?)",
                        (found.id, project_id, parent, folder_name, now),
                    )
                    self.folders[found.id] = found
                    siblings.add(found)
                parent = found.id
            pack, offset, sha = self._store_blob(data)
            entry = FileEntry(
                self._next_id("fil"),
                project_id,
                parent,
                name,
                content_type_for(name),
                1,
                False,
                now,
            )
            rec = Version(entry.id, 1, len(data), sha, pack, offset, now, False)
            entry.versions[1] = rec
            self.db.execute(
                "INSERT INTO files VALUES (?, ?, ?, ?, ?, 1, 0, ?)",
                (entry.id, project_id, parent, name, entry.content_type, now),
            )
            self._insert_version(rec)
            self._touch_project(project, now)
        self.files[entry.id] = entry
        self._children_of(project_id, parent, create=True).add(entry)
        return entry, rec

    def _insert_version(self, rec: Version) -> None:
        self.db.execute(
            "INSERT INTO versions VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
            (rec.file_id, rec.version, rec.size, rec.sha256, rec.pack, rec.offset, rec.created_at),
        )

    def _touch_project(self, project: Project, now: str) -> None:
        project.updated_at = now
        self.db.execute("UPDATE projects SET updated_at = ? WHERE id = ?", (now, project.id))

    def _live_file(self, file_id: str) -> FileEntry:
        entry = self.files.get(file_id)
        if entry is None:
            raise StoreError(404, "not_found", f"no file {file_id!r}")
        if entry.deleted:
            raise StoreError(410, "file_deleted", f"file {file_id!r} was deleted")
        return entry

    def publish_version(self, file_id: str, data: bytes) -> Version:
        """Add a new current version; older ones stay downloadable until purged."""
        entry = self._live_file(file_id)
        now = rfc3339(time.time())
        pack, offset, sha = self._store_blob(data)
        number = max(entry.versions) + 1
        rec = Version(file_id, number, len(data), sha, pack, offset, now, False)
        # The sort key does not involve the version, so the children index is untouched.
        with self.db:
            self.db.execute("BEGIN")
            self._insert_version(rec)
            self.db.execute(
                "UPDATE files SET current_version = ?, updated_at = ? WHERE id = ?",
                (number, now, file_id),
            )
            self._touch_project(self.projects[entry.project_id], now)
        entry.versions[number] = rec
        entry.current_version = number
        entry.updated_at = now
        return rec

    def purge_version(self, file_id: str, version: int) -> None:
        entry = self._live_file(file_id)
        rec = entry.versions.get(version)
        if rec is None or rec.purged:
            raise StoreError(404, "version_not_found", f"file {file_id!r} has no version {version}")
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute(
                "UPDATE versions SET purged = 1 WHERE file_id = ? AND version = ?",
                (file_id, version),
            )
            rec.purged = True
            entry.refresh_current()
            self.db.execute(
                "UPDATE files SET current_version = ? WHERE id = ?",
                (entry.current_version, file_id),
            )

    def delete_file(self, file_id: str) -> None:
        entry = self._live_file(file_id)
        now = rfc3339(time.time())
        self.db.execute("UPDATE files SET deleted = 1, updated_at = ? WHERE id = ?", (now, file_id))
        self._children_of(entry.project_id, entry.folder_id, create=True).remove(entry)
        entry.deleted = True
        entry.updated_at = now

    # -- lifecycle -----------------------------------------------------------

    def close(self) -> None:
        if self._data_writer is not None:
            self._data_writer.close()
            self._data_writer = None
        self.packs.close()
        self.db.close()
