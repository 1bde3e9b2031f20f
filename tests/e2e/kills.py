"""Kill a child at a chosen moment, and look at every moment before the kill too.

**Freeze-and-look.** A SIGKILL at moment *t* leaves exactly what a SIGSTOP at
*t* shows: a stopped process writes nothing more, and what it had handed the
kernel (file data, renames, SQLite commits in its WAL) is visible to other
processes either way. So while a stop is under way, :func:`kill_within`
freezes the child again and again (SIGSTOP, read its database read-only,
SIGCONT) at short random intervals: every freeze is one more kill point
examined, dozens per stop instead of one. The child is then killed at the
seeded moment, or at the first freeze whose state is unsound, so that the
restart after the kill begins from exactly that state.

**What a restart relies on** (:func:`unsound`), from docs/behaviour.md and
docs/engine.md: every transition (pause, cancel, resume, retry, logout, 401,
switch, end of listing, end of run) writes the task and its file rows as one
transaction, so any stored state is one the transitions produce:

- a task being listed (``initializing``) may hold any rows: a restart lists
  it again from scratch;
- ``waiting`` or ``completed``: its listing ended (``listed``);
- ``completed``: every file row is completed (succeeded or failed), never
  "completed" with files that were never fetched;
- ``waiting``: no file row is ``paused`` (a run takes only waiting rows, so a
  paused row under a waiting task is never fetched and the run would end the
  task as if it had been);
- ``paused`` or ``canceled``: no file row is ``waiting`` (a stop moves the
  open rows to ``paused`` with the task; a waiting row under a paused task is
  a stop written half-way);
- the task's counters (files, succeeded, failed, bytes) equal what its rows
  say;
- (unless a test allows it) no file failed: nothing in these tests is a
  reason for a file to fail, least of all a kill.

:func:`check_home` adds what needs the disk: every row marked succeeded is a
complete, byte-exact file at its local path.

The database is read the way any outside tool would (``sqlite3``, read-only),
so these checks depend only on the schema's table and column names.
"""

from __future__ import annotations

import hashlib
import os
import queue
import random
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from manuscript_gui.storage import SCHEMA_VERSION

#: Where an identity's database lives under ``MANUSCRIPT_GUI_HOME`` (see storage/locations.py).
DB_GLOB = "data/*/*/manuscriptBatchExport/exports.sqlite3"
STAGING_DIR = ".manuscript-partial"
OPEN = ("waiting", "paused")


def databases(home: Path) -> list[Path]:
    """Every identity database under an app home."""
    return sorted(home.glob(DB_GLOB))


def database(home: Path, identity: str) -> Path:
    """The one database of *identity* (folder ``<user>-<identity>-<hash>``) under *home*."""
    found = [p for p in databases(home) if f"-{identity}-" in p.parent.parent.name]
    assert len(found) == 1, (identity, databases(home))
    return found[0]


# ----------------------------------------------------------------- reading a database


@dataclass(frozen=True)
class TaskState:
    """A task row and a summary of its file rows, read in one transaction."""

    id: int
    status: str
    listed: bool
    target_dir: str
    reason: str | None
    counters: tuple[int, int, int, int, int]
    """As stored: total_files, succeeded, failed, total_bytes, done_bytes."""
    rows: Counter[str] = field(default_factory=Counter)
    """File rows by state: ``waiting``, ``paused``, ``succeeded``, ``failed``."""
    row_bytes: Counter[str] = field(default_factory=Counter)

    @property
    def derived(self) -> tuple[int, int, int, int, int]:
        """The counters as the rows say they must be."""
        return (
            sum(self.rows.values()),
            self.rows["succeeded"],
            self.rows["failed"],
            sum(self.row_bytes.values()),
            self.row_bytes["succeeded"],
        )

    def describe(self) -> str:
        rows = ", ".join(f"{n} {state}" for state, n in sorted(self.rows.items()))
        return f"task {self.id} {self.status} (reason {self.reason}; rows: {rows or 'none'})"


@dataclass(frozen=True)
class FileRow:
    id: int
    task_id: int
    remote_id: str
    local_path: str
    size: int
    sha256: str
    state: str


def _connect(path: Path, timeout: float) -> sqlite3.Connection:
    """A read transaction on the database as the (frozen or dead) child left it.

    Read-only first. SQLite refuses a read-only open of a WAL database whose
    ``-shm`` index must be rebuilt ("attempt to write a readonly database",
    e.g. the child was stopped right as it opened or closed the file); then a
    copy of the files is read instead, which is what a restart would open.
    """
    try:
        conn = sqlite3.connect(
            f"{path.absolute().as_uri()}?mode=ro", uri=True, timeout=timeout, isolation_level=None
        )
        conn.execute("BEGIN")  # one read transaction: the task rows and the file rows agree
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        if "readonly" not in str(exc):
            raise
    scratch = Path(tempfile.gettempdir()) / f"kills-db-{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    copy = scratch / path.name
    for suffix in ("", "-wal"):
        source = path.with_name(path.name + suffix)
        if source.exists():
            shutil.copyfile(source, copy.with_name(copy.name + suffix))
    conn = sqlite3.connect(copy, timeout=timeout, isolation_level=None)
    conn.execute("BEGIN")
    return conn


def _has_schema(conn: sqlite3.Connection) -> bool:
    """False for a database the child is still creating: its numbered migrations (one
    transaction each) have not all committed. Such a file holds no task yet."""
    found = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if found is None:
        return False
    (version,) = conn.execute("SELECT version FROM schema_version").fetchone()
    if version == SCHEMA_VERSION:
        return True
    assert conn.execute("SELECT COUNT(*) FROM task").fetchone()[0] == 0, (
        f"tasks in a database at schema v{version}"
    )
    return False


def read_tasks(path: Path, *, timeout: float = 10.0) -> dict[int, TaskState]:
    """Every task of one database with a summary of its rows (read-only, one transaction)."""
    conn = _connect(path, timeout)
    try:
        if not _has_schema(conn):
            return {}
        rows: dict[int, Counter[str]] = {}
        sizes: dict[int, Counter[str]] = {}
        for task_id, state, count, size in conn.execute(
            "SELECT task_id, CASE WHEN status = 'completed' THEN outcome ELSE status END, "
            "COUNT(*), COALESCE(SUM(size), 0) FROM task_file GROUP BY 1, 2"
        ):
            rows.setdefault(task_id, Counter())[state] = count
            sizes.setdefault(task_id, Counter())[state] = size
        return {
            r[0]: TaskState(
                id=r[0],
                status=r[1],
                listed=bool(r[2]),
                target_dir=r[3],
                reason=r[4],
                counters=(r[5], r[6], r[7], r[8], r[9]),
                rows=rows.get(r[0], Counter()),
                row_bytes=sizes.get(r[0], Counter()),
            )
            for r in conn.execute(
                "SELECT id, status, listed, target_dir, reason, total_files, succeeded, failed, "
                "total_bytes, done_bytes FROM task ORDER BY id"
            )
        }
    finally:
        conn.close()


def read_files(path: Path, task_id: int | None = None) -> list[FileRow]:
    """File rows (all tasks, or one), with their state as in :class:`TaskState`."""
    conn = _connect(path, 10.0)
    try:
        if not _has_schema(conn):
            return []
        where, args = ("WHERE task_id = ?", (task_id,)) if task_id is not None else ("", ())
        return [
            FileRow(*r)
            for r in conn.execute(
                "SELECT id, task_id, remote_id, local_path, size, sha256, "
                "CASE WHEN status = 'completed' THEN outcome ELSE status END "
                f"FROM task_file {where} ORDER BY id",
                args,
            )
        ]
    finally:
        conn.close()


def unsound(tasks: dict[int, TaskState], *, failures_allowed: bool = False) -> list[str]:
    """What in these task states a restart could not rely on (see the module docstring)."""
    problems: list[str] = []
    for task in tasks.values():
        if task.status == "initializing":
            continue
        what = task.describe()
        if task.status in ("waiting", "completed") and not task.listed:
            problems.append(f"{what}: {task.status}, but its listing never ended")
        if task.status == "completed" and any(task.rows[s] for s in OPEN):
            problems.append(f"{what}: completed with files that were never exported")
        if task.status == "waiting" and task.rows["paused"]:
            problems.append(f"{what}: waiting with paused files (a run never fetches them)")
        if task.status in ("paused", "canceled") and task.rows["waiting"]:
            problems.append(f"{what}: {task.status} with waiting files (a stop written half)")
        if task.counters != task.derived:
            problems.append(
                f"{what}: counters {task.counters} disagree with its rows {task.derived} "
                "(files, succeeded, failed, bytes, done bytes)"
            )
        if task.rows["failed"] and not failures_allowed:
            problems.append(f"{what}: files failed")
    return problems


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def missing_or_wrong(path: Path, root: Path | None = None) -> list[str]:
    """Rows of one database marked succeeded whose file is not complete and exact on disk.

    *root* replaces each task's ``target_dir`` (a copy of the export volume
    mounted elsewhere); ``None`` reads the files where the rows say.
    """
    tasks = read_tasks(path)
    problems: list[str] = []
    for row in read_files(path):
        if row.state != "succeeded":
            continue
        base = root if root is not None else Path(tasks[row.task_id].target_dir)
        file = base / row.local_path
        if not file.is_file():
            problems.append(f"task {row.task_id}: marked succeeded, missing: {row.local_path}")
        elif file.stat().st_size != row.size:
            problems.append(
                f"task {row.task_id}: marked succeeded, {file.stat().st_size} of "
                f"{row.size} bytes: {row.local_path}"
            )
        elif sha256_of(file) != row.sha256:
            problems.append(f"task {row.task_id}: marked succeeded, wrong bytes: {row.local_path}")
    return problems


def check_home(home: Path, *, failures_allowed: bool = False) -> list[str]:
    """Everything a restart relies on, for every identity database under *home*."""
    problems: list[str] = []
    for db in databases(home):
        problems += unsound(read_tasks(db), failures_allowed=failures_allowed)
        problems += missing_or_wrong(db)
    return problems


def staged(target: Path) -> list[Path]:
    """Files left in an export folder's staging area (partial downloads)."""
    root = target / STAGING_DIR
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def downloading(target: Path, since: float) -> bool:
    """Whether a file in *target*'s staging area was written after *since* (epoch seconds):
    a run has started fetching bytes."""
    root = target / STAGING_DIR
    try:
        return any(p.stat().st_mtime >= since for p in root.rglob("*") if p.is_file())
    except FileNotFoundError:  # a partial renamed away while we looked
        return False


# --------------------------------------------------------------------- the child

#: Children not killed yet; tests/e2e/conftest.py kills what a failed test left running.
LIVE: set[Child] = set()


class Child:
    """A child process whose output goes to ``logs/<name>.out|err``.

    With ``markers=True`` stdout is read line by line on a thread (still
    copied to the log), for :meth:`marker`.
    """

    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], logs: Path, *, markers: bool = False
    ) -> None:
        self.name = name
        self.logs = logs
        self.started = time.time()
        self._lines: queue.Queue[str | None] = queue.Queue()
        err = open(logs / f"{name}.err", "wb")  # noqa: SIM115 - handed to the child
        out: IO[bytes] | int = subprocess.PIPE
        if not markers:
            out = open(logs / f"{name}.out", "wb")  # noqa: SIM115 - handed to the child
        try:
            self.proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err)
        finally:
            err.close()
            if not isinstance(out, int):
                out.close()
        LIVE.add(self)
        self._reader: threading.Thread | None = None
        if markers:
            self._reader = threading.Thread(target=self._read, name=f"{name}-stdout", daemon=True)
            self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with open(self.logs / f"{self.name}.out", "wb") as log:
            for line in self.proc.stdout:
                log.write(line)
                log.flush()
                self._lines.put(line.decode("utf-8", "replace").rstrip("\n"))
        self.proc.stdout.close()
        self._lines.put(None)

    def stderr(self) -> str:
        return (self.logs / f"{self.name}.err").read_text("utf-8", "replace")

    def marker(self, prefixes: tuple[str, ...], timeout: float = 60.0) -> str:
        """The next stdout line starting with one of *prefixes* (others are skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"{self.name}: no {prefixes} within {timeout} s") from None
            if line is None:
                self.proc.wait()
                raise AssertionError(
                    f"{self.name} ended (exit {self.proc.returncode}) before {prefixes}:\n"
                    + self.stderr()[-3000:]
                )
            if line.startswith(prefixes):
                return line

    @property
    def exited(self) -> bool:
        return self.proc.poll() is not None

    def freeze(self) -> bool:
        """Stop the child (SIGSTOP) and wait until it is stopped; ``False`` if it has ended."""
        if self.proc.poll() is not None:
            return False
        os.kill(self.proc.pid, signal.SIGSTOP)
        _, status = os.waitpid(self.proc.pid, os.WUNTRACED)
        if os.WIFSTOPPED(status):
            return True
        self.proc.returncode = os.waitstatus_to_exitcode(status)  # it ended meanwhile: reaped
        return False

    def thaw(self) -> None:
        os.kill(self.proc.pid, signal.SIGCONT)

    def send(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)  # nothing is sent once it has ended

    def wait_until(self, condition: Callable[[], bool], timeout: float = 60.0) -> bool:
        """Poll *condition* (every 5 ms) while the child runs; ``False`` if it ended first."""
        deadline = time.monotonic() + timeout
        while not condition():
            if self.proc.poll() is not None:
                return False
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: still waiting after {timeout} s")
            time.sleep(0.005)
        return True

    def wait(self, timeout: float) -> int | None:
        """Its exit code, or ``None`` if it still runs after *timeout* seconds."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """SIGKILL (a frozen child dies too), then reap it."""
        self.proc.kill()
        self.proc.wait()
        if self._reader is not None:
            self._reader.join(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        LIVE.discard(self)

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


@dataclass
class KillReport:
    """What :func:`kill_within` did."""

    delay: float
    at: float = 0.0
    """Seconds from the call to the kill (or to the child's own end)."""
    freezes: int = 0
    ended_by_itself: bool = False
    unsound: list[str] = field(default_factory=list)
    """Problems of the first frozen state that broke an invariant (the kill came there)."""


def look(home: Path, *, failures_allowed: bool = False) -> list[str] | None:
    """The database invariants of every identity under *home* right now (a frozen child).

    ``None`` when a database cannot be read at this instant (the child froze
    while holding a lock a reader waits for, or before its schema existed).
    """
    problems: list[str] = []
    try:
        for db in databases(home):
            problems += unsound(read_tasks(db, timeout=0.05), failures_allowed=failures_allowed)
    except sqlite3.OperationalError:
        return None
    return problems


def kill_within(
    child: Child,
    home: Path,
    delay: float,
    rng: random.Random,
    *,
    gap: tuple[float, float] = (0.0002, 0.002),
    look_from: float = 0.0,
    failures_allowed: bool = False,
) -> KillReport:
    """Freeze-and-look at *child* for *delay* seconds, then SIGKILL it (see the module docstring).

    Freezing starts *look_from* seconds in (a child's start-up need not be
    looked at, and every freeze slows it down). The kill comes early, at the
    first frozen state that breaks an invariant (reported in ``unsound``). A
    child that ends by itself before is just reaped.
    """
    report = KillReport(delay)
    start = time.monotonic()
    deadline = start + delay
    if look_from > 0 and child.wait(min(look_from, delay)) is not None:
        report.ended_by_itself = True
        deadline = start  # nothing left to look at
    while time.monotonic() < deadline:
        if not child.freeze():
            report.ended_by_itself = True
            break
        report.freezes += 1
        problems = look(home, failures_allowed=failures_allowed)
        if problems:
            report.unsound = problems
            break
        child.thaw()
        time.sleep(rng.uniform(*gap))
    report.at = time.monotonic() - start
    child.kill()
    return report
