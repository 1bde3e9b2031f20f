"""Starting and stopping the server: in a running loop, or on its own thread.

Two entry points:

- :class:`ReferenceServer` -- ``await server.start()`` / ``await server.stop()``
  (or ``async with``) inside an existing asyncio loop.
- :func:`start_in_thread` -- a daemon thread with its own loop, for tests and
  the app's demo mode; returns a :class:`ServerHandle` once the port listens.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import threading
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType

from aiohttp import web

from .app import ServerApp
from .demo import DemoFacts, DemoSpec, describe, prepare_store
from .store import Store

#: How long stop() lets in-flight requests finish before closing connections.
SHUTDOWN_TIMEOUT_S = 0.5


class ServerConfigError(ValueError):
    """The server was asked for something it refuses to do (e.g. admin on a public address)."""


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP literals (127.0.0.0/8, ::1)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_admin_host(host: str, admin: bool) -> None:
    """Refuse admin endpoints anywhere but loopback: they can revoke, delete, rewrite."""
    if admin and not is_loopback(host):
        raise ServerConfigError(
            f"refusing to enable the admin/fault endpoints on {host!r}: they are only "
            "allowed on a loopback address (127.0.0.1, ::1 or localhost)"
        )


def _bind(host: str, port: int) -> socket.socket:
    infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(1024)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _open_store(data_dir: Path, demo: DemoSpec | None) -> Store:
    store = Store(data_dir)
    try:
        prepare_store(store, demo)
        store.load()
    except BaseException:
        store.close()
        raise
    return store


class ReferenceServer:
    """The reference server, run inside the caller's asyncio loop.

    Opening the data directory (and generating demo data on first use) runs
    in a worker thread, so a GUI loop hosting the server does not freeze.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        demo: DemoSpec | None = DemoSpec(),  # noqa: B008 - frozen, so a shared default is safe
        admin: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        check_admin_host(host, admin)
        self.data_dir = Path(data_dir)
        self.demo = demo
        self.admin = admin
        self.host = host
        self.ssl_context = ssl_context
        self._requested_port = port
        self.port = 0
        self.facts: DemoFacts | None = None
        self._store: Store | None = None
        self._runner: web.AppRunner | None = None
        self.app: ServerApp | None = None

    @property
    def base_url(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        host = f"[{self.host.strip('[]')}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    async def start(self) -> None:
        """Load (or generate) the data, then listen. Returns once connections are accepted."""
        self._store = await asyncio.to_thread(_open_store, self.data_dir, self.demo)
        try:
            self.facts = describe(self._store)
            self.app = ServerApp(self._store, admin=self.admin)
            self._runner = web.AppRunner(
                self.app.build(), access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S
            )
            await self._runner.setup()
            sock = _bind(self.host, self._requested_port)
            self.port = sock.getsockname()[1]
            site = web.SockSite(self._runner, sock, ssl_context=self.ssl_context, backlog=1024)
            await site.start()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Close the listener and connections, then the store (idempotent)."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            server = runner.server
            transports = (
                []
                if server is None
                else [h.transport for h in server.connections if h.transport is not None]
            )
            await runner.cleanup()
            # A connection with bytes its client never read (a download paused or
            # abandoned mid-body) only *starts* closing: its socket would outlive the
            # loop and be found unclosed later. Drop what is left.
            for transport in transports:
                transport.abort()
        if self._store is not None:
            store, self._store = self._store, None
            store.close()

    async def serve_forever(self) -> None:
        """Start, then run until cancelled (Ctrl-C in the CLI), then stop."""
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    async def __aenter__(self) -> ReferenceServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


async def serve(
    data_dir: Path,
    *,
    demo: DemoSpec | None = DemoSpec(),  # noqa: B008
    admin: bool = False,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
) -> None:
    """Run the server in the current loop until cancelled."""
    server = ReferenceServer(
        data_dir, demo=demo, admin=admin, host=host, port=port, ssl_context=ssl_context
    )
    await server.serve_forever()


class ServerHandle:
    """A server running on its own thread. Stop it with :meth:`stop` or ``with``."""

    def __init__(
        self,
        server: ReferenceServer,
        loop: asyncio.AbstractEventLoop,
        thread: threading.Thread,
        stopped: asyncio.Event,
    ) -> None:
        self.server = server
        self._loop = loop
        self._thread = thread
        self._stopped = stopped

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def data_dir(self) -> Path:
        return self.server.data_dir

    @property
    def admin(self) -> bool:
        return self.server.admin

    @property
    def facts(self) -> DemoFacts:
        """Who sees what, as of start (see :class:`DemoFacts`)."""
        assert self.server.facts is not None
        return self.server.facts

    def stop(self) -> None:
        """Stop serving and wait for the thread to end (idempotent)."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopped.set)
            self._thread.join()

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_in_thread(
    data_dir: Path,
    *,
    demo: DemoSpec | None = DemoSpec(),  # noqa: B008
    admin: bool = False,
    host: str = "127.0.0.1",
    port: int = 0,
    ssl_context: ssl.SSLContext | None = None,
) -> ServerHandle:
    """Start the server on a daemon thread with its own loop; return once it listens.

    Errors while starting (bad data dir, port in use, admin on a public
    address) are raised here, in the caller's thread.
    """
    server = ReferenceServer(
        data_dir, demo=demo, admin=admin, host=host, port=port, ssl_context=ssl_context
    )
    ready: Future[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = Future()

    async def main() -> None:
        stopped = asyncio.Event()
        try:
            await server.start()
        except BaseException as exc:
            ready.set_exception(exc)
            return
        ready.set_result((asyncio.get_running_loop(), stopped))
        try:
            await stopped.wait()
        finally:
            await server.stop()

    thread = threading.Thread(
        target=asyncio.run, args=(main(),), name="reference-server", daemon=True
    )
    thread.start()
    try:
        loop, stopped = ready.result()
    except BaseException:
        thread.join()
        raise
    return ServerHandle(server, loop, thread, stopped)
