"""Pure parsing rules: download headers, Retry-After, error classes, JSON models."""

from __future__ import annotations

import base64
import datetime
import email.utils

import httpx
import pytest

from manuscript_gui.net import (
    ApiError,
    CertificateError,
    FileEntry,
    FileInfo,
    Forbidden,
    HTTPError,
    IdentityNotAllowed,
    IncompleteBody,
    InvalidCredentials,
    LoginResult,
    NetworkError,
    NotFound,
    ProtocolError,
    RateLimited,
    ServerError,
    Unauthorized,
    VersionNotFound,
    is_transient,
    parse_retry_after,
    retry_after_of,
)
from manuscript_gui.net._http import error_from_response
from manuscript_gui.net.headers import (
    ContentRange,
    is_html,
    is_weak_etag,
    parse_content_length,
    parse_content_range,
    parse_repr_digest_sha256,
)
from manuscript_gui.net.wire import Identity, parse_children_page, parse_project_page

# -- headers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("bytes 0-99/100", ContentRange(0, 99, 100)),
        ("BYTES  10-19/*", ContentRange(10, 19, None)),
        ("bytes */500", ContentRange(None, None, 500)),
        (None, None),
        ("bytes 10-5/100", None),  # last before first
        ("bytes 0-100/100", None),  # past the end
        ("bytes */*", None),
        ("items 0-1/2", None),
        ("bytes 0-1/2, bytes 3-4/5", None),
        ("bytes -1-2/3", None),
    ],
)
def test_parse_content_range(value: str | None, expected: ContentRange | None) -> None:
    assert parse_content_range(value) == expected


def test_content_range_length() -> None:
    assert ContentRange(10, 19, 20).length == 10
    assert ContentRange(None, None, 20).length is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("0", 0), (" 42 ", 42), ("42, 42", 42), ("42, 43", -1), ("-1", -1), ("4e2", -1)],
)
def test_parse_content_length(value: str | None, expected: int | None) -> None:
    assert parse_content_length(value) == expected


def test_html_and_weak_etag() -> None:
    assert is_html("text/html; charset=utf-8")
    assert is_html("Application/XHTML+XML")
    assert not is_html("application/pdf")
    assert not is_html(None)
    assert is_weak_etag('W/"abc"')
    assert not is_weak_etag('"abc"')


def test_parse_repr_digest() -> None:
    digest = bytes(range(32))
    b64 = base64.b64encode(digest).decode()
    assert parse_repr_digest_sha256(f"sha-256=:{b64}:") == digest.hex()
    assert parse_repr_digest_sha256(f"sha-512=:AAAA:, sha-256=:{b64}:;x=1") == digest.hex()
    assert parse_repr_digest_sha256("sha-256=:AAAA:") is None  # wrong length
    assert parse_repr_digest_sha256("sha-256=AAAA") is None  # not a byte sequence
    assert parse_repr_digest_sha256("sha-512=:AAAA:") is None
    assert parse_repr_digest_sha256(None) is None


# -- Retry-After ---------------------------------------------------------------


def test_retry_after_seconds_and_dates() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("1") == 1.0
    assert parse_retry_after(" 120 ") == 120.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after(email.utils.formatdate(now + 30, usegmt=True), now=now) == 30.0
    # A date in the past means "now", never a negative wait.
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now=now) == 0.0
    for bad in (None, "", "soon", "nan", "inf", "Mon, 99 Foo 2020"):
        assert parse_retry_after(bad) is None


# -- error classes -------------------------------------------------------------


def _err(
    status: int, code: str | None = None, *, retry: str | None = None, login: bool = False
) -> HTTPError:
    body = b"<html>bad gateway</html>"
    if code is not None:
        body = b'{"error": {"code": "%s", "message": "msg"}}' % code.encode()
    headers = httpx.Headers({"Retry-After": retry} if retry else {})
    return error_from_response(status, headers, body, at_login=login)


def test_status_mapping() -> None:
    assert type(_err(401, "token_expired")) is Unauthorized
    assert type(_err(401, "invalid_credentials", login=True)) is InvalidCredentials
    assert type(_err(403, "forbidden")) is Forbidden
    assert type(_err(403, "identity_not_allowed")) is IdentityNotAllowed
    assert type(_err(404, "not_found")) is NotFound
    assert type(_err(404, "version_not_found")) is VersionNotFound
    rate = _err(429, "rate_limited", retry="3")
    assert isinstance(rate, RateLimited)
    assert rate.retry_after == 3.0
    assert retry_after_of(rate) == 3.0
    gateway = _err(502)
    assert isinstance(gateway, ServerError)
    assert gateway.code == "http_502"
    assert gateway.server_message == "Bad Gateway"
    assert type(_err(409, "conflict")) is HTTPError
    err = _err(410, "file_deleted")
    assert (err.status, err.code, err.server_message) == (410, "file_deleted", "msg")
    assert "410 file_deleted" in str(err)


def test_transient_or_permanent() -> None:
    assert is_transient(_err(429))
    assert is_transient(_err(503))
    assert is_transient(_err(408))
    assert not is_transient(_err(501))
    for status in (400, 401, 403, 404, 410):
        assert not is_transient(_err(status))
    assert is_transient(NetworkError("reset"))
    assert is_transient(IncompleteBody("cut", received=1, expected=2))
    assert not is_transient(CertificateError("untrusted"))
    assert is_transient(ProtocolError("html", code="html_page"))
    assert not is_transient(ProtocolError("shape"))
    assert not is_transient(ProtocolError("loop", code="cursor_loop"))
    assert not is_transient(OSError("disk full"))
    assert isinstance(_err(404, "version_not_found"), ApiError)


# -- models --------------------------------------------------------------------

TS = "2026-01-02T03:04:05Z"
SHA = "AB" * 32


def test_login_result_and_token_hidden() -> None:
    data = {
        "token": "secret-token",
        "expiresAt": TS,
        "user": {"id": "u1", "name": "Demo"},
        "userType": "auditor",
        "identities": [{"userType": "auditor", "label": "审计员"}],
        "extra": "ignored",
    }
    result = LoginResult.from_json(data)
    assert result.expires_at == datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    assert result.identities[0].label == "审计员"
    assert "secret-token" not in repr(result)
    with pytest.raises(ProtocolError, match=r"login\.token"):
        LoginResult.from_json({**data, "token": "a\nb"})
    with pytest.raises(ProtocolError, match=r"login.user.id: missing"):
        LoginResult.from_json({**data, "user": {"name": "Demo"}})
    # Display-only fields never stop a login: a missing label is the userType,
    # an identity without a userType is left out, a bad expiresAt is None.
    lenient = LoginResult.from_json(
        {**data, "expiresAt": "soon", "identities": [{"userType": "x"}, {"label": "y"}]}
    )
    assert lenient.expires_at is None
    assert lenient.identities == (Identity("x", "x"),)


def _file(**over: object) -> dict[str, object]:
    item: dict[str, object] = {
        "kind": "file",
        "id": "f1",
        "name": "D1-1 货币资金审定表.xlsx",
        "size": 10,
        "version": 2,
        "sha256": SHA,
        "contentType": "application/vnd.ms-excel",
        "updatedAt": TS,
    }
    item.update(over)
    return item


def test_children_page_parses_both_kinds() -> None:
    page = parse_children_page(
        {
            "items": [
                {"kind": "folder", "id": "d", "name": "D 实质性程序", "updatedAt": TS},
                _file(),
            ],
            "nextCursor": "c2",
        }
    )
    folder, file = page.items
    assert folder.name == "D 实质性程序"
    assert isinstance(file, FileEntry)
    assert file.sha256 == SHA.lower()
    assert page.next_cursor == "c2"


# A file entry with a bad needed field is a BadFileEntry, not a page failure:
# see tests/net/test_models_tolerant.py. What still fails the whole page:
@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"kind": "folder", "id": "", "name": "D", "updatedAt": TS}, r"items\[0\].id"),
        ({"kind": "folder", "name": "D", "updatedAt": TS}, r"items\[0\].id: missing"),
        ({"kind": "folder", "id": 7, "name": "D"}, r"items\[0\].id: expected a non-empty"),
        ({k: v for k, v in _file().items() if k != "kind"}, r"items\[0\].kind: missing"),
        (_file(kind=None), r"children.items\[0\].kind: expected a string"),
        ("not an object", r"children.items\[0\]: expected an object"),
    ],
)
def test_children_page_rejects_bad_fields(item: object, field: str) -> None:
    with pytest.raises(ProtocolError, match=field) as info:
        parse_children_page({"items": [item], "nextCursor": None})
    assert info.value.code == "bad_field"


def test_page_shape() -> None:
    with pytest.raises(ProtocolError, match="nextCursor: missing"):
        parse_project_page({"items": []})
    with pytest.raises(ProtocolError, match="items: expected a list"):
        parse_project_page({"items": {}, "nextCursor": None})
    with pytest.raises(ProtocolError, match="nextCursor"):
        parse_project_page({"items": [], "nextCursor": ""})
    page = parse_project_page(
        {
            "items": [{"id": "p", "name": "n", "code": None, "updatedAt": TS}],
            "nextCursor": None,
        }
    )
    assert page.items[0].code is None
    assert page.items[0].client is None


def test_file_info_versions() -> None:
    info = FileInfo.from_json(
        {
            "id": "f",
            "projectId": "p",
            "name": "x",
            "currentVersion": 2,
            "versions": [
                {"version": 1, "size": 1, "sha256": SHA, "createdAt": TS},
                {"version": 2, "size": 2, "sha256": SHA, "createdAt": TS},
            ],
        }
    )
    assert info.get_version(2) is not None
    assert info.get_version(3) is None
    # A version's size is needed; its createdAt is not.
    with pytest.raises(ProtocolError, match=r"file.versions\[0\].size"):
        FileInfo.from_json(
            {
                "id": "f",
                "projectId": "p",
                "name": "x",
                "currentVersion": 1,
                "versions": [{"version": 1, "size": "1", "sha256": SHA, "createdAt": TS}],
            }
        )
    lenient = FileInfo.from_json(
        {
            "id": "f",
            "currentVersion": 1,
            "versions": [{"version": 1, "size": 1, "sha256": SHA, "createdAt": 5}],
        }
    )
    assert lenient.versions[0].created_at is None
    assert lenient.project_id is None
    assert lenient.name is None
