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
import csv
import dataclasses
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from manuscript_gui.config import AppPaths, Settings
from manuscript_gui.core.events import (
    EventBus,
    QueueReordered,
    TaskAdded,
    TaskChanged,
    TaskRemoved,
)
from manuscript_gui.core.listing import ListingStopped, SelectionItem, list_task_files
from manuscript_gui.core.retry import RetryPolicy
from manuscript_gui.core.task_manager import RunOptions, remove_staging
from manuscript_gui.core.task_queue import TaskQueueManager, UserContext
from manuscript_gui.domain import (
    FileOutcome,
    JsonObject,
    StopReason,
    TaskRecord,
    TaskStatus,
    Transition,
)
from manuscript_gui.net import DEFAULT_TIMEOUTS, BandwidthLimiter, Timeouts
from manuscript_gui.services.session import Session
from manuscript_gui.storage import ExportStore, InvalidTransition, ValidationError

__all__ = ["ActionError", "ExportService", "ServiceOptions"]

_log = logging.getLogger(__name__)


class ActionError(Exception):
    """A user action that the task's state does not allow, or a missing session."""


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
            on_ending=self._stop_listings,
        )
        """Sign in, switch, sign out, who is signed in (:class:`Session`)."""
        self._listings: dict[tuple[int, int], asyncio.Task[None]] = {}
        self.limiter = BandwidthLimiter(self.settings.bandwidth_limit_bps or None)
        """One bandwidth limit over all downloads of the running task (see
        :meth:`set_bandwidth_limit`)."""
        self.login_expired_count = 0
        if not self.options.autostart:
            self.scheduler.hold()

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
            raise ActionError("not signed in")
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
        if not self.scheduler.held:
            await self._recover(ctx)
            self.scheduler.trigger()

    async def start_queue(self) -> None:
        """Run the signed-in identity's queue (after ``autostart=False`` or :meth:`stop_queue`):
        tasks left initializing by a crash list again, then the scheduler pulls."""
        ctx = self._require_user()
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
            raise ActionError(f"there is no task {task_id}") from None

    # -- create --------------------------------------------------------------------

    async def create_export(
        self, items: Iterable[SelectionItem], target_dir: Path, name: str | None = None
    ) -> TaskRecord:
        """Create a task (``initializing``) and start listing its files."""
        ctx = self._require_user()
        chosen = list(items)
        if not chosen:
            raise ActionError("choose at least one project or folder to export")
        target = Path(target_dir)
        if not target.is_absolute():  # front ends resolve it: cwd is theirs, not ours
            raise ActionError(f"the export folder must be an absolute path: {target}")
        if name is None:
            first = chosen[0]
            name = first.project_name if first.folder_id == "root" else first.folder_path[-1]
            if len(chosen) > 1:
                name += f" (+{len(chosen) - 1})"
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

    async def pause(self, task_id: int) -> None:
        ctx = self._require_user()
        task = await self._get(ctx, task_id)
        if self.is_running(task_id):
            await self.scheduler.stop_running(StopReason.BY_USER)
            return
        if task.status is not TaskStatus.WAITING:
            raise ActionError(f"a task that is {task.status} cannot be paused")
        await self._transition(ctx, task_id, Transition.PAUSE, reason=StopReason.BY_USER)

    async def resume(self, task_id: int) -> None:
        ctx = self._require_user()
        task = await self._get(ctx, task_id)
        if task.status is not TaskStatus.PAUSED:
            raise ActionError(f"only a paused task can be resumed (this one is {task.status})")
        fresh = await self._transition(ctx, task_id, Transition.RESUME)
        if fresh.status is TaskStatus.INITIALIZING:  # never fully listed: list again
            self._start_listing(ctx, fresh)
            return
        self.scheduler.trigger()

    async def cancel(self, task_id: int) -> None:
        """Cancel: partial data is removed, files already exported stay."""
        ctx = self._require_user()
        task = await self._get(ctx, task_id)
        if task.status in (TaskStatus.COMPLETED, TaskStatus.CANCELED):
            raise ActionError(f"a task that is {task.status} cannot be canceled")
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
        ctx = self._require_user()
        task = await self._get(ctx, task_id)
        if task.status is not TaskStatus.COMPLETED:
            raise ActionError("only a completed task has failed files to retry")
        if task.failed == 0:
            raise ActionError("this task has no failed files")
        await self._transition(ctx, task_id, Transition.RETRY_FAILED)
        self.scheduler.trigger()
        return task.failed

    async def move(self, task_id: int, *, up: bool) -> bool:
        ctx = self._require_user()
        task = await self._get(ctx, task_id)
        if task.status is not TaskStatus.WAITING or self.is_running(task_id):
            raise ActionError("only a waiting task can be moved in the queue")
        fn = ExportStore.move_task_up if up else ExportStore.move_task_down
        moved = await ctx.db.run(fn, task_id)
        if moved:
            order = tuple(t.id for t in await ctx.db.run(ExportStore.list_tasks))
            ctx.events.publish(QueueReordered(order))
        return moved

    async def delete(self, task_id: int) -> None:
        """Remove a finished task from the list; exported files stay on disk."""
        ctx = self._require_user()
        task = await self._get(ctx, task_id)
        if task.status not in (TaskStatus.COMPLETED, TaskStatus.CANCELED):
            raise ActionError("only a completed or canceled task can be deleted")
        # Partials first: a crash in between leaves the row, and delete can be repeated.
        await asyncio.to_thread(remove_staging, Path(task.target_dir), task.staging_key)
        await ctx.db.run(ExportStore.delete_task, task_id)
        ctx.events.publish(TaskRemoved(task_id))

    async def failure_report(self, task_id: int, csv_path: Path) -> int:
        """Write the failed files (path, size, version, reason) as CSV; returns how many."""
        ctx = self._require_user()
        await self._get(ctx, task_id)
        return await ctx.db.run(_write_report, task_id, Path(csv_path))

    async def folder(self, task_id: int) -> Path:
        """The export folder to open."""
        ctx = self._require_user()
        return Path((await self._get(ctx, task_id)).target_dir)

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
                f"a task that is {exc.status} cannot be {_PAST[transition]}"
            ) from None
        except ValidationError as exc:
            raise ActionError(str(exc)) from None
        ctx.events.publish(TaskChanged(task))
        return task


_PAST = {
    Transition.START_LISTING: "listed again",
    Transition.END_LISTING: "marked listed",
    Transition.PAUSE: "paused",
    Transition.CANCEL: "canceled",
    Transition.RESUME: "resumed",
    Transition.RETRY_FAILED: "retried",
    Transition.END_RUN: "completed",
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
