"""Reference-server fixtures shared by every test folder.

Bring them in from a conftest with ``from tests.fixtures_server import *``.

Fixtures
--------
``ref_server`` (session)
    One server for the whole run, with :data:`REF_DEMO` data and admin on.
    **Read-only**: never inject faults or change data on it; other tests share
    it. Its ``facts`` (:class:`DemoFacts`) say who sees what: e.g.
    ``ref_server.facts.projects_for("demo")``, ``ref_server.facts.wide_folder_id``
    (1200 direct children), ``ref_server.facts.large_project_id`` (3000 files).
``fresh_server`` (function)
    A new server with :data:`TINY_DEMO` data and admin on, for tests that
    mutate state (faults, revocation, purge, ...). Starts in ~0.1 s.
``admin`` (function)
    An :class:`Admin` bound to ``fresh_server``.
``make_server`` (function)
    A factory ``make_server(demo=..., admin=True, **kw) -> ServerHandle`` for
    tests that need other data; every server it made is stopped afterwards.

Helpers: :class:`Admin` (sync, httpx; one short-lived client per call, so
nothing is left open), :func:`login` (returns the login JSON).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from manuscript_gui.reference_server import DemoSpec, ServerHandle, start_in_thread

__all__ = [
    "REF_DEMO",
    "TINY_DEMO",
    "Admin",
    "AdminError",
    "admin",
    "fresh_server",
    "login",
    "make_server",
    "ref_server",
]

#: Data of the shared session server: five small projects, a 3000-file project,
#: and 1200 files directly in prj-1's ``D 实质性程序/D3 应收账款/D3-5 询证函回函``.
REF_DEMO = DemoSpec(
    seed=7,
    files_per_project=24,
    min_size=256,
    max_size=96 * 1024,
    large_project_files=3000,
    wide_folder_children=1200,
)

#: Data of ``fresh_server``: five projects of 8 small files each, nothing else.
TINY_DEMO = DemoSpec(
    seed=11,
    files_per_project=8,
    min_size=64,
    max_size=96 * 1024,
    large_project_files=0,
    wide_folder_children=0,
)


class AdminError(AssertionError):
    """An admin call that did not succeed; the message carries the server's answer."""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class Admin:
    """Synchronous helper for the ``/__admin__`` endpoints of one server."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        with httpx.Client(base_url=self.base_url, trust_env=False, timeout=60) as client:
            resp = client.request(method, path, **kwargs)
        if resp.status_code >= 300:
            raise AdminError(f"{method} {path} -> {resp.status_code}: {resp.text}")
        return resp

    def faults(self, **knobs: Any) -> dict[str, Any]:
        """Merge fault knobs (``latency_ms=50`` or ``latencyMs=50``); return all current values.

        Knobs: see the package docstring of ``manuscript_gui.reference_server``
        (e.g. ``weak_etags=True``, ``trickle_interval_s=0.5``, ``error_rate=1,
        error_status=503, retry_after_s=None``, ``content_encoding="gzip"``,
        ``redirect_content="http://..."``, ``rate_limit_retry_after_s=2``).
        """
        body = {_camel(k): v for k, v in knobs.items()}
        result: dict[str, Any] = self._call("POST", "/__admin__/faults", json=body).json()
        return result

    def current_faults(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/__admin__/faults").json()
        return result

    def reset(self) -> dict[str, Any]:
        """Turn every fault off."""
        result: dict[str, Any] = self._call("POST", "/__admin__/reset").json()
        return result

    def revoke(self, username: str | None = None) -> int:
        """Revoke every token (or one user's); return how many were revoked."""
        resp = self._call("POST", "/__admin__/tokens/revoke", json={"username": username})
        return int(resp.json()["revoked"])

    def new_version(self, file_id: str, data: bytes) -> dict[str, Any]:
        """Publish ``data`` as the file's new current version (the old ones stay).

        Returns ``{"id", "version", "sha256", "size"}``.
        """
        result: dict[str, Any] = self._call(
            "POST", f"/__admin__/files/{file_id}/versions", content=data
        ).json()
        return result

    def purge(self, file_id: str, version: int) -> None:
        self._call("DELETE", f"/__admin__/files/{file_id}/versions/{version}")

    def delete(self, file_id: str) -> None:
        self._call("DELETE", f"/__admin__/files/{file_id}")

    def access(self, username: str, user_type: str, project_id: str, allowed: bool) -> None:
        body = {
            "username": username,
            "userType": user_type,
            "projectId": project_id,
            "allowed": allowed,
        }
        self._call("POST", "/__admin__/access", json=body)

    def create_project(self, name: str, code: str | None = None) -> str:
        """A new empty project, visible to nobody until :meth:`access` grants it."""
        resp = self._call("POST", "/__admin__/projects", json={"name": name, "code": code})
        return str(resp.json()["id"])

    def add_file(
        self, project_id: str, folders: list[str], name: str, content: bytes
    ) -> dict[str, Any]:
        """Create the folder chain (verbatim) and a file: ``{"id", "version", "sha256", ...}``."""
        body = {
            "folders": folders,
            "name": name,
            "contentBase64": base64.b64encode(content).decode("ascii"),
        }
        result: dict[str, Any] = self._call(
            "POST", f"/__admin__/projects/{project_id}/files", json=body
        ).json()
        return result

    def entry(self, file_id: str, fields: dict[str, Any]) -> None:
        """Override raw fields of a file's item in folder listings (None removes the key).

        Calls add up; ``{}`` drops every override of the file. ``reset`` drops all.
        """
        self._call("POST", f"/__admin__/files/{file_id}/entry", json=fields)

    def folder_entry(self, folder_id: str, fields: dict[str, Any]) -> None:
        """Like :meth:`entry`, for a folder's item in its parent's listing."""
        self._call("POST", f"/__admin__/folders/{folder_id}/entry", json=fields)

    def project_entry(self, project_id: str, fields: dict[str, Any]) -> None:
        """Like :meth:`entry`, for a project's item in ``/api/v1/projects``."""
        self._call("POST", f"/__admin__/projects/{project_id}/entry", json=fields)

    def demo(self) -> dict[str, Any]:
        """The live demo facts as JSON (accounts, who sees what, special ids)."""
        result: dict[str, Any] = self._call("GET", "/__admin__/demo").json()
        return result


def login(
    base_url: str, username: str = "demo", password: str = "demo", user_type: str | None = None
) -> dict[str, Any]:
    """Log in and return the whole answer (``token``, ``expiresAt``, ``identities``...)."""
    with httpx.Client(base_url=base_url, trust_env=False) as client:
        resp = client.post(
            "/api/v1/auth/login",
            json={"username": username, "password": password, "userType": user_type},
        )
    resp.raise_for_status()
    result: dict[str, Any] = resp.json()
    return result


@pytest.fixture(scope="session")
def ref_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    with start_in_thread(tmp_path_factory.mktemp("ref-server"), demo=REF_DEMO, admin=True) as h:
        yield h


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., ServerHandle]]:
    handles: list[ServerHandle] = []

    def make(demo: DemoSpec | None = TINY_DEMO, admin: bool = True, **kw: Any) -> ServerHandle:
        data_dir = kw.pop("data_dir", None) or tmp_path / f"server-{len(handles)}"
        handle = start_in_thread(data_dir, demo=demo, admin=admin, **kw)
        handles.append(handle)
        return handle

    yield make
    for handle in handles:
        handle.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[ServerHandle]:
    with start_in_thread(tmp_path / "fresh-server", demo=TINY_DEMO, admin=True) as handle:
        yield handle


@pytest.fixture
def admin(fresh_server: ServerHandle) -> Admin:
    return Admin(fresh_server.base_url)
