"""Every status change is one transaction written in one place (issue #6, item 1).

``ExportStore.transition`` is the only writer of a task's status. These tests
pin its rules down: the table of allowed transitions, open file rows following
the task, ``completed`` only when every row is completed, results written in
the same transaction, and ``repair`` bringing back the invariants that an older
version (which wrote file rows and the task row in separate transactions)
could break in a crash.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest

from manuscript_gui.storage import (
    TRANSITIONS,
    ExportStore,
    FileError,
    FileOutcome,
    FileRecord,
    FileStatus,
    InvalidTransition,
    NewFile,
    StopReason,
    TaskRecord,
    TaskStatus,
    Transition,
    ValidationError,
)
from tests.storage.helpers import new_files

SELECTION = {"items": []}


def _succeed(file: FileRecord) -> FileRecord:
    return dataclasses.replace(
        file, status=FileStatus.COMPLETED, outcome=FileOutcome.SUCCEEDED, attempts=1
    )


def _fail(file: FileRecord) -> FileRecord:
    return dataclasses.replace(
        file,
        status=FileStatus.COMPLETED,
        outcome=FileOutcome.FAILED,
        error_code=FileError.FILE_DELETED.value,
        error_message="gone",
        attempts=1,
    )


def _task_in(store: ExportStore, status: TaskStatus, files: int = 3) -> TaskRecord:
    """A task brought to *status* through transitions only, with *files* rows."""
    task = store.create_task("t", "/out", SELECTION)
    store.insert_files(task.id, new_files(files))
    task = store.transition(task.id, Transition.END_LISTING)
    if status is TaskStatus.INITIALIZING:
        task = store.transition(task.id, Transition.PAUSE, reason=StopReason.BY_USER)
        # RESUME of a task never fully listed goes back to listing.
        task = store.transition(task.id, Transition.START_LISTING)
        store.insert_files(task.id, new_files(files))
    elif status is TaskStatus.PAUSED:
        task = store.transition(task.id, Transition.PAUSE, reason=StopReason.BY_USER)
    elif status is TaskStatus.CANCELED:
        task = store.transition(task.id, Transition.CANCEL)
    elif status is TaskStatus.COMPLETED:
        rows = store.page_files(task.id)
        task = store.transition(
            task.id, Transition.END_RUN, files=[_succeed(rows[0]), *map(_fail, rows[1:])]
        )
    assert task.status is status
    return store.get_task(task.id)


def _rows(store: ExportStore, task_id: int) -> list[tuple[str, str | None]]:
    return [(f.status.value, f.outcome) for f in store.page_files(task_id)]


@pytest.mark.parametrize("transition", list(Transition))
@pytest.mark.parametrize("status", list(TaskStatus))
def test_the_transition_table_is_enforced(
    store: ExportStore, transition: Transition, status: TaskStatus
) -> None:
    task = _task_in(store, status)
    before = (store.get_task(task.id), _rows(store, task.id))
    reason = StopReason.BY_USER if transition is Transition.PAUSE else None
    if status not in TRANSITIONS[transition]:
        with pytest.raises(InvalidTransition) as caught:
            store.transition(task.id, transition, reason=reason)
        assert (caught.value.status, caught.value.transition) == (status, transition)
        assert (store.get_task(task.id), _rows(store, task.id)) == before
        return
    after = store.transition(task.id, transition, reason=reason)
    open_status = {f.status for f in store.page_files(task.id)} - {FileStatus.COMPLETED}
    if after.status is TaskStatus.WAITING:
        assert open_status <= {FileStatus.WAITING}
    elif after.status in (TaskStatus.PAUSED, TaskStatus.CANCELED):
        assert open_status <= {FileStatus.PAUSED}
    elif after.status is TaskStatus.COMPLETED:
        assert open_status == set()
    assert (after.reason is not None) == (after.status in (TaskStatus.PAUSED, TaskStatus.CANCELED))


def test_reason_and_error_parameters_round_trip(store: ExportStore) -> None:
    task = _task_in(store, TaskStatus.WAITING, files=1)
    (row,) = store.page_files(task.id)
    failed = dataclasses.replace(_fail(row), error_params={"attempts": 3, "status": 410})
    paused = store.transition(
        task.id,
        Transition.PAUSE,
        reason=StopReason.DISK_FULL,
        detail="needs more",
        params={"need": 12, "free": 3},
        files=[failed],
    )
    assert paused.reason_params == {"need": 12, "free": 3}
    assert store.get_task(task.id).reason_params == {"need": 12, "free": 3}
    assert store.page_files(task.id)[0].error_params == {"attempts": 3, "status": 410}
    resumed = store.transition(task.id, Transition.RESUME)
    assert (resumed.reason, resumed.reason_params) == (None, None)
    with pytest.raises(ValidationError):
        store.transition(task.id, Transition.END_RUN, params={"x": 1})


def test_end_run_completes_only_when_every_row_is_completed(store: ExportStore) -> None:
    task = _task_in(store, TaskStatus.WAITING, files=4)
    rows = store.page_files(task.id)
    partly = store.transition(task.id, Transition.END_RUN, files=[_succeed(r) for r in rows[:3]])
    # One file never ran: the task is not completed, and its file still waits.
    assert partly.status is TaskStatus.WAITING
    assert (partly.succeeded, partly.remaining_files) == (3, 1)
    assert store.page_files(task.id, status=FileStatus.WAITING) == [store.page_files(task.id)[3]]
    done = store.transition(task.id, Transition.END_RUN, files=[_fail(rows[3])])
    assert (done.status, done.succeeded, done.failed) == (TaskStatus.COMPLETED, 3, 1)


def test_stop_writes_results_and_status_in_one_transaction(store: ExportStore) -> None:
    task = _task_in(store, TaskStatus.WAITING, files=3)
    rows = store.page_files(task.id)
    etagged = dataclasses.replace(rows[2], etag='"v1"')
    paused = store.transition(
        task.id,
        Transition.PAUSE,
        reason=StopReason.LOGGED_OUT,
        files=[_succeed(rows[0]), etagged],
    )
    assert (paused.status, paused.reason, paused.succeeded) == (TaskStatus.PAUSED, "logged_out", 1)
    after = store.page_files(task.id)
    assert [f.status for f in after] == [FileStatus.COMPLETED, FileStatus.PAUSED, FileStatus.PAUSED]
    assert after[2].etag == '"v1"'


def test_a_bad_result_refuses_the_whole_transition(store: ExportStore) -> None:
    task = _task_in(store, TaskStatus.WAITING, files=2)
    rows = store.page_files(task.id)
    ghost = _succeed(dataclasses.replace(rows[1], id=rows[1].id + 1000))
    with pytest.raises(LookupError):
        store.transition(
            task.id, Transition.PAUSE, reason=StopReason.BY_USER, files=[_succeed(rows[0]), ghost]
        )
    assert store.get_task(task.id).status is TaskStatus.WAITING
    assert _rows(store, task.id) == [("waiting", None), ("waiting", None)]


def test_retry_failed_needs_a_failed_file(store: ExportStore) -> None:
    task = _task_in(store, TaskStatus.WAITING, files=1)
    (row,) = store.page_files(task.id)
    store.transition(task.id, Transition.END_RUN, files=[_succeed(row)])
    with pytest.raises(ValidationError, match="no failed files"):
        store.transition(task.id, Transition.RETRY_FAILED)
    assert store.get_task(task.id).status is TaskStatus.COMPLETED


def test_files_known_bad_at_listing_are_stored_failed(store: ExportStore) -> None:
    task = store.create_task("t", "/out", SELECTION)
    good, bad = list(new_files(2))
    bad = dataclasses.replace(
        bad, error_code="bad_listing", error_message="the listing gives no valid size"
    )
    store.insert_files(task.id, [good, bad])
    done = store.transition(task.id, Transition.END_LISTING)
    assert (done.total_files, done.failed, done.remaining_files) == (2, 1, 1)
    failed = store.page_files(task.id, outcome=FileOutcome.FAILED)
    assert [(f.error_code, f.error_message) for f in failed] == [
        ("bad_listing", "the listing gives no valid size")
    ]
    with pytest.raises(ValidationError):
        store.insert_files(task.id, [dataclasses.replace(good, error_code="bad_listing")])


# ------------------------------------------------------------------- repair


def _raw(db_path: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    """Write behind the store's back, as an old version (or a crash in it) could have."""
    conn = sqlite3.connect(db_path)
    try:
        for sql, args in statements:
            conn.execute(sql, args)
        conn.commit()
    finally:
        conn.close()


def test_repair_never_leaves_a_completed_task_with_missing_files(
    store: ExportStore, db_path: Path
) -> None:
    # The reported crash: pause wrote the files (paused), the kill came before
    # the task row; the next run found no waiting file and called it completed.
    task = _task_in(store, TaskStatus.WAITING, files=5)
    rows = store.page_files(task.id)
    store.update_files(task.id, [_succeed(r) for r in rows[:2]])
    _raw(
        db_path,
        ("UPDATE task_file SET status = 'paused' WHERE status = 'waiting'", ()),
        ("UPDATE task SET status = 'completed', finished_at = updated_at", ()),
    )
    assert store.repair() == [task.id]
    fixed = store.get_task(task.id)
    assert (fixed.status, fixed.finished_at, fixed.succeeded, fixed.remaining_files) == (
        TaskStatus.WAITING,
        None,
        2,
        3,
    )
    assert len(store.page_files(task.id, status=FileStatus.WAITING)) == 3
    assert store.repair() == []  # nothing left to repair


@pytest.mark.parametrize(
    ("task_status", "stray", "expected"),
    [
        (TaskStatus.WAITING, FileStatus.PAUSED, FileStatus.WAITING),
        (TaskStatus.PAUSED, FileStatus.WAITING, FileStatus.PAUSED),
        (TaskStatus.CANCELED, FileStatus.WAITING, FileStatus.PAUSED),
    ],
)
def test_repair_aligns_open_rows_with_their_task(
    store: ExportStore,
    db_path: Path,
    task_status: TaskStatus,
    stray: FileStatus,
    expected: FileStatus,
) -> None:
    task = _task_in(store, task_status, files=4)
    other = _task_in(store, TaskStatus.WAITING, files=2)
    _raw(db_path, ("UPDATE task_file SET status = ? WHERE task_id = ?", (stray.value, task.id)))
    assert store.repair() == [task.id]
    assert {f.status for f in store.page_files(task.id)} == {expected}
    assert {f.status for f in store.page_files(other.id)} == {FileStatus.WAITING}


def test_repair_rederives_counters(store: ExportStore, db_path: Path) -> None:
    task = _task_in(store, TaskStatus.WAITING, files=3)
    _raw(db_path, ("UPDATE task SET succeeded = 3, total_files = 9", ()))
    store.repair()
    fixed = store.get_task(task.id)
    assert (fixed.total_files, fixed.succeeded) == (3, 0)


# ------------------------------------------------- disk checks, folder moves


def test_requeue_missing_sends_succeeded_files_back(store: ExportStore) -> None:
    task = _task_in(store, TaskStatus.WAITING, files=4)
    rows = store.page_files(task.id)
    store.update_files(task.id, [_succeed(rows[0]), _succeed(rows[1]), _fail(rows[2])])
    other = _task_in(store, TaskStatus.WAITING, files=1)
    after = store.requeue_missing(task.id, [rows[0].id, rows[2].id, other.id + 10_000])
    assert (after.succeeded, after.failed, after.remaining_files) == (1, 1, 2)
    back = store.page_files(task.id, status=FileStatus.WAITING)
    assert [f.id for f in back] == [rows[0].id, rows[3].id]
    assert back[0].attempts == 0


def _named(*paths: str) -> list[NewFile]:
    return [
        dataclasses.replace(f, local_path=p, remote_path="/" + p)
        for f, p in zip(new_files(len(paths)), paths, strict=True)
    ]


def test_relocate_folder_moves_exactly_that_folder(store: ExportStore) -> None:
    task = store.create_task("t", "/out", SELECTION)
    store.insert_files(
        task.id,
        _named("p/js/a.js", "p/js/deep/b.js", "p/jsx/c.js", "p/js.txt", "p/a%_/d", "p/aX_/e"),
    )
    assert store.relocate_folder(task.id, "p/js", "p/js (2)") == 2
    # LIKE wildcards in a name must not match other folders.
    assert store.relocate_folder(task.id, "p/a%_", "p/a%_ (2)") == 1
    paths = sorted(f.local_path for f in store.page_files(task.id))
    assert paths == [
        "p/a%_ (2)/d",
        "p/aX_/e",
        "p/js (2)/a.js",
        "p/js (2)/deep/b.js",
        "p/js.txt",
        "p/jsx/c.js",
    ]
    # A file of the task named like the folder, or a moved file landing on another
    # file's path, is refused; joining files already in the folder is not.
    assert store.relocate_folder(task.id, "p/jsx", "p/js.txt") == -1
    store.insert_files(task.id, _named("q/a/x.txt", "q/b/x.txt", "q/b/y.txt"))
    assert store.relocate_folder(task.id, "q/a", "q/b") == -1
    assert store.relocate_folder(task.id, "p/jsx", "p/js (2)") == 1
    with pytest.raises(ValidationError):
        store.relocate_folder(task.id, "p/jsx", "../out")


def test_relocate_folder_leaves_succeeded_rows_where_they_claim_their_file(
    store: ExportStore,
) -> None:
    task = store.create_task("t", "/out", SELECTION)
    store.insert_files(task.id, _named("p/js/a.js", "p/js/b.js"))
    done, waiting = store.page_files(task.id)
    store.update_files(task.id, [_succeed(done)])
    assert store.relocate_folder(task.id, "p/js", "p/js (2)") == 1
    paths = {f.id: f.local_path for f in store.page_files(task.id)}
    assert paths == {done.id: "p/js/a.js", waiting.id: "p/js (2)/b.js"}


def test_staging_keys_are_random_and_unique(store: ExportStore) -> None:
    keys = {store.create_task(str(i), "/out", SELECTION).staging_key for i in range(50)}
    assert len(keys) == 50
    assert all(len(k) == 32 and int(k, 16) >= 0 for k in keys)
