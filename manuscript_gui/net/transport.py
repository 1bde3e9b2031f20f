"""A lean HTTP/1.1 transport for httpx on asyncio streams, for one origin.

httpcore + h11 + anyio cost ~1.5 ms of Python per small request and hop every
body chunk through several layers. :class:`LeanTransport` keeps only what the
client needs (one origin, a small keep-alive pool, 1 MiB body pieces) on plain
``asyncio`` streams, and raises the same httpx exceptions httpcore would, so
``_http.network_error`` maps failures the same way. Every answer is still
checked by :class:`~manuscript_gui.net.client.ApiClient`.

Everything the server sends is read by **h11** (httpcore's parser): the
status line and header block (RFC 9112: bare-LF line ends and obs-fold are
accepted; a bare CR or NUL in a value, a status outside 100-999, conflicting
``Content-Length`` or any ``Transfer-Encoding`` other than exactly
``chunked`` are not), interim 1xx answers, keep-alive, and chunked bodies.
Bodies framed by ``Content-Length`` or by the connection's end are byte
counts on the stream, read in pieces of up to 1 MiB without h11's copies.
The request head is written here (validated: tokens, no CR/LF/NUL in a
value); h11 is told the method and whether the request asked to close,
which is all of the request it needs to frame the answer.

Failures, as httpx exception types:

- :class:`MalformedResponse` (an :class:`httpx.RemoteProtocolError`): the
  server's bytes are not HTTP/1.1 as h11 frames it. The same server answers
  the same way next time, so ``_http.network_error`` makes it a permanent
  ``ProtocolError("malformed_response")``. (With ``MANUSCRIPT_LEAN_HTTP=0``
  httpcore raises a plain ``RemoteProtocolError`` for the same bytes, which
  stays a transient network error.)
- a plain :class:`httpx.RemoteProtocolError`: the connection ended early
  (before the answer, mid-head, mid-body): transient, and a body cut short is
  resumed by the client.
- :class:`CrossOriginRequest` (an :class:`httpx.LocalProtocolError`): a
  request for another scheme, host or port than the transport's origin is
  refused before anything is sent (it would carry the origin's bearer token).
- ``Connect*``/``Read*``/``Write*``/``PoolTimeout`` and ``ConnectError``,
  ``ReadError``, ``WriteError`` as httpcore raises them.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
import ssl
import urllib.request
from collections.abc import AsyncIterator, Iterator
from typing import Final

import h11
import httpx

__all__ = [
    "KEEPALIVE_EXPIRY",
    "CrossOriginRequest",
    "LeanTransport",
    "MalformedResponse",
    "connect_host",
    "lean_applies",
]

#: Most bytes handed up per body piece (whatever is buffered, up to this).
READ_PIECE: Final = 1024 * 1024
#: The StreamReader's buffer limit (it pauses the socket at twice this).
STREAM_LIMIT: Final = 1024 * 1024
#: A response head (or a chunk-size line, or a trailer block) beyond this is refused.
MAX_HEAD: Final = 64 * 1024
#: Seconds an idle pooled connection may wait for its next request; an older
#: one is closed instead of reused. A NAT box or firewall that forgets a quiet
#: flow drops it *silently* (no FIN, no RST): the stray-byte check cannot see
#: that, and the next request would hang for a whole read timeout (60 s) per
#: worker. 5 s is httpx/httpcore's default, so the fallback transport behaves
#: the same; it is also Apache's and Node's idle timeout, so reusing an older
#: connection races the server's own close. The engine's workers reuse their
#: connection within milliseconds while a task runs; only a pause costs a new
#: handshake.
KEEPALIVE_EXPIRY: Final = 5.0

_IDEMPOTENT: Final = frozenset({"GET", "HEAD"})
_DEFAULT_PORT: Final = {"http": 80, "https": 443}
#: One DNS label as the transport accepts it (RFC 1035 length, LDH plus "_",
#: which internal names use; IP literals pass too).
_LABEL_RE = re.compile(r"[A-Za-z0-9_-]{1,63}")
_TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_BTOKEN_RE = re.compile(_TOKEN_RE.pattern.encode("ascii"))
_TARGET_RE = re.compile(rb"[\x21-\x7e]+")
_BAD_VALUE_RE = re.compile(rb"[\x00\r\n]")


class MalformedResponse(httpx.RemoteProtocolError):
    """The server sent bytes that are not a valid HTTP/1.1 response (h11 refused them).

    Raised for the status line, the header block (including framing headers:
    conflicting ``Content-Length``, a ``Transfer-Encoding`` other than
    ``chunked``), interim answers and chunked framing, never for an early end
    of the connection. Deterministic: the same server frames the next answer
    the same way.
    """


class CrossOriginRequest(httpx.LocalProtocolError):
    """A request for another origin than the transport's; nothing was sent."""


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


def connect_host(url: httpx.URL) -> str:
    """The host of ``url`` in the one form used to connect, for SNI, the certificate and Host.

    That is ``url.raw_host``: the IDNA 2008 A-label form httpx writes in the
    ``Host`` header (``faß.example`` → ``xn--fa-hia.example``). ``url.host``
    is the Unicode form, which the resolver and the ``ssl`` module would
    encode with Python's IDNA 2003 codec (``fass.example``): another name.
    IP literals come back as they are (IPv6 without brackets).

    Raises:
        ValueError: the host is empty or not a name DNS can carry: a label
            empty or over 63 octets, the name over 253, a character other
            than letters, digits, ``-`` and ``_``, or an ``xn--`` label that
            is no valid IDNA A-label.
    """
    try:
        # url.host decodes "xn--" labels: one that is no valid A-label raises IDNAError.
        host = url.raw_host.decode("ascii") if url.host else ""
    except UnicodeError:  # IDNAError is one
        host = ""
    if ":" in host:
        return host  # an IPv6 literal; httpx has parsed it as one
    name = host.removesuffix(".")
    if not name or len(name) > 253 or not all(map(_LABEL_RE.fullmatch, name.split("."))):
        raise ValueError(
            f"{url.raw_host[:300]!r} is not a valid host name "
            "(labels of 1-63 letters, digits, '-' or '_'; 253 characters at most)"
        )
    return host


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
    except OSError as exc:
        raise httpx.ReadError(str(exc) or type(exc).__name__) from exc


async def _read(reader: asyncio.StreamReader, limit: float | None, size: int = READ_PIECE) -> bytes:
    """Up to ``size`` bytes (``b""`` at EOF), waiting at most ``limit`` seconds."""
    if getattr(reader, "_buffer", None) or reader.at_eof():
        with _map_read():  # no wait, so no timer (a timer costs more than this read)
            return await reader.read(size)
    with _map_read():
        async with asyncio.timeout(limit):
            return await reader.read(size)


def _refused(exc: h11.RemoteProtocolError, h11conn: h11.Connection, where: str) -> Exception:
    """An h11 error as httpx's: malformed bytes, or the connection ending early."""
    if h11conn.trailing_data[1]:
        # h11 was told about EOF: the answer was cut off, not malformed.
        return httpx.RemoteProtocolError(f"the server closed the connection mid-{where} ({exc})")
    return MalformedResponse(f"{exc} (in the {where})")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _close_opened(
    opening: asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]],
) -> None:
    """Close a connection that finished opening after its request was cancelled."""
    if not opening.cancelled() and opening.exception() is None:
        opening.result()[1].transport.abort()


class _Conn:
    __slots__ = ("idle_since", "reader", "reused", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.reused = False
        self.idle_since = 0.0

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
            Requests for any other origin raise :class:`CrossOriginRequest`.
        ssl_context: the TLS context for ``https`` (``None``: default
            verification; ignored for ``http``).
        verify: ``False`` disables certificate checks when no context is given.
        max_connections: connections open at once (requests beyond wait).
        keepalive_expiry: seconds an idle connection stays reusable
            (:data:`KEEPALIVE_EXPIRY`); ``None`` keeps it forever.

    Raises:
        ValueError: not an http(s) URL, a host that is not a valid DNS name
            (see :func:`connect_host`), or a bad limit.
    """

    def __init__(
        self,
        url: httpx.URL | str,
        *,
        ssl_context: ssl.SSLContext | None = None,
        verify: bool = True,
        max_connections: int = 1,
        keepalive_expiry: float | None = KEEPALIVE_EXPIRY,
    ) -> None:
        try:
            origin = httpx.URL(url)
        except httpx.InvalidURL as exc:
            raise ValueError(f"LeanTransport needs an http(s) origin, got {url!r}: {exc}") from exc
        if origin.scheme not in _DEFAULT_PORT or not origin.raw_host:
            raise ValueError(f"LeanTransport needs an http(s) origin, got {url!r}")
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        if keepalive_expiry is not None and not keepalive_expiry >= 0:
            raise ValueError("keepalive_expiry must be >= 0 seconds or None")
        self._scheme = origin.scheme
        self._raw_host = origin.raw_host
        self._host = connect_host(origin)
        self._ip_literal = _is_ip(self._host)
        self._port = origin.port or _DEFAULT_PORT[origin.scheme]
        self._ssl: ssl.SSLContext | None = None
        if origin.scheme == "https":
            if ssl_context is None:
                ssl_context = ssl.create_default_context()
                if not verify:
                    ssl_context.check_hostname = False
                    ssl_context.verify_mode = ssl.CERT_NONE
            self._ssl = ssl_context
        self._expiry = keepalive_expiry
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[_Conn] = []
        self._active: set[_Conn] = set()
        self._closed = False
        self._h11_requests: dict[tuple[str, bool], h11.Request] = {}

    # -- pool ------------------------------------------------------------------

    async def _connect(self, request: httpx.Request) -> _Conn:
        limit = _timeout(request, "connect")
        opening = asyncio.ensure_future(self._open(limit))
        try:
            # Shielded: a cancelled request (pause, cancel, a listing stopped) must
            # not cancel the connect itself. Python 3.11's happy-eyeballs race
            # leaks the sockets of a connect cancelled half-way; left to finish
            # (bounded by the connect timeout), what it opens is closed here.
            reader, writer = await asyncio.shield(opening)
        except asyncio.CancelledError:
            opening.add_done_callback(_close_opened)
            raise
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(
                f"connecting to {self._host}:{self._port} timed out"
            ) from exc
        except OSError as exc:  # ssl.SSLError included
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        return _Conn(reader, writer)

    async def _open(self, limit: float | None) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        async with asyncio.timeout(limit):
            return await asyncio.open_connection(
                self._host,
                self._port,
                ssl=self._ssl,
                server_hostname=self._host if self._ssl is not None else None,
                limit=STREAM_LIMIT,
                # Like anyio (httpcore): a dead IPv6 route must not eat the whole
                # connect timeout before IPv4 is tried. An IP literal has one
                # address: no race to run.
                happy_eyeballs_delay=None if self._ip_literal else 0.25,
            )

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
            idle = self._idle
            if idle and self._expiry is not None:
                # Oldest first (released in order): close those idle too long.
                now = asyncio.get_running_loop().time()
                while idle and now - idle[0].idle_since > self._expiry:
                    await idle.pop(0).aclose()
            while idle:
                conn = idle.pop()
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
                conn.idle_since = asyncio.get_running_loop().time()
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

    def _check_origin(self, url: httpx.URL) -> None:
        port = url.port or _DEFAULT_PORT.get(url.scheme)
        if url.scheme != self._scheme or url.raw_host != self._raw_host or port != self._port:
            raise CrossOriginRequest(
                f"refused a request for {url.scheme}://{url.netloc.decode('ascii', 'replace')} "
                f"on a transport for {self._scheme}://{self._host}:{self._port}; nothing was sent"
            )

    def _h11_for(self, method: str, close: bool) -> h11.Connection:
        """A fresh h11 client connection that has "sent" this request (head written by us).

        h11 then reads the answer knowing what it needs of the request: the
        method (an answer to HEAD has no body) and whether it asked to close.
        """
        key = (method, close)
        event = self._h11_requests.get(key)
        if event is None:
            headers = [(b"Host", self._raw_host)]
            if close:
                headers.append((b"Connection", b"close"))
            event = self._h11_requests[key] = h11.Request(
                method=method, target=b"/", headers=headers
            )
        h11conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
        h11conn.send(event)
        h11conn.send(h11.EndOfMessage())
        return h11conn

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._check_origin(request.url)
        method = request.method.upper()
        body = await request.aread()
        head, close = _encode(request, method, body)
        h11conn = self._h11_for(method, close)
        conn = await self._acquire(request)
        read_limit = _timeout(request, "read")
        try:
            try:
                first = await _exchange(conn, request, head, body, read_limit)
            except (httpx.WriteError, httpx.ReadError, _Disconnected):
                if not (conn.reused and method in _IDEMPOTENT):
                    raise
                # The server closed the pooled connection meanwhile: once more, fresh.
                self._active.discard(conn)
                await conn.aclose()
                conn = await self._connect(request)
                self._active.add(conn)
                first = await _exchange(conn, request, head, body, read_limit)
            event, rest = await _read_head(conn.reader, h11conn, first, read_limit)
            headers = event.headers.raw_items()
            stream = _open_body(self, conn, h11conn, request, method, event, headers, rest)
        except BaseException:
            self._discard(conn)
            raise
        return httpx.Response(
            event.status_code,
            headers=headers,
            stream=stream,
            extensions={
                "http_version": b"HTTP/" + event.http_version,
                "reason_phrase": event.reason,
            },
            request=request,
        )

    async def aclose(self) -> None:
        self._closed = True
        conns = self._idle + list(self._active)
        self._idle.clear()
        for conn in conns:
            await conn.aclose()


def _encode(request: httpx.Request, method: str, body: bytes) -> tuple[bytes, bool]:
    """The request head, and whether it asks to close the connection afterwards.

    Written here rather than by h11's writer, which costs ~20 µs (a tenth of
    a small request): the method and every header name must be tokens, no
    value may hold CR, LF or NUL (no header injection), the target must be
    visible ASCII, and the body is framed by a Content-Length computed from
    the bytes actually sent (the request's own framing headers are dropped).

    Raises:
        httpx.LocalProtocolError: an illegal method, target or header.
    """
    target = request.url.raw_path or b"/"
    if not _TOKEN_RE.fullmatch(method) or not _TARGET_RE.fullmatch(target):
        raise httpx.LocalProtocolError(f"illegal request line {method!r} {target[:100]!r}")
    parts = [method.encode("ascii"), b" ", target, b" HTTP/1.1\r\n"]
    has_host = close = False
    for name, value in request.headers.raw:
        lname = name.lower()
        if lname in (b"content-length", b"transfer-encoding"):
            continue  # framed below from the bytes actually sent
        if not _BTOKEN_RE.fullmatch(name) or _BAD_VALUE_RE.search(value):
            raise httpx.LocalProtocolError(f"illegal header {name!r}")
        if lname == b"host":
            has_host = True
        elif lname == b"connection":
            close = close or b"close" in [t.strip().lower() for t in value.split(b",")]
        parts += [name, b": ", value, b"\r\n"]
    if not has_host:
        parts += [b"Host: ", request.url.netloc, b"\r\n"]
    if body or method in ("POST", "PUT", "PATCH"):
        parts += [b"Content-Length: ", str(len(body)).encode("ascii"), b"\r\n"]
    parts.append(b"\r\n")
    return b"".join(parts), close


class _Disconnected(httpx.RemoteProtocolError):
    """The connection ended before the first byte of the answer (a keep-alive race)."""


async def _exchange(
    conn: _Conn, request: httpx.Request, head: bytes, body: bytes, limit: float | None
) -> bytes:
    """Send the request; the first bytes of the answer (at least one)."""
    await _send(conn, request, head, body)
    first = await _read(conn.reader, limit)
    if not first:
        raise _Disconnected("Server disconnected without sending a response.")
    return first


async def _send(conn: _Conn, request: httpx.Request, head: bytes, body: bytes) -> None:
    writer = conn.writer
    try:
        if len(body) < 65536:
            writer.write(head + body)
        else:
            writer.write(head)
            writer.write(body)
        if writer.transport.get_write_buffer_size():
            # Not all sent at once: wait for the socket (bounded by the write timeout).
            async with asyncio.timeout(_timeout(request, "write")):
                await writer.drain()
        else:
            await writer.drain()  # does not wait; raises if the connection is lost
    except TimeoutError as exc:
        raise httpx.WriteTimeout("timed out sending the request") from exc
    except OSError as exc:
        raise httpx.WriteError(str(exc) or type(exc).__name__) from exc


async def _read_head(
    reader: asyncio.StreamReader, h11conn: h11.Connection, data: bytes, limit: float | None
) -> tuple[h11.Response, bytes]:
    """The final answer's head (interim 1xx answers skipped) and the bytes after it."""
    h11conn.receive_data(data)
    fed = len(data)
    while True:
        try:
            event = h11conn.next_event()
        except h11.RemoteProtocolError as exc:
            raise _refused(exc, h11conn, "response head") from exc
        if event is h11.NEED_DATA:
            data = await _read(reader, limit)
            fed += len(data)
            h11conn.receive_data(data)
        elif type(event) is h11.Response:
            break
        elif type(event) is not h11.InformationalResponse:
            raise httpx.RemoteProtocolError(f"unexpected {event!r} in the response head")
        # else an interim answer (100 Continue, 103 Early Hints): the final one follows.
        # (h11 refuses a 101 nobody asked for: the server may not switch protocols.)
    if not event.http_version.startswith(b"1."):
        raise MalformedResponse(f"HTTP/{event.http_version!r} in an HTTP/1.1 status line")
    rest = h11conn.trailing_data[0]
    if fed - len(rest) > MAX_HEAD:
        # h11 bounds only an *incomplete* head; one that arrived whole is held to it too.
        raise MalformedResponse(f"the response head is over {MAX_HEAD} bytes")
    return event, rest


def _open_body(
    transport: LeanTransport,
    conn: _Conn,
    h11conn: h11.Connection,
    request: httpx.Request,
    method: str,
    event: h11.Response,
    headers: list[tuple[bytes, bytes]],
    rest: bytes,
) -> _Body:
    """The body stream, framed as RFC 9112 §6.3 says and h11 has checked.

    ``rest`` is what arrived after the head. The connection is reused only
    when h11 says keep-alive (HTTP/1.1, no ``Connection: close`` either way),
    the body has its own framing, nothing follows it, and the answer did not
    carry both framings at once.
    """
    # MUST_CLOSE instead of DONE: one side said "Connection: close", or HTTP/1.0.
    keep = h11conn.our_state is h11.DONE
    chunked = False
    length: int | None = None
    for name, value in headers:
        lname = name.lower()
        if lname == b"transfer-encoding":
            chunked = True  # h11 refused anything but exactly "chunked"
        elif lname == b"content-length":
            length = int(value)  # h11 checked the digits and merged equal duplicates
    if method == "HEAD" or event.status_code in (204, 304):
        return _Body(transport, conn, None, request, 0, keep and not rest, b"")
    if chunked:
        # Both framings: chunked wins (RFC 9112 §6.3), and the connection is not reused.
        return _Body(transport, conn, h11conn, request, None, keep and length is None, b"")
    if length is None:
        return _Body(transport, conn, None, request, None, False, rest)
    if len(rest) > length:
        keep = False  # bytes past the body: stray, never handed up
        rest = rest[:length]
    return _Body(transport, conn, None, request, length, keep, rest)


class _Body(httpx.AsyncByteStream):
    """One response body; hands the connection back when done or closed.

    Framing: ``h11conn`` set → chunked, decoded by h11; else ``length`` bytes,
    or (``length`` ``None``) everything up to the connection's end. ``pending``
    holds body bytes that arrived together with the head.
    """

    def __init__(
        self,
        transport: LeanTransport,
        conn: _Conn,
        h11conn: h11.Connection | None,
        request: httpx.Request,
        length: int | None,
        keep: bool,
        pending: bytes,
    ) -> None:
        self._transport = transport
        self._conn: _Conn | None = conn
        self._reader = conn.reader
        self._h11 = h11conn
        self._remaining = length
        self._expected = length
        self._received = 0
        self._keep = keep
        self._pending = pending
        self._timeout = _timeout(request, "read")
        self._done = h11conn is None and length == 0

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        if self._done:
            await self._finish(complete=True)
            raise StopAsyncIteration
        try:
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
        if self._h11 is not None:
            return await self._next_chunked(self._h11)
        remaining = self._remaining
        if self._pending:
            piece, self._pending = self._pending, b""
        elif remaining is None:
            piece = await _read(self._reader, self._timeout)
            if not piece:
                self._done = True  # close-delimited: the end of the connection ends it
            return piece
        else:
            piece = await _read(self._reader, self._timeout, min(remaining, READ_PIECE))
            if not piece:
                raise httpx.RemoteProtocolError(
                    "peer closed connection without sending complete message body "
                    f"(received {self._received} bytes, expected {self._expected})"
                )
        if remaining is not None:
            self._remaining = remaining = remaining - len(piece)
            self._done = not remaining
        return piece

    async def _next_chunked(self, h11conn: h11.Connection) -> bytes:
        """The data of every chunk h11 can decode from what arrived, at least one byte."""
        pieces: list[bytes | bytearray] = []
        size = 0
        while True:
            try:
                event = h11conn.next_event()
            except h11.RemoteProtocolError as exc:
                raise _refused(exc, h11conn, "chunked body") from exc
            if type(event) is h11.Data:
                pieces.append(event.data)
                size += len(event.data)
                if size >= READ_PIECE:
                    break
            elif event is h11.NEED_DATA:
                if pieces:
                    break
                h11conn.receive_data(await _read(self._reader, self._timeout))
            elif type(event) is h11.EndOfMessage:  # trailers, if any, are dropped
                self._done = True
                if h11conn.trailing_data[0]:
                    self._keep = False  # bytes after the last chunk: stray
                break
            else:
                raise httpx.RemoteProtocolError(f"unexpected {event!r} in the chunked body")
        return b"".join(pieces)

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
