"""A run that ends while its results are being written loses none of them.

The kind: the progress ticker took the unwritten results out of the list and
was cancelled by the run's end before they reached the database (here: while
the folders were being made durable). Those files stayed *waiting* although
they were exported; the run ended "unfinished" and the task ran again (seen
about once in a dozen 3000-file exports). Here the write is held until the
workers are done, so the run always ends in the middle of it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from manuscript_gui.core import task_manager
from manuscript_gui.core.events import Event, RunEnded, RunOutcome
from manuscript_gui.domain import TaskStatus
from manuscript_gui.reference_server import DemoSpec, ServerHandle
from manuscript_gui.services.exports import ServiceOptions
from tests.core.engine_helpers import project, signed_in, until, wait_task

SPEC = DemoSpec(
    seed=9,
    files_per_project=6,
    min_size=10_000,
    max_size=20_000,
    large_project_files=0,
    wide_folder_children=0,
)


async def test_a_run_ending_during_a_write_keeps_every_result(
    make_server: Callable[..., ServerHandle], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = make_server(demo=SPEC)
    entered = threading.Event()  # the first write of results is under way (and held)
    release = threading.Event()
    placed = 0
    real_sync_all = task_manager.sync_all
    real_settle = task_manager.TaskManager._settle_file

    def held_sync_all(*args: Any, **kwargs: Any) -> Any:
        if not entered.is_set():
            entered.set()
            release.wait(30)
        return real_sync_all(*args, **kwargs)

    async def settle(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal placed
        if placed > 0:
            while not entered.is_set():  # noqa: ASYNC110 - held until that write is under way
                await asyncio.sleep(0.01)
        result = await real_settle(self, *args, **kwargs)
        placed += 1
        if placed == 6:
            # The workers are done: the run ends (and cancels the ticker) meanwhile.
            threading.Timer(0.5, release.set).start()
        return result

    monkeypatch.setattr(task_manager, "sync_all", held_sync_all)
    monkeypatch.setattr(task_manager.TaskManager, "_settle_file", settle)
    ends: list[RunEnded] = []

    def listen(event: Event) -> None:
        if isinstance(event, RunEnded):
            ends.append(event)

    # fsync on: results are written after their folders are made durable (sync_all).
    async with signed_in(server.base_url, options=ServiceOptions()) as service:
        service.events.subscribe(listen)
        item = await project(service, "prj-1")
        task = await service.create_export([item], tmp_path / "out")
        done = await wait_task(service, task.id, lambda t: t.status is TaskStatus.COMPLETED)
        assert done.succeeded == done.total_files == 6
        assert entered.is_set()
        await until(lambda: bool(ends))  # the run's end is published after its write
        await service.wait_idle()
        assert [e.outcome for e in ends] == [RunOutcome.COMPLETED]  # one run, not two
