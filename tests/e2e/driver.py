"""A child process that drives :class:`ExportService` the way the window does.

The end-to-end tests kill this process (SIGKILL) right inside state changes
that ``manuscript-cli`` cannot reach on its own: signing out or switching
identity while a task runs, canceling the running task, and creating a task
that then runs in the same process (the window's normal life). It uses only
the service's public API, against a real server, with the app's own data
folder (``MANUSCRIPT_GUI_HOME``).

Usage::

    python driver.py ACTION [--after SECONDS] [--to-identity TYPE]
                            [--project ID --to DIR]

Credentials come from the environment, as for ``manuscript-cli``:
``MANUSCRIPT_SERVER``, ``MANUSCRIPT_USER``, ``MANUSCRIPT_PASSWORD``,
``MANUSCRIPT_IDENTITY`` (optional).

Actions:

``logout`` / ``switch`` / ``cancel``
    Run the identity's queue; once a task has been running for ``--after``
    seconds, sign out / sign in as ``--to-identity`` of the same user (a
    switch) / cancel that task.
``create``
    Create an export of ``--project`` into ``--to``, wait for its listing,
    then run the queue to its end.

Output: one line per milestone on stdout, flushed at once, so that the parent
can time its SIGKILL from it:

``RUNNING <task id>``
    the queue runs this task;
``STOP <action> <task id>``
    printed immediately before the state change is requested;
``CREATED <task id> <status>``
    ``create_export`` and the listing returned (the task exists);
``IDLE``
    no waiting task ran within 30 s;
``DONE <status of the task>``
    the action returned and the service is closed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from manuscript_gui.config import Settings, app_paths
from manuscript_gui.core.listing import SelectionItem
from manuscript_gui.services.exports import ExportService, ServiceOptions

#: How long to wait for the queue to start a task before giving up (``IDLE``).
START_TIMEOUT_S = 30.0


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


async def running_task(service: ExportService) -> int | None:
    """The first waiting task in queue order, once it runs (``None``: nothing ran)."""
    waiting = [t for t in await service.tasks() if t.status.value == "waiting"]
    if not waiting:
        return None
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if service.is_running(waiting[0].id):
            return waiting[0].id
        await asyncio.sleep(0.005)
    return None


async def run_to_its_end(service: ExportService, task_id: int) -> str:
    """Wait until the task is no longer waiting (or running); returns its status."""
    while True:
        task = await service.task(task_id)
        if task.status.value not in ("initializing", "waiting"):
            return task.status.value
        await asyncio.sleep(0.05)


async def main(args: argparse.Namespace) -> int:
    server = os.environ["MANUSCRIPT_SERVER"]
    user = os.environ["MANUSCRIPT_USER"]
    password = os.environ["MANUSCRIPT_PASSWORD"]
    identity = os.environ.get("MANUSCRIPT_IDENTITY") or None
    service = ExportService(
        Settings(concurrency=args.concurrency),
        paths=app_paths(),
        options=ServiceOptions(autostart=False),
    )
    await service.login(server, user, password, identity)
    try:
        if args.action == "create":
            assert service.user is not None
            projects = [p async for p in service.user.client.iter_projects()]
            (project,) = [p for p in projects if p.id == args.project]
            task = await service.create_export([SelectionItem(project.id, project.name)], args.to)
            await service.wait_listing(task.id)
            listed = await service.task(task.id)
            say(f"CREATED {task.id} {listed.status.value}")
            await service.start_queue()
            say(f"DONE {await run_to_its_end(service, task.id)}")
            return 0

        await service.start_queue()
        task_id = await running_task(service)
        if task_id is None:
            say("IDLE")
            return 0
        say(f"RUNNING {task_id}")
        await asyncio.sleep(args.after)
        say(f"STOP {args.action} {task_id}")
        if args.action == "logout":
            await service.logout()
            say("DONE logged out")
        elif args.action == "switch":
            await service.login(server, user, password, args.to_identity)
            say("DONE switched")
        else:  # cancel
            await service.cancel(task_id)
            say(f"DONE {(await service.task(task_id)).status.value}")
        return 0
    finally:
        await service.close()


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("action", choices=["logout", "switch", "cancel", "create"])
    parser.add_argument("--after", type=float, default=0.2, help="seconds of running first")
    parser.add_argument("--to-identity", default="manager")
    parser.add_argument("--project")
    parser.add_argument("--to", type=lambda text: Path(os.path.abspath(text)))
    parser.add_argument("--concurrency", type=int, default=4)
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse(sys.argv[1:]))))
