"""A recording TCP proxy for loopback HTTP/1.1: what the client asked, and how much came back.

Put in front of the reference server, it writes down every request's method,
path and ``Range`` start, and counts the bytes sent back to the client. The
crash test uses it as a witness the engine cannot influence: after a kill, a
resumed download must ask ``Range: bytes=<size of the partial>-``.

It understands just enough HTTP for this client: a request is a header block
ended by a blank line plus ``Content-Length`` bytes of body (httpx sends no
chunked requests and no pipelining). Answers are piped back untouched.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

_RANGE = re.compile(rb"^range:\s*bytes=(\d+)-", re.IGNORECASE | re.MULTILINE)
_LENGTH = re.compile(rb"^content-length:\s*(\d+)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    range_start: int | None
    at: float


class RecordingProxy:
    """Listens on 127.0.0.1 (a free port) on its own thread and forwards to *upstream*."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        assert parts.hostname is not None
        assert parts.port is not None
        self._host = parts.hostname
        self._port = parts.port
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self._down = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    @property
    def bytes_down(self) -> int:
        """Bytes sent to clients (headers and bodies of every answer)."""
        with self._lock:
            return self._down

    def start(self) -> None:
        ready: Future[None] = Future()

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stopped = asyncio.Event()
            server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            ready.set_result(None)
            async with server:
                await self._stopped.wait()
                for task in list(self._connections):
                    task.cancel()
                await asyncio.gather(*self._connections, return_exceptions=True)

        self._thread = threading.Thread(
            target=asyncio.run, args=(main(),), name="recording-proxy", daemon=True
        )
        self._thread.start()
        ready.result(timeout=10)

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(timeout=10)

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self._track(asyncio.current_task())
        try:
            server_r, server_w = await asyncio.open_connection(self._host, self._port)
        except OSError:
            client_w.close()
            return
        down = asyncio.create_task(self._pipe_down(server_r, client_w))
        self._track(down)
        try:
            while True:
                head = await client_r.readuntil(b"\r\n\r\n")
                self._record(head)
                match = _LENGTH.search(head)
                body = await client_r.readexactly(int(match.group(1))) if match else b""
                server_w.write(head + body)
                await server_w.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            server_w.close()
            await asyncio.gather(down, return_exceptions=True)
            client_w.close()

    async def _pipe_down(
        self, server_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
    ) -> None:
        try:
            while chunk := await server_r.read(65536):
                client_w.write(chunk)
                with self._lock:
                    self._down += len(chunk)
                await client_w.drain()
        except ConnectionError:
            pass
        finally:
            client_w.close()

    def _track(self, task: asyncio.Task[None] | None) -> None:
        """Keep connection tasks, so that stop() can end them rather than drop them."""
        if task is not None:
            self._connections.add(task)
            task.add_done_callback(self._connections.discard)

    def _record(self, head: bytes) -> None:
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        method, _, rest = line.partition(" ")
        target = rest.rpartition(" ")[0]
        match = _RANGE.search(head)
        request = Request(
            method=method,
            path=unquote(urlsplit(target).path),
            range_start=int(match.group(1)) if match else None,
            at=time.monotonic(),
        )
        with self._lock:
            self._requests.append(request)
