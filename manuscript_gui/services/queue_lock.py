"""One queue owner per identity: an OS file lock beside the identity's database.

Two processes must never run one identity's queue at once (two schedulers
would download the same files into the same staging folder). Whoever runs it
(the window for as long as that identity is signed in; the command line's
``export``, ``run`` and ``demo``; a task action for its moment) holds an
exclusive lock on ``queue.lock`` in the database's folder, through
portalocker (``flock`` on POSIX, ``LockFileEx`` on Windows). The OS drops the
lock when the holding process ends, even by ``kill -9`` or a power cut: no
stale lock is ever left to clean up.

The holder also writes ``queue.owner`` beside it, a small JSON record
(``{"pid": 4242, "task": 7, "front_end": "window"}``), so a second process can
say who holds the queue ("exporting in another window (pid 4242)",
:func:`manuscript_gui.services.messages.queue_owner_text`). It is advisory
only: the lock decides, the record explains. It is a separate file because on
Windows a locked file cannot be read by others.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from enum import StrEnum, unique
from pathlib import Path
from typing import IO

import portalocker

from manuscript_gui.domain import QueueOwner

__all__ = ["FrontEnd", "QueueLock", "QueueOwner"]

LOCK_NAME = "queue.lock"
OWNER_NAME = "queue.owner"


@unique
class FrontEnd(StrEnum):
    """Which kind of front end holds a queue."""

    WINDOW = "window"
    CLI = "cli"


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class QueueLock:
    """The lock on one identity's queue (see the module docstring).

    Not thread-safe; one object per holder. Two objects on the same database
    exclude each other even in one process.

    Args:
        db_path: the identity's database file; ``queue.lock`` and
            ``queue.owner`` live in its folder.
        front_end: what this process is, for the owner record.
    """

    def __init__(self, db_path: Path, front_end: FrontEnd | str) -> None:
        self.path = db_path.with_name(LOCK_NAME)
        self.owner_path = db_path.with_name(OWNER_NAME)
        self.front_end = FrontEnd(front_end)
        self._file: IO[bytes] | None = None

    @property
    def held(self) -> bool:
        """This object holds the lock."""
        return self._file is not None

    def try_acquire(self, *, publish: bool = True) -> bool:
        """Take the lock if it is free; never waits. ``True`` if held (also when already).

        With *publish* the owner record is written at once (no task running).

        Raises:
            OSError: the lock file cannot be created or opened (a read-only folder).
        """
        if self._file is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
        file = os.fdopen(fd, "r+b")
        try:
            portalocker.lock(
                file, portalocker.LockFlags.EXCLUSIVE | portalocker.LockFlags.NON_BLOCKING
            )
        except portalocker.exceptions.LockException:
            file.close()
            return False
        except BaseException:
            file.close()
            raise
        self._file = file
        if publish:
            self.publish(None)
        return True

    async def acquire_soon(self, within: float = 1.0) -> bool:
        """Take the lock, trying every 0.1 s for *within* seconds (another process may be
        only looking at it); ``False`` if it stayed taken."""
        deadline = time.monotonic() + within
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.1)
        return True

    def release(self) -> None:
        """Drop the lock (and the owner record first). Idempotent."""
        file, self._file = self._file, None
        if file is None:
            return
        with contextlib.suppress(OSError):
            self.owner_path.unlink()
        try:
            portalocker.unlock(file)
        finally:
            file.close()  # closing drops the lock in any case

    def publish(self, running_task: int | None) -> None:
        """Write the owner record: this pid, *running_task*, the front end (best effort).

        Call it whenever the running task changes. Written to a temporary file
        and renamed, so a reader never sees half a record. Does nothing unless
        the lock is held.
        """
        if self._file is None:
            return
        data = json.dumps(
            {"pid": os.getpid(), "task": running_task, "front_end": self.front_end.value}
        )
        tmp = self.owner_path.with_name(f"{self.owner_path.name}.{os.getpid()}.tmp")
        with contextlib.suppress(OSError):
            tmp.write_text(data, encoding="utf-8")
            os.replace(tmp, self.owner_path)

    def owner(self) -> QueueOwner | None:
        """Who holds the lock, when *another* holder does; ``None`` when it is free or ours.

        Probes the lock (taking and dropping it at once when it is free, which
        also clears the record a killed holder left). A holder whose record is
        missing or unreadable (it is being written) comes back with every
        field ``None``.
        """
        if self._file is not None:
            return None
        if self.try_acquire(publish=False):
            self.release()
            return None
        try:
            data = json.loads(self.owner_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        if not isinstance(data, dict):
            return QueueOwner(None, None, None)
        front_end = data.get("front_end")
        return QueueOwner(
            pid=_int(data.get("pid")),
            task=_int(data.get("task")),
            front_end=front_end if isinstance(front_end, str) else None,
        )
