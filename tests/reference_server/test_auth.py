"""Login, logout, /me and token checks."""

from __future__ import annotations

from typing import Any

import pytest

from manuscript_gui.reference_server import ServerHandle

from .helpers import RFC3339_UTC, assert_error, client, token_for

LOGIN = "/api/v1/auth/login"


def test_login_default_identity(ref_server: ServerHandle) -> None:
    with client(ref_server.base_url) as c:
        resp = c.post(LOGIN, json={"username": "demo", "password": "demo", "userType": None})
    assert resp.status_code == 200
    body = resp.json()
    assert set(body) == {"token", "expiresAt", "user", "userType", "identities"}
    assert isinstance(body["token"], str)
    assert len(body["token"]) >= 20
    assert RFC3339_UTC.match(body["expiresAt"])
    assert body["user"] == {"id": "u-demo", "name": "演示用户"}
    assert body["userType"] == "auditor"
    assert body["identities"] == [
        {"userType": "auditor", "label": "审计员"},
        {"userType": "manager", "label": "项目经理"},
    ]


def test_login_missing_user_type_means_default(ref_server: ServerHandle) -> None:
    with client(ref_server.base_url) as c:
        resp = c.post(LOGIN, json={"username": "lisi", "password": "lisi"})
    assert resp.status_code == 200
    assert resp.json()["userType"] == "auditor"
    assert resp.json()["identities"] == [{"userType": "auditor", "label": "审计员"}]


def test_login_explicit_identity_and_me(ref_server: ServerHandle) -> None:
    token = token_for(ref_server.base_url, "demo", "demo", "manager")
    with client(ref_server.base_url, token) as c:
        resp = c.get("/api/v1/me")
    assert resp.status_code == 200
    assert resp.json() == {
        "user": {"id": "u-demo", "name": "演示用户"},
        "userType": "manager",
        "identities": [
            {"userType": "auditor", "label": "审计员"},
            {"userType": "manager", "label": "项目经理"},
        ],
    }


def test_each_login_gets_its_own_token(ref_server: ServerHandle) -> None:
    assert token_for(ref_server.base_url) != token_for(ref_server.base_url)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'"demo"',
        b'{"username": "demo"}',
        b'{"password": "demo"}',
        b'{"username": 1, "password": "demo"}',
        b'{"username": "demo", "password": null}',
        b'{"username": "demo", "password": "demo", "userType": 3}',
        b"\xff\xfe",
        b"",
    ],
)
def test_login_malformed_is_400(ref_server: ServerHandle, body: bytes) -> None:
    with client(ref_server.base_url) as c:
        resp = c.post(LOGIN, content=body, headers={"Content-Type": "application/json"})
    assert_error(resp, 400, "bad_request")


@pytest.mark.parametrize(
    ("username", "password"), [("demo", "wrong"), ("nobody", "demo"), ("DEMO", "demo"), ("", "")]
)
def test_login_bad_credentials_is_401(
    ref_server: ServerHandle, username: str, password: str
) -> None:
    with client(ref_server.base_url) as c:
        resp = c.post(LOGIN, json={"username": username, "password": password})
    assert_error(resp, 401, "invalid_credentials")


@pytest.mark.parametrize(("username", "user_type"), [("demo", "qc"), ("lisi", "manager")])
def test_login_unknown_identity_is_403(
    ref_server: ServerHandle, username: str, user_type: str
) -> None:
    with client(ref_server.base_url) as c:
        resp = c.post(
            LOGIN, json={"username": username, "password": username, "userType": user_type}
        )
    assert_error(resp, 403, "identity_not_allowed")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": "Basic ZGVtbzpkZW1v"},
    ],
)
@pytest.mark.parametrize(
    "request_args",
    [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/projects"),
        ("GET", "/api/v1/projects/prj-1/folders/root/children"),
        ("GET", "/api/v1/files/fil-1"),
        ("GET", "/api/v1/files/fil-1/versions/1/content"),
        ("POST", "/api/v1/auth/logout"),
    ],
)
def test_missing_or_bad_token_is_401(
    ref_server: ServerHandle, headers: dict[str, str], request_args: tuple[str, str]
) -> None:
    method, path = request_args
    with client(ref_server.base_url) as c:
        resp = c.request(method, path, headers=headers)
    assert_error(resp, 401, "unauthorized")
    assert resp.headers["WWW-Authenticate"] == "Bearer"


def test_bearer_scheme_is_case_insensitive(ref_server: ServerHandle) -> None:
    token = token_for(ref_server.base_url)
    with client(ref_server.base_url) as c:
        resp = c.get("/api/v1/me", headers={"Authorization": f"bearer {token}"})
    assert resp.status_code == 200


def test_logout_revokes_only_that_token(ref_server: ServerHandle) -> None:
    kept = token_for(ref_server.base_url)
    token = token_for(ref_server.base_url)
    with client(ref_server.base_url, token) as c:
        resp = c.post("/api/v1/auth/logout")
        assert resp.status_code == 204
        assert resp.content == b""
        after: Any = c.get("/api/v1/me")
        assert_error(after, 401, "unauthorized")
        assert "revoked" in after.json()["error"]["message"]
        assert_error(c.post("/api/v1/auth/logout"), 401, "unauthorized")
    with client(ref_server.base_url, kept) as c:
        assert c.get("/api/v1/me").status_code == 200
