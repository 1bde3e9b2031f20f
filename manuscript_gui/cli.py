"""Headless command line (``manuscript-cli``) on the same layers as the window.

docs/cli.md describes the command set and its decisions. In short:

- ``login`` / ``logout`` / ``whoami``, ``projects`` talk to the server through
  the API client; ``login`` only checks the credentials and remembers the
  server, user and identity in the settings (never a token or a password).
- ``export``, ``run``, ``tasks``, ``files``, the task actions and ``report`` go
  through :class:`ExportService`, exactly like the window: one SQLite queue per
  server + user + identity, shared with the window.
- ``demo`` starts the reference server in-process and exports one project.

Every command that needs the server logs in first (no token is stored), with
credentials from flags, the environment (``MANUSCRIPT_SERVER``,
``MANUSCRIPT_USER``, ``MANUSCRIPT_IDENTITY``, ``MANUSCRIPT_PASSWORD``) or
``--password-stdin``, else what ``login`` remembered; the password and the
token are never printed.

The service starts with its queue on hold (``ServiceOptions(autostart=False)``):
only ``export``, ``run`` and ``demo`` run it, under an OS lock next to the
identity's database so two processes never run one queue at once. Ctrl-C or
SIGTERM pauses the running task (*by you*) and exits 3.

Exit codes (docs/cli.md): 0 every file succeeded · 1 finished with failed
files · 2 usage error · 3 stopped paused · 4 server unreachable, unavailable
after the retries, or the login refused · 141 standard output closed by its
reader.

Everything printed for people goes through :func:`_say` (and the progress
line, and the log handler), which shows control and format characters from
the server as escapes (:func:`terminal_safe`); ``--json`` goes through
:func:`_say_json` and stays exact. The CLI's own server calls (sign-in,
project and folder lookups) are retried by the engine's rules
(:func:`~manuscript_gui.core.retry.with_retries`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import functools
import getpass
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
import unicodedata
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TextIO, TypeVar

from manuscript_gui.argtypes import byte_size, whole_number
from manuscript_gui.config import (
    AppPaths,
    Settings,
    app_paths,
    load_settings,
    save_settings,
)
from manuscript_gui.core.events import Event, ListingProgress, SchedulerState, TaskProgress
from manuscript_gui.core.listing import SelectionItem
from manuscript_gui.core.retry import RetryPolicy, Trouble, classify, with_retries
from manuscript_gui.core.task_manager import TaskManager
from manuscript_gui.core.task_queue import UserContext
from manuscript_gui.domain import (
    FileOutcome,
    FileRecord,
    FileStatus,
    StopReason,
    TaskRecord,
    TaskStatus,
)
from manuscript_gui.net import (
    ApiClient,
    ApiError,
    ChildEntry,
    FolderEntry,
    IdentityNotAllowed,
    InvalidCredentials,
    NetworkError,
    Page,
    PageGuard,
    Project,
    Unauthorized,
)
from manuscript_gui.services.exports import ActionError, ExportService, ServiceOptions
from manuscript_gui.storage import ExportStore, StorageError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_PAUSED = 3
EXIT_UNREACHABLE = 4
#: Standard output was closed by its reader (128 + SIGPIPE, what a shell reports
#: for a program a closed pipe stopped).
EXIT_PIPE_CLOSED = 141

PROG = "manuscript-cli"

_log = logging.getLogger(__name__)
T = TypeVar("T")

#: What a stop reason says to a person (docs/behaviour.md); codes from a newer app pass through.
REASONS: dict[str, str] = {
    StopReason.BY_USER: "by you",
    StopReason.LOGIN_EXPIRED: "login expired",
    StopReason.LOGGED_OUT: "logged out",
    StopReason.SWITCHED_USER: "switched user",
    StopReason.DISK_FULL: "disk full",
    StopReason.FOLDER_NOT_WRITABLE: "export folder not writable",
    StopReason.SERVER_UNREACHABLE: "server unreachable",
    StopReason.SERVER_UNAVAILABLE: "server unavailable",
    StopReason.EXPORT_IN_USE: "export in use by another process",
    StopReason.LISTING_FAILED: "listing failed",
    StopReason.UNEXPECTED_ERROR: "unexpected error",
}

_FILE_FILTERS: dict[str, dict[str, Any]] = {
    "waiting": {"status": FileStatus.WAITING},
    "paused": {"status": FileStatus.PAUSED},
    "succeeded": {"outcome": FileOutcome.SUCCEEDED},
    "failed": {"outcome": FileOutcome.FAILED},
}


class UsageError(Exception):
    """Something the user asked for that cannot be (an unknown project, task, folder...)."""


@dataclasses.dataclass(frozen=True)
class Credentials:
    server: str
    user: str
    password: str
    identity: str | None


# ------------------------------------------------------------------------- parser


_concurrency = whole_number(1, 32)
_file_count = whole_number(1, 100_000)
_task_id = whole_number(1, what="a task id")


def _session_options(parser: argparse.ArgumentParser, default: Any) -> None:
    """The credential flags; accepted before the command and after it."""
    group = parser.add_argument_group("session")
    group.add_argument("--server", default=default, help="server base URL (env MANUSCRIPT_SERVER)")
    group.add_argument("--user", default=default, help="user name (env MANUSCRIPT_USER)")
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


def build_parser() -> argparse.ArgumentParser:
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
    files.add_argument("--status", choices=list(_FILE_FILTERS), help="only files in this state")
    files.add_argument("--json", action="store_true", help="JSON lines, one per file")

    for name, text in (
        ("pause", "pause a waiting task"),
        ("resume", "put a paused task back in the queue (a task paused while listing lists again)"),
        ("cancel", "cancel a task: partial data is removed, exported files stay"),
        ("retry", "queue the failed files of a completed task again"),
        ("delete", "remove a completed or canceled task from the list (files stay)"),
    ):
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


def _run_options(parser: argparse.ArgumentParser) -> None:
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


# ------------------------------------------------------------------------ output

#: Characters never written raw in human-readable output: controls (C0, DEL, C1:
#: ESC starts terminal sequences, CR and BS overwrite what was shown), format
#: characters (bidi overrides and isolates such as U+202E, zero-width ones, BOM),
#: line and paragraph separators, and lone surrogates.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _unsafe(char: str) -> bool:
    return unicodedata.category(char) in _UNSAFE_CATEGORIES


def _escaped(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def terminal_safe(text: str) -> str:
    """``text`` as the command line shows it: every control, format, line/paragraph
    separator and lone-surrogate character as a backslash escape.

    ``\\xNN`` up to U+00FF, ``\\uNNNN`` in the BMP, ``\\UNNNNNNNN`` beyond:
    ESC (U+001B) is shown as ``\\x1b``, a tab as ``\\x09``, U+202E RIGHT-TO-LEFT
    OVERRIDE as ``\\u202e``. Everything else (CJK, spaces, accents, right-to-left
    letters) stays as it is. Names, paths and messages come from the server and
    must not clear the screen, recolour it, reorder what follows or fake a line.
    The escapes are for reading; ``--json`` gives the exact text.
    """
    if text.isprintable():  # fast path: no Cc/Cf/Cs/Zl/Zp (nor Zs other than " ")
        return text
    return "".join(_escaped(c) if _unsafe(c) else c for c in text)


def _json_escaped(char: str) -> str:
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # a UTF-16 surrogate pair, as JSON spells characters beyond the BMP
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def json_text(value: object) -> str:
    """``value`` as one line of JSON that is exact and safe on a terminal.

    ``json.dumps`` escapes C0 controls but writes DEL, C1 controls, format
    characters (U+202E, zero-width ones), U+2028/U+2029 and lone surrogates
    raw. Those are written as ``\\uXXXX`` escapes here: a JSON reader gets
    exactly the same strings back, Chinese names stay readable (no
    ``ensure_ascii``), and a terminal that shows the output is never driven
    by it.
    """
    text = json.dumps(value, ensure_ascii=False)
    if text.isprintable():
        return text
    # Outside strings JSON has only ASCII punctuation, digits and letters: every
    # unsafe character is inside a string, where an escape means the same.
    return "".join(_json_escaped(c) if _unsafe(c) else c for c in text)


def _say(*parts: object, sep: str = " ", err: bool = False) -> None:
    """Print one line of human-readable output (stdout, or stderr with ``err``).

    The one place where such output is made safe: every part goes through
    :func:`terminal_safe`; ``sep`` (a tab between columns) and the line end
    are the command line's own.
    """
    stream = sys.stderr if err else sys.stdout
    print(*(terminal_safe(str(part)) for part in parts), sep=sep, file=stream)


def _say_json(value: object) -> None:
    """Print one line of ``--json`` output (see :func:`json_text`)."""
    print(json_text(value))


class _SafeFormatter(logging.Formatter):
    """Log lines on stderr made safe like :func:`_say` (messages quote the server)."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        return terminal_safe(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:
        text = super().formatException(ei)
        return "\n".join(terminal_safe(line) for line in text.split("\n"))


# -------------------------------------------------------------------- formatting


def _size(n: float) -> str:
    for unit, factor in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= factor:
            return f"{n / factor:.1f} {unit}"
    return f"{int(n)} B"


def _duration(seconds: float) -> str:
    s = int(seconds + 0.5)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _reason(code: str | None) -> str:
    return REASONS.get(code or "", code or "unknown reason")


def _state(task: TaskRecord, running: bool) -> str:
    return "running" if running else task.status.value


def _task_json(task: TaskRecord, running: bool = False) -> dict[str, Any]:
    return {
        "id": task.id,
        "name": task.name,
        "status": task.status.value,
        "running": running,
        "reason": task.reason,
        "reason_detail": task.reason_detail,
        "target_dir": task.target_dir,
        "position": task.position,
        "listed": task.listed,
        "total_files": task.total_files,
        "succeeded": task.succeeded,
        "failed": task.failed,
        "remaining": task.remaining_files,
        "total_bytes": task.total_bytes,
        "done_bytes": task.done_bytes,
        "created_at": task.created_at.isoformat(),
        "updated_at": task.updated_at.isoformat(),
        "finished_at": task.finished_at.isoformat() if task.finished_at else None,
    }


def _file_state(file: FileRecord) -> str:
    return file.outcome.value if file.outcome is not None else file.status.value


def _file_json(file: FileRecord) -> dict[str, Any]:
    return {
        "id": file.id,
        "task": file.task_id,
        "state": _file_state(file),
        "status": file.status.value,
        "outcome": file.outcome.value if file.outcome is not None else None,
        "local_path": file.local_path,
        "remote_path": file.remote_path,
        "remote_id": file.remote_id,
        "project_id": file.project_id,
        "version": file.version,
        "size": file.size,
        "sha256": file.sha256,
        "error_code": file.error_code,
        "error_message": file.error_message,
        "attempts": file.attempts,
    }


def _describe(task: TaskRecord) -> str:
    """One summary line for a task after a run."""
    head = f'task {task.id} "{task.name}"'
    done = task.succeeded + task.failed
    if task.status is TaskStatus.COMPLETED:
        return (
            f"{head}: completed, {task.succeeded:,} files succeeded, {task.failed:,} failed "
            f"({_size(task.done_bytes)}) -> {task.target_dir}"
        )
    if task.status is TaskStatus.PAUSED:
        return (
            f"{head}: paused ({_reason(task.reason)}), {done:,} of {task.total_files:,} files done"
        )
    if task.status is TaskStatus.CANCELED:
        return f"{head}: canceled, {task.succeeded:,} files exported stay"
    return f"{head}: {task.status.value}, {done:,} of {task.total_files:,} files done"


class Progress:
    """The single updating line on a terminal; silent otherwise.

    Fed by engine events; redraws at most ten times a second. :meth:`note`
    prints a permanent line above it. Texts are made safe like :func:`_say`
    (a task's name comes from the server); the carriage return and the
    erase-line sequence around them are the progress line's own.
    """

    def __init__(self, stream: TextIO, enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self._shown = False
        self._last = 0.0

    def __call__(self, event: Event) -> None:
        if not self.enabled:
            return
        if isinstance(event, ListingProgress):
            self.show(
                f"task {event.task_id}: listing… found {event.found:,} files "
                f"({_size(event.found_bytes)})"
            )
        elif isinstance(event, TaskProgress):
            self.show(self.progress_text(event))

    @staticmethod
    def progress_text(event: TaskProgress) -> str:
        text = (
            f"task {event.task_id}: {event.files_done:,}/{event.files_total:,} files  "
            f"{_size(event.bytes_done)}/{_size(event.bytes_total)}  {_size(event.rate)}/s"
        )
        left = event.bytes_total - event.bytes_done
        if event.rate > 0 and left > 0:
            text += f"  ETA {_duration(left / event.rate)}"
        return text

    def show(self, text: str, *, force: bool = False) -> None:
        now = time.monotonic()
        if not self.enabled or (not force and now - self._last < 0.1):
            return
        self._last = now
        width = shutil.get_terminal_size((100, 24)).columns - 1
        self.stream.write("\r" + terminal_safe(text)[:width] + "\x1b[K")
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        if self.enabled and self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False

    def note(self, text: str) -> None:
        if self.enabled:
            self.clear()
            self.stream.write(terminal_safe(text) + "\n")
            self.stream.flush()


# -------------------------------------------------------------------- queue lock


class QueueLock:
    """Which process runs an identity's queue: an OS file lock beside its database.

    ``export``, ``run`` and ``demo`` hold it while they run the queue; the task
    actions take it for their moment; ``tasks`` only looks. The holder writes
    its pid and running task to a sidecar file so others can say who runs
    what. The OS drops the lock when its process dies, even by ``kill -9``.
    """

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name("queue.lock")
        self.owner_path = db_path.with_name("queue.owner")
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self, *, publish: bool = True) -> bool:
        """Take the lock if it is free (never waits)."""
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _lock_fd(fd)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        if publish:
            self.publish(None)
        return True

    async def acquire_soon(self, within: float = 1.0) -> bool:
        """Take the lock, retrying briefly (another command may be looking at it)."""
        deadline = time.monotonic() + within
        while not self.try_acquire():
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.1)
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            self.owner_path.unlink()
        os.close(self._fd)  # closing the descriptor drops the lock
        self._fd = None

    def publish(self, running_task: int | None) -> None:
        """Tell other processes who holds the queue and which task runs (best effort)."""
        if self._fd is None:
            return
        data = json.dumps({"pid": os.getpid(), "task": running_task})
        tmp = self.owner_path.with_name(f"{self.owner_path.name}.{os.getpid()}.tmp")
        with contextlib.suppress(OSError):
            tmp.write_text(data, encoding="utf-8")
            os.replace(tmp, self.owner_path)

    def owner(self) -> dict[str, Any] | None:
        """The holder's pid and running task when *another* process holds the lock."""
        if self._fd is not None:
            return None
        if self.try_acquire(publish=False):
            self.release()
            return None
        try:
            data = json.loads(self.owner_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        return data if isinstance(data, dict) else {"pid": None, "task": None}


def _lock_fd(fd: int) -> None:
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _who(owner: dict[str, Any]) -> str:
    pid = owner.get("pid")
    return f"{PROG} (pid {pid})" if pid else f"another {PROG}"


# ----------------------------------------------------------------- credentials


def _credentials(
    args: argparse.Namespace, parser: argparse.ArgumentParser, settings: Settings
) -> Credentials:
    """Flags, then the environment, then what ``login`` remembered."""
    server = args.server or os.environ.get("MANUSCRIPT_SERVER") or settings.server_url or None
    user = args.user or os.environ.get("MANUSCRIPT_USER") or settings.last_user
    identity = args.identity or os.environ.get("MANUSCRIPT_IDENTITY") or None
    if identity is None and user == settings.last_user and server == settings.server_url:
        identity = settings.last_identity
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = os.environ.get("MANUSCRIPT_PASSWORD", "")
        if not password and user and sys.stdin.isatty():
            password = getpass.getpass(f"Password for {user}: ")
    missing = [name for name, value in (("--server", server), ("--user", user)) if not value] + (
        [] if password else ["a password (MANUSCRIPT_PASSWORD or --password-stdin)"]
    )
    if missing:
        parser.error("missing " + ", ".join(missing))
    return Credentials(server or "", user or "", password, identity)


# ----------------------------------------------------------- the CLI's own calls


class ServerTrouble(Exception):
    """A server call of the command line itself (not the engine's) failed for good.

    Raised by :func:`_call_server` with the error :func:`with_retries` gave
    up on; ``attempts`` counts the requests made (1: the answer will not
    change, it was not repeated). Exit code 4 (docs/cli.md).
    """

    def __init__(self, what: str, error: ApiError, attempts: int) -> None:
        super().__init__(what, error, attempts)
        self.what = what
        self.error = error
        self.attempts = attempts

    def __str__(self) -> str:
        trouble = classify(self.error)
        if trouble in (Trouble.UNREACHABLE, Trouble.TLS):
            head = "server unreachable: "
        elif trouble in (Trouble.SERVER, Trouble.BACKPRESSURE):
            head = "server unavailable: "
        else:
            head = ""
        text = f"{head}{self.what} failed"
        if self.attempts > 1:
            retries = self.attempts - 1
            text += f" after {self.attempts} attempts ({retries} "
            text += "retry)" if retries == 1 else "retries)"
        return f"{text}: {self.error}"


def _retry_policy(settings: Settings) -> RetryPolicy:
    """The engine's retry rules with the user's *retries* setting (as the engine uses)."""
    return RetryPolicy(retries=settings.retries)


async def _call_server(what: str, call: Callable[[], Awaitable[T]], policy: RetryPolicy) -> T:
    """``await call()`` with the engine's retries (:func:`with_retries`).

    ``what`` says what the call does (``"listing the projects"``), for the
    message. A refused login or an ended session propagate as they are (main
    names them); any other error that survives the retries becomes
    :class:`ServerTrouble`.
    """
    attempts = 0

    async def attempt() -> T:
        nonlocal attempts
        attempts += 1
        return await call()

    try:
        return await with_retries(attempt, policy)
    except (Unauthorized, InvalidCredentials, IdentityNotAllowed):
        raise
    except ApiError as exc:
        raise ServerTrouble(what, exc, attempts) from exc


async def _all_pages(
    what: str, fetch: Callable[[str | None], Awaitable[Page[T]]], policy: RetryPolicy
) -> list[T]:
    """Every item of a paginated listing: each page retried on its own, the cursors
    guarded by :class:`PageGuard` (a loop raises ProtocolError ``cursor_loop``)."""
    guard = PageGuard(what)
    items: list[T] = []
    cursor: str | None = None
    while True:
        page = await _call_server(what, functools.partial(fetch, cursor), policy)
        items.extend(page.items)
        cursor = guard.next_cursor(page)
        if cursor is None:
            return items


async def _list_projects(client: ApiClient, policy: RetryPolicy) -> list[Project]:
    return await _all_pages(
        "listing the projects", lambda cursor: client.projects_page(cursor=cursor), policy
    )


async def _end_session(client: ApiClient) -> None:
    """Log out on the server; a failure is logged, never the command's outcome.

    Not retried: :meth:`ApiClient.logout` forgets the token at the first
    attempt (no later call can use it); the server lets it expire.
    """
    try:
        await client.logout()
    except ApiError as exc:
        _log.info("server logout failed (the session ends here anyway): %s", exc)


# ------------------------------------------------------- commands on the client


async def _whoami(client: ApiClient, args: argparse.Namespace) -> int:
    me = await _call_server("asking who is signed in", client.me, args.policy)
    _say(f"{me.user.name} ({me.user.id}) as {me.user_type}")
    return EXIT_OK


async def _projects(client: ApiClient, args: argparse.Namespace) -> int:
    for project in await _list_projects(client, args.policy):
        if args.json:
            row = {
                "id": project.id,
                "name": project.name,
                "code": project.code,
                "client": project.client,
                "period": project.period,
            }
            _say_json(row)
        else:
            _say(project.id, project.code or "", project.name, sep="\t")
    return EXIT_OK


async def _login(client: ApiClient, args: argparse.Namespace) -> int:
    me = await _call_server("asking who is signed in", client.me, args.policy)
    loaded = load_settings()
    creds: Credentials = args.creds
    remembered = dataclasses.replace(
        loaded.settings,
        server_url=creds.server,
        last_user=creds.user,
        last_identity=me.user_type,
    )
    save_settings(remembered)
    _say(f"logged in to {creds.server} as {me.user.name} ({me.user.id}) as {me.user_type}")
    _say(
        "remembered the server, user and identity; no password or token is stored "
        "(give it with MANUSCRIPT_PASSWORD or --password-stdin)",
        err=True,
    )
    return EXIT_OK


CLIENT_COMMANDS: dict[str, Callable[[ApiClient, argparse.Namespace], Awaitable[int]]] = {
    "whoami": _whoami,
    "projects": _projects,
    "login": _login,
}


async def _run_client(creds: Credentials, settings: Settings, args: argparse.Namespace) -> int:
    policy = _retry_policy(settings)
    async with ApiClient(creds.server, ca_bundle=args.ca_bundle) as client:
        try:
            await _call_server(
                "signing in",
                lambda: client.login(creds.user, creds.password, creds.identity),
                policy,
            )
            args.creds = creds
            args.policy = policy
            return await CLIENT_COMMANDS[args.command](client, args)
        finally:
            await _end_session(client)


def _logout(settings: Settings) -> int:
    if settings.last_user is None and settings.last_identity is None:
        _say("no user was remembered", err=True)
        return EXIT_OK
    who = f"{settings.last_user}/{settings.last_identity or 'default'}"
    save_settings(dataclasses.replace(settings, last_user=None, last_identity=None))
    _say(f"forgot {who}; no session or password is kept between commands")
    return EXIT_OK


# ------------------------------------------------------ commands on the service


@contextlib.asynccontextmanager
async def _signed_in(
    creds: Credentials,
    settings: Settings,
    *,
    paths: AppPaths | None = None,
) -> AsyncIterator[tuple[ExportService, UserContext]]:
    """A service signed in with its queue on hold, closed on the way out."""
    service = ExportService(
        settings, paths=paths or app_paths(), options=ServiceOptions(autostart=False)
    )
    ctx = await _call_server(
        "signing in",
        lambda: service.login(creds.server, creds.user, creds.password, creds.identity),
        _retry_policy(settings),
    )
    try:
        yield service, ctx
    finally:
        await service.close()
        if not ctx.closed:
            # A 401 cleared the service's user, so close() could not end this session.
            await ctx.client.aclose()
            await ctx.db.close()
            ctx.closed = True


class Runner:
    """Runs the queue for ``export``, ``run`` and ``demo``: progress, signals, summary."""

    def __init__(
        self,
        service: ExportService,
        ctx: UserContext,
        lock: QueueLock,
        args: argparse.Namespace,
    ) -> None:
        self.service = service
        self.ctx = ctx
        self.lock = lock
        self.json = bool(args.json)
        self.progress = Progress(sys.stdout, sys.stdout.isatty() and not self.json)
        self.touched: dict[int, None] = {}  # ordered set of task ids this run worked on
        self.managers: list[TaskManager] = []
        self.interrupted = False
        self.started = time.monotonic()
        self._stopping: asyncio.Task[None] | None = None
        self._signals: list[signal.Signals] = []
        self._unsubscribe = service.events.subscribe(self._on_event)

    # -- events and signals ---------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if isinstance(event, SchedulerState):
            manager = self.service.scheduler.running_manager
            if event.running_task_id is not None:
                self.touched[event.running_task_id] = None
            if manager is not None and manager not in self.managers:
                self.managers.append(manager)
            self.lock.publish(event.running_task_id)
        self.progress(event)

    def install_signals(self) -> None:
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
            _say(f"{PROG}: stopped at once", err=True)
            os._exit(EXIT_PAUSED)
        self.interrupted = True
        if self.service.user is None:
            return  # a 401 already stopped everything
        self.progress.note("stopping: pausing the running task… (Ctrl-C again to quit at once)")
        self._stopping = asyncio.get_running_loop().create_task(
            self.service.stop_queue(StopReason.BY_USER)
        )

    def close(self) -> None:
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
                owner = self.lock.owner() or {}
                _say(
                    f"{PROG}: waiting for {_who(owner)}, which is running this queue…",
                    err=True,
                )
                told = True
            await asyncio.sleep(0.2)
        return not self.interrupted

    async def wait_listing(self, task_id: int) -> TaskRecord:
        self.touched[task_id] = None
        await self.service.wait_listing(task_id)
        await self._settle_stop()
        (task,) = await self._final_tasks([task_id])
        return task

    async def run_queue(self) -> None:
        """Run until the queue is empty, a 401 ends the session, or a signal stops it."""
        if not self.interrupted:
            listing = [
                t.id
                for t in await self.ctx.db.run(ExportStore.list_tasks)
                if t.status is TaskStatus.INITIALIZING
            ]
            await self.service.start_queue()
            # Tasks a crash left initializing list again first (then join the queue).
            for task_id in listing:
                self.touched[task_id] = None
                await self.service.wait_listing(task_id)
            await self.service.scheduler.wait_idle()
        await self._settle_stop()

    async def _settle_stop(self) -> None:
        if self._stopping is not None:
            with contextlib.suppress(ActionError):  # signed out meanwhile: nothing to stop
                await self._stopping

    async def _final_tasks(self, ids: list[int]) -> list[TaskRecord]:
        """These tasks' rows as stored now (unknown ids are left out)."""
        if self.service.user is self.ctx:
            tasks = []
            for task_id in ids:
                with contextlib.suppress(LookupError):
                    tasks.append(await self.ctx.db.run(ExportStore.get_task, task_id))
            return tasks
        # A 401 ended the session and the service closes its database: let it
        # finish, then read the outcome from the file.
        await self.service.logout()
        return await asyncio.to_thread(_read_tasks, self.ctx.db.store.path, ids)

    def bytes_received(self) -> int:
        return sum(m.bytes_received for m in self.managers)

    async def finish(self, *, ran: bool) -> int:
        """Print the summary and work out the exit code (worst first: 3, 1, 0)."""
        self.progress.clear()
        tasks = await self._final_tasks(list(self.touched))
        code = EXIT_OK
        problems: list[str] = []
        for task in tasks:
            if task.status is TaskStatus.PAUSED:
                code = EXIT_PAUSED
                detail = f": {task.reason_detail}" if task.reason_detail else ""
                problems.append(
                    f'paused: {_reason(task.reason)} (task {task.id} "{task.name}"{detail})'
                )
            elif task.status in (TaskStatus.WAITING, TaskStatus.INITIALIZING) and ran:
                code = EXIT_PAUSED
                why = (
                    "login expired"
                    if self.service.login_expired_count
                    else "by you"
                    if self.interrupted
                    else "stopped before the end"
                )
                problems.append(
                    f'paused: {why} (task {task.id} "{task.name}" is still {task.status.value})'
                )
            elif task.status is TaskStatus.COMPLETED and task.failed and code == EXIT_OK:
                code = EXIT_FAILED
        if ran and self.service.login_expired_count and not problems:
            problems.append("paused: login expired")
            code = EXIT_PAUSED
        if code == EXIT_PAUSED and not problems:
            problems.append("paused: by you" if self.interrupted else "stopped before the end")
        elapsed = time.monotonic() - self.started
        received = self.bytes_received()
        if self.json:
            summary = {
                "exit_code": code,
                "bytes_received": received,
                "elapsed_s": round(elapsed, 3),
                "tasks": [_task_json(t) for t in tasks],
            }
            _say_json(summary)
        else:
            for task in tasks:
                _say(_describe(task))
            if ran and tasks:
                rate = received / elapsed if elapsed > 0 else 0.0
                _say(f"received {_size(received)} in {elapsed:.1f} s ({_size(rate)}/s)")
        for problem in problems:
            _say(f"{PROG}: {problem}", err=True)
        paused = [t.id for t in tasks if t.status is TaskStatus.PAUSED]
        if paused:
            ids = " ".join(str(i) for i in paused)
            _say(
                f"{PROG}: continue with: {PROG} resume {ids} && {PROG} run",
                err=True,
            )
        failed = [t.id for t in tasks if t.status is TaskStatus.COMPLETED and t.failed]
        for task_id in failed:
            _say(
                f"{PROG}: task {task_id} has failed files: {PROG} files {task_id} --status "
                f"failed, or {PROG} retry {task_id} && {PROG} run",
                err=True,
            )
        return code


def _read_tasks(path: Path, ids: list[int]) -> list[TaskRecord]:
    with ExportStore.open(path) as store:
        tasks = []
        for task_id in ids:
            with contextlib.suppress(LookupError):
                tasks.append(store.get_task(task_id))
        return tasks


@contextlib.asynccontextmanager
async def _runner(
    service: ExportService, ctx: UserContext, args: argparse.Namespace
) -> AsyncIterator[Runner]:
    runner = Runner(service, ctx, QueueLock(ctx.db.store.path), args)
    runner.install_signals()
    try:
        yield runner
    except BaseException as exc:
        # Stop the queue before the lock goes, so no second runner overlaps this one.
        if service.user is not None:
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


async def _find_project(client: ApiClient, wanted: str, policy: RetryPolicy) -> Project:
    projects = await _list_projects(client, policy)
    for project in projects:
        if project.id == wanted:
            return project
    by_name = [project for project in projects if project.name == wanted]
    if len(by_name) == 1:
        return by_name[0]
    if by_name:
        ids = ", ".join(p.id for p in by_name)
        raise UsageError(f"several projects are named {wanted!r} ({ids}): give the id")
    raise UsageError(f"no project {wanted!r} for this identity (see: {PROG} projects)")


async def _find_folder(
    client: ApiClient, project: Project, path: str, policy: RetryPolicy
) -> SelectionItem:
    names = [part for part in path.strip().strip("/").split("/") if part]
    if not names:
        return SelectionItem(project.id, project.name)
    folder_id = "root"
    for depth, name in enumerate(names):
        where = "/".join(names[:depth]) or "the top level"

        async def fetch(cursor: str | None, parent: str = folder_id) -> Page[ChildEntry]:
            return await client.children_page(project.id, parent, cursor=cursor)

        children = await _all_pages(
            f"listing the folders in {where} of {project.name!r}", fetch, policy
        )
        folders = [entry for entry in children if isinstance(entry, FolderEntry)]
        found = next((f for f in folders if f.name == name), None)
        seen = [f.name for f in folders]
        if found is None:
            hint = ", ".join(repr(s) for s in seen[:8]) + (", …" if len(seen) > 8 else "")
            raise UsageError(
                f"no folder {name!r} in {where} of {project.name!r}"
                + (f" (there: {hint})" if seen else " (it has no folders)")
            )
        folder_id = found.id
    return SelectionItem(project.id, project.name, folder_id, tuple(names))


def _target(text: str) -> Path:
    return Path(os.path.abspath(os.path.expanduser(text)))


def _with_run_settings(settings: Settings, args: argparse.Namespace) -> Settings:
    """The settings with this command's ``--concurrency`` and ``--limit-rate`` applied."""
    concurrency = getattr(args, "concurrency", None)
    if concurrency is not None:
        settings = dataclasses.replace(settings, concurrency=concurrency)
    rate = getattr(args, "limit_rate", None)
    if rate is not None:
        settings = dataclasses.replace(settings, bandwidth_limit_bps=rate)
    return settings


async def _export(service: ExportService, ctx: UserContext, args: argparse.Namespace) -> int:
    policy = _retry_policy(service.settings)
    project = await _find_project(ctx.client, args.project, policy)
    items = [await _find_folder(ctx.client, project, path, policy) for path in args.folder]
    items = items or [SelectionItem(project.id, project.name)]
    return await _create_and_run(service, ctx, args, items, _target(args.to), args.name)


async def _create_and_run(
    service: ExportService,
    ctx: UserContext,
    args: argparse.Namespace,
    items: list[SelectionItem],
    target: Path,
    name: str | None,
) -> int:
    async with _runner(service, ctx, args) as runner:
        if not await runner.acquire():
            _say(f"{PROG}: stopped before the task was created", err=True)
            return EXIT_PAUSED
        task = await service.create_export(items, target, name)
        runner.progress.note(f'task {task.id} "{task.name}" -> {task.target_dir}')
        task = await runner.wait_listing(task.id)
        if task.status is not TaskStatus.WAITING or args.no_run:
            if args.no_run and task.status is TaskStatus.WAITING and not args.json:
                _say(
                    f'task {task.id} "{task.name}": {task.total_files:,} files '
                    f"({_size(task.total_bytes)}) listed, waiting; run it with: {PROG} run"
                )
                return EXIT_OK
            return await runner.finish(ran=False)
        await runner.run_queue()
        return await runner.finish(ran=True)


async def _run(service: ExportService, ctx: UserContext, args: argparse.Namespace) -> int:
    async with _runner(service, ctx, args) as runner:
        if not await runner.acquire():
            _say(f"{PROG}: stopped before the queue ran", err=True)
            return EXIT_PAUSED
        await runner.run_queue()
        code = await runner.finish(ran=True)
        if not runner.touched and not args.json:
            _say("nothing to run: the queue has no waiting task")
        if service.user is not ctx:  # a 401 ended the session
            return code
        others = [
            t
            for t in await ctx.db.run(ExportStore.list_tasks)
            if t.status is TaskStatus.PAUSED and t.id not in runner.touched
        ]
        if others:
            ids = " ".join(str(t.id) for t in others)
            _say(
                f"{PROG}: note: paused tasks were not run ({ids}); resume them first",
                err=True,
            )
        return code


async def _tasks(service: ExportService, ctx: UserContext, args: argparse.Namespace) -> int:
    owner = QueueLock(ctx.db.store.path).owner()
    running = owner.get("task") if owner else None
    tasks = await ctx.db.run(ExportStore.list_tasks)
    if args.json:
        for task in tasks:
            _say_json(_task_json(task, task.id == running))
        return EXIT_OK
    if not tasks:
        _say("no tasks")
        return EXIT_OK
    _say(f"{'ID':>4}  {'STATUS':<12} {'FILES':>15} {'FAILED':>7} {'SIZE':>10}  NAME")
    for task in tasks:
        done = f"{task.succeeded + task.failed:,}/{task.total_files:,}"
        line = (
            f"{task.id:>4}  {_state(task, task.id == running):<12} {done:>15} "
            f"{task.failed:>7,} {_size(task.total_bytes):>10}  {task.name}"
        )
        if task.status in (TaskStatus.PAUSED, TaskStatus.CANCELED) and task.reason:
            line += f"  ({_reason(task.reason)})"
        _say(line)
    return EXIT_OK


async def _files(service: ExportService, ctx: UserContext, args: argparse.Namespace) -> int:
    await service.task(args.task)  # an unknown id is a usage error
    where = _FILE_FILTERS[args.status] if args.status else {}
    after = 0
    while True:
        page = await ctx.db.run(
            ExportStore.page_files, args.task, after_id=after, limit=1000, **where
        )
        for file in page:
            if args.json:
                _say_json(_file_json(file))
            else:
                cells: list[object] = [file.id, _file_state(file), file.size, file.local_path]
                if file.error_code:
                    cells.append(f"{file.error_code}: {file.error_message or ''}")
                _say(*cells, sep="\t")
        if len(page) < 1000:
            return EXIT_OK
        after = page[-1].id


async def _action(service: ExportService, ctx: UserContext, args: argparse.Namespace) -> int:
    lock = QueueLock(ctx.db.store.path)
    if not await lock.acquire_soon():
        owner = lock.owner() or {}
        running = owner.get("task")
        raise UsageError(
            f"this queue is being run by {_who(owner)}"
            + (f" (task {running} is running)" if running else "")
            + "; stop it first (Ctrl-C there, or kill -TERM its pid: it pauses its task)"
        )
    try:
        return await _do_action(service, ctx, args)
    finally:
        lock.release()


async def _do_action(service: ExportService, ctx: UserContext, args: argparse.Namespace) -> int:
    task_id: int = args.task
    command: str = args.command
    if command == "pause":
        await service.pause(task_id)
        _say(f"task {task_id} paused")
    elif command == "resume":
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
            _say(f"{PROG}: paused: {_reason(task.reason)} (task {task_id})", err=True)
            return EXIT_PAUSED
        _say(f"task {task_id} is {task.status.value}; run the queue with: {PROG} run")
    elif command == "cancel":
        await service.cancel(task_id)
        _say(f"task {task_id} canceled; partial data removed, exported files stay")
    elif command == "retry":
        count = await service.retry_failed(task_id)
        _say(f"task {task_id}: {count:,} failed files queued again; run them with: {PROG} run")
    elif command == "delete":
        await service.delete(task_id)
        _say(f"task {task_id} deleted from the list; its exported files stay")
    elif command == "move":
        moved = await service.move(task_id, up=args.direction == "up")
        if moved:
            _say(f"task {task_id} moved {args.direction}")
        else:
            edge = "first" if args.direction == "up" else "last"
            _say(f"task {task_id} is already {edge} in the queue")
    elif command == "report":
        count = await service.failure_report(task_id, _target(args.csv))
        _say(f"task {task_id}: {count:,} failed files written to {_target(args.csv)}")
    return EXIT_OK


async def _report(service: ExportService, ctx: UserContext, args: argparse.Namespace) -> int:
    return await _do_action(service, ctx, args)


SERVICE_COMMANDS: dict[
    str, Callable[[ExportService, UserContext, argparse.Namespace], Awaitable[int]]
] = {
    "export": _export,
    "run": _run,
    "tasks": _tasks,
    "files": _files,
    "report": _report,
    **{name: _action for name in ("pause", "resume", "cancel", "retry", "delete", "move")},
}


async def _run_service(creds: Credentials, settings: Settings, args: argparse.Namespace) -> int:
    async with _signed_in(creds, settings) as (service, ctx):
        return await SERVICE_COMMANDS[args.command](service, ctx, args)


# ---------------------------------------------------------------------- demo


async def _demo(settings: Settings, args: argparse.Namespace) -> int:
    """Serve demo data from a temporary folder, sign in as demo, export its first project."""
    from manuscript_gui.reference_server import DemoSpec, start_in_thread

    target = _target(args.to or "manuscript-demo")
    with tempfile.TemporaryDirectory(prefix="manuscript-demo-") as tmp:
        root = Path(tmp)
        spec = DemoSpec(files_per_project=args.files, large_project_files=0)
        handle = await asyncio.to_thread(start_in_thread, root / "server", demo=spec)
        try:
            _say(
                f"demo server on {handle.base_url} ({args.files} files per project), "
                "signed in as demo/demo",
                err=True,
            )
            paths = AppPaths(root / "app" / "data", root / "app" / "config", root / "app" / "logs")
            creds = Credentials(handle.base_url, "demo", "demo", None)
            async with _signed_in(creds, settings, paths=paths) as (service, ctx):
                projects = await _list_projects(ctx.client, _retry_policy(settings))
                if not projects:
                    raise UsageError("the demo user sees no project")
                project = projects[0]
                args.no_run = False
                item = SelectionItem(project.id, project.name)
                code = await _create_and_run(service, ctx, args, [item], target, None)
                where = target / project.name
                _say(f"the exported files are in {where}", err=True)
                return code
        finally:
            await asyncio.to_thread(handle.stop)


# ---------------------------------------------------------------------- main


@contextlib.contextmanager
def _logging(verbosity: int) -> Iterator[None]:
    """Engine logs to stderr (-v info, -vv debug); warnings and errors always."""
    logger = logging.getLogger("manuscript_gui")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_SafeFormatter(f"{PROG}: %(levelname)s %(name)s: %(message)s"))
    level = logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity == 1 else logging.ERROR
    handler.setLevel(level)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(min(level, old_level) if old_level else level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code (docs/cli.md)."""
    try:
        code = _main(argv)
        sys.stdout.flush()  # a closed pipe shows here at the latest
    except BrokenPipeError:
        # Whoever read standard output stopped (`files 3 | head`): stop quietly, as
        # a program killed by SIGPIPE does, and keep Python from complaining when
        # it flushes stdout at exit (the recipe of Python's signal docs).
        _drop_stdout()
        return EXIT_PIPE_CLOSED
    return code


def _drop_stdout() -> None:
    with contextlib.suppress(OSError, ValueError):  # ValueError: no descriptor (tests)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    loaded = load_settings()
    for problem in loaded.problems:
        _say(f"{PROG}: {problem}", err=True)
    settings = loaded.settings
    if args.ca_bundle:
        settings = dataclasses.replace(settings, ca_bundle=args.ca_bundle)
    args.ca_bundle = settings.ca_bundle
    settings = _with_run_settings(settings, args)
    with _logging(args.verbose or 0):
        try:
            if args.command == "logout":
                return _logout(loaded.settings)
            if args.command == "demo":
                return asyncio.run(_demo(settings, args))
            creds = _credentials(args, parser, settings)
            if args.command in CLIENT_COMMANDS:
                return asyncio.run(_run_client(creds, settings, args))
            return asyncio.run(_run_service(creds, settings, args))
        except KeyboardInterrupt:
            _say(f"{PROG}: interrupted", err=True)
            return EXIT_PAUSED
        except InvalidCredentials:
            _say(f"{PROG}: login refused: wrong user name or password", err=True)
            return EXIT_UNREACHABLE
        except Unauthorized as exc:  # the session died under one of our own requests
            _say(f"{PROG}: login expired: {exc}", err=True)
            return EXIT_UNREACHABLE
        except IdentityNotAllowed as exc:
            _say(f"{PROG}: login refused: {exc}", err=True)
            return EXIT_UNREACHABLE
        except ServerTrouble as exc:
            _say(f"{PROG}: {exc}", err=True)
            return EXIT_UNREACHABLE
        except NetworkError as exc:
            _say(f"{PROG}: server unreachable: {exc}", err=True)
            return EXIT_UNREACHABLE
        except ApiError as exc:
            _say(f"{PROG}: {exc}", err=True)
            return EXIT_UNREACHABLE
        except (UsageError, ActionError) as exc:
            _say(f"{PROG}: {exc}", err=True)
            return EXIT_USAGE
        except StorageError as exc:
            _say(f"{PROG}: {exc}", err=True)
            return EXIT_FAILED
        except ValueError as exc:  # a bad --ca-bundle, a malformed --server
            _say(f"{PROG}: {exc}", err=True)
            return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
