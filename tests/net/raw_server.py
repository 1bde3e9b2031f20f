"""A raw-socket HTTP server on 127.0.0.1 that sends exactly the bytes a test scripts.

The reference server always frames its answers correctly; this one produces
what real servers and middleboxes also do: bare-LF heads, folded headers,
odd ``Transfer-Encoding``, chunked and close-delimited bodies, interim
answers, bodies cut short, connections that go silent.

Two ways to use :class:`RawServer`:

- a *script*: ``RawServer(script=[reply1, reply2])`` answers the n-th request
  on every connection with ``script[n]`` (raw bytes, sent as they are), then
  keeps the connection open until the client closes it (or closes it itself
  with ``hang_up=True``). Request heads are recorded in ``server.requests``.
- a *handler* ``async (reader, writer, index)``, for anything else; ``index``
  counts connections from 0. :func:`read_request` and :func:`answer` help.

``server.connections`` counts accepted connections, ``server.url`` is the
origin (``https`` when an ``ssl_context`` is given).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType

__all__ = ["Handler", "RawServer", "answer", "header_of", "read_request"]

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One request head (CRLF-framed, as the client sends it); its body is read and dropped."""
    head = await reader.readuntil(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            await reader.readexactly(int(line.split(b":")[1]))
    return head


def answer(body: bytes, *extra: bytes, status: bytes = b"200 OK") -> bytes:
    """A well-formed ``HTTP/1.1`` answer with ``Content-Length`` and the ``extra`` header lines."""
    head = [b"HTTP/1.1 " + status, b"Content-Length: " + str(len(body)).encode(), *extra]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def header_of(request_head: bytes, name: bytes) -> bytes | None:
    """The value of header ``name`` (case-insensitive) in a recorded request head."""
    for line in request_head.split(b"\r\n")[1:]:
        key, sep, value = line.partition(b":")
        if sep and key.strip().lower() == name.lower():
            return value.strip()
    return None


class RawServer:
    """An HTTP-ish server on 127.0.0.1 (a free port); see the module docstring.

    Args:
        handler: ``async (reader, writer, connection_index)``; exclusive with ``script``.
        script: raw replies, one per request on each connection, in order.
        hang_up: close the connection once the script is played.
        ssl_context: serve TLS with this (server-side) context.
    """

    def __init__(
        self,
        handler: Handler | None = None,
        *,
        script: Sequence[bytes] = (),
        hang_up: bool = False,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if (handler is None) == (not script):
            raise ValueError("give either a handler or a script")
        self._handler = handler if handler is not None else self._play
        self._script = list(script)
        self._hang_up = hang_up
        self._ssl = ssl_context
        self.connections = 0
        #: Request heads read by the script player, in arrival order.
        self.requests: list[bytes] = []
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        scheme = "https" if self._ssl is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    async def _play(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int
    ) -> None:
        for reply in self._script:
            self.requests.append(await read_request(reader))
            writer.write(reply)
            await writer.drain()
        if not self._hang_up:
            await reader.read()  # until the client closes

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
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0, ssl=self._ssl)
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
