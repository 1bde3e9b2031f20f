"""Injected faults, seen from a plain HTTP client."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import os
import time
from typing import Any

import httpx
import pytest

from manuscript_gui.reference_server import ServerHandle
from tests.fixtures_server import Admin, AdminError

from .helpers import assert_error, children_url, client, content_url, pages, token_for


def test_fault_values_merge_and_reset(admin: Admin) -> None:
    off = {
        "latencyMs": 0.0,
        "bandwidthBps": None,
        "dropRate": 0.0,
        "errorRate": 0.0,
        "errorStatus": 503,
        "retryAfterS": 1.0,
        "tokenTtlS": None,
        "maxConcurrentPerToken": None,
        "rateLimitRetryAfterS": 1.0,
        "weakEtags": False,
        "trickleIntervalS": None,
        "contentEncoding": None,
        "redirectContent": None,
        "errorFiles": [],
        "htmlContent": False,
        "cursorLoop": None,
        "failOnce": False,
    }
    assert admin.current_faults() == off
    assert admin.faults(latency_ms=5)["latencyMs"] == 5
    now = admin.faults(dropRate=0.25, maxConcurrentPerToken=3)
    assert now == {**off, "latencyMs": 5, "dropRate": 0.25, "maxConcurrentPerToken": 3}
    assert admin.faults(maxConcurrentPerToken=None)["maxConcurrentPerToken"] is None
    new_knobs = {
        "errorStatus": 502,
        "retryAfterS": None,
        "rateLimitRetryAfterS": 2.5,
        "weakEtags": True,
        "trickleIntervalS": 0.25,
        "contentEncoding": "gzip",
        "redirectContent": "https://sso.example/login?next=%2F",
        "errorFiles": ["fil-1", "fil-2"],
        "htmlContent": True,
        "cursorLoop": "empty",
        "failOnce": True,
    }
    now = admin.faults(**new_knobs)
    assert now == {**off, "latencyMs": 5, "dropRate": 0.25, **new_knobs}
    # Absent keys keep their value; null restores errorStatus and turns weakEtags off.
    now = admin.faults(errorStatus=None, weakEtags=None)
    assert now == {
        **off,
        "latencyMs": 5,
        "dropRate": 0.25,
        **new_knobs,
        "errorStatus": 503,
        "weakEtags": False,
    }
    assert admin.reset() == off
    assert admin.current_faults() == off


@pytest.mark.parametrize(
    "bad",
    [
        {"latencyMs": -1},
        {"latencyMs": "10"},
        {"latencyMs": True},
        {"bandwidthBps": 1.5},
        {"bandwidthBps": -10},
        {"dropRate": 1.5},
        {"errorRate": -0.1},
        {"errorRate": "0.5"},
        {"tokenTtlS": 0},
        {"tokenTtlS": -5},
        {"maxConcurrentPerToken": 2.5},
        {"noSuchFault": 1},
        {"dropRate": 0.5, "oops": 1},
        {"errorStatus": 499},
        {"errorStatus": 600},
        {"errorStatus": 503.0},
        {"errorStatus": "503"},
        {"errorStatus": True},
        {"retryAfterS": -1},
        {"retryAfterS": "1"},
        {"retryAfterS": False},
        {"rateLimitRetryAfterS": -0.5},
        {"rateLimitRetryAfterS": "2"},
        {"weakEtags": 1},
        {"weakEtags": "true"},
        {"trickleIntervalS": 0},
        {"trickleIntervalS": -1},
        {"trickleIntervalS": "0.5"},
        {"trickleIntervalS": True},
        {"contentEncoding": "br"},
        {"contentEncoding": "GZIP"},
        {"contentEncoding": ""},
        {"contentEncoding": 1},
        {"redirectContent": "/relative/path"},
        {"redirectContent": "ftp://files.example/x"},
        {"redirectContent": "http://"},
        {"redirectContent": "http://a b.example/"},
        {"redirectContent": 5},
        {"cursorLoop": "forever"},
        {"cursorLoop": True},
        {"failOnce": 1},
        {"failOnce": "yes"},
        # One bad knob spoils the whole update.
        {"weakEtags": True, "errorStatus": 404},
    ],
)
def test_bad_fault_values_are_400_and_change_nothing(
    fresh_server: ServerHandle, admin: Admin, bad: dict[str, object]
) -> None:
    admin.faults(latency_ms=1)
    before = admin.current_faults()
    with client(fresh_server.base_url) as c:
        assert_error(c.post("/__admin__/faults", json=bad), 400, "bad_request")
        assert_error(c.post("/__admin__/faults", content=b"[1]"), 400, "bad_request")
    assert admin.current_faults() == before


def test_latency(fresh_server: ServerHandle, admin: Admin) -> None:
    token = token_for(fresh_server.base_url)
    admin.faults(latency_ms=250)
    with client(fresh_server.base_url, token) as c:
        for path in ("/api/v1/me", "/api/v1/projects"):
            t0 = time.monotonic()
            assert c.get(path).status_code == 200
            assert time.monotonic() - t0 >= 0.24
        t0 = time.monotonic()
        c.post("/api/v1/auth/login", json={"username": "demo", "password": "demo"})
        assert time.monotonic() - t0 >= 0.24
        # Admin calls are not slowed down.
        t0 = time.monotonic()
        admin.current_faults()
        assert time.monotonic() - t0 < 0.2


def test_bandwidth(fresh_server: ServerHandle, admin: Admin) -> None:
    data = os.urandom(300_000)
    made = admin.add_file("prj-1", ["bw"], "slow.bin", data)
    token = token_for(fresh_server.base_url)
    admin.faults(bandwidth_bps=600_000)
    with client(fresh_server.base_url, token) as c:
        t0 = time.monotonic()
        resp = c.get(content_url(made["id"], 1))
        elapsed = time.monotonic() - t0
        assert resp.content == data
        assert 0.45 <= elapsed < 3
        # A small body is paced too (it leaves the one-write fast path).
        small = admin.add_file("prj-1", ["bw"], "small.bin", data[:60_000])
        t0 = time.monotonic()
        assert c.get(content_url(small["id"], 1)).content == data[:60_000]
        assert time.monotonic() - t0 >= 0.08
        # Ranges are paced on what is actually sent.
        t0 = time.monotonic()
        part = c.get(content_url(made["id"], 1), headers={"Range": "bytes=240000-"})
        assert part.content == data[240_000:]
        assert time.monotonic() - t0 < 0.4


def test_drop_never_looks_like_success(fresh_server: ServerHandle, admin: Admin) -> None:
    big = admin.add_file("prj-1", ["drop"], "big.bin", os.urandom(200_000))
    small = admin.add_file("prj-1", ["drop"], "small.bin", os.urandom(5_000))
    token = token_for(fresh_server.base_url)
    admin.faults(drop_rate=1)
    with client(fresh_server.base_url, token) as c:
        for made in (big, small):
            for _ in range(10):
                with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
                    c.get(content_url(made["id"], 1))
        # Metadata is not affected by the drop fault.
        assert c.get(f"/api/v1/files/{big['id']}").status_code == 200
        assert c.head(content_url(big["id"], 1)).status_code == 200


def test_partial_drop_rate(fresh_server: ServerHandle, admin: Admin) -> None:
    data = os.urandom(100_000)
    made = admin.add_file("prj-1", ["drop"], "half.bin", data)
    token = token_for(fresh_server.base_url)
    admin.faults(drop_rate=0.5)
    ok = failed = 0
    with client(fresh_server.base_url, token) as c:
        for _ in range(40):
            try:
                resp = c.get(content_url(made["id"], 1))
            except (httpx.RemoteProtocolError, httpx.ReadError):
                failed += 1
            else:
                assert resp.status_code == 200
                assert resp.content == data
                ok += 1
    assert ok > 0
    assert failed > 0


def test_dropped_body_is_a_resumable_prefix(fresh_server: ServerHandle, admin: Admin) -> None:
    data = os.urandom(150_000)
    made = admin.add_file("prj-1", ["drop"], "resume.bin", data)
    token = token_for(fresh_server.base_url)
    admin.faults(drop_rate=1)
    got = bytearray()

    def download(c: httpx.Client) -> None:
        with c.stream("GET", content_url(made["id"], 1)) as resp:
            assert resp.status_code == 200
            assert resp.headers["Content-Length"] == str(len(data))
            for chunk in resp.iter_raw():
                got.extend(chunk)

    with client(fresh_server.base_url, token) as c:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            download(c)
        assert len(got) < len(data)
        assert data.startswith(got)
        admin.reset()
        rest = c.get(content_url(made["id"], 1), headers={"Range": f"bytes={len(got)}-"})
        assert rest.status_code == 206
        assert hashlib.sha256(bytes(got) + rest.content).hexdigest() == made["sha256"]


def test_error_rate(fresh_server: ServerHandle, admin: Admin) -> None:
    made = admin.add_file("prj-1", ["err"], "e.bin", b"abc")
    token = token_for(fresh_server.base_url)
    admin.faults(error_rate=1)
    with client(fresh_server.base_url, token) as c:
        for path in (
            "/api/v1/me",
            "/api/v1/projects",
            children_url("prj-1"),
            f"/api/v1/files/{made['id']}",
            content_url(made["id"], 1),
        ):
            resp = c.get(path)
            assert_error(resp, 503, "service_unavailable")
            assert resp.headers["Retry-After"] == "1"
        # Auth endpoints are exempt, so a client can always log in and out.
        login = c.post("/api/v1/auth/login", json={"username": "demo", "password": "demo"})
        assert login.status_code == 200
        logout = c.post(
            "/api/v1/auth/logout", headers={"Authorization": f"Bearer {login.json()['token']}"}
        )
        assert logout.status_code == 204
    admin.faults(error_rate=0.5)
    with client(fresh_server.base_url, token) as c:
        codes = {c.get("/api/v1/me").status_code for _ in range(60)}
    assert codes == {200, 503}


def test_token_ttl(fresh_server: ServerHandle, admin: Admin) -> None:
    before = token_for(fresh_server.base_url)
    admin.faults(token_ttl_s=0.5)
    short = token_for(fresh_server.base_url)
    with client(fresh_server.base_url) as c:
        auth = {"Authorization": f"Bearer {short}"}
        assert c.get("/api/v1/me", headers=auth).status_code == 200
        time.sleep(0.7)
        resp = c.get("/api/v1/me", headers=auth)
        assert_error(resp, 401, "unauthorized")
        assert "expired" in resp.json()["error"]["message"]
        # Tokens issued before the change keep their lifetime.
        assert c.get("/api/v1/me", headers={"Authorization": f"Bearer {before}"}).status_code == 200
    with pytest.raises(AdminError):
        admin.faults(token_ttl_s=0)


async def test_max_concurrent_per_token(fresh_server: ServerHandle, admin: Admin) -> None:
    made = admin.add_file("prj-1", ["cap"], "cap.bin", os.urandom(150_000))
    url = content_url(made["id"], 1)
    base = fresh_server.base_url
    first, second = token_for(base), token_for(base)
    admin.faults(max_concurrent_per_token=1, bandwidth_bps=200_000)
    async with httpx.AsyncClient(base_url=base, trust_env=False) as c:
        h1 = {"Authorization": f"Bearer {first}"}
        async with c.stream("GET", url, headers=h1) as slow:
            assert slow.status_code == 200
            over = await c.get(url, headers=h1)
            assert_error(over, 429, "rate_limited")
            assert over.headers["Retry-After"] == "1"
            # HEAD and metadata do not count; another token has its own budget.
            assert (await c.head(url, headers=h1)).status_code == 200
            other = await c.get(url, headers={"Authorization": f"Bearer {second}"})
            assert other.status_code == 200
            body = await slow.aread()
            assert hashlib.sha256(body).hexdigest() == made["sha256"]
        admin.faults(bandwidth_bps=None)
        # The slot is free again once the slow download finished.
        deadline = time.monotonic() + 5
        while True:
            resp = await c.get(url, headers=h1)
            if resp.status_code == 200 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        assert resp.status_code == 200


async def test_slot_is_released_when_client_disconnects(
    fresh_server: ServerHandle, admin: Admin
) -> None:
    made = admin.add_file("prj-1", ["cap"], "abandon.bin", os.urandom(2_000_000))
    url = content_url(made["id"], 1)
    token = token_for(fresh_server.base_url)
    headers = {"Authorization": f"Bearer {token}"}
    admin.faults(max_concurrent_per_token=1, bandwidth_bps=100_000)
    async with httpx.AsyncClient(base_url=fresh_server.base_url, trust_env=False) as c:
        async with c.stream("GET", url, headers=headers) as slow:
            assert slow.status_code == 200
            async for _ in slow.aiter_raw():
                break
        # Closing the stream mid-body closes the connection; the server notices
        # on its next paced write and frees the slot.
        admin.faults(bandwidth_bps=None)
        deadline = time.monotonic() + 5
        while True:
            resp = await c.get(url, headers=headers)
            if resp.status_code == 200 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        assert resp.status_code == 200
        assert len(resp.content) == 2_000_000


def test_error_status_and_retry_after(fresh_server: ServerHandle, admin: Admin) -> None:
    made = admin.add_file("prj-1", ["err"], "status.bin", b"abc")
    token = token_for(fresh_server.base_url)
    cases: list[tuple[dict[str, object], int, str, str | None]] = [
        ({"error_status": 502, "retry_after_s": None}, 502, "bad_gateway", None),
        ({"error_status": 500, "retry_after_s": 2.5}, 500, "internal_error", "2.5"),
        ({"error_status": 504, "retry_after_s": 0}, 504, "gateway_timeout", "0"),
        ({"error_status": 599, "retry_after_s": 30}, 599, "server_error", "30"),
        ({"error_status": 503, "retry_after_s": 7}, 503, "service_unavailable", "7"),
    ]
    with client(fresh_server.base_url, token) as c:
        for knobs, status, code, retry_after in cases:
            admin.faults(error_rate=1, **knobs)
            for path in ("/api/v1/me", children_url("prj-1"), content_url(made["id"], 1)):
                resp = c.get(path)
                assert_error(resp, status, code)
                assert resp.headers.get("Retry-After") == retry_after, (knobs, path)
            # HEAD of content is an /api/v1 request like any other.
            head = c.head(content_url(made["id"], 1))
            assert head.status_code == status
        # Auth stays exempt whatever the status.
        assert c.post(
            "/api/v1/auth/login", json={"username": "demo", "password": "demo"}
        ).is_success
        # Reset brings back the documented defaults: 503 with Retry-After: 1.
        admin.reset()
        admin.faults(error_rate=1)
        resp = c.get("/api/v1/me")
        assert_error(resp, 503, "service_unavailable")
        assert resp.headers["Retry-After"] == "1"
        admin.faults(error_rate=0)
        assert c.get("/api/v1/me").status_code == 200


def test_html_content_is_a_sign_in_page_for_every_download(
    fresh_server: ServerHandle, admin: Admin
) -> None:
    made = admin.add_file("prj-1", ["html"], "paper.pdf", b"%PDF-1.7")
    token = token_for(fresh_server.base_url)
    admin.faults(html_content=True)
    with client(fresh_server.base_url, token) as c:
        resp = c.get(content_url(made["id"], 1))
        assert resp.status_code == 200
        assert resp.headers["Content-Type"].startswith("text/html")
        assert b"Sign in" in resp.content
        assert c.get(f"/api/v1/files/{made['id']}").status_code == 200  # metadata unaffected
    with pytest.raises(AdminError):
        admin.faults(html_content="yes")
    admin.faults(html_content=None)
    with client(fresh_server.base_url, token) as c:
        assert c.get(content_url(made["id"], 1)).content == b"%PDF-1.7"


def test_fail_once_fails_each_distinct_request_once(
    fresh_server: ServerHandle, admin: Admin
) -> None:
    made = admin.add_file("prj-1", ["once"], "paper.bin", b"abc")
    token = token_for(fresh_server.base_url)
    admin.faults(fail_once=True, error_status=502, retry_after_s=0)
    requests = [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/projects"),
        ("GET", "/api/v1/projects?limit=1"),  # another query: another request
        ("GET", children_url("prj-1")),
        ("GET", f"/api/v1/files/{made['id']}"),
        ("HEAD", content_url(made["id"], 1)),
        ("GET", content_url(made["id"], 1)),
    ]
    with client(fresh_server.base_url, token) as c:
        for method, path in requests:
            first = c.request(method, path)
            assert first.status_code == 502, (method, path)
            assert first.headers["Retry-After"] == "0"
            again = c.request(method, path)
            assert again.status_code == 200, (method, path)
            assert c.request(method, path).status_code == 200, (method, path)
        assert c.get(content_url(made["id"], 1)).content == b"abc"
        # Login and logout are never failed.
        assert c.post(
            "/api/v1/auth/login", json={"username": "demo", "password": "demo"}
        ).is_success
        # Setting the knob again forgets what was seen; off serves everything.
        admin.faults(fail_once=True)
        assert c.get("/api/v1/me").status_code == 502
        admin.faults(fail_once=None)
        assert c.get("/api/v1/me").status_code == 200
        assert c.get(children_url("prj-2")).status_code == 200
        admin.faults(fail_once=True)
        admin.reset()
        admin.faults(fail_once=False)
        assert c.get("/api/v1/me").status_code == 200


@pytest.mark.parametrize("listing", ["projects", "children"])
def test_cursor_loop_repeat_never_advances(
    fresh_server: ServerHandle, admin: Admin, listing: str
) -> None:
    token = token_for(fresh_server.base_url)
    url = "/api/v1/projects" if listing == "projects" else children_url("prj-1")
    with client(fresh_server.base_url, token) as c:
        real = c.get(url, params={"limit": 1}).json()
        admin.faults(cursor_loop="repeat")
        first = c.get(url, params={"limit": 1}).json()
        assert first == {"items": real["items"], "nextCursor": "loop-repeat"}
        for _ in range(3):
            again = c.get(url, params={"limit": 1, "cursor": "loop-repeat"}).json()
            assert again == first
        # Even a listing that fits one page never ends.
        whole = c.get(url, params={"limit": 1000}).json()
        assert whole["nextCursor"] == "loop-repeat"
        assert_error(c.get(url, params={"cursor": "loop-empty-1"}), 400, "bad_request")
        admin.faults(cursor_loop=None)
        assert_error(c.get(url, params={"cursor": "loop-repeat"}), 400, "bad_request")
        assert c.get(url, params={"limit": 1000}).json()["nextCursor"] is None


@pytest.mark.parametrize("listing", ["projects", "children"])
def test_cursor_loop_empty_sends_endless_empty_pages(
    fresh_server: ServerHandle, admin: Admin, listing: str
) -> None:
    token = token_for(fresh_server.base_url)
    url = "/api/v1/projects" if listing == "projects" else children_url("prj-1")
    with client(fresh_server.base_url, token) as c:
        real = [item for page in pages(c, url, limit=2) for item in page["items"]]
        admin.faults(cursor_loop="empty")
        served: list[object] = []
        cursors: list[str] = []
        cursor = None
        for _ in range(len(real) + 10):
            params: dict[str, str | int] = {"limit": 2}
            if cursor is not None:
                params["cursor"] = cursor
            page = c.get(url, params=params).json()
            served += page["items"]
            cursor = page["nextCursor"]
            assert isinstance(cursor, str)
            cursors.append(cursor)
        assert served == real  # every real item, then nothing but fresh cursors
        assert len(set(cursors)) == len(cursors)
        assert cursors[-1].startswith("loop-empty-")
        admin.reset()
        assert_error(c.get(url, params={"cursor": cursors[-1]}), 400, "bad_request")


def test_error_files_break_only_those_files(fresh_server: ServerHandle, admin: Admin) -> None:
    broken = admin.add_file("prj-1", ["err"], "broken.bin", b"abc")
    healthy = admin.add_file("prj-1", ["err"], "healthy.bin", b"def")
    token = token_for(fresh_server.base_url)
    admin.faults(error_files=[broken["id"]], error_status=500, retry_after_s=None)
    with client(fresh_server.base_url, token) as c:
        for _ in range(3):
            assert_error(c.get(content_url(broken["id"], 1)), 500, "internal_error")
            assert c.get(content_url(healthy["id"], 1)).content == b"def"
        # Only content: the broken file is listed and described as usual.
        assert c.get(f"/api/v1/files/{broken['id']}").status_code == 200
    with pytest.raises(AdminError):
        admin.faults(error_files="fil-1")
    admin.faults(error_files=None)
    with client(fresh_server.base_url, token) as c:
        assert c.get(content_url(broken["id"], 1)).content == b"abc"


@pytest.mark.parametrize("size", [5_000, 200_000])  # one-write path and streamed path
def test_weak_etags(fresh_server: ServerHandle, admin: Admin, size: int) -> None:
    data = os.urandom(size)
    made = admin.add_file("prj-1", ["weak"], "weak.bin", data)
    url = content_url(made["id"], 1)
    with client(fresh_server.base_url, token_for(fresh_server.base_url)) as c:
        strong = c.get(url).headers["ETag"]
        assert strong.startswith('"')
        assert strong.endswith('"')
        admin.faults(weak_etags=True)
        full = c.get(url)
        assert full.status_code == 200
        assert full.content == data
        assert full.headers["ETag"] == f"W/{strong}"
        assert c.head(url).headers["ETag"] == f"W/{strong}"
        # Range alone: 206 as usual, with the weak validator.
        part = c.get(url, headers={"Range": "bytes=100-"})
        assert part.status_code == 206
        assert part.content == data[100:]
        assert part.headers["Content-Range"] == f"bytes 100-{size - 1}/{size}"
        assert part.headers["ETag"] == f"W/{strong}"
        # Range + If-Range never matches a weak validator: the whole body, 200.
        for validator in (f"W/{strong}", strong, '"something else"'):
            resp = c.get(url, headers={"Range": "bytes=100-", "If-Range": validator})
            assert resp.status_code == 200, validator
            assert "Content-Range" not in resp.headers
            assert resp.content == data
        # Even an unsatisfiable range: If-Range fails first, so 200, not 416.
        resp = c.get(url, headers={"Range": f"bytes={size}-", "If-Range": f"W/{strong}"})
        assert resp.status_code == 200
        assert resp.content == data
        assert_error(c.get(url, headers={"Range": f"bytes={size}-"}), 416, "range_not_satisfiable")
        # Off again: strong validator, and If-Range matches it.
        admin.reset()
        resp = c.get(url, headers={"Range": "bytes=100-", "If-Range": strong})
        assert resp.status_code == 206
        assert resp.headers["ETag"] == strong
        assert resp.content == data[100:]


async def test_trickle_sends_bytes_apart_without_blocking_the_server(
    fresh_server: ServerHandle, admin: Admin
) -> None:
    data = os.urandom(10)
    made = admin.add_file("prj-1", ["trickle"], "trickle.bin", data)
    url = content_url(made["id"], 1)
    interval = 0.5
    admin.faults(trickle_interval_s=interval)
    headers = {"Authorization": f"Bearer {token_for(fresh_server.base_url)}"}
    first_arrived = asyncio.Event()
    chunks: list[bytes] = []

    async with httpx.AsyncClient(
        base_url=fresh_server.base_url, trust_env=False, headers=headers, timeout=60
    ) as c:

        async def read_all() -> httpx.Response:
            async with c.stream("GET", url) as resp:
                async for chunk in resp.aiter_raw():
                    chunks.append(chunk)
                    first_arrived.set()
                return resp

        t0 = time.monotonic()
        body_task = asyncio.create_task(read_all())
        await asyncio.wait_for(first_arrived.wait(), 30)
        # The server's loop is not blocked by the trickle: another request is
        # answered while the body is still on its way (~4.5 s in total).
        async with httpx.AsyncClient(
            base_url=fresh_server.base_url, trust_env=False, headers=headers
        ) as other:
            assert (await other.get("/api/v1/me")).status_code == 200
            assert (await other.head(url)).headers["Content-Length"] == "10"
        assert not body_task.done()
        resp = await body_task
        elapsed = time.monotonic() - t0
    assert resp.status_code == 200
    assert resp.headers["Content-Length"] == str(len(data))
    assert b"".join(chunks) == data
    # Nine gaps of at least `interval` between the ten bytes (a lower bound:
    # a slow machine only makes it longer).
    assert elapsed >= 9 * interval * 0.95
    assert len(chunks) > 1


def test_trickle_applies_to_ranges_and_stops_when_turned_off(
    fresh_server: ServerHandle, admin: Admin
) -> None:
    data = os.urandom(70_000)  # above the one-write size: both paths are covered
    made = admin.add_file("prj-1", ["trickle"], "range.bin", data)
    url = content_url(made["id"], 1)
    admin.faults(trickle_interval_s=0.2)
    with client(fresh_server.base_url, token_for(fresh_server.base_url)) as c:
        t0 = time.monotonic()
        part = c.get(url, headers={"Range": f"bytes={len(data) - 6}-"})
        assert time.monotonic() - t0 >= 5 * 0.2 * 0.95
        assert part.status_code == 206
        assert part.content == data[-6:]
        admin.faults(trickle_interval_s=None)
        assert c.get(url).content == data


def _raw_body(c: httpx.Client, method: str, url: str, **kw: Any) -> tuple[httpx.Response, bytes]:
    """The answer and its body exactly as sent (no content decoding)."""
    with c.stream(method, url, **kw) as resp:
        raw = b"".join(resp.iter_raw())
    return resp, raw


@pytest.mark.parametrize("size", [3_000, 300_000])
def test_content_encoding_gzip(fresh_server: ServerHandle, admin: Admin, size: int) -> None:
    data = (b"working paper line %d\n" * (size // 16))[:size]
    made = admin.add_file("prj-1", ["gz"], "paper.txt", data)
    url = content_url(made["id"], 1)
    with client(fresh_server.base_url, token_for(fresh_server.base_url)) as c:
        plain = c.get(url)
        assert "Content-Encoding" not in plain.headers
        admin.faults(content_encoding="gzip")
        # Whatever the request asked for.
        for accept in ("identity", "br", None):
            kw: dict[str, Any] = {"headers": {"Accept-Encoding": accept}} if accept else {}
            resp, raw = _raw_body(c, "GET", url, **kw)
            assert resp.status_code == 200
            assert resp.headers["Content-Encoding"] == "gzip"
            assert int(resp.headers["Content-Length"]) == len(raw) < size
            assert gzip.decompress(raw) == data
            # The proxy leaves the server's other headers alone.
            assert resp.headers["ETag"] == plain.headers["ETag"]
            assert resp.headers["Repr-Digest"] == plain.headers["Repr-Digest"]
        head = c.head(url)
        assert head.headers["Content-Encoding"] == "gzip"
        assert head.headers["Content-Length"] == resp.headers["Content-Length"]
        resp, raw = _raw_body(c, "GET", url, headers={"Range": "bytes=10-"})
        assert resp.status_code == 206
        assert resp.headers["Content-Range"] == f"bytes 10-{size - 1}/{size}"
        assert gzip.decompress(raw) == data[10:]
        admin.faults(content_encoding=None)
        resp, raw = _raw_body(c, "GET", url)
        assert "Content-Encoding" not in resp.headers
        assert raw == data


def test_redirect_content(fresh_server: ServerHandle, admin: Admin) -> None:
    made = admin.add_file("prj-1", ["redirect"], "r.bin", b"the real bytes")
    url = content_url(made["id"], 1)
    target = "http://127.0.0.1:9/sso/login?back=%2Fcontent"
    admin.faults(redirect_content=target)
    with client(fresh_server.base_url, token_for(fresh_server.base_url)) as c:
        for method in ("GET", "HEAD"):
            resp = c.request(method, url)
            assert resp.status_code == 302
            assert resp.headers["Location"] == target
            assert resp.content == b""
        # Before the token or the file is looked at.
        for path in (url, content_url("fil-nope", 1)):
            resp = c.get(path, headers={"Authorization": "Bearer nope"})
            assert resp.status_code == 302
            assert resp.headers["Location"] == target
        # Only content requests are redirected.
        assert c.get(f"/api/v1/files/{made['id']}").status_code == 200
        assert c.get(children_url("prj-1")).status_code == 200
        admin.faults(redirect_content=None)
        assert c.get(url).content == b"the real bytes"


async def test_rate_limit_retry_after(fresh_server: ServerHandle, admin: Admin) -> None:
    made = admin.add_file("prj-1", ["cap"], "held.bin", os.urandom(200))
    url = content_url(made["id"], 1)
    headers = {"Authorization": f"Bearer {token_for(fresh_server.base_url)}"}
    # A trickled body holds its download slot for a long time: the 429s are certain.
    admin.faults(max_concurrent_per_token=1, trickle_interval_s=1)
    async with (
        httpx.AsyncClient(base_url=fresh_server.base_url, trust_env=False, headers=headers) as c,
        c.stream("GET", url) as slow,
    ):
        assert slow.status_code == 200
        for knob, expected in ((None, "1"), (3, "3"), (0.5, "0.5"), (0, "0")):
            if knob is not None:
                admin.faults(rate_limit_retry_after_s=knob)
            over = await c.get(url)
            assert_error(over, 429, "rate_limited")
            assert over.headers["Retry-After"] == expected
        admin.faults(rate_limit_retry_after_s=None)
        over = await c.get(url)
        assert_error(over, 429, "rate_limited")
        assert "Retry-After" not in over.headers
