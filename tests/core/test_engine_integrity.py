"""Nothing lost, nothing wrong (issue #6): the engine against a real reference server.

Each test is one *kind* of fault from the issue, driven through the service
the window and the command line use:

- the disk changed behind the database (item 3);
- a local file where the export needs a folder (item 7b);
- a database an older version left inconsistent (item 1: repaired, never
  "completed" with files missing);
- optional metadata that is malformed, and needed metadata that is (item 8);
- server-wide trouble, back-pressure, answers that never change (item 4);
- a trickling server (item 5), weak validators (item 6), the bandwidth limit
  (item 9).
"""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from manuscript_gui.config import Settings
from manuscript_gui.net import Timeouts
from manuscript_gui.reference_server import DemoSpec, ServerHandle
from manuscript_gui.services.exports import ExportService, ServiceOptions
from manuscript_gui.storage import FileError, FileOutcome, StopReason, TaskStatus
from tests.core.engine_helpers import (
    RunWatcher,
    ServerRequests,
    assert_completed,
    check_on_disk,
    export_and_wait,
    files_of,
    project,
    remote_files,
    sha256_of,
    signed_in,
    store_of,
    until,
    wait_task,
)
from tests.fixtures_server import Admin

FAST = ServiceOptions(fsync=False, backoff_base=0.02)

#: Twelve papers of 40-120 KB per project: long enough to act on a running export.
MEDIUM = DemoSpec(
    seed=5,
    files_per_project=12,
    min_size=40_000,
    max_size=120_000,
    large_project_files=0,
    wide_folder_children=0,
)


@pytest.fixture
def medium(make_server: Callable[..., ServerHandle]) -> ServerHandle:
    return make_server(demo=MEDIUM)


# ----------------------------------------------------------- item 3: the disk


async def test_files_gone_from_disk_are_fetched_again_before_a_run(
    medium: ServerHandle, tmp_path: Path
) -> None:
    """Delete the export folder mid-run: the task pauses; resume and every file is there."""
    admin = Admin(medium.base_url)
    out = tmp_path / "out"
    async with signed_in(medium.base_url, settings=Settings(concurrency=2)) as service:
        item = await project(service, "prj-1")
        admin.faults(bandwidth_bps=60_000)
        task = await service.create_export([item], out)
        await service.wait_listing(task.id)
        await wait_task(service, task.id, lambda t: t.succeeded >= 3)
        shutil.rmtree(out)
        paused = await wait_task(service, task.id, lambda t: t.status is TaskStatus.PAUSED)
        assert paused.reason == StopReason.FOLDER_NOT_WRITABLE
        assert paused.succeeded >= 3  # rows that claim files which are gone now
        admin.reset()
        await service.resume(task.id)
        await service.scheduler.wait_idle()
        done = await service.task(task.id)
        assert_completed(done)
        assert check_on_disk(store_of(service), done) == done.total_files == 12


async def test_retry_failed_also_fetches_files_gone_from_disk(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    remote = await remote_files(fresh_server.base_url, "prj-1")
    gone_on_server = remote[sorted(remote)[0]]
    admin.purge(gone_on_server.id, gone_on_server.version)  # stays listed, content 404
    out = tmp_path / "out"
    async with signed_in(fresh_server.base_url) as service:
        task = await export_and_wait(service, [await project(service, "prj-1")], out)
        assert_completed(task)
        assert task.failed == 1
        store = store_of(service)
        ok = [r for r in files_of(store, task.id) if r.outcome is FileOutcome.SUCCEEDED]
        deleted, edited = ok[0], ok[1]
        (out / deleted.local_path).unlink()
        (out / edited.local_path).write_bytes(b"edited by the user")
        await service.retry_failed(task.id)
        await service.scheduler.wait_idle()
        again = await service.task(task.id)
        assert_completed(again)
        assert (again.succeeded, again.failed) == (len(remote) - 1, 1)
        assert check_on_disk(store, again) == len(remote) - 1
        rows = {r.id: r for r in files_of(store, task.id)}
        assert rows[deleted.id].local_path == deleted.local_path
        # The user's edit is kept; the paper is exported beside it.
        assert (out / edited.local_path).read_bytes() == b"edited by the user"
        assert rows[edited.id].local_path != edited.local_path
        assert sha256_of(out / rows[edited.id].local_path) == edited.sha256


async def test_a_file_where_a_folder_must_go_gives_the_folder_the_next_free_name(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    pid = admin.create_project("网站底稿")
    admin.add_file(pid, ["js"], "app.js", b"console.log(1)")
    admin.add_file(pid, ["js", "lib"], "util.js", b"export {}")
    admin.add_file(pid, [], "index.html", b"<html>")
    admin.access("demo", "auditor", pid, True)
    out = tmp_path / "out"
    # Someone's file "js" already sits where the export needs the folder "js/".
    (out / "网站底稿").mkdir(parents=True)
    (out / "网站底稿" / "js").write_bytes(b"not a folder")
    async with signed_in(fresh_server.base_url) as service:
        task = await export_and_wait(service, [await project(service, pid)], out)
        assert_completed(task)
        assert (task.succeeded, task.failed) == (3, 0)
        store = store_of(service)
        assert check_on_disk(store, task) == 3
        paths = sorted(r.local_path for r in files_of(store, task.id))
        assert paths == [
            "网站底稿/index.html",
            "网站底稿/js (2)/app.js",
            "网站底稿/js (2)/lib/util.js",
        ]
        assert (out / "网站底稿" / "js").read_bytes() == b"not a folder"


# ---------------------------------------------------- item 1: repair at start


async def test_an_inconsistent_database_is_repaired_never_completed(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    """The reported state: pause wrote the file rows, a kill came before the task row."""
    out = tmp_path / "out"
    async with signed_in(fresh_server.base_url, settings=Settings(concurrency=2)) as service:
        item = await project(service, "prj-2")
        admin.faults(bandwidth_bps=40_000)
        task = await service.create_export([item], out)
        await service.wait_listing(task.id)
        await wait_task(service, task.id, lambda t: t.succeeded >= 2)
        await service.pause(task.id)
        db_path = store_of(service).path
    admin.reset()
    raw = sqlite3.connect(db_path)
    try:
        # What the old two-transaction pause left after a kill between them.
        raw.execute("UPDATE task SET status = 'waiting', reason = NULL WHERE id = ?", (task.id,))
        raw.commit()
    finally:
        raw.close()
    async with signed_in(fresh_server.base_url) as service:
        await service.scheduler.wait_idle()
        done = await service.task(task.id)
        assert_completed(done)
        assert (done.succeeded, done.failed) == (done.total_files, 0) == (8, 0)
        assert check_on_disk(store_of(service), done) == 8


# ------------------------------------------------------- item 8: metadata


async def test_optional_metadata_never_stops_a_listing_and_bad_needed_fields_fail_one_file(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    remote = await remote_files(fresh_server.base_url, "prj-1")
    leap, garbage, no_size, no_sha = sorted(remote)[:4]
    admin.entry(leap, {"updatedAt": "2016-12-31T23:59:60Z"})
    admin.entry(garbage, {"updatedAt": "yesterday", "contentType": 7})
    admin.entry(no_size, {"size": "12"})
    admin.entry(no_sha, {"sha256": None})
    out = tmp_path / "out"
    async with signed_in(fresh_server.base_url) as service:
        task = await export_and_wait(service, [await project(service, "prj-1")], out)
        assert_completed(task)
        rows = {r.remote_id: r for r in files_of(store_of(service), task.id)}
        assert len(rows) == task.total_files == len(remote)
        failed = {k: r for k, r in rows.items() if r.outcome is FileOutcome.FAILED}
        assert set(failed) == {no_size, no_sha}
        for row in failed.values():
            assert row.error_code == FileError.BAD_LISTING
            assert row.error_message
            assert "listing" in row.error_message
            assert not (out / row.local_path).exists()
        assert "size" in failed[no_size].error_message
        assert "sha256" in failed[no_sha].error_message
        assert check_on_disk(store_of(service), task) == len(remote) - 2


# ------------------------------------------- item 4: server-wide trouble


async def test_a_server_failing_every_request_pauses_the_task_with_files_waiting(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    settings = Settings(concurrency=4, retries=3)
    async with signed_in(fresh_server.base_url, settings=settings, options=FAST) as service:
        item = await project(service, "prj-1")
        task = await service.create_export([item], out, name="t")
        await service.wait_listing(task.id)
        # (listing done; the queue starts right away: make every request fail now)
        await service.pause(task.id)
        admin.faults(error_rate=1, error_status=503, retry_after_s=None)
        with ServerRequests(fresh_server) as hits:
            await service.resume(task.id)
            await service.scheduler.wait_idle()
        paused = await service.task(task.id)
        assert paused.status is TaskStatus.PAUSED
        assert paused.reason == StopReason.SERVER_UNAVAILABLE
        assert paused.reason_detail
        assert "503" in paused.reason_detail
        assert (paused.succeeded, paused.failed) == (0, 0)  # nothing failed file by file
        # One file's back-off schedule, not every file's: at most concurrency x attempts.
        assert len(hits.content()) <= 4 * (settings.retries + 1)
        admin.reset()
        await service.resume(task.id)
        await service.scheduler.wait_idle()
        assert_completed(await service.task(task.id))


async def test_one_broken_file_fails_alone_while_the_others_succeed(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    """Server-wide errors on one file only: the breaker sees others succeed, fails it alone."""
    remote = await remote_files(fresh_server.base_url, "prj-1")
    broken = sorted(remote)[0]
    out = tmp_path / "out"
    admin.faults(error_files=[broken], error_status=500, retry_after_s=None)
    async with signed_in(fresh_server.base_url, options=FAST) as service:
        task = await export_and_wait(service, [await project(service, "prj-1")], out)
        assert_completed(task)
        rows = {r.remote_id: r for r in files_of(store_of(service), task.id)}
        assert rows[broken].outcome is FileOutcome.FAILED
        assert rows[broken].error_code == FileError.SERVER_ERROR
        assert (task.succeeded, task.failed) == (len(remote) - 1, 1)


async def test_rate_limits_are_back_pressure_not_failures(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    settings = Settings(concurrency=8, retries=1)
    async with signed_in(fresh_server.base_url, settings=settings, options=FAST) as service:
        item = await project(service, "prj-1")
        admin.faults(max_concurrent_per_token=1, bandwidth_bps=200_000, rate_limit_retry_after_s=0)
        watcher = RunWatcher(service)
        task = await export_and_wait(service, [item], out)
        watcher.close()
        assert_completed(task)
        assert (task.succeeded, task.failed) == (task.total_files, 0)
        assert check_on_disk(store_of(service), task) == task.total_files
        # The server let one download through at a time: the engine came down to it.
        assert watcher.managers
        assert min(m.concurrency_limit for m in watcher.managers) <= 2


async def test_answers_that_never_change_fail_at_once(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    """A few files answered with an encoded body or a redirect fail at once, one request each."""
    pid = admin.create_project("小项目")
    for n in range(3):  # fewer than the suspect limit: each file's verdict stands
        admin.add_file(pid, ["A"], f"{n}.pdf", b"%PDF" * (n + 1))
    admin.access("demo", "auditor", pid, True)
    out = tmp_path / "out"
    async with signed_in(fresh_server.base_url, options=FAST) as service:
        item = await project(service, pid)
        for knobs, code in (
            ({"content_encoding": "gzip"}, "encoded"),
            ({"redirect_content": "http://127.0.0.1:9/elsewhere"}, "redirect"),
        ):
            admin.reset()
            await service.scheduler.wait_idle()
            with ServerRequests(fresh_server) as hits:
                admin.faults(**knobs)
                task = await export_and_wait(service, [item], out / code)
            assert_completed(task)
            rows = files_of(store_of(service), task.id)
            assert (task.succeeded, task.failed) == (0, 3), knobs
            assert all(r.attempts == 1 for r in rows), [r.attempts for r in rows]
            assert all(code in (r.error_message or "") for r in rows), rows[0].error_message
            if code == "encoded":  # (a redirect is answered before the token is read)
                assert len(hits.content()) == len(rows)  # one request each, no retries


async def test_every_download_failing_the_same_way_pauses_the_task(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    """A proxy's login page (or a redirect, an encoded body) for every file is the
    server's doing, not the files': the task pauses with its files waiting, instead of
    every file failing one by one."""
    out = tmp_path / "out"
    async with signed_in(fresh_server.base_url, options=FAST) as service:
        item = await project(service, "prj-1")  # 8 files: the suspect limit
        for knobs, words in (
            ({"html_content": True}, "web page"),
            ({"content_encoding": "gzip"}, "encoded"),
        ):
            admin.reset()
            task = await service.create_export([item], out / words.replace(" ", "-"))
            await service.wait_listing(task.id)
            await service.pause(task.id)
            admin.faults(**knobs)
            await service.resume(task.id)
            await service.scheduler.wait_idle()
            paused = await service.task(task.id)
            assert paused.status is TaskStatus.PAUSED, paused
            assert paused.reason == StopReason.SERVER_UNAVAILABLE
            assert paused.reason_detail
            assert words in paused.reason_detail
            assert (paused.succeeded, paused.failed) == (0, 0)
            admin.reset()
            await service.resume(task.id)
            await service.scheduler.wait_idle()
            done = await service.task(task.id)
            assert_completed(done)
            assert (done.succeeded, done.failed) == (8, 0)


# --------------------------------------------- items 5, 6: trickle, weak ETags


async def test_a_trickling_server_is_dropped_and_resumed_with_range(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    options = dataclasses.replace(FAST, timeouts=Timeouts(low_speed_limit=1024, low_speed_time=1.0))
    settings = Settings(concurrency=2, retries=20)
    async with signed_in(fresh_server.base_url, settings=settings, options=options) as service:
        item = await project(service, "prj-1")
        admin.faults(trickle_interval_s=0.05)  # 20 bytes/s: far below 1 KiB/s
        watcher = RunWatcher(service)
        task = await service.create_export([item], out)
        await service.wait_listing(task.id)
        # Attempts are cut after ~1 s each and resumed; lift the trickle after a few.
        await asyncio.sleep(3.5)
        running = await service.task(task.id)
        assert running.status is TaskStatus.WAITING
        assert running.failed == 0
        admin.reset()
        await service.scheduler.wait_idle()
        watcher.close()
        done = await service.task(task.id)
        assert_completed(done)
        assert (done.succeeded, done.failed) == (done.total_files, 0)
        assert check_on_disk(store_of(service), done) == done.total_files
        # Trickled bytes were kept: nothing was fetched twice.
        assert watcher.bytes_received == done.total_bytes


async def test_weak_etags_are_accepted_and_resumes_use_range_alone(
    medium: ServerHandle, tmp_path: Path
) -> None:
    admin = Admin(medium.base_url)
    out = tmp_path / "out"
    async with signed_in(medium.base_url, settings=Settings(concurrency=2)) as service:
        item = await project(service, "prj-1")
        admin.faults(weak_etags=True, bandwidth_bps=60_000)
        watcher = RunWatcher(service)
        task = await service.create_export([item], out)
        await service.wait_listing(task.id)
        await wait_task(service, task.id, lambda t: t.succeeded >= 1, within=60)
        await asyncio.sleep(0.5)  # partials in flight
        await service.pause(task.id)
        admin.faults(bandwidth_bps=None)
        await service.resume(task.id)
        await service.scheduler.wait_idle()
        watcher.close()
        done = await service.task(task.id)
        assert_completed(done)
        assert (done.succeeded, done.failed) == (done.total_files, 0)
        assert check_on_disk(store_of(service), done) == done.total_files
        rows = files_of(store_of(service), done.id)
        assert all(r.etag is None or not r.etag.startswith("W/") for r in rows)
        # The partials were continued, not fetched again.
        assert watcher.bytes_received == done.total_bytes


# ------------------------------------------------------- item 9: bandwidth


async def test_the_bandwidth_limit_holds_and_changes_while_running(
    make_server: Callable[..., ServerHandle], tmp_path: Path
) -> None:
    handle = make_server(
        demo=DemoSpec(
            seed=3,
            files_per_project=30,
            min_size=64 * 1024,
            max_size=256 * 1024,
            large_project_files=0,
            wide_folder_children=0,
        )
    )
    out = tmp_path / "out"
    settings = Settings(concurrency=8, bandwidth_limit_bps=300_000)
    async with signed_in(handle.base_url, settings=settings, options=FAST) as service:
        item = await project(service, "prj-1")
        watcher = RunWatcher(service)
        task = await service.create_export([item], out)
        await service.wait_listing(task.id)
        await until_running(service, task.id)

        async def rate_over(seconds: float) -> float:
            start_bytes, start = watcher.bytes_received, time.monotonic()
            await asyncio.sleep(seconds)
            return (watcher.bytes_received - start_bytes) / (time.monotonic() - start)

        await asyncio.sleep(0.5)  # settle
        first = await rate_over(3.0)
        service.set_bandwidth_limit(150_000)
        await asyncio.sleep(0.5)
        second = await rate_over(3.0)
        service.set_bandwidth_limit(None)
        await service.scheduler.wait_idle()
        watcher.close()
        assert_completed(await service.task(task.id))
        assert abs(first - 300_000) <= 0.15 * 300_000, first
        assert abs(second - 150_000) <= 0.15 * 150_000, second


async def until_running(service: ExportService, task_id: int) -> None:
    await until(lambda: service.is_running(task_id))
