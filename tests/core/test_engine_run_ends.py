"""A run always ends: every worker gets its end marker, however fast files finish.

Regression: the producer used to hand out its end-of-queue markers only while
the queue was full, so when workers drained it faster than it refilled (small
files, files already up to date) some markers were never sent and the run hung
forever after the last file, the task shown "running" at 100 %.

Real SQLite and real files; the network is a stand-in whose downloads finish
at once, the fastest a worker can empty the queue.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO, cast

import pytest

from manuscript_gui.core.async_store import AsyncStore
from manuscript_gui.core.events import EventBus
from manuscript_gui.core.task_manager import RunOptions, TaskManager
from manuscript_gui.net import ApiClient, DownloadResult, DownloadStart
from manuscript_gui.storage import ExportStore, FileOutcome, FileStatus, NewFile


class InstantServer:
    """Answers every download at once with the file's bytes."""

    def __init__(self, blobs: dict[str, bytes]) -> None:
        self.blobs = blobs
        self.requests = 0

    def fork(self) -> InstantServer:
        return self

    async def aclose(self) -> None:
        pass

    async def download_to(
        self,
        file_id: str,
        version: int,
        dest: BinaryIO,
        *,
        expected_size: int,
        expected_sha256: str,
        etag: str | None = None,
        content_type: str | None = None,
        progress: Callable[[int], None] | None = None,
        on_start: Callable[[DownloadStart], None] | None = None,
        chunk_size: int | None = None,
        limiter: object = None,
    ) -> DownloadResult:
        self.requests += 1
        data = self.blobs[file_id]
        if on_start is not None:
            on_start(DownloadStart(status=200, offset=0, etag=f'"{file_id}"'))
        # A few bytes through the engine's locked handle; no await is the point.
        dest.seek(0)
        dest.truncate()
        dest.write(data)
        if progress is not None:
            progress(len(data))
        digest = hashlib.sha256(data).hexdigest()
        return DownloadResult(len(data), digest, f'"{file_id}"', 200, 0, len(data))


@pytest.mark.parametrize(("files", "concurrency"), [(499, 2), (1000, 8), (777, 16)])
async def test_run_ends_when_workers_drain_the_queue_faster_than_it_fills(
    tmp_path: Path, files: int, concurrency: int
) -> None:
    blobs = {f"f{n}": f"file {n}".encode() for n in range(files)}
    store = ExportStore.open(tmp_path / "db.sqlite")
    db = AsyncStore(store)
    try:
        task = store.create_task("t", str(tmp_path / "out"), {"items": []})
        store.insert_files(
            task.id,
            (
                NewFile(
                    remote_id=fid,
                    project_id="p",
                    remote_path=f"/p/{fid}",
                    local_path=f"p/{fid}.txt",
                    version=1,
                    size=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                )
                for fid, data in blobs.items()
            ),
        )
        task = store.recompute_task_counts(task.id)
        server = InstantServer(blobs)
        # The first run downloads everything; the next ones find every file
        # already up to date, the fastest possible drain. The race is about
        # scheduling order, so give it a few chances.
        for _ in range(3):
            manager = TaskManager(
                db,
                cast("ApiClient", server),
                task,
                EventBus(),
                RunOptions(concurrency=concurrency, fsync=False),
            )
            result = await asyncio.wait_for(manager.run(), 10)
            assert result.completed
            # What the scheduler does with the run's last results.
            store.update_files(task.id, result.files)
            rows = list(store.iter_files(task.id))
            assert all(r.outcome is FileOutcome.SUCCEEDED for r in rows)
            assert store.get_task(task.id).succeeded == files
            again = [replace(r, status=FileStatus.WAITING, outcome=None) for r in rows]
            task = store.update_files(task.id, again)
        assert server.requests == files
    finally:
        await db.close()
