"""The export use cases, shared by the window and the command line.

:class:`ExportService` owns the session (who is signed in, with which
identity), that identity's database and the scheduler, and offers the user
actions of docs/behaviour.md: create, pause, resume, cancel, retry failed,
move up/down, delete, failure report, open folder. An action that is not
allowed in the task's current state raises :class:`ActionError` with a
message the user can read.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import dataclasses
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from manuscript_gui.config import AppPaths, Settings
from manuscript_gui.core.actions import (
    READ_ONLY,
    Action,
    allowed_actions,
    allowed_actions_in_queue,
)
from manuscript_gui.core.events import (
    Event,
    EventBus,
    QueueHolder,
    QueueReordered,
    SchedulerState,
    TaskAdded,
    TaskChanged,
    TaskRemoved,
)
from manuscript_gui.core.listing import ListingStopped, SelectionItem, list_task_files
from manuscript_gui.core.retry import RetryPolicy
from manuscript_gui.core.task_manager import STAGING_DIR, RunOptions, remove_staging
from manuscript_gui.core.task_queue import TaskQueueManager, UserContext
from manuscript_gui.domain import (
    FileOutcome,
    JsonObject,
    QueueOwner,
    StopReason,
    TaskRecord,
    TaskStatus,
    Transition,
)
from manuscript_gui.net import DEFAULT_TIMEOUTS, BandwidthLimiter, Page, PageGuard, Timeouts
from manuscript_gui.services import messages, reads
from manuscript_gui.services.queue_lock import FrontEnd, QueueLock
from manuscript_gui.services.session import ServerCallFailed, Session, call_server
from manuscript_gui.storage import ExportStore, InvalidTransition, ValidationError

__all__ = ["ActionError", "ExportService", "SelectionItem", "ServerCallFailed", "ServiceOptions"]

_log = logging.getLogger(__name__)
T = TypeVar("T")


class ActionError(Exception):
    """A user action that cannot be done now: a stable ``code`` and its ``params``.

    Codes and parameters: ``services/messages.py`` (``ACTION_ERROR_CODES``); the
    exception's text is the English sentence (``messages.action_error_text``), a
    translated front end builds its own from the code.
    """

    def __init__(self, code: str, **params: object) -> None:
        super().__init__(messages.action_error_text(code, params))
        self.code = code
        self.params: dict[str, object] = params


@dataclass(frozen=True, slots=True)
class ServiceOptions:
    """Engine knobs not in the user settings (tests and benchmarks tune them)."""

    listing_concurrency: int = 8
    fsync: bool = True
    timeouts: Timeouts = DEFAULT_TIMEOUTS
    """Per-phase network timeouts and the minimum speed of a download."""
    backoff_base: float = 0.5
    """First back-off delay in seconds (doubling per retry; tests shorten it)."""
    autostart: bool = True
    """Run the queue on login (the window). ``False`` (the CLI) keeps the
    scheduler on hold, so a command that only reads or edits the queue never
    starts a download or a listing in passing; :meth:`ExportService.start_queue`
    runs it."""
    queue_owner: FrontEnd | None = FrontEnd.WINDOW
    """With *autostart*: what this process is for the identity's queue lock
    (:mod:`~manuscript_gui.services.queue_lock`), taken before the queue runs,
    so a window and a command line never run one queue at once. ``None``: no
    lock (the CLI takes its own, per command)."""
    lock_poll_s: float = 1.0
    """How often a queue another process holds is tried again (seconds)."""


class ExportService:
    """One per app (or CLI run). Not thread-safe: call it from the event loop."""

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        paths: AppPaths | None = None,
        events: EventBus | None = None,
        options: ServiceOptions | None = None,
    ) -> None:
        self.settings = settings or Settings()
        self.paths = paths
        self.events = events or EventBus()
        self.options = options or ServiceOptions()
        self.scheduler = TaskQueueManager(
            self.events, self._run_options, on_login_expired=self._login_expired
        )
        self.session = Session(
            settings=lambda: self.settings,
            paths=paths,
            events=self.events,
            scheduler=self.scheduler,
            timeouts=self.options.timeouts,
            on_started=self._session_started,
            on_ending=self._session_ending,
            retry_policy=self._retry_policy,
        )
        """Sign in, switch, sign out, who is signed in (:class:`Session`)."""
        self._listings: dict[tuple[int, int], asyncio.Task[None]] = {}
        self._busy: set[int] = set()  # tasks with a user action in flight
        self.limiter = BandwidthLimiter(self.settings.bandwidth_limit_bps or None)
        """One bandwidth limit over all downloads of the running task (see
        :meth:`set_bandwidth_limit`)."""
        self.login_expired_count = 0
        self._locks: dict[int, QueueLock] = {}  # id(ctx) -> the lock held for that session
        self._lock_waits: dict[int, asyncio.Task[None]] = {}  # id(ctx) -> waiting for it
        self._queue_owner: QueueOwner | None = None
        if not self.options.autostart:
            self.scheduler.hold()
        self.events.subscribe(self._publish_owner_record)

    def _retry_policy(self) -> RetryPolicy:
        return RetryPolicy(retries=self.settings.retries, base=self.options.backoff_base)

    def _run_options(self) -> RunOptions:
        return RunOptions(
            concurrency=self.settings.concurrency,
            retry=self._retry_policy(),
            fsync=self.options.fsync,
            limiter=self.limiter,
        )

    def set_bandwidth_limit(self, bytes_per_second: int | None) -> None:
        """Limit all downloads together to this many bytes/s (``None``: no limit).

        Applies at once, also to the task running now, and to later runs.
        """
        self.settings = dataclasses.replace(
            self.settings, bandwidth_limit_bps=bytes_per_second or 0
        )
        self.limiter.set_rate(bytes_per_second or None)

    # -- session -------------------------------------------------------------------

    @property
    def user(self) -> UserContext | None:
        return self.scheduler.user

    def _require_user(self) -> UserContext:
        ctx = self.scheduler.user
        if ctx is None:
            raise ActionError("not_signed_in")
        return ctx

    async def login(
        self, server_url: str, username: str, password: str, user_type: str | None = None
    ) -> UserContext:
        """:meth:`Session.sign_in`, returning the engine context (the CLI, tests)."""
        await self.session.sign_in(server_url, username, password, user_type)
        ctx = self.scheduler.user
        assert ctx is not None
        return ctx

    async def _session_started(self, ctx: UserContext) -> None:
        if self._locking:
            self.scheduler.hold()  # until this process holds the identity's queue
            if not self._take_queue(ctx):
                self._lock_waits[id(ctx)] = asyncio.get_running_loop().create_task(
                    self._wait_for_queue(ctx)
                )
                return
            self.scheduler.release()
        if not self.scheduler.held:
            await self._recover(ctx)
            self.scheduler.trigger()

    # -- the queue lock (one queue owner per identity, across processes) ------------

    @property
    def _locking(self) -> bool:
        return self.options.autostart and self.options.queue_owner is not None

    @property
    def queue_owner(self) -> QueueOwner | None:
        """Who runs the signed-in identity's queue in another process, while this one
        waits for it (``None``: this process runs it, or nobody is signed in).
        :class:`~manuscript_gui.core.events.QueueHolder` announces each change."""
        return self._queue_owner

    def _take_queue(self, ctx: UserContext) -> bool:
        """Take the queue lock of *ctx*'s identity; ``False`` if another process holds it
        (then :attr:`queue_owner` says who, and a :class:`QueueHolder` event tells)."""
        assert self.options.queue_owner is not None
        lock = QueueLock(ctx.db.store.path, self.options.queue_owner)
        try:
            taken = lock.try_acquire()
        except OSError as exc:  # a read-only app folder: its database cannot run a queue either
            _log.warning("cannot take the queue lock %s: %s", lock.path, exc)
            taken = True
        if taken:
            self._locks[id(ctx)] = lock
            lock.publish(self.scheduler.running_task_id)
            if self._queue_owner is not None:
                self._queue_owner = None
                ctx.events.publish(QueueHolder(None))
            return True
        owner = lock.owner() or QueueOwner(None, None, None)
        if owner != self._queue_owner:
            self._queue_owner = owner
            ctx.events.publish(QueueHolder(owner))
        return False

    async def _wait_for_queue(self, ctx: UserContext) -> None:
        """Try the lock again every :attr:`ServiceOptions.lock_poll_s` until it is ours,
        then run the queue as a sign-in does. Ends with the session."""
        seen: dict[int, TaskRecord] = {}
        with contextlib.suppress(Exception):  # unread: the first poll announces every task
            seen = {task.id: task for task in await ctx.db.run(ExportStore.list_tasks)}
        try:
            while self.scheduler.user is ctx:
                await asyncio.sleep(self.options.lock_poll_s)
                if self.scheduler.user is not ctx:
                    return
                taken = self._take_queue(ctx)
                # The other process changes the rows: show its progress (and its last
                # words before this one runs the queue). A failed read only delays that.
                try:
                    seen = await self._announce_changes(ctx, seen)
                except Exception:
                    _log.exception("reading the task list another process changes")
                if taken:
                    self.scheduler.release()
                    await self._recover(ctx)
                    self.scheduler.trigger()
                    return
        finally:
            self._lock_waits.pop(id(ctx), None)

    async def _announce_changes(
        self, ctx: UserContext, seen: dict[int, TaskRecord]
    ) -> dict[int, TaskRecord]:
        """Publish what another process changed in the task list since *seen* (added,
        changed, removed tasks, a new order); returns the list as it is now."""
        tasks = await ctx.db.run(ExportStore.list_tasks)
        now = {task.id: task for task in tasks}
        for task_id in seen.keys() - now.keys():
            ctx.events.publish(TaskRemoved(task_id))
        for task in tasks:
            old = seen.get(task.id)
            if old is None:
                ctx.events.publish(TaskAdded(task))
            elif old != task:
                ctx.events.publish(TaskChanged(task))
        order = tuple(now)
        if [i for i in seen if i in now] != [i for i in order if i in seen]:
            ctx.events.publish(QueueReordered(order))
        return now

    async def _release_queue(self, ctx: UserContext) -> None:
        wait = self._lock_waits.pop(id(ctx), None)
        if wait is not None:
            wait.cancel()
            await asyncio.gather(wait, return_exceptions=True)
        lock = self._locks.pop(id(ctx), None)
        if lock is not None:
            lock.release()
        self._queue_owner = None

    def _publish_owner_record(self, event: Event) -> None:
        """Keep the owner record naming the task this process runs (``queue.owner``)."""
        if isinstance(event, SchedulerState):
            ctx = self.scheduler.user
            lock = None if ctx is None else self._locks.get(id(ctx))
            if lock is not None:
                lock.publish(event.running_task_id)

    def _require_queue(self) -> None:
        """Task actions wait while another process runs this identity's queue."""
        owner = self._queue_owner
        if owner is not None:
            raise ActionError("queue_in_use", front_end=owner.front_end, pid=owner.pid)

    async def start_queue(self) -> None:
        """Run the signed-in identity's queue (after ``autostart=False`` or :meth:`stop_queue`):
        tasks left initializing by a crash list again, then the scheduler pulls.

        Raises:
            ActionError: ``not_signed_in``; ``queue_in_use`` while another process runs it.
        """
        ctx = self._require_user()
        self._require_queue()
        self.scheduler.release()
        await self._recover(ctx)
        self.scheduler.trigger()

    async def stop_queue(self, reason: StopReason = StopReason.BY_USER) -> None:
        """Stop the running task and any listing, and start nothing more (the CLI's Ctrl-C).

        The running task pauses with *reason*, as with :meth:`pause`; a task
        stopped while listing pauses too and lists again when resumed. The
        session stays; :meth:`start_queue` runs the queue again.
        """
        ctx = self._require_user()
        self.scheduler.hold()
        for key, job in list(self._listings.items()):
            if key[0] != id(ctx):
                continue
            job.cancel()
            await asyncio.gather(job, return_exceptions=True)
            if (await self._get(ctx, key[1])).status is TaskStatus.INITIALIZING:
                await self._transition(ctx, key[1], Transition.PAUSE, reason=reason)
        await self.scheduler.stop_running(reason)
        await self.scheduler.wait_idle()

    async def logout(self) -> None:
        """:meth:`Session.sign_out`."""
        await self.session.sign_out()

    async def close(self) -> None:
        """App quit: stop like a sign-out."""
        await self.session.sign_out()

    async def _session_ending(self, ctx: UserContext) -> None:
        await self._stop_listings(ctx)
        await self._release_queue(ctx)

    async def _stop_listings(self, ctx: UserContext) -> None:
        for key, job in list(self._listings.items()):
            if key[0] == id(ctx):
                job.cancel()
                await asyncio.gather(job, return_exceptions=True)

    def _login_expired(self, ctx: UserContext) -> None:
        self.login_expired_count += 1
        self.session.expired(ctx)

    async def _recover(self, ctx: UserContext) -> None:
        """Before a queue runs (sign-in, start-up, after a crash).

        Rows that disagree with their task's status are repaired (never
        "completed" with files missing); a task left initializing lists again
        from scratch; the staging folder a canceled task left (a crash between
        the cancel and the clean-up) is removed.
        """
        repaired = await ctx.db.run(ExportStore.repair)
        for task in await ctx.db.run(ExportStore.list_tasks):
            if task.id in repaired:
                ctx.events.publish(TaskChanged(task))
            listing = (id(ctx), task.id) in self._listings  # already listing here
            if task.status is TaskStatus.INITIALIZING and not listing:
                self._start_listing(ctx, task)
            elif task.status is TaskStatus.CANCELED:
                await asyncio.to_thread(remove_staging, Path(task.target_dir), task.staging_key)

    # -- queries -------------------------------------------------------------------

    async def tasks(self) -> list[TaskRecord]:
        ctx = self._require_user()
        return await ctx.db.run(ExportStore.list_tasks)

    async def task(self, task_id: int) -> TaskRecord:
        ctx = self._require_user()
        return await self._get(ctx, task_id)

    def is_running(self, task_id: int) -> bool:
        return self.scheduler.running_task_id == task_id

    async def _get(self, ctx: UserContext, task_id: int) -> TaskRecord:
        try:
            return await ctx.db.run(ExportStore.get_task, task_id)
        except LookupError:
            raise ActionError("no_task", task=task_id) from None

    # -- create --------------------------------------------------------------------

    @staticmethod
    def default_task_name(items: Sequence[SelectionItem]) -> str:
        """The name :meth:`create_export` gives a task of *items* when given none: the
        first item's project (whole) or folder name, plus ``" (+n)"`` for *n* more.

        Raises:
            ActionError: ``no_selection`` for no items.
        """
        if not items:
            raise ActionError("no_selection")
        first = items[0]
        name = first.project_name if first.folder_id == "root" else first.folder_path[-1]
        if len(items) > 1:
            name += f" (+{len(items) - 1})"
        return name

    async def create_export(
        self, items: Iterable[SelectionItem], target_dir: Path, name: str | None = None
    ) -> TaskRecord:
        """Create a task (``initializing``) and start listing its files."""
        ctx = self._require_user()
        self._require_queue()
        chosen = list(items)
        if not chosen:
            raise ActionError("no_selection")
        target = Path(target_dir)
        if not target.is_absolute():  # front ends resolve it: cwd is theirs, not ours
            raise ActionError("relative_target", path=str(target))
        if any(part.casefold() == STAGING_DIR for part in target.parts):
            # Another task's staging folder is removed with that task: files exported
            # there would go with it (case-folded: Windows and macOS ignore case).
            raise ActionError("target_in_staging", path=str(target))
        if name is None:
            name = self.default_task_name(chosen)
        selection = {"items": [item.to_json() for item in chosen]}
        task = await ctx.db.run(ExportStore.create_task, name, str(target), selection)
        ctx.events.publish(TaskAdded(task))
        self._start_listing(ctx, task)
        return task

    def _start_listing(self, ctx: UserContext, task: TaskRecord) -> None:
        job = asyncio.get_running_loop().create_task(self._listing(ctx, task))
        self._listings[(id(ctx), task.id)] = job

    async def wait_listing(self, task_id: int) -> None:
        """Wait for a task's listing to end (the CLI's ``export``, tests)."""
        ctx = self._require_user()
        job = self._listings.get((id(ctx), task_id))
        if job is not None:
            await asyncio.gather(job, return_exceptions=True)

    async def _listing(self, ctx: UserContext, task: TaskRecord) -> None:
        db = ctx.db
        try:
            task = await db.run(ExportStore.transition, task.id, Transition.START_LISTING)
            await list_task_files(
                db,
                ctx.client,
                task,
                ctx.events,
                concurrency=self.options.listing_concurrency,
                policy=self._retry_policy(),
            )
            done = await db.run(ExportStore.transition, task.id, Transition.END_LISTING)
            ctx.events.publish(TaskChanged(done))
            if self.scheduler.user is ctx:
                self.scheduler.trigger()
        except ListingStopped as stop:
            await self._transition(
                ctx,
                task.id,
                Transition.PAUSE,
                reason=stop.reason,
                detail=stop.detail,
                params=stop.params,
            )
            if stop.reason is StopReason.LOGIN_EXPIRED and self.scheduler.user is ctx:
                self.scheduler.set_user(None)
                await self.scheduler.stop_running(StopReason.LOGIN_EXPIRED)
                self._login_expired(ctx)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            _log.exception("listing task %s failed", task.id)
            await self._transition(
                ctx,
                task.id,
                Transition.PAUSE,
                reason=StopReason.UNEXPECTED_ERROR,
                detail=repr(exc),
                params={"error": repr(exc)},
            )
        finally:
            self._listings.pop((id(ctx), task.id), None)

    # -- actions -------------------------------------------------------------------

    async def allowed(self, task_id: int) -> frozenset[Action]:
        """What the task allows now (``core.actions.allowed_actions``, with its place in
        the queue): enable exactly these buttons."""
        ctx = self._require_user()
        tasks = await ctx.db.run(ExportStore.list_tasks)
        allowed = allowed_actions_in_queue(
            tasks, self.scheduler.running_task_id, queue_elsewhere=self._queue_owner is not None
        )
        if task_id not in allowed:
            raise ActionError("no_task", task=task_id)
        return allowed[task_id]

    @contextlib.asynccontextmanager
    async def _action(
        self, task_id: int, action: Action
    ) -> AsyncIterator[tuple[UserContext, TaskRecord]]:
        """One user action on one task: allowed by the rules, and alone (a second action
        on a task whose first is still in flight, a double click, is refused)."""
        ctx = self._require_user()
        if action not in READ_ONLY:
            self._require_queue()
        if task_id in self._busy:
            raise ActionError("busy", action=action.value)
        self._busy.add(task_id)
        try:
            task = await self._get(ctx, task_id)
            if action not in allowed_actions(task, self.is_running(task_id)):
                status = "running" if self.is_running(task_id) else task.status.value
                raise ActionError("not_allowed", action=action.value, status=status)
            yield ctx, task
        finally:
            self._busy.discard(task_id)

    async def pause(self, task_id: int) -> None:
        async with self._action(task_id, Action.PAUSE) as (ctx, _task):
            if self.is_running(task_id):
                await self.scheduler.stop_running(StopReason.BY_USER)
                return
            await self._transition(ctx, task_id, Transition.PAUSE, reason=StopReason.BY_USER)

    async def resume(self, task_id: int) -> None:
        async with self._action(task_id, Action.RESUME) as (ctx, _task):
            fresh = await self._transition(ctx, task_id, Transition.RESUME)
            if fresh.status is TaskStatus.INITIALIZING:  # never fully listed: list again
                self._start_listing(ctx, fresh)
                return
            self.scheduler.trigger()

    async def cancel(self, task_id: int) -> None:
        """Cancel: partial data is removed, files already exported stay."""
        async with self._action(task_id, Action.CANCEL) as (ctx, task):
            if self.is_running(task_id):
                await self.scheduler.stop_running(StopReason.BY_USER, cancel=True)
                return
            job = self._listings.get((id(ctx), task_id))
            if job is not None:
                job.cancel()
                await asyncio.gather(job, return_exceptions=True)
            await self._transition(ctx, task_id, Transition.CANCEL, reason=StopReason.BY_USER)
            await asyncio.to_thread(remove_staging, Path(task.target_dir), task.staging_key)

    async def retry_failed(self, task_id: int) -> int:
        """Put a completed task's failed files back in the queue; returns how many."""
        async with self._action(task_id, Action.RETRY_FAILED) as (ctx, task):
            await self._transition(ctx, task_id, Transition.RETRY_FAILED)
            self.scheduler.trigger()
            return task.failed

    async def move(self, task_id: int, *, up: bool) -> bool:
        """Swap the task with its neighbour in the queue; ``False`` at the queue's end."""
        action = Action.MOVE_UP if up else Action.MOVE_DOWN
        async with self._action(task_id, action) as (ctx, _task):
            fn = ExportStore.move_task_up if up else ExportStore.move_task_down
            moved = await ctx.db.run(fn, task_id)
            if moved:
                order = tuple(t.id for t in await ctx.db.run(ExportStore.list_tasks))
                ctx.events.publish(QueueReordered(order))
            return moved

    async def delete(self, task_id: int) -> None:
        """Remove a finished task from the list; exported files stay on disk."""
        async with self._action(task_id, Action.DELETE) as (ctx, task):
            # Partials first: a crash in between leaves the row, and delete can be repeated.
            await asyncio.to_thread(remove_staging, Path(task.target_dir), task.staging_key)
            await ctx.db.run(ExportStore.delete_task, task_id)
            ctx.events.publish(TaskRemoved(task_id))

    async def failure_report(self, task_id: int, csv_path: Path) -> int:
        """Write the failed files (path, size, version, reason) as CSV; returns how many."""
        async with self._action(task_id, Action.FAILURE_REPORT) as (ctx, _task):
            return await ctx.db.run(_write_report, task_id, Path(csv_path))

    async def folder(self, task_id: int) -> Path:
        """The export folder to open."""
        async with self._action(task_id, Action.OPEN_FOLDER) as (_ctx, task):
            return Path(task.target_dir)

    # -- reads for a window ----------------------------------------------------------

    @property
    def running_task_id(self) -> int | None:
        """The task shown as *running* (derived, never stored)."""
        return self.scheduler.running_task_id

    def _in_flight(self, task_id: int) -> frozenset[int]:
        manager = self.scheduler.running_manager
        if manager is None or manager.task_id != task_id:
            return frozenset()
        return manager.in_flight

    async def files(
        self,
        task_id: int,
        *,
        filter: reads.FileFilter = reads.FileFilter.ALL,
        text: str = "",
        after: int = 0,
        limit: int = 200,
    ) -> reads.FilePage:
        """One page of a task's files (``services/reads.py``: keyset paging on id)."""
        ctx = self._require_user()
        await self._get(ctx, task_id)
        return await ctx.db.run(
            reads.files,
            task_id,
            filter=filter,
            text=text,
            after=after,
            limit=limit,
            in_flight=self._in_flight(task_id),
        )

    async def file_counts(self, task_id: int) -> dict[reads.FileFilter, int]:
        """How many files each filter shows (from the task's counters: no scan)."""
        ctx = self._require_user()
        return reads.file_counts(await self._get(ctx, task_id), self._in_flight(task_id))

    async def bytes_needed(self, task_id: int) -> int:
        """What the task still needs on its export volume (files not there yet)."""
        ctx = self._require_user()
        task = await self._get(ctx, task_id)
        return await asyncio.to_thread(reads.bytes_needed, ctx.db.store, task)

    @staticmethod
    async def free_space(folder: Path) -> int:
        """Free bytes on the volume of *folder* (which need not exist yet)."""
        return await asyncio.to_thread(reads.free_space, Path(folder))

    async def projects(self) -> list[reads.Project]:
        """Every project the signed-in identity may see, in the server's order.

        Each page is retried by the engine's rules (the settings' *retries*).

        Raises:
            ServerCallFailed: a page failed after its retries (``call`` ``"projects"``).
            ProtocolError: code ``cursor_loop``, at once, for a list that would never end.
            Unauthorized: the server ended the session.
        """
        ctx = self._require_user()
        return await self._all_pages(
            "projects",
            PageGuard("listing the projects"),
            lambda cursor: ctx.client.projects_page(cursor=cursor),
        )

    async def children(self, project_id: str, folder_id: str = "root") -> list[reads.ChildEntry]:
        """Every entry of one folder of a project (``"root"``: its top level).

        Folders, files and entries the export cannot fetch (``reads.BadFileEntry``),
        in the server's order. Retries and errors as for :meth:`projects`
        (``call`` ``"children"``).
        """
        ctx = self._require_user()
        return await self._all_pages(
            "children",
            PageGuard(f"the children of folder {folder_id!r} of project {project_id!r}"),
            lambda cursor: ctx.client.children_page(project_id, folder_id, cursor=cursor),
        )

    async def _all_pages(
        self, call: str, guard: PageGuard, fetch: Callable[[str | None], Awaitable[Page[T]]]
    ) -> list[T]:
        """Every item of a paginated listing, each page retried on its own (so that
        :class:`ServerCallFailed` counts one page's attempts)."""
        items: list[T] = []
        cursor: str | None = None
        while True:
            page = await call_server(call, functools.partial(fetch, cursor), self._retry_policy())
            items.extend(page.items)
            cursor = guard.next_cursor(page)
            if cursor is None:
                return items

    async def wait_idle(self) -> None:
        """Wait until the queue has nothing left to run (the CLI, tests)."""
        await self.scheduler.wait_idle()

    async def _transition(
        self,
        ctx: UserContext,
        task_id: int,
        transition: Transition,
        *,
        reason: StopReason | None = None,
        detail: str | None = None,
        params: JsonObject | None = None,
    ) -> TaskRecord:
        """One status change (``ExportStore.transition``), published; a change the task's
        current status does not allow is an :class:`ActionError`."""
        try:
            task = await ctx.db.run(
                ExportStore.transition,
                task_id,
                transition,
                reason=reason,
                detail=detail,
                params=params,
            )
        except InvalidTransition as exc:
            raise ActionError(
                "not_allowed", action=_ACTION_OF[transition].value, status=exc.status
            ) from None
        except ValidationError:
            if transition is Transition.RETRY_FAILED:
                raise ActionError("no_failed_files") from None
            raise
        ctx.events.publish(TaskChanged(task))
        return task


_ACTION_OF = {
    Transition.START_LISTING: Action.RESUME,
    Transition.END_LISTING: Action.RESUME,
    Transition.PAUSE: Action.PAUSE,
    Transition.CANCEL: Action.CANCEL,
    Transition.RESUME: Action.RESUME,
    Transition.RETRY_FAILED: Action.RETRY_FAILED,
    Transition.END_RUN: Action.RESUME,
}


#: A cell starting with one of these is a formula to Excel and LibreOffice (OWASP
#: "CSV injection"): a server-chosen file name like ``=HYPERLINK(...)`` would run.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str | None) -> str | None:
    """Text as a spreadsheet shows it, never as a formula (a leading ``'``)."""
    if text and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def _write_report(store: ExportStore, task_id: int, path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    # utf-8-sig: Excel (what auditors open it with) then reads the Chinese names right.
    with open(path, "w", newline="", encoding="utf-8-sig") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "remote_path", "size", "version", "reason", "message"])
        for file in store.iter_files(task_id, outcome=FileOutcome.FAILED):
            writer.writerow(
                [
                    _cell(file.local_path),
                    _cell(file.remote_path),
                    file.size,
                    file.version,
                    file.error_code,
                    _cell(file.error_message),
                ]
            )
            count += 1
    return count
