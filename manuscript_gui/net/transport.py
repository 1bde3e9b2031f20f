"""A lean HTTP/1.1 transport for httpx on asyncio streams, for one origin.

httpcore + h11 + anyio cost ~1.5 ms of Python per small request and hop every
body chunk through several layers. :class:`LeanTransport` speaks just the
HTTP/1.1 the client needs (one origin, keep-alive, Content-Length / chunked /
close-delimited bodies) straight on ``asyncio`` streams, and raises the same
httpx exceptions httpcore would, so ``_http.network_error`` maps failures the
same way. Every answer is still checked by :class:`~manuscript_gui.net.client.ApiClient`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import ssl
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import Final

import httpx

__all__ = ["LeanTransport", "lean_applies"]

#: Most bytes handed up per body piece (whatever is buffered, up to this).
READ_PIECE: Final = 1024 * 1024
#: The StreamReader's buffer limit (it pauses the socket at twice this).
STREAM_LIMIT: Final = 1024 * 1024
#: A response head beyond this is refused.
MAX_HEAD: Final = 64 * 1024
#: A chunk-size line or trailer line beyond this is refused.
MAX_LINE: Final = 8 * 1024

_STATUS_RE = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: ([^\r\n]*))?")
_TOKEN_RE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BAD_VALUE_RE = re.compile(rb"[\x00\r\n]")
_HEX_RE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_IDEMPOTENT: Final = frozenset({"GET", "HEAD"})
_NO_BODY_STATUS: Final = frozenset({204, 304})


def lean_applies(scheme: str, host: str, *, loopback: bool) -> bool:
    """Whether httpx would talk straight to the origin (no proxy from the environment).

    Conservative: any proxy configured for the scheme (or ``all``) keeps
    httpx's own transport, whatever ``no_proxy`` says, unless the host is
    loopback (the client never proxies loopback).
    """
    if loopback:
        return True
    proxies = urllib.request.getproxies()
    return not (proxies.get(scheme) or proxies.get("all"))


def _timeout(request: httpx.Request, key: str) -> float | None:
    timeouts = request.extensions.get("timeout")
    if not isinstance(timeouts, dict):
        return None
    value = timeouts.get(key)
    return float(value) if isinstance(value, int | float) else None


@contextlib.contextmanager
def _map_read() -> Iterator[None]:
    try:
        yield
    except TimeoutError as exc:
        raise httpx.ReadTimeout("timed out reading from the server") from exc
    except asyncio.LimitOverrunError as exc:
        raise httpx.RemoteProtocolError("the server sent an overlong line") from exc
    except OSError as exc:
        raise httpx.ReadError(str(exc) or type(exc).__name__) from exc


class _Conn:
    __slots__ = ("reader", "reused", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.reused = False

    def usable(self) -> bool:
        # An idle connection the server closed (or sent stray bytes on) is not reused.
        stray = getattr(self.reader, "_buffer", b"")
        return not (self.writer.transport.is_closing() or self.reader.at_eof() or stray)

    def abort(self) -> None:
        self.writer.transport.abort()

    async def aclose(self) -> None:
        """Drop the connection now (no TLS close_notify wait) and let asyncio finish it."""
        self.abort()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


class LeanTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 to one origin with a small keep-alive pool.

    Args:
        url: the origin (scheme, host, port are used; the path is ignored).
        ssl_context: the TLS context for ``https`` (``None``: default
            verification; ignored for ``http``).
        verify: ``False`` disables certificate checks when no context is given.
        max_connections: connections open at once (requests beyond wait).
    """

    def __init__(
        self,
        url: httpx.URL | str,
        *,
        ssl_context: ssl.SSLContext | None = None,
        verify: bool = True,
        max_connections: int = 1,
    ) -> None:
        origin = httpx.URL(url)
        if origin.scheme not in ("http", "https") or not origin.host:
            raise ValueError(f"LeanTransport needs an http(s) origin, got {url!r}")
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        self._scheme = origin.scheme
        self._host = origin.host
        self._port = origin.port or (443 if origin.scheme == "https" else 80)
        self._ssl: ssl.SSLContext | None = None
        if origin.scheme == "https":
            if ssl_context is None:
                ssl_context = ssl.create_default_context()
                if not verify:
                    ssl_context.check_hostname = False
                    ssl_context.verify_mode = ssl.CERT_NONE
            self._ssl = ssl_context
        self._max = max_connections
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[_Conn] = []
        self._active: set[_Conn] = set()
        self._closed = False

    # -- pool ------------------------------------------------------------------

    async def _connect(self, request: httpx.Request) -> _Conn:
        limit = _timeout(request, "connect")
        try:
            async with asyncio.timeout(limit):
                reader, writer = await asyncio.open_connection(
                    self._host,
                    self._port,
                    ssl=self._ssl,
                    server_hostname=self._host if self._ssl is not None else None,
                    limit=STREAM_LIMIT,
                    # Like anyio (httpcore): a dead IPv6 route must not eat the
                    # whole connect timeout before IPv4 is tried.
                    happy_eyeballs_delay=0.25,
                )
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(
                f"connecting to {self._host}:{self._port} timed out"
            ) from exc
        except OSError as exc:  # ssl.SSLError included
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        return _Conn(reader, writer)

    async def _acquire(self, request: httpx.Request) -> _Conn:
        if self._closed:
            raise RuntimeError("the transport is closed")
        limit = _timeout(request, "pool")
        if self._slots.locked() or limit is not None:
            try:
                async with asyncio.timeout(limit):
                    await self._slots.acquire()
            except TimeoutError as exc:
                raise httpx.PoolTimeout("timed out waiting for a free connection") from exc
        else:
            await self._slots.acquire()
        try:
            while self._idle:
                conn = self._idle.pop()
                if conn.usable():
                    conn.reused = True
                    self._active.add(conn)
                    return conn
                await conn.aclose()
            conn = await self._connect(request)
        except BaseException:
            self._slots.release()
            raise
        self._active.add(conn)
        return conn

    async def _release(self, conn: _Conn, *, keep: bool) -> None:
        """Give a connection back (``keep``) or close it; frees its slot either way."""
        self._active.discard(conn)
        try:
            if keep and not self._closed and conn.usable():
                self._idle.append(conn)
            else:
                await conn.aclose()
        finally:
            self._slots.release()

    def _discard(self, conn: _Conn) -> None:
        """Synchronous close for paths that cannot await (cancellation)."""
        self._active.discard(conn)
        conn.abort()
        self._slots.release()

    # -- request ---------------------------------------------------------------

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        method = request.method.upper()
        head, body = await self._encode(request, method)
        conn = await self._acquire(request)
        try:
            try:
                await self._send(conn, request, head, body)
                first = await self._first_byte(conn, request)
            except (httpx.WriteError, httpx.ReadError, httpx.RemoteProtocolError):
                if not (conn.reused and method in _IDEMPOTENT):
                    raise
                # The server closed the pooled connection meanwhile: once more, fresh.
                self._active.discard(conn)
                await conn.aclose()
                conn = await self._connect(request)
                self._active.add(conn)
                await self._send(conn, request, head, body)
                first = await self._first_byte(conn, request)
            status, version, reason, headers = await self._read_head(conn, request, first)
            stream = self._body_stream(conn, request, method, status, version, headers)
        except BaseException:
            self._discard(conn)
            raise
        return httpx.Response(
            status,
            headers=headers,
            stream=stream,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason},
            request=request,
        )

    async def _encode(self, request: httpx.Request, method: str) -> tuple[bytes, bytes]:
        body = await request.aread()
        target = request.url.raw_path or b"/"
        parts = [method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
        has_host = False
        for name, value in request.headers.raw:
            lname = name.lower()
            if lname in (b"content-length", b"transfer-encoding"):
                continue  # framed below from the bytes actually sent
            if not _TOKEN_RE.fullmatch(name) or _BAD_VALUE_RE.search(value):
                raise httpx.LocalProtocolError(f"illegal header {name!r}")
            has_host = has_host or lname == b"host"
            parts += [name, b": ", value, b"\r\n"]
        if not has_host:
            parts += [b"Host: ", request.url.netloc, b"\r\n"]
        if body or method in ("POST", "PUT", "PATCH"):
            parts += [b"Content-Length: ", str(len(body)).encode("ascii"), b"\r\n"]
        parts.append(b"\r\n")
        return b"".join(parts), body

    async def _send(self, conn: _Conn, request: httpx.Request, head: bytes, body: bytes) -> None:
        writer = conn.writer
        try:
            async with asyncio.timeout(_timeout(request, "write")):
                writer.write(head + body if len(body) < 65536 else head)
                if len(body) >= 65536:
                    writer.write(body)
                await writer.drain()
        except TimeoutError as exc:
            raise httpx.WriteTimeout("timed out sending the request") from exc
        except OSError as exc:
            raise httpx.WriteError(str(exc) or type(exc).__name__) from exc

    async def _first_byte(self, conn: _Conn, request: httpx.Request) -> bytes:
        with _map_read():
            async with asyncio.timeout(_timeout(request, "read")):
                first = await conn.reader.read(1)
        if not first:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return first

    async def _read_head(
        self, conn: _Conn, request: httpx.Request, first: bytes
    ) -> tuple[int, int, bytes, list[tuple[bytes, bytes]]]:
        reader = conn.reader
        limit = _timeout(request, "read")
        while True:
            try:
                with _map_read():
                    async with asyncio.timeout(limit):
                        if not first:
                            first = await reader.read(1)
                            if not first:
                                raise httpx.RemoteProtocolError(
                                    "Server disconnected without sending a response."
                                )
                        raw = first + await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError as exc:
                raise httpx.RemoteProtocolError(
                    "Server disconnected without sending a complete response head."
                ) from exc
            first = b""
            if len(raw) > MAX_HEAD:
                raise httpx.RemoteProtocolError("the response head is too large")
            status, version, reason, headers = _parse_head(raw)
            if 100 <= status < 200 and status != 101:
                continue  # an interim answer (100 Continue, 103 Early Hints): skip it
            return status, version, reason, headers

    def _body_stream(
        self,
        conn: _Conn,
        request: httpx.Request,
        method: str,
        status: int,
        version: int,
        headers: list[tuple[bytes, bytes]],
    ) -> _Body:
        keep = version == 1
        te: bytes | None = None
        lengths: list[bytes] = []
        for name, value in headers:
            lname = name.lower()
            if lname == b"connection":
                if b"close" in [t.strip().lower() for t in value.split(b",")]:
                    keep = False
            elif lname == b"transfer-encoding":
                te = value if te is None else te + b"," + value
            elif lname == b"content-length":
                lengths.extend(v.strip() for v in value.split(b","))
        for name, value in request.headers.raw:
            if name.lower() == b"connection" and b"close" in value.lower():
                keep = False
        if status == 101:
            keep = False
        if method == "HEAD" or status in _NO_BODY_STATUS or status < 200:
            return _Body(self, conn, request, "length", 0, keep)
        if te is not None:
            codings = [t.strip().lower() for t in te.split(b",") if t.strip()]
            if lengths:
                keep = False  # both framings: chunked wins, the connection is not reused
            if codings and codings[-1] == b"chunked":
                if len(codings) > 1:
                    raise httpx.RemoteProtocolError(f"unsupported Transfer-Encoding {te!r}")
                return _Body(self, conn, request, "chunked", 0, keep)
            return _Body(self, conn, request, "close", 0, False)
        if lengths:
            if len(set(lengths)) != 1 or not lengths[0].isdigit() or len(lengths[0]) > 19:
                raise httpx.RemoteProtocolError(f"malformed Content-Length {lengths!r}")
            return _Body(self, conn, request, "length", int(lengths[0]), keep)
        return _Body(self, conn, request, "close", 0, False)

    async def aclose(self) -> None:
        self._closed = True
        conns = self._idle + list(self._active)
        self._idle.clear()
        for conn in conns:
            await conn.aclose()


def _parse_head(raw: bytes) -> tuple[int, int, bytes, list[tuple[bytes, bytes]]]:
    lines = raw[:-4].split(b"\r\n")
    match = _STATUS_RE.fullmatch(lines[0])
    if match is None:
        raise httpx.RemoteProtocolError(f"malformed status line {lines[0][:100]!r}")
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or not _TOKEN_RE.fullmatch(name) or b"\n" in value or b"\x00" in value:
            raise httpx.RemoteProtocolError(f"malformed header line {line[:100]!r}")
        headers.append((name, value.strip(b" \t")))
    return int(match[2]), int(match[1]), match[3] or b"", headers


class _Body(httpx.AsyncByteStream):
    """One response body; hands the connection back when done or closed."""

    def __init__(
        self,
        transport: LeanTransport,
        conn: _Conn,
        request: httpx.Request,
        framing: str,
        length: int,
        keep: bool,
    ) -> None:
        self._transport = transport
        self._conn: _Conn | None = conn
        self._reader = conn.reader
        self._framing = framing
        self._remaining = length  # length: bytes left; chunked: bytes left in this chunk
        self._expected = length
        self._received = 0
        self._keep = keep
        self._timeout = _timeout(request, "read")
        self._done = framing == "length" and length == 0

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        if self._done:
            await self._finish(complete=True)
            raise StopAsyncIteration
        try:
            with _map_read():
                async with asyncio.timeout(self._timeout):
                    piece = await self._next_piece()
        except BaseException:
            await self._finish(complete=False)
            raise
        if not piece:
            await self._finish(complete=True)
            raise StopAsyncIteration
        self._received += len(piece)
        return piece

    async def _next_piece(self) -> bytes:
        reader = self._reader
        if self._framing == "length":
            piece = await reader.read(min(self._remaining, READ_PIECE))
            if not piece:
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body "
                    f"(received {self._received} bytes, expected {self._expected})"
                )
            self._remaining -= len(piece)
            if not self._remaining:
                self._done = True
            return piece
        if self._framing == "close":
            piece = await reader.read(READ_PIECE)
            if not piece:
                self._done = True
            return piece
        return await self._next_chunked()

    async def _next_chunked(self) -> bytes:
        reader = self._reader
        try:
            if not self._remaining:
                size = _chunk_size(await reader.readuntil(b"\r\n"))
                if size == 0:
                    while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
                        if len(line) > MAX_LINE:
                            raise httpx.RemoteProtocolError("overlong trailer line")
                    self._done = True
                    return b""
                self._remaining = size
            piece = await reader.read(min(self._remaining, READ_PIECE))
            if not piece:
                raise asyncio.IncompleteReadError(b"", self._remaining)
            self._remaining -= len(piece)
            if not self._remaining and await reader.readexactly(2) != b"\r\n":
                raise httpx.RemoteProtocolError("malformed chunked body (no CRLF after a chunk)")
            return piece
        except asyncio.IncompleteReadError as exc:
            raise httpx.RemoteProtocolError(
                "peer closed connection without sending complete message body "
                f"(incomplete chunked encoding after {self._received} bytes)"
            ) from exc

    async def _finish(self, *, complete: bool) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            await self._transport._release(conn, keep=complete and self._done and self._keep)
        except BaseException:
            conn.abort()
            raise

    async def aclose(self) -> None:
        await self._finish(complete=self._done)


def _chunk_size(line: bytes) -> int:
    if len(line) > MAX_LINE:
        raise httpx.RemoteProtocolError("overlong chunk-size line")
    size = line[:-2].split(b";", 1)[0].strip(b" \t")
    if not _HEX_RE.fullmatch(size):
        raise httpx.RemoteProtocolError(f"malformed chunk size {line[:40]!r}")
    return int(size, 16)
