"""pytest-qt + qasync for the window's tests (research/env-spike.md §1.6, recipe A).

Tests are plain (sync) functions driving real widgets with ``qtbot``; the
``qloop`` fixture makes a qasync loop the running asyncio loop *for that test
only* (flagged as running, never ``stop()``-ed: that would call
``QApplication.exit()`` and break every later ``qtbot`` wait), so the window's
``asyncSlot`` coroutines and the engine run on Qt's own event loop while qtbot
waits spin it. Async tests elsewhere in the suite keep their own
``asyncio.run`` loops: nothing here outlives the test.

The loop's default executor (``asyncio.to_thread``) is a ``QThreadExecutor``
the fixture owns and shuts down (waiting for its threads) after the test: a
``QThread`` still running when Python exits aborts the process.

``run(qtbot, coro)`` awaits a coroutine from a sync test by spinning Qt until
it is done (setup work: sign in through the service, create tasks).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
import qasync
from pytestqt.qtbot import QtBot

T = TypeVar("T")


@pytest.fixture
def qloop(qapp: Any, qtbot: QtBot) -> Iterator[qasync.QEventLoop]:
    loop = qasync.QEventLoop(qapp, already_running=True)
    pool = qasync.QThreadExecutor()
    loop.set_default_executor(pool)
    asyncio.set_event_loop(loop)
    try:
        yield loop
    finally:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            qtbot.waitUntil(lambda: all(t.done() for t in pending), timeout=5000)
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop(None)
        pool.shutdown(wait=True)


def run(qtbot: QtBot, coro: Coroutine[Any, Any, T], timeout: int = 30_000) -> T:
    """Run *coro* on the test's qasync loop, spinning Qt until it is done."""
    task = asyncio.ensure_future(coro)
    qtbot.waitUntil(task.done, timeout=timeout)
    return task.result()
