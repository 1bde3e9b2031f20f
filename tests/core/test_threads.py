"""What a worker thread acquires after its caller was cancelled is released, not leaked.

The kind: ``await asyncio.to_thread(open_x)`` cancelled mid-way drops what the
thread then opens (a locked partial, a database, a server). The helper is
tested alone, then where it matters most: a pause while a partial file is
being opened and locked must not leave that file open (and locked) for the
garbage collector, and the resumed task must complete.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import BinaryIO

import pytest

from manuscript_gui.core import task_manager
from manuscript_gui.core.threads import acquire_in_thread
from manuscript_gui.domain import TaskStatus
from manuscript_gui.reference_server import ServerHandle
from tests.core.engine_helpers import project, signed_in, until, wait_task
from tests.fixtures_server import Admin


class Gate:
    """A call that blocks in its thread until the test opens the gate."""

    def __init__(self, result: object = "resource", error: Exception | None = None) -> None:
        self.entered = threading.Event()
        self.open = threading.Event()
        self.result = result
        self.error = error

    def __call__(self) -> object:
        self.entered.set()
        self.open.wait(30)
        if self.error is not None:
            raise self.error
        return self.result


async def test_the_result_comes_back_and_nothing_is_released() -> None:
    released: list[object] = []
    assert await acquire_in_thread(released.append, lambda x: x * 2, 21) == 42
    assert released == []


async def test_a_cancelled_caller_gets_cancelled_and_the_late_result_is_released() -> None:
    gate = Gate()
    released: list[object] = []
    caller = asyncio.create_task(acquire_in_thread(released.append, gate))
    await asyncio.to_thread(gate.entered.wait, 30)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert released == []  # the thread has not finished yet
    gate.open.set()
    await until(lambda: released == ["resource"])


async def test_a_late_error_is_not_released_and_not_reported_as_unretrieved(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gate = Gate(error=OSError("disk gone"))
    released: list[object] = []
    caller = asyncio.create_task(acquire_in_thread(released.append, gate))
    await asyncio.to_thread(gate.entered.wait, 30)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    gate.open.set()
    await asyncio.sleep(0.2)
    assert released == []
    assert "never retrieved" not in caplog.text


async def test_a_pause_while_a_partial_is_opened_closes_it_and_the_resume_completes(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[BinaryIO] = []  # kept referenced: the garbage collector must not close them
    gate = threading.Event()
    entered = threading.Event()
    real_open = task_manager._open_partial

    def slow_open(part: Path) -> BinaryIO:
        entered.set()
        gate.wait(30)
        handle = real_open(part)
        opened.append(handle)
        return handle

    monkeypatch.setattr(task_manager, "_open_partial", slow_open)
    async with signed_in(fresh_server.base_url) as service:
        item = await project(service, "prj-1")
        task = await service.create_export([item], tmp_path / "out")
        await service.wait_listing(task.id)
        await asyncio.to_thread(entered.wait, 30)
        await service.pause(task.id)  # the workers stop while their partials are opening
        assert (await service.task(task.id)).status is TaskStatus.PAUSED
        gate.set()
        await until(lambda: len(opened) >= 1)
        await until(lambda: all(h.closed for h in opened))

        monkeypatch.setattr(task_manager, "_open_partial", real_open)
        await service.resume(task.id)
        done = await wait_task(service, task.id, lambda t: t.status is TaskStatus.COMPLETED)
        assert done.failed == 0
        assert done.succeeded == done.total_files


async def test_a_sign_in_cancelled_while_its_database_opens_closes_it(
    fresh_server: ServerHandle, monkeypatch: pytest.MonkeyPatch
) -> None:
    from manuscript_gui.services import session as session_module
    from manuscript_gui.storage import ExportStore

    opened: list[ExportStore] = []
    gate = threading.Event()
    entered = threading.Event()
    real_open = session_module.open_identity_db

    def slow_open(*args: object, **kwargs: object) -> ExportStore:
        entered.set()
        gate.wait(30)
        store = real_open(*args, **kwargs)  # type: ignore[arg-type]
        opened.append(store)
        return store

    async with signed_in(fresh_server.base_url) as service:
        await service.logout()
        monkeypatch.setattr(session_module, "open_identity_db", slow_open)
        attempt = asyncio.create_task(
            service.session.sign_in(fresh_server.base_url, "demo", "demo", "auditor")
        )
        await asyncio.to_thread(entered.wait, 30)
        attempt.cancel()  # the sign-in dialog's Cancel
        with pytest.raises(asyncio.CancelledError):
            await attempt
        assert service.session.current is None
        gate.set()
        await until(lambda: len(opened) == 1)
        await until(lambda: opened[0].closed)
