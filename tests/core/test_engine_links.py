"""Links, planted files and repeated exports in the export folder (issue #6, review findings).

The export folder is shared ground (a NAS, another identity, a colleague), so
the engine never trusts what it finds there: it never writes through a link,
never counts a file behind a link as exported, never makes a new copy of a file
its own earlier export already holds, and creates files that colleagues can
read.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from manuscript_gui.config import Settings
from manuscript_gui.core.task_manager import STAGING_DIR, staging_dir
from manuscript_gui.reference_server import DemoSpec, ServerHandle
from manuscript_gui.storage import FileOutcome, StopReason, TaskStatus
from tests.core.engine_helpers import (
    assert_completed,
    check_on_disk,
    export_and_wait,
    files_of,
    project,
    signed_in,
    store_of,
    wait_task,
)
from tests.fixtures_server import Admin

MEDIUM = DemoSpec(
    seed=9,
    files_per_project=12,
    min_size=40_000,
    max_size=120_000,
    large_project_files=0,
    wide_folder_children=0,
)


@pytest.fixture
def medium(make_server: Callable[..., ServerHandle]) -> ServerHandle:
    return make_server(demo=MEDIUM)


def _through_link(root: Path, rel: str) -> bool:
    """Whether any folder on *rel* (below *root*) is a link."""
    parts = rel.split("/")
    return any(
        stat.S_ISLNK(os.lstat(root.joinpath(*parts[:i])).st_mode) for i in range(1, len(parts))
    )


async def _paused_midway(service, admin: Admin, item, out: Path):  # type: ignore[no-untyped-def]
    admin.faults(bandwidth_bps=60_000)
    task = await service.create_export([item], out)
    await service.wait_listing(task.id)
    await wait_task(service, task.id, lambda t: t.succeeded >= 3)
    await service.pause(task.id)
    admin.reset()
    return await service.task(task.id)


async def test_files_behind_a_link_are_not_counted_and_are_fetched_again(
    medium: ServerHandle, tmp_path: Path
) -> None:
    """The user moves the half-exported project folder to another disk and leaves a
    link: the export does not follow it; nothing claims a file it cannot vouch for."""
    admin = Admin(medium.base_url)
    out = tmp_path / "out"
    async with signed_in(medium.base_url, settings=Settings(concurrency=2)) as service:
        item = await project(service, "prj-2")
        paused = await _paused_midway(service, admin, item, out)
        elsewhere = tmp_path / "other-disk" / item.project_name
        elsewhere.parent.mkdir()
        shutil.move(out / item.project_name, elsewhere)
        os.symlink(elsewhere, out / item.project_name)
        await service.resume(paused.id)
        await service.scheduler.wait_idle()
        done = await service.task(paused.id)
        assert_completed(done)
        assert (done.succeeded, done.failed) == (12, 0)
        rows = files_of(store_of(service), done.id)
        for row in rows:
            assert not _through_link(out, row.local_path), row.local_path
        assert check_on_disk(store_of(service), done) == 12
        # What the user moved away is left alone.
        assert any(elsewhere.rglob("*.*"))


async def test_links_planted_in_the_staging_folder_are_never_written_through(
    medium: ServerHandle, tmp_path: Path
) -> None:
    admin = Admin(medium.base_url)
    out = tmp_path / "out"
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"precious")
    async with signed_in(medium.base_url, settings=Settings(concurrency=2)) as service:
        item = await project(service, "prj-3")
        paused = await _paused_midway(service, admin, item, out)
        staging = staging_dir(out, paused.staging_key)
        waiting = [r for r in files_of(store_of(service), paused.id) if r.outcome is None]
        for row in waiting:
            part = staging / f"{row.id}.part"
            part.unlink(missing_ok=True)
            os.symlink(victim, part)
        await service.resume(paused.id)
        await service.scheduler.wait_idle()
        done = await service.task(paused.id)
        assert_completed(done)
        assert victim.read_bytes() == b"precious"
        assert check_on_disk(store_of(service), done) == 12
        for row in files_of(store_of(service), done.id):
            assert stat.S_ISREG(os.lstat(out / row.local_path).st_mode), row.local_path


async def test_a_staging_root_that_is_a_link_pauses_the_task_and_touches_nothing(
    fresh_server: ServerHandle, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    trap = tmp_path / "trap"
    trap.mkdir()
    os.symlink(trap, out / STAGING_DIR)  # someone with write access prepared this
    async with signed_in(fresh_server.base_url) as service:
        task = await export_and_wait(service, [await project(service, "prj-1")], out)
        assert (task.status, task.reason) == (TaskStatus.PAUSED, StopReason.FOLDER_NOT_WRITABLE)
        assert task.reason_detail
        assert "link" in task.reason_detail
        assert list(trap.iterdir()) == []


async def test_exporting_again_reuses_its_own_renamed_files_and_folders(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    """A nightly re-export into one folder: a name taken by someone else's file gives
    ``(2)`` once, and the next exports find their ``(2)`` up to date, never ``(3)``."""
    pid = admin.create_project("夜间导出")
    admin.add_file(pid, [], "a.txt", b"paper a")
    admin.add_file(pid, ["js"], "app.js", b"paper js")
    admin.access("demo", "auditor", pid, True)
    out = tmp_path / "out"
    (out / "夜间导出").mkdir(parents=True)
    (out / "夜间导出" / "a.txt").write_bytes(b"the user's own a.txt")
    (out / "夜间导出" / "js").write_bytes(b"the user's own file js")
    async with signed_in(fresh_server.base_url) as service:
        item = await project(service, pid)
        for night in range(3):
            task = await export_and_wait(service, [item], out)
            assert_completed(task)
            assert (task.succeeded, task.failed) == (2, 0), night
            paths = sorted(r.local_path for r in files_of(store_of(service), task.id))
            assert paths == ["夜间导出/a (2).txt", "夜间导出/js (2)/app.js"], night
        on_disk = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
        assert on_disk == [
            "夜间导出/a (2).txt",
            "夜间导出/a.txt",
            "夜间导出/js",
            "夜间导出/js (2)/app.js",
        ]


async def test_exported_files_follow_the_umask(fresh_server: ServerHandle, tmp_path: Path) -> None:
    """Papers on a shared folder must stay readable to colleagues (not 0600)."""
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        async with signed_in(fresh_server.base_url) as service:
            task = await export_and_wait(service, [await project(service, "prj-1")], out)
            assert_completed(task)
            for row in files_of(store_of(service), task.id):
                assert row.outcome is FileOutcome.SUCCEEDED
                mode = stat.S_IMODE(os.lstat(out / row.local_path).st_mode)
                assert mode == 0o644, (row.local_path, oct(mode))
    finally:
        os.umask(old)
