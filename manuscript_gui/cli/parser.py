"""The argument parser of ``manuscript-cli``: the commands, their options, the session flags.

The session flags (``--server``, ``--user``, ``--identity``,
``--password-stdin``, ``--ca-bundle``, ``-v``) are accepted before the command
and after it (``manuscript-cli --user demo tasks`` = ``manuscript-cli tasks
--user demo``); ``--user`` lands in ``args.user_name``. docs/cli.md lists the
commands.
"""

from __future__ import annotations

import argparse
from typing import Any

from manuscript_gui.argtypes import byte_size, whole_number
from manuscript_gui.cli.output import PROG

__all__ = ["FILE_STATES", "TASK_ACTIONS", "build_parser"]

#: The ``files --status`` choices (the ``state`` of a file in docs/cli.md).
FILE_STATES = ("waiting", "paused", "succeeded", "failed")

#: The commands that change one task, with their help; each takes ``TASK``.
TASK_ACTIONS: dict[str, str] = {
    "pause": "pause a waiting task",
    "resume": "put a paused task back in the queue (a task paused while listing lists again)",
    "cancel": "cancel a task: partial data is removed, exported files stay",
    "retry": "queue the failed files of a completed task again",
    "delete": "remove a completed or canceled task from the list (files stay)",
}

_concurrency = whole_number(1, 32)
_file_count = whole_number(1, 100_000)
_task_id = whole_number(1, what="a task id")


def _session_options(parser: argparse.ArgumentParser, default: Any) -> None:
    """The credential flags; accepted before the command and after it."""
    group = parser.add_argument_group("session")
    group.add_argument("--server", default=default, help="server base URL (env MANUSCRIPT_SERVER)")
    group.add_argument(
        "--user",
        dest="user_name",
        metavar="USER",
        default=default,
        help="user name (env MANUSCRIPT_USER)",
    )
    group.add_argument(
        "--identity", default=default, help="identity / userType (env MANUSCRIPT_IDENTITY)"
    )
    group.add_argument(
        "--password-stdin",
        action="store_true",
        default=default if default is argparse.SUPPRESS else False,
        help="read the password from standard input (else env MANUSCRIPT_PASSWORD)",
    )
    group.add_argument(
        "--ca-bundle", default=default, help="PEM file of CA certificates to trust instead"
    )
    group.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default if default is argparse.SUPPRESS else 0,
        help="log what the engine does to stderr (-vv: debug)",
    )


def _run_options(parser: argparse.ArgumentParser) -> None:
    """The options of the commands that run the queue (``export``, ``run``, ``demo``)."""
    parser.add_argument(
        "--concurrency",
        type=_concurrency,
        metavar="N",
        help="files in flight at once, 1-32 (default: the settings, 8)",
    )
    parser.add_argument(
        "--limit-rate",
        type=byte_size,
        metavar="RATE",
        help="most bytes per second for all downloads together, e.g. 500K or 2M "
        "(0: no limit; default: the settings)",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON summary object at the end"
    )


def build_parser() -> argparse.ArgumentParser:
    """The parser; ``args.command`` names the command."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Batch export of audit working papers, without the window.",
        epilog="Exit codes: 0 every file succeeded, 1 finished with failed files, "
        "2 usage error, 3 stopped paused (reason on stderr), "
        "4 server unreachable, unavailable (after retries) or login refused. "
        "See docs/cli.md.",
    )
    _session_options(parser, None)
    common = argparse.ArgumentParser(add_help=False)
    _session_options(common, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, parents=[common])

    command("login", "check the credentials and remember server, user and identity")
    command("logout", "forget the remembered user and identity")
    command("whoami", "log in and show the user and identity")
    projects = command("projects", "the projects this identity may see")
    projects.add_argument("--json", action="store_true", help="JSON lines, one per project")

    export = command("export", "create an export task, then run the queue")
    export.add_argument("project", metavar="PROJECT", help="project id or exact name")
    export.add_argument(
        "--folder",
        action="append",
        default=[],
        metavar="PATH",
        help="only this folder of the project, e.g. 'D 实质性程序/D1 货币资金' (repeatable)",
    )
    export.add_argument("--to", required=True, metavar="DIR", help="the export folder")
    export.add_argument("--name", help="task name (default: the project or folder name)")
    export.add_argument(
        "--no-run", action="store_true", help="create and list the task, leave it waiting"
    )
    _run_options(export)

    run = command("run", "run the queue until it is empty or a task pauses")
    _run_options(run)

    tasks = command("tasks", "the task list with status, reason and counts")
    tasks.add_argument("--json", action="store_true", help="JSON lines, one per task")

    files = command("files", "the files of a task")
    files.add_argument("task", metavar="TASK", type=_task_id)
    files.add_argument("--status", choices=FILE_STATES, help="only files in this state")
    files.add_argument("--json", action="store_true", help="JSON lines, one per file")

    for name, text in TASK_ACTIONS.items():
        action = command(name, text)
        action.add_argument("task", metavar="TASK", type=_task_id)
    move = command("move", "move a waiting task up or down the queue")
    move.add_argument("task", metavar="TASK", type=_task_id)
    move.add_argument("direction", choices=["up", "down"])
    report = command("report", "write a task's failed files as CSV")
    report.add_argument("task", metavar="TASK", type=_task_id)
    report.add_argument("--csv", required=True, metavar="FILE", help="the CSV file to write")

    demo = command("demo", "start a demo server in-process and export one of its projects")
    demo.add_argument(
        "--files",
        type=_file_count,
        default=40,
        metavar="N",
        help="files in each demo project (default: %(default)s)",
    )
    demo.add_argument("--to", metavar="DIR", help="the export folder (default: ./manuscript-demo)")
    _run_options(demo)
    return parser
