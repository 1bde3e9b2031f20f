"""The headless command line against the real reference server.

Most tests call ``main([...])`` in-process (fast, and capsys sees the output,
which is then not a terminal: quiet but for the summary); the signal tests run
``manuscript-cli`` as a child process, as a shell would.
"""

from __future__ import annotations

import csv
import io
import json
import os
import select
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from manuscript_gui.cli import main
from manuscript_gui.cli.output import Progress
from manuscript_gui.config import Settings, app_paths, save_settings
from manuscript_gui.core.events import ListingProgress, TaskProgress
from manuscript_gui.reference_server import ServerHandle
from manuscript_gui.services.queue_lock import FrontEnd, QueueLock
from tests.e2e.helpers import (
    assert_byte_exact,
    cli_argv,
    cli_env,
    exported_files,
    server_files,
    staged_bytes_now,
    staged_files,
)
from tests.fixtures_server import Admin

Cli = Callable[..., tuple[int, str, str]]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, ref_server: ServerHandle) -> None:
    monkeypatch.setenv("MANUSCRIPT_SERVER", ref_server.base_url)
    monkeypatch.setenv("MANUSCRIPT_USER", "demo")
    monkeypatch.setenv("MANUSCRIPT_PASSWORD", "demo")
    monkeypatch.delenv("MANUSCRIPT_IDENTITY", raising=False)


@pytest.fixture
def fresh_env(monkeypatch: pytest.MonkeyPatch, fresh_server: ServerHandle) -> None:
    monkeypatch.setenv("MANUSCRIPT_SERVER", fresh_server.base_url)
    monkeypatch.setenv("MANUSCRIPT_USER", "demo")
    monkeypatch.setenv("MANUSCRIPT_PASSWORD", "demo")
    monkeypatch.delenv("MANUSCRIPT_IDENTITY", raising=False)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run ``main(argv)`` in-process; return (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def tasks_json(cli: Cli) -> dict[int, dict[str, Any]]:
    code, out, err = cli("tasks", "--json")
    assert code == 0, err
    return {row["id"]: row for row in json_lines(out)}


def project_name(server: ServerHandle, project_id: str) -> str:
    return server.facts.projects[project_id].name


# ------------------------------------------------------------------ session


@pytest.mark.parametrize("identity", ["auditor", "manager"])
def test_projects_lists_what_the_identity_sees(
    env: None, ref_server: ServerHandle, identity: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--identity", identity, "projects", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {row["id"] for row in rows} == set(ref_server.facts.projects_for("demo", identity))
    assert all(row["name"] for row in rows)


def test_whoami_uses_the_default_identity(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["whoami"]) == 0
    assert capsys.readouterr().out.strip().endswith("as auditor")


def test_session_flags_may_follow_the_command(env: None, cli: Cli) -> None:
    code, out, _ = cli("whoami", "--identity", "manager")
    assert code == 0
    assert out.strip().endswith("as manager")


def test_wrong_password_exits_4_with_a_clear_message(
    env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MANUSCRIPT_PASSWORD", "nope")
    assert main(["projects"]) == 4
    captured = capsys.readouterr()
    assert "wrong user name or password" in captured.err
    assert "nope" not in captured.err + captured.out


def test_export_with_a_wrong_password_exits_4(
    env: None, monkeypatch: pytest.MonkeyPatch, cli: Cli, tmp_path: Path
) -> None:
    monkeypatch.setenv("MANUSCRIPT_PASSWORD", "nope")
    code, _out, err = cli("export", "prj-1", "--to", str(tmp_path / "out"))
    assert code == 4
    assert "login refused" in err
    assert not (tmp_path / "out").exists()


def test_unreachable_server_exits_4(
    env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("MANUSCRIPT_SERVER", f"http://127.0.0.1:{port}")
    save_settings(Settings(retries=1))  # refused connections are retried like the engine's
    assert main(["whoami"]) == 4
    err = capsys.readouterr().err
    assert "server unreachable: signing in failed after 2 attempts (1 retry)" in err
    assert main(["run"]) == 4
    assert "server unreachable: signing in failed after 2 attempts" in capsys.readouterr().err


def test_password_from_stdin(
    env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MANUSCRIPT_PASSWORD")
    monkeypatch.setattr("sys.stdin", io.StringIO("demo\n"))
    assert main(["--password-stdin", "whoami"]) == 0
    assert capsys.readouterr().out.strip().endswith("as auditor")


def test_missing_credentials_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("MANUSCRIPT_SERVER", "MANUSCRIPT_USER", "MANUSCRIPT_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit) as exc:
        main(["projects"])
    assert exc.value.code == 2
    assert "missing --server" in capsys.readouterr().err


def test_login_remembers_server_user_and_identity_but_no_secret(
    ref_server: ServerHandle,
    monkeypatch: pytest.MonkeyPatch,
    cli: Cli,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("MANUSCRIPT_SERVER", "MANUSCRIPT_USER", "MANUSCRIPT_IDENTITY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MANUSCRIPT_PASSWORD", "wangwu")
    code, out, _ = cli(
        "--server", ref_server.base_url, "--user", "wangwu", "--identity", "partner", "login"
    )
    assert code == 0
    assert "as partner" in out
    stored = json.loads(app_paths().settings_file.read_text(encoding="utf-8"))
    assert stored["server_url"] == ref_server.base_url
    assert (stored["last_user"], stored["last_identity"]) == ("wangwu", "partner")
    assert not {"password", "token"} & set(stored)
    assert "wangwu" not in {v for k, v in stored.items() if k not in ("last_user",)}

    code, out, _ = cli("whoami")  # no flags, no env: what login remembered
    assert code == 0
    assert out.strip().endswith("as partner")

    code, out, _ = cli("logout")
    assert code == 0
    stored = json.loads(app_paths().settings_file.read_text(encoding="utf-8"))
    assert stored["last_user"] is None
    assert stored["last_identity"] is None
    with pytest.raises(SystemExit) as exc:
        main(["whoami"])
    assert exc.value.code == 2
    assert "missing --user" in capsys.readouterr().err  # the server URL stays remembered


# ------------------------------------------------------------------- export


def test_export_a_project_end_to_end_byte_exact(
    fresh_env: None, fresh_server: ServerHandle, cli: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, stdout, err = cli("export", "prj-1", "--to", str(out), "--json")
    assert code == 0, err
    summary = json.loads(stdout)
    remote = server_files(fresh_server.base_url, "prj-1")
    (task,) = summary["tasks"]
    assert task["status"] == "completed"
    assert task["succeeded"] == task["total_files"] == len(remote) > 0
    assert task["failed"] == 0
    assert summary["exit_code"] == 0
    assert summary["bytes_received"] == sum(f.size for f in remote)
    assert_byte_exact(out, project_name(fresh_server, "prj-1"), remote)
    assert staged_files(out) == []

    code, stdout, err = cli("files", str(task["id"]), "--json")
    assert code == 0, err
    rows = json_lines(stdout)
    assert {r["remote_id"]: r["sha256"] for r in rows} == {f.id: f.sha256 for f in remote}
    assert {r["state"] for r in rows} == {"succeeded"}


def test_export_by_exact_name_with_a_plain_summary(
    fresh_env: None, fresh_server: ServerHandle, cli: Cli, tmp_path: Path
) -> None:
    name = project_name(fresh_server, "prj-2")
    code, stdout, err = cli("export", name, "--to", str(tmp_path / "out"), "--concurrency", "2")
    assert code == 0, err
    assert f'"{name}": completed' in stdout
    assert "\r" not in stdout  # not a terminal: no progress line
    assert_byte_exact(tmp_path / "out", name, server_files(fresh_server.base_url, "prj-2"))


def test_limit_rate_caps_the_whole_export(
    fresh_env: None, fresh_server: ServerHandle, cli: Cli, tmp_path: Path
) -> None:
    """``--limit-rate`` holds over all downloads together (issue #6, item 9)."""
    with pytest.raises(SystemExit) as exc:
        main(["export", "prj-1", "--to", str(tmp_path / "x"), "--limit-rate", "fast"])
    assert exc.value.code == 2
    remote = server_files(fresh_server.base_url, "prj-2")
    total = sum(f.size for f in remote)
    rate = 16 * 1024
    started = time.monotonic()
    code, stdout, err = cli(
        "export", "prj-2", "--to", str(tmp_path / "out"), "--limit-rate", "16K", "--json"
    )
    elapsed = time.monotonic() - started
    assert code == 0, err
    assert json.loads(stdout)["bytes_received"] == total
    # A lower bound only: a slow machine makes it slower, never faster. The bucket's
    # initial burst is a quarter second of the rate.
    assert total > 2 * rate, "the project must be big enough to measure"
    assert elapsed >= (total - rate / 4) / rate, (total, elapsed)
    assert_byte_exact(tmp_path / "out", project_name(fresh_server, "prj-2"), remote)


def test_export_only_the_chosen_folders(
    fresh_env: None, fresh_server: ServerHandle, cli: Cli, tmp_path: Path
) -> None:
    remote = server_files(fresh_server.base_url, "prj-1")
    folders = sorted({f.folders for f in remote if len(f.folders) >= 2})
    assert folders, "the demo tree has nested folders"
    chosen = folders[0]
    out = tmp_path / "out"
    code, stdout, err = cli(
        "export", "prj-1", "--folder", "/".join(chosen), "--to", str(out), "--json"
    )
    assert code == 0, err
    (task,) = json.loads(stdout)["tasks"]
    assert task["name"] == chosen[-1]
    wanted = [f for f in remote if f.folders[: len(chosen)] == chosen]
    assert task["total_files"] == len(wanted) > 0
    assert_byte_exact(out, project_name(fresh_server, "prj-1"), wanted)


def test_unknown_project_or_folder_is_a_usage_error(
    fresh_env: None, cli: Cli, tmp_path: Path
) -> None:
    code, _, err = cli("export", "no-such-project", "--to", str(tmp_path))
    assert code == 2
    assert "no project 'no-such-project'" in err
    code, _, err = cli("export", "prj-1", "--folder", "Z 不存在", "--to", str(tmp_path))
    assert code == 2
    assert "no folder 'Z 不存在'" in err
    assert "A 业务承接" in err
    assert tasks_json(cli) == {}


def test_usage_errors_exit_2(fresh_env: None, cli: Cli) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["files", "abc"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        main(["export", "prj-1"])  # --to is required
    assert exc.value.code == 2
    code, _, err = cli("pause", "99")
    assert code == 2
    assert "no task 99" in err


def test_no_run_then_run_and_the_json_views(
    fresh_env: None, fresh_server: ServerHandle, cli: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, stdout, err = cli("export", "prj-3", "--to", str(out), "--no-run")
    assert code == 0, err
    assert "waiting; run it with: manuscript-cli run" in stdout
    (task,) = tasks_json(cli).values()
    remote = server_files(fresh_server.base_url, "prj-3")
    assert task["status"] == "waiting"
    assert task["running"] is False
    assert task["total_files"] == task["remaining"] == len(remote)
    assert not exported_files(out)

    code, stdout, err = cli("files", str(task["id"]), "--status", "waiting", "--json")
    assert code == 0, err
    assert len(json_lines(stdout)) == len(remote)

    code, stdout, err = cli("run", "--json")
    assert code == 0, err
    summary = json.loads(stdout)
    assert [t["status"] for t in summary["tasks"]] == ["completed"]
    assert_byte_exact(out, project_name(fresh_server, "prj-3"), remote)

    code, stdout, _ = cli("run")
    assert code == 0
    assert "nothing to run" in stdout


def test_failed_files_exit_1_then_report_retry_delete(
    fresh_env: None, fresh_server: ServerHandle, admin: Admin, cli: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    assert cli("export", "prj-1", "--to", str(out), "--no-run")[0] == 0
    (task_id,) = tasks_json(cli)
    code, stdout, _ = cli("files", str(task_id), "--json")
    victim = json_lines(stdout)[0]
    admin.delete(victim["remote_id"])  # gone from the server after the task was listed

    code, stdout, err = cli("run")
    assert code == 1, err
    assert "1 failed" in stdout
    assert f"manuscript-cli retry {task_id}" in err
    code, stdout, _ = cli("files", str(task_id), "--status", "failed", "--json")
    (failed,) = json_lines(stdout)
    assert failed["id"] == victim["id"]
    assert failed["error_code"] == "file_deleted"
    assert not (out / victim["local_path"]).exists()

    report = tmp_path / "failures.csv"
    code, stdout, _ = cli("report", str(task_id), "--csv", str(report))
    assert code == 0
    with open(report, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["path"], r["reason"]) for r in rows] == [(victim["local_path"], "file_deleted")]

    code, stdout, _ = cli("retry", str(task_id))
    assert code == 0
    assert "1 failed files queued again" in stdout
    assert tasks_json(cli)[task_id]["status"] == "waiting"
    assert cli("run")[0] == 1  # still deleted on the server

    code, _, err = cli("pause", str(task_id))
    assert code == 2
    assert "cannot be paused" in err
    total = tasks_json(cli)[task_id]["total_files"]
    code, stdout, _ = cli("delete", str(task_id))
    assert code == 0
    assert tasks_json(cli) == {}
    assert len(exported_files(out)) == total - 1  # the exported files stay


def test_queue_actions_pause_resume_move_cancel_delete(
    fresh_env: None, fresh_server: ServerHandle, cli: Cli, tmp_path: Path
) -> None:
    for project in ("prj-1", "prj-2", "prj-3"):
        assert cli("export", project, "--to", str(tmp_path / project), "--no-run")[0] == 0
    first, second, third = tasks_json(cli)

    def order() -> list[int]:
        tasks = tasks_json(cli)
        return sorted(tasks, key=lambda i: tasks[i]["position"])

    assert cli("move", str(third), "up")[0] == 0
    assert order() == [first, third, second]
    code, stdout, _ = cli("move", str(first), "up")
    assert code == 0
    assert "already first" in stdout
    assert cli("move", str(first), "down")[0] == 0
    assert order() == [third, first, second]

    assert cli("pause", str(second))[0] == 0
    row = tasks_json(cli)[second]
    assert (row["status"], row["reason"]) == ("paused", "by_user")
    code, stdout, _ = cli("files", str(second), "--status", "paused", "--json")
    assert len(json_lines(stdout)) == row["total_files"]
    code, stdout, _ = cli("tasks")
    assert "(by you)" in stdout
    code, _, err = cli("move", str(second), "up")
    assert code == 2
    assert "cannot be moved" in err

    assert cli("cancel", str(third))[0] == 0
    assert tasks_json(cli)[third]["status"] == "canceled"
    assert cli("delete", str(third))[0] == 0

    code, stdout, err = cli("run", "--json")  # runs `first` only: `second` is paused
    assert code == 0
    assert [t["id"] for t in json.loads(stdout)["tasks"]] == [first]
    assert f"paused tasks were not run ({second})" in err

    code, stdout, _ = cli("resume", str(second))
    assert code == 0
    assert "is waiting" in stdout
    assert cli("run")[0] == 0
    tasks = tasks_json(cli)
    assert set(tasks) == {first, second}
    assert {t["status"] for t in tasks.values()} == {"completed"}
    assert_byte_exact(
        tmp_path / "prj-2",
        project_name(fresh_server, "prj-2"),
        server_files(fresh_server.base_url, "prj-2"),
    )


def test_actions_refuse_while_another_process_runs_the_queue(
    fresh_env: None, cli: Cli, tmp_path: Path
) -> None:
    assert cli("export", "prj-1", "--to", str(tmp_path / "a"), "--no-run")[0] == 0
    assert cli("export", "prj-2", "--to", str(tmp_path / "b"), "--no-run")[0] == 0
    (db,) = app_paths().data_dir.rglob("exports.sqlite3")
    other = QueueLock(db, FrontEnd.CLI)  # stands in for a `run` in another process
    assert other.try_acquire()
    try:
        other.publish(1)
        code, _, err = cli("pause", "2")
        assert code == 2
        assert "this queue is exporting in manuscript-cli (pid" in err
        assert "task 1 running); stop it first" in err
        tasks = tasks_json(cli)  # reading works any time
        assert tasks[1]["running"] is True
        assert tasks[2]["running"] is False
    finally:
        other.release()
    assert cli("pause", "2")[0] == 0


def test_a_window_holding_the_queue_is_named_and_waited_for(
    fresh_env: None, fresh_server: ServerHandle, cli: Cli, tmp_path: Path
) -> None:
    """The queue lock says which front end holds it (issue #7, item 6): an action is
    refused naming the window, a ``run`` waits for it, saying so, then runs."""
    out = tmp_path / "out"
    assert cli("export", "prj-3", "--to", str(out), "--no-run")[0] == 0
    (db,) = app_paths().data_dir.rglob("exports.sqlite3")
    window = QueueLock(db, FrontEnd.WINDOW)  # stands in for a window signed in as demo
    assert window.try_acquire()
    env = cli_env(tmp_path / "app-home", fresh_server.base_url)
    child: subprocess.Popen[str] | None = None
    try:
        window.publish(1)
        code, _, err = cli("pause", "1")
        assert code == 2
        assert (
            f"this queue is exporting in another window (pid {os.getpid()}, task 1 running); "
            "stop it there first"
        ) in err
        assert "manuscript-cli (pid" not in err
        assert tasks_json(cli)[1]["running"] is True

        child = subprocess.Popen(
            [*cli_argv(), "run", "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stderr is not None
        ready, _, _ = select.select([child.stderr], [], [], 60)
        assert ready, "the second runner said nothing"
        waiting = child.stderr.readline()
        assert "waiting: this queue is exporting in another window (pid" in waiting
        assert child.poll() is None  # it waits for the window
    except BaseException:
        if child is not None:
            child.kill()
            child.communicate()
        raise
    finally:
        window.release()
    assert child is not None
    try:
        stdout, stderr = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 0, stderr
    (task,) = json.loads(stdout)["tasks"]
    assert (task["id"], task["status"]) == (1, "completed")
    assert_byte_exact(
        out, project_name(fresh_server, "prj-3"), server_files(fresh_server.base_url, "prj-3")
    )


def test_an_unwritable_export_folder_pauses_and_exits_3(
    fresh_env: None, cli: Cli, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_bytes(b"not a folder")
    code, _stdout, err = cli("export", "prj-1", "--to", str(blocker / "out"))
    assert code == 3
    assert "paused: export folder not writable" in err
    assert "manuscript-cli resume 1 && manuscript-cli run" in err
    (task,) = tasks_json(cli).values()
    assert (task["status"], task["reason"]) == ("paused", "folder_not_writable")


def test_login_expiring_mid_run_pauses_and_exits_3(
    fresh_env: None, fresh_server: ServerHandle, admin: Admin, cli: Cli, tmp_path: Path
) -> None:
    remote = server_files(fresh_server.base_url, "prj-3")
    assert sum(f.size for f in remote) > 200_000
    # Tokens issued from now on live 2 s; the export needs 10 s or so.
    admin.faults(token_ttl_s=2.0, latency_ms=100, bandwidth_bps=20_000)
    code, out, err = cli(
        "export", "prj-3", "--to", str(tmp_path / "out"), "--concurrency", "1", "--json"
    )
    assert code == 3, err
    assert "paused: login expired" in err
    (task,) = tasks_json(cli).values()
    assert (task["status"], task["reason"]) == ("paused", "login_expired")
    assert task["succeeded"] < task["total_files"]
    # The summary of a session the server ended: the task as the engine left it, and
    # the bytes its run received (the session was over before the summary was made).
    summary = json.loads(out)
    assert summary["exit_code"] == 3
    (summarized,) = summary["tasks"]
    assert {k: summarized[k] for k in ("id", "status", "reason", "succeeded", "done_bytes")} == {
        k: task[k] for k in ("id", "status", "reason", "succeeded", "done_bytes")
    }
    assert summary["bytes_received"] >= task["done_bytes"]

    admin.reset()
    assert cli("resume", str(task["id"]))[0] == 0
    assert cli("run")[0] == 0
    assert_byte_exact(tmp_path / "out", project_name(fresh_server, "prj-3"), remote)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_pauses_the_running_task_and_exits_3(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path, sig: signal.Signals
) -> None:
    admin.faults(bandwidth_bps=8_000)
    env = cli_env(tmp_path / "home", fresh_server.base_url)
    out = tmp_path / "out"
    child = subprocess.Popen(
        [*cli_argv(), "export", "prj-3", "--to", str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        # prj-3 has two ~95 kB files: at 8 kB/s they are still partials after 8 kB.
        while staged_bytes_now(out) < 8192:
            assert child.poll() is None, child.communicate()
            assert time.monotonic() < deadline, "no download started"
            time.sleep(0.05)
        child.send_signal(sig)
        stdout, stderr = child.communicate(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 3, stderr
    assert "paused: by you" in stderr
    assert "paused (by you)" in stdout
    partials = {p.name: p.stat().st_size for p in staged_files(out)}
    assert partials, "the partial files stay for the resume"

    def cli_run(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*cli_argv(), *argv], env=env, capture_output=True, text=True, timeout=60
        )

    (task,) = json_lines(cli_run("tasks", "--json").stdout)
    assert (task["status"], task["reason"], task["running"]) == ("paused", "by_user", False)
    admin.reset()
    assert cli_run("resume", str(task["id"])).returncode == 0
    done = cli_run("run", "--json")
    assert done.returncode == 0, done.stderr
    remote = server_files(fresh_server.base_url, "prj-3")
    # Resumed, not fetched again: this run received only what was missing.
    received = json.loads(done.stdout)["bytes_received"]
    already = sum(f.size for f in remote) - received
    assert already >= sum(partials.values()) >= 8192
    assert_byte_exact(out, project_name(fresh_server, "prj-3"), remote)


# ---------------------------------------------------------------------- demo


def test_demo_exports_a_project_from_an_in_process_server(cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    code, stdout, err = cli("demo", "--files", "20", "--to", str(out), "--json")
    assert code == 0, err
    (task,) = json.loads(stdout)["tasks"]
    assert (task["status"], task["succeeded"], task["failed"]) == ("completed", 20, 0)
    assert "the exported files are in" in err
    files = exported_files(out)
    assert len(files) == 20
    # Again: the same demo data is already there, so nothing is fetched.
    code, stdout, err = cli("demo", "--files", "20", "--to", str(out), "--json")
    assert code == 0, err
    assert json.loads(stdout)["bytes_received"] == 0
    assert exported_files(out) == files


# ------------------------------------------------------------------ progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_one_updating_line_on_a_terminal() -> None:
    term = FakeTerminal()
    progress = Progress(term, enabled=True)
    progress(ListingProgress(task_id=3, found=1240, found_bytes=45_200_000))
    assert "task 3: listing… found 1,240 files (45.2 MB)" in term.getvalue()
    progress.show(
        Progress.progress_text(
            TaskProgress(3, 4_500_000, 45_200_000, 120, 1240, (), rate=1_200_000.0)
        ),
        force=True,
    )
    text = term.getvalue()
    assert "\n" not in text
    assert text.count("\r") == 2
    assert "120/1,240 files  4.5 MB/45.2 MB  1.2 MB/s  ETA 0:34" in text
    progress.clear()
    assert term.getvalue().endswith("\r\x1b[K")

    quiet = io.StringIO()
    Progress(quiet, enabled=False)(ListingProgress(1, 5, 5))
    assert quiet.getvalue() == ""


def test_login_refuses_credentials_in_the_server_address_and_stores_nothing(
    ref_server: ServerHandle, monkeypatch: pytest.MonkeyPatch, cli: Cli
) -> None:
    for name in ("MANUSCRIPT_SERVER", "MANUSCRIPT_USER", "MANUSCRIPT_IDENTITY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MANUSCRIPT_PASSWORD", "demo")
    with_secret = ref_server.base_url.replace("http://", "http://demo:pw-in-url@")
    code, out, err = cli("--server", with_secret, "--user", "demo", "login")
    assert code == 2
    assert "user name or password" in err
    assert "pw-in-url" not in out + err
    settings = app_paths().settings_file
    assert not settings.exists() or "pw-in-url" not in settings.read_text(encoding="utf-8")
