"""The headless command line against the real reference server."""

from __future__ import annotations

import json
import socket

import pytest

from manuscript_gui.cli import main
from manuscript_gui.reference_server import ServerHandle


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, ref_server: ServerHandle) -> None:
    monkeypatch.setenv("MANUSCRIPT_SERVER", ref_server.base_url)
    monkeypatch.setenv("MANUSCRIPT_USER", "demo")
    monkeypatch.setenv("MANUSCRIPT_PASSWORD", "demo")
    monkeypatch.delenv("MANUSCRIPT_IDENTITY", raising=False)


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


def test_wrong_password_exits_4_with_a_clear_message(
    env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MANUSCRIPT_PASSWORD", "nope")
    assert main(["projects"]) == 4
    captured = capsys.readouterr()
    assert "wrong user name or password" in captured.err
    assert "nope" not in captured.err + captured.out


def test_unreachable_server_exits_4(
    env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("MANUSCRIPT_SERVER", f"http://127.0.0.1:{port}")
    assert main(["whoami"]) == 4
    assert "server unreachable" in capsys.readouterr().err


def test_missing_credentials_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("MANUSCRIPT_SERVER", "MANUSCRIPT_USER", "MANUSCRIPT_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit) as exc:
        main(["projects"])
    assert exc.value.code == 2
    assert "missing --server" in capsys.readouterr().err
