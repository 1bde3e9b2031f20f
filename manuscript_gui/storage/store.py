"""The repository of one identity's export database.

**One object per database, no global proxy.** :class:`ExportStore` owns its
``SqliteDatabase`` and a pair of model classes bound to it
(:func:`~manuscript_gui.storage.tables.bind_models`). A process-wide
``DatabaseProxy`` (vorta's pattern) holds one database at a time, but we need
two at once: during a user switch the old identity's store is still being
stopped and closed while the new identity's store opens, and the tests keep
several open side by side. ``Model.bind_ctx`` would rebind shared classes and
break as soon as two calls interleave. Per-store bound subclasses mutate
nothing shared, and nothing outside a store can reach its database by
accident.

**One connection, one lock.** The store uses a single SQLite connection
(peewee ``thread_safe=False``) guarded by a re-entrant lock, rather than
peewee's default of one connection per thread. The engine runs blocking
database work on a worker thread; with per-thread connections ``close()``
would close only the caller's, leaving the file open (and, on Windows,
unmovable) after a user switch. Every public method is one transaction.

**Snapshots out, validated values in.** Methods return frozen records
(``domain/records.py``), never live rows; every write is validated (statuses,
outcomes, codes, local paths), and the schema repeats the vital rules as
CHECK constraints (``running`` can never be stored, an outcome exists exactly
when a file is completed).

**One-way flow.** Task counters (files, successes, failures, bytes) are only
ever derived from the file rows by one aggregate query
(:meth:`ExportStore.recompute_task_counts`); file updates recompute them in the
same transaction, so after a crash the task list always agrees with the files.

**Every status change is one transaction, written in one place.**
:meth:`ExportStore.transition` is the only writer of a task's status: it
writes the file results it is given, brings the open file rows in line with
the new status (``waiting`` under a waiting task, ``paused`` under a paused or
canceled one), sets the status and re-derives the counters, all in one
transaction. ``completed`` is decided there from the rows themselves (every
row completed), never from what a caller believes. :meth:`ExportStore.repair`
restores these invariants after a crash of an older version (or a bug).

**Durable commits.** ``synchronous=FULL``: a commit is on disk when it returns.
The engine makes a file, its rename and its folders durable *before* the
commit that marks it succeeded, so after a power cut a row never claims a
file the disk does not have, and a task the app said it created exists.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Self, cast

import peewee as pw

from manuscript_gui.config import AppPaths, app_paths, aside_path
from manuscript_gui.domain.records import FileRecord, JsonObject, NewFile, TaskRecord
from manuscript_gui.domain.status import (
    TRANSITIONS,
    FileOutcome,
    FileStatus,
    StopReason,
    TaskStatus,
    Transition,
)
from manuscript_gui.storage import migrations, sorting
from manuscript_gui.storage.errors import (
    CorruptDatabaseError,
    DatabaseOpenError,
    InvalidTransition,
    NotFoundError,
    StorageError,
    ValidationError,
)
from manuscript_gui.storage.locations import identity_db_path
from manuscript_gui.storage.sorting import natural_sort_key
from manuscript_gui.storage.tables import (
    BoundModels,
    Task,
    TaskFile,
    bind_models,
    sqlite_connection,
)
from manuscript_gui.storage.validation import (
    check_file_state,
    check_local_path,
    check_new_file,
    dump_json,
    file_outcome,
    file_status,
    load_json,
    now_text,
    parse_time,
    stop_reason,
    task_status,
)

__all__ = ["ExportStore", "open_identity_db"]

_log = logging.getLogger(__name__)

BUSY_TIMEOUT_S: Final = 5.0
# Primary result codes (the low byte of an extended code) that mean "damaged".
_SQLITE_CORRUPT: Final = 11
_SQLITE_NOTADB: Final = 26

_FILE_INSERT_COLUMNS: Final = (
    "task_id",
    "remote_id",
    "project_id",
    "remote_path",
    "local_path",
    "version",
    "size",
    "sha256",
    "content_type",
    "status",
    "outcome",
    "error_code",
    "error_message",
    "error_params",
    "attempts",
    "updated_at",
    "sort_key",
)
_FILE_TABLE: Final = TaskFile._meta.table_name
_TASK_TABLE: Final = Task._meta.table_name
_OPEN: Final = (FileStatus.WAITING.value, FileStatus.PAUSED.value)


class _Damaged(Exception):
    """Internal: the open-time check found damage."""


def open_identity_db(
    server_url: str, user_id: str, user_type: str, *, paths: AppPaths | None = None
) -> ExportStore:
    """Open (creating or upgrading as needed) the database of one server + user + identity.

    Raises :class:`CorruptDatabaseError` after moving a damaged file aside (a
    second call then creates an empty database), :class:`SchemaTooNewError`
    for a file from a newer app version, :class:`DatabaseOpenError` when the
    file cannot be opened at all.
    """
    data_dir = (paths or app_paths()).data_dir
    return ExportStore.open(identity_db_path(server_url, user_id, user_type, data_dir=data_dir))


class ExportStore:
    """Tasks and per-file details of one identity; see the module docstring for the design.

    Use :meth:`open` or :func:`open_identity_db`; call :meth:`close` (or use
    it as a context manager) when the identity is left.
    """

    def __init__(self, path: Path, db: pw.SqliteDatabase, migration_backup: Path | None) -> None:
        self.path = path
        self.migration_backup = migration_backup
        """The copy made before this open upgraded the schema, if it did."""
        self._db = db
        self._m: BoundModels = bind_models(db)
        self._lock = threading.RLock()
        self._closed = False

    # ------------------------------------------------------------ lifecycle

    @classmethod
    def open(cls, path: Path) -> ExportStore:
        """Open the database file at *path*: check it, upgrade it, configure it."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseOpenError(path, exc.strerror or str(exc)) from exc
        db = pw.SqliteDatabase(
            str(path),
            thread_safe=False,
            autoconnect=False,  # after close(), a stray call must fail, not reopen
            check_same_thread=False,  # the lock below serialises threads instead
            timeout=BUSY_TIMEOUT_S,
        )
        hot_journal = path.with_name(path.name + "-journal").exists()
        try:
            if not hot_journal:
                _check_integrity_readonly(path)
            db.connect()
            if hot_journal:
                # Rolling a crashed transaction back takes a writer, so this
                # (rare: rollback-journal files only) case is checked here.
                _quick_check(sqlite_connection(db))
            # Refuse newer or foreign files before anything writes to them.
            migrations.check_schema_version(db, path)
            _configure(db, path)
            backup = migrations.upgrade(db, path)
        except _Damaged as exc:
            db.close()
            raise _set_aside(path, str(exc)) from None
        except StorageError:
            db.close()
            raise
        except (pw.PeeweeException, sqlite3.Error) as exc:
            db.close()
            if _is_damage(exc):
                raise _set_aside(path, str(exc)) from exc
            raise DatabaseOpenError(path, str(exc)) from exc
        if backup is not None:
            _log.info(
                "Upgraded %s to schema v%d; backup at %s", path, migrations.SCHEMA_VERSION, backup
            )
        return cls(path, db, backup)

    def close(self) -> None:
        """Close the connection. Idempotent; later calls on the store raise StorageError."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Make several calls one atomic unit (e.g. *resume*: the task and its paused files)."""
        with self._tx():
            yield

    # ----------------------------------------------------------------- tasks

    def create_task(
        self,
        name: str,
        target_dir: str,
        selection: JsonObject,
        *,
        status: TaskStatus = TaskStatus.INITIALIZING,
    ) -> TaskRecord:
        """Add a task at the end of the queue; it starts ``initializing`` (or ``waiting``)."""
        status = task_status(status)
        if status not in (TaskStatus.INITIALIZING, TaskStatus.WAITING):
            raise ValidationError(f"a new task starts initializing or waiting, not {status}")
        if not name or not target_dir:
            raise ValidationError("a task needs a name and a target folder")
        selection_text = dump_json(selection)
        with self._tx():
            t = self._m.task
            last = t.select(pw.fn.MAX(t.position)).scalar()
            now = now_text()
            row = t.create(
                name=name,
                target_dir=target_dir,
                selection=selection_text,
                status=status.value,
                position=(last or 0) + 1,
                created_at=now,
                updated_at=now,
                staging_key=uuid.uuid4().hex,
                # A task created waiting comes with its file list (tests, imports).
                listed=status is TaskStatus.WAITING,
            )
            return _task_record(row)

    def get_task(self, task_id: int) -> TaskRecord:
        """The task with this id; :class:`NotFoundError` if there is none."""
        with self._tx():
            return _task_record(self._task_row(task_id))

    def list_tasks(self) -> list[TaskRecord]:
        """All tasks in queue order (a handful of rows: their files are not loaded)."""
        with self._tx():
            t = self._m.task
            return [_task_record(row) for row in t.select().order_by(t.position, t.id)]

    def next_waiting_task(self) -> TaskRecord | None:
        """The first ``waiting`` task in queue order: what the scheduler runs next."""
        with self._tx():
            t = self._m.task
            query = t.select().where(t.status == TaskStatus.WAITING.value)
            rows = list(query.order_by(t.position, t.id).limit(1))
            return _task_record(rows[0]) if rows else None

    def transition(
        self,
        task_id: int,
        transition: Transition,
        *,
        reason: StopReason | None = None,
        detail: str | None = None,
        params: JsonObject | None = None,
        files: Iterable[FileRecord] = (),
    ) -> TaskRecord:
        """Change a task's status: the one place that does (see the module docstring).

        In one transaction: *files* (results and ETags of the files a run
        processed, as for :meth:`update_files`) are written, the transition is
        applied, the task's open file rows follow its new status, and the
        counters are re-derived. ``PAUSE`` needs a *reason*; ``CANCEL`` takes
        one (default *by user*); the others take none. Returns the fresh task.

        Raises :class:`InvalidTransition` when the task's status does not
        allow *transition* (``storage.status.TRANSITIONS``), and
        :class:`ValidationError` for ``RETRY_FAILED`` on a task with no failed
        file; nothing is written then.
        """
        try:
            transition = Transition(transition)
        except ValueError:
            raise ValidationError(f"unknown transition {transition!r}") from None
        reason = None if reason is None else stop_reason(reason)
        if transition is Transition.CANCEL and reason is None:
            reason = StopReason.BY_USER
        if transition is Transition.PAUSE and reason is None:
            raise ValidationError("a paused task needs a reason the user can read")
        if reason is not None and transition not in (Transition.PAUSE, Transition.CANCEL):
            raise ValidationError(f"{transition} carries no stop reason")
        if (detail is not None or params is not None) and reason is None:
            raise ValidationError("a reason detail needs a reason")
        reason_params = _json_or_none(params)
        file_params = _file_update_params(task_id, files)
        with self._tx():
            row = self._task_row(task_id)
            current = TaskStatus(row.status)
            if current not in TRANSITIONS[transition]:
                raise InvalidTransition(task_id, transition.value, current.value)
            self._write_files(task_id, file_params)
            listed = bool(row.listed)
            if transition is Transition.RESUME and not listed:
                transition = Transition.START_LISTING  # never fully listed: list again
            if transition is Transition.START_LISTING:
                self._m.file.delete().where(self._m.file.task_id == task_id).execute()
                status, listed = TaskStatus.INITIALIZING, False
            elif transition is Transition.END_LISTING:
                status, listed = TaskStatus.WAITING, True
            elif transition is Transition.PAUSE:
                status = TaskStatus.PAUSED
            elif transition is Transition.CANCEL:
                status = TaskStatus.CANCELED
            elif transition is Transition.RESUME:
                status = TaskStatus.WAITING
            elif transition is Transition.RETRY_FAILED:
                if not self._requeue(task_id, self._m.file.outcome == FileOutcome.FAILED.value):
                    raise ValidationError(f"task {task_id} has no failed files to retry")
                status = TaskStatus.WAITING
            else:  # END_RUN
                status = TaskStatus.COMPLETED if not self._open_rows(task_id) else current
            self._align_open_files(task_id, status)
            now = now_text()
            self._m.task.update(
                status=status.value,
                reason=None if reason is None else reason.value,
                reason_detail=detail,
                reason_params=reason_params,
                listed=listed,
                updated_at=now,
                finished_at=now if status in (TaskStatus.COMPLETED, TaskStatus.CANCELED) else None,
            ).where(self._m.task.id == task_id).execute()
            return self._recompute(task_id)

    def repair(self) -> list[int]:
        """Make every task's rows agree with its status again; returns the ids changed.

        Run before a queue runs (sign-in, start-up). With :meth:`transition`
        writing every change in one transaction nothing should disagree; an
        older version of the app (or a bug) could leave:

        - a ``completed`` task with files that never completed: it goes back
          to ``waiting`` (never stays "completed"), so the missing files are
          fetched;
        - open file rows whose status disagrees with the task's (``paused``
          files under a waiting task would never be run; ``waiting`` files
          under a paused one would be run by nobody): they follow the task.

        Counters are re-derived for every task.
        """
        repaired: set[int] = set()
        with self._tx():
            conn = sqlite_connection(self._db)
            done = TaskStatus.COMPLETED.value
            broken = [
                r[0]
                for r in conn.execute(
                    f"SELECT id FROM {_TASK_TABLE} t WHERE status = ? AND EXISTS "
                    f"(SELECT 1 FROM {_FILE_TABLE} f WHERE f.task_id = t.id AND f.status != ?)",
                    (done, done),
                )
            ]
            for task_id in broken:
                _log.warning("task %s was completed with files never exported: requeued", task_id)
                self._m.task.update(
                    status=TaskStatus.WAITING.value,
                    reason=None,
                    reason_detail=None,
                    reason_params=None,
                    finished_at=None,
                    updated_at=now_text(),
                ).where(self._m.task.id == task_id).execute()
            repaired.update(broken)
            for task_status_, file_from, file_to in (
                (TaskStatus.WAITING, FileStatus.PAUSED, FileStatus.WAITING),
                (TaskStatus.PAUSED, FileStatus.WAITING, FileStatus.PAUSED),
                (TaskStatus.CANCELED, FileStatus.WAITING, FileStatus.PAUSED),
            ):
                where = f"status = ? AND task_id IN (SELECT id FROM {_TASK_TABLE} WHERE status = ?)"
                args = (file_from.value, task_status_.value)
                ids = [
                    r[0]
                    for r in conn.execute(
                        f"SELECT DISTINCT task_id FROM {_FILE_TABLE} WHERE {where}", args
                    )
                ]
                if ids:
                    conn.execute(
                        f"UPDATE {_FILE_TABLE} SET status = ?, updated_at = ? WHERE {where}",
                        (file_to.value, now_text(), *args),
                    )
                    repaired.update(ids)
            for task_id in [r[0] for r in conn.execute(f"SELECT id FROM {_TASK_TABLE}")]:
                self._recompute(task_id)
        return sorted(repaired)

    def requeue_missing(self, task_id: int, file_ids: Iterable[int]) -> TaskRecord:
        """Files recorded as succeeded that are no longer on disk (or not whole) go back to
        ``waiting`` with their attempts reset; the counters follow. Ids of other tasks or of
        files that did not succeed are ignored."""
        ids = list(file_ids)
        with self._tx():
            self._task_row(task_id)
            f = self._m.file
            for start in range(0, len(ids), 500):
                self._requeue(
                    task_id,
                    f.outcome == FileOutcome.SUCCEEDED.value,
                    f.id.in_(ids[start : start + 500]),
                )
            return self._recompute(task_id)

    def relocate_folder(self, task_id: int, old: str, new: str) -> int:
        """Move the files of the task below folder *old* to folder *new* (relative paths).

        Used when a local *file* stands where the export needs folder *old*:
        the folder takes the next free name, as files do. Rows that succeeded
        keep their path (they claim a file there; the disk check before a run
        requeues them if it is gone). Files may join files of the task already
        in *new* (an earlier move of the same folder). Returns how many rows
        moved, or ``-1`` when a moved file would take a path another file of the
        task has, or a file is named *new* (pick another name).
        """
        check_local_path(old)
        check_local_path(new)
        conn = sqlite_connection(self._db)
        with self._tx():
            self._task_row(task_id)
            if conn.execute(
                f"SELECT 1 FROM {_FILE_TABLE} WHERE task_id = ? AND local_path = ? LIMIT 1",
                (task_id, new),
            ).fetchone():
                return -1  # a file of the task is named like the folder
            try:
                with self._db.atomic():  # a savepoint: a clash undoes just this update
                    # Succeeded rows stay: they claim files at their path, which the
                    # next run's disk check verifies (and requeues if they are gone).
                    moved: int = conn.execute(
                        f"UPDATE {_FILE_TABLE} SET local_path = ? || substr(local_path, ?), "
                        "sort_key = natural_key(? || substr(local_path, ?)), "
                        "updated_at = ? WHERE task_id = ? AND substr(local_path, 1, ?) = ? "
                        "AND outcome IS NOT 'succeeded'",
                        (
                            new,
                            len(old) + 1,
                            new,
                            len(old) + 1,
                            now_text(),
                            task_id,
                            len(old) + 1,
                            old + "/",
                        ),
                    ).rowcount
            except (pw.IntegrityError, sqlite3.IntegrityError):
                return -1  # a moved file would land on a path another file has
            return moved

    def relocate_file(self, task_id: int, file_id: int, local_path: str) -> bool:
        """Give one file a new local path; ``False`` if another file of the task has it.

        Used when the planned target already holds a different file, which is
        kept: the export takes the next free name instead.
        """
        check_local_path(local_path)
        f = self._m.file
        with self._tx():
            holder = f.select(f.id).where(f.task_id == task_id, f.local_path == local_path).first()
            if holder is not None:
                return bool(holder.id == file_id)
            changed: int = (
                f.update(
                    local_path=local_path,
                    sort_key=natural_sort_key(local_path),
                    updated_at=now_text(),
                )
                .where(f.id == file_id, f.task_id == task_id)
                .execute()
            )
        if not changed:
            raise NotFoundError(f"file {file_id} is not in task {task_id}")
        return True

    def move_task_up(self, task_id: int) -> bool:
        """Swap with the previous task in the queue; False if it is already first."""
        return self._move(task_id, towards_head=True)

    def move_task_down(self, task_id: int) -> bool:
        """Swap with the next task in the queue; False if it is already last."""
        return self._move(task_id, towards_head=False)

    def delete_task(self, task_id: int) -> None:
        """Delete a task and (by the schema's ON DELETE CASCADE) all its file rows."""
        with self._tx():
            self._task_row(task_id)
            t = self._m.task
            t.delete().where(t.id == task_id).execute()

    # ----------------------------------------------------------------- files

    def insert_files(self, task_id: int, files: Iterable[NewFile]) -> int:
        """Add files (``waiting``) to a task in one transaction; returns how many.

        A :class:`NewFile` with an ``error_code`` is stored completed + failed
        (the listing already knows it cannot be exported).

        *files* is consumed lazily, so a listing of 100k files never has to
        exist as one list. Rows go through one prepared statement
        (``executemany``): about 8x faster than peewee's ``insert_many`` at
        100k rows, with no limit on bound variables per statement. A local
        path used twice in the task rejects the whole call.
        """
        sql = (
            f"INSERT INTO {TaskFile._meta.table_name} ({', '.join(_FILE_INSERT_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(_FILE_INSERT_COLUMNS))})"
        )
        with self._tx():
            self._task_row(task_id)
            now = now_text()

            def rows() -> Iterator[tuple[object, ...]]:
                for f in files:
                    check_new_file(f)
                    failed = f.error_code is not None
                    yield (
                        task_id,
                        f.remote_id,
                        f.project_id,
                        f.remote_path,
                        f.local_path,
                        f.version,
                        f.size,
                        f.sha256,
                        f.content_type,
                        (FileStatus.COMPLETED if failed else FileStatus.WAITING).value,
                        FileOutcome.FAILED.value if failed else None,
                        f.error_code,
                        f.error_message,
                        _json_or_none(f.error_params),
                        0,
                        now,
                        natural_sort_key(f.local_path),
                    )

            count: int = sqlite_connection(self._db).executemany(sql, rows()).rowcount
            return count

    def page_files(
        self,
        task_id: int,
        *,
        after_id: int = 0,
        limit: int = 500,
        status: FileStatus | None = None,
        outcome: FileOutcome | None = None,
    ) -> list[FileRecord]:
        """Up to *limit* files of a task with ids above *after_id*, in id order.

        Keyset paging: pass the last id of one page as *after_id* of the next.
        Each page is an index range scan, however deep into 100k rows it is,
        and rows added or changed between pages are never returned twice.
        """
        if limit < 1:
            raise ValidationError("limit must be at least 1")
        with self._tx():
            f = self._m.file
            query = f.select().where(f.task_id == task_id, f.id > after_id)
            if status is not None:
                query = query.where(f.status == file_status(status).value)
            if outcome is not None:
                query = query.where(f.outcome == file_outcome(outcome).value)
            # Plain dicts, not model instances: half the cost per row, and rows
            # become records right away (peewee's stubs type every row variant as
            # the model, hence the cast).
            rows = cast("Iterable[dict[str, Any]]", query.order_by(f.id).limit(limit).dicts())
            return [_file_record(row) for row in rows]

    def iter_files(
        self,
        task_id: int,
        *,
        status: FileStatus | None = None,
        outcome: FileOutcome | None = None,
        page_size: int = 1000,
    ) -> Iterator[FileRecord]:
        """Every matching file of a task, fetched page by page (the lock is free between pages)."""
        after = 0
        while True:
            page = self.page_files(
                task_id, after_id=after, limit=page_size, status=status, outcome=outcome
            )
            yield from page
            if len(page) < page_size:
                return
            after = page[-1].id

    def update_files(self, task_id: int, files: Iterable[FileRecord]) -> TaskRecord:
        """Write the changeable state of file rows and re-derive the task's counters.

        Changeable: status, outcome, error code/message, attempts, etag. What
        was fixed at creation (paths, pinned version, size, sha256) is never
        rewritten. All rows must belong to *task_id* (a task manager is bound
        to one task). Returns the task with its fresh counters.
        """
        params = _file_update_params(task_id, files)
        with self._tx():
            self._task_row(task_id)
            self._write_files(task_id, params)
            return self._recompute(task_id)

    def recompute_task_counts(self, task_id: int) -> TaskRecord:
        """Re-derive a task's counters from its file rows (one aggregate query) and store them."""
        with self._tx():
            self._task_row(task_id)
            return self._recompute(task_id)

    def find_files(
        self,
        task_id: int,
        *,
        after_id: int = 0,
        limit: int = 200,
        open_only: bool = False,
        outcome: FileOutcome | None = None,
        text: str = "",
        only_ids: Iterable[int] | None = None,
        exclude_ids: Iterable[int] = (),
    ) -> list[FileRecord]:
        """Up to *limit* matching files of a task after file *after_id*, in path order.

        The file list of a window (``services/reads.py``), in natural path
        order (``D2`` before ``D10``, a folder's files together; the row's
        ``sort_key``, ``storage/sorting.py``), then id. Keyset paging: pass the
        id of a page's last row as *after_id* of the next (0: from the start);
        the next page starts after that row's place in the order, so a row is
        never returned twice while the rows keep their paths. (A file the
        export gives another name while a window pages through the list moves
        in the order: the window's next reload shows it at its new place.)

        - *open_only*: rows not completed yet (``waiting`` or ``paused``);
          *outcome*: completed rows with that outcome. Both are index range
          scans in path order (``task_id, outcome, sort_key, id``), however
          deep the page.
        - *text*: rows whose local or remote path contains it, case-insensitively
          for ASCII letters (SQLite ``LIKE``; other letters match as written,
          Chinese has no case); ``%``, ``_`` and ``\\`` are plain characters.
          Rows are scanned in path order until the page is full: a 100k-row task
          with no match is one pass, about 40 ms on the project's 2-core VM
          (``benchmarks/bench_reads.py``); no full-text index is needed.
        - *only_ids* / *exclude_ids*: rows with / without these ids (the files
          in flight: a few dozen ids, each a bound parameter).

        Raises :class:`NotFoundError` for an unknown task, :class:`ValidationError`
        for a *limit* below 1 or *open_only* together with *outcome*.
        """
        if limit < 1:
            raise ValidationError("limit must be at least 1")
        if open_only and outcome is not None:
            raise ValidationError("open rows have no outcome: pass open_only or outcome")
        where = ["task_id = ?"]
        args: list[object] = [task_id]
        conn = sqlite_connection(self._db)
        if open_only:
            where.append("outcome IS NULL")
        if outcome is not None:
            where.append("outcome = ?")
            args.append(file_outcome(outcome).value)
        for ids, test in ((only_ids, "IN"), (exclude_ids, "NOT IN")):
            if ids is None:
                continue
            wanted = sorted({int(i) for i in ids})
            if wanted or test == "IN":
                where.append(f"id {test} ({', '.join('?' * len(wanted))})")
                args.extend(wanted)
        if text:
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append("(local_path LIKE ? ESCAPE '\\' OR remote_path LIKE ? ESCAPE '\\')")
            args += [f"%{escaped}%"] * 2
        # With only_ids, a lookup per id: left to itself the planner scans every open row
        # of the task through (task_id, outcome) for 8 ids (5 ms at 100k instead of 0.02).
        source = f"{_FILE_TABLE} NOT INDEXED" if only_ids is not None else _FILE_TABLE
        with self._tx():
            self._task_row(task_id)
            if after_id:
                mark = conn.execute(
                    f"SELECT sort_key FROM {_FILE_TABLE} WHERE id = ? AND task_id = ?",
                    (int(after_id), task_id),
                ).fetchone()
                if mark is None:
                    raise NotFoundError(f"file {after_id} is not in task {task_id}")
                where.append("(sort_key, id) > (?, ?)")
                args += [mark[0], int(after_id)]
            sql = (
                f"SELECT * FROM {source} WHERE {' AND '.join(where)} ORDER BY sort_key, id LIMIT ?"
            )
            cursor = conn.execute(sql, (*args, limit))
            names = [column[0] for column in cursor.description]
            return [_file_record(dict(zip(names, row, strict=True))) for row in cursor]

    # -------------------------------------------------------------- internals

    @contextlib.contextmanager
    def _tx(self) -> Iterator[None]:
        """Lock, check open, run in a transaction (a savepoint when nested), map errors."""
        with self._lock:
            if self._closed:
                raise StorageError(f"the export database {self.path} is closed")
            try:
                with self._db.atomic():
                    yield
            except (pw.IntegrityError, sqlite3.IntegrityError) as exc:
                raise ValidationError(f"rejected by the database: {exc}") from exc
            except (pw.PeeweeException, sqlite3.Error) as exc:
                raise StorageError(f"database error in {self.path}: {exc}") from exc

    def _task_row(self, task_id: int) -> Task:
        row = self._m.task.get_or_none(self._m.task.id == task_id)
        if row is None:
            raise NotFoundError(f"no task {task_id} in {self.path}")
        return row

    def _move(self, task_id: int, *, towards_head: bool) -> bool:
        with self._tx():
            row = self._task_row(task_id)
            t = self._m.task
            if towards_head:
                query = t.select().where(t.position < row.position).order_by(t.position.desc())
            else:
                query = t.select().where(t.position > row.position).order_by(t.position)
            neighbours = list(query.limit(1))
            if not neighbours:
                return False
            other = neighbours[0]
            # Positions are unique (max + 1 on create, swapped here), so a swap
            # is all a move takes.
            t.update(position=other.position).where(t.id == row.id).execute()
            t.update(position=row.position).where(t.id == other.id).execute()
            return True

    def _write_files(self, task_id: int, params: list[tuple[object, ...]]) -> None:
        if not params:
            return
        changed = sqlite_connection(self._db).executemany(_FILE_UPDATE_SQL, params).rowcount
        if changed != len(params):
            raise NotFoundError(
                f"{len(params) - changed} of {len(params)} file rows are not in task {task_id}"
            )

    def _open_rows(self, task_id: int) -> int:
        row = (
            sqlite_connection(self._db)
            .execute(
                f"SELECT COUNT(*) FROM {_FILE_TABLE} WHERE task_id = ? AND status IN (?, ?)",
                (task_id, *_OPEN),
            )
            .fetchone()
        )
        return int(row[0])

    def _align_open_files(self, task_id: int, status: TaskStatus) -> None:
        """Open rows (waiting/paused) follow the task: waiting under waiting, else paused."""
        if status in (TaskStatus.COMPLETED, TaskStatus.INITIALIZING):
            return  # completed has none; a listing writes its own rows
        to = FileStatus.WAITING if status is TaskStatus.WAITING else FileStatus.PAUSED
        other = FileStatus.PAUSED if to is FileStatus.WAITING else FileStatus.WAITING
        f = self._m.file
        f.update(status=to.value, updated_at=now_text()).where(
            f.task_id == task_id, f.status == other.value
        ).execute()

    def _requeue(self, task_id: int, *where: Any) -> int:
        """Rows of the task matching *where* back to ``waiting``, as if never tried."""
        f = self._m.file
        changed: int = (
            f.update(
                status=FileStatus.WAITING.value,
                outcome=None,
                error_code=None,
                error_message=None,
                error_params=None,
                attempts=0,
                updated_at=now_text(),
            )
            .where(f.task_id == task_id, *where)
            .execute()
        )
        return changed

    def _recompute(self, task_id: int) -> TaskRecord:
        # SUM over a comparison counts the rows where it holds (NULL outcomes add nothing).
        total, succeeded, failed, total_bytes, done_bytes = (
            sqlite_connection(self._db)
            .execute(
                f"""
                SELECT COUNT(*),
                       COALESCE(SUM(outcome = 'succeeded'), 0),
                       COALESCE(SUM(outcome = 'failed'), 0),
                       COALESCE(SUM(size), 0),
                       COALESCE(SUM(CASE WHEN outcome = 'succeeded' THEN size END), 0)
                FROM {TaskFile._meta.table_name} WHERE task_id = ?
                """,
                (task_id,),
            )
            .fetchone()
        )
        t = self._m.task
        t.update(
            total_files=total,
            succeeded=succeeded,
            failed=failed,
            total_bytes=total_bytes,
            done_bytes=done_bytes,
            updated_at=now_text(),
        ).where(t.id == task_id).execute()
        return _task_record(self._task_row(task_id))


_FILE_UPDATE_SQL: Final = (
    f"UPDATE {_FILE_TABLE} SET status = ?, outcome = ?, error_code = ?, "
    "error_message = ?, error_params = ?, attempts = ?, etag = ?, updated_at = ? "
    "WHERE id = ? AND task_id = ?"
)


def _json_or_none(value: JsonObject | None) -> str | None:
    return None if value is None else dump_json(value)


def _load_or_none(text: str | None) -> JsonObject | None:
    return None if text is None else load_json(text)


def _file_update_params(task_id: int, files: Iterable[FileRecord]) -> list[tuple[object, ...]]:
    """Validate file records and turn them into parameters of :data:`_FILE_UPDATE_SQL`."""
    now = now_text()
    params: list[tuple[object, ...]] = []
    for file in files:
        if file.task_id != task_id:
            raise ValidationError(f"file {file.id} belongs to task {file.task_id}, not {task_id}")
        status, outcome = check_file_state(file)
        params.append(
            (
                status.value,
                None if outcome is None else outcome.value,
                file.error_code,
                file.error_message,
                _json_or_none(file.error_params),
                file.attempts,
                file.etag,
                now,
                file.id,
                task_id,
            )
        )
    return params


# -------------------------------------------------------------- open helpers


def _check_integrity_readonly(path: Path) -> None:
    """Refuse a damaged file before anything writes to it.

    The check runs over a *read-only* connection: closing a read-write one
    would checkpoint the ``-wal`` into the damaged file and delete it, losing
    exactly what someone recovering the data needs. ``quick_check`` reads
    every page (truncation, garbage pages) but skips the costly index-content
    comparison of ``integrity_check``: about 0.1 s for a 100k-file database.
    """
    if not path.exists() or path.stat().st_size == 0:
        return  # new (SQLite treats an empty file as an empty database)
    conn = sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    try:
        _quick_check(conn)
    finally:
        conn.close()


def _quick_check(conn: sqlite3.Connection) -> None:
    rows = conn.execute("PRAGMA quick_check").fetchall()
    if [tuple(r) for r in rows] != [("ok",)]:
        problems = "; ".join(str(r[0]) for r in rows[:3])
        raise _Damaged(f"integrity check failed: {problems}")


def _configure(db: pw.SqliteDatabase, path: Path) -> None:
    # WAL: readers never block the writer (the UI pages through files while
    # the engine records results), and a crash mid-commit cannot damage the
    # file. Set before migrating, so even a crash during the very first
    # migration leaves no hot rollback journal behind.
    conn = sqlite_connection(db)
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        # Some network filesystems cannot do WAL; rollback journaling still works.
        _log.warning("SQLite refused WAL for %s (journal mode %s)", path, mode)
    # synchronous=FULL: every commit is on disk when it returns (WAL: one
    # fsync of the -wal file per commit). NORMAL would sync only at
    # checkpoints, so after a power cut a task the app said it had created
    # could vanish, and commits could land in any order relative to the
    # export folder's own durability. Commits are few (file results are
    # batched every 0.5 s), so FULL costs nothing measurable.
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    sorting.register(conn)


def _is_damage(exc: BaseException) -> bool:
    """Whether an error (or one it wraps) is SQLite saying the file is damaged.

    Anything else (locked, read-only, cannot open) is not damage: moving a
    healthy file aside because another process holds a lock would lose data.
    """
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        code = getattr(current, "sqlite_errorcode", None)
        if isinstance(code, int) and code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            return True
        # peewee wraps the driver's exception as its first argument.
        todo.extend(arg for arg in current.args if isinstance(arg, BaseException))
        todo.extend((current.__cause__, current.__context__))
    return False


def _set_aside(path: Path, detail: str) -> StorageError:
    """Move a damaged database and its -wal/-shm aside; return the error to raise."""
    target = aside_path(path, "corrupt")
    try:
        # Companions first: a stale -wal left next to a new, empty database
        # could be replayed into it. Renamed to "<target>-wal" so that opening
        # the set-aside copy with sqlite3 picks its WAL up again.
        for suffix in ("-wal", "-shm"):
            companion = path.with_name(path.name + suffix)
            if companion.exists():
                os.replace(companion, target.with_name(target.name + suffix))
        os.replace(path, target)
    except OSError as exc:
        return DatabaseOpenError(
            path, f"it is damaged ({detail}) and could not be moved aside ({exc})"
        )
    error = CorruptDatabaseError(path, target, detail)
    _log.error("%s", error)
    return error


def _task_record(row: Task) -> TaskRecord:
    return TaskRecord(
        id=row.id,
        name=row.name,
        target_dir=row.target_dir,
        selection=load_json(row.selection),
        status=TaskStatus(row.status),
        reason=row.reason,
        reason_detail=row.reason_detail,
        reason_params=_load_or_none(row.reason_params),
        position=row.position,
        total_files=row.total_files,
        succeeded=row.succeeded,
        failed=row.failed,
        total_bytes=row.total_bytes,
        done_bytes=row.done_bytes,
        created_at=parse_time(row.created_at),
        updated_at=parse_time(row.updated_at),
        finished_at=None if row.finished_at is None else parse_time(row.finished_at),
        listed=bool(row.listed),
        staging_key=row.staging_key or "",
    )


def _file_record(row: dict[str, Any]) -> FileRecord:
    outcome = row["outcome"]
    return FileRecord(
        id=row["id"],
        task_id=row["task_id"],
        remote_id=row["remote_id"],
        project_id=row["project_id"],
        remote_path=row["remote_path"],
        local_path=row["local_path"],
        version=row["version"],
        size=row["size"],
        sha256=row["sha256"],
        content_type=row["content_type"],
        etag=row["etag"],
        status=FileStatus(row["status"]),
        outcome=None if outcome is None else FileOutcome(outcome),
        error_code=row["error_code"],
        error_message=row["error_message"],
        error_params=_load_or_none(row["error_params"]),
        attempts=row["attempts"],
        updated_at=parse_time(row["updated_at"]),
    )
