"""Versions are pinned at task creation; server changes before the run are reported per file."""

from __future__ import annotations

from pathlib import Path

from manuscript_gui.reference_server import ServerHandle
from manuscript_gui.storage import FileError, FileOutcome, TaskStatus
from tests.core.engine_helpers import (
    assert_completed,
    check_on_disk,
    files_of,
    project,
    queue_held,
    remote_files,
    sha256_of,
    signed_in,
    staged_bytes,
    store_of,
)
from tests.fixtures_server import Admin


async def test_server_changes_after_creation_export_the_pinned_bytes_or_fail_per_file(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    async with signed_in(fresh_server.base_url) as service:
        prj1, prj2, prj3 = [await project(service, p) for p in ("prj-1", "prj-2", "prj-3")]
        async with queue_held(service, admin, prj2, tmp_path / "blocker"):
            task = await service.create_export([prj1, prj3], out)
            await service.wait_listing(task.id)
            task = await service.task(task.id)
            assert task.status is TaskStatus.WAITING
            assert not service.is_running(task.id)
            rows = {r.remote_id: r for r in files_of(store_of(service), task.id)}
            assert len(rows) == task.total_files == 16

            # The server changes while the task waits in the queue.
            republished, purged, deleted = "fil-3", "fil-4", "fil-6"
            new = admin.new_version(republished, b"new")
            assert new["version"] == rows[republished].version + 1
            admin.purge(purged, rows[purged].version)
            admin.delete(deleted)
            admin.access("demo", "auditor", "prj-3", False)
        # The blocker is canceled; the scheduler pulls the queue and runs the task.
        await service.scheduler.wait_idle()
        task = await service.task(task.id)

        assert_completed(task)
        store = store_of(service)
        check_on_disk(store, task)
        after = {r.remote_id: r for r in files_of(store, task.id)}
        prj3_ids = {r.remote_id for r in after.values() if r.project_id == "prj-3"}
        assert len(prj3_ids) == 8

        # The re-published file: the pinned (old) bytes, not the new version.
        row = after[republished]
        assert row.outcome is FileOutcome.SUCCEEDED
        assert (row.version, row.sha256) == (rows[republished].version, rows[republished].sha256)
        on_disk = out / row.local_path
        assert sha256_of(on_disk) == rows[republished].sha256 != new["sha256"]
        assert on_disk.read_bytes() != b"new"

        expected = {purged: FileError.VERSION_GONE, deleted: FileError.FILE_DELETED}
        expected |= dict.fromkeys(prj3_ids, FileError.NO_PERMISSION)
        for remote_id, row in after.items():
            if remote_id in expected:
                assert row.outcome is FileOutcome.FAILED, row.local_path
                assert row.error_code == expected[remote_id], (row.local_path, row.error_code)
                assert row.error_message, row.local_path
                assert not (out / row.local_path).exists(), row.local_path
            else:
                assert row.outcome is FileOutcome.SUCCEEDED, (row.local_path, row.error_message)
        assert (task.succeeded, task.failed) == (16 - len(expected), len(expected))
        assert task.done_bytes == sum(
            r.size for r in after.values() if r.outcome is FileOutcome.SUCCEEDED
        )
        assert staged_bytes(out, task) == 0

        # The server still has the new version; nothing here asked for it.
        current = await remote_files(fresh_server.base_url, "prj-1")
        assert current[republished].version == new["version"]
