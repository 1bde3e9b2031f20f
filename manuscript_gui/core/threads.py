"""Acquiring a resource in a worker thread without leaking it on cancellation.

``await asyncio.to_thread(open_something)`` has a hole: when the awaiting
task is cancelled (a pause, a sign-out, a dialog's Cancel) while the thread
is still working, the ``await`` raises ``CancelledError`` at once but the
thread runs on and opens the thing anyway; its result is then dropped on the
floor. For a locked partial file that means a lock held by a leaked handle
until the garbage collector happens to close it: a resume in the same
process finds its own partial "in use". :func:`acquire_in_thread` closes
that hole: what the thread acquires after the caller gave up is released.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["acquire_in_thread"]

_log = logging.getLogger(__name__)
T = TypeVar("T")
P = ParamSpec("P")


async def acquire_in_thread(
    release: Callable[[T], object], fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs
) -> T:
    """``fn(*args, **kwargs)`` in the default executor, like :func:`asyncio.to_thread`.

    If the caller is cancelled before it gets the result, the call still runs
    to its end in its thread, and its result (when it has one) is passed to
    *release* on the event loop as soon as it exists; then ``CancelledError``
    propagates as usual. *release* should be quick and must not raise (an
    error is logged): closing a file, stopping a server, closing a database.

    Raises:
        Whatever *fn* raises; ``CancelledError`` when the caller is cancelled.
    """
    job = asyncio.ensure_future(asyncio.to_thread(fn, *args, **kwargs))
    try:
        return await asyncio.shield(job)
    except asyncio.CancelledError:
        job.add_done_callback(lambda done: _release(done, release))
        raise


def _release(done: asyncio.Future[T], release: Callable[[T], object]) -> None:
    if done.cancelled() or done.exception() is not None:
        return
    try:
        release(done.result())
    except Exception:
        _log.exception("releasing what a cancelled call acquired")
