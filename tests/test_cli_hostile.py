"""The command line against a hostile or failing server (issue #6, review H7).

- Text from the server (project, folder and file names, error messages,
  pause details) never drives the terminal: control and format characters
  are shown escaped, in one place for all human output (``_say``, the
  progress line, log lines); ``--json`` stays exact.
- The CLI's own server calls (sign-in, project and folder lookups) are
  retried by the engine's rules; what survives the retries exits 4 saying
  what failed and that it was retried.
- A closed standard output (``files 3 | head``) ends the command quietly;
  ``--limit-rate`` below one byte per second is a usage error.

Everything runs against the real reference server, in-process through
``main([...])`` unless the test needs a real pipe.
"""

from __future__ import annotations

import ast
import io
import json
import logging
import subprocess
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import manuscript_gui.cli as cli_package
from manuscript_gui.argtypes import byte_size
from manuscript_gui.cli import main
from manuscript_gui.cli.output import Progress, json_text, log_to_stderr, terminal_safe
from manuscript_gui.config import Settings, save_settings
from manuscript_gui.reference_server import ServerHandle
from tests.e2e.helpers import assert_byte_exact, cli_argv, cli_env, server_files
from tests.fixtures_server import Admin

Cli = Callable[..., tuple[int, str, str]]

#: Clears the screen, turns the text red, rings the bell, sends an 8-bit CSI,
#: reverses what follows (U+202E), hides a zero-width space and a BOM, and
#: fakes new lines and columns (LF, CR, U+2028, U+2029, TAB).
HOSTILE = "\x1b[2J\x1b[31m红\x07\x9b6n 报告\u202efdp.exe\u200b\ufeff\nfake\rline\u2028\u2029\tcol"
ESCAPED = (
    "\\x1b[2J\\x1b[31m红\\x07\\x9b6n 报告\\u202efdp.exe\\u200b\\ufeff\\x0afake\\x0dline"
    "\\u2028\\u2029\\x09col"
)
#: What must never reach a terminal raw from the server's text.
RAW = ["\x1b", "\x07", "\x9b", "\u202e", "\u200b", "\ufeff", "\r", "\u2028", "\u2029"]


def raw_in(text: str) -> list[str]:
    return [repr(c) for c in RAW if c in text]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, fresh_server: ServerHandle) -> None:
    monkeypatch.setenv("MANUSCRIPT_SERVER", fresh_server.base_url)
    monkeypatch.setenv("MANUSCRIPT_USER", "demo")
    monkeypatch.setenv("MANUSCRIPT_PASSWORD", "demo")
    monkeypatch.delenv("MANUSCRIPT_IDENTITY", raising=False)


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


# -------------------------------------------------------------- hostile text


@pytest.fixture
def hostile_project(admin: Admin) -> dict[str, str]:
    """A project, a folder and a file named :data:`HOSTILE`, visible to demo/auditor."""
    pid = admin.create_project(HOSTILE, code=HOSTILE)
    admin.access("demo", "auditor", pid, True)
    made = admin.add_file(pid, [HOSTILE], HOSTILE + ".pdf", b"%PDF hostile")
    admin.add_file(pid, [HOSTILE], "plain.txt", b"plain")
    return {"id": pid, "folder": made["folderId"], "file": made["id"]}


def test_terminal_safe_escapes_exactly_the_unsafe_classes() -> None:
    assert terminal_safe(HOSTILE) == ESCAPED
    assert terminal_safe("\U000e0001tag\x7fdel\x85nel\ud800") == (
        "\\U000e0001tag\\x7fdel\\x85nel\\ud800"
    )
    kept = "上海某某科技 D1-1 货币资金审定表.xlsx\u3000\u00a0café שלום עולם ٣"
    assert terminal_safe(kept) == kept
    # Every code point: nothing unsafe survives, everything else is untouched.
    every = "".join(map(chr, range(0x110000)))
    shown = terminal_safe(every)
    unsafe = {"Cc", "Cf", "Cs", "Zl", "Zp"}
    assert not [c for c in shown if unicodedata.category(c) in unsafe]
    assert shown.count("\\") == 1 + sum(unicodedata.category(c) in unsafe for c in every)


def test_json_text_is_exact_and_terminal_safe() -> None:
    value = {"name": HOSTILE + "\U000e0001\ud800", "上海": [1, None, "\x00"]}
    text = json_text(value)
    assert json.loads(text) == value
    assert not [c for c in text if unicodedata.category(c) in {"Cc", "Cf", "Cs", "Zl", "Zp"}]
    assert "红" in text
    assert "报告" in text  # no ensure_ascii: Chinese stays readable
    assert "\\u202e" in text
    assert "\\udb40\\udc01" in text  # beyond the BMP: a surrogate pair escape


def test_projects_and_errors_show_server_text_escaped(
    env: None, cli: Cli, hostile_project: dict[str, str]
) -> None:
    code, out, err = cli("projects")
    assert code == 0, err
    assert raw_in(out + err) == []
    (line,) = [row for row in out.splitlines() if row.startswith(hostile_project["id"] + "\t")]
    assert line == f"{hostile_project['id']}\t{ESCAPED}\t{ESCAPED}"
    assert len(out.splitlines()) == 4  # three demo projects and this one, one line each

    code, out, _ = cli("projects", "--json")
    assert code == 0
    assert raw_in(out) == []
    (row,) = [r for r in json_lines(out) if r["id"] == hostile_project["id"]]
    assert row["name"] == HOSTILE
    assert row["code"] == HOSTILE

    # A usage error quoting server names (the folders that exist).
    code, _, err = cli("export", hostile_project["id"], "--folder", "nope", "--to", "/tmp/x")
    assert code == 2
    assert raw_in(err) == []
    assert "no folder 'nope'" in err


def test_export_tasks_files_and_summary_show_server_text_escaped(
    env: None, cli: Cli, hostile_project: dict[str, str], tmp_path: Path
) -> None:
    pid = hostile_project["id"]
    code, out, err = cli("export", pid, "--to", str(tmp_path / "out"), "--no-run")
    assert code == 0, err
    assert raw_in(out + err) == []
    assert f'task 1 "{ESCAPED}": 2 files' in out

    code, out, err = cli("tasks")
    assert code == 0
    assert raw_in(out) == []
    assert out.splitlines()[1].endswith(ESCAPED)
    assert len(out.splitlines()) == 2

    code, out, err = cli("run")
    assert code == 0, err
    assert raw_in(out + err) == []
    assert f'task 1 "{ESCAPED}": completed, 2 files succeeded' in out

    code, out, _ = cli("files", "1")
    assert code == 0
    assert raw_in(out) == []
    rows = out.splitlines()
    assert len(rows) == 2
    assert all(row.count("\t") == 3 for row in rows)  # the CLI's own columns only

    code, out, _ = cli("tasks", "--json")
    assert raw_in(out) == []
    (task,) = json_lines(out)
    assert task["name"] == HOSTILE
    code, out, _ = cli("files", "1", "--json")
    assert raw_in(out) == []
    remote = {r["remote_path"] for r in json_lines(out)}
    assert remote == {f"/{HOSTILE}/{HOSTILE}/{HOSTILE}.pdf", f"/{HOSTILE}/{HOSTILE}/plain.txt"}


def test_a_pause_detail_from_the_server_is_shown_escaped(
    env: None, cli: Cli, admin: Admin, hostile_project: dict[str, str], tmp_path: Path
) -> None:
    # The hostile folder's listing fails (404): the pause detail quotes its remote path.
    admin.folder_entry(hostile_project["folder"], {"id": "gone-folder"})
    code, out, err = cli("export", hostile_project["id"], "--to", str(tmp_path / "out"))
    assert code == 3, err
    assert raw_in(out + err) == []
    assert f'paused: listing failed (task 1 "{ESCAPED}": /{ESCAPED}/{ESCAPED}: ' in err
    code, out, _ = cli("tasks", "--json")
    (task,) = json_lines(out)
    assert task["reason_detail"].startswith(f"/{HOSTILE}/{HOSTILE}: ")


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_line_shows_server_text_escaped() -> None:
    term = FakeTerminal()
    progress = Progress(term, enabled=True)
    progress.note(f'task 1 "{HOSTILE}" -> /tmp/out')
    progress.show(f"task 1: {HOSTILE}", force=True)
    progress.clear()
    note, line = term.getvalue().split("\n", 1)
    assert note == f'task 1 "{ESCAPED}" -> /tmp/out'
    # The progress line's own carriage return and erase-line sequences, around safe text.
    assert line.startswith("\rtask 1: \\x1b[2J")
    assert line.endswith("\x1b[K\r\x1b[K")
    shown = line[1 : -len("\x1b[K\r\x1b[K")]
    assert f"task 1: {ESCAPED}".startswith(shown)
    assert raw_in(shown) == []


def test_log_lines_show_server_text_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    with log_to_stderr(1):
        logger = logging.getLogger("manuscript_gui.core.listing")
        logger.warning("folder %r listed again: %s", HOSTILE, HOSTILE)
        try:
            raise ValueError(HOSTILE)
        except ValueError:
            logger.exception("failed: %s", HOSTILE)
    err = capsys.readouterr().err
    assert raw_in(err) == []
    assert ESCAPED in err
    assert "Traceback (most recent call last):\n" in err  # the traceback keeps its lines


def test_all_human_output_goes_through_one_place() -> None:
    """In every module of the command line, ``print`` is called only by the output
    helpers and streams are written only by Progress (both in cli/output.py)."""
    allowed = {("output.py", "say"), ("output.py", "say_json")}
    writers = {("output.py", "show"), ("output.py", "clear"), ("output.py", "note")}
    modules = sorted(Path(cli_package.__file__).parent.rglob("*.py"))
    assert len(modules) > 5, "the command line is a package"
    offenders = []
    for path in modules:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        owner: dict[ast.AST, str] = {}  # each node's innermost function ("" at module level)
        for func in ast.walk(tree):  # breadth first: inner functions overwrite outer ones
            if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(func):
                    owner[node] = func.name
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            where = (path.name, owner.get(node, ""))
            name = node.func
            if isinstance(name, ast.Name) and name.id == "print" and where not in allowed:
                offenders.append(f"print in {where} (line {node.lineno})")
            if isinstance(name, ast.Attribute) and name.attr == "write" and where not in writers:
                offenders.append(f".write in {where} (line {node.lineno})")
    assert offenders == []


# --------------------------------------------------------- retried lookups


def test_lookups_survive_a_server_that_fails_every_request_once(
    env: None, cli: Cli, admin: Admin, fresh_server: ServerHandle, tmp_path: Path
) -> None:
    """The issue: at a 30 % error rate a single 503 in a lookup ended ``export`` with 4."""
    remote = server_files(fresh_server.base_url, "prj-1")
    chosen = sorted({f.folders for f in remote if len(f.folders) >= 2})[0]
    admin.faults(fail_once=True, retry_after_s=0)  # every request: 503 once, then served
    code, out, err = cli("whoami")
    assert code == 0, err
    assert out.strip().endswith("as auditor")
    code, out, err = cli("projects", "--json")
    assert code == 0, err
    assert len(json_lines(out)) == 3
    out_dir = tmp_path / "out"
    code, out, err = cli("export", "prj-1", "--folder", "/".join(chosen), "--to", str(out_dir))
    assert code == 0, err
    wanted = [f for f in remote if f.folders[: len(chosen)] == chosen]
    assert_byte_exact(out_dir, fresh_server.facts.projects["prj-1"].name, wanted)


@pytest.mark.parametrize("command", ["projects", "whoami", "export"])
def test_a_lookup_failing_after_its_retries_exits_4_and_says_so(
    env: None, cli: Cli, admin: Admin, tmp_path: Path, command: str
) -> None:
    save_settings(Settings(retries=2))
    admin.faults(error_rate=1, retry_after_s=0)
    argv = [command] + (["prj-1", "--to", str(tmp_path / "out")] if command == "export" else [])
    code, out, err = cli(*argv)
    assert code == 4, err
    what = "asking who is signed in" if command == "whoami" else "listing the projects"
    assert (
        f"manuscript-cli: server unavailable: {what} failed after 3 attempts (2 retries): "
        "503 service_unavailable" in err
    )
    assert out == ""
    admin.reset()
    code, out, _ = cli("tasks", "--json")
    assert (code, out) == (0, "")  # export created no task


def test_a_folder_lookup_is_retried_too(
    env: None, cli: Cli, admin: Admin, fresh_server: ServerHandle, tmp_path: Path
) -> None:
    remote = server_files(fresh_server.base_url, "prj-2")
    top = sorted({f.folders[0] for f in remote if f.folders})[0]
    save_settings(Settings(retries=1))
    admin.faults(fail_once=True, retry_after_s=0)
    code, _, err = cli("export", "prj-2", "--folder", top, "--to", str(tmp_path / "a"), "--no-run")
    assert code == 0, err
    # A listing that never ends is refused at once, and named.
    admin.reset()
    admin.faults(cursor_loop="repeat")
    code, _, err = cli("export", "prj-2", "--folder", top, "--to", str(tmp_path / "b"))
    assert code == 4
    assert "listing the projects: the server sent cursor 'loop-repeat' twice" in err


# ----------------------------------------------------------- small ones


def test_limit_rate_below_one_byte_per_second_is_a_usage_error(
    env: None, cli: Cli, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for rate in ("0.5", "0.0001K", "0.9B"):
        with pytest.raises(SystemExit) as exc:
            main(["export", "prj-1", "--to", str(tmp_path), "--limit-rate", rate])
        assert exc.value.code == 2
        assert "less than one byte" in capsys.readouterr().err
    assert byte_size("0") == 0
    assert byte_size("0K") == 0
    assert byte_size("1") == 1
    assert byte_size("1.5") == 1
    assert byte_size("1.5K") == 1536
    code, out, err = cli(
        "export", "prj-1", "--to", str(tmp_path / "out"), "--limit-rate", "0", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["exit_code"] == 0


def test_a_reader_that_stops_early_ends_files_quietly(
    ref_server: ServerHandle, tmp_path: Path
) -> None:
    """``manuscript-cli files 1 | head -1``: no BrokenPipeError traceback."""
    env = cli_env(tmp_path / "home", ref_server.base_url)
    large = ref_server.facts.large_project_id
    assert large is not None
    made = subprocess.run(
        [*cli_argv(), "export", large, "--to", str(tmp_path / "out"), "--no-run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    with subprocess.Popen(
        [*cli_argv(), "files", "1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        first = child.stdout.readline()  # ~3000 lines follow: far more than a pipe holds
        child.stdout.close()
        stderr = child.stderr.read().decode("utf-8", "replace")
        child.wait(timeout=60)
    assert first.startswith(b"1\t")
    assert stderr == ""
    assert child.returncode == 141
