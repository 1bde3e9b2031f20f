"""Damaged databases are reported and kept aside, never silently replaced."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from manuscript_gui.storage import (
    CorruptDatabaseError,
    DatabaseOpenError,
    ExportStore,
    TaskStatus,
)
from manuscript_gui.storage import store as store_module
from tests.storage.helpers import new_files


def make_database(path: Path, files: int = 2_000) -> None:
    """A real database big enough to span many pages."""
    with ExportStore.open(path) as store:
        task = store.create_task("t", "/out", {"projects": []}, status=TaskStatus.WAITING)
        store.insert_files(task.id, new_files(files))


def garbage(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(os.urandom(8192))


def truncated(path: Path) -> None:
    make_database(path)
    with path.open("r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def garbage_header(path: Path) -> None:
    make_database(path)
    with path.open("r+b") as handle:
        handle.write(os.urandom(100))


def overwrite_middle_page(path: Path) -> None:
    with path.open("r+b") as handle:
        handle.seek(path.stat().st_size // 2)
        handle.write(b"\xff" * 4096)


def damaged_page(path: Path) -> None:
    # The header is fine, so only the integrity check can tell.
    make_database(path)
    overwrite_middle_page(path)


@pytest.mark.parametrize("damage", [garbage, truncated, garbage_header, damaged_page])
def test_damaged_file_is_moved_aside_and_reported(damage: object, db_path: Path) -> None:
    damage(db_path)  # type: ignore[operator]
    damaged_bytes = db_path.read_bytes()

    with pytest.raises(CorruptDatabaseError) as caught:
        ExportStore.open(db_path)
    error = caught.value
    assert error.original_path == db_path
    assert error.moved_to.name.startswith("exports.sqlite3.corrupt-")
    assert error.moved_to.parent == db_path.parent
    message = str(error)
    assert "damaged" in message
    assert str(db_path) in message
    assert str(error.moved_to) in message
    assert error.moved_to.read_bytes() == damaged_bytes
    assert not db_path.exists()

    # The caller decides to start afresh: the next open creates an empty database.
    with ExportStore.open(db_path) as fresh:
        assert fresh.list_tasks() == []
    assert error.moved_to.read_bytes() == damaged_bytes


def test_wal_and_shm_go_aside_with_the_database(db_path: Path) -> None:
    garbage(db_path)
    wal = db_path.with_name("exports.sqlite3-wal")
    shm = db_path.with_name("exports.sqlite3-shm")
    wal.write_bytes(b"old wal frames")
    shm.write_bytes(b"old shm")

    with pytest.raises(CorruptDatabaseError) as caught:
        ExportStore.open(db_path)
    moved = caught.value.moved_to
    # Named so that sqlite3 opening the set-aside copy finds its WAL again.
    assert moved.with_name(moved.name + "-wal").read_bytes() == b"old wal frames"
    # The -shm is only an index SQLite rebuilds from the WAL; it moves along.
    assert moved.with_name(moved.name + "-shm").exists()
    assert not wal.exists()
    assert not shm.exists()


def test_two_damaged_files_in_a_row_keep_both_copies(db_path: Path) -> None:
    moved = []
    for _ in range(2):
        garbage(db_path)
        with pytest.raises(CorruptDatabaseError) as caught:
            ExportStore.open(db_path)
        moved.append(caught.value.moved_to)
    assert moved[0] != moved[1]
    assert all(path.exists() for path in moved)


def test_empty_file_is_a_new_database(db_path: Path) -> None:
    # What SQLite itself does, and what a crash right after creating the file leaves.
    db_path.parent.mkdir(parents=True)
    db_path.touch()
    with ExportStore.open(db_path) as store:
        assert store.list_tasks() == []


def test_a_locked_database_is_not_treated_as_damaged(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Rollback-journal mode, so an exclusive lock keeps readers out.
    db_path.parent.mkdir(parents=True)
    holder = sqlite3.connect(db_path, isolation_level=None)
    try:
        holder.execute("CREATE TABLE schema_version (id INTEGER PRIMARY KEY, version INTEGER)")
        holder.execute("BEGIN EXCLUSIVE")
        monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.05)
        with pytest.raises(DatabaseOpenError, match="locked"):
            ExportStore.open(db_path)
    finally:
        holder.close()
    assert db_path.exists()
    assert not list(db_path.parent.glob("*.corrupt-*"))


def _crash_copy(source: Path, target: Path, names: tuple[str, ...]) -> None:
    """Copy a database's files as they are mid-write, as a crash would leave them."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in names:
        shutil.copyfile(
            source.with_name(source.name + suffix), target.with_name(target.name + suffix)
        )


def test_the_wal_of_a_damaged_database_is_kept_unmerged(tmp_path: Path, db_path: Path) -> None:
    origin = tmp_path / "origin" / "exports.sqlite3"
    make_database(origin)
    writer = sqlite3.connect(origin, isolation_level=None)
    try:
        writer.execute("PRAGMA wal_autocheckpoint = 0")
        writer.execute("UPDATE task SET name = 'committed only in the WAL'")
        _crash_copy(origin, db_path, ("", "-wal"))
    finally:
        writer.close()
    wal_bytes = db_path.with_name("exports.sqlite3-wal").read_bytes()
    assert wal_bytes
    overwrite_middle_page(db_path)
    damaged_bytes = db_path.read_bytes()

    with pytest.raises(CorruptDatabaseError) as caught:
        ExportStore.open(db_path)
    moved = caught.value.moved_to
    # Nothing was checkpointed into the damaged file, nothing deleted.
    assert moved.read_bytes() == damaged_bytes
    assert moved.with_name(moved.name + "-wal").read_bytes() == wal_bytes


def test_a_hot_rollback_journal_is_rolled_back_not_reported(tmp_path: Path, db_path: Path) -> None:
    origin = tmp_path / "origin" / "exports.sqlite3"
    make_database(origin, files=500)
    writer = sqlite3.connect(origin, isolation_level=None)
    try:
        writer.execute("PRAGMA journal_mode = DELETE")
        writer.execute("PRAGMA cache_size = 1")  # spill uncommitted pages into the file
        writer.execute("BEGIN")
        writer.execute("UPDATE task SET name = 'never committed'")
        writer.execute("DELETE FROM task_file")
        _crash_copy(origin, db_path, ("", "-journal"))
    finally:
        writer.close()
    # Without its journal the main file would show the uncommitted change.
    alone = tmp_path / "alone.sqlite3"
    shutil.copyfile(db_path, alone)
    peek = sqlite3.connect(alone)
    try:
        assert peek.execute("SELECT name FROM task").fetchall() == [("never committed",)]
    finally:
        peek.close()

    with ExportStore.open(db_path) as store:
        (task,) = store.list_tasks()
        assert task.name == "t"
        assert len(store.page_files(task.id, limit=1000)) == 500
