"""Run blocking store calls off the event loop, in order.

The event loop is the UI thread (qasync), so SQLite work must not run on it.
One dedicated thread per store keeps calls in submission order (a status write
never overtakes the file results before it) and matches the store's single
connection.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from manuscript_gui.storage import ExportStore

__all__ = ["AsyncStore"]

R = TypeVar("R")


class AsyncStore:
    """An :class:`ExportStore` whose calls are awaited from the loop.

    ``await db.run(ExportStore.get_task, task_id)`` (or any callable taking the
    store first) runs on the store's own thread.
    """

    def __init__(self, store: ExportStore, *, name: str = "store") -> None:
        self.store = store
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)

    async def run(self, fn: Callable[..., R], *args: object, **kwargs: object) -> R:
        loop = asyncio.get_running_loop()
        call = functools.partial(fn, self.store, *args, **kwargs)
        return await loop.run_in_executor(self._executor, call)

    async def close(self) -> None:
        """Finish queued calls, then close the database."""
        await self.run(ExportStore.close)
        self._executor.shutdown(wait=False)
