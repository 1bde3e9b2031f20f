"""Content downloads: headers, digests, ranges, HEAD and the error answers."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from manuscript_gui.reference_server import ServerHandle
from tests.fixtures_server import Admin

from .helpers import assert_error, children_url, client, content_url, items, token_for, walk

SMALL_BODY = 64 * 1024


@pytest.fixture(scope="module")
def demo_files(ref_server: ServerHandle) -> list[dict[str, Any]]:
    """All files of prj-1 (the wide folder included) as listing items."""
    token = token_for(ref_server.base_url)
    with client(ref_server.base_url, token) as c:
        return [item for _, item in walk(c, "prj-1")]


@pytest.fixture
def c(ref_server: ServerHandle) -> Iterator[httpx.Client]:
    token = token_for(ref_server.base_url)
    with client(ref_server.base_url, token) as http:
        yield http


def _digest_header(data: bytes) -> str:
    return f"sha-256=:{base64.b64encode(hashlib.sha256(data).digest()).decode()}:"


def _pick(files: list[dict[str, Any]], *, small: bool) -> dict[str, Any]:
    for item in files:
        if (item["size"] <= SMALL_BODY) == small and item["size"] > 100:
            return item
    raise AssertionError("no such file in the demo data")


@pytest.mark.parametrize("small", [True, False], ids=["one-write", "sendfile"])
def test_full_download(c: httpx.Client, demo_files: list[dict[str, Any]], small: bool) -> None:
    item = _pick(demo_files, small=small)
    resp = c.get(content_url(item["id"], item["version"]))
    assert resp.status_code == 200
    data = resp.content
    assert len(data) == item["size"]
    assert hashlib.sha256(data).hexdigest() == item["sha256"]
    h = resp.headers
    assert int(h["Content-Length"]) == item["size"]
    assert h["Content-Type"] == item["contentType"]
    assert h["Accept-Ranges"] == "bytes"
    assert h["Repr-Digest"] == _digest_header(data)
    etag = h["ETag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert not etag.startswith("W/")
    assert "Content-Range" not in h


def test_every_demo_file_matches_its_listing(
    c: httpx.Client, demo_files: list[dict[str, Any]]
) -> None:
    assert len(demo_files) > 1000
    for item in demo_files[:300]:
        data = c.get(content_url(item["id"], item["version"])).content
        assert hashlib.sha256(data).hexdigest() == item["sha256"], item


def test_bytes_are_pseudo_random(c: httpx.Client, demo_files: list[dict[str, Any]]) -> None:
    item = _pick(demo_files, small=False)
    data = c.get(content_url(item["id"], item["version"])).content
    # Not zeros, not a repeated pattern: a sha256 check on these means something.
    assert len(set(data)) > 200
    assert data.count(b"\0" * 64) == 0


def test_etag_differs_per_version(c: httpx.Client, demo_files: list[dict[str, Any]]) -> None:
    item = next(i for i in demo_files if i["version"] == 2)
    v1 = c.get(content_url(item["id"], 1))
    v2 = c.get(content_url(item["id"], 2))
    assert v1.status_code == v2.status_code == 200
    assert v1.headers["ETag"] != v2.headers["ETag"]
    assert hashlib.sha256(v2.content).hexdigest() == item["sha256"]
    assert v1.content != v2.content
    etags = {c.head(content_url(i["id"], i["version"])).headers["ETag"] for i in demo_files[:50]}
    assert len(etags) == 50


@pytest.mark.parametrize("small", [True, False], ids=["one-write", "sendfile"])
def test_head_has_headers_and_no_body(
    c: httpx.Client, demo_files: list[dict[str, Any]], small: bool
) -> None:
    item = _pick(demo_files, small=small)
    url = content_url(item["id"], item["version"])
    head = c.head(url)
    get = c.get(url)
    assert head.status_code == 200
    assert head.content == b""
    for name in ("Content-Length", "Content-Type", "Accept-Ranges", "ETag", "Repr-Digest"):
        assert head.headers[name] == get.headers[name], name


@pytest.mark.parametrize("small", [True, False], ids=["one-write", "sendfile"])
def test_ranges(c: httpx.Client, demo_files: list[dict[str, Any]], small: bool) -> None:
    item = _pick(demo_files, small=small)
    url = content_url(item["id"], item["version"])
    full = c.get(url).content
    size = len(full)
    cases = {
        "bytes=0-": (0, size - 1),
        "bytes=10-": (10, size - 1),
        f"bytes={size - 1}-": (size - 1, size - 1),
        "bytes=5-20": (5, 20),
        "bytes=0-0": (0, 0),
        f"bytes=7-{size + 1000}": (7, size - 1),  # last past the end: clamped
        "bytes=-16": (size - 16, size - 1),
        f"bytes=-{size * 2}": (0, size - 1),
        "Bytes = 3 - 9": (3, 9),
    }
    for header, (first, last) in cases.items():
        resp = c.get(url, headers={"Range": header})
        assert resp.status_code == 206, header
        assert resp.headers["Content-Range"] == f"bytes {first}-{last}/{size}", header
        assert resp.content == full[first : last + 1], header
        assert int(resp.headers["Content-Length"]) == last - first + 1
        # The digest always describes the whole representation.
        assert resp.headers["Repr-Digest"] == _digest_header(full)
        head = c.head(url, headers={"Range": header})
        assert head.status_code == 206
        assert head.headers["Content-Range"] == resp.headers["Content-Range"]


def test_range_past_end_is_416(c: httpx.Client, demo_files: list[dict[str, Any]]) -> None:
    item = demo_files[0]
    size = item["size"]
    url = content_url(item["id"], item["version"])
    for header in (f"bytes={size}-", f"bytes={size + 10}-{size + 20}", "bytes=-0"):
        resp = c.get(url, headers={"Range": header})
        assert_error(resp, 416, "range_not_satisfiable")
        assert resp.headers["Content-Range"] == f"bytes */{size}"


@pytest.mark.parametrize(
    "header", ["bytes=0-1,5-6", "bytes=abc", "items=0-5", "bytes=9-3", "bytes=-", "0-5"]
)
def test_malformed_or_multi_range_is_ignored(
    c: httpx.Client, demo_files: list[dict[str, Any]], header: str
) -> None:
    item = demo_files[0]
    resp = c.get(content_url(item["id"], item["version"]), headers={"Range": header})
    assert resp.status_code == 200
    assert len(resp.content) == item["size"]
    assert "Content-Range" not in resp.headers


def test_if_range(c: httpx.Client, demo_files: list[dict[str, Any]]) -> None:
    item = _pick(demo_files, small=False)
    url = content_url(item["id"], item["version"])
    etag = c.head(url).headers["ETag"]
    match = c.get(url, headers={"Range": "bytes=100-", "If-Range": etag})
    assert match.status_code == 206
    assert len(match.content) == item["size"] - 100
    for stale in ('"something-else"', f"W/{etag}", "Wed, 21 Oct 2015 07:28:00 GMT"):
        resp = c.get(url, headers={"Range": "bytes=100-", "If-Range": stale})
        assert resp.status_code == 200, stale
        assert len(resp.content) == item["size"]
        assert hashlib.sha256(resp.content).hexdigest() == item["sha256"]


def test_unknown_file_or_version(c: httpx.Client, demo_files: list[dict[str, Any]]) -> None:
    item = demo_files[0]
    assert_error(c.get(content_url("fil-nope", 1)), 404, "not_found")
    assert_error(c.get(content_url(item["id"], item["version"] + 5)), 404, "version_not_found")
    assert_error(c.get(content_url(item["id"], 0)), 404, "version_not_found")
    head = c.head(content_url(item["id"], 99))
    assert head.status_code == 404
    assert head.content == b""


def test_forbidden_file(ref_server: ServerHandle) -> None:
    manager_only = sorted(
        set(ref_server.facts.projects_for("demo", "manager"))
        - set(ref_server.facts.projects_for("demo", "auditor"))
    )
    with client(ref_server.base_url, token_for(ref_server.base_url, user_type="manager")) as m:
        _, item = walk(m, manager_only[0])[0]
        assert m.get(content_url(item["id"], item["version"])).status_code == 200
    with client(ref_server.base_url, token_for(ref_server.base_url)) as a:
        assert_error(a.get(content_url(item["id"], item["version"])), 403, "forbidden")


def test_empty_file(fresh_server: ServerHandle, admin: Admin) -> None:
    made = admin.add_file("prj-1", ["空"], "empty.txt", b"")
    token = token_for(fresh_server.base_url, "lisi", "lisi")
    with client(fresh_server.base_url, token) as c:
        resp = c.get(content_url(made["id"], 1))
        assert resp.status_code == 200
        assert resp.content == b""
        assert resp.headers["Content-Length"] == "0"
        assert resp.headers["Repr-Digest"] == _digest_header(b"")
        assert_error(
            c.get(content_url(made["id"], 1), headers={"Range": "bytes=0-"}),
            416,
            "range_not_satisfiable",
        )
        listed = items(c, children_url("prj-1", made["folderId"]))
    assert listed[0]["size"] == 0
    assert listed[0]["sha256"] == hashlib.sha256(b"").hexdigest()
