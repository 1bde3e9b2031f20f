"""The service API a window stands on (issue #7, items 3 and 4), through ExportService.

Against the real reference server: what a task allows comes from one table
(``core.actions``) and the service's guards use it; a second action on a task
while the first is in flight (a double click) is refused; the detail pane's
reads (pages with filters, in-progress files of the running task, counts) and
the selection dialog's browsing work through the service alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest

from manuscript_gui.config import Settings
from manuscript_gui.core.actions import Action
from manuscript_gui.reference_server import DemoSpec, ServerHandle
from manuscript_gui.services.exports import ActionError
from manuscript_gui.services.reads import FileFilter, FolderEntry
from tests.core.engine_helpers import project, signed_in, wait_task
from tests.fixtures_server import Admin

SLOW = DemoSpec(
    seed=21,
    files_per_project=12,
    min_size=40_000,
    max_size=90_000,
    large_project_files=0,
    wide_folder_children=0,
)


@pytest.fixture
def slow(make_server: Callable[..., ServerHandle]) -> ServerHandle:
    return make_server(demo=SLOW)


async def test_allowed_actions_follow_the_task_and_guard_the_actions(
    slow: ServerHandle, tmp_path: Path
) -> None:
    admin = Admin(slow.base_url)
    admin.faults(bandwidth_bps=30_000)
    async with signed_in(slow.base_url, settings=Settings(concurrency=2)) as service:
        item = await project(service, "prj-1")
        task = await service.create_export([item], tmp_path / "out")
        await service.wait_listing(task.id)
        await wait_task(service, task.id, lambda t: t.succeeded >= 1)
        assert service.running_task_id == task.id
        assert await service.allowed(task.id) == {Action.PAUSE, Action.CANCEL, Action.OPEN_FOLDER}

        # A double click: the second pause arrives while the first is in flight.
        first, second = await asyncio.gather(
            service.pause(task.id), service.pause(task.id), return_exceptions=True
        )
        assert first is None
        assert isinstance(second, ActionError)
        assert (second.code, second.params) == ("busy", {"action": "pause"})
        assert await service.allowed(task.id) == {
            Action.RESUME,
            Action.CANCEL,
            Action.OPEN_FOLDER,
        }
        with pytest.raises(ActionError) as caught:
            await service.delete(task.id)
        assert caught.value.code == "not_allowed"
        admin.reset()
        await service.resume(task.id)
        await service.wait_idle()
        assert await service.allowed(task.id) == {Action.DELETE, Action.OPEN_FOLDER}


async def test_the_detail_pane_reads_pages_filters_and_files_in_flight(
    slow: ServerHandle, tmp_path: Path
) -> None:
    admin = Admin(slow.base_url)
    admin.faults(bandwidth_bps=20_000)
    async with signed_in(slow.base_url, settings=Settings(concurrency=2)) as service:
        item = await project(service, "prj-2")
        task = await service.create_export([item], tmp_path / "out")
        await service.wait_listing(task.id)
        await wait_task(service, task.id, lambda t: t.succeeded >= 1)
        in_progress = await service.files(task.id, filter=FileFilter.IN_PROGRESS)
        assert 1 <= len(in_progress.rows) <= 2  # the files in flight, not stored anywhere
        counts = await service.file_counts(task.id)
        assert counts[FileFilter.IN_PROGRESS] == len(in_progress.rows)
        assert (
            sum(counts[f] for f in (FileFilter.WAITING, FileFilter.IN_PROGRESS))
            + counts[FileFilter.SUCCEEDED]
            + counts[FileFilter.FAILED]
            == counts[FileFilter.ALL]
            == 12
        )

        seen: list[int] = []
        page = await service.files(task.id, limit=5)
        while True:
            seen += [r.id for r in page.rows]
            if page.next_after is None:
                break
            page = await service.files(task.id, limit=5, after=page.next_after)
        assert len(seen) == len(set(seen)) == 12
        name = (await service.files(task.id, limit=1)).rows[0].local_path.rsplit("/", 1)[-1]
        found = await service.files(task.id, text=name[:6])
        assert name in [r.local_path.rsplit("/", 1)[-1] for r in found.rows]

        assert 0 < await service.bytes_needed(task.id) <= (await service.task(task.id)).total_bytes
        assert await service.free_space(tmp_path / "not" / "made" / "yet") > 0
        admin.reset()
        await service.wait_idle()
        assert await service.bytes_needed(task.id) == 0


async def test_browsing_projects_and_folders_through_the_service(
    ref_server: ServerHandle,
) -> None:
    async with signed_in(ref_server.base_url) as service:
        projects = await service.projects()
        assert {p.id for p in projects} == set(ref_server.facts.projects_for("demo"))
        top = await service.children(projects[0].id)
        folders = [e for e in top if isinstance(e, FolderEntry)]
        assert folders
        inner = await service.children(projects[0].id, folders[0].id)
        assert inner


async def test_an_export_into_a_staging_folder_is_refused(
    slow: ServerHandle, tmp_path: Path
) -> None:
    """Another task's ``.manuscript-partial/<key>`` is removed with that task: files
    exported there would be deleted by a cancel or a delete of the other task."""
    async with signed_in(slow.base_url) as service:
        item = await project(service, "prj-1")
        first = await service.create_export([item], tmp_path / "out")
        await service.wait_listing(first.id)
        staging = tmp_path / "out" / ".manuscript-partial" / first.staging_key
        for target in (staging, staging / "sub", tmp_path / "x" / ".Manuscript-Partial"):
            with pytest.raises(ActionError) as caught:
                await service.create_export([item], target)
            assert caught.value.code == "target_in_staging"
            assert caught.value.params == {"path": str(target)}
        assert [t.id for t in await service.tasks()] == [first.id]
        # A name that merely contains the word is an ordinary folder.
        ok = await service.create_export([item], tmp_path / "my.manuscript-partial-notes")
        assert ok.id != first.id
