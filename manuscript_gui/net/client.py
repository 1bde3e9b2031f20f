"""The working-paper server client (``server-api.md``) on ``httpx.AsyncClient``.

One :class:`ApiClient` per session (user + identity). It speaks only the
contract: it never relies on what the reference server happens to do, never
follows redirects, and never sends a request without a token to an
authenticated endpoint (after logout nothing leaves the machine).

Downloads are one request per file, no HEAD: :meth:`ApiClient.download_to`
resumes a partial with ``Range`` + ``If-Range`` and checks every header that
could make it write the wrong bytes *before* writing any.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import ipaddress
import os
import re
import ssl
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO, Final, Self, TypeVar, cast
from urllib.parse import quote

import certifi  # httpx's own dependency
import httpx

from manuscript_gui import __version__
from manuscript_gui.net._http import (
    ERROR_BODY_LIMIT,
    body_cut,
    decode_json,
    error_from_response,
    network_error,
)
from manuscript_gui.net.errors import ProtocolError, TooSlow, Unauthorized
from manuscript_gui.net.headers import (
    is_html,
    is_weak_etag,
    parse_content_length,
    parse_content_range,
    parse_repr_digest_sha256,
)
from manuscript_gui.net.throttle import BandwidthLimiter, LowSpeedGuard
from manuscript_gui.net.transport import LeanTransport, connect_host, lean_applies
from manuscript_gui.net.wire import (
    ChildEntry,
    DownloadResult,
    DownloadStart,
    FileInfo,
    LoginResult,
    Me,
    Page,
    Project,
    parse_children_page,
    parse_project_page,
)

if TYPE_CHECKING:
    from _hashlib import HASH

__all__ = ["DEFAULT_TIMEOUTS", "MAX_EMPTY_PAGES", "ApiClient", "PageGuard", "Timeouts"]

T = TypeVar("T")

API: Final = "/api/v1"

#: A server that keeps sending empty pages with fresh cursors loops just as
#: surely as one repeating a cursor; no real listing needs this many in a row.
MAX_EMPTY_PAGES: Final = 100

_SHA256_RE = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds allowed per phase; ``None`` waits forever.

    ``read`` is per read on an open connection, not per download, so a 1 GiB
    file is fine as long as bytes keep coming. ``pool`` is unbounded by
    default: the engine already limits how many files are in flight, and a
    wait for a free connection is no reason to fail a file that never reached
    the network.

    ``low_speed_limit`` (bytes/s) and ``low_speed_time`` (seconds) are the
    minimum speed of one download attempt, as curl's
    ``CURLOPT_LOW_SPEED_LIMIT`` / ``CURLOPT_LOW_SPEED_TIME``: a body that
    arrives slower than the limit, averaged over the last ``low_speed_time``
    seconds, ends the attempt with :class:`TooSlow` (what arrived is kept for
    the resume). A server trickling a byte every few seconds never trips
    ``read``. Time spent waiting for a bandwidth limiter does not count.
    ``None`` in either disables the check. Defaults: under 1 KiB/s for 60 s.

    Raises:
        ValueError: a negative timeout, or a low-speed value that is not positive.
    """

    connect: float | None = 15.0
    read: float | None = 60.0
    write: float | None = 60.0
    pool: float | None = None
    low_speed_limit: float | None = 1024.0
    low_speed_time: float | None = 60.0

    def __post_init__(self) -> None:
        for name in ("connect", "read", "write", "pool"):
            value = getattr(self, name)
            if value is not None and not value >= 0:
                raise ValueError(f"timeout {name} must be >= 0 seconds or None, got {value!r}")
        for name in ("low_speed_limit", "low_speed_time"):
            value = getattr(self, name)
            if value is not None and not (value > 0 and value != float("inf")):
                raise ValueError(f"{name} must be a positive number or None, got {value!r}")

    @property
    def low_speed(self) -> tuple[float, float] | None:
        """``(limit bytes/s, time s)`` when the minimum-speed check is on, else ``None``."""
        if self.low_speed_limit is None or self.low_speed_time is None:
            return None
        return self.low_speed_limit, self.low_speed_time

    def to_httpx(self) -> httpx.Timeout:
        """The per-phase limits as httpx wants them (the low-speed check is the client's)."""
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)

    def for_download(self) -> httpx.Timeout:
        """:meth:`to_httpx` with ``read`` at most ``low_speed_time``.

        No byte at all for ``low_speed_time`` seconds is below any minimum
        speed; the per-read timeout catches that case (waiting for the answer's
        head included, as curl does) where no chunk arrives to be judged.
        """
        read = self.read
        low = self.low_speed
        if low is not None and (read is None or low[1] < read):
            read = low[1]
        return httpx.Timeout(connect=self.connect, read=read, write=self.write, pool=self.pool)


DEFAULT_TIMEOUTS: Final = Timeouts()


def _segment(value: str) -> str:
    """``value`` as one URL path segment (ids are opaque: ``/``, ``?``, ``%`` are quoted).

    Raises:
        ValueError: ``value`` is empty, ``.`` or ``..``. Quoting leaves those
            as they are, and URL normalisation (httpx's too) removes dot
            segments, so ``/files/../versions/1/content`` would address
            another resource. The models never produce such an id
            (``net/wire.py``); this is the last line of defence.
    """
    if value in ("", ".", ".."):
        raise ValueError(f"{value!r} is not a usable id: it would change the request path")
    return quote(value, safe="")


class PageGuard:
    """Ends a paginated listing that would never end; one guard per listing.

    Every page of one listing goes through :meth:`next_cursor`, in order. A
    server that repeats a cursor (the same one again, or a cycle) or keeps
    sending pages with no items but a fresh cursor would otherwise be
    followed forever. Used by :meth:`ApiClient.iter_projects`,
    :meth:`ApiClient.iter_children` and every caller that pages with
    :meth:`ApiClient.projects_page` / :meth:`ApiClient.children_page` itself
    (the task listing, the command line's lookups).

    Args:
        what: names the listing in the error message (``"projects"``, a folder path).
        max_empty_pages: pages in a row with no items and a next cursor that
            count as a loop (default :data:`MAX_EMPTY_PAGES`).
    """

    __slots__ = ("_empty_run", "_max_empty", "_seen", "what")

    def __init__(self, what: str, *, max_empty_pages: int = MAX_EMPTY_PAGES) -> None:
        if max_empty_pages < 1:
            raise ValueError("max_empty_pages must be at least 1")
        self.what = what
        self._max_empty = max_empty_pages
        self._seen: set[str] = set()
        self._empty_run = 0

    def next_cursor(self, page: Page[Any]) -> str | None:
        """The cursor to ask for after ``page``; ``None`` when the listing is complete.

        Raises:
            ProtocolError: code ``cursor_loop`` (permanent) when ``page`` carries
                a cursor this listing already had, or is the
                ``max_empty_pages``-th page in a row without items.
        """
        cursor = page.next_cursor
        if cursor is None:
            return None
        if cursor in self._seen:
            raise ProtocolError(
                f"{self.what}: the server sent cursor {cursor[:40]!r} twice; "
                "the list would never end",
                code="cursor_loop",
            )
        self._seen.add(cursor)
        self._empty_run = 0 if page.items else self._empty_run + 1
        if self._empty_run >= self._max_empty:
            raise ProtocolError(
                f"{self.what}: {self._empty_run} empty pages in a row; the list would never end",
                code="cursor_loop",
            )
        return cursor


def _is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _ssl_context(verify: bool, ca_bundle: str | os.PathLike[str] | None) -> ssl.SSLContext | bool:
    if ca_bundle is not None:
        if not verify:
            raise ValueError("ca_bundle given together with verify=False")
        path = os.fspath(ca_bundle)
        try:
            # Replaces the default trust store, like curl --cacert: a server
            # with a private CA is trusted through that CA only.
            if os.path.isdir(path):
                return ssl.create_default_context(capath=path)
            return ssl.create_default_context(cafile=path)
        except (OSError, ssl.SSLError) as exc:
            raise ValueError(f"CA bundle {path!r} could not be loaded: {exc}") from exc
    if not verify:
        return False
    # The OS store first (Windows' and most Linux systems' trust store holds an
    # organisation's own CA; certifi alone would reject an on-premises server),
    # plus certifi for Pythons without a usable OS store (python.org macOS).
    # OpenSSL's default paths also honour SSL_CERT_FILE / SSL_CERT_DIR.
    ctx = ssl.create_default_context()
    ctx.load_verify_locations(cafile=certifi.where())
    return ctx


#: Bytes httpcore asks the socket for per read (its default is 64 KiB).
HTTPCORE_READ_BYTES: Final = 256 * 1024


def _tune_httpcore_reads() -> None:
    """Let httpcore read bodies in 256 KiB pieces instead of 64 KiB.

    Every piece travels through several Python layers (httpcore, h11, anyio,
    httpx) before it is written; with 64 KiB pieces a 1 GiB download ran at
    300–460 MiB/s on the project machine, with 256 KiB at 540–700 MiB/s
    (small files: no measurable change). httpcore has no per-pool setting,
    only this class attribute, so it is set once for the process; nothing else
    in the app speaks HTTP through httpcore.
    """
    try:
        from httpcore._async.http11 import AsyncHTTP11Connection
    except ImportError:  # pragma: no cover - a future httpcore layout: keep its default
        return
    if isinstance(getattr(AsyncHTTP11Connection, "READ_NUM_BYTES", None), int):
        AsyncHTTP11Connection.READ_NUM_BYTES = max(
            AsyncHTTP11Connection.READ_NUM_BYTES, HTTPCORE_READ_BYTES
        )


_tune_httpcore_reads()


def _lean_wanted(url: httpx.URL, loopback: bool) -> bool:
    """Use :class:`LeanTransport` unless ``MANUSCRIPT_LEAN_HTTP=0`` or a proxy applies."""
    if os.environ.get("MANUSCRIPT_LEAN_HTTP", "1").strip() == "0":
        return False
    return lean_applies(url.scheme, url.host, loopback=loopback)


class ApiClient:
    """Client of one working-paper server, for one session.

    Args:
        base_url: ``https://wp.example.com`` (a path prefix is kept).
        token: a bearer token from an earlier :meth:`login`, if any.
        verify: verify the server's TLS certificate against the OS trust
            store plus certifi. ``False`` is for throw-away test servers only.
        ca_bundle: a PEM file (or OpenSSL hashed directory) of CAs to trust
            *instead* of the defaults, for servers with a private CA.
        timeouts: per-phase timeouts, see :class:`Timeouts`.
        max_connections: connection-pool size. 8 by default: httpx is CPU-bound
            and 16 connections measured slower than 8 (env-spike §2.6).
        transport: an ``httpx.AsyncBaseTransport`` to use instead of the network
            (tests inject ``httpx.MockTransport``).

    Proxies from the environment (and the OS settings httpx reads) are used
    for real servers but never for a loopback ``base_url``: a developer's
    ``HTTPS_PROXY`` must not swallow requests to 127.0.0.1. Since the client
    only ever talks to ``base_url`` this is decided once, here.

    Raises:
        ValueError: the base URL is not http(s), or the CA bundle cannot be read.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        verify: bool = True,
        ca_bundle: str | os.PathLike[str] | None = None,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        max_connections: int = 8,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        try:
            url = httpx.URL(base_url)
        except (ValueError, httpx.InvalidURL):
            url = None
        if url is not None and url.userinfo:
            # Never echoed (it holds a password), never sent as HTTP basic auth,
            # never stored with the server's address: the login carries credentials.
            raise ValueError(
                "the server address must not contain a user name or password "
                "(https://user:password@host): sign in with them instead"
            )
        try:
            url = httpx.URL(base_url)
            if url.scheme not in ("http", "https") or not url.host:
                raise ValueError("not http(s) with a host")
            # The one ASCII form of the host every transport uses (IDNA 2008).
            connect_host(url)
        except (ValueError, httpx.InvalidURL) as exc:
            raise ValueError(
                f"base URL must be http(s)://host[:port][/prefix], got {base_url!r} ({exc})"
            ) from None
        if max_connections < 1:
            raise ValueError("max_connections must be at least 1")
        if url.scheme == "http" and ca_bundle is None:
            # No TLS will ever happen (no redirects are followed, only base_url
            # is contacted), so skip loading trust stores (~40 ms per client).
            ssl_setting: ssl.SSLContext | bool = False
        else:
            ssl_setting = _ssl_context(verify, ca_bundle)
        self._token: str | None = token
        self._loopback = _is_loopback(url.host)
        self._url = url
        self._ssl_setting = ssl_setting
        self._timeouts = timeouts
        self._download_timeout = timeouts.for_download()
        self._transport = transport
        self._http = self._make_http(max_connections)

    def _make_http(self, max_connections: int) -> httpx.AsyncClient:
        transport = self._transport
        if transport is None and _lean_wanted(self._url, self._loopback):
            ctx = self._ssl_setting if isinstance(self._ssl_setting, ssl.SSLContext) else None
            transport = LeanTransport(
                self._url,
                ssl_context=ctx,
                verify=self._ssl_setting is not False,
                max_connections=max_connections,
            )
        return httpx.AsyncClient(
            base_url=self._url,
            verify=self._ssl_setting,
            timeout=self._timeouts.to_httpx(),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            transport=transport,
            trust_env=not self._loopback,
            follow_redirects=False,
            headers={"User-Agent": f"manuscript-gui/{__version__} httpx/{httpx.__version__}"},
        )

    def fork(self, *, max_connections: int = 1) -> ApiClient:
        """A client for the same server and session with a pool of its own.

        The download engine gives each worker a fork with one connection:
        httpcore checks every pooled connection on every request, so eight
        one-connection pools cost far less CPU per file than one pool of
        eight. The fork shares the token as it is now (a later login or
        logout on the original does not reach it) and must be closed too.
        """
        clone = object.__new__(ApiClient)
        clone._token = self._token
        clone._loopback = self._loopback
        clone._url = self._url
        clone._ssl_setting = self._ssl_setting
        clone._timeouts = self._timeouts
        clone._download_timeout = self._download_timeout
        clone._transport = self._transport
        clone._http = clone._make_http(max_connections)
        return clone

    # -- lifecycle -------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every pooled connection. The client is unusable afterwards."""
        await self._http.aclose()

    @property
    def base_url(self) -> str:
        return str(self._http.base_url)

    @property
    def token(self) -> str | None:
        """The bearer token in use, or ``None`` when logged out."""
        return self._token

    @property
    def is_loopback(self) -> bool:
        """Whether the server is on this machine (no proxies are used then)."""
        return self._loopback

    # -- plumbing --------------------------------------------------------------

    def _auth(self) -> dict[str, str]:
        if self._token is None:
            # No request after logout: fail here, as a 401 would, so callers
            # need one code path for "the session is over".
            raise Unauthorized(401, "not_logged_in", "no session token: log in first")
        return {"Authorization": f"Bearer {self._token}"}

    async def _call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: dict[str, str | int] | None = None,
        json: Any = None,
        at_login: bool = False,
    ) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if not at_login:
            headers.update(self._auth())
        try:
            response = await self._http.request(
                method, API + path, params=params, json=json, headers=headers
            )
        except httpx.TransportError as exc:
            raise network_error(exc, self._http.base_url) from exc
        except httpx.DecodingError as exc:
            raise ProtocolError(f"{what}: undecodable answer body: {exc}", code="bad_json") from exc
        status = response.status_code
        if status >= 400:
            raise error_from_response(
                status, response.headers, response.content[:ERROR_BODY_LIMIT], at_login=at_login
            )
        if status >= 300:
            raise _redirect_error(what, response)
        return response

    async def _get_json(
        self, path: str, what: str, params: dict[str, str | int] | None = None
    ) -> object:
        response = await self._call("GET", path, what, params=params)
        return decode_json(response, what)

    async def _paginate(
        self, fetch: Callable[[str | None], Awaitable[Page[T]]], what: str
    ) -> AsyncIterator[T]:
        guard = PageGuard(what)
        cursor: str | None = None
        while True:
            page = await fetch(cursor)
            for item in page.items:
                yield item
            cursor = guard.next_cursor(page)
            if cursor is None:
                return

    @staticmethod
    def _page_params(cursor: str | None, limit: int | None) -> dict[str, str | int]:
        params: dict[str, str | int] = {}
        if limit is not None:
            params["limit"] = limit
        if cursor is not None:
            params["cursor"] = cursor
        return params

    # -- session ---------------------------------------------------------------

    async def login(
        self, username: str, password: str, user_type: str | None = None
    ) -> LoginResult:
        """Log in as one identity (``None``: the user's default) and keep the token.

        Raises:
            InvalidCredentials: wrong user name or password.
            IdentityNotAllowed: the user holds no identity ``user_type``.
        """
        response = await self._call(
            "POST",
            "/auth/login",
            "login",
            json={"username": username, "password": password, "userType": user_type},
            at_login=True,
        )
        result = LoginResult.from_json(decode_json(response, "login"))
        self._token = result.token
        return result

    async def logout(self) -> None:
        """Revoke the token on the server and forget it.

        The token is forgotten even when the request fails, so no later call
        can use it. A 401 means it was already dead: that is a successful
        logout, not an error. Without a token this sends nothing.
        """
        if self._token is None:
            return
        try:
            await self._call("POST", "/auth/logout", "logout")
        except Unauthorized:
            pass
        finally:
            self._token = None

    async def me(self) -> Me:
        """Who the current token speaks for (user, identity, all identities)."""
        return Me.from_json(await self._get_json("/me", "me"))

    # -- browsing --------------------------------------------------------------

    async def projects_page(
        self, *, cursor: str | None = None, limit: int | None = None
    ) -> Page[Project]:
        """One page of the projects this identity may see."""
        data = await self._get_json("/projects", "projects", self._page_params(cursor, limit))
        return parse_project_page(data)

    def iter_projects(self, *, limit: int | None = None) -> AsyncIterator[Project]:
        """Every project this identity may see, following cursors to the end.

        Raises ProtocolError(``cursor_loop``) if the server repeats a cursor.
        """
        return self._paginate(
            lambda cursor: self.projects_page(cursor=cursor, limit=limit), "projects"
        )

    async def children_page(
        self,
        project_id: str,
        folder_id: str = "root",
        *,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> Page[ChildEntry]:
        """One page of a folder's children (``"root"``: the project's top level)."""
        path = f"/projects/{_segment(project_id)}/folders/{_segment(folder_id)}/children"
        data = await self._get_json(path, "children", self._page_params(cursor, limit))
        return parse_children_page(data)

    def iter_children(
        self, project_id: str, folder_id: str = "root", *, limit: int | None = None
    ) -> AsyncIterator[ChildEntry]:
        """Every child of one folder (not recursive), following cursors to the end."""
        return self._paginate(
            lambda cursor: self.children_page(project_id, folder_id, cursor=cursor, limit=limit),
            "children",
        )

    async def get_file(self, file_id: str) -> FileInfo:
        """A file with every version the server still keeps."""
        data = await self._get_json(f"/files/{_segment(file_id)}", "file")
        return FileInfo.from_json(data)

    # -- downloading -----------------------------------------------------------

    async def download_to(
        self,
        file_id: str,
        version: int,
        dest: Path | BinaryIO,
        *,
        expected_size: int,
        expected_sha256: str,
        etag: str | None = None,
        content_type: str | None = None,
        progress: Callable[[int], None] | None = None,
        on_start: Callable[[DownloadStart], None] | None = None,
        chunk_size: int | None = None,
        limiter: BandwidthLimiter | None = None,
    ) -> DownloadResult:
        """Download one pinned file version into ``dest``, resuming a partial.

        ``dest`` is the staging file, either

        - a :class:`~pathlib.Path`: the client opens (and creates) it itself,
          closes it, and removes a file it created if this call's bytes are
          taken back; or
        - an open binary file (readable, writable, seekable, e.g. ``open(p,
          "r+b")`` or ``os.fdopen(os.open(p, os.O_RDWR | os.O_CREAT), "r+b")``)
          that the caller holds, say under an exclusive lock: every read,
          write and truncation goes through that handle, and the client never
          closes it and never removes anything.

        If the file holds ``N`` bytes with ``0 < N <= expected_size`` they are
        taken as a prefix and the request asks ``Range: bytes=N-`` with
        ``If-Range: <etag>`` when ``etag`` is strong (a weak one is never sent:
        RFC 9110 §13.1.5; the URL names one immutable version, so ``Range``
        alone is safe and the final sha256 decides). Before a byte is written
        the answer must fit:

        - **206**: ``Content-Range`` starts exactly at ``N``, runs to the end,
          and its total is ``expected_size``; a *strong* ETag in it must equal
          a strong ``etag`` (a weak one is ignored) → append;
        - **200**: ``Content-Length`` equals ``expected_size`` → the partial is
          discarded and the file starts over (whatever its ETag, weak or not);
        - **416**: the server's total is ``expected_size`` and so is ``N`` → the
          partial is already whole; it is hashed, nothing is written;
        - never an HTML page (unless ``content_type`` says the file *is* HTML),
          never a ``Repr-Digest`` other than ``expected_sha256``, never a
          ``Content-Encoding``, never a redirect.

        Any misfit raises :class:`ProtocolError` with the file untouched.
        While streaming, a body that ends early raises :class:`IncompleteBody`
        and one slower than the minimum speed of ``Timeouts`` raises
        :class:`TooSlow`; what arrived is kept either way, so the next call
        resumes. More bytes than announced raise ProtocolError
        (``too_many_bytes``) and undo this call's writes. A partial longer
        than ``expected_size`` cannot be a prefix: it is fetched anew.

        The sha256 is computed on the fly (the kept prefix is read back
        through the same handle, off the event loop), and
        :attr:`DownloadResult.size` is the file's length on disk after the
        last write; if that is not the number of bytes hashed (someone else
        wrote to the file), ProtocolError ``partial_changed`` is raised. So
        the caller only compares :attr:`DownloadResult.size` and
        :attr:`DownloadResult.sha256` with the pin before renaming.

        Args:
            progress: called with the byte count of each written piece (a delta).
            on_start: called once the answer passed its checks, before any
                write: record ``etag`` for the next resume (only strong ETags
                are reported, else ``None``); ``offset == 0`` while a partial
                existed means it is being discarded.
            chunk_size: bytes per write; ``None`` takes chunks as the
                transport delivers them without httpx's re-buffering copies.
            limiter: a :class:`BandwidthLimiter` (shared by the downloads of
                a task): every chunk of body is written in the pieces it
                grants (:meth:`BandwidthLimiter.take`), each once granted.

        Raises:
            HTTPError: subclasses per status (VersionNotFound, Gone, Forbidden,
                Unauthorized, RateLimited, ServerError, ...).
            NetworkError: connection failures, timeouts, :class:`IncompleteBody`,
                :class:`TooSlow`.
            ProtocolError: an answer that does not fit (see above), or
                ``partial_changed``.
            OSError: local file errors (disk full, staging folder gone), as is.
        """
        if expected_size < 0:
            raise ValueError("expected_size must not be negative")
        if not _SHA256_RE.fullmatch(expected_sha256):
            raise ValueError("expected_sha256 must be 64 hex digits")
        expected_sha256 = expected_sha256.lower()
        auth = self._auth()
        target = _Target(dest)
        # One stat on the loop: cheaper than a thread hop.
        existing = target.length()
        offset = existing if existing is not None and 0 < existing <= expected_size else 0
        # A weak validator may not drive If-Range (RFC 9110 §13.1.5); treat it as unknown.
        pinned_etag = etag if etag and not is_weak_etag(etag) else None

        headers = {"Accept": "*/*", "Accept-Encoding": "identity", **auth}
        if offset:
            headers["Range"] = f"bytes={offset}-"
            if pinned_etag is not None:
                headers["If-Range"] = pinned_etag
        path = f"{API}/files/{_segment(file_id)}/versions/{int(version)}/content"
        low_speed = self._timeouts.low_speed
        request = self._http.build_request(
            "GET", path, headers=headers, timeout=self._download_timeout
        )
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            raise network_error(exc, request.url) from exc
        # The speed is judged from the answer's head on: a wait for a pooled
        # connection is not the server's slowness, and a wait for the head is
        # bounded by the read timeout (at most low_speed_time, see above).
        guard = None if low_speed is None else LowSpeedGuard(*low_speed, time.monotonic())
        try:
            return await _receive(
                response,
                target,
                existing=existing,
                offset=offset,
                expected_size=expected_size,
                expected_sha256=expected_sha256,
                pinned_etag=pinned_etag,
                content_type=content_type,
                progress=progress,
                on_start=on_start,
                chunk_size=chunk_size,
                limiter=limiter,
                guard=guard,
            )
        finally:
            await response.aclose()


def _redirect_error(what: str, response: httpx.Response) -> ProtocolError:
    location = response.headers.get("location", "?")
    return ProtocolError(
        f"{what}: unexpected redirect ({response.status_code}) to {location[:200]} "
        "(wrong base URL, or a login portal in between?)",
        code="unexpected_redirect",
    )


async def _read_capped(response: httpx.Response) -> bytes:
    buf = bytearray()
    try:
        async for chunk in response.aiter_bytes():
            buf += chunk
            if len(buf) >= ERROR_BODY_LIMIT:
                break
    except httpx.HTTPError:
        # The error body is a courtesy; the status alone decides the error.
        pass
    return bytes(buf[:ERROR_BODY_LIMIT])


def _misfit(message: str, code: str) -> ProtocolError:
    return ProtocolError(message + "; nothing was written", code=code)


def _strong(etag: str | None) -> str | None:
    """``etag`` if it is a strong validator, else ``None`` (weak or absent)."""
    return etag if etag and not is_weak_etag(etag) else None


def _partial_changed(on_disk: int, hashed: int) -> ProtocolError:
    return ProtocolError(
        f"the partial file holds {on_disk} bytes but this download wrote and hashed {hashed}: "
        "something else changed it meanwhile",
        code="partial_changed",
    )


class _Target:
    """The staging file of one download: a path the client opens, or the caller's open handle."""

    __slots__ = ("handle", "path")

    def __init__(self, dest: Path | BinaryIO) -> None:
        self.path: Path | None
        self.handle: BinaryIO | None
        if isinstance(dest, Path):
            self.path, self.handle = dest, None
        elif isinstance(dest, str | os.PathLike):
            self.path, self.handle = Path(dest), None
        else:
            self.path, self.handle = None, dest

    def length(self) -> int | None:
        """Bytes in the file now; ``None`` when a path does not exist yet."""
        if self.handle is not None:
            self.handle.flush()
            return os.fstat(self.handle.fileno()).st_size
        assert self.path is not None
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return None

    async def open(self, mode: str) -> BinaryIO:
        """The handle to use: the caller's, or ``path`` opened in ``mode`` off the loop."""
        if self.handle is not None:
            return self.handle
        assert self.path is not None
        return await _open_off_loop(self.path, mode)

    def release(self, f: BinaryIO) -> None:
        """Close ``f`` if this call opened it; the caller's handle stays open."""
        if self.handle is None:
            f.close()


async def _receive(
    response: httpx.Response,
    target: _Target,
    *,
    existing: int | None,
    offset: int,
    expected_size: int,
    expected_sha256: str,
    pinned_etag: str | None,
    content_type: str | None,
    progress: Callable[[int], None] | None,
    on_start: Callable[[DownloadStart], None] | None,
    chunk_size: int | None,
    limiter: BandwidthLimiter | None,
    guard: LowSpeedGuard | None,
) -> DownloadResult:
    status = response.status_code
    h = response.headers

    if status == 416 and offset:
        await _read_capped(response)
        crange = parse_content_range(h.get("content-range"))
        if crange is None or crange.first is not None or crange.complete is None:
            raise _misfit(
                f"416 without 'Content-Range: bytes */<size>' (got {h.get('content-range')!r})",
                "bad_content_range",
            )
        if crange.complete != expected_size or offset != expected_size:
            raise _misfit(
                f"416 says the file has {crange.complete} bytes; expected {expected_size}, "
                f"have {offset}",
                "bad_content_range",
            )
        if on_start is not None:
            on_start(DownloadStart(status=416, offset=offset, etag=pinned_etag))
        f = await target.open("rb")
        try:
            digest = await _hash_prefix_off_loop(f, offset)
            on_disk = os.fstat(f.fileno()).st_size
        finally:
            target.release(f)
        if on_disk != offset:
            raise _partial_changed(on_disk, offset)
        return DownloadResult(
            size=on_disk,
            sha256=digest.hexdigest(),
            etag=pinned_etag,
            status=416,
            offset=offset,
            received=0,
        )
    if status >= 400:
        body = await _read_capped(response)
        raise error_from_response(status, h, body)
    if 300 <= status < 400:
        raise _redirect_error("download", response)
    if status not in (200, 206):
        raise _misfit(f"unexpected status {status} for file content", "unexpected_status")

    encoding = h.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        # The sha256 is pinned over the raw representation; a body compressed on
        # the way (by a proxy, say) is not what the pin describes.
        raise _misfit(
            f"the content is encoded ({encoding}) though identity was asked", "bad_encoding"
        )
    answer_type = h.get("content-type")
    if is_html(answer_type) and not is_html(content_type):
        raise _misfit(
            f"the server answered with a web page ({answer_type}) instead of the file "
            "(a proxy or login page?)",
            "html_page",
        )
    # A weak ETag (Express and Rails send them by default) is no reason to
    # refuse bytes of a pinned version whose sha256 is known; it is just not
    # reported, so it never becomes an If-Range validator.
    answer_etag = _strong(h.get("etag"))
    digest_hex = parse_repr_digest_sha256(h.get("repr-digest"))
    if digest_hex is not None and digest_hex != expected_sha256:
        raise _misfit(
            f"Repr-Digest sha-256 {digest_hex} is not the pinned {expected_sha256}: "
            "the server is serving other bytes than the pinned version",
            "digest_mismatch",
        )
    length = parse_content_length(h.get("content-length"))
    if length == -1:
        raise _misfit(f"malformed Content-Length {h.get('content-length')!r}", "bad_content_length")

    if status == 200:
        # A missing Content-Length (a re-chunking proxy) is tolerated: the body
        # is still counted against expected_size below.
        if length is not None and length != expected_size:
            raise _misfit(
                f"Content-Length {length} is not the pinned size {expected_size}",
                "bad_content_length",
            )
        start = 0
    else:
        if not offset:
            raise _misfit("206 to a request without Range", "unexpected_status")
        crange = parse_content_range(h.get("content-range"))
        if (
            crange is None
            or crange.first != offset
            or crange.last != expected_size - 1
            or crange.complete != expected_size
        ):
            raise _misfit(
                f"Content-Range {h.get('content-range')!r} does not continue "
                f"bytes {offset}-{expected_size - 1}/{expected_size}",
                "bad_content_range",
            )
        if length is not None and length != expected_size - offset:
            raise _misfit(
                f"Content-Length {length} does not match the range ({expected_size - offset})",
                "bad_content_length",
            )
        if pinned_etag is not None and answer_etag is not None and answer_etag != pinned_etag:
            raise _misfit(
                f"ETag {answer_etag!r} differs from the partial's {pinned_etag!r}",
                "etag_mismatch",
            )
        start = offset

    if on_start is not None:
        on_start(DownloadStart(status=status, offset=start, etag=answer_etag))
    body_len = expected_size - start
    received = 0
    too_slow: float | None = None
    cut: httpx.TransportError | None = None
    # A path starting over is opened "wb", which truncates now, not at the
    # first byte, so that after on_start the file is always a prefix of the
    # representation whose ETag was reported. Creating a file costs up to
    # ~1 ms on some disks: keep it off the loop.
    f = await target.open("r+b" if start else "wb")
    try:
        if start:
            hasher = await _hash_prefix_off_loop(f, start)
        else:
            hasher = hashlib.sha256()
            if target.handle is not None and existing:
                await _in_thread(functools.partial(f.truncate, 0))
        sink = _Sink(f, hasher, threaded=body_len >= PIPELINE_MIN_BYTES)
        try:
            f.seek(start)
            try:
                # aiter_bytes over identity content is aiter_raw plus a no-op
                # decoder, and it also serves answers already read into memory.
                async for chunk in response.aiter_bytes(chunk_size):
                    n = len(chunk)
                    if received + n > body_len:
                        await sink.drain()
                        _undo(f, target, start, existed=existing is not None)
                        raise ProtocolError(
                            f"the server sent more than the {body_len} bytes announced; "
                            "this attempt's bytes were removed",
                            code="too_many_bytes",
                        )
                    if limiter is None or limiter.rate is None:
                        await sink.put(chunk)
                        received += n
                        if progress is not None:
                            progress(n)
                    else:
                        await _put_throttled(chunk, sink, limiter, guard, progress)
                        received += n
                    if guard is not None:
                        too_slow = guard.add(n, time.monotonic())
                        if too_slow is not None:
                            break
            except httpx.TransportError as exc:
                # Judged below by the byte count: a failure after the last byte
                # (while closing, say) does not make a complete body incomplete.
                cut = exc
            await sink.drain()
            if received == body_len and start:
                # Drops stray bytes past the end should the partial have grown
                # meanwhile (a fresh start was truncated already).
                f.truncate()
            f.flush()
            on_disk = os.fstat(f.fileno()).st_size
        finally:
            sink.close()
    finally:
        target.release(f)
    if received < body_len:
        if too_slow is not None and guard is not None:
            raise TooSlow(
                f"the answer from {response.request.url.host} came at {too_slow:.0f} bytes/s "
                f"over the last {guard.period:g} s, under the minimum of {guard.limit:g} "
                f"bytes/s; the {received} bytes received were kept",
                rate=too_slow,
                received=received,
            )
        raise body_cut(cut, response.request.url, received, body_len) from cut
    if on_disk != start + received:
        raise _partial_changed(on_disk, start + received)
    return DownloadResult(
        size=on_disk,
        sha256=hasher.hexdigest(),
        etag=answer_etag,
        status=status,
        offset=start,
        received=received,
    )


async def _put_throttled(
    chunk: bytes,
    sink: _Sink,
    limiter: BandwidthLimiter,
    guard: LowSpeedGuard | None,
    progress: Callable[[int], None] | None,
) -> None:
    """Write ``chunk`` in the pieces the limiter grants, each once it is granted."""
    view = memoryview(chunk)
    pos, n = 0, len(chunk)
    while pos < n:
        before = time.monotonic()
        size = await limiter.take(n - pos)
        if guard is not None:
            # Waiting for the shared limit is not the server being slow.
            guard.exclude(time.monotonic() - before)
        await sink.put(view[pos : pos + size])
        pos += size
        if progress is not None:
            progress(size)


#: Bodies from this size on are written and hashed in a worker thread while the
#: next chunks arrive (both release the GIL), instead of between reads.
PIPELINE_MIN_BYTES = 8 * 1024 * 1024
_MAX_PENDING_WRITES = 4
_BATCH_BYTES = 1024 * 1024
_HASH_BLOCK = 1024 * 1024


class _Sink:
    """Writes and hashes a body in order, inline or (big bodies) in one worker thread.

    On 2 cores the overlap matters: receiving, hashing (sha256 ~1.6 GB/s here)
    and writing one after the other on the loop left a 1 GiB download at a
    third of curl's speed. At most :data:`_MAX_PENDING_WRITES` chunks wait, so
    memory stays bounded and a write error (disk full) surfaces promptly.
    """

    def __init__(self, f: BinaryIO, hasher: HASH, *, threaded: bool) -> None:
        self._f = f
        self._hasher = hasher
        self._pool = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="download-write")
            if threaded
            else None
        )
        self._pending: deque[asyncio.Future[None]] = deque()
        self._batch: list[bytes | memoryview] = []
        self._batched = 0

    def _write(self, chunk: bytes | memoryview) -> None:
        self._f.write(chunk)
        self._hasher.update(chunk)

    async def put(self, chunk: bytes | memoryview) -> None:
        if self._pool is None:
            self._write(chunk)
            return
        # Hand over ~1 MiB at a time: one thread hop per 64 KiB chunk cost
        # more than the overlap saved.
        self._batch.append(chunk)
        self._batched += len(chunk)
        if self._batched >= _BATCH_BYTES:
            await self._submit()

    async def _submit(self) -> None:
        assert self._pool is not None
        data = b"".join(self._batch)
        self._batch.clear()
        self._batched = 0
        loop = asyncio.get_running_loop()
        self._pending.append(loop.run_in_executor(self._pool, self._write, data))
        if len(self._pending) >= _MAX_PENDING_WRITES:
            await self._pending.popleft()

    async def drain(self) -> None:
        """Wait for every queued write; raises the first write error."""
        if self._batch:
            await self._submit()
        while self._pending:
            await self._pending.popleft()

    def close(self) -> None:
        """Let queued writes finish before the file closes (also on cancellation)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            for future in self._pending:
                if future.done() and not future.cancelled():
                    future.exception()  # retrieved: no "never retrieved" warning
            self._pending.clear()


async def _open_off_loop(path: Path, mode: str) -> BinaryIO:
    """``open`` in a worker thread without leaking the file if the caller is cancelled."""
    opening: asyncio.Future[BinaryIO] = asyncio.ensure_future(asyncio.to_thread(_open, path, mode))
    try:
        f = await asyncio.shield(opening)
    except asyncio.CancelledError:
        # The thread may still succeed: close what it opens (on Windows an open
        # handle would also keep a cancel from deleting the partial).
        opening.add_done_callback(_close_opened)
        raise
    return f


def _open(path: Path, mode: str) -> BinaryIO:
    return cast("BinaryIO", open(path, mode))


def _close_opened(opening: asyncio.Future[BinaryIO]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result().close()


async def _in_thread(fn: Callable[[], T], stop: threading.Event | None = None) -> T:
    """``fn()`` in a worker thread that is never left running behind a cancelled caller.

    The thread works on a file handle the caller may close (or, for the
    engine's handle, release the lock of) as soon as this returns; so on
    cancellation ``stop`` is set and the thread is waited for (it stops within
    one block) before the cancellation goes on.
    """
    running = asyncio.ensure_future(asyncio.to_thread(fn))
    try:
        return await asyncio.shield(running)
    except asyncio.CancelledError:
        if stop is not None:
            stop.set()
        while not running.done():
            try:
                await asyncio.wait([running])
            except asyncio.CancelledError:
                continue
        if not running.cancelled():
            running.exception()  # retrieved: no "never retrieved" warning
        raise


async def _hash_prefix_off_loop(f: BinaryIO, length: int) -> HASH:
    stop = threading.Event()
    return await _in_thread(functools.partial(_hash_prefix, f, length, stop), stop)


def _hash_prefix(f: BinaryIO, length: int, stop: threading.Event) -> HASH:
    """sha256 of the first ``length`` bytes of ``f``, read through that handle.

    ``os.pread`` leaves the handle's position alone; where it does not exist
    (Windows) the handle is seeked and read, which is safe because nothing
    else uses it meanwhile. Raises ProtocolError ``partial_changed`` if the
    file is shorter than ``length`` (it was that long a moment ago).
    """
    hasher = hashlib.sha256()
    f.flush()
    fd = f.fileno()
    use_pread = hasattr(os, "pread")
    if not use_pread:
        f.seek(0)
    done = 0
    while done < length and not stop.is_set():
        want = min(length - done, _HASH_BLOCK)
        piece = os.pread(fd, want, done) if use_pread else f.read(want)
        if not piece:
            raise _partial_changed(done, length)
        hasher.update(piece)
        done += len(piece)
    return hasher


def _undo(f: BinaryIO, target: _Target, start: int, *, existed: bool) -> None:
    """Take back this call's writes: the prefix stays; a file this call created goes."""
    f.truncate(start)
    if not start and not existed and target.path is not None:
        f.close()
        target.path.unlink(missing_ok=True)
