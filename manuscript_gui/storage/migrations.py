"""Numbered schema migrations: the only place the schema is created or changed.

Rules for adding one:

* register a function with ``@migration(N)`` where N is the next number; a
  shipped migration is never edited (databases in the field already ran it);
* write plain DDL/DML against the tables *as they are at that version*, not
  through the models, which follow the newest schema;
* a migration runs inside one transaction together with the version bump, so
  a crash or error leaves the database at the previous version, never halfway.
  Foreign keys are off while migrating (``PRAGMA foreign_keys`` cannot change
  inside a transaction, and SQLite's table-rebuild recipe needs them off) and
  ``PRAGMA foreign_key_check`` must come back clean before the step commits.

Before an existing database is upgraded it is copied next to itself as
``<name>.bak-v<old version>`` with SQLite's backup API, which (unlike copying
the file) includes whatever is still in the ``-wal`` file. A database with a
version newer than :data:`SCHEMA_VERSION` is refused, never downgraded.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

import peewee as pw

from manuscript_gui.storage import sorting
from manuscript_gui.storage.errors import (
    IncompatibleDatabaseError,
    MigrationError,
    SchemaTooNewError,
    StorageError,
)
from manuscript_gui.storage.tables import sqlite_connection

__all__ = ["SCHEMA_VERSION", "check_schema_version", "migration", "upgrade"]

Migration = Callable[[pw.Database], None]
_MIGRATIONS: dict[int, Migration] = {}


def migration(version: int) -> Callable[[Migration], Migration]:
    """Register *func* as the step that brings a database to *version*."""

    def register(func: Migration) -> Migration:
        if version in _MIGRATIONS:
            raise RuntimeError(f"two migrations for schema version {version}")
        _MIGRATIONS[version] = func
        return func

    return register


def _execute_all(db: pw.Database, statements: Sequence[str]) -> None:
    # Not sqlite3's executescript(): it COMMITs first, which would break the
    # one-transaction-per-migration rule.
    conn = sqlite_connection(db)
    for statement in statements:
        conn.execute(statement)


@migration(1)
def _initial_tables(db: pw.Database) -> None:
    """The original two tables (task list, per-file details) and the version row."""
    _execute_all(
        db,
        (
            """
            CREATE TABLE schema_version (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                version INTEGER NOT NULL
            )""",
            # AUTOINCREMENT: a deleted task's id is never reused, because the
            # live task manager and UI snapshots identify tasks by id.
            """
            CREATE TABLE task (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL,
                target_dir TEXT NOT NULL,
                selection TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN
                    ('initializing', 'waiting', 'paused', 'completed', 'canceled')),
                reason TEXT,
                reason_detail TEXT,
                position INTEGER NOT NULL,
                total_files INTEGER NOT NULL DEFAULT 0,
                succeeded INTEGER NOT NULL DEFAULT 0,
                failed INTEGER NOT NULL DEFAULT 0,
                total_bytes INTEGER NOT NULL DEFAULT 0,
                done_bytes INTEGER NOT NULL DEFAULT 0,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                finished_at TEXT
            )""",
            """
            CREATE TABLE task_file (
                id INTEGER PRIMARY KEY,
                task_id INTEGER NOT NULL REFERENCES task (id) ON DELETE CASCADE,
                remote_id TEXT NOT NULL,
                project_id TEXT NOT NULL,
                remote_path TEXT NOT NULL,
                local_path TEXT NOT NULL,
                version INTEGER NOT NULL,
                size INTEGER NOT NULL,
                sha256 TEXT NOT NULL,
                content_type TEXT,
                status TEXT NOT NULL CHECK (status IN ('waiting', 'paused', 'completed')),
                outcome TEXT CHECK (outcome IN ('succeeded', 'failed')),
                error_code TEXT,
                error_message TEXT,
                attempts INTEGER NOT NULL DEFAULT 0,
                updated_at TEXT NOT NULL,
                CHECK ((status = 'completed') = (outcome IS NOT NULL))
            )""",
            # (task_id) alone: the FK cascade and unfiltered paging in id order
            # (an index implicitly ends with the rowid, so no sort is needed).
            "CREATE INDEX task_file_task ON task_file (task_id)",
            "CREATE INDEX task_file_task_status ON task_file (task_id, status)",
            # Two files of one task must never write the same local file.
            "CREATE UNIQUE INDEX task_file_task_local_path ON task_file (task_id, local_path)",
        ),
    )


@migration(2)
def _resume_and_failure_report(db: pw.Database) -> None:
    """ETag for ``If-Range`` resumes; an index for the failure report and *retry failed*."""
    _execute_all(
        db,
        (
            "ALTER TABLE task_file ADD COLUMN etag TEXT",
            "CREATE INDEX task_file_task_outcome ON task_file (task_id, outcome)",
        ),
    )


@migration(3)
def _listing_state(db: pw.Database) -> None:
    """Whether a task's file list is complete.

    A listing that fails (server unreachable, login expired) pauses the task;
    resuming it must list again rather than export a partial list. Tasks that
    already left ``initializing`` were listed completely.
    """
    _execute_all(
        db,
        (
            "ALTER TABLE task ADD COLUMN listed INTEGER NOT NULL DEFAULT 0",
            "UPDATE task SET listed = 1 WHERE status != 'initializing'",
        ),
    )


@migration(4)
def _private_staging(db: pw.Database) -> None:
    """A staging key per task: partial files live under ``.manuscript-partial/<key>/``.

    Task ids restart at 1 in every database, so two identities (or two PCs on
    one network share) exporting into one folder shared ``.manuscript-partial/1/``
    and wrote into each other's partials. The key is random (128 bits), so no
    other database or machine produces it. Tasks from before get a fresh key:
    their old ``<task id>`` staging folders are left alone (they may belong to
    another database); their partial downloads start over.
    """
    _execute_all(
        db,
        (
            "ALTER TABLE task ADD COLUMN staging_key TEXT",
            # randomblob: a key per row, inside the migration's transaction.
            "UPDATE task SET staging_key = lower(hex(randomblob(16)))",
            "CREATE UNIQUE INDEX task_staging_key ON task (staging_key)",
        ),
    )


@migration(5)
def _reason_parameters(db: pw.Database) -> None:
    """Parameters of a stop reason and of a file's failure (JSON objects).

    The reason and error *codes* were always stored; the English detail and
    message stay for logs and reports. The parameters (bytes needed and free,
    the server's error, attempts, the HTTP status, ...) let a front end build
    the sentence in the user's language.
    """
    _execute_all(
        db,
        (
            "ALTER TABLE task ADD COLUMN reason_params TEXT",
            "ALTER TABLE task_file ADD COLUMN error_params TEXT",
        ),
    )


@migration(6)
def _file_order(db: pw.Database) -> None:
    """A natural sort key per file, so a window lists files in path order.

    ``D2`` before ``D10``, a folder's files together (``storage/sorting.py``),
    paged from an index like the id order was: one index for every file of a
    task, one per outcome (``outcome IS NULL``: the open files).
    """
    sorting.register(sqlite_connection(db))
    _execute_all(
        db,
        (
            "ALTER TABLE task_file ADD COLUMN sort_key TEXT NOT NULL DEFAULT ''",
            "UPDATE task_file SET sort_key = natural_key(local_path)",
            "CREATE INDEX task_file_task_sort ON task_file (task_id, sort_key, id)",
            "CREATE INDEX task_file_task_outcome_sort "
            "ON task_file (task_id, outcome, sort_key, id)",
        ),
    )


SCHEMA_VERSION: Final = max(_MIGRATIONS)
if sorted(_MIGRATIONS) != list(range(1, SCHEMA_VERSION + 1)):  # pragma: no cover - coding error
    raise RuntimeError("schema migrations must be numbered 1..N without gaps")


def check_schema_version(db: pw.Database, path: Path) -> int:
    """The schema version of an open database; 0 for a new, empty one.

    Raises :class:`SchemaTooNewError` for a newer schema and
    :class:`IncompatibleDatabaseError` for a database that is not ours.
    """
    conn = sqlite_connection(db)
    tables = {
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    }
    if "schema_version" not in tables:
        if tables:
            raise IncompatibleDatabaseError(
                path,
                f"{path} is an SQLite database but not a manuscript-gui export database "
                f"(it has no schema version). The file was left unchanged.",
            )
        return 0
    row = conn.execute("SELECT version FROM schema_version WHERE id = 1").fetchone()
    if row is None or not isinstance(row[0], int) or row[0] < 1:
        raise IncompatibleDatabaseError(
            path, f"The schema version row of {path} is missing or invalid."
        )
    version: int = row[0]
    if version > SCHEMA_VERSION:
        raise SchemaTooNewError(path, version, SCHEMA_VERSION)
    return version


def upgrade(db: pw.Database, path: Path) -> Path | None:
    """Bring the open database at *path* to :data:`SCHEMA_VERSION`.

    Returns the backup made before migrating, or None when there was nothing
    to migrate (up to date, or new and empty: nothing worth a backup).
    """
    current = check_schema_version(db, path)
    if current == SCHEMA_VERSION:
        return None
    backup = _backup(db, path, current) if current > 0 else None
    conn = sqlite_connection(db)
    restore_fk = int(conn.execute("PRAGMA foreign_keys").fetchone()[0])
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        for version in range(current + 1, SCHEMA_VERSION + 1):
            _run_step(db, path, version, backup)
    finally:
        conn.execute(f"PRAGMA foreign_keys = {restore_fk}")
    return backup


def _run_step(db: pw.Database, path: Path, version: int, backup: Path | None) -> None:
    conn = sqlite_connection(db)
    try:
        with db.atomic():
            _MIGRATIONS[version](db)
            broken = conn.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise MigrationError(path, version, backup, f"foreign key violations: {broken!r}")
            conn.execute(
                "INSERT OR REPLACE INTO schema_version (id, version) VALUES (1, ?)", (version,)
            )
    except StorageError:
        raise
    except (pw.PeeweeException, sqlite3.Error) as exc:
        raise MigrationError(path, version, backup, str(exc)) from exc


def _backup(db: pw.Database, path: Path, version: int) -> Path:
    target = path.with_name(f"{path.name}.bak-v{version}")
    counter = 2
    while target.exists():  # never overwrite an earlier backup
        target = path.with_name(f"{path.name}.bak-v{version}-{counter}")
        counter += 1
    # Written under a temporary name, so a crash mid-copy leaves no file that
    # looks like a complete backup.
    partial = target.with_name(target.name + ".partial")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    dest = sqlite3.connect(partial)
    try:
        sqlite_connection(db).backup(dest)
    finally:
        dest.close()
    os.replace(partial, target)
    return target
