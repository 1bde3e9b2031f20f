"""A 3000-file project: complete, byte-exact, consistent counters, few events."""

from __future__ import annotations

import time
from pathlib import Path

from manuscript_gui.config import Settings
from manuscript_gui.core.events import ListingProgress, TaskChanged, TaskProgress
from manuscript_gui.reference_server import ServerHandle
from manuscript_gui.storage import FileOutcome, FileStatus
from tests.core.engine_helpers import (
    RunWatcher,
    all_paths_inside,
    assert_completed,
    check_on_disk,
    export_and_wait,
    files_of,
    project,
    remote_files,
    signed_in,
    store_of,
)


async def test_3000_file_project_exports_completely_with_coalesced_events(
    ref_server: ServerHandle, tmp_path: Path
) -> None:
    large = ref_server.facts.large_project_id
    assert large is not None
    assert large in ref_server.facts.projects_for("demo", "auditor")
    remote = await remote_files(ref_server.base_url, large)
    assert len(remote) >= 3000

    async with signed_in(ref_server.base_url, settings=Settings(concurrency=8)) as service:
        item = await project(service, large)
        watcher = RunWatcher(service)
        started = time.monotonic()
        task = await export_and_wait(service, [item], tmp_path / "out")
        elapsed = time.monotonic() - started
        watcher.close()

        assert_completed(task)
        store = store_of(service)
        rows = files_of(store, task.id)

        # Every file of the server's listing, once, at its pinned version, byte-exact.
        assert sorted(r.remote_id for r in rows) == sorted(remote)
        for row in rows:
            entry = remote[row.remote_id]
            assert (row.version, row.size, row.sha256) == (entry.version, entry.size, entry.sha256)
            assert row.status is FileStatus.COMPLETED
            assert row.outcome is FileOutcome.SUCCEEDED, (row.local_path, row.error_message)
        assert check_on_disk(store, task) == len(remote)
        all_paths_inside(tmp_path / "out", rows)
        assert len({r.local_path.casefold() for r in rows}) == len(rows)

        # The task row's counters are the file rows' and the server's figures.
        total_bytes = sum(e.size for e in remote.values())
        assert task.total_files == len(rows) == len(remote)
        assert (task.succeeded, task.failed) == (len(remote), 0)
        assert task.total_bytes == total_bytes == sum(r.size for r in rows)
        assert task.done_bytes == total_bytes
        assert task.finished_at is not None
        assert watcher.bytes_received == total_bytes

        # Nothing else landed in the export folder (no staging leftovers, no strays).
        on_disk = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
        assert len(on_disk) == len(remote)

        # Progress is coalesced: a few events per second, not one per file or chunk.
        progress = watcher.of_type(TaskProgress)
        changed = watcher.of_type(TaskChanged)
        listing = watcher.of_type(ListingProgress)
        budget = 10 * (elapsed + 1)  # progress every 0.25 s, flushes every 0.5 s
        assert 0 < len(progress) <= budget, (len(progress), elapsed)
        assert 0 < len(changed) <= budget, (len(changed), elapsed)
        assert len(listing) <= budget, (len(listing), elapsed)
        assert len(progress) + len(changed) + len(listing) < len(remote) / 10
        # The last word is the finished task, and progress never ran backwards.
        assert changed[-1].task.id == task.id
        assert changed[-1].task.succeeded == len(remote)
        done = [p.bytes_done for p in progress]
        assert done == sorted(done)
        assert {(p.bytes_total, p.files_total) for p in progress} == {(total_bytes, len(remote))}
