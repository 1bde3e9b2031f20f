"""User actions on tasks: pause, resume, cancel, retry failed, move, delete, failure report."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest

from manuscript_gui.core.events import TaskRemoved
from manuscript_gui.core.task_manager import STAGING_DIR, staging_dir
from manuscript_gui.reference_server import ServerHandle
from manuscript_gui.services.exports import ActionError
from manuscript_gui.storage import FileError, FileOutcome, FileStatus, StopReason, TaskStatus
from tests.core.engine_helpers import (
    RunWatcher,
    assert_completed,
    check_final_paths,
    check_on_disk,
    export_and_wait,
    files_of,
    project,
    queue_held,
    remote_total,
    sha256_of,
    signed_in,
    staged_bytes,
    store_of,
    wait_task,
)
from tests.fixtures_server import Admin

SLOW = 30_000  # bytes/s per response: prj-1..3 (24 files, ~330 KB) take a few seconds


def _files_on_disk(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and STAGING_DIR not in p.parts]


async def test_pause_then_resume_a_running_task(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    base = fresh_server.base_url
    projects = ("prj-1", "prj-2", "prj-3")
    total = await remote_total(base, projects)
    out = tmp_path / "out"
    async with signed_in(base) as service:
        items = [await project(service, p) for p in projects]
        watcher = RunWatcher(service)
        admin.faults(bandwidthBps=SLOW)
        task = await service.create_export(items, out)
        await service.wait_listing(task.id)
        await wait_task(service, task.id, lambda t: t.succeeded >= 2)
        assert service.is_running(task.id)

        await service.pause(task.id)
        assert not service.is_running(task.id)
        assert service.scheduler.running_task_id is None
        paused = await service.task(task.id)
        assert (paused.status, paused.reason) == (TaskStatus.PAUSED, StopReason.BY_USER)
        assert 2 <= paused.succeeded < paused.total_files == 24
        store = store_of(service)
        check_on_disk(store, paused)
        rows = files_of(store, task.id)
        assert {r.status for r in rows if r.outcome is None} == {FileStatus.PAUSED}
        assert check_final_paths(store, paused) >= paused.succeeded
        with pytest.raises(ActionError, match="paused cannot be paused"):
            await service.pause(task.id)

        admin.reset()
        await service.resume(task.id)
        await service.scheduler.wait_idle()
        done = await service.task(task.id)
        assert_completed(done)
        assert (done.succeeded, done.failed, done.done_bytes) == (24, 0, total)
        assert check_on_disk(store, done) == 24
        assert watcher.started == [task.id, task.id]
        # Files stopped half-way went on from their partial bytes.
        assert watcher.bytes_received == total
        assert staged_bytes(out, task) == 0
        watcher.close()


async def test_cancel_a_running_task_drops_partials_and_keeps_exported_files(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    async with signed_in(fresh_server.base_url) as service:
        items = [await project(service, p) for p in ("prj-1", "prj-2", "prj-3")]
        admin.faults(bandwidthBps=SLOW)
        task = await service.create_export(items, out)
        await service.wait_listing(task.id)
        await wait_task(
            service, task.id, lambda t: t.succeeded >= 2 and staged_bytes(out, task) > 0
        )
        await service.cancel(task.id)

        canceled = await service.task(task.id)
        assert (canceled.status, canceled.reason) == (TaskStatus.CANCELED, StopReason.BY_USER)
        assert canceled.finished_at is not None
        assert not service.is_running(task.id)
        # Partial data is gone (the staging root too, as no other task uses it)...
        assert not staging_dir(out, task.staging_key).exists()
        assert not (out / STAGING_DIR).exists()
        # ...files already exported stay, complete, and nothing else is there.
        store = store_of(service)
        exported = check_on_disk(store, canceled)
        assert 2 <= exported < canceled.total_files
        on_disk = check_final_paths(store, canceled)
        assert on_disk >= exported
        assert {r.status for r in files_of(store, task.id) if r.outcome is None} == {
            FileStatus.PAUSED
        }

        with pytest.raises(ActionError, match=r"(?i)canceled cannot be resumed"):
            await service.resume(task.id)
        with pytest.raises(ActionError, match="canceled cannot be canceled"):
            await service.cancel(task.id)
        await service.delete(task.id)
        assert len(_files_on_disk(out)) == on_disk


async def test_queue_order_moves_and_cancel_of_a_waiting_task(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    async with signed_in(fresh_server.base_url) as service:
        prj1, prj2, prj3 = [await project(service, p) for p in ("prj-1", "prj-2", "prj-3")]
        watcher = RunWatcher(service)
        async with queue_held(service, admin, prj2, tmp_path / "blocker") as blocker:
            first = await service.create_export([prj1], tmp_path / "t1", name="first")
            second = await service.create_export([prj3], tmp_path / "t2", name="second")
            third = await service.create_export([prj1], tmp_path / "t3", name="third")
            doomed = await service.create_export([prj3], tmp_path / "t4", name="doomed")
            for t in (first, second, third, doomed):
                await service.wait_listing(t.id)

            async def order() -> list[int]:
                return [t.id for t in await service.tasks()]

            assert await order() == [blocker.id, first.id, second.id, third.id, doomed.id]
            assert await service.move(third.id, up=True)
            assert await order() == [blocker.id, first.id, third.id, second.id, doomed.id]
            assert await service.move(first.id, up=False)
            assert await order() == [blocker.id, third.id, first.id, second.id, doomed.id]
            assert not await service.move(doomed.id, up=False)  # already last
            with pytest.raises(ActionError, match=r"(?i)running cannot be moved"):
                await service.move(blocker.id, up=False)  # running

            # Cancel a task that is only waiting: it never runs, the running one goes on.
            await service.cancel(doomed.id)
            gone = await service.task(doomed.id)
            assert (gone.status, gone.reason) == (TaskStatus.CANCELED, StopReason.BY_USER)
            assert service.is_running(blocker.id)
            assert not (tmp_path / "t4").exists()
        await service.scheduler.wait_idle()

        # The queue ran in the order the user set, and skipped the canceled task.
        assert watcher.started == [blocker.id, third.id, first.id, second.id]
        for t in (third, first, second):
            assert_completed(await service.task(t.id))
        assert (await service.task(doomed.id)).status is TaskStatus.CANCELED
        assert (await service.task(blocker.id)).status is TaskStatus.CANCELED
        watcher.close()


async def test_retry_failed_requeues_only_failures_and_the_report_lists_them(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    async with signed_in(fresh_server.base_url) as service:
        prj1, prj2, prj3 = [await project(service, p) for p in ("prj-1", "prj-2", "prj-3")]
        async with queue_held(service, admin, prj2, tmp_path / "blocker"):
            task = await service.create_export([prj1, prj3], out)
            await service.wait_listing(task.id)
            admin.delete("fil-3")
            admin.access("demo", "auditor", "prj-3", False)
        await service.scheduler.wait_idle()
        task = await service.task(task.id)
        assert_completed(task)
        assert (task.succeeded, task.failed) == (7, 9)
        store = store_of(service)
        failed = {r.id: r for r in files_of(store, task.id) if r.outcome is FileOutcome.FAILED}

        # The report: Excel-friendly UTF-8, one row per failed file, the stored facts.
        report = tmp_path / "reports" / "failures.csv"
        assert await service.failure_report(task.id, report) == 9
        assert report.read_bytes().startswith(b"\xef\xbb\xbf")
        lines = list(csv.reader(io.StringIO(report.read_text("utf-8-sig"), newline="")))
        assert lines[0] == ["path", "remote_path", "size", "version", "reason", "message"]
        by_path = {line[0]: line for line in lines[1:]}
        assert len(lines) - 1 == len(by_path) == 9
        for row in failed.values():
            line = by_path[row.local_path]
            assert line[1:5] == [row.remote_path, str(row.size), str(row.version), row.error_code]
            assert line[5] == row.error_message
            assert line[5]
        reasons = sorted(line[4] for line in lines[1:])
        assert reasons == sorted([FileError.FILE_DELETED] + [FileError.NO_PERMISSION] * 8)
        assert any("应收账款" in line[1] or "审定表" in line[1] for line in lines[1:])

        # Access comes back; the deleted file stays deleted. Retry just the failures.
        admin.access("demo", "auditor", "prj-3", True)
        succeeded_before = {
            r.id: (out / r.local_path).stat().st_mtime_ns
            for r in files_of(store, task.id)
            if r.outcome is FileOutcome.SUCCEEDED
        }
        assert await service.retry_failed(task.id) == 9
        await service.scheduler.wait_idle()
        task = await service.task(task.id)
        assert_completed(task)
        assert (task.succeeded, task.failed) == (15, 1)
        check_on_disk(store, task)
        rows = {r.id: r for r in files_of(store, task.id)}
        [still] = [r for r in rows.values() if r.outcome is FileOutcome.FAILED]
        assert still.remote_id == "fil-3"
        assert still.error_code == FileError.FILE_DELETED
        # Files that had succeeded were not touched again.
        for file_id, mtime in succeeded_before.items():
            assert (out / rows[file_id].local_path).stat().st_mtime_ns == mtime
        assert await service.failure_report(task.id, report) == 1

        # Again: the same reason, the same counts.
        assert await service.retry_failed(task.id) == 1
        await service.scheduler.wait_idle()
        again = await service.task(task.id)
        assert (again.status, again.succeeded, again.failed) == (TaskStatus.COMPLETED, 15, 1)
        assert store.get_task(task.id).failed == 1
        [row] = list(store.iter_files(task.id, outcome=FileOutcome.FAILED))
        assert row.error_code == FileError.FILE_DELETED


async def test_delete_a_completed_task_keeps_its_files(
    fresh_server: ServerHandle, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    async with signed_in(fresh_server.base_url) as service:
        watcher = RunWatcher(service)
        task = await export_and_wait(service, [await project(service, "prj-1")], out)
        assert_completed(task)
        rows = files_of(store_of(service), task.id)
        before = {r.local_path: sha256_of(out / r.local_path) for r in rows}

        await service.delete(task.id)
        assert task.id not in [t.id for t in await service.tasks()]
        with pytest.raises(ActionError, match=f"(?i)there is no task {task.id}"):
            await service.task(task.id)
        assert list(store_of(service).iter_files(task.id)) == []
        assert TaskRemoved(task.id) in watcher.events
        assert {r.local_path: sha256_of(out / r.local_path) for r in rows} == before
        assert len(_files_on_disk(out)) == len(rows) == 8
        watcher.close()


async def test_actions_the_task_state_does_not_allow_are_refused(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    async with signed_in(fresh_server.base_url) as service:
        prj1, prj2 = [await project(service, p) for p in ("prj-1", "prj-2")]
        done = await export_and_wait(service, [prj1], tmp_path / "done")
        assert_completed(done)
        assert done.failed == 0

        refused = [
            (service.pause(done.id), "not_allowed", {"action": "pause", "status": "completed"}),
            (service.resume(done.id), "not_allowed", {"action": "resume", "status": "completed"}),
            (
                service.retry_failed(done.id),
                "not_allowed",
                {"action": "retry_failed", "status": "completed"},
            ),
            (service.move(done.id, up=True), "not_allowed", {"action": "move_up"}),
            (service.cancel(done.id), "not_allowed", {"action": "cancel"}),
            (service.task(424242), "no_task", {"task": 424242}),
            (service.create_export([], tmp_path / "x"), "no_selection", {}),
            (service.create_export([prj1], Path("relative")), "relative_target", {}),
        ]
        for call, code, params in refused:
            with pytest.raises(ActionError) as caught:
                await call
            assert caught.value.code == code
            assert params.items() <= caught.value.params.items()
            assert str(caught.value)  # an English sentence for the command line
        assert await service.task(done.id) == done

        async with queue_held(service, admin, prj2, tmp_path / "blocker") as blocker:
            waiting = await service.create_export([prj1], tmp_path / "waiting")
            await service.wait_listing(waiting.id)
            waiting = await service.task(waiting.id)
            assert waiting.status is TaskStatus.WAITING
            refused_here = [
                (service.resume(waiting.id), {"action": "resume", "status": "waiting"}),
                (service.retry_failed(waiting.id), {"action": "retry_failed"}),
                (service.delete(waiting.id), {"action": "delete", "status": "waiting"}),
                (service.delete(blocker.id), {"action": "delete", "status": "running"}),
                (service.move(blocker.id, up=True), {"action": "move_up", "status": "running"}),
                (service.resume(blocker.id), {"action": "resume", "status": "running"}),
            ]
            for call_here, wanted in refused_here:
                with pytest.raises(ActionError) as caught:
                    await call_here
                assert caught.value.code == "not_allowed"
                assert wanted.items() <= caught.value.params.items()
            assert service.is_running(blocker.id)
            assert await service.task(waiting.id) == waiting


async def test_cancel_while_listing_stops_the_listing_and_nothing_runs(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    async with signed_in(fresh_server.base_url) as service:
        items = [await project(service, p) for p in ("prj-1", "prj-2", "prj-3")]
        admin.faults(latencyMs=300)  # every listing page takes a while
        task = await service.create_export(items, out)
        await asyncio.sleep(0.1)
        assert (await service.task(task.id)).status is TaskStatus.INITIALIZING
        with pytest.raises(ActionError, match="initializing cannot be paused"):
            await service.pause(task.id)
        await service.cancel(task.id)
        admin.reset()

        canceled = await service.task(task.id)
        assert (canceled.status, canceled.reason) == (TaskStatus.CANCELED, StopReason.BY_USER)
        await service.wait_listing(task.id)
        await service.scheduler.wait_idle()
        await asyncio.sleep(0.3)  # a listing that went on would have finished by now
        assert (await service.task(task.id)).status is TaskStatus.CANCELED
        assert not out.exists() or _files_on_disk(out) == []
        await service.delete(task.id)
        assert await service.tasks() == []
