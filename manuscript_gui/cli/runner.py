"""Running the queue for ``export``, ``run`` and ``demo``: the queue lock, progress,
Ctrl-C, the summary and the exit code.

- **One runner per queue.** The queue lock
  (:class:`~manuscript_gui.services.queue_lock.QueueLock`, beside the
  identity's database) is held while the queue runs; a second runner waits,
  saying who holds it (:func:`~manuscript_gui.services.messages.queue_owner_text`).
  The holder publishes which task it runs, so ``tasks`` elsewhere shows it.
- **Ctrl-C or SIGTERM** pauses the running task (*by you*) through
  :meth:`ExportService.stop_queue`; a second one quits at once.
- **What happened comes from events**: which tasks ran
  (:class:`SchedulerState`), the bytes each run received (:class:`RunEnded`),
  the last row of each task (:class:`TaskChanged`, :class:`RunEnded`), a login
  that expired (:class:`SessionChanged`). The summary reads the tasks through
  the service while the session lasts; when a 401 ended it, the rows last
  heard are the final ones (the engine publishes every stop before the
  session ends).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator

from manuscript_gui.cli.exit_codes import ExitCode
from manuscript_gui.cli.output import PROG, Progress, say, say_json
from manuscript_gui.cli.views import task_json, task_summary
from manuscript_gui.core.events import (
    Event,
    RunEnded,
    SchedulerState,
    SessionChanged,
    TaskAdded,
    TaskChanged,
)
from manuscript_gui.domain import SessionChange, StopReason, TaskRecord, TaskStatus
from manuscript_gui.services.exports import ActionError, ExportService
from manuscript_gui.services.messages import queue_owner_text, reason_label, size_text
from manuscript_gui.services.queue_lock import FrontEnd, QueueLock, QueueOwner

__all__ = ["Runner", "owner_text", "queue_lock", "running"]


def queue_lock(service: ExportService) -> QueueLock:
    """The lock on the signed-in identity's queue, held as the command line."""
    path = service.session.database_path()
    if path is None:
        raise ActionError("not_signed_in")
    return QueueLock(path, FrontEnd.CLI)


def owner_text(owner: QueueOwner | None) -> str:
    """``"exporting in manuscript-cli (pid 4242, task 3 running)"``: who holds a queue."""
    if owner is None:
        return queue_owner_text(None, None)
    return queue_owner_text(owner.front_end, owner.pid, owner.task)


class Runner:
    """Runs the queue of one signed-in service: progress, signals, summary."""

    def __init__(self, service: ExportService, lock: QueueLock, *, json_output: bool) -> None:
        self.service = service
        self.lock = lock
        self.json = json_output
        self.progress = Progress(sys.stdout, sys.stdout.isatty() and not json_output)
        self.touched: dict[int, None] = {}  # ordered set of task ids this run worked on
        self.rows: dict[int, TaskRecord] = {}  # each task's row as last heard
        self.bytes_received = 0
        """Bytes fetched over the network by the runs of this process (``RunEnded``)."""
        self.login_expired = False
        self.interrupted = False
        self.started = time.monotonic()
        self._stopping: asyncio.Task[None] | None = None
        self._signals: list[signal.Signals] = []
        self._unsubscribe = service.events.subscribe(self._on_event)

    @property
    def session_ended(self) -> bool:
        """Nobody is signed in any more (a 401 ended the session)."""
        return self.service.session.current is None

    # -- events and signals ---------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if isinstance(event, SchedulerState):
            if event.running_task_id is not None:
                self.touched[event.running_task_id] = None
            self.lock.publish(event.running_task_id)
        elif isinstance(event, TaskAdded | TaskChanged):
            self.rows[event.task.id] = event.task
        elif isinstance(event, RunEnded):
            self.rows[event.task.id] = event.task
            self.bytes_received += event.bytes_received
        elif isinstance(event, SessionChanged) and event.change is SessionChange.LOGIN_EXPIRED:
            self.login_expired = True
        self.progress(event)

    def install_signals(self) -> None:
        """Ctrl-C and SIGTERM pause instead of killing (where the loop can take them)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, self._on_signal)
            except (NotImplementedError, RuntimeError, ValueError):
                continue  # Windows, or not the main thread: Ctrl-C stays KeyboardInterrupt
            self._signals.append(sig)

    def _on_signal(self) -> None:
        if self.interrupted:
            # A second Ctrl-C: leave now. The engine is built to survive kill -9.
            self.progress.clear()
            say(f"{PROG}: stopped at once", err=True)
            os._exit(ExitCode.PAUSED)
        self.interrupted = True
        if self.session_ended:
            return  # a 401 already stopped everything
        self.progress.note("stopping: pausing the running task… (Ctrl-C again to quit at once)")
        self._stopping = asyncio.get_running_loop().create_task(
            self.service.stop_queue(StopReason.BY_USER)
        )

    def close(self) -> None:
        """Stop listening to signals and events; erase the progress line."""
        loop = asyncio.get_running_loop()
        for sig in self._signals:
            loop.remove_signal_handler(sig)
        self._signals.clear()
        self._unsubscribe()
        self.progress.clear()

    # -- running ----------------------------------------------------------------

    async def acquire(self) -> bool:
        """Take the queue lock, waiting for another runner to finish; False if interrupted."""
        told = False
        while not self.lock.try_acquire():
            if self.interrupted:
                return False
            if not told:
                say(f"{PROG}: waiting: this queue is {owner_text(self.lock.owner())}…", err=True)
                told = True
            await asyncio.sleep(0.2)
        return not self.interrupted

    async def wait_listing(self, task: TaskRecord) -> TaskRecord:
        """Wait until *task* (just created) is listed; its row then."""
        self.touched[task.id] = None
        self.rows.setdefault(task.id, task)
        await self.service.wait_listing(task.id)
        await self._settle_stop()
        (listed,) = await self._final_tasks([task.id])
        return listed

    async def run_queue(self) -> None:
        """Run until the queue is empty, a 401 ends the session, or a signal stops it."""
        if not self.interrupted:
            listing = [t for t in await self.service.tasks() if t.status is TaskStatus.INITIALIZING]
            await self.service.start_queue()
            # Tasks a crash left initializing list again first (then join the queue).
            for task in listing:
                if self.session_ended:
                    break
                self.touched[task.id] = None
                self.rows.setdefault(task.id, task)
                await self.service.wait_listing(task.id)
            await self.service.wait_idle()
        await self._settle_stop()

    async def _settle_stop(self) -> None:
        if self._stopping is not None:
            with contextlib.suppress(ActionError):  # signed out meanwhile: nothing to stop
                await self._stopping

    async def _final_tasks(self, ids: list[int]) -> list[TaskRecord]:
        """These tasks' rows as they are now (unknown ids are left out)."""
        if self.session_ended:
            # A 401 ended the session: the rows the engine published before it did.
            return [self.rows[task_id] for task_id in ids if task_id in self.rows]
        tasks = []
        for task_id in ids:
            try:
                tasks.append(await self.service.task(task_id))
            except ActionError as exc:
                if exc.code != "no_task":
                    raise
        return tasks

    async def finish(self, *, ran: bool) -> ExitCode:
        """Print the summary and work out the exit code (worst first: 3, 1, 0)."""
        self.progress.clear()
        tasks = await self._final_tasks(list(self.touched))
        code = ExitCode.OK
        problems: list[str] = []
        for task in tasks:
            if task.status is TaskStatus.PAUSED:
                code = ExitCode.PAUSED
                detail = f": {task.reason_detail}" if task.reason_detail else ""
                problems.append(
                    f'paused: {reason_label(task.reason)} (task {task.id} "{task.name}"{detail})'
                )
            elif task.status in (TaskStatus.WAITING, TaskStatus.INITIALIZING) and ran:
                code = ExitCode.PAUSED
                why = (
                    "login expired"
                    if self.login_expired
                    else "by you"
                    if self.interrupted
                    else "stopped before the end"
                )
                problems.append(
                    f'paused: {why} (task {task.id} "{task.name}" is still {task.status.value})'
                )
            elif task.status is TaskStatus.COMPLETED and task.failed and code == ExitCode.OK:
                code = ExitCode.FAILED_FILES
        if ran and self.login_expired and not problems:
            problems.append("paused: login expired")
            code = ExitCode.PAUSED
        if code == ExitCode.PAUSED and not problems:
            problems.append("paused: by you" if self.interrupted else "stopped before the end")
        elapsed = time.monotonic() - self.started
        received = self.bytes_received
        if self.json:
            say_json(
                {
                    "exit_code": int(code),
                    "bytes_received": received,
                    "elapsed_s": round(elapsed, 3),
                    "tasks": [task_json(t) for t in tasks],
                }
            )
        else:
            for task in tasks:
                say(task_summary(task))
            if ran and tasks:
                rate = received / elapsed if elapsed > 0 else 0.0
                say(f"received {size_text(received)} in {elapsed:.1f} s ({size_text(rate)}/s)")
        for problem in problems:
            say(f"{PROG}: {problem}", err=True)
        paused = [t.id for t in tasks if t.status is TaskStatus.PAUSED]
        if paused:
            ids = " ".join(str(i) for i in paused)
            say(f"{PROG}: continue with: {PROG} resume {ids} && {PROG} run", err=True)
        for task in tasks:
            if task.status is TaskStatus.COMPLETED and task.failed:
                say(
                    f"{PROG}: task {task.id} has failed files: {PROG} files {task.id} --status "
                    f"failed, or {PROG} retry {task.id} && {PROG} run",
                    err=True,
                )
        return code


@contextlib.asynccontextmanager
async def running(service: ExportService, *, json_output: bool) -> AsyncIterator[Runner]:
    """A :class:`Runner` with its signal handlers; on the way out the queue is stopped
    (if something went wrong) before the lock is released, so no second runner
    overlaps this one."""
    runner = Runner(service, queue_lock(service), json_output=json_output)
    runner.install_signals()
    try:
        yield runner
    except BaseException as exc:
        if not runner.session_ended:
            why = (
                StopReason.BY_USER
                if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt)
                else StopReason.UNEXPECTED_ERROR
            )
            with contextlib.suppress(Exception):
                await service.stop_queue(why)
        raise
    finally:
        runner.close()
        runner.lock.release()
