"""Small HTTP helpers for the reference-server tests (raw httpx, no client code)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx

RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def client(base_url: str, token: str | None = None, **kw: Any) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=base_url, trust_env=False, headers=headers, **kw)


def token_for(
    base_url: str, username: str = "demo", password: str = "demo", user_type: str | None = None
) -> str:
    with client(base_url) as c:
        resp = c.post(
            "/api/v1/auth/login",
            json={"username": username, "password": password, "userType": user_type},
        )
    assert resp.status_code == 200, resp.text
    return str(resp.json()["token"])


def assert_error(resp: httpx.Response, status: int, code: str) -> None:
    """Every 4xx/5xx carries ``{"error": {"code", "message"}}``."""
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]


def pages(c: httpx.Client, url: str, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """Yield each page of a paginated listing, following ``nextCursor``."""
    cursor = None
    while True:
        params: dict[str, Any] = {}
        if limit is not None:
            params["limit"] = limit
        if cursor is not None:
            params["cursor"] = cursor
        resp = c.get(url, params=params)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        assert set(page) == {"items", "nextCursor"}
        yield page
        cursor = page["nextCursor"]
        if cursor is None:
            return


def items(c: httpx.Client, url: str, limit: int | None = None) -> list[dict[str, Any]]:
    return [item for page in pages(c, url, limit) for item in page["items"]]


def children_url(project_id: str, folder_id: str = "root") -> str:
    return f"/api/v1/projects/{project_id}/folders/{folder_id}/children"


def content_url(file_id: str, version: int) -> str:
    return f"/api/v1/files/{file_id}/versions/{version}/content"


def walk(c: httpx.Client, project_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Every file of a project as ``(folder path, item)``, depth first."""
    found: list[tuple[str, dict[str, Any]]] = []
    stack = [("", "root")]
    while stack:
        path, folder_id = stack.pop()
        for item in items(c, children_url(project_id, folder_id), limit=1000):
            if item["kind"] == "folder":
                stack.append((f"{path}/{item['name']}", item["id"]))
            else:
                found.append((path, item))
    return found
