"""Download policies of issue #6 against the real reference server.

Weak validators, the minimum speed, the shared bandwidth limit, answers that
will never change (redirects, encoded bodies), and downloads into a partial
file the caller holds open (and locked). Cases no server produces go through
``httpx.MockTransport`` at the end.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import random
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import httpx
import portalocker
import pytest

from manuscript_gui.net import (
    ApiClient,
    BandwidthLimiter,
    DownloadResult,
    DownloadStart,
    FileEntry,
    NetworkTimeout,
    ProtocolError,
    Timeouts,
    TooSlow,
    is_transient,
)
from manuscript_gui.reference_server import ServerHandle
from tests.fixtures_server import Admin
from tests.net.test_client_server import fetch, files_of


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def biggest(client: ApiClient) -> FileEntry:
    return max(await files_of(client, "prj-1"), key=lambda f: f.size)


async def whole_file(client: ApiClient, entry: FileEntry, tmp_path: Path) -> bytes:
    dest = tmp_path / f"reference-{entry.id}"
    result = await fetch(client, entry, dest)
    assert result.matches(entry.size, entry.sha256)
    return dest.read_bytes()


@contextmanager
def locked_partial(path: Path) -> Iterator[BinaryIO]:
    """The partial as the engine holds it: O_RDWR|O_CREAT (never truncating), exclusively locked."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    f = os.fdopen(fd, "r+b")
    try:
        portalocker.lock(f, portalocker.LOCK_EX | portalocker.LOCK_NB)
        yield f
    finally:
        f.close()


# -- weak validators (item 6) ---------------------------------------------------------


async def test_weak_etags_download_and_resume(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    async with ApiClient(fresh_server.base_url) as client:
        await client.login("demo", "demo")
        entry = await biggest(client)
        data = await whole_file(client, entry, tmp_path)
        strong = (await fetch(client, entry, tmp_path / "strong.part")).etag
        assert strong is not None
        admin.faults(weak_etags=True)

        # A full answer with a weak ETag is taken; the weak tag is not reported.
        starts: list[DownloadStart] = []
        fresh = tmp_path / "fresh.part"
        result = await fetch(client, entry, fresh, on_start=starts.append)
        assert result.matches(entry.size, entry.sha256)
        assert fresh.read_bytes() == data
        assert starts == [DownloadStart(status=200, offset=0, etag=None)]
        assert result.etag is None

        # Resume with no strong validator: Range alone, and the 206 is appended.
        half = tmp_path / "half.part"
        half.write_bytes(data[: entry.size // 2])
        resumed = await fetch(client, entry, half, etag=result.etag)
        assert (resumed.status, resumed.offset) == (206, entry.size // 2)
        assert resumed.matches(entry.size, entry.sha256)
        assert half.read_bytes() == data

        # A strong ETag stored before the server turned weak: If-Range cannot
        # match a weak validator, so the server sends it all and it is taken.
        third = tmp_path / "third.part"
        third.write_bytes(data[: entry.size // 3])
        restarted = await fetch(client, entry, third, etag=strong)
        assert (restarted.status, restarted.offset) == (200, 0)
        assert restarted.matches(entry.size, entry.sha256)
        assert third.read_bytes() == data


# -- minimum speed (item 5) -------------------------------------------------------------


async def test_trickle_ends_the_attempt_and_the_next_resumes(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    slow_floor = Timeouts(low_speed_limit=1000, low_speed_time=0.5)
    dest = tmp_path / "trickled.part"
    async with ApiClient(fresh_server.base_url, timeouts=slow_floor) as client:
        await client.login("demo", "demo")
        entry = await biggest(client)
        # One byte every 20 ms: 50 bytes/s, far under 1000 bytes/s, and never
        # 60 s without a byte (the read timeout would wait forever).
        admin.faults(trickle_interval_s=0.02)
        with pytest.raises(TooSlow) as info:
            await fetch(client, entry, dest)
        slow = info.value
        assert isinstance(slow, NetworkTimeout)
        assert is_transient(slow)
        assert slow.rate < 1000
        assert "bytes/s" in str(slow)
        kept = dest.stat().st_size
        assert kept == slow.received > 0
        assert kept < entry.size

        admin.reset()
        starts: list[DownloadStart] = []
        result = await fetch(client, entry, dest, on_start=starts.append)
    # The next call asked for the rest only (Range: bytes=<kept>-).
    assert starts[0].offset == kept
    assert (result.status, result.offset, result.received) == (206, kept, entry.size - kept)
    assert result.matches(entry.size, entry.sha256)


async def test_no_byte_at_all_is_too_slow_even_without_a_read_timeout(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    """With ``read=None`` the low-speed time still bounds a wait for the first byte."""
    timeouts = Timeouts(read=None, low_speed_limit=1, low_speed_time=0.3)
    async with ApiClient(fresh_server.base_url, timeouts=timeouts) as client:
        await client.login("demo", "demo")
        entry = await biggest(client)
        # Without the bound this waits the 5 s and succeeds.
        admin.faults(latency_ms=5000)
        with pytest.raises(NetworkTimeout):
            await fetch(client, entry, tmp_path / "f.part")
        assert not (tmp_path / "f.part").exists()


async def test_waiting_for_the_bandwidth_limit_is_not_slowness(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    data = random.Random(3).randbytes(40_000)
    added = admin.add_file("prj-1", ["Z 限速"], "slow-by-choice.bin", data)
    # 20 KB/s through the limiter takes ~2 s; the floor of 1 MB/s over 1 s
    # would end the attempt if the limiter's waits counted.
    floor = Timeouts(low_speed_limit=1_000_000, low_speed_time=1.0)
    limiter = BandwidthLimiter(20_000)
    async with ApiClient(fresh_server.base_url, timeouts=floor) as client:
        await client.login("demo", "demo")
        started = time.monotonic()
        result = await client.download_to(
            added["id"], added["version"], tmp_path / "f.part",
            expected_size=len(data), expected_sha256=sha(data), limiter=limiter,
        )  # fmt: skip
        elapsed = time.monotonic() - started
    assert result.matches(len(data), sha(data))
    # The limit did hold it back for longer than the low-speed time (a lower
    # bound the limiter sets; a slow machine only makes it longer).
    assert elapsed > 1.0


async def test_waiting_for_a_pooled_connection_is_not_slowness(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    """Two downloads on one connection: the second waits ~1 s for it, then runs at 20 KB/s."""
    first = random.Random(4).randbytes(20_000)
    second = random.Random(5).randbytes(20_000)
    a = admin.add_file("prj-1", ["Z 排队"], "a.bin", first)
    b = admin.add_file("prj-1", ["Z 排队"], "b.bin", second)
    floor = Timeouts(low_speed_limit=2000, low_speed_time=0.5)
    async with ApiClient(fresh_server.base_url, timeouts=floor, max_connections=1) as client:
        await client.login("demo", "demo")
        admin.faults(bandwidth_bps=20_000)
        started = asyncio.Event()
        one = asyncio.create_task(
            client.download_to(
                a["id"],
                a["version"],
                tmp_path / "a.part",
                expected_size=len(first),
                expected_sha256=sha(first),
                on_start=lambda _: started.set(),
            )
        )
        await started.wait()
        two = await client.download_to(
            b["id"], b["version"], tmp_path / "b.part",
            expected_size=len(second), expected_sha256=sha(second),
        )  # fmt: skip
        assert (await one).matches(len(first), sha(first))
    assert two.matches(len(second), sha(second))


# -- bandwidth limit (item 9) -------------------------------------------------------------


@pytest.mark.timeout(90)
async def test_one_limit_over_eight_downloads_and_a_change_while_running(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    data = random.Random(9).randbytes(1_000_000)
    added = admin.add_file("prj-1", ["Z 限速"], "big.bin", data)
    limiter = BandwidthLimiter(300_000)
    events: list[tuple[float, int, int]] = []  # (when, download, bytes)

    async def one(client: ApiClient, i: int) -> DownloadResult:
        def count(n: int) -> None:
            events.append((time.monotonic(), i, n))

        return await client.download_to(
            added["id"], added["version"], tmp_path / f"{i}.part",
            expected_size=len(data), expected_sha256=sha(data), limiter=limiter, progress=count,
        )  # fmt: skip

    def window(t0: float, t1: float) -> list[int]:
        per = [0] * 8
        for when, i, n in events:
            if t0 <= when < t1:
                per[i] += n
        return per

    async with ApiClient(fresh_server.base_url, max_connections=8) as client:
        await client.login("demo", "demo")
        tasks = [asyncio.create_task(one(client, i)) for i in range(8)]
        await asyncio.sleep(0.5)  # every download is under way
        a = time.monotonic()
        await asyncio.sleep(3.0)
        b = time.monotonic()
        limiter.set_rate(600_000)
        await asyncio.sleep(0.5)
        c = time.monotonic()
        await asyncio.sleep(2.0)
        d = time.monotonic()
        assert not any(t.done() for t in tasks)  # all eight were limited throughout
        limiter.set_rate(None)
        results = await asyncio.gather(*tasks)

    first, second = window(a, b), window(c, d)
    rate1, rate2 = sum(first) / (b - a), sum(second) / (d - c)
    assert 0.85 * 300_000 <= rate1 <= 1.15 * 300_000, f"{rate1:.0f} bytes/s at a 300 KB/s limit"
    assert 0.85 * 600_000 <= rate2 <= 1.15 * 600_000, f"{rate2:.0f} bytes/s at a 600 KB/s limit"
    # Fair: every download got a real share, none starved.
    assert min(first) > sum(first) / 8 / 2, first
    for i, result in enumerate(results):
        assert result.matches(len(data), sha(data))
        assert (tmp_path / f"{i}.part").read_bytes() == data


# -- answers that will never change (item 4) ------------------------------------------------


async def test_redirect_to_another_origin_is_permanent_and_never_followed(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    reached: list[bytes] = []

    async def other_origin(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        reached.append(await reader.read(65536))
        writer.close()

    server = await asyncio.start_server(other_origin, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with ApiClient(fresh_server.base_url) as client:
            await client.login("demo", "demo")
            entry = await biggest(client)
            admin.faults(redirect_content=f"http://127.0.0.1:{port}/steal")
            dest = tmp_path / "f.part"
            dest.write_bytes(b"a partial to keep")
            with pytest.raises(ProtocolError, match=f"127.0.0.1:{port}/steal") as info:
                await fetch(client, entry, dest)
            fresh = tmp_path / "fresh.part"
            with pytest.raises(ProtocolError):
                await fetch(client, entry, fresh)
        await asyncio.sleep(0.2)  # a connection, had one been made, would be in by now
    finally:
        server.close()
        await server.wait_closed()
    assert info.value.code == "unexpected_redirect"
    assert not info.value.transient
    assert not is_transient(info.value)
    assert reached == []
    assert dest.read_bytes() == b"a partial to keep"
    assert not fresh.exists()


async def test_gzip_encoded_content_fails_at_once_and_writes_nothing(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    async with ApiClient(fresh_server.base_url) as client:
        await client.login("demo", "demo")
        entry = await biggest(client)
        data = await whole_file(client, entry, tmp_path)
        admin.faults(content_encoding="gzip")
        fresh = tmp_path / "fresh.part"
        with pytest.raises(ProtocolError) as info:
            await fetch(client, entry, fresh)
        partial = tmp_path / "partial.part"
        partial.write_bytes(data[:1000])
        with pytest.raises(ProtocolError) as resumed:
            await fetch(client, entry, partial)
    for error in (info.value, resumed.value):
        assert error.code == "bad_encoding"
        assert not error.transient
        assert not is_transient(error)
    assert not fresh.exists()
    assert partial.read_bytes() == data[:1000]


# -- an open, locked partial (item 2, client side) -------------------------------------------


async def test_download_into_an_open_locked_partial(
    fresh_server: ServerHandle, tmp_path: Path
) -> None:
    async with ApiClient(fresh_server.base_url) as client:
        await client.login("demo", "demo")
        entry = await biggest(client)
        data = await whole_file(client, entry, tmp_path)
        path = tmp_path / "locked.part"
        with locked_partial(path) as f:
            first = await fetch(client, entry, f)
            assert not f.closed
            assert (first.status, first.size) == (200, entry.size)
            assert first.matches(entry.size, entry.sha256)
            assert os.fstat(f.fileno()).st_size == entry.size

            # The partial shrinks (the engine cut it, say): resume through the handle.
            f.truncate(entry.size // 3)
            resumed = await fetch(client, entry, f, etag=first.etag)
            assert (resumed.status, resumed.offset) == (206, entry.size // 3)
            assert resumed.matches(entry.size, entry.sha256)

            # Whole already: 416, hashed through the handle.
            again = await fetch(client, entry, f, etag=first.etag)
            assert (again.status, again.received) == (416, 0)
            assert again.matches(entry.size, entry.sha256)

            # Longer than the file: not a prefix, fetched anew into the same handle.
            f.seek(0, os.SEEK_END)
            f.write(b"stale tail")
            f.flush()
            longer = await fetch(client, entry, f, etag=first.etag)
            assert (longer.status, longer.size) == (200, entry.size)
            assert longer.matches(entry.size, entry.sha256)

            # Another partial's bytes under a stale ETag: the 200 replaces them.
            f.seek(0)
            f.write(b"\xff" * 500)
            f.flush()
            f.truncate(500)
            stale = await fetch(client, entry, f, etag='"an-old-etag"')
            assert (stale.status, stale.offset) == (200, 0)
            assert stale.matches(entry.size, entry.sha256)
            assert not f.closed
        assert path.read_bytes() == data


# -- cases no server produces -----------------------------------------------------------------

DATA = bytes(range(256)) * 400  # 102,400 bytes
SHA = sha(DATA)
ETAG = '"v1"'


def answer(request: httpx.Request, data: bytes = DATA) -> httpx.Response:
    headers = {"Content-Type": "application/octet-stream", "ETag": ETAG}
    rng = request.headers.get("range")
    if rng:
        start = int(rng.removeprefix("bytes=").rstrip("-"))
        headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        return httpx.Response(206, headers=headers, content=data[start:])
    return httpx.Response(200, headers=headers, content=data)


class Pieces(httpx.AsyncByteStream):
    """A body in two halves with something done to the file in between."""

    def __init__(self, data: bytes, between: Any) -> None:
        self._data, self._between = data, between

    async def __aiter__(self) -> AsyncIterator[bytes]:
        half = len(self._data) // 2
        yield self._data[:half]
        self._between()
        yield self._data[half:]


def mock_client(handler: Any, **kw: Any) -> ApiClient:
    return ApiClient("http://wp.test", token="t", transport=httpx.MockTransport(handler), **kw)


async def download(client: ApiClient, dest: Path | BinaryIO, **kw: Any) -> DownloadResult:
    args: dict[str, Any] = {"expected_size": len(DATA), "expected_sha256": SHA}
    args.update(kw)
    return await client.download_to("f1", 1, dest, **args)


async def test_another_writer_during_the_download_is_partial_changed(tmp_path: Path) -> None:
    """The size reported is the file's real size; bytes nobody hashed are never passed off."""
    path = tmp_path / "shared.part"

    def intruder() -> None:
        # Past everything this download will write, so its bytes stay in the file.
        with open(path, "ab") as other:
            other.write(b"another writer " * 10_000)

    def handler(request: httpx.Request) -> httpx.Response:
        headers = answer(request).headers
        return httpx.Response(200, headers=headers, stream=Pieces(DATA, intruder))

    async with mock_client(handler) as client:
        for dest_kind in ("handle", "path"):
            path.unlink(missing_ok=True)
            with locked_partial(path) as f:
                dest: Path | BinaryIO = f if dest_kind == "handle" else path
                with pytest.raises(ProtocolError) as info:
                    await download(client, dest)
                assert not f.closed
            assert info.value.code == "partial_changed", dest_kind
            assert info.value.transient


async def test_partial_shorter_than_it_was_is_partial_changed(tmp_path: Path) -> None:
    path = tmp_path / "shrinking.part"
    path.write_bytes(DATA[:7000])

    def handler(request: httpx.Request) -> httpx.Response:
        # Between the client's look at the partial and its reading it back.
        os.truncate(path, 10)
        return answer(request)

    async with mock_client(handler) as client:
        with locked_partial(path) as f:
            with pytest.raises(ProtocolError) as info:
                await download(client, f)
            assert not f.closed
    assert info.value.code == "partial_changed"


async def test_too_many_bytes_into_a_handle_keeps_the_file(tmp_path: Path) -> None:
    path = tmp_path / "kept.part"
    path.write_bytes(DATA[:3000])

    def handler(request: httpx.Request) -> httpx.Response:
        good = answer(request)
        return httpx.Response(206, headers=good.headers, content=good.content + b"junk")

    async with mock_client(handler) as client:
        with locked_partial(path) as f:
            with pytest.raises(ProtocolError) as info:
                await download(client, f, chunk_size=4096)
            assert not f.closed
    assert info.value.code == "too_many_bytes"
    assert path.read_bytes() == DATA[:3000]


async def test_a_fresh_handle_is_never_removed(tmp_path: Path) -> None:
    path = tmp_path / "fresh.part"

    def handler(request: httpx.Request) -> httpx.Response:
        good = answer(request)
        return httpx.Response(200, headers=good.headers, content=good.content + b"junk")

    async with mock_client(handler) as client:
        with locked_partial(path) as f, pytest.raises(ProtocolError):
            await download(client, f, chunk_size=4096)
    assert path.exists()
    assert path.read_bytes() == b""


async def test_cancelled_while_hashing_a_handle_waits_for_the_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cancel never leaves a thread reading through the caller's handle, which
    the caller may close (and unlock) the moment the download returns."""
    big = DATA * 80  # 8 MB of prefix: 8 blocks to hash
    path = tmp_path / "big.part"
    path.write_bytes(big)
    whole = big + DATA
    reads = {"active": 0, "calls": 0}
    real_pread = os.pread
    reading = threading.Event()

    def slow_pread(fd: int, n: int, offset: int) -> bytes:
        reads["active"] += 1
        reads["calls"] += 1
        reading.set()
        try:
            time.sleep(0.05)
            return real_pread(fd, n, offset)
        finally:
            reads["active"] -= 1

    monkeypatch.setattr(os, "pread", slow_pread)

    def handler(request: httpx.Request) -> httpx.Response:
        return answer(request, whole)

    async def cancel_while_reading() -> None:
        await asyncio.to_thread(reading.wait, 30)
        task.cancel()

    async with mock_client(handler) as client:
        with locked_partial(path) as f:
            task: asyncio.Task[DownloadResult] = asyncio.create_task(
                download(client, f, expected_size=len(whole), expected_sha256=sha(whole))
            )
            canceller = asyncio.create_task(cancel_while_reading())
            with pytest.raises(asyncio.CancelledError):
                await task
            await canceller
            assert reads["active"] == 0
            assert 1 <= reads["calls"] < len(big) // (1024 * 1024)
            monkeypatch.undo()
            result = await download(client, f, expected_size=len(whole), expected_sha256=sha(whole))
    assert result.matches(len(whole), sha(whole))
    assert path.read_bytes() == whole


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_every_redirect_is_permanent(tmp_path: Path, status: int) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, headers={"Location": "https://sso.example/login"})

    async with mock_client(handler) as client:
        with pytest.raises(ProtocolError) as on_download:
            await download(client, tmp_path / "f.part")
        with pytest.raises(ProtocolError) as on_json:
            await client.me()
    for error in (on_download.value, on_json.value):
        assert error.code == "unexpected_redirect"
        assert not is_transient(error)
    assert not (tmp_path / "f.part").exists()


async def test_an_unlimited_limiter_and_a_limit_set_mid_download(tmp_path: Path) -> None:
    """A limiter whose rate is None costs nothing; one set while a body streams applies."""
    limiter = BandwidthLimiter(None)
    seen: list[int] = []

    def progress(n: int) -> None:
        seen.append(n)
        if len(seen) == 1:
            limiter.set_rate(200_000)  # from now on, pieces of its size

    def handler(request: httpx.Request) -> httpx.Response:
        headers = answer(request).headers
        return httpx.Response(200, headers=headers, stream=Pieces(DATA, lambda: None))

    async with mock_client(handler) as client:
        result = await download(client, tmp_path / "f.part", limiter=limiter, progress=progress)
    assert result.matches(len(DATA), SHA)
    assert seen[0] == len(DATA) // 2  # unlimited: the chunk as it came
    assert max(seen[1:]) <= limiter.piece_bytes < len(DATA) // 2
    assert sum(seen) == len(DATA)
