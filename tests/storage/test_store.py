"""The repository API on real SQLite files: tasks, files, counters, identities."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from pathlib import Path

import pytest

from manuscript_gui.config import app_paths
from manuscript_gui.storage import (
    ExportStore,
    FileError,
    FileOutcome,
    FileRecord,
    FileStatus,
    InvalidTransition,
    NotFoundError,
    StopReason,
    StorageError,
    TaskStatus,
    Transition,
    ValidationError,
    open_identity_db,
)
from manuscript_gui.storage.tables import sqlite_connection
from tests.storage.helpers import new_files

SELECTION = {"projects": [{"id": "p-1", "folders": ["root"]}]}


def _succeed(file: FileRecord) -> FileRecord:
    return dataclasses.replace(
        file, status=FileStatus.COMPLETED, outcome=FileOutcome.SUCCEEDED, attempts=1
    )


def _fail(file: FileRecord, code: FileError = FileError.VERSION_GONE) -> FileRecord:
    return dataclasses.replace(
        file,
        status=FileStatus.COMPLETED,
        outcome=FileOutcome.FAILED,
        error_code=code,
        error_message="version 1 is no longer on the server (HTTP 404)",
        attempts=1,
    )


# ---------------------------------------------------------------- identities


def test_identity_databases_are_separate_files_and_invisible_to_each_other() -> None:
    auditor = open_identity_db("", "demo", "auditor")
    manager = open_identity_db("", "demo", "manager")
    other_server = open_identity_db("https://wp.example.com", "demo", "auditor")
    try:
        assert len({auditor.path, manager.path, other_server.path}) == 3
        assert all(s.path.is_relative_to(app_paths().data_dir) for s in (auditor, manager))

        # Interleaved writes while all three are open.
        a = auditor.create_task("auditor task", "/out/a", SELECTION)
        m = manager.create_task("manager task", "/out/m", SELECTION)
        auditor.insert_files(a.id, new_files(3))
        manager.insert_files(m.id, new_files(5))

        assert [t.name for t in auditor.list_tasks()] == ["auditor task"]
        assert [t.name for t in manager.list_tasks()] == ["manager task"]
        assert other_server.list_tasks() == []
        assert auditor.recompute_task_counts(a.id).total_files == 3
        assert manager.recompute_task_counts(m.id).total_files == 5
    finally:
        for s in (auditor, manager, other_server):
            s.close()

    # Still separate after reopening.
    with open_identity_db("", "demo", "manager") as again:
        assert [t.name for t in again.list_tasks()] == ["manager task"]


def test_closed_store_refuses_calls_and_close_is_idempotent(store: ExportStore) -> None:
    store.close()
    store.close()
    assert store.closed
    with pytest.raises(StorageError, match="closed"):
        store.list_tasks()


def test_usable_from_another_thread(store: ExportStore) -> None:
    # The engine runs blocking storage calls on a worker thread.
    task = store.create_task("t", "/out", SELECTION)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            store.insert_files(task.id, new_files(10))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert errors == []
    assert store.recompute_task_counts(task.id).total_files == 10


# --------------------------------------------------------------------- tasks


def test_create_and_get_task(store: ExportStore) -> None:
    task = store.create_task("年报底稿", "/home/u/导出", SELECTION)
    assert task.status is TaskStatus.INITIALIZING
    assert task.selection == SELECTION
    assert (task.total_files, task.succeeded, task.failed) == (0, 0, 0)
    assert task.created_at.tzinfo is not None
    assert task.finished_at is None
    assert store.get_task(task.id) == task
    with pytest.raises(NotFoundError):
        store.get_task(task.id + 100)


def test_running_can_never_be_stored(store: ExportStore, db_path: Path) -> None:
    task = store.create_task("t", "/out", SELECTION)
    with pytest.raises(ValidationError):
        store.transition(task.id, "running")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="never stored"):
        store.create_task("t2", "/out", SELECTION, status="running")  # type: ignore[arg-type]

    store.insert_files(task.id, new_files(1))
    (file,) = store.page_files(task.id)
    with pytest.raises(ValidationError, match="cannot be stored"):
        store.update_files(task.id, [dataclasses.replace(file, status="running")])  # type: ignore[arg-type]
    assert store.get_task(task.id).status is TaskStatus.INITIALIZING

    # The schema refuses it too, whoever writes.
    raw = sqlite3.connect(db_path)
    try:
        with pytest.raises(sqlite3.IntegrityError):
            raw.execute("UPDATE task SET status = 'running'")
        with pytest.raises(sqlite3.IntegrityError):
            raw.execute("UPDATE task_file SET status = 'running'")
    finally:
        raw.close()


def test_status_reason_rules(store: ExportStore) -> None:
    task = store.create_task("t", "/out", SELECTION, status=TaskStatus.WAITING)
    with pytest.raises(ValidationError, match="reason"):
        store.transition(task.id, Transition.PAUSE)
    with pytest.raises(ValidationError):
        store.transition(task.id, Transition.PAUSE, reason="sunspots")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        store.transition(task.id, Transition.END_RUN, reason=StopReason.BY_USER)
    with pytest.raises(ValidationError):
        store.transition(task.id, Transition.END_RUN, detail="no reason")

    paused = store.transition(
        task.id, Transition.PAUSE, reason=StopReason.DISK_FULL, detail="1.2 GB needed, 300 MB free"
    )
    assert (paused.status, paused.reason, paused.reason_detail) == (
        TaskStatus.PAUSED,
        "disk_full",
        "1.2 GB needed, 300 MB free",
    )
    assert paused.finished_at is None

    resumed = store.transition(task.id, Transition.RESUME)
    assert (resumed.status, resumed.reason, resumed.reason_detail) == (
        TaskStatus.WAITING,
        None,
        None,
    )

    done = store.transition(task.id, Transition.END_RUN)  # no files: all (none) completed
    assert done.status is TaskStatus.COMPLETED
    assert done.finished_at is not None
    assert store.get_task(task.id) == done


def test_queue_order_and_move_up_down(store: ExportStore) -> None:
    a, b, c = (store.create_task(n, "/out", SELECTION, status=TaskStatus.WAITING) for n in "abc")

    def names() -> str:
        return "".join(t.name for t in store.list_tasks())

    assert names() == "abc"
    assert store.next_waiting_task() == store.get_task(a.id)
    assert store.move_task_up(c.id)
    assert names() == "acb"
    assert store.move_task_up(c.id)
    assert names() == "cab"
    assert not store.move_task_up(c.id)
    assert store.move_task_down(a.id)
    assert names() == "cba"
    assert not store.move_task_down(a.id)
    assert store.next_waiting_task() == store.get_task(c.id)

    store.transition(c.id, Transition.PAUSE, reason=StopReason.BY_USER)
    assert store.next_waiting_task() == store.get_task(b.id)
    d = store.create_task("d", "/out", SELECTION)
    assert names() == "cbad"
    assert store.get_task(d.id).position > store.get_task(a.id).position


def test_delete_task_removes_its_files(store: ExportStore, db_path: Path) -> None:
    keep = store.create_task("keep", "/out", SELECTION)
    drop = store.create_task("drop", "/out", SELECTION)
    store.insert_files(keep.id, new_files(3))
    store.insert_files(drop.id, new_files(4))
    store.delete_task(drop.id)
    assert [t.id for t in store.list_tasks()] == [keep.id]
    assert store.page_files(drop.id) == []
    assert len(store.page_files(keep.id)) == 3
    with pytest.raises(NotFoundError):
        store.delete_task(drop.id)
    # A new task never reuses the deleted id (the live task manager holds ids).
    assert store.create_task("new", "/out", SELECTION).id > drop.id


# --------------------------------------------------------------------- files


def test_insert_and_page_files(store: ExportStore) -> None:
    task = store.create_task("t", "/out", SELECTION)
    assert store.insert_files(task.id, new_files(7)) == 7
    first = store.page_files(task.id, limit=3)
    second = store.page_files(task.id, after_id=first[-1].id, limit=3)
    third = store.page_files(task.id, after_id=second[-1].id, limit=3)
    assert [len(first), len(second), len(third)] == [3, 3, 1]
    file = first[0]
    assert file.task_id == task.id
    assert (file.status, file.outcome, file.attempts, file.etag) == (
        FileStatus.WAITING,
        None,
        0,
        None,
    )
    assert file.local_path == "D 实质性程序/D1-0 货币资金审定表.xlsx"


def test_insert_files_is_all_or_nothing(store: ExportStore) -> None:
    task = store.create_task("t", "/out", SELECTION)
    store.insert_files(task.id, new_files(2))
    # The second batch repeats a local path already used in the task.
    with pytest.raises(ValidationError):
        store.insert_files(task.id, [*new_files(3, start=10), *new_files(1, start=0)])
    assert len(store.page_files(task.id)) == 2
    # The same local path in another task is fine.
    other = store.create_task("other", "/out", SELECTION)
    assert store.insert_files(other.id, new_files(2)) == 2
    with pytest.raises(NotFoundError):
        store.insert_files(999, new_files(1))


@pytest.mark.parametrize(
    "local_path",
    ["", "/etc/passwd", "../escape.xlsx", "a/../../b", "a//b", "./a", "a\\b", "C:x", "a\x00b"],
)
def test_unsafe_local_paths_are_refused(store: ExportStore, local_path: str) -> None:
    task = store.create_task("t", "/out", SELECTION)
    bad = dataclasses.replace(next(new_files(1)), local_path=local_path)
    with pytest.raises(ValidationError):
        store.insert_files(task.id, [bad])


def test_update_files_derives_task_counters(store: ExportStore) -> None:
    task = store.create_task("t", "/out", SELECTION)
    store.insert_files(task.id, new_files(5, size=1000))
    files = store.page_files(task.id)

    updated = store.update_files(
        task.id,
        [
            _succeed(files[0]),
            _succeed(files[1]),
            _fail(files[2]),
            dataclasses.replace(files[3], etag='"v1"', attempts=2),
        ],
    )
    assert (updated.total_files, updated.succeeded, updated.failed) == (5, 2, 1)
    assert (updated.total_bytes, updated.done_bytes) == (5000, 2000)
    assert updated.remaining_files == 2
    assert store.get_task(task.id) == updated

    failed = store.page_files(task.id, outcome=FileOutcome.FAILED)
    assert [(f.id, f.error_code) for f in failed] == [(files[2].id, "version_gone")]
    assert store.page_files(task.id, status=FileStatus.WAITING)[0].etag == '"v1"'


def test_update_files_validates_state(store: ExportStore) -> None:
    task = store.create_task("t", "/out", SELECTION)
    other = store.create_task("other", "/out", SELECTION)
    store.insert_files(task.id, new_files(1))
    (file,) = store.page_files(task.id)
    bad = [
        dataclasses.replace(file, status=FileStatus.COMPLETED),  # no outcome
        dataclasses.replace(file, outcome=FileOutcome.SUCCEEDED),  # outcome while waiting
        dataclasses.replace(_fail(file), error_code=None),
        dataclasses.replace(_succeed(file), error_code="checksum_mismatch"),
        dataclasses.replace(_fail(file), error_code="Not An Identifier"),
    ]
    for record in bad:
        with pytest.raises(ValidationError):
            store.update_files(task.id, [record])
    with pytest.raises(ValidationError):
        store.update_files(other.id, [_succeed(file)])
    with pytest.raises(NotFoundError):
        store.update_files(task.id, [_succeed(dataclasses.replace(file, id=file.id + 1))])
    assert store.page_files(task.id) == [file]


def test_pause_resume_and_retry_failed(store: ExportStore) -> None:
    task = store.create_task("t", "/out", SELECTION, status=TaskStatus.WAITING)
    store.insert_files(task.id, new_files(4))
    files = store.page_files(task.id)
    store.update_files(task.id, [_succeed(files[0]), _fail(files[1])])

    store.transition(task.id, Transition.PAUSE, reason=StopReason.BY_USER)
    assert len(store.page_files(task.id, status=FileStatus.PAUSED)) == 2
    store.transition(task.id, Transition.RESUME)
    assert len(store.page_files(task.id, status=FileStatus.WAITING)) == 2
    store.update_files(task.id, [_succeed(f) for f in files[2:]])
    assert store.transition(task.id, Transition.END_RUN).status is TaskStatus.COMPLETED

    requeued = store.transition(task.id, Transition.RETRY_FAILED)
    assert requeued.status is TaskStatus.WAITING
    assert (requeued.succeeded, requeued.failed, requeued.remaining_files) == (3, 0, 1)
    again = store.page_files(task.id, status=FileStatus.WAITING)
    (retried,) = again
    assert retried.id == files[1].id
    assert (retried.outcome, retried.error_code, retried.attempts) == (None, None, 0)


def test_a_refused_transition_writes_nothing(store: ExportStore) -> None:
    task = store.create_task("t", "/out", SELECTION, status=TaskStatus.WAITING)
    store.insert_files(task.id, new_files(2))
    files = store.page_files(task.id)
    store.transition(task.id, Transition.CANCEL)
    with pytest.raises(InvalidTransition):
        # The results come with the transition; a refused transition drops them too.
        store.transition(
            task.id, Transition.PAUSE, reason=StopReason.BY_USER, files=[_succeed(files[0])]
        )
    assert store.get_task(task.id).status is TaskStatus.CANCELED
    assert store.page_files(task.id)[0].outcome is None


# ------------------------------------------------------- pragmas and indexes


def test_wal_foreign_keys_and_synchronous(store: ExportStore, db_path: Path) -> None:
    conn = sqlite_connection(store._db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    # FULL (2): a commit is on disk when it returns (issue #6, power loss).
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
    # WAL is a property of the file: a fresh connection sees it too.
    raw = sqlite3.connect(db_path)
    try:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        raw.close()


def test_indexes_exist(store: ExportStore) -> None:
    conn = sqlite_connection(store._db)
    indexes = {
        name: sql
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'task_file'"
        )
    }
    assert {
        "task_file_task",
        "task_file_task_status",
        "task_file_task_outcome",
        "task_file_task_local_path",
    } <= set(indexes)
    assert indexes["task_file_task_local_path"].startswith("CREATE UNIQUE INDEX")


@pytest.mark.parametrize(
    ("kwargs", "index"),
    [
        ({"status": FileStatus.WAITING}, "task_file_task_status"),
        ({"outcome": FileOutcome.FAILED}, "task_file_task_outcome"),
        ({}, "task_file_task"),
    ],
)
def test_paging_queries_use_an_index_without_sorting(
    store: ExportStore, kwargs: dict[str, str], index: str
) -> None:
    task = store.create_task("t", "/out", SELECTION)
    store.insert_files(task.id, new_files(50))
    conn = sqlite_connection(store._db)
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        store.page_files(task.id, after_id=10, limit=5, **kwargs)  # type: ignore[arg-type]
    finally:
        conn.set_trace_callback(None)
    (select,) = [s for s in statements if s.startswith("SELECT")]
    plan = " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + select))
    assert f"USING INDEX {index} " in plan
    assert "TEMP B-TREE" not in plan


# ------------------------------------------------------------------- 100k


def test_hundred_thousand_files(store: ExportStore) -> None:
    total = 100_000
    task = store.create_task("big", "/out", SELECTION)
    assert store.insert_files(task.id, new_files(total, size=3)) == total
    counted = store.recompute_task_counts(task.id)
    assert (counted.total_files, counted.total_bytes, counted.succeeded) == (total, 3 * total, 0)

    # One keyset pass over everything; complete every third file on the way
    # (odd ones failing), in engine-sized batches.
    ids: list[int] = []
    batch: list[FileRecord] = []
    after = 0
    while page := store.page_files(task.id, after_id=after, limit=5_000):
        for file in page:
            if len(ids) % 3 == 0:
                batch.append(_fail(file) if len(ids) % 2 else _succeed(file))
            ids.append(file.id)
        after = page[-1].id
        store.update_files(task.id, batch)
        batch = []
    assert len(ids) == total
    assert len(set(ids)) == total
    assert ids == sorted(ids)

    done = len(range(0, total, 3))
    failed = len(range(3, total, 6))
    result = store.get_task(task.id)
    assert (result.succeeded, result.failed) == (done - failed, failed)
    assert result.remaining_files == total - done
    assert result.done_bytes == 3 * (done - failed)
    assert store.recompute_task_counts(task.id).failed == failed  # idempotent

    failed_ids = [
        f.id for f in store.iter_files(task.id, outcome=FileOutcome.FAILED, page_size=999)
    ]
    assert len(failed_ids) == len(set(failed_ids)) == failed
    assert failed_ids == [ids[i] for i in range(3, total, 6)]
