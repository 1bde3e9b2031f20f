"""The export volume fills up or is read-only: the task pauses with that reason, nothing
half-written is ever called succeeded, and it finishes once there is room again.

Real small file systems (tmpfs mounts): root ignores permission bits, and only
a real volume says ENOSPC / EROFS the way a full USB stick or a locked share does.
"""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from manuscript_gui.config import Settings
from manuscript_gui.core.task_manager import STAGING_DIR
from manuscript_gui.reference_server import DemoSpec, ServerHandle
from manuscript_gui.storage import FileOutcome, StopReason, TaskStatus
from tests.core.engine_helpers import (
    RunWatcher,
    ServerRequests,
    assert_completed,
    check_final_paths,
    check_on_disk,
    export_and_wait,
    files_of,
    project,
    remote_total,
    signed_in,
    store_of,
    wait_task,
)
from tests.fixtures_server import Admin

#: prj-1..3 hold 24 files of 100-400 KiB: about 5 MB for demo/auditor.
BIG_DEMO = DemoSpec(
    seed=5,
    files_per_project=8,
    min_size=100 * 1024,
    max_size=400 * 1024,
    large_project_files=0,
    wide_folder_children=0,
)
PROJECTS = ("prj-1", "prj-2", "prj-3")

Mount = Callable[[str, str], Path]


@pytest.fixture
def mount_tmpfs(tmp_path: Path) -> Iterator[Mount]:
    """``mount(name, options)`` -> a fresh tmpfs at ``tmp_path/name``; unmounted afterwards."""
    mounted: list[Path] = []

    def mount(name: str, options: str) -> Path:
        point = tmp_path / name
        point.mkdir()
        if os.geteuid() != 0:
            pytest.fail(
                "these tests mount small tmpfs volumes and must run as root "
                f"(euid {os.geteuid()}); run them in the project's root container"
            )
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            pytest.fail(f"mount -t tmpfs -o {options} at {point} failed: {done.stderr.strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in reversed(mounted):
        subprocess.run(["umount", "-l", str(point)], check=False)


def _fill(folder: Path) -> int:
    """Write a ballast file until the volume is full; returns its size."""
    written = 0
    block = b"\0" * (64 * 1024)
    full: OSError | None = None
    with open(folder / "ballast.bin", "wb", buffering=0) as f:
        for size in (len(block), 512):  # then the last few bytes too
            while True:
                try:
                    written += f.write(block[:size])
                except OSError as exc:
                    full = exc
                    break
    assert full is not None
    assert full.errno == errno.ENOSPC, full
    return written


def _exported(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and STAGING_DIR not in p.parts]


async def test_too_little_space_is_said_up_front(
    make_server: Callable[..., ServerHandle], mount_tmpfs: Mount
) -> None:
    server = make_server(demo=BIG_DEMO)
    total = await remote_total(server.base_url, PROJECTS)
    assert total > 4 * 1024 * 1024
    volume = mount_tmpfs("small", "size=2m")
    async with signed_in(server.base_url) as service:
        items = [await project(service, p) for p in PROJECTS]
        with ServerRequests(server) as requests:
            task = await export_and_wait(service, items, volume)

        assert (task.status, task.reason) == (TaskStatus.PAUSED, StopReason.DISK_FULL)
        assert task.reason_detail is not None
        assert str(total) in task.reason_detail
        assert task.reason_params is not None
        assert task.reason_params["need"] == total
        assert task.reason_params["free"] < total
        # Said before a byte was fetched: no download was even asked for.
        assert requests.content() == []
        assert task.succeeded == task.failed == 0
        assert check_on_disk(store_of(service), task) == 0
        assert _exported(volume) == []
        assert all(r.outcome is None for r in files_of(store_of(service), task.id))


async def test_volume_filling_up_mid_way_pauses_and_resumes_after_room_is_made(
    make_server: Callable[..., ServerHandle], mount_tmpfs: Mount
) -> None:
    server = make_server(demo=BIG_DEMO)
    admin = Admin(server.base_url)
    total = await remote_total(server.base_url, PROJECTS)
    volume = mount_tmpfs("roomy", "size=8m")
    async with signed_in(server.base_url, settings=Settings(concurrency=4)) as service:
        items = [await project(service, p) for p in PROJECTS]
        watcher = RunWatcher(service)
        admin.faults(bandwidthBps=400_000)
        task = await service.create_export(items, volume)
        await service.wait_listing(task.id)
        await wait_task(service, task.id, lambda t: t.succeeded >= 2)
        assert service.is_running(task.id)  # it passed the up-front check

        # Something else eats the free space while the export runs.
        ballast = await asyncio.to_thread(_fill, volume)
        assert ballast > 0
        await service.scheduler.wait_idle()
        paused = await service.task(task.id)
        assert (paused.status, paused.reason) == (TaskStatus.PAUSED, StopReason.DISK_FULL)
        assert paused.reason_detail
        store = store_of(service)
        exported = check_on_disk(store, paused)  # succeeded == complete and correct
        assert 2 <= exported < paused.total_files
        assert paused.failed == 0  # not thousands of failures: one pause
        assert check_final_paths(store, paused, ignore=["ballast.bin"]) >= exported

        # Room is made; resuming finishes it byte-exact.
        (volume / "ballast.bin").unlink()
        admin.reset()
        await service.resume(task.id)
        await service.scheduler.wait_idle()
        done = await service.task(task.id)
        assert_completed(done)
        assert (done.succeeded, done.failed, done.done_bytes) == (24, 0, total)
        assert check_on_disk(store, done) == 24
        assert all(r.outcome is FileOutcome.SUCCEEDED for r in files_of(store, task.id))
        assert len(_exported(volume)) == 24
        assert watcher.bytes_received <= 1.3 * total
        watcher.close()


async def test_read_only_export_folder_pauses_the_task(
    fresh_server: ServerHandle, mount_tmpfs: Mount
) -> None:
    volume = mount_tmpfs("locked", "size=10m,ro")
    async with signed_in(fresh_server.base_url) as service:
        item = await project(service, "prj-1")
        with ServerRequests(fresh_server) as requests:
            task = await export_and_wait(service, [item], volume)
        assert (task.status, task.reason) == (TaskStatus.PAUSED, StopReason.FOLDER_NOT_WRITABLE)
        assert task.reason_detail is not None
        assert str(volume) in task.reason_detail
        assert requests.content() == []
        assert task.succeeded == task.failed == 0
        assert os.listdir(volume) == []

        # Once the folder can be written again, resuming exports everything.
        remount = ["mount", "-o", "remount,rw", str(volume)]
        await asyncio.to_thread(subprocess.run, remount, check=True)
        await service.resume(task.id)
        await service.scheduler.wait_idle()
        done = await service.task(task.id)
        assert_completed(done)
        assert check_on_disk(store_of(service), done) == 8


async def test_a_second_export_of_files_already_there_needs_no_room(
    make_server: Callable[..., ServerHandle], mount_tmpfs: Mount
) -> None:
    """The space check counts only what is not on disk yet: exporting the same project
    again (a nightly job, another identity) into a nearly full volume is all up to date."""
    server = make_server(demo=BIG_DEMO)
    total = await remote_total(server.base_url, ("prj-2",))
    volume = mount_tmpfs("fits-once", f"size={int(total * 1.5) + 256 * 1024}")
    async with signed_in(server.base_url) as service:
        item = await project(service, "prj-2")
        first = await export_and_wait(service, [item], volume)
        assert (first.status, first.succeeded) == (TaskStatus.COMPLETED, first.total_files)
        assert shutil.disk_usage(volume).free < total  # no room for a second copy
        with ServerRequests(server) as requests:
            again = await export_and_wait(service, [item], volume)
        assert (again.status, again.succeeded, again.failed) == (
            TaskStatus.COMPLETED,
            again.total_files,
            0,
        )
        assert requests.content() == []  # every file was already up to date
