"""Helpers for engine tests: a signed-in service, and checks of what landed on disk."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web

from manuscript_gui.config import Settings, app_paths
from manuscript_gui.core.events import Event, SchedulerState
from manuscript_gui.core.listing import SelectionItem
from manuscript_gui.core.task_manager import STAGING_DIR, TaskManager, staging_dir
from manuscript_gui.net import ApiClient, FileEntry, FolderEntry
from manuscript_gui.reference_server import ServerHandle
from manuscript_gui.services.exports import ExportService, ServiceOptions
from manuscript_gui.storage import (
    ExportStore,
    FileOutcome,
    FileRecord,
    TaskRecord,
    TaskStatus,
    open_identity_db,
)
from tests.fixtures_server import Admin

E = TypeVar("E")


@asynccontextmanager
async def signed_in(
    base_url: str,
    user: str = "demo",
    user_type: str | None = None,
    *,
    settings: Settings | None = None,
    options: ServiceOptions | None = None,
) -> AsyncIterator[ExportService]:
    service = ExportService(
        settings or Settings(concurrency=4, retries=3),
        paths=app_paths(),
        options=options or ServiceOptions(fsync=False),
    )
    await service.login(base_url, user, user, user_type)
    try:
        yield service
    finally:
        await service.close()


async def remote_files(base_url: str, project_id: str) -> dict[str, FileEntry]:
    """Every file of a project, by id, straight from the server."""
    found: dict[str, FileEntry] = {}
    async with ApiClient(base_url) as client:
        await client.login("wangwu", "wangwu", "qc")  # sees every project
        todo = ["root"]
        while todo:
            folder = todo.pop()
            async for entry in client.iter_children(project_id, folder):
                if isinstance(entry, FolderEntry):
                    todo.append(entry.id)
                else:
                    found[entry.id] = entry
    return found


async def project(service: ExportService, project_id: str) -> SelectionItem:
    assert service.user is not None
    async for p in service.user.client.iter_projects():
        if p.id == project_id:
            return SelectionItem(p.id, p.name)
    raise AssertionError(f"project {project_id} not visible")


async def until(predicate: Callable[[], bool], within: float = 30.0) -> None:
    """Poll *predicate* on the loop (every 10 ms) until it holds."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - polling a plain predicate is the point
            await asyncio.sleep(0.01)


async def export_and_wait(
    service: ExportService, items: list[SelectionItem], target: Path
) -> TaskRecord:
    task = await service.create_export(items, target)
    await service.wait_listing(task.id)
    await service.scheduler.wait_idle()
    return await service.task(task.id)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_on_disk(store: ExportStore, task: TaskRecord) -> int:
    """Every succeeded row is complete and correct on disk; counts agree. Returns succeeded."""
    target = Path(task.target_dir)
    succeeded = failed = 0
    for row in store.iter_files(task.id):
        if row.outcome is FileOutcome.SUCCEEDED:
            path = target / row.local_path
            assert path.is_file(), row.local_path
            assert path.stat().st_size == row.size, row.local_path
            assert sha256_of(path) == row.sha256, row.local_path
            succeeded += 1
        elif row.outcome is FileOutcome.FAILED:
            failed += 1
    assert task.succeeded == succeeded
    assert task.failed == failed
    return succeeded


def assert_completed(task: TaskRecord) -> None:
    assert task.status is TaskStatus.COMPLETED, (task.status, task.reason, task.reason_detail)


# ------------------------------------------------------------ behaviour-test helpers


def store_of(service: ExportService) -> ExportStore:
    """The signed-in identity's store (read it from the test thread between awaits)."""
    assert service.user is not None, "nobody is signed in"
    return service.user.db.store


def files_of(store: ExportStore, task_id: int) -> list[FileRecord]:
    return list(store.iter_files(task_id))


@dataclass(frozen=True, slots=True)
class Hit:
    """One authenticated request as the server saw it."""

    at: float
    method: str
    path: str
    token: str
    ok: bool  # False: the server refused the token (401)


class ServerRequests:
    """Records every authenticated request the reference server receives.

    The server checks the bearer token through ``ServerApp._auth`` on every
    authenticated endpoint (everything but login), looked up on the instance
    at call time, so wrapping it there sees each request exactly once, on the
    server's side of the wire. Use as a context manager.
    """

    def __init__(self, handle: ServerHandle) -> None:
        app = handle.server.app
        assert app is not None
        self._app = app
        self.hits: list[Hit] = []

    def __enter__(self) -> ServerRequests:
        original = self._app._auth

        def counting(request: web.Request) -> Any:
            header = request.headers.get("Authorization", "")
            token = header[7:].strip()
            try:
                session = original(request)
            except Exception:
                self.hits.append(Hit(time.monotonic(), request.method, request.path, token, False))
                raise
            self.hits.append(Hit(time.monotonic(), request.method, request.path, token, True))
            return session

        self._app._auth = counting  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        del self._app._auth

    def count(self) -> int:
        return len(self.hits)

    def content(self, since: int = 0) -> list[Hit]:
        """File-content requests (downloads) from hit number *since* on."""
        return [h for h in self.hits[since:] if h.path.endswith("/content")]


class RunWatcher:
    """Collects the service's events and every task manager the scheduler starts.

    ``bytes_received`` adds up what all those runs fetched over the network:
    the figure that shows a resume continued instead of starting over.
    """

    def __init__(self, service: ExportService) -> None:
        self._service = service
        self.events: list[Event] = []
        self.managers: list[TaskManager] = []
        self.started: list[int] = []  # task ids, in the order runs started
        self._unsubscribe = service.events.subscribe(self._on_event)

    def _on_event(self, event: Event) -> None:
        self.events.append(event)
        if isinstance(event, SchedulerState) and event.running_task_id is not None:
            manager = self._service.scheduler.running_manager
            if manager is not None and all(m is not manager for m in self.managers):
                self.managers.append(manager)
                self.started.append(event.running_task_id)

    @property
    def bytes_received(self) -> int:
        return sum(m.bytes_received for m in self.managers)

    def of_type(self, kind: type[E]) -> list[E]:
        return [e for e in self.events if isinstance(e, kind)]

    def close(self) -> None:
        self._unsubscribe()


async def wait_task(
    service: ExportService,
    task_id: int,
    predicate: Callable[[TaskRecord], bool],
    within: float = 30.0,
) -> TaskRecord:
    """Poll the task row (every 20 ms) until *predicate* holds; returns it."""
    async with asyncio.timeout(within):
        while True:
            task = await service.task(task_id)
            if predicate(task):
                return task
            await asyncio.sleep(0.02)


def staged_bytes(target: Path, task: TaskRecord) -> int:
    """Bytes of partial data a task has in its staging folder."""
    folder = staging_dir(target, task.staging_key)
    if not folder.is_dir():
        return 0
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


@asynccontextmanager
async def queue_held(
    service: ExportService, admin: Admin, item: SelectionItem, target: Path
) -> AsyncIterator[TaskRecord]:
    """Keep the scheduler busy with a crawling *blocker* task while the body runs.

    Tasks created inside stay ``waiting`` behind it, so a test can change the
    server between a task's creation and its run. On exit the server's faults
    are reset and the blocker is canceled (the scheduler then pulls the queue).
    """
    admin.faults(bandwidthBps=300)
    blocker = await service.create_export([item], target, name="blocker")
    await service.wait_listing(blocker.id)
    await until(lambda: service.is_running(blocker.id), within=10)
    try:
        yield blocker
    finally:
        admin.reset()
        assert service.is_running(blocker.id), "the blocker ended before the test let it go"
        await service.cancel(blocker.id)


def all_paths_inside(root: Path, rows: Iterable[FileRecord]) -> None:
    base = root.resolve()
    for row in rows:
        resolved = (root / row.local_path).resolve()
        assert os.path.commonpath([base, resolved]) == str(base), row.local_path


@contextmanager
def identity_store(
    service: ExportService, server_url: str, user_id: str, user_type: str
) -> Iterator[ExportStore]:
    """Open an identity's database the way the app does (e.g. one the service left)."""
    store = open_identity_db(server_url, user_id, user_type, paths=service.paths)
    try:
        yield store
    finally:
        store.close()


async def remote_total(base_url: str, projects: Iterable[str]) -> int:
    """Bytes of every file of these projects, straight from the server."""
    total = 0
    for pid in projects:
        total += sum(e.size for e in (await remote_files(base_url, pid)).values())
    return total


def check_final_paths(store: ExportStore, task: TaskRecord, *, ignore: Iterable[str] = ()) -> int:
    """Every file at a final path (outside staging) is complete: it is some row's
    pinned bytes. Returns how many there are.

    A file finished in the instant a stop came may be on disk while its row is
    not yet *succeeded* (the next run finds it up to date); what must never be
    there is a partial or wrong file under a final name.
    """
    target = Path(task.target_dir)
    rows = {r.local_path: r for r in store.iter_files(task.id)}
    skip = set(ignore)
    count = 0
    for path in target.rglob("*"):
        rel = path.relative_to(target).as_posix()
        if not path.is_file() or rel.startswith(STAGING_DIR + "/") or rel in skip:
            continue
        row = rows.get(rel)
        assert row is not None, f"{rel} is no file of task {task.id}"
        assert path.stat().st_size == row.size, rel
        assert sha256_of(path) == row.sha256, rel
        count += 1
    return count
