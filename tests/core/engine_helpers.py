"""Helpers for engine tests: a signed-in service, and checks of what landed on disk."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from manuscript_gui.config import Settings, app_paths
from manuscript_gui.core.creation import SelectionItem
from manuscript_gui.net import ApiClient, FileEntry, FolderEntry
from manuscript_gui.services.exports import ExportService, ServiceOptions
from manuscript_gui.storage import ExportStore, FileOutcome, TaskRecord, TaskStatus


@asynccontextmanager
async def signed_in(
    base_url: str,
    user: str = "demo",
    user_type: str | None = None,
    *,
    settings: Settings | None = None,
) -> AsyncIterator[ExportService]:
    service = ExportService(
        settings or Settings(concurrency=4, retries=3),
        paths=app_paths(),
        options=ServiceOptions(fsync=False),
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
