"""Shared test setup.

- Qt runs offscreen (set before pytest-qt creates the QApplication).
- Every test gets its own user-data/config home (``MANUSCRIPT_GUI_HOME``) and no
  proxy variables, so nothing reads or writes the developer's real profile and
  no request to 127.0.0.1 is routed through a proxy.
- ``async def`` tests run on a fresh plain asyncio loop (``asyncio.run``); Qt
  tests use qtbot and their own qasync recipe instead (see tests/ui/).
"""

from __future__ import annotations

import asyncio
import inspect
import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from tests.fixtures_server import *  # noqa: F403  (server fixtures for every folder)

PROXY_VARS = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "app-home"
    monkeypatch.setenv("MANUSCRIPT_GUI_HOME", str(home))
    return home


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run ``async def`` tests on a fresh asyncio loop, with a hard timeout."""
    func = pyfuncitem.obj
    if not inspect.iscoroutinefunction(func):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    timeout = 120.0
    marker = pyfuncitem.get_closest_marker("timeout")
    if marker is not None and marker.args:
        timeout = float(marker.args[0])

    async def _run() -> None:
        await asyncio.wait_for(func(**kwargs), timeout)

    asyncio.run(_run())
    return True
