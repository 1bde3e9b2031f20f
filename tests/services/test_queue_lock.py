"""The queue lock between real processes: one holder, who it is, and a killed holder
releasing it (the OS drops the lock, nothing stale is left)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from manuscript_gui.services.messages import queue_owner_text
from manuscript_gui.services.queue_lock import FrontEnd, QueueLock, QueueOwner

ROOT = Path(__file__).resolve().parents[2]

#: A holder: takes the lock, says "held" or "busy", waits for a line, releases, says so.
HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from manuscript_gui.services.queue_lock import QueueLock
    lock = QueueLock(Path(sys.argv[1]), sys.argv[2])
    held = lock.try_acquire()
    if held and len(sys.argv) > 3:
        lock.publish(int(sys.argv[3]))
    print("held" if held else "busy", flush=True)
    sys.stdin.readline()
    lock.release()
    print("released", flush=True)
    sys.stdin.readline()
    """
)

#: A prober: prints what owner() says, as JSON (null when the queue is free).
PROBE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from manuscript_gui.services.queue_lock import QueueLock
    owner = QueueLock(Path(sys.argv[1]), "cli").owner()
    print(json.dumps(None if owner is None else [owner.pid, owner.task, owner.front_end]))
    """
)

#: An older app's holder (the command line before this module): a raw flock (POSIX) or
#: msvcrt lock (Windows) on the same queue.lock.
OLD_HOLDER = textwrap.dedent(
    """
    import os, sys
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
    if sys.platform == "win32":
        import msvcrt
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    print("held", flush=True)
    sys.stdin.readline()
    """
)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


class Holder:
    """Another process holding (or trying to hold) the queue lock."""

    def __init__(self, script: str, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", script, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=_env(),
            cwd=ROOT,
        )
        self.pid = self.proc.pid

    def said(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def tell(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()

    def end(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=60)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


@pytest.fixture
def holders() -> Iterator[list[Holder]]:
    started: list[Holder] = []
    yield started
    for holder in started:
        holder.end()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    folder = tmp_path / "identity"
    folder.mkdir()
    return folder / "exports.sqlite3"


def _probe(db_path: Path) -> list[object] | None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(db_path)],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=ROOT,
        timeout=120,
        check=True,
    ).stdout
    result: list[object] | None = json.loads(out)
    return result


def test_a_second_process_is_refused_and_learns_who_holds_the_queue(
    db_path: Path, holders: list[Holder]
) -> None:
    cli = Holder(HOLDER, str(db_path), "cli", "7")
    holders.append(cli)
    assert cli.said() == "held"
    window = QueueLock(db_path, FrontEnd.WINDOW)
    assert not window.try_acquire()
    assert not window.held
    owner = window.owner()
    assert owner == QueueOwner(pid=cli.pid, task=7, front_end="cli")
    assert queue_owner_text(owner.front_end, owner.pid, owner.task) == (
        f"exporting in manuscript-cli (pid {cli.pid}, task 7 running)"
    )
    assert _probe(db_path) == [cli.pid, 7, "cli"]  # a third process sees the same
    # A third process cannot take it either.
    third = Holder(HOLDER, str(db_path), "window")
    holders.append(third)
    assert third.said() == "busy"
    # Released: the window takes it, and the others now see the window.
    cli.tell()
    assert cli.said() == "released"
    assert window.try_acquire()
    assert window.owner() is None  # it is ours
    window.publish(3)
    assert _probe(db_path) == [os.getpid(), 3, "window"]
    window.release()
    assert not window.held
    assert not (db_path.parent / "queue.owner").exists()
    assert _probe(db_path) is None


def test_a_killed_holder_releases_the_queue(db_path: Path, holders: list[Holder]) -> None:
    holder = Holder(HOLDER, str(db_path), "window", "12")
    holders.append(holder)
    assert holder.said() == "held"
    lock = QueueLock(db_path, FrontEnd.CLI)
    assert asyncio.run(lock.acquire_soon(within=0.3)) is False
    assert lock.owner() == QueueOwner(holder.pid, 12, "window")
    holder.proc.kill()  # SIGKILL: no clean-up of any kind
    holder.proc.wait(timeout=60)
    # The OS dropped the lock with the process; its record is still on disk.
    assert json.loads((db_path.parent / "queue.owner").read_text())["pid"] == holder.pid
    assert _probe(db_path) is None  # free (and the probe cleared the dead record)
    assert not (db_path.parent / "queue.owner").exists()
    assert lock.try_acquire()
    assert _probe(db_path) == [os.getpid(), None, "cli"]
    lock.release()


def test_a_killed_holders_record_is_replaced_by_the_next_holder(
    db_path: Path, holders: list[Holder]
) -> None:
    holder = Holder(HOLDER, str(db_path), "window", "12")
    holders.append(holder)
    assert holder.said() == "held"
    holder.proc.kill()
    holder.proc.wait(timeout=60)
    lock = QueueLock(db_path, FrontEnd.CLI)
    assert lock.try_acquire()  # straight away, without a probe in between
    record = json.loads((db_path.parent / "queue.owner").read_text())
    assert record == {"pid": os.getpid(), "task": None, "front_end": "cli"}
    lock.release()


async def test_acquire_soon_takes_the_queue_once_its_holder_lets_go(
    db_path: Path, holders: list[Holder]
) -> None:
    holder = Holder(HOLDER, str(db_path), "cli")
    holders.append(holder)
    assert holder.said() == "held"
    lock = QueueLock(db_path, FrontEnd.WINDOW)
    waiting = asyncio.create_task(lock.acquire_soon(within=60))
    await asyncio.sleep(0.3)
    assert not waiting.done()
    holder.tell()
    assert await waiting is True
    assert lock.held
    lock.release()


def test_an_older_apps_lock_on_the_same_file_excludes_this_one(
    db_path: Path, holders: list[Holder]
) -> None:
    """Until every front end uses this module, the lock file and its lock are the same."""
    old = Holder(OLD_HOLDER, str(db_path.parent / "queue.lock"))
    holders.append(old)
    assert old.said() == "held"
    lock = QueueLock(db_path, FrontEnd.WINDOW)
    assert not lock.try_acquire()
    assert lock.owner() == QueueOwner(None, None, None)  # it writes no record we can read
    old.end()
    assert lock.try_acquire()
    lock.release()


def test_two_locks_in_one_process_exclude_each_other(db_path: Path) -> None:
    first = QueueLock(db_path, FrontEnd.WINDOW)
    second = QueueLock(db_path, "cli")
    assert first.path == db_path.parent / "queue.lock"
    assert first.owner_path == db_path.parent / "queue.owner"
    assert first.try_acquire()
    assert first.try_acquire()  # already held: still True
    assert not second.try_acquire()
    assert second.owner() == QueueOwner(os.getpid(), None, "window")
    first.release()
    first.release()  # idempotent
    assert second.try_acquire()
    second.release()


def test_a_missing_or_garbled_record_is_an_unknown_holder(db_path: Path) -> None:
    holder = QueueLock(db_path, FrontEnd.WINDOW)
    assert holder.try_acquire(publish=False)
    other = QueueLock(db_path, FrontEnd.CLI)
    assert other.owner() == QueueOwner(None, None, None)  # no record yet
    for garbage in ("", "{", "[1, 2]", '"text"', '{"pid": "12", "task": true, "front_end": 5}'):
        (db_path.parent / "queue.owner").write_text(garbage)
        assert other.owner() == QueueOwner(None, None, None), garbage
    holder.publish(9)
    assert other.owner() == QueueOwner(os.getpid(), 9, "window")
    holder.release()


def test_publishing_without_the_lock_writes_nothing(db_path: Path) -> None:
    lock = QueueLock(db_path, FrontEnd.WINDOW)
    lock.publish(4)
    assert not (db_path.parent / "queue.owner").exists()
    with pytest.raises(ValueError, match="toaster"):
        QueueLock(db_path, "toaster")


def test_a_folder_that_cannot_hold_the_lock_file_is_an_oserror(tmp_path: Path) -> None:
    (tmp_path / "not a folder").write_text("x")
    lock = QueueLock(tmp_path / "not a folder" / "exports.sqlite3", FrontEnd.WINDOW)
    with pytest.raises(NotADirectoryError):
        lock.try_acquire()
    assert not lock.held
