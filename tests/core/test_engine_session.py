"""The session ends under a running task: login expired, logout, switch of identity."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from manuscript_gui.core.events import SchedulerState
from manuscript_gui.reference_server import ServerHandle
from manuscript_gui.services.exports import ActionError
from manuscript_gui.storage import FileStatus, StopReason, TaskStatus
from tests.core.engine_helpers import (
    RunWatcher,
    ServerRequests,
    assert_completed,
    check_final_paths,
    check_on_disk,
    files_of,
    identity_store,
    project,
    remote_total,
    signed_in,
    until,
    wait_task,
)
from tests.fixtures_server import Admin

#: Per response: the 24 files of prj-1..3 (~330 KB) take a few seconds at 4 in flight.
SLOW = 30_000


async def test_revoked_token_pauses_the_task_signs_out_and_sends_nothing_more(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    base = fresh_server.base_url
    projects = ("prj-1", "prj-2", "prj-3")
    total = await remote_total(base, projects)
    async with signed_in(base) as service:
        ctx = service.user
        assert ctx is not None
        items = [await project(service, p) for p in projects]
        admin.faults(bandwidthBps=SLOW)
        watcher = RunWatcher(service)
        task = await service.create_export(items, tmp_path / "out")
        await service.wait_listing(task.id)
        await wait_task(service, task.id, lambda t: t.succeeded >= 3)
        assert service.is_running(task.id)

        with ServerRequests(fresh_server) as requests:
            assert admin.revoke("demo") >= 1
            revoked_at = time.monotonic()
            await until(lambda: service.user is None, within=10)
            await service.scheduler.wait_idle()
            settled = requests.count()
            await asyncio.sleep(0.5)
            # Nothing at all reached the server once the task had stopped, and
            # before that only the few requests that learnt of the 401 (at most
            # one per file in flight): none after the revocation was served.
            assert requests.count() == settled
            late = [h for h in requests.hits if h.at > revoked_at]
            assert 1 <= len(late) <= service.settings.concurrency
            assert not any(h.ok for h in late)

        assert service.user is None
        assert service.login_expired_count == 1
        # The dead session is closed: no connection or database is left behind.
        await until(lambda: ctx.closed, within=5)
        assert ctx.client._http.is_closed
        assert ctx.db.store.closed
        with pytest.raises(ActionError, match=r"(?i)not signed in"):
            await service.resume(task.id)
        assert service.scheduler.running_task_id is None
        states = watcher.of_type(SchedulerState)
        assert states[-1] == SchedulerState(None, False)
        with identity_store(service, base, ctx.user_id, ctx.user_type) as store:
            paused = store.get_task(task.id)
            assert paused.status is TaskStatus.PAUSED
            assert paused.reason == StopReason.LOGIN_EXPIRED
            assert 3 <= paused.succeeded < paused.total_files == 24
            check_on_disk(store, paused)
            check_final_paths(store, paused)
            open_rows = [r for r in files_of(store, task.id) if r.outcome is None]
            assert open_rows
            assert all(r.status is FileStatus.PAUSED for r in open_rows)

        # Signing in again does not restart it on its own; resuming finishes it.
        admin.reset()
        await service.login(base, "demo", "demo")
        await service.scheduler.wait_idle()
        assert (await service.task(task.id)).status is TaskStatus.PAUSED
        await service.resume(task.id)
        await service.scheduler.wait_idle()
        done = await service.task(task.id)
        assert_completed(done)
        assert (done.succeeded, done.failed) == (24, 0)
        assert service.user is not None
        check_on_disk(service.user.db.store, done)
        # Partial files were continued after the new login, not fetched again.
        assert watcher.bytes_received == total
        watcher.close()


async def test_revoked_token_while_listing_pauses_the_task_until_resumed(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    base = fresh_server.base_url
    async with signed_in(base) as service:
        ctx = service.user
        assert ctx is not None
        items = [await project(service, p) for p in ("prj-1", "prj-2", "prj-3")]
        admin.faults(latencyMs=200)
        task = await service.create_export(items, tmp_path / "out")
        await asyncio.sleep(0.1)
        assert admin.revoke("demo") >= 1
        await service.wait_listing(task.id)
        await until(lambda: ctx.closed, within=10)
        assert service.user is None
        assert service.login_expired_count == 1
        assert ctx.client._http.is_closed
        with identity_store(service, base, ctx.user_id, ctx.user_type) as store:
            paused = store.get_task(task.id)
            assert (paused.status, paused.reason) == (TaskStatus.PAUSED, StopReason.LOGIN_EXPIRED)
            assert not paused.listed

        admin.reset()
        await service.login(base, "demo", "demo")
        await service.resume(task.id)  # lists again from scratch, then runs
        await service.wait_listing(task.id)
        await service.scheduler.wait_idle()
        done = await service.task(task.id)
        assert_completed(done)
        assert service.user is not None
        assert check_on_disk(service.user.db.store, done) == done.total_files == 24
        ids = [r.remote_id for r in files_of(service.user.db.store, task.id)]
        assert len(set(ids)) == len(ids)


async def test_logout_pauses_the_task_and_closes_the_session(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    base = fresh_server.base_url
    async with signed_in(base) as service:
        ctx = service.user
        assert ctx is not None
        items = [await project(service, p) for p in ("prj-1", "prj-2", "prj-3")]
        admin.faults(bandwidthBps=SLOW)
        task = await service.create_export(items, tmp_path / "out")
        await service.wait_listing(task.id)
        await wait_task(service, task.id, lambda t: t.succeeded >= 2)

        with ServerRequests(fresh_server) as requests:
            await service.logout()
            after_logout = requests.count()
            # The session's last word to the server is the logout itself...
            assert requests.hits[-1].path == "/api/v1/auth/logout"
            await asyncio.sleep(0.5)
            # ...and nothing follows it.
            assert requests.count() == after_logout

        assert service.user is None
        assert service.scheduler.running_task_id is None
        assert ctx.closed
        assert ctx.client._http.is_closed
        assert ctx.db.store.closed
        with identity_store(service, base, ctx.user_id, ctx.user_type) as store:
            paused = store.get_task(task.id)
            assert paused.status is TaskStatus.PAUSED
            assert paused.reason == StopReason.LOGGED_OUT
            assert paused.succeeded < paused.total_files
            check_on_disk(store, paused)
            check_final_paths(store, paused)
            open_rows = [r for r in files_of(store, task.id) if r.outcome is None]
            assert open_rows
            assert all(r.status is FileStatus.PAUSED for r in open_rows)

        admin.reset()
        await service.login(base, "demo", "demo")
        await service.resume(task.id)
        await service.scheduler.wait_idle()
        done = await service.task(task.id)
        assert_completed(done)
        assert service.user is not None
        assert check_on_disk(service.user.db.store, done) == 24


async def test_switching_identity_pauses_the_old_task_and_runs_the_new_queue(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    base = fresh_server.base_url
    async with signed_in(base, "demo", "manager") as service:
        manager = service.user
        assert manager is not None
        assert manager.user_type == "manager"
        admin.faults(bandwidthBps=300)
        first = await service.create_export([await project(service, "prj-4")], tmp_path / "m1")
        await service.wait_listing(first.id)
        await until(lambda: service.is_running(first.id))
        queued = await service.create_export([await project(service, "prj-5")], tmp_path / "m2")
        await service.wait_listing(queued.id)
        assert (await service.task(queued.id)).status is TaskStatus.WAITING

        # The manager steps away; demo signs in as auditor and starts a task.
        auditor = await service.login(base, "demo", "demo", "auditor")
        assert auditor.user_type == "auditor"
        assert manager.closed
        mine = await service.create_export([await project(service, "prj-1")], tmp_path / "a")
        await service.wait_listing(mine.id)
        await until(lambda: service.is_running(mine.id))
        await wait_task(service, mine.id, lambda t: t.succeeded >= 1)
        auditor_token = auditor.client.token
        assert auditor_token is not None

        # Back to the manager identity while the auditor's task runs.
        admin.reset()
        with ServerRequests(fresh_server) as requests:
            back = await service.login(base, "demo", "demo", "manager")
            switched = requests.count()
            await service.scheduler.wait_idle()
            # The auditor's session said goodbye and then fell silent.
            used = [h.path for h in requests.hits if h.token == auditor_token]
            assert used[-1:] == ["/api/v1/auth/logout"]
            assert all(h.token != auditor_token for h in requests.hits[switched:])
        assert auditor.closed
        assert auditor.client._http.is_closed
        assert service.user is back
        assert back.user_type == "manager"

        # The manager's queue ran: the waiting task completed, the stopped one stays paused.
        done = await service.task(queued.id)
        assert_completed(done)
        assert done.succeeded == done.total_files == 8
        check_on_disk(back.db.store, done)
        stopped = await service.task(first.id)
        assert (stopped.status, stopped.reason) == (TaskStatus.PAUSED, StopReason.SWITCHED_USER)
        assert {t.id for t in await service.tasks()} == {first.id, queued.id}

        # The auditor's task is paused *in the auditor's own database*.
        with identity_store(service, base, auditor.user_id, "auditor") as store:
            theirs = store.get_task(mine.id)
            assert (theirs.status, theirs.reason) == (TaskStatus.PAUSED, StopReason.SWITCHED_USER)
            assert 1 <= theirs.succeeded < theirs.total_files
            check_on_disk(store, theirs)
            check_final_paths(store, theirs)
            assert [t.name for t in store.list_tasks()] == [mine.name]
