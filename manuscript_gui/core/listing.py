"""Task creation: turn a selection of projects/folders into a task's file rows.

The design note's option 3: at creation every file's remote id, pinned
version, size, sha256 and safe local path are fixed, so the whole list is
known up front and a resume asks for exactly the bytes seen at creation.

Listing walks the selected trees breadth-first with a few folders in flight
(bounded concurrency), following every cursor, retrying transient errors with
back-off (:func:`~manuscript_gui.core.retry.with_retries`, the engine's
rules), and writes files in batches so a 100k-file task never sits in
memory as rows. A crash while listing leaves the task ``initializing``; the
next start deletes its partial rows and lists again from scratch.

A listing always ends, whatever the server sends:

- each folder id is listed at most once per project. A folder that shows up
  again (listed inside itself, under the id ``root``, or in two places) is
  logged and skipped: its files are exported once, under the place where it
  was met first;
- every folder's pages go through a :class:`~manuscript_gui.net.PageGuard`:
  a cursor sent twice, or endless empty pages, pause the task *listing
  failed* with the guard's message (``cursor_loop``).

Local layout: ``<export folder>/<project name>/<folder path>/<file name>``,
every segment made safe by :class:`PathAllocator` (collisions, including
case-only ones, become ``name (2).ext``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from manuscript_gui.core.async_store import AsyncStore
from manuscript_gui.core.events import ListingProgress, Publisher
from manuscript_gui.core.local_names import PathAllocator
from manuscript_gui.core.retry import RetryPolicy, ServerHealth, Trouble, classify, with_retries
from manuscript_gui.core.task_manager import STAGING_DIR
from manuscript_gui.domain import FileError, NewFile, StopReason, TaskRecord
from manuscript_gui.net import (
    ApiClient,
    ApiError,
    BadFileEntry,
    FileEntry,
    FolderEntry,
    Forbidden,
    NotFound,
    PageGuard,
    ProtocolError,
)
from manuscript_gui.storage import ExportStore

__all__ = ["ListingStopped", "SelectionItem", "list_task_files", "normalize_selection"]

_log = logging.getLogger(__name__)
T = TypeVar("T")

INSERT_BATCH = 1000


@dataclass(frozen=True, slots=True)
class SelectionItem:
    """One thing the user ticked: a whole project (``folder_id='root'``) or one folder.

    ``folder_path`` holds the remote folder names from the project's top level
    down to the folder, so its files land under the same path locally.
    """

    project_id: str
    project_name: str
    folder_id: str = "root"
    folder_path: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "projectId": self.project_id,
            "projectName": self.project_name,
            "folderId": self.folder_id,
            "folderPath": list(self.folder_path),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SelectionItem:
        return cls(
            project_id=str(data["projectId"]),
            project_name=str(data["projectName"]),
            folder_id=str(data.get("folderId", "root")),
            folder_path=tuple(str(p) for p in data.get("folderPath", ())),
        )


def _covers(outer: SelectionItem, inner: SelectionItem) -> bool:
    """Whether listing *outer* lists everything *inner* would."""
    if outer == inner or outer.project_id != inner.project_id or inner.folder_id == "root":
        return False
    if outer.folder_id == "root":
        return True
    depth = len(outer.folder_path)
    return depth < len(inner.folder_path) and inner.folder_path[:depth] == outer.folder_path


def normalize_selection(items: Iterable[SelectionItem]) -> list[SelectionItem]:
    """Drop duplicates and items another item covers (a folder inside a chosen
    project or folder), keeping the user's order."""
    chosen = list(dict.fromkeys(items))
    return [item for item in chosen if not any(_covers(other, item) for other in chosen)]


class ListingStopped(Exception):
    """Listing could not finish; the task pauses with this reason (``params`` as for
    ``task_manager.StopTask``: ``{"error": detail}``)."""

    def __init__(self, reason: StopReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.params = {"error": detail}


@dataclass
class _Walk:
    """Shared state of one listing."""

    allocator: PathAllocator = field(default_factory=PathAllocator)
    seen: set[str] = field(default_factory=set)
    """Remote ids of the files met so far (a file reached twice is exported once)."""
    folders: set[tuple[str, str]] = field(default_factory=set)
    """``(project id, folder id)`` of every folder queued so far (``root`` included)."""
    buffer: list[NewFile] = field(default_factory=list)
    found: int = 0
    found_bytes: int = 0


async def list_task_files(
    db: AsyncStore,
    client: ApiClient,
    task: TaskRecord,
    events: Publisher,
    *,
    concurrency: int = 4,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> int:
    """List the task's selection into file rows; returns the number of files.

    The task must have no file rows (``Transition.START_LISTING`` deletes them:
    a crashed or paused listing is never continued half-way). Errors are judged
    as for downloads (``core/retry.py``). Raises :class:`ListingStopped` when the
    listing cannot finish; cancellation (the user cancels an initializing task)
    propagates.
    """
    policy = policy or RetryPolicy()
    items = [SelectionItem.from_json(d) for d in task.selection.get("items", [])]
    health = ServerHealth()
    # Paths are budgeted for the whole path under this export folder (Windows'
    # MAX_PATH is the tightest; see core/local_names.py).
    walk = _Walk(allocator=PathAllocator(task.target_dir))
    # The staging folder lives at the top of the export folder: a project that
    # happens to carry its name must not land in it (a cancel would delete it).
    walk.allocator.reserve("", STAGING_DIR)
    queue: asyncio.Queue[tuple[str, str, str, str]] = asyncio.Queue()
    for item in normalize_selection(items):
        if (item.project_id, item.folder_id) in walk.folders:
            _log.info(
                "task %s: folder %r of project %r was chosen twice; listed once",
                task.id,
                item.folder_id,
                item.project_id,
            )
            continue
        walk.folders.add((item.project_id, item.folder_id))
        local = walk.allocator.folder("", f"project:{item.project_id}", item.project_name)
        remote = "/" + item.project_name
        for i, name in enumerate(item.folder_path):
            key = f"{item.project_id}:path:{'/'.join(item.folder_path[: i + 1])}"
            local = walk.allocator.folder(local, key, name)
            remote += "/" + name
        queue.put_nowait((item.project_id, item.folder_id, local, remote))

    async def call_with_retry(what: str, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await with_retries(call, policy, sleep=sleep, health=health)
        except ApiError as exc:
            raise _stopped(what, exc) from exc

    async def list_folder(project_id: str, folder_id: str, local: str, remote: str) -> None:
        guard = PageGuard(remote)
        cursor: str | None = None
        while True:
            page = await call_with_retry(
                remote,
                functools.partial(client.children_page, project_id, folder_id, cursor=cursor),
            )
            for entry in page.items:
                if isinstance(entry, FolderEntry):
                    if (project_id, entry.id) in walk.folders:
                        # Listed inside itself, under "root", or in two places: once is
                        # enough, and following it again would never end.
                        _log.warning(
                            "task %s: %s lists folder %r (%r) again; it is listed once",
                            task.id,
                            remote,
                            entry.id,
                            entry.name,
                        )
                        continue
                    walk.folders.add((project_id, entry.id))
                    sub = walk.allocator.folder(local, entry.id, entry.name)
                    queue.put_nowait((project_id, entry.id, sub, f"{remote}/{entry.name}"))
                elif isinstance(entry, FileEntry) and entry.id not in walk.seen:
                    walk.seen.add(entry.id)
                    walk.buffer.append(_new_file(project_id, entry, local, remote, walk))
                elif isinstance(entry, BadFileEntry) and (entry.id or "") not in walk.seen:
                    if entry.id:
                        walk.seen.add(entry.id)
                    walk.buffer.append(_bad_file(project_id, entry, local, remote, walk))
            if len(walk.buffer) >= INSERT_BATCH:
                batch, walk.buffer = walk.buffer, []
                await db.run(ExportStore.insert_files, task.id, batch)
            try:
                cursor = guard.next_cursor(page)
            except ProtocolError as exc:  # cursor_loop: the folder's pages would never end
                raise ListingStopped(StopReason.LISTING_FAILED, exc.message) from exc
            if cursor is None:
                return

    async def worker() -> None:
        while True:
            job = await queue.get()
            try:
                await list_folder(*job)
            finally:
                queue.task_done()

    async def report() -> None:
        while True:
            await asyncio.sleep(0.25)
            events.publish(ListingProgress(task.id, walk.found, walk.found_bytes))

    workers = [asyncio.create_task(worker()) for _ in range(concurrency)]
    reporter = asyncio.create_task(report())
    joined = asyncio.create_task(queue.join())
    started = time.monotonic()
    try:
        # Whichever comes first: every folder listed, or a worker failing.
        done, _ = await asyncio.wait([joined, *workers], return_when=asyncio.FIRST_COMPLETED)
        for finished in done:
            if finished is not joined and finished.exception() is not None:
                raise finished.exception()  # type: ignore[misc]
    finally:
        for t in (*workers, reporter, joined):
            t.cancel()
        await asyncio.gather(*workers, reporter, joined, return_exceptions=True)
    if walk.buffer:
        await db.run(ExportStore.insert_files, task.id, walk.buffer)
        walk.buffer = []
    events.publish(ListingProgress(task.id, walk.found, walk.found_bytes))
    _log.info("task %s: listed %d files in %.1f s", task.id, walk.found, time.monotonic() - started)
    if walk.allocator.over_budget:
        _log.warning(
            "task %s: %d paths are longer than Windows allows (MAX_PATH) even shortened; "
            "they are written with extended-length paths there",
            task.id,
            walk.allocator.over_budget,
        )
    return walk.found


def _stopped(what: str, exc: ApiError) -> ListingStopped:
    """Why the listing stops after *exc* (what :func:`with_retries` finally raised)."""
    trouble = classify(exc)
    if trouble is Trouble.SESSION:
        return ListingStopped(StopReason.LOGIN_EXPIRED, exc.message)
    if isinstance(exc, Forbidden | NotFound):
        return ListingStopped(StopReason.LISTING_FAILED, f"{what}: {exc.message}")
    reason = {
        Trouble.BACKPRESSURE: StopReason.SERVER_UNAVAILABLE,
        Trouble.UNREACHABLE: StopReason.SERVER_UNREACHABLE,
        Trouble.TLS: StopReason.SERVER_UNREACHABLE,
        Trouble.SERVER: StopReason.SERVER_UNAVAILABLE,
    }.get(trouble, StopReason.LISTING_FAILED)
    return ListingStopped(reason, f"{what}: {exc}")


#: Stands in for the sha256 of a file the listing could not describe (never compared:
#: such a file is stored failed and never downloaded).
_NO_SHA256 = "0" * 64


def _bad_file(
    project_id: str, entry: BadFileEntry, local: str, remote: str, walk: _Walk
) -> NewFile:
    """A file whose listing lacks something the export needs: recorded failed, with why."""
    walk.found += 1
    name = entry.name or entry.id or "unnamed file"
    return NewFile(
        remote_id=entry.id or f"(no id) {name}",
        project_id=project_id,
        remote_path=f"{remote}/{name}",
        local_path=walk.allocator.file(local, name),
        version=0,
        size=0,
        sha256=_NO_SHA256,
        error_code=FileError.BAD_LISTING.value,
        error_message=entry.problem,
        error_params={"problem": entry.problem},
    )


def _new_file(project_id: str, entry: FileEntry, local: str, remote: str, walk: _Walk) -> NewFile:
    walk.found += 1
    walk.found_bytes += entry.size
    return NewFile(
        remote_id=entry.id,
        project_id=project_id,
        remote_path=f"{remote}/{entry.name}",
        local_path=walk.allocator.file(local, entry.name),
        version=entry.version,
        size=entry.size,
        sha256=entry.sha256,
        content_type=entry.content_type,
    )
