#!/usr/bin/env python3
"""Export benchmark: the project's engine side by side with aria2c and curl.

Every tool fetches the same file-version content URLs from the same reference
server, in the same run, on loopback. The harness builds the URL list itself
(httpx, walking the project tree through the API), starts and stops the
servers, times each tool as a child process (wall clock, user+sys CPU and peak
RSS of the child from ``os.wait4``), verifies every run's output against the
sha256 values the server lists (outside the timing) and refuses to report a
tool whose output was wrong.

Workloads (``--workloads``):

``small``
    The large demo project (3000 files of 4-256 KiB): aria2c ``-j8``, curl
    ``--parallel-max 8`` and the engine at concurrency 8.
``latency``
    The same with 20 ms injected before every API answer (admin fault endpoint).
``big``
    One 1 GiB file: plain curl, aria2c ``-x1`` and the engine.

``--scale N`` adds a separate server with an N-file project of 1-4 KiB files:
the engine's task creation (listing, peak memory) and then its export.

Usage::

    .venv/bin/python benchmarks/bench_export.py --workloads small,latency,big --runs 3

See benchmarks/README.md for how to read the output.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import functools
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import quote

import httpx

REPO_ROOT = Path(__file__).resolve().parent.parent
MIB = 1 << 20
ALL_TOOLS = ("aria2c", "curl", "engine")
ALL_WORKLOADS = ("small", "latency", "big")
ENGINE_MISSING = "not available (manuscript-cli export missing)"
DEMO_USER = "demo"
DEMO_PASSWORD = "demo"
#: Page size asked for when walking a project (the reference server caps it at 1000).
PAGE_LIMIT = 1000
#: Hard bounds on a project walk, so a misbehaving server cannot loop us forever.
MAX_LISTED_ITEMS = 5_000_000
MAX_PAGES = 200_000
HTTP_TIMEOUT_S = 60.0


#: A command line and the environment to run it with.
Command = tuple[list[str], dict[str, str]]


class BenchError(Exception):
    """The harness itself could not go on (server did not start, bad answer, ...)."""


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


def log(message: str) -> None:
    """Progress line; the tables go to stdout as well, so keep it on one stream."""
    print(message, flush=True)


def size_arg(text: str) -> int:
    """Parse 4096, 64K, 1M, 1G (binary units) into bytes."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?)(?:I?B)?\s*", text.upper())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 4096, 256K, 1G)")
    factor = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[match.group(2)]
    return int(float(match.group(1)) * factor)


def size_flag(n: int) -> str:
    """Render a byte count the way the server's command line accepts it."""
    for unit, factor in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n >= factor and n % factor == 0:
            return f"{n // factor}{unit}"
    return str(n)


def csv_choice(allowed: Sequence[str], *, none_ok: bool = False) -> Callable[[str], list[str]]:
    def parse(text: str) -> list[str]:
        if none_ok and text.strip() == "none":
            return []
        items = [part.strip() for part in text.split(",") if part.strip()]
        bad = [item for item in items if item not in allowed]
        if bad or not items:
            raise argparse.ArgumentTypeError(
                f"choose from {', '.join(allowed)} (comma separated), got {text!r}"
            )
        return list(dict.fromkeys(items))  # keep order, drop repeats

    return parse


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def first_line(argv: Sequence[str]) -> str:
    """First line of a command's output (tool versions), or a short error."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc.__class__.__name__})"
    lines = (proc.stdout or proc.stderr).strip().splitlines()
    return lines[0] if lines else "unknown"


def filesystem_of(path: Path) -> str:
    """Filesystem type of the mount holding ``path`` (from /proc/mounts)."""
    best, fstype = "", "unknown"
    target = str(path.resolve())
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) < 3:
                continue
            mount = parts[1].replace("\\040", " ")
            inside = target == mount or target.startswith(mount.rstrip("/") + "/")
            if inside and len(mount) > len(best):
                best, fstype = mount, parts[2]
    return fstype


def host_cpu_busy(seconds: float = 1.0) -> float | None:
    """Share of all CPUs busy over ``seconds`` (from /proc/stat): is anything else running?"""

    def snapshot() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
        return sum(values[:8]), idle

    try:
        total0, idle0 = snapshot()
        time.sleep(seconds)
        total1, idle1 = snapshot()
    except (OSError, ValueError, IndexError):
        return None
    if total1 <= total0:
        return None
    return 1.0 - (idle1 - idle0) / (total1 - total0)


def sha256_of(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def all_files(root: Path) -> list[Path]:
    """Every non-directory entry under ``root`` (symlinks count as files, not followed)."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        found.extend(base / name for name in filenames)
        # A symlink to a directory is listed in dirnames and not descended into:
        # it is an output entry too.
        found.extend(base / name for name in dirnames if (base / name).is_symlink())
    return found


def tail(path: Path, lines: int = 6) -> str:
    with contextlib.suppress(OSError):
        text = path.read_text(errors="replace").strip()
        if text:
            return " | ".join(text.splitlines()[-lines:])
    return "(no output)"


def remove_tree(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)


# --------------------------------------------------------------------------
# Reference server processes
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerSpec:
    """One reference-server configuration; ``key`` names its cached data directory."""

    key: str
    large_project_files: int
    min_size: int
    max_size: int
    big_file_size: int
    files_per_project: int = 0

    def argv(self) -> list[str]:
        return [
            "--files-per-project",
            str(self.files_per_project),
            "--large-project-files",
            str(self.large_project_files),
            "--min-size",
            size_flag(self.min_size),
            "--max-size",
            size_flag(self.max_size),
            "--big-file-size",
            size_flag(self.big_file_size),
        ]


class ServerProcess:
    """``python -m manuscript_gui.reference_server`` as a child in its own session.

    Its own session keeps a terminal Ctrl-C from killing it behind our back: the
    harness stops it itself (SIGTERM, then SIGKILL) in :meth:`stop`.
    """

    _LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")

    def __init__(self, spec: ServerSpec, data_dir: Path, log_path: Path) -> None:
        self.spec = spec
        self.data_dir = data_dir
        self.log_path = log_path
        self.base_url = ""
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [
            sys.executable,
            "-m",
            "manuscript_gui.reference_server",
            "--data",
            str(self.data_dir),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--admin",
            *self.spec.argv(),
        ]
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        with self.log_path.open("wb") as out:
            self._proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=REPO_ROOT,
                env=env,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            match = self._LISTENING.search(self.log_path.read_text(errors="replace"))
            if match:
                self.base_url = match.group(1)
                return self.base_url
            if self._proc.poll() is not None:
                raise BenchError(
                    f"reference server exited with {self._proc.returncode}: {tail(self.log_path)}"
                )
            time.sleep(0.1)
        self.stop()
        raise BenchError(f"reference server did not listen within {timeout_s:.0f} s")

    def cpu_seconds(self) -> float | None:
        """user+sys CPU the server process has used so far (all its threads)."""
        if self._proc is None:
            return None
        try:
            stat = Path(f"/proc/{self._proc.pid}/stat").read_text()
        except OSError:
            return None
        fields = stat[stat.rindex(")") + 2 :].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks  # utime, stime

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


# --------------------------------------------------------------------------
# The API, as far as the harness needs it
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteFile:
    file_id: str
    version: int
    size: int
    sha256: str
    folders: tuple[str, ...]
    name: str


@dataclass
class Listing:
    project_id: str
    project_name: str
    files: list[RemoteFile]
    folders: int
    pages: int
    seconds: float

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files)


class Api:
    """A small synchronous httpx client for login, listing, facts and faults."""

    def __init__(self, base_url: str) -> None:
        if not base_url.startswith("http://127.0.0.1:"):
            raise BenchError(f"refusing to talk to a non-loopback server: {base_url}")
        self.base_url = base_url
        self.token = ""
        # trust_env=False: no proxy from the environment for loopback traffic.
        self._http = httpx.Client(base_url=base_url, timeout=HTTP_TIMEOUT_S, trust_env=False)

    def close(self) -> None:
        self._http.close()

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise BenchError(
                f"{response.request.method} {response.request.url.path}: "
                f"HTTP {response.status_code} {response.text[:200]}"
            )
        return response.json() if response.content else None

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def login(self, username: str, password: str) -> str:
        body = {"username": username, "password": password, "userType": None}
        answer = self._json(self._http.post("/api/v1/auth/login", json=body))
        self.token = str(answer["token"])
        return self.token

    def demo_facts(self) -> dict[str, Any]:
        answer: dict[str, Any] = self._json(self._http.get("/__admin__/demo"))
        return answer

    def set_faults(self, knobs: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = self._json(self._http.post("/__admin__/faults", json=knobs))
        return answer

    def reset_faults(self) -> None:
        self._json(self._http.post("/__admin__/reset"))

    def file_info(self, file_id: str) -> dict[str, Any]:
        path = f"/api/v1/files/{quote(file_id, safe='')}"
        answer: dict[str, Any] = self._json(self._http.get(path, headers=self._auth()))
        return answer

    def content_url(self, f: RemoteFile) -> str:
        return (
            f"{self.base_url}/api/v1/files/{quote(f.file_id, safe='')}/versions/{f.version}/content"
        )

    def _pages(self, path: str) -> Iterator[list[dict[str, Any]]]:
        """Items of a paginated list, page by page, following ``nextCursor``."""
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            params: dict[str, str | int] = {"limit": PAGE_LIMIT}
            if cursor is not None:
                params["cursor"] = cursor
            answer = self._json(self._http.get(path, params=params, headers=self._auth()))
            yield list(answer["items"])
            cursor = answer.get("nextCursor")
            if cursor is None:
                return
            if cursor in seen:
                raise BenchError(f"{path}: the server repeated a cursor")
            seen.add(cursor)

    def project_name(self, project_id: str) -> str:
        for items in self._pages("/api/v1/projects"):
            for item in items:
                if item["id"] == project_id:
                    return str(item["name"])
        raise BenchError(f"project {project_id} is not visible to {DEMO_USER}")

    def walk(self, project_id: str) -> Listing:
        """Every file (current version) of a project, depth first, with its folder path."""
        started = time.perf_counter()
        name = self.project_name(project_id)
        files: list[RemoteFile] = []
        pages = 0
        folders = 0
        visited: set[str] = set()
        stack: list[tuple[str, tuple[str, ...]]] = [("root", ())]
        pid = quote(project_id, safe="")
        while stack:
            folder_id, path = stack.pop()
            if folder_id in visited:
                raise BenchError(f"folder {folder_id} seen twice while walking {project_id}")
            visited.add(folder_id)
            url = f"/api/v1/projects/{pid}/folders/{quote(folder_id, safe='')}/children"
            for items in self._pages(url):
                pages += 1
                if pages > MAX_PAGES or len(files) > MAX_LISTED_ITEMS:
                    raise BenchError(f"walking {project_id} exceeded the harness bounds")
                for item in items:
                    if item["kind"] == "folder":
                        folders += 1
                        stack.append((str(item["id"]), (*path, str(item["name"]))))
                    elif item["kind"] == "file":
                        files.append(
                            RemoteFile(
                                file_id=str(item["id"]),
                                version=int(item["version"]),
                                size=int(item["size"]),
                                sha256=str(item["sha256"]).lower(),
                                folders=path,
                                name=str(item["name"]),
                            )
                        )
        seconds = time.perf_counter() - started
        return Listing(project_id, name, files, folders, pages, seconds)


# --------------------------------------------------------------------------
# Running one child process, timed
# --------------------------------------------------------------------------


@dataclass
class Sample:
    """One run of one tool."""

    wall_s: float
    user_s: float
    sys_s: float
    maxrss_mib: float
    server_cpu_s: float | None

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s


@dataclass
class ChildOutcome:
    sample: Sample
    returncode: int
    timed_out: bool


#: Starts the measured command from a small shell, in the background, and prints
#: its pid; see :func:`run_timed` for why.
_LAUNCHER = 'o=$1; e=$2; shift 2; "$@" </dev/null >"$o" 2>"$e" & echo $!'


@functools.cache
def become_subreaper() -> bool:
    """Adopt orphaned descendants (Linux ``PR_SET_CHILD_SUBREAPER``); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


_PR_SET_CHILD_SUBREAPER = 36


def _spawn(argv: Sequence[str], env: dict[str, str], log_dir: Path) -> tuple[int, int]:
    """Start ``argv`` with its output in ``log_dir``; return (pid to wait4, process group).

    Why not a plain Popen: Linux carries the high-water RSS of the address
    space a process had before ``execve`` into its ``ru_maxrss``, and Popen
    forks (vforks) from this harness, so every child would report at least the
    harness's own peak (30 MB here, hundreds of MB after a 100k-file listing).
    Instead a small ``/bin/sh`` forks the command and exits at once; the
    command is then reparented to this process (a child subreaper) and its
    ``wait4`` rusage is its own, as with GNU time.
    """
    out, err = log_dir / "stdout.log", log_dir / "stderr.log"
    if not become_subreaper():
        with out.open("wb") as out_file, err.open("wb") as err_file:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out_file,
                stderr=err_file,
                env=env,
                start_new_session=True,
            )
        proc.returncode = 0  # reaped by the caller with wait4, never by Popen
        return proc.pid, proc.pid
    launcher = subprocess.Popen(
        ["/bin/sh", "-c", _LAUNCHER, "bench-launch", str(out), str(err), *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        text, _ = launcher.communicate(timeout=30)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(launcher.pid, signal.SIGKILL)
        launcher.wait(timeout=30)
        raise
    try:
        pid = int(text.strip())
    except ValueError:
        raise BenchError(f"the launcher shell gave no pid (exit {launcher.returncode})") from None
    # The shell was the session (and group) leader; the command stays in that group.
    return pid, launcher.pid


def run_timed(
    argv: Sequence[str],
    *,
    env: dict[str, str],
    log_dir: Path,
    timeout_s: float,
    server: ServerProcess | None,
) -> ChildOutcome:
    """Run ``argv`` to its end; wall clock around spawn..reap, rusage from ``wait4``.

    The command runs in its own process group, so a timeout (or Ctrl-C in the
    harness) kills it together with anything it started.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    server_cpu_before = server.cpu_seconds() if server is not None else None
    lock = threading.Lock()
    reaped = False
    timed_out = threading.Event()
    started = time.perf_counter()
    pid, group = _spawn(argv, env, log_dir)

    def kill_group() -> None:
        with lock:
            if not reaped:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(group, signal.SIGKILL)

    def on_timeout() -> None:
        timed_out.set()
        kill_group()

    timer = threading.Timer(timeout_s, on_timeout)
    timer.daemon = True
    timer.start()
    try:
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - started
        with lock:
            reaped = True
    except BaseException:
        # Ctrl-C (or anything else) while waiting: take the command down first.
        kill_group()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        raise
    finally:
        timer.cancel()
    # Anything the command left running in its group goes too (it is not measured).
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
    server_cpu = None
    if server is not None and server_cpu_before is not None:
        after = server.cpu_seconds()
        server_cpu = None if after is None else after - server_cpu_before
    sample = Sample(
        wall_s=wall,
        user_s=usage.ru_utime,
        sys_s=usage.ru_stime,
        maxrss_mib=usage.ru_maxrss / 1024,  # KiB on Linux
        server_cpu_s=server_cpu,
    )
    return ChildOutcome(sample, os.waitstatus_to_exitcode(status), timed_out.is_set())


# --------------------------------------------------------------------------
# Workloads and tools
# --------------------------------------------------------------------------


@dataclass
class Workload:
    """What every tool of one workload downloads, and where the harness keeps its files."""

    name: str
    title: str
    server: ServerProcess
    api: Api
    listing: Listing
    #: The files the peers fetch (the engine exports the whole project).
    targets: list[RemoteFile]
    concurrency: int
    single: bool  # one big file: curl -o / aria2c -x1 instead of list mode
    scratch: Path

    @property
    def files(self) -> int:
        return len(self.targets)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.targets)


def peer_name(index: int) -> str:
    """Flat, collision-free output name for the index-th target (peers only)."""
    return f"f{index:07d}.bin"


def verify_peer_output(work: Workload, out_dir: Path) -> str | None:
    """Each target under its own name with the listed sha256, and nothing else."""
    expected = {peer_name(i): f for i, f in enumerate(work.targets)}
    present = {p.relative_to(out_dir).as_posix(): p for p in all_files(out_dir)}
    missing = sorted(set(expected) - set(present))
    extra = sorted(set(present) - set(expected))
    if missing or extra:
        return (
            f"{len(present)} files, expected {len(expected)}"
            f" (missing {len(missing)}, e.g. {missing[:2]}; unexpected {len(extra)},"
            f" e.g. {extra[:2]})"
        )
    bad = [name for name, f in expected.items() if sha256_of(present[name]) != f.sha256]
    if bad:
        return f"{len(bad)} of {len(expected)} files have the wrong sha256, e.g. {bad[:3]}"
    return None


def verify_engine_output(listing: Listing, out_dir: Path) -> tuple[str | None, str]:
    """Compare the multiset of sha256 values (robust to how names were made safe).

    Returns (error or None, an informational note on how many files were also
    found at the naive ``<project name>/<folders>/<name>`` path).
    """
    present = all_files(out_dir)
    if len(present) != len(listing.files):
        return f"{len(present)} files under the output, expected {len(listing.files)}", ""
    digests = {p: sha256_of(p) for p in present}
    want = Counter(f.sha256 for f in listing.files)
    got = Counter(digests.values())
    if got != want:
        missing = sum((want - got).values())
        unexpected = sum((got - want).values())
        return (
            f"sha256 multiset differs: {missing} expected digests missing, "
            f"{unexpected} unexpected digests",
            "",
        )
    by_path = 0
    for f in listing.files:
        candidate = out_dir.joinpath(listing.project_name, *f.folders, f.name)
        with contextlib.suppress(OSError, ValueError):
            if digests.get(candidate) == f.sha256:
                by_path += 1
    return None, f"{by_path}/{len(listing.files)} also matched by relative path"


class Tool:
    """A command the harness times; subclasses build the argv and verify the output."""

    name = ""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def unavailable(self) -> str | None:
        """None when the tool can run, else why not (printed instead of figures)."""
        return None

    def describe(self, work: Workload) -> str:
        raise NotImplementedError

    def prepare(self, work: Workload) -> None:
        """Write whatever the tool reads (URL lists, config) once per workload."""

    def command(self, work: Workload, out_dir: Path, home: Path) -> Command:
        raise NotImplementedError

    def verify(self, work: Workload, out_dir: Path) -> str | None:
        return verify_peer_output(work, out_dir)


class Aria2c(Tool):
    name = "aria2c"

    def unavailable(self) -> str | None:
        if shutil.which("aria2c") is None:
            return "not available (aria2c not found on PATH; Debian: apt-get install aria2)"
        return None

    def describe(self, work: Workload) -> str:
        if work.single:
            return "aria2c -x1"
        return f"aria2c -i LIST -j {work.concurrency} -x 1"

    def _list_path(self, work: Workload) -> Path:
        return work.scratch / "aria2c-input.txt"

    def prepare(self, work: Workload) -> None:
        if work.single:
            return
        lines: list[str] = []
        for i, f in enumerate(work.targets):
            lines.append(work.api.content_url(f))
            lines.append(f"  out={peer_name(i)}")
        self._list_path(work).write_text("\n".join(lines) + "\n")

    def command(self, work: Workload, out_dir: Path, home: Path) -> Command:
        common = [
            "aria2c",
            "--no-conf",
            "--allow-overwrite=true",
            "--auto-file-renaming=false",
            "-q",
            "-d",
            str(out_dir),
            "--header",
            f"Authorization: Bearer {work.api.token}",
        ]
        if work.single:
            url = work.api.content_url(work.targets[0])
            return [*common, "-x", "1", "-o", peer_name(0), url], dict(os.environ)
        mode = ["-i", str(self._list_path(work)), "-j", str(work.concurrency), "-x", "1"]
        return [*common, *mode], dict(os.environ)


def curl_quote(value: str) -> str:
    """A double-quoted string for a curl config file."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Curl(Tool):
    name = "curl"

    def unavailable(self) -> str | None:
        if shutil.which("curl") is None:
            return "not available (curl not found on PATH; Debian: apt-get install curl)"
        return None

    def describe(self, work: Workload) -> str:
        if work.single:
            return "curl -o"
        return f"curl --parallel --parallel-max {work.concurrency} -K cfg"

    def command(self, work: Workload, out_dir: Path, home: Path) -> Command:
        # The config names the run's output paths, so it is written per run
        # (before the clock starts). The token stays off the command line.
        cfg = [
            "silent",
            "show-error",
            "fail",
            f"header = {curl_quote('Authorization: Bearer ' + work.api.token)}",
        ]
        for i, f in enumerate(work.targets):
            cfg.append(f"url = {curl_quote(work.api.content_url(f))}")
            cfg.append(f"output = {curl_quote(str(out_dir / peer_name(i)))}")
        path = work.scratch / "curl.cfg"
        path.write_text("\n".join(cfg) + "\n")
        # -q first: ignore any ~/.curlrc, like aria2c --no-conf.
        if work.single:
            return ["curl", "-q", "-K", str(path)], dict(os.environ)
        argv = [
            "curl",
            "-q",
            "--parallel",
            "--parallel-max",
            str(work.concurrency),
            "-K",
            str(path),
        ]
        return argv, dict(os.environ)


class Engine(Tool):
    """``manuscript-cli export``: logs in, creates the task (listing), runs it to the end."""

    name = "engine"

    def __init__(self, cli: list[str] | None) -> None:
        super().__init__()
        self.cli = cli if cli is not None else self._default_cli()
        #: ``<command> --help`` text per subcommand; None when the command is missing.
        self._help: dict[str, str | None] = {}
        self._error: str | None = None

    @staticmethod
    def _default_cli() -> list[str]:
        script = Path(sys.executable).parent / "manuscript-cli"
        if script.exists():
            return [str(script)]
        return [sys.executable, "-m", "manuscript_gui.cli"]

    def _usage(self, command: str) -> str | None:
        """The help text of one subcommand (probed once), None when it does not exist."""
        if command not in self._help:
            self._help[command] = None
            try:
                with tempfile.TemporaryDirectory(prefix="manuscript-bench-probe-") as home:
                    proc = subprocess.run(
                        [*self.cli, command, "--help"],
                        capture_output=True,
                        text=True,
                        timeout=60,
                        check=False,
                        env=self.base_env(Path(home)),
                    )
            except (OSError, subprocess.TimeoutExpired) as exc:
                self._error = f"not available ({' '.join(self.cli)}: {exc})"
                return None
            if proc.returncode == 0:
                self._help[command] = proc.stdout
        return self._help[command]

    def unavailable(self) -> str | None:
        if self._usage("export") is None:
            return self._error or ENGINE_MISSING
        return None

    def has_command(self, command: str) -> bool:
        return self._usage(command) is not None

    def supports(self, flag: str, command: str = "export") -> bool:
        usage = self._usage(command)
        return usage is not None and flag in usage

    def base_env(self, home: Path) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("MANUSCRIPT_SERVER", "MANUSCRIPT_USER", "MANUSCRIPT_IDENTITY")
        }
        env["MANUSCRIPT_PASSWORD"] = DEMO_PASSWORD
        env["MANUSCRIPT_GUI_HOME"] = str(home)
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        return env

    def describe(self, work: Workload) -> str:
        if self.supports("--concurrency"):
            return f"manuscript-cli export --concurrency {work.concurrency}"
        return "manuscript-cli export"

    def prepare(self, work: Workload) -> None:
        if not self.supports("--concurrency"):
            self.notes.append("export has no --concurrency flag: ran at the engine's default")

    def export_argv(
        self, work: Workload, out_dir: Path, *, no_run: bool = False, project_id: str = ""
    ) -> list[str]:
        argv = [*self.cli, "--server", work.api.base_url, "--user", DEMO_USER, "export"]
        argv += [project_id or work.listing.project_id, "--to", str(out_dir)]
        if self.supports("--concurrency"):
            argv += ["--concurrency", str(work.concurrency)]
        if no_run:
            argv.append("--no-run")
        return argv

    def command(self, work: Workload, out_dir: Path, home: Path) -> Command:
        return self.export_argv(work, out_dir), self.base_env(home)

    def verify(self, work: Workload, out_dir: Path) -> str | None:
        error, note = verify_engine_output(work.listing, out_dir)
        if error is None and note and note not in self.notes:
            self.notes.append(note)
        return error


# --------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------


@dataclass
class ToolResult:
    tool: str
    workload: str
    command: str
    files: int
    total_bytes: int
    status: str = "ok"  # ok | failed | unavailable
    message: str = ""
    samples: list[Sample] = field(default_factory=list)
    warmups: list[Sample] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: False for figures not taken from a child process (the harness's own listing).
    child_measured: bool = True
    #: False where a ratio to another tool means nothing (the scale workload's steps).
    ranked: bool = True

    def fail(self, message: str) -> None:
        self.status = "failed"
        self.message = message
        self.samples.clear()  # never report figures of a tool that produced wrong output

    def median_wall(self) -> float | None:
        if self.status != "ok" or not self.samples:
            return None
        return statistics.median(s.wall_s for s in self.samples)

    def summary(self) -> dict[str, Any] | None:
        wall = self.median_wall()
        if wall is None:
            return None
        srv = [s.server_cpu_s for s in self.samples if s.server_cpu_s is not None]
        measured = self.child_measured
        user = statistics.median(s.user_s for s in self.samples) if measured else None
        sys_ = statistics.median(s.sys_s for s in self.samples) if measured else None
        return {
            "median_wall_s": wall,
            "min_wall_s": min(s.wall_s for s in self.samples),
            "max_wall_s": max(s.wall_s for s in self.samples),
            "files_per_s": self.files / wall if wall > 0 and self.files else None,
            "mib_per_s": self.total_bytes / MIB / wall if wall > 0 and self.total_bytes else None,
            "median_user_s": user,
            "median_sys_s": sys_,
            "peak_rss_mib": max(s.maxrss_mib for s in self.samples) if measured else None,
            "median_server_cpu_s": statistics.median(srv) if srv else None,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "workload": self.workload,
            "command": self.command,
            "files": self.files,
            "bytes": self.total_bytes,
            "status": self.status,
            "message": self.message,
            "notes": self.notes,
            "summary": self.summary(),
            "runs": [asdict(s) for s in self.samples],
            "warmups": [asdict(s) for s in self.warmups],
        }


def rate(value: float | None) -> str:
    """A per-second figure: whole numbers, two decimals below 10."""
    if value is None:
        return "–"
    return f"{value:.2f}" if value < 10 else f"{value:.0f}"


def format_table(results: Sequence[ToolResult], reference: str) -> str:
    """One row per tool and workload; the ratio is to ``reference`` (else the fastest)."""
    header = (
        "tool",
        "workload",
        "median s (min–max)",
        "files/s",
        "MiB/s",
        "CPU s (user+sys)",
        "peak RSS MB",
        "srv CPU s",
        "× ref",
    )
    rows: list[tuple[str, ...]] = []
    notes: list[str] = []
    workloads = list(dict.fromkeys(r.workload for r in results))
    for workload in workloads:
        group = [r for r in results if r.workload == workload]
        medians = {r.tool: m for r in group if r.ranked and (m := r.median_wall()) is not None}
        ref_tool = reference if reference in medians else None
        if ref_tool is None and medians:
            ref_tool = min(medians, key=lambda t: medians[t])
            notes.append(f"{workload}: {reference} has no figures, ratios are to {ref_tool}")
        for r in group:
            s = r.summary()
            if s is None:
                state = r.message if r.status == "unavailable" else f"FAILED: {r.message}"
                rows.append((r.tool, workload, state))
                continue
            ratio = "–"
            if r.ranked and ref_tool is not None and medians.get(ref_tool):
                ratio = f"{s['median_wall_s'] / medians[ref_tool]:.2f}"
            user, sys_, rss, srv = (
                s["median_user_s"],
                s["median_sys_s"],
                s["peak_rss_mib"],
                s["median_server_cpu_s"],
            )
            cpu = "–" if user is None else f"{user + sys_:.2f} ({user:.2f}+{sys_:.2f})"
            rows.append(
                (
                    r.tool,
                    workload,
                    f"{s['median_wall_s']:.2f} ({s['min_wall_s']:.2f}–{s['max_wall_s']:.2f})",
                    rate(s["files_per_s"]),
                    rate(s["mib_per_s"]),
                    cpu,
                    "–" if rss is None else f"{rss:.0f}",
                    "–" if srv is None else f"{srv:.2f}",
                    ratio,
                )
            )
    widths = [len(h) for h in header]
    for row in rows:
        if len(row) == len(header):
            widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
        else:  # a message row: only its tool and workload cells line up
            widths[0], widths[1] = max(widths[0], len(row[0])), max(widths[1], len(row[1]))
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        if len(row) == len(header):
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
        else:
            lines.append(f"{row[0].ljust(widths[0])}  {row[1].ljust(widths[1])}  {row[2]}")
    lines.extend(f"note: {n}" for n in notes)
    for r in results:
        lines.extend(f"note: {r.tool}/{r.workload}: {n}" for n in r.notes)
    return "\n".join(lines)


# --------------------------------------------------------------------------
# The benchmark proper
# --------------------------------------------------------------------------


@dataclass
class Report:
    """Everything the run produced: per-tool results and per-workload context."""

    results: list[ToolResult] = field(default_factory=list)
    workloads: list[dict[str, Any]] = field(default_factory=list)

    def add_workload(self, name: str, title: str, listing: Listing, targets: int) -> None:
        busy = host_cpu_busy()
        if busy is not None and busy > 0.15:
            log(
                f"  warning: the host CPU was {busy:.0%} busy just before this workload: "
                "other processes are running, figures will be noisy"
            )
        self.workloads.append(
            {
                "name": name,
                "title": title,
                "project": listing.project_id,
                "project_files": len(listing.files),
                "project_bytes": listing.total_bytes,
                "targets": targets,
                "listing_s": listing.seconds,
                "listing_pages": listing.pages,
                "host_cpu_busy_before": busy,
            }
        )


@dataclass
class Settings:
    runs: int
    warmup: int
    timeout_s: float
    concurrency: int
    reference: str


def bench_workload(work: Workload, tools: Sequence[Tool], settings: Settings) -> list[ToolResult]:
    """Warm up every tool, then run the tools round-robin ``runs`` times.

    Round-robin (a, b, c, a, b, c, ...) spreads slow phases of a noisy VM over
    all tools instead of penalising whichever tool ran during them.
    """
    results: dict[str, ToolResult] = {}
    active: list[Tool] = []
    for tool in tools:
        result = ToolResult(tool.name, work.name, "", work.files, work.total_bytes)
        results[tool.name] = result
        reason = tool.unavailable()
        if reason is not None:
            result.status, result.message = "unavailable", reason
            log(f"  {tool.name}: {reason}")
            continue
        result.command = tool.describe(work)
        if tool.name == "engine":
            # The engine exports the whole project, which may hold more than the targets.
            result.files = len(work.listing.files)
            result.total_bytes = work.listing.total_bytes
        tool.notes = []
        tool.prepare(work)
        active.append(tool)

    plan: list[tuple[bool, Tool]] = [(True, t) for _ in range(settings.warmup) for t in active]
    plan += [(False, t) for _ in range(settings.runs) for t in active]
    for n, (is_warmup, tool) in enumerate(plan, 1):
        result = results[tool.name]
        if result.status != "ok":
            continue
        out_dir = work.scratch / f"out-{tool.name}"
        home = work.scratch / f"home-{tool.name}"
        log_dir = work.scratch / "logs" / f"{n:03d}-{tool.name}"
        remove_tree(out_dir)
        remove_tree(home)
        out_dir.mkdir(parents=True)
        home.mkdir(parents=True)
        argv, env = tool.command(work, out_dir, home)
        os.sync()  # start every run with no dirty pages from the previous one
        outcome = run_timed(
            argv, env=env, log_dir=log_dir, timeout_s=settings.timeout_s, server=work.server
        )
        kind = "warmup" if is_warmup else "run"
        if outcome.timed_out:
            result.fail(f"{kind} timed out after {settings.timeout_s:.0f} s")
        elif outcome.returncode != 0:
            result.fail(
                f"{kind} exited with {outcome.returncode}: {tail(log_dir / 'stderr.log', 3)}"
            )
        else:
            error = tool.verify(work, out_dir)  # outside the timing
            if error is not None:
                result.fail(f"{kind} produced wrong output: {error}")
        if result.status == "ok":
            (result.warmups if is_warmup else result.samples).append(outcome.sample)
            s = outcome.sample
            log(
                f"  {kind:<6} {tool.name:<7} {s.wall_s:7.2f} s  cpu {s.user_s:.2f}+{s.sys_s:.2f}"
                f"  rss {s.maxrss_mib:.0f} MB  verified"
            )
        else:
            log(f"  {kind:<6} {tool.name:<7} {result.message}")
            # Keep what the failed run left, for --keep-work / --work-dir inspection.
            with contextlib.suppress(OSError):
                out_dir.rename(work.scratch / f"failed-{n:03d}-{tool.name}-out")
                home.rename(work.scratch / f"failed-{n:03d}-{tool.name}-home")
        remove_tree(out_dir)
        remove_tree(home)
    for tool in active:
        results[tool.name].notes.extend(tool.notes)
    return [results[t.name] for t in tools]


def start_server(
    spec: ServerSpec, cache: Path, scratch: Path, stack: contextlib.ExitStack, timeout_s: float
) -> tuple[ServerProcess, Api]:
    server = ServerProcess(spec, cache / spec.key, scratch / f"server-{spec.key}.log")
    stack.callback(server.stop)
    log(f"starting reference server ({spec.key}, data {server.data_dir}) ...")
    started = time.perf_counter()
    base_url = server.start(timeout_s)
    log(f"  listening on {base_url} after {time.perf_counter() - started:.1f} s")
    api = Api(base_url)
    stack.callback(api.close)
    api.login(DEMO_USER, DEMO_PASSWORD)
    return server, api


def describe_listing(listing: Listing) -> str:
    return (
        f"  project {listing.project_id}: {len(listing.files)} files, "
        f"{listing.total_bytes / MIB:.1f} MiB, {listing.folders} folders; harness listing "
        f"(httpx, {listing.pages} pages) {listing.seconds:.2f} s"
    )


def run_small_and_latency(
    args: argparse.Namespace,
    tools: Sequence[Tool],
    settings: Settings,
    scratch: Path,
    report: Report,
) -> None:
    spec = ServerSpec(
        key=f"small-{args.small_files}-{size_flag(args.small_min)}-{size_flag(args.small_max)}",
        large_project_files=args.small_files,
        min_size=args.small_min,
        max_size=args.small_max,
        big_file_size=0,
    )
    with contextlib.ExitStack() as stack:
        server, api = start_server(spec, args.data_cache, scratch, stack, args.server_timeout)
        project_id = api.demo_facts().get("largeProjectId")
        if not project_id:
            raise BenchError("the server reports no large project (largeProjectId)")
        listing = api.walk(str(project_id))
        log(describe_listing(listing))
        if len(listing.files) != args.small_files:
            raise BenchError(f"expected {args.small_files} files, listed {len(listing.files)}")
        for name in ("small", "latency"):
            if name not in args.workloads:
                continue
            title = f"{len(listing.files)} small files"
            if name == "latency":
                title += f", {args.latency_ms} ms latency"
            work = Workload(
                name=name,
                title=title,
                server=server,
                api=api,
                listing=listing,
                targets=listing.files,
                concurrency=settings.concurrency,
                single=False,
                scratch=scratch / name,
            )
            work.scratch.mkdir(parents=True, exist_ok=True)
            log(f"workload {name}: {title}")
            report.add_workload(name, title, listing, len(listing.files))
            if name == "latency":
                knobs = api.set_faults({"latencyMs": args.latency_ms})
                if knobs.get("latencyMs") != args.latency_ms:
                    raise BenchError(f"the server did not take latencyMs: {knobs}")
                try:
                    report.results.extend(bench_workload(work, tools, settings))
                finally:
                    api.reset_faults()
            else:
                report.results.extend(bench_workload(work, tools, settings))
            log(format_table([r for r in report.results if r.workload == name], settings.reference))


def run_big(
    args: argparse.Namespace,
    tools: Sequence[Tool],
    settings: Settings,
    scratch: Path,
    report: Report,
) -> None:
    spec = ServerSpec(
        key=f"big-{size_flag(args.big_size)}",
        large_project_files=0,
        min_size=4 << 10,
        max_size=256 << 10,
        big_file_size=args.big_size,
    )
    free = shutil.disk_usage(scratch).free
    if free < 2 * args.big_size + (1 << 30):
        raise BenchError(
            f"only {free / MIB:.0f} MiB free under {scratch}: the big workload needs about "
            f"{(2 * args.big_size + (1 << 30)) / MIB:.0f} MiB"
        )
    with contextlib.ExitStack() as stack:
        server, api = start_server(spec, args.data_cache, scratch, stack, args.server_timeout)
        big_id = api.demo_facts().get("bigFileId")
        if not big_id:
            raise BenchError("the server reports no big file (bigFileId)")
        project_id = str(api.file_info(str(big_id))["projectId"])
        listing = api.walk(project_id)
        log(describe_listing(listing))
        targets = [f for f in listing.files if f.file_id == big_id]
        if len(targets) != 1:
            raise BenchError(f"big file {big_id} not found in the listing of {project_id}")
        work = Workload(
            name="big",
            title=f"one file of {targets[0].size / MIB:.0f} MiB",
            server=server,
            api=api,
            listing=listing,
            targets=targets,
            concurrency=settings.concurrency,
            single=True,
            scratch=scratch / "big",
        )
        work.scratch.mkdir(parents=True, exist_ok=True)
        log(f"workload big: {work.title}")
        report.add_workload("big", work.title, listing, 1)
        group = bench_workload(work, tools, settings)
        for r in group:
            if r.tool == "engine" and r.status == "ok":
                r.notes.append("includes the engine's own sha256 verification")
            if r.tool == "engine" and len(listing.files) > 1:
                r.notes.append(f"the project holds {len(listing.files)} files; all exported")
        report.results.extend(group)
        log(format_table(group, settings.reference))


def run_scale(
    args: argparse.Namespace, engine: Engine, settings: Settings, scratch: Path, report: Report
) -> None:
    """The engine alone on an N-file project: task creation, then the export."""
    spec = ServerSpec(
        key=f"scale-{args.scale}",
        large_project_files=args.scale,
        min_size=1 << 10,
        max_size=4 << 10,
        big_file_size=0,
    )
    out: list[ToolResult] = []
    with contextlib.ExitStack() as stack:
        server, api = start_server(spec, args.data_cache, scratch, stack, args.server_timeout)
        project_id = api.demo_facts().get("largeProjectId")
        if not project_id:
            raise BenchError("the server reports no large project (largeProjectId)")
        listing = api.walk(str(project_id))
        log(describe_listing(listing))
        name = f"scale{args.scale}"
        title = f"{len(listing.files)} files of 1-4 KiB, engine only"
        log(f"workload {name}: {title}")
        report.add_workload(name, title, listing, len(listing.files))
        listed = ToolResult("harness listing", name, "httpx walk", len(listing.files), 0)
        listed.samples.append(Sample(listing.seconds, 0.0, 0.0, 0.0, None))
        listed.child_measured = False
        listed.ranked = False
        listed.notes.append("the harness's own httpx walk, in process: CPU and RSS not measured")
        out.append(listed)
        reason = engine.unavailable()
        if reason is not None:
            log(f"  engine: {reason}")
            out.append(ToolResult("engine", name, "", len(listing.files), 0, "unavailable", reason))
            log(format_table(out, "engine"))
            report.results.extend(out)
            return
        work = Workload(
            name=name,
            title=title,
            server=server,
            api=api,
            listing=listing,
            targets=listing.files,
            concurrency=settings.concurrency,
            single=False,
            scratch=scratch / "scale",
        )
        work.scratch.mkdir(parents=True, exist_ok=True)
        engine.notes = []
        engine.prepare(work)
        two_step = engine.supports("--no-run") and engine.has_command("run")
        create = ToolResult(
            "engine create", name, "manuscript-cli export --no-run", len(listing.files), 0
        )
        create.ranked = False
        export = ToolResult(
            "engine run" if two_step else "engine",
            name,
            "manuscript-cli run" if two_step else engine.describe(work),
            len(listing.files),
            listing.total_bytes,
        )
        export.ranked = False
        if not two_step:
            create.status, create.message = "unavailable", "export has no --no-run flag"
        for n in range(args.scale_runs):
            if export.status != "ok":
                break
            out_dir, home = work.scratch / "out", work.scratch / "home"
            remove_tree(out_dir)
            remove_tree(home)
            out_dir.mkdir(parents=True)
            home.mkdir(parents=True)
            env = engine.base_env(home)
            steps: list[tuple[ToolResult, list[str]]] = []
            if two_step:
                steps.append((create, engine.export_argv(work, out_dir, no_run=True)))
                run_argv = [*engine.cli, "--server", api.base_url, "--user", DEMO_USER, "run"]
                if engine.supports("--concurrency", "run"):
                    run_argv += ["--concurrency", str(work.concurrency)]
                steps.append((export, run_argv))
            else:
                steps.append((export, engine.export_argv(work, out_dir)))
            for result, argv in steps:
                os.sync()
                log_dir = work.scratch / "logs" / f"{n:03d}-{result.tool.replace(' ', '-')}"
                outcome = run_timed(
                    argv, env=env, log_dir=log_dir, timeout_s=settings.timeout_s, server=server
                )
                if outcome.timed_out or outcome.returncode != 0:
                    why = "timed out" if outcome.timed_out else f"exited {outcome.returncode}"
                    result.fail(f"{why}: {tail(log_dir / 'stderr.log', 3)}")
                    if result is create:
                        export.fail("task creation failed")
                    break
                result.samples.append(outcome.sample)
                s = outcome.sample
                log(f"  {result.tool:<14} {s.wall_s:7.2f} s  rss {s.maxrss_mib:.0f} MB")
            if export.status == "ok":
                error, note = verify_engine_output(listing, out_dir)
                if error is not None:
                    export.fail(f"wrong output: {error}")
                elif note and note not in export.notes:
                    export.notes.append(note)
            remove_tree(out_dir)
            remove_tree(home)
        if engine.notes:
            export.notes.extend(engine.notes)
        out.extend([create, export])
    log(format_table(out, "engine"))
    report.results.extend(out)


def environment(work_root: Path) -> dict[str, str]:
    git = "unknown"
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        proc = subprocess.run(
            ["git", "-C", str(REPO_ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        git = proc.stdout.strip() or "unknown"
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": str(os.cpu_count()),
        "aria2c": first_line(["aria2c", "--version"]) if shutil.which("aria2c") else "missing",
        "curl": first_line(["curl", "--version"]) if shutil.which("curl") else "missing",
        "work_dir_fs": filesystem_of(work_root),
        "git": git,
    }


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Benchmark the export engine against aria2c and curl on the reference server.",
    )
    parser.add_argument(
        "--tools",
        type=csv_choice(ALL_TOOLS),
        default=list(ALL_TOOLS),
        help="comma-separated tools (default: %(default)s)",
    )
    parser.add_argument(
        "--workloads",
        type=csv_choice(ALL_WORKLOADS, none_ok=True),
        default=list(ALL_WORKLOADS),
        help="comma-separated workloads: small, latency, big, or none (only --scale); "
        "default: all three",
    )
    parser.add_argument("--runs", type=positive_int, default=3, help="timed runs per tool")
    parser.add_argument("--warmup", type=non_negative_int, default=1, help="warmup runs per tool")
    parser.add_argument("--concurrency", type=positive_int, default=8, help="parallel transfers")
    parser.add_argument(
        "--reference", choices=ALL_TOOLS, default="curl", help="tool the ratio column is to"
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also save the figures here")
    parser.add_argument(
        "--data-cache",
        type=Path,
        default=Path(tempfile.gettempdir()) / "manuscript-bench-cache",
        metavar="DIR",
        help="server data directories, kept between runs of the script (default: %(default)s)",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        metavar="DIR",
        help="where outputs and logs go (default: a fresh temporary directory, removed at the end)",
    )
    parser.add_argument(
        "--keep-work", action="store_true", help="keep the work directory (logs) at the end"
    )
    parser.add_argument(
        "--engine-cli",
        metavar="CMD",
        help="command that runs manuscript-cli, split on spaces "
        "(default: manuscript-cli next to this Python, else python -m manuscript_gui.cli)",
    )
    parser.add_argument(
        "--timeout", type=float, default=900.0, metavar="S", help="limit per timed run"
    )
    parser.add_argument(
        "--server-timeout",
        type=float,
        default=1800.0,
        metavar="S",
        help="limit for a server to start (includes generating its data the first time)",
    )
    tune = parser.add_argument_group("workload sizes")
    tune.add_argument("--small-files", type=positive_int, default=3000, metavar="N")
    tune.add_argument("--small-min", type=size_arg, default=4 << 10, metavar="SIZE")
    tune.add_argument("--small-max", type=size_arg, default=256 << 10, metavar="SIZE")
    tune.add_argument("--latency-ms", type=positive_int, default=20, metavar="MS")
    tune.add_argument("--big-size", type=size_arg, default=1 << 30, metavar="SIZE")
    tune.add_argument(
        "--scale",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="also run the engine alone on an N-file project of 1-4 KiB files (e.g. 100000)",
    )
    tune.add_argument("--scale-runs", type=positive_int, default=1, metavar="N")
    return parser


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.small_min > args.small_max:
        build_parser().error("--small-min is larger than --small-max")
    if not args.workloads and not args.scale:
        build_parser().error("nothing to do: --workloads none needs --scale N")
    # SIGTERM/SIGHUP take the same way out as Ctrl-C: through the finally blocks.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    signal.signal(signal.SIGHUP, _raise_interrupt)

    settings = Settings(
        runs=args.runs,
        warmup=args.warmup,
        timeout_s=args.timeout,
        concurrency=args.concurrency,
        reference=args.reference,
    )
    engine = Engine(args.engine_cli.split() if args.engine_cli else None)
    catalogue: dict[str, Tool] = {"aria2c": Aria2c(), "curl": Curl(), "engine": engine}
    tools = [catalogue[name] for name in args.tools]

    args.data_cache.mkdir(parents=True, exist_ok=True)
    owns_work = args.work_dir is None
    scratch = Path(tempfile.mkdtemp(prefix="manuscript-bench-")) if owns_work else args.work_dir
    scratch.mkdir(parents=True, exist_ok=True)
    env = environment(scratch)
    log("environment: " + "; ".join(f"{k} {v}" for k, v in env.items()))
    log(f"work dir {scratch}; data cache {args.data_cache}")
    if not become_subreaper():
        log("warning: cannot become a child subreaper: peak RSS includes the harness's own")
    for tool in tools:
        reason = tool.unavailable()
        log(f"{tool.name}: {reason or 'ok'}")

    report = Report()
    results = report.results
    status = 0
    try:
        if "small" in args.workloads or "latency" in args.workloads:
            run_small_and_latency(args, tools, settings, scratch, report)
        if "big" in args.workloads:
            run_big(args, tools, settings, scratch, report)
        if args.scale:
            run_scale(args, engine, settings, scratch, report)
    except KeyboardInterrupt:
        log("interrupted: servers stopped; only workloads that finished are reported")
        status = 130
    except BenchError as exc:
        log(f"error: {exc}")
        status = 3
    finally:
        if owns_work and not args.keep_work:
            shutil.rmtree(scratch, ignore_errors=True)
        elif args.keep_work or not owns_work:
            log(f"work dir kept: {scratch}")

    if results:
        log("")
        scale = f"; scale: {args.scale_runs} run(s), no warmup" if args.scale else ""
        log(
            f"results ({settings.runs} timed runs + {settings.warmup} warmup per tool{scale}; "
            f"ratio to {settings.reference}):"
        )
        log(format_table(results, settings.reference))
    if args.json is not None:
        payload = {
            "environment": env,
            "settings": asdict(settings)
            | {
                "small_files": args.small_files,
                "small_min": args.small_min,
                "small_max": args.small_max,
                "latency_ms": args.latency_ms,
                "big_size": args.big_size,
                "scale": args.scale,
            },
            "workloads": report.workloads,
            "results": [r.to_json() for r in results],
        }
        args.json.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        log(f"figures saved to {args.json}")
    if status == 0 and any(r.status == "failed" for r in results):
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
