"""TaskQueueManager: runs one task at a time, back to back, for the current user.

The design note's rules, kept literally:

- exactly one task runs at a time (one pump; per user + identity, because the
  current user is one context);
- after every task ends, for whatever reason, the queue is **pulled again**
  from the current user's database, never iterated from a cached list: after a
  401 the user is gone, so the pull stops the loop; after a switch it is
  another identity's queue altogether;
- any stop that is not "all files processed" pauses the task with its reason;
  nothing retries a task on its own;
- on 401 the cached user is cleared, so nothing keeps running on a dead
  session; on logout the user is cleared first, then the task is stopped.

A :class:`TaskManager` is bound to the user context and task it started
with, so when a user switch stops it, its final writes still go to the old
identity's database.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from manuscript_gui.core.async_store import AsyncStore
from manuscript_gui.core.events import (
    EventBus,
    EventSink,
    FilesChanged,
    RunEnded,
    RunOutcome,
    SchedulerState,
    TaskChanged,
)
from manuscript_gui.core.task_manager import (
    RunOptions,
    RunResult,
    TaskManager,
    remove_staging,
    tidy_staging,
)
from manuscript_gui.domain import StopReason, TaskRecord, TaskStatus, Transition
from manuscript_gui.net import ApiClient
from manuscript_gui.storage import ExportStore

__all__ = ["TaskQueueManager", "UserContext"]

_log = logging.getLogger(__name__)


@dataclass(eq=False)
class UserContext:
    """One signed-in user + identity: its session (client), its own database, and its
    way onto the event bus (events of a session no longer current are dropped)."""

    server_url: str
    user_id: str
    user_name: str
    user_type: str
    client: ApiClient
    db: AsyncStore
    events: EventSink
    closed: bool = field(default=False)

    @property
    def key(self) -> int:
        """The session's key (``SessionInfo.key``)."""
        return self.events.key


@dataclass(eq=False)
class _Running:
    ctx: UserContext
    task_id: int
    manager: TaskManager
    ended: asyncio.Event = field(default_factory=asyncio.Event)


class TaskQueueManager:
    """The scheduler. Call :meth:`trigger` on login, task created/resumed/ended,
    user switched, and start-up with a valid session."""

    def __init__(
        self,
        events: EventBus,
        options: Callable[[], RunOptions] = RunOptions,
        *,
        on_login_expired: Callable[[UserContext], None] | None = None,
    ) -> None:
        self._events = events
        self._options = options
        self._on_login_expired = on_login_expired
        self._user: UserContext | None = None
        self._running: _Running | None = None
        self._pump_task: asyncio.Task[None] | None = None
        self._held = False

    @property
    def user(self) -> UserContext | None:
        return self._user

    @property
    def running_task_id(self) -> int | None:
        """The task shown as *running* (never stored: derived from this)."""
        return None if self._running is None else self._running.task_id

    @property
    def running_manager(self) -> TaskManager | None:
        return None if self._running is None else self._running.manager

    def set_user(self, ctx: UserContext | None) -> None:
        """Make *ctx* the current user (``None``: nobody; the scheduler idles)."""
        self._user = ctx
        self._publish_state()

    @property
    def held(self) -> bool:
        """Whether the queue is on hold (see :meth:`hold`)."""
        return self._held

    def hold(self) -> None:
        """Start nothing new: triggers are ignored and the pump stops after the
        running task (the CLI's commands that only read or edit the queue, and
        its Ctrl-C). :meth:`release` undoes it."""
        self._held = True

    def release(self) -> None:
        """End a :meth:`hold`; the caller triggers when it wants the queue to run."""
        self._held = False

    def trigger(self) -> None:
        """Start pulling the queue unless a pump is already at work (or it is on hold)."""
        if self._held:
            return
        if self._pump_task is None or self._pump_task.done():
            self._pump_task = asyncio.get_running_loop().create_task(self._pump())

    async def stop_running(
        self, reason: StopReason, detail: str | None = None, *, cancel: bool = False
    ) -> None:
        """Stop the running task (if any) and wait until its status is written."""
        running = self._running
        if running is None:
            return
        running.manager.stop(reason, detail, cancel=cancel)
        await running.ended.wait()

    async def wait_idle(self) -> None:
        """Wait until the pump has nothing left to run (tests, the CLI)."""
        while self._pump_task is not None and not self._pump_task.done():
            await asyncio.shield(self._pump_task)

    async def close(self, reason: StopReason = StopReason.LOGGED_OUT) -> None:
        """Stop everything (app quit): the user is cleared first, then the task stops."""
        self._user = None
        await self.stop_running(reason)
        await self.wait_idle()

    # -- the pump ----------------------------------------------------------------

    async def _pump(self) -> None:
        while True:
            ctx = self._user
            if ctx is None or self._held:
                break
            try:
                task = await ctx.db.run(ExportStore.next_waiting_task)
            except Exception:
                _log.exception("reading the queue of %s/%s failed", ctx.user_id, ctx.user_type)
                break
            if task is None or ctx is not self._user or self._held:
                if ctx is not self._user:
                    continue  # the user changed while we read: pull the new queue
                break
            manager = TaskManager(ctx.db, ctx.client, task, ctx.events, self._options())
            running = _Running(ctx, task.id, manager)
            self._running = running
            self._publish_state()
            try:
                result = await manager.run()
            except Exception as exc:
                _log.exception("task %s stopped by an unexpected error", task.id)
                result = RunResult(False, StopReason.UNEXPECTED_ERROR, repr(exc))
            try:
                await self._settle(ctx, task, result, manager.bytes_received)
            except Exception:
                _log.exception("recording the end of task %s failed", task.id)
            finally:
                self._running = None
                running.ended.set()
            if result.reason is StopReason.LOGIN_EXPIRED and self._user is ctx:
                self._user = None
                if self._on_login_expired is not None:
                    self._on_login_expired(ctx)
            self._publish_state()
        self._publish_state()

    async def _settle(
        self, ctx: UserContext, task: TaskRecord, result: RunResult, received: int
    ) -> None:
        """Write the end of a run: the run's last file results and the task's new status
        in one transaction (``ExportStore.transition``), then tidy the staging folder."""
        db = ctx.db
        target = Path(task.target_dir)
        if result.canceled:
            done = await db.run(
                ExportStore.transition,
                task.id,
                Transition.CANCEL,
                reason=StopReason.BY_USER,
                files=result.files,
            )
            await asyncio.to_thread(remove_staging, target, task.staging_key)
        elif result.completed:
            done = await db.run(
                ExportStore.transition, task.id, Transition.END_RUN, files=result.files
            )
            if done.status is TaskStatus.COMPLETED:
                await asyncio.to_thread(tidy_staging, target, task.staging_key)
            elif result.processed == 0:
                # Files are open but the run found none to do: never loop on it.
                _log.error("task %s: %d files open but none waiting", task.id, done.remaining_files)
                done = await db.run(
                    ExportStore.transition,
                    task.id,
                    Transition.PAUSE,
                    reason=StopReason.UNEXPECTED_ERROR,
                    detail=f"{done.remaining_files} files could not be scheduled",
                    params={"files": done.remaining_files},
                )
        else:
            done = await db.run(
                ExportStore.transition,
                task.id,
                Transition.PAUSE,
                reason=result.reason or StopReason.UNEXPECTED_ERROR,
                detail=result.detail,
                params=result.params,
                files=result.files,
            )
        if result.files:
            ctx.events.publish(FilesChanged(task.id, result.files))
        ctx.events.publish(TaskChanged(done))
        outcome = {
            TaskStatus.COMPLETED: RunOutcome.COMPLETED,
            TaskStatus.CANCELED: RunOutcome.CANCELED,
            TaskStatus.PAUSED: RunOutcome.PAUSED,
        }.get(done.status, RunOutcome.UNFINISHED)
        ctx.events.publish(RunEnded(done, received, outcome))

    def _publish_state(self) -> None:
        self._events.publish(SchedulerState(self.running_task_id, self._user is not None))
