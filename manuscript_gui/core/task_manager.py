"""TaskManager: runs the files of one export task.

From the original design note: the task manager keeps the queues of one task
(waiting, in flight, stopped, completed), runs its files with a bounded number
in flight, and reports through a change callback; it does not chain tasks
(the scheduler does) and never writes the task's *status* (the scheduler and
user actions do, through ``ExportStore.transition``). File rows are the only
thing it writes: batches of results every ``flush_interval``, each batch with
the re-derived task counters in one transaction; what is still unwritten when
the run ends goes back in :class:`RunResult` so that the scheduler writes it
together with the status change, in one transaction.

One file (docs/behaviour.md "One file", docs/engine.md "Running a task"):

1. If the planned target already holds the pinned bytes the file is *already
   up to date*; a different file there is kept and this one takes the next
   free name; a *file* where the export needs a *folder* is kept too and the
   folder takes the next free name.
2. Bytes go to ``<export folder>/.manuscript-partial/<staging key>/<file id>.part``
   (same volume, so the final rename is atomic; the key is random, so no other
   database or machine shares the folder), opened once and held under an
   exclusive OS lock while it is written, resumed with ``Range``; the client
   checks every answer before writing and hashes exactly the bytes in the file.
3. Size and sha256 are checked, the data is fsynced, it is renamed into place
   without ever replacing a file, and the folders on its path are fsynced
   before the commit that marks it succeeded.
4. Errors go through ``core/retry.py``: one back-off policy, a circuit breaker
   (server-wide trouble pauses the task instead of failing files one by one),
   back-pressure on 429 (fewer files in flight, no retry spent), and answers
   that will never change fail the file at once. Problems every later file
   would hit too (401, disk full, folder not writable) stop the task.
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
import shutil
import stat
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, cast

import portalocker

from manuscript_gui.core.async_store import AsyncStore
from manuscript_gui.core.disk_space import free_space, needed_bytes
from manuscript_gui.core.events import FilesChanged, Publisher, TaskChanged, TaskProgress
from manuscript_gui.core.fsutil import DirSync, fsync_file, make_dirs, rename_noreplace, sync_all
from manuscript_gui.core.local_names import extended_length_path, with_counter
from manuscript_gui.core.retry import (
    ConcurrencyGate,
    RetryPolicy,
    ServerHealth,
    Trouble,
    classify,
)
from manuscript_gui.core.threads import acquire_in_thread
from manuscript_gui.domain import (
    FileError,
    FileOutcome,
    FileRecord,
    FileStatus,
    JsonObject,
    StopReason,
    TaskRecord,
)
from manuscript_gui.net import (
    ApiClient,
    ApiError,
    BandwidthLimiter,
    DownloadResult,
    DownloadStart,
    Forbidden,
    Gone,
    HTTPError,
    NetworkError,
    NotFound,
    ProtocolError,
    VersionNotFound,
)
from manuscript_gui.storage import ExportStore

__all__ = [
    "STAGING_DIR",
    "RunOptions",
    "RunResult",
    "StopTask",
    "TaskManager",
    "classify_os_error",
    "remove_staging",
    "staging_dir",
    "tidy_staging",
]

_log = logging.getLogger(__name__)

STAGING_DIR = ".manuscript-partial"
_HASH_BUFFER = 1024 * 1024
_PAGE = 500


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Knobs of one run (from the settings)."""

    concurrency: int = 8
    retry: RetryPolicy = dataclasses.field(default_factory=RetryPolicy)
    fsync: bool = True
    """fsync each file before its rename and the folders on its path before its row
    says succeeded, so a power cut cannot leave a 'succeeded' row over a missing or
    empty file. Tests of unrelated behaviour turn it off for speed."""
    flush_interval: float = 0.5
    progress_interval: float = 0.25
    limiter: BandwidthLimiter | None = None
    """One bandwidth limit over every download of the run (its rate may change while
    the run goes on); ``None``: unlimited."""


@dataclass(frozen=True, slots=True)
class RunResult:
    """How a run ended. ``completed``: every waiting file was processed.

    ``files`` are the file rows the run changed and has not written yet (the
    last results, the ETags of files in flight): the scheduler writes them
    together with the task's status change, in one transaction. ``processed``
    counts the files this run completed (succeeded or failed).
    """

    completed: bool
    reason: StopReason | None = None
    detail: str | None = None
    canceled: bool = False
    files: tuple[FileRecord, ...] = ()
    processed: int = 0
    params: JsonObject | None = None
    """Parameters of the stop reason (see :class:`StopTask`)."""


class StopTask(Exception):
    """Raised inside a file's work when the whole task has to stop.

    ``detail`` is English for logs and reports; ``params`` are what a front end
    needs to say it in the user's language (default: ``{"error": detail}``).
    """

    def __init__(
        self, reason: StopReason, detail: str | None = None, params: JsonObject | None = None
    ) -> None:
        super().__init__(detail or reason.value)
        self.reason = reason
        self.detail = detail
        self.params = params if params is not None else ({"error": detail} if detail else None)


def staging_dir(target_dir: Path, staging_key: str) -> Path:
    """Where a task's partial files live: on the export folder's volume, in a folder
    named by the task's random staging key (``TaskRecord.staging_key``)."""
    if not staging_key or "/" in staging_key or "\\" in staging_key or staging_key in (".", ".."):
        raise ValueError(f"bad staging key {staging_key!r}")
    return target_dir / STAGING_DIR / staging_key


def io_path(target_dir: Path) -> Path:
    """The export folder as the engine's own file operations use it.

    On Windows, the extended-length form (``\\\\?\\C:\\...``), so a path that could
    not be shortened under MAX_PATH (``core/local_names.py``) is still written;
    elsewhere the folder itself.
    """
    if sys.platform == "win32":  # pragma: no cover - Windows only
        return Path(extended_length_path(str(target_dir.resolve())))
    return target_dir


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
    error = exc.strerror or str(exc)
    return StopTask(reason, f"{where}: {error}", {"path": str(where), "error": error})


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


def _inspect_target(root: Path, rel: str, size: int, sha256: str) -> tuple[str, str | None]:
    """What stands at ``root/rel``: ``("absent", None)``, ``("same", None)`` (the pinned
    bytes), ``("different", None)``, or ``("blocked", prefix)`` when the folder
    ``prefix`` of *rel* is a file (or a link: the export never writes through one)."""
    parts = rel.split("/")
    for i in range(1, len(parts)):
        prefix = "/".join(parts[:i])
        try:
            st = os.lstat(root / prefix)
        except FileNotFoundError:
            return "absent", None
        if not stat.S_ISDIR(st.st_mode):
            return "blocked", prefix
    path = root / rel
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "absent", None
    if not stat.S_ISREG(st.st_mode) or st.st_size != size:
        return "different", None
    return ("same" if _file_sha256(path) == sha256 else "different"), None


def _inspect_and_open(
    root: Path, rel: str, size: int, sha256: str, part: Path
) -> tuple[str, str | None, BinaryIO | OSError | None]:
    """:func:`_inspect_target`, and when the target is free, :func:`_open_partial` in the
    same thread hop (one hop less per file: under qasync each costs UI-thread time).

    Returns ``(state, blocked, opened)``: *opened* is the locked partial, or the
    ``OSError`` opening it raised (a local failure of this file), or ``None`` when
    the target is not free. An ``OSError`` of the inspection itself propagates, as
    :class:`StopTask` from opening the partial does.
    """
    state, blocked = _inspect_target(root, rel, size, sha256)
    if state != "absent":
        return state, blocked, None
    try:
        return state, blocked, _open_partial(part)
    except OSError as exc:
        return state, blocked, exc


def _close_opened(found: tuple[str, str | None, BinaryIO | OSError | None]) -> None:
    opened = found[2]
    if opened is not None and not isinstance(opened, OSError):
        _close_quietly(opened)


def _free_or_folder(path: Path) -> bool:
    """Nothing at *path*, or a real folder (not a link) the export may add files to."""
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except FileNotFoundError:
        return True


def _ancestors(folder: Path, root: Path) -> list[Path]:
    """*folder* and every folder above it up to and including *root*."""
    found = [folder]
    while folder != root and folder.parent != folder:
        folder = folder.parent
        found.append(folder)
    return found


def _adopt(path: Path, fsync: bool) -> None:
    """An existing file becomes the export's: make sure its bytes are durable."""
    if fsync:
        fsync_file(path)


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_PARTIAL_FLAGS = os.O_RDWR | getattr(os, "O_BINARY", 0) | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0)


def _close_quietly(handle: BinaryIO) -> None:
    with contextlib.suppress(OSError):
        handle.close()


def _open_partial(part: Path) -> BinaryIO:
    """Open (creating, never truncating) and exclusively lock a partial file.

    Only a regular file of our own is ever opened: a link or anything else
    planted at the partial's name (the staging folder lies in a folder others
    may write) is removed and a fresh file is created exclusively, so no
    byte is written through a link. The mode follows the umask (0666 minus
    it), like any file the user creates: exported papers on a shared folder
    stay readable to colleagues.

    Raises :class:`StopTask` (*export in use*) when another process holds the
    lock or keeps planting entries at the name.
    """
    try:
        fd = os.open(part, _PARTIAL_FLAGS | os.O_CREAT, 0o666)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        fd = _replace_foreign(part)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        fd = _replace_foreign(part)
    handle = cast("BinaryIO", os.fdopen(fd, "r+b"))
    try:
        portalocker.lock(
            handle, portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING
        )
    except portalocker.exceptions.LockException as exc:
        handle.close()
        raise StopTask(
            StopReason.EXPORT_IN_USE, f"{part} is being written by another process"
        ) from exc
    except BaseException:
        handle.close()
        raise
    return handle


def _replace_foreign(part: Path) -> int:
    """Remove what is not ours at *part* and create a fresh file there, exclusively."""
    _log.warning("%s is not a regular file (a link?): replaced", part)
    part.unlink()
    try:
        return os.open(part, _PARTIAL_FLAGS | os.O_CREAT | os.O_EXCL, 0o666)
    except FileExistsError as exc:
        raise StopTask(
            StopReason.EXPORT_IN_USE, f"{part} keeps being replaced by another process"
        ) from exc


def _discard_partial(handle: BinaryIO) -> None:
    handle.seek(0)
    handle.truncate(0)


def _place(
    handle: BinaryIO, part: Path, final: Path, root: Path, size: int, fsync: bool
) -> list[Path]:
    """Make the verified partial the user's file; returns the folders to fsync.

    fsync the bytes, check that the file at *part* is the very file that was
    written and hashed (same inode, whole size), create the folders, then
    rename without replacing anything (:class:`FileExistsError` if *final*
    or a folder on its way is taken).
    """
    handle.flush()
    fd = handle.fileno()
    if fsync:
        os.fsync(fd)
    mine = os.fstat(fd)
    if mine.st_size != size or not os.path.samestat(mine, os.lstat(part)):
        raise OSError(errno.ESTALE, "the partial file changed under the download", str(part))
    touched = make_dirs(final.parent, root)
    if sys.platform == "win32":  # pragma: no cover - Windows cannot rename an open file
        handle.close()
    rename_noreplace(part, final)
    return [*touched, final.parent]


def _prepare(target: Path, staging: Path) -> list[Path]:
    """Create the folders and prove they are writable; returns the folders whose
    entries changed.

    The export folder may be a link (the user chose it); nothing inside it is
    followed: a ``.manuscript-partial`` someone made a link raises
    :class:`NotADirectoryError` saying so.
    """
    touched = make_dirs(target, Path(target.anchor), follow_links=True)
    try:
        touched += make_dirs(staging, target)
    except FileExistsError as exc:
        raise NotADirectoryError(
            errno.ENOTDIR,
            "not a folder of ours (a file or a link); the export never writes through links",
            exc.filename,
        ) from None
    probe = staging / f".write-probe-{uuid.uuid4().hex}"
    fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    try:
        os.write(fd, b"ok")
    finally:
        os.close(fd)
    probe.unlink()
    return touched


def _missing_on_disk(root: Path, files: list[FileRecord]) -> list[int]:
    """Ids of succeeded files that are no longer at their path with their size.

    A file below a link is missing too: the export does not follow links inside
    the export folder (one ``lstat`` per folder, cached, and one per file).
    """
    real: dict[str, bool] = {"": True}

    def real_folder(rel: str) -> bool:
        known = real.get(rel)
        if known is None:
            parent = rel.rpartition("/")[0]
            try:
                known = real_folder(parent) and stat.S_ISDIR(os.lstat(root / rel).st_mode)
            except (FileNotFoundError, NotADirectoryError):
                known = False
            real[rel] = known
        return known

    missing: list[int] = []
    for file in files:
        folder = file.local_path.rpartition("/")[0]
        try:
            st = os.lstat(root / file.local_path) if real_folder(folder) else None
        except (FileNotFoundError, NotADirectoryError):
            st = None
        if st is None or not stat.S_ISREG(st.st_mode) or st.st_size != file.size:
            missing.append(file.id)
    return missing


def tidy_staging(target_dir: Path, staging_key: str) -> None:
    """Remove a finished task's staging folder if nothing is left in it."""
    for folder in (staging_dir(target_dir, staging_key), target_dir / STAGING_DIR):
        try:
            folder.rmdir()
        except OSError:
            return  # not empty (partials of failed files stay for *retry failed*), or gone


def remove_staging(target_dir: Path, staging_key: str) -> None:
    """Drop a task's partial data (cancel, delete); the shared root goes when empty."""
    shutil.rmtree(staging_dir(target_dir, staging_key), ignore_errors=True)
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
        events: Publisher,
        options: RunOptions | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._db = db
        self._client = client
        self._task = task
        self._events = events
        self._options = options or RunOptions()
        self._policy = self._options.retry
        self._sleep = sleep
        self._target = io_path(Path(task.target_dir))
        self._staging = staging_dir(self._target, task.staging_key)
        self._stop: StopTask | None = None
        self._canceled = False
        self._workers: list[asyncio.Task[None]] = []
        self._results: list[FileRecord] = []
        self._in_flight: dict[int, FileRecord] = {}
        self._live: dict[int, int] = {}  # file id -> bytes of it on disk (partials)
        self._done_bytes = task.done_bytes
        self._files_done = task.succeeded + task.failed
        self._processed = 0
        self._rate_window: list[tuple[float, int]] = []
        self._moved = 0  # bytes moved over the network in this run
        self._gate = ConcurrencyGate(self._options.concurrency)
        self._health = ServerHealth()
        self._dirs = DirSync()
        self._folder_moves: dict[str, str] = {}  # old local folder -> its new name
        self._planned: dict[int, str] = {}  # file id -> its path before a "(n)" rename
        self._suspects: dict[int, FileRecord] = {}  # failures that may be the server's
        self._relocating = asyncio.Lock()

    @property
    def task_id(self) -> int:
        return self._task.id

    @property
    def bytes_received(self) -> int:
        """Bytes this run fetched over the network (resumes make this < total)."""
        return self._moved

    @property
    def in_flight(self) -> frozenset[int]:
        """Ids of the files being downloaded now (a window's "in progress")."""
        return frozenset(self._in_flight)

    @property
    def concurrency_limit(self) -> int:
        """Files allowed in flight now (lower than the setting while the server pushes back)."""
        return self._gate.limit

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
            touched = await asyncio.to_thread(_prepare, self._target, self._staging)
            self._dirs.add(touched)
            await self._check_exported()
            need = 0
            async for page in self._pages(status=FileStatus.WAITING):
                need += await asyncio.to_thread(needed_bytes, self._target, self._staging, page)
            free = await asyncio.to_thread(free_space, self._target)
        except OSError as exc:
            stop = _local_stop(exc, self._staging) or StopTask(
                StopReason.FOLDER_NOT_WRITABLE, f"{exc.filename or self._staging}: {exc.strerror}"
            )
            return self._result(stop)
        if need > free:
            return self._result(
                StopTask(
                    StopReason.DISK_FULL,
                    f"the export still needs {need} bytes; {free} bytes are free",
                    {"need": need, "free": free},
                )
            )
        if self._stop is not None:  # stopped before it started
            return self._result(self._stop)

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

        if self._stop is not None:
            return await self._final(self._stop)
        if producer.done() and not producer.cancelled() and producer.exception() is not None:
            failure = producer.exception()
            _log.error("reading waiting files of task %s failed", self._task.id, exc_info=failure)
            return await self._final(StopTask(StopReason.UNEXPECTED_ERROR, str(failure)))
        return await self._final(None)

    def _result(self, stop: StopTask | None, files: tuple[FileRecord, ...] = ()) -> RunResult:
        if stop is None:
            return RunResult(True, files=files, processed=self._processed)
        return RunResult(
            False,
            stop.reason,
            stop.detail,
            self._canceled,
            files=files,
            processed=self._processed,
            params=stop.params,
        )

    async def _final(self, stop: StopTask | None) -> RunResult:
        """The unwritten results and in-flight ETags, their folders already durable.

        Held failures (see :meth:`_suspect`) are recorded unless the run stopped:
        then their files wait again, like every file the stop left undone.
        """
        if stop is None:
            self._clear_suspects()
        batch, self._results = self._results, []
        batch += [r for r in self._in_flight.values() if r.etag is not None]
        try:
            await self._sync_dirs()
        except OSError as exc:
            # Nothing may be claimed that is not durable: keep these files open.
            _log.error("syncing the folders of task %s failed: %s", self._task.id, exc)
            batch = [r for r in batch if r.status is not FileStatus.COMPLETED]
            stop = (
                stop
                or _local_stop(exc, self._target)
                or StopTask(StopReason.FOLDER_NOT_WRITABLE, str(exc))
            )
        return self._result(stop, tuple(batch))

    async def _pages(
        self, *, status: FileStatus | None = None, outcome: FileOutcome | None = None
    ) -> AsyncIterator[list[FileRecord]]:
        """The task's file rows in keyset pages (memory stays flat at 100k files)."""
        after = 0
        while True:
            page = await self._db.run(
                ExportStore.page_files,
                self._task.id,
                after_id=after,
                limit=_PAGE,
                status=status,
                outcome=outcome,
            )
            if page:
                yield page
            if len(page) < _PAGE:
                return
            after = page[-1].id

    async def _check_exported(self) -> None:
        """Files recorded as succeeded but no longer on disk (or not whole) wait again.

        Cheap: one ``lstat`` per file (and per folder), off the loop, a page at a
        time. The hashes are not re-read (a file of the right size at the right
        path is taken as ours; what a user edits in place is theirs).
        """
        missing: list[int] = []
        async for page in self._pages(outcome=FileOutcome.SUCCEEDED):
            missing += await asyncio.to_thread(_missing_on_disk, self._target, page)
        if missing:
            _log.warning(
                "task %s: %d exported files are missing or changed on disk; fetching them again",
                self._task.id,
                len(missing),
            )
            task = await self._db.run(ExportStore.requeue_missing, self._task.id, missing)
            self._done_bytes = task.done_bytes
            self._files_done = task.succeeded + task.failed
            self._events.publish(TaskChanged(task))

    async def _produce(self, queue: asyncio.Queue[FileRecord | None], workers: int) -> None:
        failure: Exception | None = None
        try:
            async for page in self._pages(status=FileStatus.WAITING):
                for record in page:
                    await queue.put(record)
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
            record = self._remap(record)
            self._in_flight[record.id] = record
            try:
                result = await self._process(record, client)
            except StopTask as stop:
                # The file stays in flight so the final write keeps its ETag.
                self.stop(stop.reason, stop.detail)
                return
            except Exception as exc:
                _log.exception("unexpected error on %s", record.local_path)
                self.stop(StopReason.UNEXPECTED_ERROR, f"{record.local_path}: {exc!r}")
                return
            del self._in_flight[record.id]
            self._live.pop(record.id, None)
            self._files_done += 1
            self._processed += 1
            if result.outcome is FileOutcome.SUCCEEDED:
                self._done_bytes += result.size
            if result.id in self._suspects:
                continue  # held until something succeeds (see _suspect)
            self._results.append(result)

    # -- one file --------------------------------------------------------------

    async def _process(self, record: FileRecord, client: ApiClient) -> FileRecord:
        part = self._staging / f"{record.id}.part"
        found = await self._free_target(record, part)
        if isinstance(found, FileRecord):
            # Already up to date. A partial may be left of it (a crash between
            # the link and the unlink of the no-hard-rename fallback): drop it.
            await asyncio.to_thread(part.unlink, missing_ok=True)
            return found
        final, opened = found
        record = self._in_flight.get(record.id, record)
        if isinstance(opened, OSError):
            return self._local_failure(record, record.attempts + 1, opened, part)
        if opened is not None:
            handle = opened
        else:  # the free path was found after a detour (a name taken, a folder moved)
            try:
                # Paused while the thread opens it: the handle (and its lock) is closed.
                handle = await acquire_in_thread(_close_quietly, _open_partial, part)
            except OSError as exc:
                return self._local_failure(record, record.attempts + 1, exc, part)
        try:
            return await self._fetch(record, client, part, handle, final)
        finally:
            try:
                handle.close()
            except OSError as exc:  # a buffered write failed (disk full): judged already
                _log.info("closing %s: %s", part, exc)

    async def _fetch(
        self, record: FileRecord, client: ApiClient, part: Path, handle: BinaryIO, final: Path
    ) -> FileRecord:
        policy = self._policy
        attempt = record.attempts
        tries = 0  # attempts that spent a retry
        server_mark: tuple[int, float] | None = None
        rate_mark: tuple[int, float] | None = None
        refetched = False
        while True:
            attempt += 1
            try:
                result, error, ticket = await self._attempt(client, record, handle)
            except OSError as exc:
                return self._local_failure(record, attempt, exc, part)
            except ValueError as exc:  # an id no request can carry (a row from before
                # the listing refused such ids): the file cannot be asked for
                return self._failed(record, attempt, FileError.BAD_LISTING, str(exc))
            if error is not None:
                trouble = classify(error)
                if trouble is Trouble.SESSION:
                    raise StopTask(StopReason.LOGIN_EXPIRED, error.message) from error
                if trouble is Trouble.TLS:
                    raise StopTask(StopReason.SERVER_UNREACHABLE, str(error)) from error
                if trouble is Trouble.BACKPRESSURE:
                    # Back-pressure: fewer files in flight, no retry spent. Only when
                    # nothing at all gets through for a long time is it an outage.
                    self._gate.back_off(ticket)
                    if rate_mark is None or not self._health.down_since(rate_mark):
                        rate_mark = self._health.mark()
                    elif self._health.waited(rate_mark) > policy.rate_limit_patience:
                        raise StopTask(
                            StopReason.SERVER_UNAVAILABLE,
                            f"the server kept refusing downloads for "
                            f"{policy.rate_limit_patience:.0f} s: {error}",
                        ) from error
                    await self._sleep(policy.delay(1, error))
                    continue
                tries += 1
                if trouble in (Trouble.SERVER, Trouble.UNREACHABLE):
                    self._health.failure(error)
                    if server_mark is None:
                        server_mark = self._health.mark()
                if trouble is not Trouble.PERMANENT and tries <= policy.retries:
                    await self._sleep(policy.delay(tries, error))
                    continue
                server_wide = trouble in (Trouble.SERVER, Trouble.UNREACHABLE)
                if server_wide and server_mark is not None and self._health.down_since(server_mark):
                    # Nothing succeeded since this file's trouble began: the server is
                    # down, not this file. Pause; the file stays waiting.
                    reason = (
                        StopReason.SERVER_UNREACHABLE
                        if trouble is Trouble.UNREACHABLE
                        else StopReason.SERVER_UNAVAILABLE
                    )
                    raise StopTask(reason, str(error)) from error
                message = (
                    error.message if trouble is Trouble.PERMANENT else f"{error} ({tries} attempts)"
                )
                failed = self._failed(record, attempt, _api_error_code(error), message, error)
                if not isinstance(error, NotFound | Gone | Forbidden):
                    self._suspect(failed, error)
                return failed
            assert result is not None
            self._clear_suspects()
            self._health.success()
            self._gate.success()
            record = self._in_flight.get(record.id, record)
            if not result.matches(record.size, record.sha256):
                await asyncio.to_thread(_discard_partial, handle)
                self._live[record.id] = 0
                if result.offset and not refetched:
                    # A resumed file that does not add up (a weak validator cannot
                    # prove the prefix matched): fetch the whole file once, now.
                    refetched = True
                    self._in_flight[record.id] = record = dataclasses.replace(record, etag=None)
                    continue
                tries += 1
                if tries <= policy.retries:
                    await self._sleep(policy.delay(tries))
                    continue
                return self._failed(
                    record,
                    attempt,
                    FileError.CHECKSUM_MISMATCH,
                    f"checksum mismatch after {attempt - record.attempts} attempts",
                )
            return await self._settle_file(record, attempt, part, handle, final)

    async def _attempt(
        self, client: ApiClient, record: FileRecord, handle: BinaryIO
    ) -> tuple[DownloadResult | None, ApiError | None, int]:
        """One download request within the concurrency gate: (result, error, ticket).

        Local errors (``OSError``) propagate; the slot is given back before any
        back-off sleep.
        """
        ticket = await self._gate.acquire()
        try:
            result = await client.download_to(
                record.remote_id,
                record.version,
                handle,
                expected_size=record.size,
                expected_sha256=record.sha256,
                etag=self._in_flight.get(record.id, record).etag,
                content_type=record.content_type,
                progress=functools.partial(self._on_bytes, record.id),
                on_start=functools.partial(self._on_start, record.id),
                limiter=self._options.limiter,
            )
        except ApiError as exc:
            return None, exc, ticket
        finally:
            self._gate.release()
        return result, None, ticket

    async def _settle_file(
        self, record: FileRecord, attempt: int, part: Path, handle: BinaryIO, final: Path
    ) -> FileRecord:
        """Rename the verified partial into place; another writer's file is never replaced."""
        while True:
            try:
                touched = await asyncio.to_thread(
                    _place, handle, part, final, self._target, record.size, self._options.fsync
                )
            except FileExistsError:
                # Taken since we looked (another writer, or a file where a folder must go).
                target = await self._free_target(record)
                record = self._in_flight.get(record.id, record)
                if isinstance(target, FileRecord):
                    await asyncio.to_thread(part.unlink, missing_ok=True)
                    return dataclasses.replace(target, attempts=attempt)
                final = target[0]
                continue
            except OSError as exc:
                return self._local_failure(record, attempt, exc, final)
            self._dirs.add(touched)
            return _succeeded(record, attempts=attempt)

    async def _free_target(
        self, record: FileRecord, part: Path | None = None
    ) -> tuple[Path, BinaryIO | OSError | None] | FileRecord:
        """The path to write, or the succeeded record when the target is already right.

        A different file at the planned path is kept and this file takes the next
        free name; a file (or link) where a folder of the path must go is kept and
        that folder takes the next free name, for every file of the task below it.

        With *part*, a planned path found free at the first look comes with the
        partial opened and locked in the same thread hop (see
        :func:`_inspect_and_open`); otherwise the second item is ``None``.
        """
        first = part is not None
        while True:
            record = self._remap(self._in_flight.get(record.id, record))
            self._in_flight[record.id] = record
            final = self._target / record.local_path
            opened: BinaryIO | OSError | None = None
            try:
                if first and part is not None:
                    # Paused meanwhile: a partial opened too late is closed.
                    state, blocked, opened = await acquire_in_thread(
                        _close_opened,
                        _inspect_and_open,
                        self._target,
                        record.local_path,
                        record.size,
                        record.sha256,
                        part,
                    )
                else:
                    state, blocked = await asyncio.to_thread(
                        _inspect_target, self._target, record.local_path, record.size, record.sha256
                    )
            except OSError as exc:
                stop = _local_stop(exc, final)
                if stop is not None:
                    raise stop from exc
                state, blocked = "different", None
            first = False
            if state == "absent":
                return final, opened
            if state == "blocked":
                assert blocked is not None
                await self._move_folder(blocked)
                continue
            if state == "same":
                try:
                    await asyncio.to_thread(_adopt, final, self._options.fsync)
                except OSError as exc:
                    return self._local_failure(record, record.attempts, exc, final)
                self._dirs.add(_ancestors(final.parent, self._target))
                return _succeeded(record, attempts=record.attempts)
            found = await self._next_free_name(record)
            return found if isinstance(found, FileRecord) else (found, None)

    async def _next_free_name(self, record: FileRecord) -> Path | FileRecord:
        """The planned name holds another file: the first ``name (n).ext`` that is free,
        or that already holds the pinned bytes (this export's own earlier output: no
        new copy on every run)."""
        planned = self._planned.setdefault(record.id, record.local_path)
        folder, _, name = planned.rpartition("/")
        for n in range(2, 10_000):
            candidate = with_counter(name, n)
            rel = f"{folder}/{candidate}" if folder else candidate
            state, _ = await asyncio.to_thread(
                _inspect_target, self._target, rel, record.size, record.sha256
            )
            if state not in ("absent", "same"):
                continue
            if not await self._db.run(ExportStore.relocate_file, self._task.id, record.id, rel):
                continue  # another file of this task has that name
            moved = dataclasses.replace(record, local_path=rel)
            self._in_flight[record.id] = moved
            if state == "absent":
                return self._target / rel
            found = await self._free_target(moved)  # adopt what is there (made durable)
            return found if isinstance(found, FileRecord) else found[0]
        raise StopTask(StopReason.UNEXPECTED_ERROR, f"no free name for {record.local_path}")

    async def _move_folder(self, old: str) -> None:
        """Folder *old* is blocked by a file (or link): its files move to the first
        ``old (n)`` that is free or already a folder (an earlier run's, reused)."""
        async with self._relocating:
            if old in self._folder_moves:
                return  # another worker moved it meanwhile
            parent, _, name = old.rpartition("/")
            for n in range(2, 10_000):
                candidate = with_counter(name, n, folder=True)
                new = f"{parent}/{candidate}" if parent else candidate
                if not await asyncio.to_thread(_free_or_folder, self._target / new):
                    continue
                moved = await self._db.run(ExportStore.relocate_folder, self._task.id, old, new)
                if moved >= 0:
                    _log.info("task %s: %r is taken by a file; using %r", self._task.id, old, new)
                    self._folder_moves[old] = new
                    return
            raise StopTask(StopReason.UNEXPECTED_ERROR, f"no free folder name for {old}")

    def _suspect(self, failed: FileRecord, error: ApiError) -> None:
        """A failure that may be the server's (or a proxy's) doing, not the file's.

        Held back instead of recorded: when something succeeds they are recorded
        as the failures they are; when ``suspect_limit`` of them pile up with
        nothing succeeding, every download fails the same way (a proxy's login
        page, a redirect, bad framing): the task pauses *server unavailable* and
        these files wait again, instead of thousands failing one by one.
        """
        self._suspects[failed.id] = failed
        if len(self._suspects) >= self._policy.suspect_limit:
            raise StopTask(
                StopReason.SERVER_UNAVAILABLE,
                f"{len(self._suspects)} files in a row failed and none succeeded: {error}",
                {"files": len(self._suspects), "error": str(error)},
            ) from error

    def _clear_suspects(self) -> None:
        """Something succeeded: the held failures were the files' own; record them."""
        if self._suspects:
            self._results += self._suspects.values()
            self._suspects.clear()

    def _remap(self, record: FileRecord) -> FileRecord:
        """Apply folder moves (made after this record was read) to its local path."""
        path = record.local_path
        for old, new in self._folder_moves.items():
            if path.startswith(old + "/"):
                path = new + path[len(old) :]
        return record if path == record.local_path else dataclasses.replace(record, local_path=path)

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
        self,
        record: FileRecord,
        attempt: int,
        code: FileError,
        message: str,
        error: BaseException | None = None,
    ) -> FileRecord:
        _log.info("file %s failed: %s (%s)", record.local_path, code.value, message)
        params: JsonObject = {"attempts": attempt, "error": message[:1000]}
        if isinstance(error, HTTPError):
            params["status"] = error.status
        return dataclasses.replace(
            self._in_flight.get(record.id, record),
            status=FileStatus.COMPLETED,
            outcome=FileOutcome.FAILED,
            error_code=code.value,
            error_message=message[:1000],
            error_params=params,
            attempts=attempt,
        )

    def _on_start(self, file_id: int, start: DownloadStart) -> None:
        self._live[file_id] = start.offset
        record = self._in_flight.get(file_id)
        if record is not None and start.etag != record.etag:
            self._in_flight[file_id] = dataclasses.replace(record, etag=start.etag)

    def _on_bytes(self, file_id: int, n: int) -> None:
        self._live[file_id] = self._live.get(file_id, 0) + n
        self._moved += n

    # -- reporting ---------------------------------------------------------------

    async def _sync_dirs(self) -> None:
        folders = self._dirs.take()
        if folders and self._options.fsync:
            await asyncio.to_thread(sync_all, folders)

    async def _flush_whole(self) -> None:
        """:meth:`_flush`, never cut in half by a cancel (the run's end cancels the ticker).

        The results are taken out of the list before they are written: cut there,
        they were neither written nor left for the run's final write, and their
        files (exported, on disk) stayed *waiting*, the run ended unfinished and
        ran again. A cancel now waits for the write to land or fail (then the
        results are back in the list for the final write), and only then ends
        the ticker.
        """
        flush = asyncio.ensure_future(self._flush())
        try:
            await asyncio.shield(flush)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await flush
            raise

    async def _flush(self) -> None:
        """Persist finished files, after the folders they were renamed into are durable."""
        batch, self._results = self._results, []
        if not batch:
            return
        try:
            await self._sync_dirs()
            task = await self._db.run(ExportStore.update_files, self._task.id, batch)
        except Exception:
            self._results = batch + self._results
            raise
        self._events.publish(FilesChanged(self._task.id, tuple(batch)))
        self._events.publish(TaskChanged(task))

    async def _tick(self) -> None:
        last_flush = time.monotonic()
        while True:
            await asyncio.sleep(self._options.progress_interval)
            now = time.monotonic()
            if now - last_flush >= self._options.flush_interval:
                last_flush = now
                try:
                    await self._flush_whole()
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
                in_flight_ids=tuple(self._in_flight),
                in_flight_bytes=tuple(self._live.get(i, 0) for i in self._in_flight),
            )
        )


def _succeeded(record: FileRecord, *, attempts: int) -> FileRecord:
    return dataclasses.replace(
        record,
        status=FileStatus.COMPLETED,
        outcome=FileOutcome.SUCCEEDED,
        error_code=None,
        error_message=None,
        attempts=attempts,
    )


def _api_error_code(exc: ApiError) -> FileError:
    if isinstance(exc, VersionNotFound):
        return FileError.VERSION_GONE
    if isinstance(exc, Gone | NotFound):
        return FileError.FILE_DELETED
    if isinstance(exc, Forbidden):
        return FileError.NO_PERMISSION
    if isinstance(exc, ProtocolError):
        return FileError.UNEXPECTED_RESPONSE
    if isinstance(exc, NetworkError):
        return FileError.NETWORK_ERROR
    if isinstance(exc, HTTPError):
        return FileError.SERVER_ERROR
    return FileError.UNEXPECTED_RESPONSE
