"""Injected faults, seen from a plain HTTP client."""

from __future__ import annotations

import asyncio
import hashlib
import os
import time

import httpx
import pytest

from manuscript_gui.reference_server import ServerHandle
from tests.fixtures_server import Admin, AdminError

from .helpers import assert_error, children_url, client, content_url, token_for


def test_fault_values_merge_and_reset(admin: Admin) -> None:
    off = {
        "latencyMs": 0.0,
        "bandwidthBps": None,
        "dropRate": 0.0,
        "errorRate": 0.0,
        "tokenTtlS": None,
        "maxConcurrentPerToken": None,
    }
    assert admin.current_faults() == off
    assert admin.faults(latency_ms=5)["latencyMs"] == 5
    now = admin.faults(dropRate=0.25, maxConcurrentPerToken=3)
    assert now == {**off, "latencyMs": 5, "dropRate": 0.25, "maxConcurrentPerToken": 3}
    assert admin.faults(maxConcurrentPerToken=None)["maxConcurrentPerToken"] is None
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
