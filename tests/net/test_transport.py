"""LeanTransport: against the reference server and a raw asyncio socket server.

The raw server (tests/net/raw_server.py) produces what the reference server
cannot: chunked and close-delimited bodies, idle keep-alive connections closed
by the server or gone silent, malformed and unusual framing, bodies shorter
than their Content-Length, TLS for an internationalised host name.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import shutil
import ssl
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
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
    ProtocolError,
    Timeouts,
    is_transient,
)
from manuscript_gui.net._http import network_error
from manuscript_gui.net.transport import (
    CrossOriginRequest,
    LeanTransport,
    MalformedResponse,
    connect_host,
    lean_applies,
)
from manuscript_gui.reference_server import ServerHandle
from tests.net.conftest import TlsFiles
from tests.net.raw_server import RawServer, answer, header_of, read_request


@pytest.fixture(autouse=True)
def _lean_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about LeanTransport, whatever MANUSCRIPT_LEAN_HTTP says outside."""
    monkeypatch.delenv("MANUSCRIPT_LEAN_HTTP", raising=False)


def lean(url: str, **kw: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=LeanTransport(url, **kw), base_url=url, trust_env=False)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def files_of(client: ApiClient, project_id: str, folder_id: str = "root") -> list[FileEntry]:
    found: list[FileEntry] = []
    async for child in client.iter_children(project_id, folder_id):
        if isinstance(child, FolderEntry):
            found.extend(await files_of(client, project_id, child.id))
        elif isinstance(child, FileEntry):
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
        with pytest.raises(MalformedResponse, match="chunk header"):
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


# -- (a) an internationalised host name is one ASCII name everywhere -----------------

#: ``faß.example`` in IDNA 2008 (what httpx writes in ``Host``). Python's own
#: IDNA 2003 codec, which ``socket`` and ``ssl`` apply to a ``str`` host, maps
#: it to ``fass.example``: another domain.
IDN_HOST = "faß.example"
IDN_ASCII = "xn--fa-hia.example"

_LEAF_EXT = f"""\
subjectAltName=DNS:{IDN_ASCII}
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
"""


@pytest.fixture(scope="module")
def idn_tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A throw-away CA and a certificate for ``xn--fa-hia.example`` only (openssl CLI)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("the TLS tests need the openssl command (Debian: apt-get install openssl)")
    d = tmp_path_factory.mktemp("idn-tls")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=d, check=True, capture_output=True, timeout=60)

    ca_ext = ["-addext", "basicConstraints=critical,CA:TRUE"]
    ca_ext += ["-addext", "keyUsage=critical,keyCertSign,cRLSign"]
    run("req", "-x509", *ec, *ca_ext, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=manuscript-gui IDN test CA")  # fmt: skip
    run("req", *ec, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", f"/CN={IDN_ASCII}")
    (d / "leaf.ext").write_text(_LEAF_EXT)
    sign = ["-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-extfile", "leaf.ext"]
    run("x509", "-req", *sign, "-in", "leaf.csr", "-out", "leaf.pem", "-days", "2")
    return TlsFiles(ca=d / "ca.pem", cert=d / "leaf.pem", key=d / "leaf.key")


async def test_unicode_host_is_one_ascii_name_everywhere(
    idn_tls: TlsFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The name resolved, the SNI sent, the name the certificate is checked
    # against and the Host header must all be the same A-label name.
    sni: list[str | None] = []
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(idn_tls.cert, idn_tls.key)
    server_ctx.sni_callback = lambda _obj, name, _ctx: sni.append(name)
    dialled: list[tuple[str, str | None]] = []
    real_open = asyncio.open_connection
    port = 0

    async def dial(
        host: str, _port: int, **kw: Any
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        # This test's "DNS": every name is the raw server; TLS is untouched.
        dialled.append((host, kw.get("server_hostname")))
        return await real_open("127.0.0.1", port, **kw)

    monkeypatch.setattr(asyncio, "open_connection", dial)
    client_ctx = ssl.create_default_context(cafile=str(idn_tls.ca))
    async with RawServer(script=[answer(b"tls")], ssl_context=server_ctx) as tls_server:
        port = tls_server.port
        url = f"https://{IDN_HOST}:{port}"
        async with lean(url, ssl_context=client_ctx) as http:
            assert (await http.get(url + "/x")).content == b"tls"
    assert dialled == [(IDN_ASCII, IDN_ASCII)]
    assert sni == [IDN_ASCII]
    assert header_of(tls_server.requests[0], b"host") == f"{IDN_ASCII}:{port}".encode()

    dialled.clear()
    async with RawServer(script=[answer(b"plain")]) as plain_server:
        port = plain_server.port
        url = f"http://www.{IDN_HOST}:{port}"
        async with lean(url) as http:
            assert (await http.get(url + "/x")).content == b"plain"
    assert dialled == [(f"www.{IDN_ASCII}", None)]
    assert header_of(plain_server.requests[0], b"host") == f"www.{IDN_ASCII}:{port}".encode()


@pytest.mark.parametrize(
    "host",
    [
        "a" * 64 + ".example",  # a DNS label is 63 octets at most
        "ä" * 64 + ".example",  # also too long once IDNA-encoded
        "a..b.example",  # an empty label
        ("a" * 60 + ".") * 5 + "com",  # 308 characters; a name is 253 at most
        "%61.example",  # not a host-name character
        "xn--zz.example",  # an A-label that decodes to nothing
    ],
)
def test_host_that_is_no_dns_name_is_a_value_error(host: str) -> None:
    # Refused where the origin is given, not as a raw UnicodeError (or a DNS
    # failure retried as transient) at the first request.
    with pytest.raises(ValueError, match=r"host name|origin"):
        LeanTransport(f"https://{host}")


def test_client_refuses_a_base_url_with_an_overlong_label() -> None:
    with pytest.raises(ValueError, match="host name"):
        ApiClient("https://" + "a" * 64 + ".example")


@pytest.mark.parametrize(
    ("host", "connected"),
    [
        ("a" * 63 + ".example", "a" * 63 + ".example"),
        ("wp.example.com.", "wp.example.com."),  # a fully qualified name
        ("intra_net.example", "intra_net.example"),  # "_" occurs in internal names
        ("WP.Example.COM", "wp.example.com"),
        ("127.0.0.1", "127.0.0.1"),
        ("[::1]", "::1"),
        (IDN_HOST, IDN_ASCII),
    ],
)
def test_valid_host_names_are_kept(host: str, connected: str) -> None:
    assert connect_host(httpx.URL(f"https://{host}:8443/")) == connected
    LeanTransport(f"https://{host}:8443/")


# -- (b)/(e) framing: h11 decides what is HTTP/1.1 --------------------------------------

#: Answers a client must accept (RFC 9112), as
#: (raw answer, status, body, a header it must show, whether the connection is reused).
ACCEPTED: dict[str, tuple[bytes, int, bytes, tuple[str, str] | None, bool]] = {
    "bare LF line ends": (
        b"HTTP/1.1 200 OK\nX-A: 1\nContent-Length: 2\n\nok", 200, b"ok", ("x-a", "1"), True,
    ),
    "obs-fold is unfolded": (
        b"HTTP/1.1 200 OK\r\nX-Folded: a\r\n \t b\r\nContent-Length: 2\r\n\r\nok",
        200, b"ok", ("x-folded", "a b"), True,
    ),
    "no reason phrase": (b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok", 200, b"ok", None, True),
    "duplicate equal Content-Length": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2, 2\r\n\r\nok",
        200, b"ok", None, True,
    ),
    "chunk extensions and trailers": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n"
        b'2;a=b;c\r\nok\r\n1;q="x y"\r\n!\r\n0;last\r\nX-Trailer: 1\r\n\r\n',
        200, b"ok!", None, True,
    ),
    "Content-Length with chunked: chunked wins, no reuse": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\nok\r\n0\r\n\r\n",
        200, b"ok", None, False,
    ),
    "interim answers are skipped": (
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
        b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n" + answer(b"ok"),
        200, b"ok", None, True,
    ),
    "HTTP/1.0: no reuse": (
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 200, b"ok", None, False,
    ),
    "Connection: close": (answer(b"ok", b"Connection: close"), 200, b"ok", None, False),
    "304 with a Content-Length has no body": (
        b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n", 304, b"", None, True,
    ),
    "stray bytes after the body: no reuse": (answer(b"ok") + b"\r\n", 200, b"ok", None, False),
}  # fmt: skip


@pytest.mark.parametrize("case", list(ACCEPTED))
async def test_framing_a_client_must_accept(case: str) -> None:
    raw, status, body, header, reused = ACCEPTED[case]
    async with (
        RawServer(script=[raw, answer(b"next")]) as server,
        lean(server.url) as http,
    ):
        response = await http.get("/", timeout=10)
        assert (response.status_code, response.content) == (status, body)
        if header is not None:
            assert response.headers[header[0]] == header[1]
        await http.get("/", timeout=10)
    assert server.connections == (1 if reused else 2)


#: Answers h11 refuses: each raises MalformedResponse, whatever part is wrong.
MALFORMED: dict[str, bytes] = {
    "bare CR in a header value": b"HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 2\r\n\r\nok",
    "NUL in a header value": b"HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\nok",
    "status 099": b"HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\nok",
    "status of four digits": b"HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok",
    "status not digits": b"HTTP/1.1 2OO OK\r\n\r\n",
    "not HTTP": b"ICY 200 OK\r\n\r\n",
    "HTTP/2.0 in an HTTP/1 status line": b"HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "header line without colon": b"HTTP/1.1 200 OK\r\nBad Header\r\n\r\n",
    "space before the colon": b"HTTP/1.1 200 OK\r\nX-A : 1\r\nContent-Length: 2\r\n\r\nok",
    "continuation as the first header": (
        b"HTTP/1.1 200 OK\r\n folded\r\nContent-Length: 2\r\n\r\nok"
    ),
    "conflicting Content-Length": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok"
    ),
    "Content-Length list that disagrees": b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok",
    "Content-Length not a number": b"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n",
    "negative Content-Length": b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    "Content-Length of 21 digits": b"HTTP/1.1 200 OK\r\nContent-Length: " + b"9" * 21 + b"\r\n\r\n",
    "head over 64 KiB": b"HTTP/1.1 200 OK\r\nX: " + b"a" * (70 * 1024) + b"\r\n\r\n",
    "Transfer-Encoding gzip": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nbody",
    "Transfer-Encoding identity": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nbody",
    "Transfer-Encoding gzip, chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n4\r\nbody\r\n0\r\n\r\n"
    ),
    "Transfer-Encoding chunked, gzip": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nbody"
    ),
    "Transfer-Encoding twice": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"4\r\nbody\r\n0\r\n\r\n"
    ),
    "Transfer-Encoding with Content-Length, not chunked": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nContent-Length: 4\r\n\r\nbody"
    ),
    "chunk size not hex": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n",
    "chunk data without its CRLF": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n"
    ),
    "101 nobody asked for (no protocol switch without Upgrade)": (
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: other\r\nConnection: upgrade\r\n\r\n"
    ),
    "malformed trailer": (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nBad Trailer\r\n\r\n"
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_malformed_framing_is_refused(case: str) -> None:
    # The server keeps the connection open: the refusal comes from the bytes,
    # never from waiting for a timeout or for the end of the connection.
    async with RawServer(script=[MALFORMED[case]]) as server, lean(server.url) as http:
        with pytest.raises(MalformedResponse):
            await http.get("/", timeout=10)


#: Answers cut off by the end of the connection: an early end, not malformed bytes.
CUT: dict[str, bytes] = {
    "nothing at all": b"",
    "mid status line": b"HTTP/1.1 20",
    "mid head": b"HTTP/1.1 200 OK\r\nContent-Len",
    "after an interim answer": b"HTTP/1.1 100 Continue\r\n\r\n",
    "mid Content-Length body": b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
    "mid chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
    "before the last chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n",
    "mid trailers": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: 1\r\n",
}


@pytest.mark.parametrize("case", list(CUT))
async def test_cut_answer_is_an_early_end_not_malformed(case: str) -> None:
    async with (
        RawServer(script=[CUT[case]], hang_up=True) as server,
        lean(server.url) as http,
    ):
        with pytest.raises(httpx.RemoteProtocolError) as info:
            await http.get("/", timeout=10)
    assert not isinstance(info.value, MalformedResponse)


async def test_head_answer_has_no_body_and_keeps_the_connection() -> None:
    script = [b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", answer(b"after")]
    async with RawServer(script=script) as server, lean(server.url) as http:
        head = await http.head("/", timeout=10)
        assert (head.status_code, head.content) == (200, b"")
        assert head.headers["content-length"] == "1000"
        assert (await http.get("/", timeout=10)).content == b"after"
    assert server.connections == 1
    assert server.requests[0].startswith(b"HEAD / HTTP/1.1\r\n")


async def test_malformed_answers_are_permanent_and_cut_ones_resumable(tmp_path: Path) -> None:
    data = bytes(range(256)) * 4
    dest = tmp_path / "f.part"
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    # Head of a login answer with a bare CR: the JSON path.
    async with (
        RawServer(script=[b"HTTP/1.1 200 OK\r\nX-A: \r\r\nContent-Length: 2\r\n\r\n{}"]) as server,
        ApiClient(server.url) as client,
    ):
        with pytest.raises(ProtocolError) as login_info:
            await client.login("demo", "demo")
    assert login_info.value.code == "malformed_response"
    assert not is_transient(login_info.value)
    # Broken chunk framing after 100 body bytes: the download path.
    broken = chunked + b"64\r\n" + data[:100] + b"\r\nzz\r\n"
    async with (
        RawServer(script=[broken]) as server,
        ApiClient(server.url, token="t") as client,
    ):
        with pytest.raises(ProtocolError) as info:
            await client.download_to(
                "f", 1, dest, expected_size=len(data), expected_sha256=sha(data)
            )
    assert info.value.code == "malformed_response"
    assert not is_transient(info.value)
    # The same 100 bytes, then the connection ends: resumable.
    dest.unlink()
    cut = chunked + b"64\r\n" + data[:100] + b"\r\n"
    async with (
        RawServer(script=[cut], hang_up=True) as server,
        ApiClient(server.url, token="t") as client,
    ):
        with pytest.raises(IncompleteBody) as cut_info:
            await client.download_to(
                "f", 1, dest, expected_size=len(data), expected_sha256=sha(data)
            )
    assert cut_info.value.received == 100
    assert is_transient(cut_info.value)
    assert dest.read_bytes() == data[:100]


# -- (c) keep-alive expiry --------------------------------------------------------------


async def test_idle_connection_past_keepalive_expiry_is_not_reused() -> None:
    # Connection 0 answers once, then its flow is "dropped" the way a NAT box
    # forgets an idle one: no FIN, no RST, no answer, ever. Later connections answer.
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, i: int) -> None:
        while True:
            await read_request(reader)
            if i == 0 and server.requests:
                await asyncio.sleep(3600)
            server.requests.append(b"answered")
            writer.write(answer(b"ok"))
            await writer.drain()

    async with RawServer(handler) as server, lean(server.url, keepalive_expiry=0.2) as http:
        assert (await http.get("/", timeout=10)).content == b"ok"
        await asyncio.sleep(0.5)  # idle for longer than the expiry
        # Reused, this would wait for the whole read timeout.
        assert (await http.get("/", timeout=10)).content == b"ok"
    assert server.connections == 2


# -- (d) one origin ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "other",
    [
        "http://127.0.0.1:{elsewhere}",  # another port
        "http://localhost:{port}",  # another host name, same address
        "https://127.0.0.1:{port}",  # another scheme
        "http://127.0.0.2:{port}",  # another address
    ],
)
async def test_request_for_another_origin_is_refused_before_sending(other: str) -> None:
    async with (
        RawServer(script=[answer(b"base")]) as base,
        RawServer(script=[answer(b"elsewhere")]) as elsewhere,
        lean(base.url) as http,
    ):
        url = other.format(port=base.port, elsewhere=elsewhere.port) + "/steal"
        with pytest.raises(CrossOriginRequest):
            await http.get(url, headers={"Authorization": "Bearer secret"}, timeout=10)
        # The transport still serves its own origin (the same URL, spelt out).
        response = await http.get(f"http://127.0.0.1:{base.port}/own", timeout=10)
        assert response.content == b"base"
    assert base.connections == 1
    assert [r.split(b" ")[1] for r in base.requests] == [b"/own"]
    assert elsewhere.connections == 0


def test_refusals_before_sending_are_permanent() -> None:
    url = httpx.URL("http://127.0.0.1:9")
    for exc in (CrossOriginRequest("x"), httpx.LocalProtocolError("illegal header")):
        mapped = network_error(exc, url)
        assert isinstance(mapped, ProtocolError)
        assert not is_transient(mapped)


@pytest.mark.parametrize(
    "headers",
    [{"X-A": "a\r\nX-Injected: 1"}, {"X-A": "a\nb"}, {"X-A": "a\x00"}, {"Bad Name": "1"}],
)
async def test_header_injection_is_refused_before_sending(headers: dict[str, str]) -> None:
    async with RawServer(script=[answer(b"x")]) as server, lean(server.url) as http:
        with pytest.raises(httpx.LocalProtocolError):
            await http.get("/", headers=headers, timeout=10)
    assert server.connections == 0


async def test_requests_cancelled_while_connecting_leak_no_socket(
    fresh_server: ServerHandle,
) -> None:
    """Pausing or cancelling a task cancels requests that may be mid-connect; Python
    3.11's happy-eyeballs connect leaked its sockets then (seen by the suite's
    warnings-as-errors as unclosed sockets)."""
    leaks: list[object] = []
    hook, sys.unraisablehook = sys.unraisablehook, leaks.append
    try:
        async with ApiClient(fresh_server.base_url, max_connections=4) as client:
            await client.login("demo", "demo")

            async def keep_listing() -> None:
                while True:
                    await client.children_page("prj-1", "root")

            for round_ in range(100):
                tasks = [asyncio.create_task(keep_listing()) for _ in range(8)]
                await asyncio.sleep((round_ % 10) / 1000)
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            await client.logout()
        gc.collect()
        await asyncio.sleep(0.1)  # connects left to finish are closed as they do
        gc.collect()
    finally:
        sys.unraisablehook = hook
    assert leaks == []


@pytest.mark.parametrize(
    "url",
    [
        "https://user:s3cret-pw@wp.example.com",
        "https://user@wp.example.com",
        "http://:s3cret-pw@127.0.0.1:8080/prefix",
    ],
)
def test_client_refuses_credentials_in_the_base_url_without_echoing_them(url: str) -> None:
    with pytest.raises(ValueError, match="user name or password") as caught:
        ApiClient(url)
    assert "s3cret-pw" not in str(caught.value)
    assert "user:" not in str(caught.value).replace("https://user:password@host", "")
