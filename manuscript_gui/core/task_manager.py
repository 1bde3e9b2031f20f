"""TaskManager: runs the files of one export task.

From the original design note: the task manager keeps the queues of one task
(waiting, in flight, stopped, completed), runs its files with a bounded number
in flight, and reports through a change callback; it does not chain tasks
(the scheduler does) and never writes the task's *status* (the scheduler and
user actions do). File rows are the only thing it writes; every flush of file
results re-derives the task's counters in the same transaction (the note's
one-way flow), and the fresh task row is published as :class:`TaskChanged`.

One file (docs/behaviour.md, "One file"):

1. If the planned target already exists with the pinned sha256 the file is
   *already up to date*; a different file there is kept and this one takes
   the next free name.
2. Bytes go to ``<export folder>/.manuscript-partial/<task id>/<file id>.part``
   (same volume, so the final rename is atomic) and resume from there with
   ``Range`` + ``If-Range``; the client checks every answer before writing.
3. Size and sha256 are checked, the data is fsynced, then renamed into place;
   only then is the row marked succeeded. A crash at any point leaves either a
   partial that resumes, or a complete file the next run recognises.
4. Transient errors are retried with exponential back-off and jitter,
   honouring ``Retry-After``; permanent ones fail the file and the task goes
   on; problems every later file would hit too (401, disk full, folder not
   writable, server unreachable) stop the whole task with that reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import functools
import hashlib
import logging
import os
import random
import shutil
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from manuscript_gui.core.dbthread import AsyncStore
from manuscript_gui.core.events import EventBus, TaskChanged, TaskProgress
from manuscript_gui.core.paths import with_counter
from manuscript_gui.net import (
    ApiClient,
    ApiError,
    ConnectError,
    DownloadStart,
    Forbidden,
    Gone,
    HTTPError,
    NetworkError,
    NotFound,
    ProtocolError,
    TLSError,
    Unauthorized,
    VersionNotFound,
    is_transient,
    retry_after_of,
)
from manuscript_gui.storage import (
    ExportStore,
    FileError,
    FileOutcome,
    FileRecord,
    FileStatus,
    StopReason,
    TaskRecord,
)

__all__ = [
    "STAGING_DIR",
    "RunOptions",
    "RunResult",
    "StopTask",
    "TaskManager",
    "classify_os_error",
    "staging_dir",
    "tidy_staging",
]

_log = logging.getLogger(__name__)

STAGING_DIR = ".manuscript-partial"
_HASH_BUFFER = 1024 * 1024


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Knobs of one run (from the settings)."""

    concurrency: int = 8
    retries: int = 5
    """Further attempts after the first, per file, for transient errors."""
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    fsync: bool = True
    """fsync each file before its rename, so a power cut cannot leave a
    'succeeded' row over an empty file. Costs little next to aria2c's syncs."""
    flush_interval: float = 0.5
    progress_interval: float = 0.25


@dataclass(frozen=True, slots=True)
class RunResult:
    """How a run ended. ``completed``: every file processed (succeeded or failed)."""

    completed: bool
    reason: StopReason | None = None
    detail: str | None = None
    canceled: bool = False


class StopTask(Exception):
    """Raised inside a file's work when the whole task has to stop."""

    def __init__(self, reason: StopReason, detail: str | None = None) -> None:
        super().__init__(detail or reason.value)
        self.reason = reason
        self.detail = detail


def staging_dir(target_dir: Path, task_id: int) -> Path:
    """Where a task's partial files live, on the export folder's volume."""
    return target_dir / STAGING_DIR / str(task_id)


def classify_os_error(exc: OSError) -> StopReason | None:
    """A local error that every later file would hit too, or ``None`` for a one-off."""
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return StopReason.DISK_FULL
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOENT, errno.ENOTDIR):
        return StopReason.FOLDER_NOT_WRITABLE
    return None


def _local_stop(exc: OSError, where: Path) -> StopTask | None:
    reason = classify_os_error(exc)
    if reason is None:
        return None
    return StopTask(reason, f"{where}: {exc.strerror or exc}")


# ----------------------------------------------------------- blocking helpers
# Each runs in a worker thread (asyncio.to_thread), never on the event loop.


def _file_sha256(path: Path) -> str:
    hasher = hashlib.sha256()
    buf = bytearray(_HASH_BUFFER)
    view = memoryview(buf)
    with open(path, "rb") as f:
        while n := f.readinto(buf):
            hasher.update(view[:n])
    return hasher.hexdigest()


def _existing_target(path: Path, size: int, sha256: str) -> str:
    """``absent``, ``same`` (the pinned bytes are already there) or ``different``."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return "absent"
    except NotADirectoryError:
        return "different"
    if not path.is_file() or st.st_size != size:
        return "different"
    return "same" if _file_sha256(path) == sha256 else "different"


def _path_free(path: Path) -> bool:
    return not os.path.lexists(path)


def _finalize(part: Path, final: Path, fsync: bool) -> None:
    """Make the verified partial the user's file: fsync, then an atomic rename."""
    if fsync:
        fd = os.open(part, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(part, final)


def _prepare(target: Path, staging: Path) -> int:
    """Create the folders and prove they are writable; returns bytes already staged."""
    staging.mkdir(parents=True, exist_ok=True)
    probe = staging / ".write-probe"
    with open(probe, "wb") as f:
        f.write(b"ok")
    probe.unlink()
    staged = 0
    with os.scandir(staging) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False):
                staged += entry.stat(follow_symlinks=False).st_size
    return staged


def _free_space(path: Path) -> int:
    return shutil.disk_usage(path).free


def tidy_staging(target_dir: Path, task_id: int) -> None:
    """Remove a finished task's staging folder if nothing is left in it."""
    for folder in (staging_dir(target_dir, task_id), target_dir / STAGING_DIR):
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (partials of failed files stay for *retry failed*), or gone


def remove_staging(target_dir: Path, task_id: int) -> None:
    """Drop a task's partial data (cancel); the shared staging root goes when empty."""
    shutil.rmtree(staging_dir(target_dir, task_id), ignore_errors=True)
    with contextlib.suppress(OSError):
        (target_dir / STAGING_DIR).rmdir()


# ------------------------------------------------------------------ the manager


class TaskManager:
    """Runs one task's waiting files to the end or to a stop.

    Bound at construction to one store (one user + identity), one client (that
    identity's session) and one task, so a user switch can never mix them up.
    :meth:`stop` is the abort handle for pause, cancel, logout and switch.
    """

    def __init__(
        self,
        db: AsyncStore,
        client: ApiClient,
        task: TaskRecord,
        events: EventBus,
        options: RunOptions | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._db = db
        self._client = client
        self._task = task
        self._events = events
        self._options = options or RunOptions()
        self._sleep = sleep
        self._target = Path(task.target_dir)
        self._staging = staging_dir(self._target, task.id)
        self._stop: StopTask | None = None
        self._canceled = False
        self._workers: list[asyncio.Task[None]] = []
        self._results: list[FileRecord] = []
        self._in_flight: dict[int, FileRecord] = {}
        self._live: dict[int, int] = {}  # file id -> bytes of it on disk (partials)
        self._done_bytes = task.done_bytes
        self._files_done = task.succeeded + task.failed
        self._rate_window: list[tuple[float, int]] = []
        self._moved = 0  # bytes moved over the network in this run

    @property
    def task_id(self) -> int:
        return self._task.id

    @property
    def bytes_received(self) -> int:
        """Bytes this run fetched over the network (resumes make this < total)."""
        return self._moved

    def stop(self, reason: StopReason, detail: str | None = None, *, cancel: bool = False) -> None:
        """Stop the run: in-flight downloads are aborted, their partials kept."""
        if self._stop is None:
            self._stop = StopTask(reason, detail)
        self._canceled = self._canceled or cancel
        for worker in self._workers:
            worker.cancel()

    # -- the run ---------------------------------------------------------------

    async def run(self) -> RunResult:
        """Process every waiting file; returns when all are done or the task stopped."""
        try:
            staged = await asyncio.to_thread(_prepare, self._target, self._staging)
        except OSError as exc:
            stop = _local_stop(exc, self._staging) or StopTask(
                StopReason.FOLDER_NOT_WRITABLE, f"{self._staging}: {exc}"
            )
            return RunResult(False, stop.reason, stop.detail)
        need = await self._db.run(ExportStore.open_bytes, self._task.id) - staged
        free = await asyncio.to_thread(_free_space, self._target)
        if need > free:
            return RunResult(
                False,
                StopReason.DISK_FULL,
                f"the export still needs {need} bytes; {free} bytes are free",
            )
        if self._stop is not None:  # stopped before it started
            return RunResult(False, self._stop.reason, self._stop.detail, self._canceled)

        queue: asyncio.Queue[FileRecord | None] = asyncio.Queue(self._options.concurrency * 4)
        n = self._options.concurrency
        # One single-connection client per worker (see ApiClient.fork).
        clients = [self._client.fork() for _ in range(n)]
        self._workers = [asyncio.create_task(self._worker(queue, c)) for c in clients]
        producer = asyncio.create_task(self._produce(queue, n))
        ticker = asyncio.create_task(self._tick())
        try:
            await asyncio.gather(*self._workers, return_exceptions=True)
        finally:
            producer.cancel()
            ticker.cancel()
            await asyncio.gather(producer, ticker, return_exceptions=True)
            await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)
            await self._flush(final=True)

        if self._stop is not None:
            return RunResult(False, self._stop.reason, self._stop.detail, self._canceled)
        if producer.done() and not producer.cancelled() and producer.exception() is not None:
            failure = producer.exception()
            _log.error("reading waiting files of task %s failed", self._task.id, exc_info=failure)
            return RunResult(False, StopReason.UNEXPECTED_ERROR, str(failure))
        return RunResult(True)

    async def _produce(self, queue: asyncio.Queue[FileRecord | None], workers: int) -> None:
        # Keyset pages of waiting files: memory stays flat at 100k files.
        failure: Exception | None = None
        after = 0
        try:
            while True:
                page = await self._db.run(
                    ExportStore.page_files,
                    self._task.id,
                    after_id=after,
                    limit=500,
                    status=FileStatus.WAITING,
                )
                for record in page:
                    await queue.put(record)
                if len(page) < 500:
                    break
                after = page[-1].id
        except Exception as exc:  # the workers still need their end marks
            failure = exc
        for _ in range(workers):
            await queue.put(None)
        if failure is not None:
            raise failure

    async def _worker(self, queue: asyncio.Queue[FileRecord | None], client: ApiClient) -> None:
        while self._stop is None:
            record = await queue.get()
            if record is None:
                return
            self._in_flight[record.id] = record
            try:
                result = await self._process(record, client)
            except StopTask as stop:
                # The file stays in flight so the final flush keeps its ETag.
                self.stop(stop.reason, stop.detail)
                return
            except Exception as exc:
                _log.exception("unexpected error on %s", record.local_path)
                self.stop(StopReason.UNEXPECTED_ERROR, f"{record.local_path}: {exc!r}")
                return
            del self._in_flight[record.id]
            self._live.pop(record.id, None)
            self._files_done += 1
            if result.outcome is FileOutcome.SUCCEEDED:
                self._done_bytes += result.size
            self._results.append(result)

    # -- one file --------------------------------------------------------------

    async def _process(self, record: FileRecord, client: ApiClient) -> FileRecord:
        final = await self._free_target(record)
        if isinstance(final, FileRecord):
            return final  # already up to date
        record = self._in_flight.get(record.id, record)
        part = self._staging / f"{record.id}.part"
        attempt = record.attempts
        tries = 0
        while True:
            tries += 1
            attempt += 1
            try:
                result = await client.download_to(
                    record.remote_id,
                    record.version,
                    part,
                    expected_size=record.size,
                    expected_sha256=record.sha256,
                    etag=record.etag,
                    content_type=record.content_type,
                    progress=functools.partial(self._on_bytes, record.id),
                    on_start=functools.partial(self._on_start, record.id),
                )
            except Unauthorized as exc:
                raise StopTask(StopReason.LOGIN_EXPIRED, exc.message) from exc
            except VersionNotFound as exc:
                return self._failed(record, attempt, FileError.VERSION_GONE, exc.message)
            except Gone as exc:
                return self._failed(record, attempt, FileError.FILE_DELETED, exc.message)
            except Forbidden as exc:
                return self._failed(record, attempt, FileError.NO_PERMISSION, exc.message)
            except NotFound as exc:
                return self._failed(record, attempt, FileError.FILE_DELETED, exc.message)
            except OSError as exc:
                return self._local_failure(record, attempt, exc, part)
            except ApiError as exc:
                if is_transient(exc) and tries <= self._options.retries:
                    await self._backoff(tries, retry_after_of(exc))
                    continue
                if isinstance(exc, ConnectError) and not isinstance(exc, TLSError):
                    raise StopTask(StopReason.SERVER_UNREACHABLE, str(exc)) from exc
                return self._failed(
                    record, attempt, _api_error_code(exc), f"{exc} ({tries} attempts)"
                )
            record = self._in_flight.get(record.id, record)
            if not result.matches(record.size, record.sha256):
                await asyncio.to_thread(part.unlink, missing_ok=True)
                self._live[record.id] = 0
                if tries <= self._options.retries:
                    await self._backoff(tries, None)
                    continue
                return self._failed(
                    record,
                    attempt,
                    FileError.CHECKSUM_MISMATCH,
                    f"checksum mismatch after {tries} attempts",
                )
            try:
                await asyncio.to_thread(_finalize, part, final, self._options.fsync)
            except OSError as exc:
                return self._local_failure(record, attempt, exc, final)
            return dataclasses.replace(
                record,
                status=FileStatus.COMPLETED,
                outcome=FileOutcome.SUCCEEDED,
                error_code=None,
                error_message=None,
                attempts=attempt,
            )

    async def _free_target(self, record: FileRecord) -> Path | FileRecord:
        """The path to write, or the succeeded record when the target is already right."""
        final = self._target / record.local_path
        try:
            state = await asyncio.to_thread(_existing_target, final, record.size, record.sha256)
        except OSError as exc:
            stop = _local_stop(exc, final)
            if stop is not None and stop.reason is StopReason.DISK_FULL:
                raise stop from exc
            state = "different"
        if state == "absent":
            return final
        if state == "same":
            return dataclasses.replace(
                record,
                status=FileStatus.COMPLETED,
                outcome=FileOutcome.SUCCEEDED,
                error_code=None,
                error_message=None,
            )
        # Someone else's file is there: keep it, take the next free name.
        folder, _, name = record.local_path.rpartition("/")
        for n in range(2, 10_000):
            candidate = with_counter(name, n)
            rel = f"{folder}/{candidate}" if folder else candidate
            path = self._target / rel
            if not await asyncio.to_thread(_path_free, path):
                continue
            if await self._db.run(ExportStore.relocate_file, self._task.id, record.id, rel):
                self._in_flight[record.id] = dataclasses.replace(record, local_path=rel)
                return path
        raise StopTask(StopReason.UNEXPECTED_ERROR, f"no free name for {record.local_path}")

    def _local_failure(
        self, record: FileRecord, attempt: int, exc: OSError, where: Path
    ) -> FileRecord:
        """A local error: stop the task if every file would hit it, else fail this file."""
        stop = _local_stop(exc, where)
        if stop is not None:
            raise stop from exc
        too_long = exc.errno == errno.ENAMETOOLONG
        code = FileError.UNSAFE_NAME if too_long else FileError.LOCAL_WRITE_ERROR
        return self._failed(record, attempt, code, str(exc))

    def _failed(
        self, record: FileRecord, attempt: int, code: FileError, message: str
    ) -> FileRecord:
        _log.info("file %s failed: %s (%s)", record.local_path, code.value, message)
        return dataclasses.replace(
            self._in_flight.get(record.id, record),
            status=FileStatus.COMPLETED,
            outcome=FileOutcome.FAILED,
            error_code=code.value,
            error_message=message[:1000],
            attempts=attempt,
        )

    async def _backoff(self, tries: int, retry_after: float | None) -> None:
        delay = min(self._options.backoff_cap, self._options.backoff_base * 2 ** (tries - 1))
        delay *= random.uniform(0.5, 1.0)  # jitter: spread retries of many files
        if retry_after is not None:
            delay = max(delay, min(retry_after, 300.0))
        await self._sleep(delay)

    def _on_start(self, file_id: int, start: DownloadStart) -> None:
        self._live[file_id] = start.offset
        record = self._in_flight.get(file_id)
        if record is not None and start.etag and start.etag != record.etag:
            self._in_flight[file_id] = dataclasses.replace(record, etag=start.etag)

    def _on_bytes(self, file_id: int, n: int) -> None:
        self._live[file_id] = self._live.get(file_id, 0) + n
        self._moved += n

    # -- reporting ---------------------------------------------------------------

    async def _flush(self, *, final: bool = False) -> None:
        """Persist finished files (and, at the end, in-flight ETags for the next resume)."""
        batch, self._results = self._results, []
        if final:
            batch += [r for r in self._in_flight.values() if r.etag is not None]
        if not batch:
            return
        try:
            task = await self._db.run(ExportStore.update_files, self._task.id, batch)
        except Exception:
            if not final:
                self._results = batch + self._results
            raise
        self._events.publish(TaskChanged(task))

    async def _tick(self) -> None:
        last_flush = time.monotonic()
        while True:
            await asyncio.sleep(self._options.progress_interval)
            now = time.monotonic()
            if now - last_flush >= self._options.flush_interval:
                last_flush = now
                try:
                    await self._flush()
                except Exception as exc:
                    _log.exception("recording results of task %s failed", self._task.id)
                    self.stop(StopReason.UNEXPECTED_ERROR, f"cannot record progress: {exc}")
                    return
            self._publish_progress(now)

    def _publish_progress(self, now: float) -> None:
        live = sum(self._live.values())
        self._rate_window.append((now, self._moved))
        while len(self._rate_window) > 2 and now - self._rate_window[0][0] > 3.0:
            self._rate_window.pop(0)
        t0, b0 = self._rate_window[0]
        rate = (self._moved - b0) / (now - t0) if now > t0 else 0.0
        self._events.publish(
            TaskProgress(
                task_id=self._task.id,
                bytes_done=self._done_bytes + live,
                bytes_total=self._task.total_bytes,
                files_done=self._files_done,
                files_total=self._task.total_files,
                in_flight=tuple(r.local_path for r in self._in_flight.values()),
                rate=rate,
            )
        )


def _api_error_code(exc: ApiError) -> FileError:
    if isinstance(exc, ProtocolError):
        return FileError.UNEXPECTED_RESPONSE
    if isinstance(exc, NetworkError):
        return FileError.NETWORK_ERROR
    if isinstance(exc, HTTPError):
        return FileError.SERVER_ERROR
    return FileError.UNEXPECTED_RESPONSE
