"""The ``manuscript-server`` command line, run as a real subprocess."""

from __future__ import annotations

import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from manuscript_gui.reference_server.__main__ import build_parser, byte_size, main

CMD = [sys.executable, "-m", "manuscript_gui.reference_server"]
FLAGS = [
    "--data",
    "--port",
    "--host",
    "--admin",
    "--demo-data",
    "--no-demo-data",
    "--seed",
    "--files-per-project",
    "--large-project-files",
    "--wide-folder-children",
    "--min-size",
    "--max-size",
    "--big-file-size",
    "--tls-cert",
    "--tls-key",
]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CMD, *args], capture_output=True, text=True, timeout=60)


def test_help_lists_every_flag() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: manuscript-server")
    for flag in FLAGS:
        assert flag in result.stdout, flag
    # Nothing the parser knows is left out of this list.
    known = {s for a in build_parser()._actions for s in a.option_strings} - {"-h", "--help"}
    assert known == set(FLAGS)


def test_console_script() -> None:
    script = Path(sys.executable).with_name("manuscript-server")
    if not script.exists():
        pytest.skip("package not installed with its console scripts")
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "--large-project-files" in result.stdout


def test_bad_flag_exits_2(tmp_path: Path) -> None:
    result = run("--data", str(tmp_path / "d"), "--bogus")
    assert result.returncode == 2
    assert "usage: manuscript-server" in result.stderr
    assert "unrecognized arguments: --bogus" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "the following arguments are required: --data"),
        (["--data", "d", "--port", "abc"], "--port: not a whole number"),
        (["--data", "d", "--port", "70000"], "--port: not a TCP port"),
        (["--data", "d", "--files-per-project", "-3"], "--files-per-project: must be >= 0"),
        (["--data", "d", "--min-size", "lots"], "--min-size: not a size"),
        (["--data", "d", "--min-size", "10K", "--max-size", "1K"], "min_size"),
        (["--data", "d", "--admin", "--host", "0.0.0.0"], "loopback"),
        (["--data", "d", "--tls-cert", "c.pem"], "--tls-cert and --tls-key go together"),
        (["--data", "d", "--tls-cert", "nope.pem", "--tls-key", "nope.key"], "TLS"),
    ],
)
def test_bad_arguments_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    # In-process (same parser and checks as the subprocess above, much faster).
    args = [str(tmp_path / a) if a in ("d", "c.pem", "nope.pem", "nope.key") else a for a in args]
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "usage: manuscript-server" in err
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    ("text", "value"),
    [("4096", 4096), ("64K", 65536), ("64kb", 65536), ("1.5M", 1572864), ("1G", 1 << 30)],
)
def test_byte_size(text: str, value: int) -> None:
    assert byte_size(text) == value


def _read_until(proc: subprocess.Popen[bytes], marker: str, timeout: float) -> str:
    # Raw reads on the descriptor: a buffered readline() could swallow lines
    # that select() then never reports.
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    seen = b""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while marker.encode() not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or proc.poll() is not None:
                raise AssertionError(f"no {marker!r} in output: {seen.decode()!r}")
            if sel.select(left):
                seen += os.read(fd, 65536)
    return seen.decode("utf-8")


def test_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    args = [
        "--data",
        str(tmp_path / "data"),
        "--port",
        "0",
        "--admin",
        "--files-per-project",
        "4",
        "--large-project-files",
        "0",
        "--max-size",
        "2K",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        [*CMD, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    ) as proc:
        try:
            out = _read_until(proc, "Press Ctrl-C", 30)
            m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", out)
            assert m, out
            base = m.group(1)
            for expected in ("demo / demo", "lisi / lisi", "auditor 审计员", "SH-2025-001"):
                assert expected in out
            assert "admin/fault endpoints: ON" in out
            with httpx.Client(base_url=base, trust_env=False) as c:
                login = c.post("/api/v1/auth/login", json={"username": "demo", "password": "demo"})
                assert login.status_code == 200
                assert c.get("/__admin__/faults").status_code == 200
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=15) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        assert proc.stderr is not None
        assert b"Traceback" not in proc.stderr.read()


def test_port_in_use_exits_1(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = run("--data", str(tmp_path / "data"), "--port", str(port), "--no-demo-data")
    assert result.returncode == 1
    assert "error" in result.stderr
    assert "Traceback" not in result.stderr
