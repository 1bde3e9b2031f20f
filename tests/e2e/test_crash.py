"""kill -9 at random moments, restart, nothing is lost (behaviour.md, "What is never lost").

``manuscript-cli export`` runs as a child process against a throttled
reference server and is killed with SIGKILL over and over, at delays drawn
from a seeded RNG: first while the task is still being listed (startup,
login, listing), then while files download and are renamed into place. After
each kill the next child is ``manuscript-cli run`` with the same
``MANUSCRIPT_GUI_HOME`` (``export`` again while no task exists yet), which is
exactly what a user restarting after a crash does. A last ``run`` goes
uninterrupted to the end.

Checked after **every** kill (the state a crash leaves):

- every file row marked succeeded is on disk, complete and byte-exact;
- the task's counters agree with its file rows.

Checked at the end:

- every file of the project is on disk byte-exact (sha256 against the server's
  listing), nothing else is, and nothing is left in the staging folder;
- every row succeeded; the task's counts agree with the rows.

**Partials are resumed, not fetched again.** Two independent witnesses:

1. A recording proxy between the CLI and the server sees every request. After
   each kill the test measures every ``.part`` file; the next run's first
   request for that file must carry ``Range: bytes=<that size>-`` (a file with
   no partial must start at 0, a file already renamed into place must not be
   requested at all). This holds for every restart, with bytes the engine
   cannot misreport.
2. The final run's ``--json`` summary reports the bytes it received; it must
   equal exactly what was still missing after the last kill (sizes minus
   partials, minus files already in place).

(Bytes the child had in its own write buffer when it was killed are lost and
fetched again; that is the kernel's line, not a re-fetch of saved bytes.)
"""

from __future__ import annotations

import json
import random
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from manuscript_gui.reference_server import DemoSpec, ServerHandle, start_in_thread
from manuscript_gui.storage import ExportStore, FileOutcome, FileRecord, TaskRecord, TaskStatus
from tests.e2e.helpers import (
    assert_byte_exact,
    cli_argv,
    cli_env,
    server_files,
    sha256_of,
    staged_files,
)
from tests.e2e.proxy import RecordingProxy
from tests.fixtures_server import Admin

SEED = 20260105
KILLS = 22
LISTING_KILLS = 3
CONCURRENCY = "4"

#: 30 papers of 16 KiB - 1 MiB (about 11 MB): at 150 kB/s per download and 4 at
#: once an uninterrupted export takes ~20 s, so 20+ kills land mid-transfer.
SPEC = DemoSpec(
    seed=5,
    files_per_project=30,
    min_size=16 * 1024,
    max_size=1024 * 1024,
    large_project_files=0,
    wide_folder_children=0,
)
#: 250 ms before every API answer stretches the listing (16 folders, 4 at a
#: time) to ~2 s, a window wide enough to be killed in.
FAULTS = {"latency_ms": 250, "bandwidth_bps": 150_000}


@dataclass
class Crash:
    """What one killed run left behind."""

    run: int
    command: str
    delay: float
    phase: str  # "startup" (no task yet), "listing" or "downloading"
    partials: dict[int, int] = field(default_factory=dict)  # file row id -> bytes on disk
    in_place: set[int] = field(default_factory=set)  # renamed into place, row not yet succeeded
    succeeded: int = 0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerHandle]:
    with start_in_thread(tmp_path / "server", demo=SPEC, admin=True) as handle:
        yield handle


@pytest.fixture
def proxy(server: ServerHandle) -> Iterator[RecordingProxy]:
    witness = RecordingProxy(server.base_url)
    witness.start()
    yield witness
    witness.stop()


def _database(home: Path) -> Path | None:
    found = sorted((home / "data").rglob("exports.sqlite3")) if home.exists() else []
    assert len(found) <= 1, found
    return found[0] if found else None


def _read_state(home: Path) -> tuple[TaskRecord, list[FileRecord]] | None:
    """The task and its rows as a restart would find them (no child is running)."""
    path = _database(home)
    if path is None:
        return None
    with ExportStore.open(path) as store:
        tasks = store.list_tasks()
        if not tasks:
            return None
        (task,) = tasks
        return task, list(store.iter_files(task.id))


def _check_crash_state(out: Path, task: TaskRecord, rows: list[FileRecord]) -> int:
    """The invariants that must hold at any moment: returns how many rows succeeded."""
    succeeded = 0
    for row in rows:
        assert row.outcome is not FileOutcome.FAILED, (row.local_path, row.error_message)
        if row.outcome is FileOutcome.SUCCEEDED:
            path = out / row.local_path
            assert path.is_file(), f"marked succeeded but missing: {row.local_path}"
            assert path.stat().st_size == row.size, f"wrong size: {row.local_path}"
            assert sha256_of(path) == row.sha256, f"wrong bytes: {row.local_path}"
            succeeded += 1
    assert task.succeeded == succeeded, "task counters disagree with the file rows"
    assert task.failed == 0
    assert task.total_files == len(rows)
    return succeeded


def _spawn(argv: list[str], env: dict[str, str], logs: Path, n: int) -> subprocess.Popen[bytes]:
    """Start a child with its output in ``logs/NN.out|err`` (kept for a post-mortem)."""
    with open(logs / f"{n:02d}.out", "wb") as out, open(logs / f"{n:02d}.err", "wb") as err:
        return subprocess.Popen(argv, env=env, stdout=out, stderr=err)


@pytest.mark.slow  # ~50 s; CI runs it (deselect locally with -m "not slow")
def test_kill_9_at_random_moments_loses_nothing(
    server: ServerHandle, proxy: RecordingProxy, tmp_path: Path
) -> None:
    started = time.monotonic()
    remote = server_files(server.base_url, "prj-1")
    project_name = server.facts.projects["prj-1"].name
    total = sum(f.size for f in remote)
    Admin(server.base_url).faults(**FAULTS)

    home, out, logs = tmp_path / "home", tmp_path / "out", tmp_path / "logs"
    logs.mkdir()
    env = cli_env(home, proxy.base_url)
    export = [*cli_argv(), "export", "prj-1", "--to", str(out), "--concurrency", CONCURRENCY]
    run = [*cli_argv(), "run", "--concurrency", CONCURRENCY]
    rng = random.Random(SEED)

    crashes: list[Crash] = []
    request_marks: list[int] = []  # index into proxy.requests where each run starts
    state: tuple[TaskRecord, list[FileRecord]] | None = None
    while len(crashes) < KILLS:
        listing_phase = sum(c.phase == "listing" for c in crashes) < LISTING_KILLS and (
            state is None or state[0].status is TaskStatus.INITIALIZING
        )
        # A child logs in by ~0.7 s and has listed by ~2.5 s; downloads run from ~0.7 s on.
        delay = rng.uniform(0.4, 2.2) if listing_phase else rng.uniform(0.3, 2.5)
        command = "export" if state is None else "run"
        request_marks.append(len(proxy.requests))
        child = _spawn(export if state is None else run, env, logs, len(crashes))
        try:
            child.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            child.kill()  # SIGKILL
            child.wait()
            time.sleep(0.1)  # let the proxy read what the child sent before it died
        else:
            pytest.fail(
                f"run {len(crashes)} ended by itself (exit {child.returncode}) after "
                f"{len(crashes)} kills: the export is too short for this test"
            )
        state = _read_state(home)
        crash = Crash(len(crashes), command, delay, "startup")
        if state is not None:
            task, rows = state
            crash.phase = "listing" if task.status is TaskStatus.INITIALIZING else "downloading"
            assert task.status in (TaskStatus.INITIALIZING, TaskStatus.WAITING), task
            crash.succeeded = _check_crash_state(out, task, rows)
            staging = out / ".manuscript-partial" / task.staging_key
            for row in rows:
                part = staging / f"{row.id}.part"
                if part.exists():
                    crash.partials[row.id] = part.stat().st_size
                target = out / row.local_path
                if row.outcome is None and target.exists() and sha256_of(target) == row.sha256:
                    crash.in_place.add(row.id)
        crashes.append(crash)

    # The last restart runs to the end.
    assert state is not None
    _, last_rows = state
    last = crashes[-1]
    still_missing = sum(
        0 if row.id in last.in_place else row.size - last.partials.get(row.id, 0)
        for row in last_rows
        if row.outcome is None
    )
    request_marks.append(len(proxy.requests))
    final = subprocess.run([*run, "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr
    summary = json.loads(final.stdout)
    request_marks.append(len(proxy.requests))

    # --- what a crash must never cost ---------------------------------------------
    (task_json,) = summary["tasks"]
    assert task_json["status"] == "completed"
    assert (task_json["succeeded"], task_json["failed"]) == (len(remote), 0)
    assert_byte_exact(out, project_name, remote)
    assert staged_files(out) == [], "partial data left in the staging folder"
    state = _read_state(home)
    assert state is not None
    task, rows = state
    assert task.status is TaskStatus.COMPLETED
    assert _check_crash_state(out, task, rows) == len(rows) == len(remote)
    assert task.done_bytes == task.total_bytes == total

    # --- resumed, not fetched again -------------------------------------------------
    remote_of = {row.id: (row.remote_id, row.version) for row in last_rows}
    requests = proxy.requests
    checked = resumed = resumed_bytes = 0
    problems: list[str] = []
    # After crash i, the next run's requests are requests[marks[i + 1]:marks[i + 2]].
    for i, crash in enumerate(crashes):
        if crash.phase != "downloading":
            continue
        window = requests[request_marks[i + 1] : request_marks[i + 2]]
        first: dict[tuple[str, int], int] = {}
        for req in window:
            parts = req.path.split("/")
            if req.method == "GET" and parts[-1] == "content":
                key = (parts[-4], int(parts[-2]))  # /api/v1/files/{id}/versions/{n}/content
                first.setdefault(key, req.range_start or 0)
        for row_id, key in remote_of.items():
            if key not in first:
                continue
            checked += 1
            expected = crash.partials.get(row_id, 0)
            if row_id in crash.in_place:
                problems.append(f"after kill {i}: {key} was in place but fetched again")
            elif first[key] != expected:
                problems.append(f"after kill {i}: {key} asked from {first[key]}, had {expected}")
            elif expected:
                resumed += 1
                resumed_bytes += expected
    assert not problems, problems[:10]
    assert summary["bytes_received"] == still_missing

    phases = [c.phase for c in crashes]
    report = (
        f"{len(crashes)} kills ({phases.count('startup')} startup, "
        f"{phases.count('listing')} listing, {phases.count('downloading')} downloading); "
        f"{checked} first requests after a kill checked, {resumed} continued a partial "
        f"({resumed_bytes:,} bytes in all not fetched again); "
        f"{sum(len(c.in_place) for c in crashes)} files found renamed but not yet recorded; "
        f"final run received {summary['bytes_received']:,} of {total:,} bytes; "
        f"{proxy.bytes_down:,} bytes crossed the proxy in all; "
        f"{time.monotonic() - started:.1f} s"
    )
    print(report)
    assert phases.count("listing") >= 2, report
    assert phases.count("downloading") >= 12, report
    assert resumed >= 5, report
