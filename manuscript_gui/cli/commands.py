"""The commands that talk to the server or the queue: one coroutine per command.

Each takes the signed-in :class:`~manuscript_gui.services.exports.ExportService`
(:func:`signed_in`: a sign-in retried by the engine's rules, the queue on
hold, signed out at the end) and the parsed arguments, and returns the exit
code. They use the service's public API only: the session
(:attr:`ExportService.session`), the task actions, the reads and the queue.

``logout`` needs no server (:mod:`manuscript_gui.cli.credentials`); ``demo``
lives in :mod:`manuscript_gui.cli.demo`.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from manuscript_gui.cli.credentials import Credentials, remember_login
from manuscript_gui.cli.errors import UsageError, server_call
from manuscript_gui.cli.exit_codes import ExitCode
from manuscript_gui.cli.lookups import find_folder, find_project, list_projects
from manuscript_gui.cli.output import PROG, Progress, say, say_json
from manuscript_gui.cli.runner import owner_text, queue_lock, running
from manuscript_gui.cli.views import TASKS_HEADER, file_json, file_state, task_json, task_row
from manuscript_gui.config import AppPaths, Settings, app_paths
from manuscript_gui.domain import FileStatus, TaskStatus
from manuscript_gui.services.exports import ExportService, SelectionItem, ServiceOptions
from manuscript_gui.services.messages import reason_label, size_text
from manuscript_gui.services.queue_lock import FrontEnd
from manuscript_gui.services.reads import FileFilter

__all__ = ["COMMANDS", "create_and_run", "signed_in", "target_path"]

#: ``files --status``: the service's filter, and the stored status to keep of what it
#: gives (its *waiting* filter holds every open row, waiting or paused).
_FILE_FILTERS: dict[str, tuple[FileFilter, FileStatus | None]] = {
    "waiting": (FileFilter.WAITING, FileStatus.WAITING),
    "paused": (FileFilter.WAITING, FileStatus.PAUSED),
    "succeeded": (FileFilter.SUCCEEDED, None),
    "failed": (FileFilter.FAILED, None),
}
_PAGE = 1000


@contextlib.asynccontextmanager
async def signed_in(
    creds: Credentials, settings: Settings, *, paths: AppPaths | None = None
) -> AsyncIterator[ExportService]:
    """A service signed in with its queue on hold, signed out on the way out.

    The sign-in is retried by the engine's rules; what still fails is a
    :class:`~manuscript_gui.cli.errors.ServerTrouble` (``signing in``); a
    refused login propagates as the service raised it.
    """
    service = ExportService(
        settings, paths=paths or app_paths(), options=ServiceOptions(autostart=False)
    )
    await server_call(
        "signing in",
        service.session.sign_in(
            creds.server, creds.user_name, creds.password, creds.identity, retry=True
        ),
    )
    try:
        yield service
    finally:
        await service.close()


def target_path(text: str) -> Path:
    """A folder or file the user named: ``~`` expanded, relative to the current directory."""
    return Path(os.path.abspath(os.path.expanduser(text)))


# ------------------------------------------------------------------- session


async def whoami(service: ExportService, args: argparse.Namespace) -> ExitCode:
    """Who the server says is signed in."""
    info = await server_call("asking who is signed in", service.session.refresh())
    say(f"{info.user_name} ({info.user_id}) as {info.user_type}")
    return ExitCode.OK


async def login(service: ExportService, args: argparse.Namespace) -> ExitCode:
    """Check the credentials; remember the server, user and identity (no secret).

    ``args.user_name`` is the user name signed in with (the program resolves it).
    """
    info = await server_call("asking who is signed in", service.session.refresh())
    remember_login(info.server_url, args.user_name, info.user_type)
    say(f"logged in to {info.server_url} as {info.user_name} ({info.user_id}) as {info.user_type}")
    say(
        "remembered the server, user and identity; no password or token is stored "
        "(give it with MANUSCRIPT_PASSWORD or --password-stdin)",
        err=True,
    )
    return ExitCode.OK


async def projects(service: ExportService, args: argparse.Namespace) -> ExitCode:
    """The identity's projects: a tab-separated line, or a JSON line, each."""
    for project in await list_projects(service):
        if args.json:
            say_json(
                {
                    "id": project.id,
                    "name": project.name,
                    "code": project.code,
                    "client": project.client,
                    "period": project.period,
                }
            )
        else:
            say(project.id, project.code or "", project.name, sep="\t")
    return ExitCode.OK


# ------------------------------------------------------------------ the queue


async def export(service: ExportService, args: argparse.Namespace) -> ExitCode:
    """Create a task for a project (or some of its folders), then run the queue."""
    project = await find_project(service, args.project)
    items = [await find_folder(service, project, path) for path in args.folder]
    items = items or [SelectionItem(project.id, project.name)]
    return await create_and_run(service, args, items, target_path(args.to), args.name)


async def create_and_run(
    service: ExportService,
    args: argparse.Namespace,
    items: list[SelectionItem],
    target: Path,
    name: str | None,
) -> ExitCode:
    """Create a task, wait through its listing, then run the whole queue (not with
    ``args.no_run``). Shared by ``export`` and ``demo``."""
    async with running(service, json_output=args.json) as runner:
        if not await runner.acquire():
            say(f"{PROG}: stopped before the task was created", err=True)
            return ExitCode.PAUSED
        task = await service.create_export(items, target, name)
        runner.progress.note(f'task {task.id} "{task.name}" -> {task.target_dir}')
        task = await runner.wait_listing(task)
        if task.status is not TaskStatus.WAITING or args.no_run:
            if args.no_run and task.status is TaskStatus.WAITING and not args.json:
                say(
                    f'task {task.id} "{task.name}": {task.total_files:,} files '
                    f"({size_text(task.total_bytes)}) listed, waiting; run it with: {PROG} run"
                )
                return ExitCode.OK
            return await runner.finish(ran=False)
        await runner.run_queue()
        return await runner.finish(ran=True)


async def run(service: ExportService, args: argparse.Namespace) -> ExitCode:
    """Run the queue until it is empty or paused; paused tasks are named, not run."""
    async with running(service, json_output=args.json) as runner:
        if not await runner.acquire():
            say(f"{PROG}: stopped before the queue ran", err=True)
            return ExitCode.PAUSED
        await runner.run_queue()
        code = await runner.finish(ran=True)
        if not runner.touched and not args.json:
            say("nothing to run: the queue has no waiting task")
        if runner.session_ended:  # a 401 ended the session
            return code
        others = [
            t
            for t in await service.tasks()
            if t.status is TaskStatus.PAUSED and t.id not in runner.touched
        ]
        if others:
            ids = " ".join(str(t.id) for t in others)
            say(f"{PROG}: note: paused tasks were not run ({ids}); resume them first", err=True)
        return code


# --------------------------------------------------------------------- reads


async def tasks(service: ExportService, args: argparse.Namespace) -> ExitCode:
    """The task list; a task another process runs shows as running."""
    owner = queue_lock(service).owner()
    running_id = owner.task if owner is not None else None
    rows = await service.tasks()
    if args.json:
        for task in rows:
            say_json(task_json(task, task.id == running_id))
        return ExitCode.OK
    if not rows:
        say("no tasks")
        return ExitCode.OK
    say(TASKS_HEADER)
    for task in rows:
        say(task_row(task, task.id == running_id))
    return ExitCode.OK


async def files(service: ExportService, args: argparse.Namespace) -> ExitCode:
    """The files of a task, page by page: tab-separated columns, or JSON lines."""
    kind, status = _FILE_FILTERS[args.status] if args.status else (FileFilter.ALL, None)
    after = 0
    while True:
        page = await service.files(args.task, filter=kind, after=after, limit=_PAGE)
        for file in page.rows:
            if status is not None and file.status != status:
                continue
            if args.json:
                say_json(file_json(file))
            else:
                cells: list[object] = [file.id, file_state(file), file.size, file.local_path]
                if file.error_code:
                    cells.append(f"{file.error_code}: {file.error_message or ''}")
                say(*cells, sep="\t")
        if page.next_after is None:
            return ExitCode.OK
        after = page.next_after


async def report(service: ExportService, args: argparse.Namespace) -> ExitCode:
    """Write a task's failed files as CSV (only reads: needs no queue lock)."""
    csv_path = target_path(args.csv)
    count = await service.failure_report(args.task, csv_path)
    say(f"task {args.task}: {count:,} failed files written to {csv_path}")
    return ExitCode.OK


# ------------------------------------------------------------------- actions


async def action(service: ExportService, args: argparse.Namespace) -> ExitCode:
    """``pause``, ``resume``, ``cancel``, ``retry``, ``delete``, ``move``: under the
    queue lock for their moment, refused while another process runs the queue."""
    lock = queue_lock(service)
    if not await lock.acquire_soon():
        owner = lock.owner()
        hint = (
            "stop it there first"
            if owner is not None and owner.front_end == FrontEnd.WINDOW
            else "stop it first (Ctrl-C there, or kill -TERM its pid: it pauses its task)"
        )
        raise UsageError(f"this queue is {owner_text(owner)}; {hint}")
    try:
        return await _ACTIONS[args.command](service, args)
    finally:
        lock.release()


async def _pause(service: ExportService, args: argparse.Namespace) -> ExitCode:
    await service.pause(args.task)
    say(f"task {args.task} paused")
    return ExitCode.OK


async def _resume(service: ExportService, args: argparse.Namespace) -> ExitCode:
    task_id: int = args.task
    await service.resume(task_id)
    task = await service.task(task_id)
    if task.status is TaskStatus.INITIALIZING:  # paused while listing: list again now
        progress = Progress(sys.stdout, sys.stdout.isatty())
        unsubscribe = service.events.subscribe(progress)
        try:
            await service.wait_listing(task_id)
        finally:
            unsubscribe()
            progress.clear()
        task = await service.task(task_id)
    if task.status is TaskStatus.PAUSED:
        say(f"{PROG}: paused: {reason_label(task.reason)} (task {task_id})", err=True)
        return ExitCode.PAUSED
    say(f"task {task_id} is {task.status.value}; run the queue with: {PROG} run")
    return ExitCode.OK


async def _cancel(service: ExportService, args: argparse.Namespace) -> ExitCode:
    await service.cancel(args.task)
    say(f"task {args.task} canceled; partial data removed, exported files stay")
    return ExitCode.OK


async def _retry(service: ExportService, args: argparse.Namespace) -> ExitCode:
    count = await service.retry_failed(args.task)
    say(f"task {args.task}: {count:,} failed files queued again; run them with: {PROG} run")
    return ExitCode.OK


async def _delete(service: ExportService, args: argparse.Namespace) -> ExitCode:
    await service.delete(args.task)
    say(f"task {args.task} deleted from the list; its exported files stay")
    return ExitCode.OK


async def _move(service: ExportService, args: argparse.Namespace) -> ExitCode:
    if await service.move(args.task, up=args.direction == "up"):
        say(f"task {args.task} moved {args.direction}")
    else:
        edge = "first" if args.direction == "up" else "last"
        say(f"task {args.task} is already {edge} in the queue")
    return ExitCode.OK


Command = Callable[[ExportService, argparse.Namespace], Awaitable[ExitCode]]

_ACTIONS: dict[str, Command] = {
    "pause": _pause,
    "resume": _resume,
    "cancel": _cancel,
    "retry": _retry,
    "delete": _delete,
    "move": _move,
}
#: Every command that signs in, by name (``logout`` and ``demo`` do not).
COMMANDS: dict[str, Command] = {
    "whoami": whoami,
    "login": login,
    "projects": projects,
    "export": export,
    "run": run,
    "tasks": tasks,
    "files": files,
    "report": report,
    **dict.fromkeys(_ACTIONS, action),
}
