"""One queue owner per identity, for the window too (issue #7, item 6).

A window's service (``autostart``) takes the identity's queue lock before its
queue runs. Against the real reference server and real lock files: a second
window on the same identity runs nothing, learns who holds the queue (an
event and :attr:`ExportService.queue_owner`), refuses task actions with
``queue_in_use``, and takes the queue over once the holder lets go, whether
it signed out or was killed; the owner record names the task that runs.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from manuscript_gui.config import Settings, app_paths
from manuscript_gui.core.events import Event, QueueHolder, TaskChanged
from manuscript_gui.domain import QueueOwner, TaskRecord, TaskStatus
from manuscript_gui.reference_server import DemoSpec, ServerHandle
from manuscript_gui.services.exports import ActionError, ExportService, ServiceOptions
from manuscript_gui.services.queue_lock import FrontEnd, QueueLock
from tests.core.engine_helpers import project, signed_in, until, wait_task
from tests.fixtures_server import Admin
from tests.services.test_queue_lock import ROOT, _env

SMALL = DemoSpec(
    seed=5,
    files_per_project=10,
    min_size=30_000,
    max_size=60_000,
    large_project_files=0,
    wide_folder_children=0,
)
WINDOW = ServiceOptions(fsync=False, lock_poll_s=0.05)


@pytest.fixture
def small(make_server: Callable[..., ServerHandle]) -> ServerHandle:
    return make_server(demo=SMALL)


def _heard(service: ExportService) -> list[QueueHolder]:
    heard: list[QueueHolder] = []

    def listen(event: Event) -> None:
        if isinstance(event, QueueHolder):
            heard.append(event)

    service.events.subscribe(listen)
    return heard


async def test_a_second_window_waits_refuses_actions_and_takes_over_after_sign_out(
    small: ServerHandle, tmp_path: Path
) -> None:
    admin = Admin(small.base_url)
    admin.faults(bandwidth_bps=40_000)
    async with signed_in(small.base_url, options=WINDOW) as first:
        item = await project(first, "prj-1")
        task = await first.create_export([item], tmp_path / "out")
        await first.wait_listing(task.id)
        await wait_task(first, task.id, lambda t: t.succeeded >= 1)
        assert first.queue_owner is None

        # The owner record names this process, as a window, and the task it runs.
        probe = QueueLock(first.session.database_path() or Path(), FrontEnd.CLI)
        assert probe.owner() == QueueOwner(os.getpid(), task.id, FrontEnd.WINDOW.value)

        second = ExportService(Settings(concurrency=2), paths=app_paths(), options=WINDOW)
        heard = _heard(second)
        await second.login(small.base_url, "demo", "demo")
        try:
            assert second.queue_owner == QueueOwner(os.getpid(), task.id, "window")
            assert heard == [QueueHolder(second.queue_owner)]
            assert second.scheduler.running_task_id is None
            for act in (second.pause, second.cancel, second.resume, second.delete):
                with pytest.raises(ActionError) as caught:
                    await act(task.id)
                assert caught.value.code == "queue_in_use"
                assert caught.value.params == {"front_end": "window", "pid": os.getpid()}
            with pytest.raises(ActionError, match="exporting in another window"):
                await second.create_export([item], tmp_path / "other")
            with pytest.raises(ActionError) as caught:
                await second.start_queue()
            assert caught.value.code == "queue_in_use"
            # Reads still work: the second window shows the queue it waits for.
            assert [t.id for t in await second.tasks()] == [task.id]

            # While it waits, the second window follows the first one's changes.
            changed: list[TaskRecord] = []
            second.events.subscribe(
                lambda e: changed.append(e.task) if isinstance(e, TaskChanged) else None
            )
            await first.pause(task.id)
            await until(lambda: any(t.status is TaskStatus.PAUSED for t in changed))
            assert second.queue_owner is not None
            await first.logout()
            # The first window let go: the second takes the queue and runs it.
            await until(lambda: second.queue_owner is None)
            assert heard[-1] == QueueHolder(None)
            admin.reset()
            await second.resume(task.id)
            done = await wait_task(second, task.id, lambda t: t.status is TaskStatus.COMPLETED)
            assert done.succeeded == done.total_files == 10
            assert probe.owner() == QueueOwner(os.getpid(), None, "window")
        finally:
            await second.close()
        # Signed out: nobody holds the queue any more.
        assert probe.owner() is None


HOLD = """
import sys, time
from pathlib import Path
from manuscript_gui.services.queue_lock import QueueLock
lock = QueueLock(Path(sys.argv[1]), "cli")
assert lock.try_acquire()
lock.publish(42)
print("held", flush=True)
time.sleep(600)
"""


async def test_a_window_waits_for_a_command_line_and_runs_when_it_is_killed(
    small: ServerHandle, tmp_path: Path
) -> None:
    # Find the identity's database: sign in once without a queue, then sign out.
    async with signed_in(small.base_url, options=ServiceOptions(autostart=False)) as probe:
        db = probe.session.database_path()
        assert db is not None
        item = await project(probe, "prj-1")
        waiting = await probe.create_export([item], tmp_path / "out")
        await probe.wait_listing(waiting.id)

    holder = await asyncio.to_thread(
        subprocess.Popen,
        [sys.executable, "-c", HOLD, str(db)],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
        cwd=ROOT,
    )
    try:
        assert holder.stdout is not None
        assert (await asyncio.to_thread(holder.stdout.readline)).strip() == "held"
        async with signed_in(small.base_url, options=WINDOW) as window:
            assert window.queue_owner == QueueOwner(holder.pid, 42, "cli")
            await asyncio.sleep(0.3)  # several polls: still waiting, nothing ran
            assert (await window.task(waiting.id)).status is TaskStatus.WAITING
            assert (await window.task(waiting.id)).succeeded == 0

            holder.kill()  # kill -9: the OS drops the lock, nothing stale is left
            await asyncio.to_thread(holder.wait, 60)
            done = await wait_task(
                window, waiting.id, lambda t: t.status is TaskStatus.COMPLETED, within=60
            )
            assert done.succeeded == done.total_files
            assert window.queue_owner is None
    finally:
        if holder.poll() is None:
            holder.kill()
        await asyncio.to_thread(holder.wait, 60)
        if holder.stdout is not None:
            holder.stdout.close()


async def test_a_failing_read_while_waiting_never_stops_the_take_over(
    small: ServerHandle, tmp_path: Path
) -> None:
    async with signed_in(small.base_url, options=WINDOW) as first:
        second = ExportService(Settings(concurrency=2), paths=app_paths(), options=WINDOW)
        calls = 0

        async def broken(*args: object) -> dict[int, TaskRecord]:
            nonlocal calls
            calls += 1
            raise OSError("disk I/O error")

        second._announce_changes = broken  # type: ignore[method-assign]
        await second.login(small.base_url, "demo", "demo")
        try:
            assert second.queue_owner is not None
            await until(lambda: calls >= 2)
            await first.logout()
            await until(lambda: second.queue_owner is None)
            item = await project(second, "prj-1")
            task = await second.create_export([item], tmp_path / "out")
            done = await wait_task(second, task.id, lambda t: t.status is TaskStatus.COMPLETED)
            assert done.succeeded == done.total_files
        finally:
            await second.close()
