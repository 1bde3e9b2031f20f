"""Schema versions: upgrading a v1 file, refusing newer ones, rolling back a failed step."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import peewee as pw
import pytest

from manuscript_gui.storage import (
    SCHEMA_VERSION,
    ExportStore,
    FileOutcome,
    FileStatus,
    IncompatibleDatabaseError,
    MigrationError,
    SchemaTooNewError,
    TaskStatus,
    migrations,
)
from manuscript_gui.storage.tables import bind_models, sqlite_connection

# A database as version 0.1 of the app wrote it (schema v1). Deliberately a
# frozen copy, not migration 1 itself: this is what files in the field hold.
V1_SCHEMA = """
CREATE TABLE schema_version (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL);
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
);
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
);
CREATE INDEX task_file_task ON task_file (task_id);
CREATE INDEX task_file_task_status ON task_file (task_id, status);
CREATE UNIQUE INDEX task_file_task_local_path ON task_file (task_id, local_path);
INSERT INTO schema_version VALUES (1, 1);
"""

T0 = "2025-03-01T08:00:00.000000+00:00"
SHA = "ab" * 32


def build_v1(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    try:
        conn.executescript(V1_SCHEMA)
        conn.execute(
            "INSERT INTO task (name, target_dir, selection, status, reason, position, "
            "total_files, succeeded, failed, total_bytes, done_bytes, created_at, updated_at) "
            "VALUES ('2024 年报', '/out', '{\"projects\": [\"p-1\"]}', 'paused', 'logged_out', 1, "
            "3, 1, 1, 300, 100, ?, ?)",
            (T0, T0),
        )
        conn.executemany(
            "INSERT INTO task_file (task_id, remote_id, project_id, remote_path, local_path, "
            "version, size, sha256, status, outcome, error_code, attempts, updated_at) "
            "VALUES (1, ?, 'p-1', ?, ?, 1, 100, ?, ?, ?, ?, ?, ?)",
            [
                ("f1", "/A/a.xlsx", "A/a.xlsx", SHA, "completed", "succeeded", None, 1, T0),
                ("f2", "/A/b.xlsx", "A/b.xlsx", SHA, "completed", "failed", "file_deleted", 1, T0),
                ("f3", "/A/c.xlsx", "A/c.xlsx", SHA, "paused", None, None, 0, T0),
            ],
        )
        conn.commit()
    finally:
        conn.close()


def schema_shape(conn: sqlite3.Connection) -> dict[str, object]:
    """Tables' columns and indexes, independent of how the DDL text was spelled."""
    shape: dict[str, object] = {}
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    for table in sorted(tables):
        shape[table] = conn.execute(f"PRAGMA table_info({table})").fetchall()
        indexes = conn.execute(f"PRAGMA index_list({table})").fetchall()
        for index in sorted(indexes, key=lambda row: row[1]):
            name, unique = index[1], index[2]
            columns = [row[2] for row in conn.execute(f"PRAGMA index_info({name})")]
            shape[f"{table}.{name}"] = (unique, columns)
    return shape


def schema_version_of(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        version: int = conn.execute("SELECT version FROM schema_version").fetchone()[0]
        return version
    finally:
        conn.close()


def test_two_schema_versions_ship() -> None:
    assert SCHEMA_VERSION >= 2


def test_v1_file_is_migrated_with_backup_and_data_kept(db_path: Path) -> None:
    build_v1(db_path)
    with ExportStore.open(db_path) as store:
        backup = db_path.with_name("exports.sqlite3.bak-v1")
        assert store.migration_backup == backup
        (task,) = store.list_tasks()
        assert (task.name, task.status, task.reason) == (
            "2024 年报",
            TaskStatus.PAUSED,
            "logged_out",
        )
        assert task.selection == {"projects": ["p-1"]}
        assert (task.total_files, task.succeeded, task.failed) == (3, 1, 1)
        files = store.page_files(task.id)
        assert [(f.remote_id, f.status, f.outcome, f.error_code, f.etag) for f in files] == [
            ("f1", FileStatus.COMPLETED, FileOutcome.SUCCEEDED, None, None),
            ("f2", FileStatus.COMPLETED, FileOutcome.FAILED, "file_deleted", None),
            ("f3", FileStatus.PAUSED, None, None, None),
        ]
        # v4: the old task got a private staging key.
        assert len(task.staging_key) == 32
        # The new column works, and counters still derive from the rows.
        store.update_files(task.id, [dataclasses.replace(files[2], etag='"e"')])
        assert store.recompute_task_counts(task.id).done_bytes == 100
        assert store.page_files(task.id, outcome=FileOutcome.FAILED)[0].remote_id == "f2"

    assert schema_version_of(db_path) == SCHEMA_VERSION
    # The backup is the untouched v1 database.
    assert schema_version_of(backup) == 1
    raw = sqlite3.connect(backup)
    try:
        columns = [row[1] for row in raw.execute("PRAGMA table_info(task_file)")]
        assert "etag" not in columns
        assert raw.execute("SELECT COUNT(*) FROM task_file").fetchone()[0] == 3
    finally:
        raw.close()

    # Up to date now: no further backup on the next open.
    with ExportStore.open(db_path) as again:
        assert again.migration_backup is None
    assert sorted(p.name for p in db_path.parent.glob("*.bak-*")) == ["exports.sqlite3.bak-v1"]


def test_an_existing_backup_is_never_overwritten(db_path: Path) -> None:
    build_v1(db_path)
    earlier = db_path.with_name("exports.sqlite3.bak-v1")
    earlier.write_bytes(b"an earlier backup")
    with ExportStore.open(db_path) as store:
        assert store.migration_backup == db_path.with_name("exports.sqlite3.bak-v1-2")
    assert earlier.read_bytes() == b"an earlier backup"


def test_migrated_schema_equals_fresh_schema(tmp_path: Path) -> None:
    migrated, fresh = tmp_path / "m" / "db.sqlite3", tmp_path / "f" / "db.sqlite3"
    build_v1(migrated)
    for path in (migrated, fresh):
        ExportStore.open(path).close()
    shapes = []
    for path in (migrated, fresh):
        conn = sqlite3.connect(path)
        try:
            shapes.append(schema_shape(conn))
        finally:
            conn.close()
    assert shapes[0] == shapes[1]


def test_models_match_the_migrated_tables(store: ExportStore) -> None:
    models = bind_models(pw.SqliteDatabase(None))
    conn = sqlite_connection(store._db)
    for model in (models.task, models.file):
        table = model._meta.table_name
        columns = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        assert {field.column_name for field in model._meta.sorted_fields} == columns


def test_newer_schema_is_refused_and_left_alone(db_path: Path) -> None:
    ExportStore.open(db_path).close()
    raw = sqlite3.connect(db_path)
    raw.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 5,))
    raw.commit()
    raw.close()
    before = db_path.read_bytes()

    with pytest.raises(SchemaTooNewError) as caught:
        ExportStore.open(db_path)
    error = caught.value
    assert (error.found_version, error.supported_version) == (SCHEMA_VERSION + 5, SCHEMA_VERSION)
    assert "newer version" in str(error)
    assert str(db_path) in str(error)
    assert db_path.read_bytes() == before
    assert sorted(p.name for p in db_path.parent.iterdir() if "sqlite3." in p.name) == []


def test_foreign_sqlite_file_is_refused_and_left_alone(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    raw = sqlite3.connect(db_path)
    raw.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
    raw.commit()
    raw.close()
    before = db_path.read_bytes()
    with pytest.raises(IncompatibleDatabaseError, match="not a manuscript-gui export database"):
        ExportStore.open(db_path)
    assert db_path.read_bytes() == before


def test_failed_migration_rolls_back_and_keeps_the_backup(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ExportStore.open(db_path).close()
    next_version = SCHEMA_VERSION + 1

    def broken(db: pw.Database) -> None:
        conn = sqlite_connection(db)
        conn.execute("ALTER TABLE task ADD COLUMN half_done TEXT")
        conn.execute("THIS IS NOT SQL")

    with monkeypatch.context() as patch:
        patch.setitem(migrations._MIGRATIONS, next_version, broken)
        patch.setattr(migrations, "SCHEMA_VERSION", next_version)
        with pytest.raises(MigrationError) as caught:
            ExportStore.open(db_path)
    assert caught.value.version == next_version
    assert caught.value.backup_path == db_path.with_name(f"exports.sqlite3.bak-v{SCHEMA_VERSION}")
    assert caught.value.backup_path.exists()

    # Still the previous version, without the half-applied column.
    assert schema_version_of(db_path) == SCHEMA_VERSION
    with ExportStore.open(db_path) as store:
        conn = sqlite_connection(store._db)
        assert "half_done" not in {row[1] for row in conn.execute("PRAGMA table_info(task)")}
