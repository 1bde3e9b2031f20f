"""kill -9 *inside* every stop: pause, cancel, logout, switch, resume, end of listing, end of run.

Issue #6, item 1: "Ctrl-C ``manuscript-cli run`` (it pauses the task), SIGKILL
the process 0-120 ms later, ``resume``, ``run``, repeat. In several runs of a
300-file task the one task ended completed with 56 (or 160) of 300 files
succeeded, 0 failed, exit code 0." A stop written as several transactions
(file rows first, then the task row) leaves, when the kill falls between
them, a ``waiting`` task whose files are ``paused``; the next run takes only
waiting files, finds none and calls the task completed.

The children are what a user runs: ``manuscript-cli`` (``run`` stopped by
SIGINT or SIGTERM, ``resume``, ``cancel``, ``export --no-run``) and, for what
the command line cannot do while a task runs (sign out, switch identity,
cancel the running task), ``driver.py``, which uses the service API like the
window and prints a marker line right before the state change. Each stop is
followed by a SIGKILL at a seeded random delay (0-120 ms after the signal or
the marker; for ``resume`` and ``cancel`` commands, a random moment of their
life), and until that kill the child is frozen again and again to look at
every intermediate state (``kills.py``: freeze-and-look; the kill comes at
the first unsound state).

Checked after **every** kill and every child (``kills.check_home``): the
states a restart must be able to rely on (``kills.unsound``: task and file
rows agree, counters true, "completed" only with every file row completed),
and every row marked succeeded is on disk byte-exact. Checked at the end:
after the last uninterrupted ``resume`` + ``run``, every file of the
selection is on disk byte-exact, the task completed with succeeded == total
and 0 failed, exit code 0, and the ``--json`` summary says exactly that.
"""

from __future__ import annotations

import functools
import json
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from manuscript_gui.reference_server import DemoSpec, ServerHandle, start_in_thread
from tests.e2e.helpers import assert_byte_exact, cli_argv, cli_env, server_files
from tests.e2e.kills import (
    Child,
    KillReport,
    check_home,
    database,
    downloading,
    kill_within,
    read_files,
    read_tasks,
    sha256_of,
    staged,
)
from tests.fixtures_server import Admin

SEED = 20260106
DRIVER = Path(__file__).with_name("driver.py")

#: prj-6: 300 papers of 1-8 KiB (~1 MB); prj-1..5: 40 papers each.
SPEC = DemoSpec(
    seed=13,
    files_per_project=40,
    min_size=1024,
    max_size=8 * 1024,
    large_project_files=300,
    wide_folder_children=0,
)
BIG = "prj-6"
SMALL = "prj-1"
#: Per download: a 1-8 KiB paper takes ~0.1-0.7 s, so each run gets a few files
#: done before it is stopped, and the 300 files outlast every stop of the test.
THROTTLE = {"bandwidth_bps": 12_000}
CONCURRENCY = "4"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerHandle]:
    with start_in_thread(tmp_path / "server", demo=SPEC, admin=True) as handle:
        yield handle


class Scene:
    """One app home, one export folder, the children's logs, and the problems found."""

    def __init__(self, server: ServerHandle, tmp_path: Path, seed: int) -> None:
        self.server = server
        self.admin = Admin(server.base_url)
        self.home = tmp_path / "home"
        self.out = tmp_path / "out"
        self.logs = tmp_path / "logs"
        self.logs.mkdir()
        self.env = cli_env(self.home, server.base_url, identity="auditor")
        self.rng = random.Random(seed)
        self.problems: list[str] = []
        self.tally: Counter[str] = Counter()
        self.freezes = 0
        self.children = 0
        self.took: dict[str, float] = {}
        """Wall time of a command's first, uninterrupted run (kill delays scale with it)."""

    def cli(self, *args: str) -> list[str]:
        return [*cli_argv(), *args]

    def driver(self, *args: str) -> list[str]:
        return [sys.executable, str(DRIVER), *args, "--concurrency", CONCURRENCY]

    def child(self, label: str, argv: list[str], *, markers: bool = False) -> Child:
        self.children += 1
        return Child(f"{self.children:03d}-{label}", argv, self.env, self.logs, markers=markers)

    def call(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A command run to its end (no kill); its wall time is kept in :attr:`took`."""
        self.children += 1
        t0 = time.monotonic()
        done = subprocess.run(
            self.cli(*args), env=self.env, capture_output=True, text=True, timeout=180
        )
        self.took.setdefault(args[0], time.monotonic() - t0)
        (self.logs / f"{self.children:03d}-{args[0]}.err").write_text(done.stderr)
        return done

    def command_kill(self, child: Child, command: str) -> tuple[KillReport, str]:
        """Kill a ``resume``/``cancel`` command at a random moment of its life.

        The moment scales with the command's wall time here (:attr:`took`):
        its first half is start-up and login, left alone; from there on it is
        frozen and looked at (which slows it down, hence up to 3 times its time; a
        command that ends first was still looked at all through its change).
        """
        took = self.took[command]
        delay = took * self.rng.uniform(0.6, 3.0)
        report = kill_within(child, self.home, delay, self.rng, look_from=took / 2)
        return report, f"{delay * 1000:.0f} ms into `{command}` (~{took * 1000:.0f} ms)"

    def export(self, project: str, target: Path) -> int:
        """``export --no-run`` to its end; returns the new task's id."""
        done = self.call("export", project, "--to", str(target), "--no-run")
        assert done.returncode == 0, done.stderr
        return max(read_tasks(self.db))

    @property
    def db(self) -> Path:
        return database(self.home, "auditor")

    def task(self, task_id: int) -> str:
        return read_tasks(self.db)[task_id].status

    def checked(self, label: str, report: KillReport | None = None) -> None:
        """Record what the kill (or the child's end) left that a restart cannot rely on."""
        found: list[str] = []
        if report is not None:
            self.freezes += report.freezes
            found += report.unsound
            if report.unsound:
                label += f" (killed at the first unsound state, {report.at * 1000:.0f} ms in)"
        found += check_home(self.home)
        self.problems += [f"{label}: {p}" for p in dict.fromkeys(found)]

    def resume(self, task_id: int, label: str, *, kills: int = 2) -> None:
        """``resume TASK``, killed at a random moment up to *kills* times, then to its end.

        The first resume of a scene runs uninterrupted: its wall time scales the kills.
        """
        if "resume" not in self.took:
            kills = 0
        for attempt in range(kills + 1):
            if attempt == kills:
                done = self.call("resume", str(task_id))
                assert done.returncode == 0, done.stderr
                self.checked(f"{label}, resume")
            else:
                child = self.child(f"resume-{task_id}", self.cli("resume", str(task_id)))
                report, what = self.command_kill(child, "resume")
                self.tally["resume killed" if not report.ended_by_itself else "resume ended"] += 1
                self.checked(f"{label}, kill due {what}", report)
            if self.task(task_id) != "paused":
                return
        raise AssertionError(f"resume {task_id} left it paused")

    def outcome(self, task_id: int) -> str:
        state = read_tasks(self.db)[task_id]
        return state.describe()


def _fail_with(scene: Scene, final: str) -> None:
    shown = "\n".join(scene.problems[:25])
    more = f"\n... and {len(scene.problems) - 25} more" if len(scene.problems) > 25 else ""
    raise AssertionError(
        f"{len(scene.problems)} states a restart cannot rely on:\n{shown}{more}\n{final}"
    )


def _final_run(scene: Scene, task_ids: list[int]) -> dict[str, object]:
    """The last restart, uninterrupted: ``run --json`` (after ``resume`` where paused)."""
    scene.admin.reset()
    for task_id in task_ids:
        if scene.task(task_id) == "paused":
            scene.resume(task_id, "final", kills=0)
    final = scene.call("run", "--json", "--concurrency", CONCURRENCY)
    summary: dict[str, object] = json.loads(final.stdout) if final.stdout.strip() else {}
    summary["_returncode"] = final.returncode
    summary["_stderr"] = final.stderr[-2000:]
    return summary


@pytest.mark.slow  # ~30-40 s; CI runs it
def test_kill_inside_pause_logout_switch_and_resume(server: ServerHandle, tmp_path: Path) -> None:
    """The issue's loop on one 300-file task: stop it (Ctrl-C, SIGTERM, sign-out, switch of
    identity), kill the process inside the stop, resume (killed too), run again; repeat."""
    started = time.monotonic()
    scene = Scene(server, tmp_path, SEED)
    remote = server_files(server.base_url, BIG, identity="auditor")
    project_name = server.facts.projects[BIG].name
    total_bytes = sum(f.size for f in remote)
    task_id = scene.export(BIG, scene.out)
    scene.admin.faults(**THROTTLE)

    stops = ["sigint"] * 8 + ["sigterm"] * 4 + ["logout"] * 5 + ["switch"] * 5
    scene.rng.shuffle(stops)
    done_stops = 0
    for n, kind in enumerate(stops):
        status = scene.task(task_id)
        if status == "completed":
            break
        if status == "paused":
            scene.resume(task_id, f"stop {n}")
        delay = scene.rng.uniform(0.0, 0.12)
        if kind in ("sigint", "sigterm"):
            child = scene.child(f"run-{kind}", scene.cli("run", "--concurrency", CONCURRENCY))
            lead = scene.rng.uniform(0.05, 0.4)
            began = functools.partial(downloading, scene.out, child.started)
            if not child.wait_until(began) or child.wait(lead) is not None:
                scene.tally["run ended before its stop"] += 1
                scene.checked(f"stop {n} ({kind}): run ended by itself")
                continue
            child.send(signal.SIGINT if kind == "sigint" else signal.SIGTERM)
            what = f"{kind.upper()} {lead:.2f} s into the downloads"
        else:
            after = scene.rng.uniform(0.05, 0.5)
            child = scene.child(
                f"driver-{kind}", scene.driver(kind, "--after", f"{after:.3f}"), markers=True
            )
            if child.marker(("STOP", "IDLE")) == "IDLE":
                child.kill()
                scene.tally[f"{kind}: nothing ran"] += 1
                continue
            what = f"{kind} requested {after:.2f} s into the run"
        report = kill_within(child, scene.home, delay, scene.rng)
        done_stops += 1
        landed = scene.task(task_id)
        scene.tally[f"{kind} -> {landed}"] += 1
        scene.checked(f"stop {n}: kill due {delay * 1000:.0f} ms after {what}", report)

    # The last restart runs to the end.
    summary = _final_run(scene, [task_id])
    final = f"after the last run: {scene.outcome(task_id)}; exit {summary['_returncode']}"
    story = (
        f"{done_stops} stops killed ({dict(sorted(scene.tally.items()))}); "
        f"{scene.freezes} frozen states examined; {time.monotonic() - started:.1f} s"
    )
    print(story)
    if scene.problems:
        _fail_with(scene, final)

    assert summary["_returncode"] == 0, summary["_stderr"]
    tasks = summary["tasks"]
    assert isinstance(tasks, list)
    (task_json,) = tasks
    assert task_json["status"] == "completed", task_json
    assert (task_json["total_files"], task_json["succeeded"], task_json["failed"]) == (
        len(remote),
        len(remote),
        0,
    ), task_json
    assert task_json["done_bytes"] == task_json["total_bytes"] == total_bytes, task_json
    state = read_tasks(scene.db)[task_id]
    assert (state.status, state.rows["succeeded"], sum(state.rows.values())) == (
        "completed",
        len(remote),
        len(remote),
    ), state.describe()
    assert_byte_exact(scene.out, project_name, remote)
    assert staged(scene.out) == [], "partial data left in the staging folder"
    assert check_home(scene.home) == []
    # Another identity's queue got nothing from the switches.
    assert read_tasks(database(scene.home, "manager")) == {}
    assert done_stops >= len(stops) * 3 // 4, story


@pytest.mark.slow  # ~15-25 s; CI runs it
def test_kill_inside_cancel(server: ServerHandle, tmp_path: Path) -> None:
    """``cancel TASK`` killed at a random moment (the task waiting after a crash, or paused),
    and the running task canceled through the service and killed 0-120 ms later."""
    started = time.monotonic()
    scene = Scene(server, tmp_path, SEED + 1)
    scene.admin.faults(**THROTTLE)
    # How long `cancel` takes here, uninterrupted (the kills below scale with it).
    calibration = scene.export(BIG, scene.out / "calibration")
    assert scene.call("cancel", str(calibration)).returncode == 0
    plans = ["command, task waiting"] * 4 + ["command, task paused"] * 2 + ["running"] * 4
    scene.rng.shuffle(plans)
    targets: dict[int, Path] = {}
    for n, plan in enumerate(plans):
        target = scene.out / f"cancel-{n}"
        task_id = scene.export(BIG, target)
        targets[task_id] = target
        if plan.startswith("command"):
            run = scene.child("run", scene.cli("run", "--concurrency", CONCURRENCY))
            began = functools.partial(downloading, target, run.started)
            if run.wait_until(began) and run.wait(scene.rng.uniform(0.05, 0.3)) is None:
                if plan.endswith("paused"):
                    run.send(signal.SIGINT)
                    assert run.wait(60) is not None, "run did not stop on SIGINT"
                run.kill()
            scene.checked(f"cancel {n}: before the cancel")
            child = scene.child("cancel", scene.cli("cancel", str(task_id)))
            report, what = scene.command_kill(child, "cancel")
            what += f" ({plan})"
        else:
            after = scene.rng.uniform(0.05, 0.4)
            child = scene.child(
                "driver-cancel", scene.driver("cancel", "--after", f"{after:.3f}"), markers=True
            )
            assert child.marker(("STOP", "IDLE")).startswith("STOP")
            delay = scene.rng.uniform(0.0, 0.12)
            what = f"{delay * 1000:.0f} ms after canceling the running task"
            report = kill_within(child, scene.home, delay, scene.rng)
        scene.tally[f"{plan} -> {scene.task(task_id)}"] += 1
        scene.checked(f"cancel {n}: kill due {what}", report)
        if scene.task(task_id) != "canceled":  # the kill came first: cancel it for good
            again = scene.call("cancel", str(task_id))
            assert again.returncode == 0, again.stderr
            scene.checked(f"cancel {n}: canceled again")

    # The app starts again: nothing is left to run, and nothing of a canceled task lingers.
    summary = _final_run(scene, [])
    print(
        f"{len(plans)} cancels killed ({dict(sorted(scene.tally.items()))}); "
        f"{scene.freezes} frozen states examined; {time.monotonic() - started:.1f} s"
    )
    targets[calibration] = scene.out / "calibration"
    statuses = {t: scene.task(t) for t in targets}
    if scene.problems:
        _fail_with(scene, f"after the last run: {statuses}; exit {summary['_returncode']}")
    assert summary["_returncode"] == 0, summary["_stderr"]
    assert set(statuses.values()) == {"canceled"}, statuses
    assert check_home(scene.home) == []
    for task_id, target in targets.items():
        assert staged(target) == [], f"task {task_id} was canceled, its partial data stays"
        # Files exported before the cancel stay, and nothing else is at a final path.
        rows = {r.local_path: r for r in read_files(scene.db, task_id)}
        for path in target.rglob("*"):
            rel = path.relative_to(target).as_posix()
            if path.is_file() and not rel.startswith(".manuscript-partial/"):
                assert rel in rows, f"{rel} is no file of task {task_id}"
                assert sha256_of(path) == rows[rel].sha256, f"wrong bytes at {rel}"


@pytest.mark.slow  # ~15-25 s; CI runs it
def test_kill_around_the_end_of_listing_and_of_the_run(
    server: ServerHandle, tmp_path: Path
) -> None:
    """``export --no-run`` killed around the moment its listing ends, and ``run`` killed
    around the moment its last file ends; each time the next ``run`` must finish the task."""
    started = time.monotonic()
    scene = Scene(server, tmp_path, SEED + 2)
    expected: dict[int, tuple[Path, str]] = {}

    def restart(label: str) -> None:
        done = scene.call("run", "--concurrency", CONCURRENCY)
        scene.tally[f"restart exit {done.returncode}"] += 1
        scene.checked(f"{label}, then run")

    # End of listing: 30 ms per API answer stretches the listing of prj-1 (16 folders).
    scene.admin.faults(latency_ms=30)
    t0 = time.monotonic()
    first = scene.export(SMALL, scene.out / "list-0")
    took = time.monotonic() - t0
    expected[first] = (scene.out / "list-0", SMALL)
    for n in range(1, 8):
        target = scene.out / f"list-{n}"
        child = scene.child("export", scene.cli("export", SMALL, "--to", str(target), "--no-run"))
        delay = took * scene.rng.uniform(0.7, 1.3)
        report = kill_within(
            child, scene.home, delay, scene.rng, gap=(0.001, 0.005), look_from=took * 0.5
        )
        ids = [t for t, s in read_tasks(scene.db).items() if s.target_dir == str(target)]
        expected.update((t, (target, SMALL)) for t in ids)
        landed = scene.task(ids[0]) if ids else "not created"
        scene.tally[f"listing -> {landed}"] += 1
        label = f"listing {n}: kill due {delay:.2f} s into `export --no-run` (~{took:.2f} s)"
        scene.checked(label, report)
        restart(label)

    # End of run: 300 files at full speed.
    scene.admin.reset()
    first = scene.export(BIG, scene.out / "run-0")
    expected[first] = (scene.out / "run-0", BIG)
    t0 = time.monotonic()
    assert scene.call("run", "--concurrency", CONCURRENCY).returncode == 0
    took = time.monotonic() - t0
    for n in range(1, 8):
        target = scene.out / f"run-{n}"
        task_id = scene.export(BIG, target)
        expected[task_id] = (target, BIG)
        child = scene.child("run", scene.cli("run", "--concurrency", CONCURRENCY))
        delay = took * scene.rng.uniform(0.75, 1.3)
        report = kill_within(
            child, scene.home, delay, scene.rng, gap=(0.001, 0.005), look_from=took * 0.6
        )
        scene.tally[f"run -> {scene.task(task_id)}"] += 1
        label = f"run {n}: kill due {delay:.2f} s into `run` (~{took:.2f} s)"
        scene.checked(label, report)
        restart(label)

    summary = _final_run(scene, list(expected))
    print(
        f"{dict(sorted(scene.tally.items()))}; {scene.freezes} frozen states examined; "
        f"{time.monotonic() - started:.1f} s"
    )
    if scene.problems:
        outcomes = "; ".join(scene.outcome(t) for t in expected)
        _fail_with(scene, f"after the last run: {outcomes}")
    assert summary["_returncode"] == 0, summary["_stderr"]
    remote = {p: server_files(server.base_url, p, identity="auditor") for p in (SMALL, BIG)}
    tasks = read_tasks(scene.db)
    assert set(tasks) == set(expected), (sorted(tasks), sorted(expected))
    for task_id, (target, project) in expected.items():
        state = tasks[task_id]
        assert state.status == "completed", state.describe()
        assert state.rows["succeeded"] == sum(state.rows.values()) == len(remote[project])
        assert_byte_exact(target, server.facts.projects[project].name, remote[project])
        assert staged(target) == [], f"partial data left in {target}"
    assert check_home(scene.home) == []
