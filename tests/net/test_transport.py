"""LeanTransport: against the reference server and a raw asyncio socket server.

The raw server produces what the reference server cannot: chunked and
close-delimited bodies, idle keep-alive connections closed by the server,
malformed heads, bodies shorter than their Content-Length.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import pytest

from manuscript_gui.net import (
    ApiClient,
    ConnectError,
    FileEntry,
    FolderEntry,
    IncompleteBody,
    NetworkError,
    NetworkTimeout,
    Timeouts,
)
from manuscript_gui.net.transport import LeanTransport, lean_applies
from manuscript_gui.reference_server import ServerHandle
from tests.net.conftest import TlsFiles


@pytest.fixture(autouse=True)
def _lean_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about LeanTransport, whatever MANUSCRIPT_LEAN_HTTP says outside."""
    monkeypatch.delenv("MANUSCRIPT_LEAN_HTTP", raising=False)


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


class RawServer:
    """A one-handler HTTP-ish server on 127.0.0.1; counts connections."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self.connections = 0
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        index = self.connections
        self.connections += 1
        self._writers.append(writer)
        try:
            await self._handler(reader, writer, index)
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        await self._server.wait_closed()
        await asyncio.sleep(0.01)


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """The request head (bodies are read by Content-Length)."""
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))
    return head


def answer(body: bytes, *extra: bytes, status: bytes = b"200 OK") -> bytes:
    head = [b"HTTP/1.1 " + status, b"Content-Length: " + str(len(body)).encode(), *extra]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def lean(url: str, **kw: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=LeanTransport(url, **kw), base_url=url, trust_env=False)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def files_of(client: ApiClient, project_id: str, folder_id: str = "root") -> list[FileEntry]:
    found: list[FileEntry] = []
    async for child in client.iter_children(project_id, folder_id):
        if isinstance(child, FolderEntry):
            found.extend(await files_of(client, project_id, child.id))
        else:
            found.append(child)
    return found


# -- the reference server ---------------------------------------------------------


async def test_client_uses_lean_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    async with ApiClient("http://127.0.0.1:9") as client:
        assert isinstance(client._http._transport, LeanTransport)
        async with client.fork() as fork:
            assert isinstance(fork._http._transport, LeanTransport)
    monkeypatch.setenv("MANUSCRIPT_LEAN_HTTP", "0")
    async with ApiClient("http://127.0.0.1:9") as client:
        assert not isinstance(client._http._transport, LeanTransport)


def test_lean_not_used_behind_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert not lean_applies("https", "wp.example.com", loopback=False)
    assert lean_applies("https", "127.0.0.1", loopback=True)
    assert lean_applies("http", "wp.example.com", loopback=False)
    monkeypatch.setenv("ALL_PROXY", "http://proxy.example:3128")
    assert not lean_applies("http", "wp.example.com", loopback=False)


async def test_json_and_downloads_byte_exact(ref_server: ServerHandle, tmp_path: Path) -> None:
    async with ApiClient(ref_server.base_url) as client:
        assert isinstance(client._http._transport, LeanTransport)
        await client.login("demo", "demo")
        me = await client.me()
        assert me.identities
        projects = [p async for p in client.iter_projects(limit=2)]
        assert projects
        entries = await files_of(client, "prj-1")
        for entry in sorted(entries, key=lambda e: -e.size)[:6]:
            dest = tmp_path / f"{entry.id}.part"
            result = await client.download_to(
                entry.id, entry.version, dest, expected_size=entry.size,
                expected_sha256=entry.sha256, content_type=entry.content_type,
            )  # fmt: skip
            assert result.matches(entry.size, entry.sha256)
            assert sha(dest.read_bytes()) == entry.sha256
            # Ranged: keep a prefix, resume the rest.
            cut = entry.size // 3
            with dest.open("r+b") as f:
                f.truncate(cut)
            result = await client.download_to(
                entry.id, entry.version, dest, expected_size=entry.size,
                expected_sha256=entry.sha256, etag=result.etag,
                content_type=entry.content_type,
            )  # fmt: skip
            assert result.status == (206 if cut else 200)
            assert result.offset == cut
            assert sha(dest.read_bytes()) == entry.sha256


async def test_tls_with_private_ca(
    make_server: Callable[..., ServerHandle], tls_files: TlsFiles, tmp_path: Path
) -> None:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(tls_files.cert, tls_files.key)
    handle = make_server(ssl_context=ctx)
    async with ApiClient(handle.base_url) as default:
        assert isinstance(default._http._transport, LeanTransport)
        with pytest.raises(NetworkError, match="certificate verify failed"):
            await default.login("demo", "demo")
    async with ApiClient(handle.base_url, ca_bundle=tls_files.ca) as client:
        assert isinstance(client._http._transport, LeanTransport)
        await client.login("demo", "demo")
        entries = await files_of(client, "prj-1")
        entry = max(entries, key=lambda e: e.size)
        for _ in range(2):  # the second one on the pooled TLS connection
            dest = tmp_path / "tls.part"
            dest.unlink(missing_ok=True)
            result = await client.download_to(
                entry.id, entry.version, dest, expected_size=entry.size,
                expected_sha256=entry.sha256, content_type=entry.content_type,
            )  # fmt: skip
            assert result.matches(entry.size, entry.sha256)


# -- the raw server -----------------------------------------------------------------


async def test_keep_alive_reuses_one_connection() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        while True:
            request = await read_request(reader)
            reply = answer(b"x" * 1000)
            writer.write(reply[:-1000] if request.startswith(b"HEAD ") else reply)
            await writer.drain()

    async with RawServer(handler) as server, lean(server.url) as http:
        for _ in range(5):
            response = await http.get("/a")
            assert response.content == b"x" * 1000
        head = await http.head("/a")
        assert head.content == b""
        assert (await http.post("/p", json={"a": 1})).content == b"x" * 1000
    assert server.connections == 1


async def test_connection_close_is_honoured() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await read_request(reader)
        writer.write(answer(b"bye", b"Connection: close"))
        await writer.drain()

    async with RawServer(handler) as server, lean(server.url) as http:
        for _ in range(3):
            assert (await http.get("/")).content == b"bye"
    assert server.connections == 3


async def test_stale_pooled_connection_is_retried_once() -> None:
    # Each connection answers one request, then reads the next and hangs up
    # without answering: the keep-alive race a real server's idle timeout causes.
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await read_request(reader)
        writer.write(answer(b"ok"))
        await writer.drain()
        await read_request(reader)

    async with RawServer(handler) as server, lean(server.url) as http:
        for _ in range(3):
            assert (await http.get("/")).content == b"ok"
        assert server.connections == 3
        # Not for POST: it may have been acted on.
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post("/", json={})


async def test_idle_connection_closed_by_server_is_not_reused() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await read_request(reader)
        writer.write(answer(b"ok"))
        await writer.drain()

    async with RawServer(handler) as server, lean(server.url) as http:
        for _ in range(3):
            assert (await http.get("/")).content == b"ok"
            await asyncio.sleep(0.05)
            assert (await http.post("/", json={})).content == b"ok"
            await asyncio.sleep(0.05)
    assert server.connections == 6


async def test_early_closed_response_does_not_poison_the_pool() -> None:
    big = bytes(range(256)) * 16384  # 4 MiB

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        while True:
            await read_request(reader)
            writer.write(answer(big))
            await writer.drain()

    async with RawServer(handler) as server, lean(server.url) as http:
        async with http.stream("GET", "/") as response:
            async for chunk in response.aiter_raw():
                assert chunk
                break
        for _ in range(2):
            response = await http.get("/")
            assert response.content == big
    assert server.connections == 2


async def test_chunked_body_is_decoded() -> None:
    payload = bytes(range(256)) * 8000

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        while True:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            pos = 0
            for size in (1, 7, 4096, 300000, 1 << 20):
                part = payload[pos : pos + size]
                pos += size
                writer.write(b"%x;ext=1\r\n" % len(part))
                await writer.drain()
                await asyncio.sleep(0)
                writer.write(part[: len(part) // 2])
                await writer.drain()
                writer.write(part[len(part) // 2 :] + b"\r\n")
            rest = payload[pos:]
            writer.write(b"%X\r\n" % len(rest) + rest + b"\r\n0\r\nX-Trailer: 1\r\n\r\n")
            await writer.drain()

    async with RawServer(handler) as server, lean(server.url) as http:
        for _ in range(2):
            assert (await http.get("/")).content == payload
    assert server.connections == 1


async def test_bad_chunk_size_is_a_protocol_error() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n")
        await writer.drain()

    async with RawServer(handler) as server, lean(server.url) as http:
        with pytest.raises(httpx.RemoteProtocolError, match="chunk size"):
            await http.get("/")


async def test_close_delimited_body() -> None:
    payload = b"abc" * 100000

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n")
        writer.write(payload)
        await writer.drain()

    async with RawServer(handler) as server, lean(server.url) as http:
        assert (await http.get("/")).content == payload
        assert (await http.get("/")).content == payload
    assert server.connections == 2


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 2OO OK\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX: " + b"a" * (70 * 1024) + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n",
    ],
)
async def test_malformed_head_is_a_protocol_error(head: bytes) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await read_request(reader)
        writer.write(head)
        await writer.drain()

    async with RawServer(handler) as server, lean(server.url) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get("/")


async def test_interim_answer_is_skipped() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n" + answer(b"done"))
        await writer.drain()

    async with RawServer(handler) as server, lean(server.url) as http:
        response = await http.get("/")
        assert response.status_code == 200
        assert response.content == b"done"


async def test_no_body_for_204_and_304() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        await read_request(reader)
        writer.write(b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n")
        await read_request(reader)
        writer.write(answer(b"last"))
        await writer.drain()

    async with RawServer(handler) as server, lean(server.url) as http:
        assert (await http.get("/")).status_code == 204
        assert (await http.get("/")).status_code == 304
        assert (await http.get("/")).content == b"last"
    assert server.connections == 1


async def test_short_body_raises_and_download_reports_incomplete(tmp_path: Path) -> None:
    data = b"0123456789" * 1000

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(data))
        writer.write(data[:4000])
        await writer.drain()

    async with RawServer(handler) as server:
        async with lean(server.url) as http:
            with pytest.raises(httpx.RemoteProtocolError, match="peer closed connection"):
                await http.get("/")
        async with ApiClient(server.url, token="t") as client:
            dest = tmp_path / "short.part"
            with pytest.raises(IncompleteBody) as info:
                await client.download_to(
                    "f", 1, dest, expected_size=len(data), expected_sha256=sha(data)
                )
            assert info.value.received == 4000
            assert dest.read_bytes() == data[:4000]
            # The resume asks for the rest.
            with pytest.raises(IncompleteBody):
                await client.download_to(
                    "f", 1, dest, expected_size=len(data), expected_sha256=sha(data)
                )


async def test_read_timeout_maps_to_network_timeout() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await read_request(reader)
        await asyncio.sleep(30)

    async with (
        RawServer(handler) as server,
        ApiClient(server.url, timeouts=Timeouts(read=0.2)) as client,
    ):
        with pytest.raises(NetworkTimeout):
            await client.login("demo", "demo")


async def test_body_read_timeout(tmp_path: Path) -> None:
    data = b"z" * 10000

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(data) + data[:10])
        await writer.drain()
        await asyncio.sleep(30)

    async with (
        RawServer(handler) as server,
        ApiClient(server.url, token="t", timeouts=Timeouts(read=0.2)) as client,
    ):
        with pytest.raises(NetworkTimeout):
            await client.download_to(
                "f", 1, tmp_path / "t.part", expected_size=len(data), expected_sha256=sha(data)
            )


async def test_connect_refused_maps_to_connect_error() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    async with ApiClient(f"http://127.0.0.1:{port}") as client:
        with pytest.raises(ConnectError, match="refused") as info:
            await client.login("demo", "demo")
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert isinstance(info.value.__cause__.__cause__, OSError)


async def test_pool_limits_concurrency() -> None:
    active = 0
    peak = 0

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        nonlocal active, peak
        while True:
            await read_request(reader)
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.01)
            active -= 1
            writer.write(answer(b"p"))
            await writer.drain()

    async with RawServer(handler) as server, lean(server.url, max_connections=2) as http:
        results = await asyncio.gather(*(http.get("/") for _ in range(10)))
        assert all(r.content == b"p" for r in results)
    assert server.connections == 2
    assert peak == 2


async def test_cancelled_request_frees_its_connection() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, i: int) -> None:
        await read_request(reader)
        if i == 0:
            await asyncio.sleep(30)
        writer.write(answer(b"ok"))
        await writer.drain()

    async with RawServer(handler) as server, lean(server.url) as http:
        task = asyncio.create_task(http.get("/"))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        response = await asyncio.wait_for(http.get("/"), 5)
        assert response.content == b"ok"
