"""Who is signed in: sign in, switch, sign out, and the server ending a session.

:class:`Session` is the only way a front end changes the signed-in user or
identity. It hands out :class:`~manuscript_gui.domain.SessionInfo` snapshots,
never the client or the database; task actions and reads live in
:class:`~manuscript_gui.services.exports.ExportService`, which owns a Session.

Rules (docs/behaviour.md "The scheduler", docs/engine.md "Sessions"):

- Signing in while someone is signed in is a **switch**: the new session
  becomes current first (the bus hears only it from then on), the old one's
  running task stops (*switched user*), its listings stop, it is logged out on
  the server and its database closed; then the new queue starts.
- **Signing out** clears the current user first (nothing new starts), then
  stops the task (*logged out*); no request is sent after it.
- **A 401** anywhere ends the session: the user is cleared, the task pauses
  (*login expired*), :class:`~manuscript_gui.core.events.SessionChanged`
  (``login_expired``) tells the front end to ask for a new sign-in.

**A front end's own server calls** (the sign-in with ``retry=True``, asking
who is signed in, the services' project and folder browsing) follow the
engine's retry rules (:func:`call_server`); what still fails raises
:class:`ServerCallFailed` with the last error and the number of attempts.
The errors a front end catches are re-exported here, so it never imports
``net`` or ``storage``: :class:`InvalidCredentials` (wrong user name or
password), :class:`IdentityNotAllowed`, :class:`Unauthorized` (the session
ended under a call), :class:`NetworkError`, :class:`ApiError` (their base),
:class:`StorageError` (the identity's database cannot be opened; a damaged
one is moved aside first).
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from manuscript_gui.config import AppPaths, Settings
from manuscript_gui.core.async_store import AsyncStore
from manuscript_gui.core.events import EventBus, SessionChanged
from manuscript_gui.core.retry import RetryPolicy, Trouble, classify, with_retries
from manuscript_gui.core.task_queue import TaskQueueManager, UserContext
from manuscript_gui.core.threads import acquire_in_thread
from manuscript_gui.domain import IdentityChoice, SessionChange, SessionInfo, StopReason
from manuscript_gui.net import (
    ApiClient,
    ApiError,
    Identity,
    IdentityNotAllowed,
    InvalidCredentials,
    LoginResult,
    NetworkError,
    Timeouts,
    Unauthorized,
)
from manuscript_gui.storage import ExportStore, StorageError, open_identity_db

__all__ = [
    "ApiError",
    "IdentityNotAllowed",
    "InvalidCredentials",
    "NetworkError",
    "ServerCallFailed",
    "Session",
    "StorageError",
    "Unauthorized",
    "call_server",
]

_log = logging.getLogger(__name__)
_keys = itertools.count(1)
T = TypeVar("T")

Hook = Callable[[UserContext], Awaitable[None]]


class ServerCallFailed(Exception):
    """A server call made for a front end failed for good, after the engine's retries.

    Raised by the sign-in with ``retry=True``, :meth:`Session.refresh` and the
    export service's browsing (``projects``, ``children``). Not raised for a
    refused login (:class:`InvalidCredentials`, :class:`IdentityNotAllowed`)
    or an ended session (:class:`Unauthorized`): those propagate as they are.

    Attributes:
        call: what was asked: ``"sign_in"``, ``"me"``, ``"projects"`` or ``"children"``.
        error: the client's last error.
        attempts: requests made (1: the answer would not change, so it was not repeated;
            429 answers, which spend no retry, count too).
        reason: :attr:`StopReason.SERVER_UNREACHABLE` (no connection, a TLS handshake
            that failed), :attr:`StopReason.SERVER_UNAVAILABLE` (5xx, timeouts, cut
            connections, 429s that never eased), or ``None`` when the answer itself
            was refused (a malformed page, another 4xx).
    """

    def __init__(self, call: str, error: ApiError, attempts: int) -> None:
        super().__init__(call, error, attempts)
        self.call = call
        self.error = error
        self.attempts = attempts
        trouble = classify(error)
        self.reason: StopReason | None = (
            StopReason.SERVER_UNREACHABLE
            if trouble in (Trouble.UNREACHABLE, Trouble.TLS)
            else StopReason.SERVER_UNAVAILABLE
            if trouble in (Trouble.SERVER, Trouble.BACKPRESSURE)
            else None
        )

    def __str__(self) -> str:
        tried = f" after {self.attempts} attempts" if self.attempts > 1 else ""
        return f"{self.call} failed{tried}: {self.error}"


async def call_server(call: str, fn: Callable[[], Awaitable[T]], policy: RetryPolicy) -> T:
    """``await fn()`` under the engine's retry rules (:func:`with_retries`), counting attempts.

    *call* names the request for :class:`ServerCallFailed`. A refused login or
    an ended session propagate as they are; any other :class:`ApiError` that
    survives the retries becomes :class:`ServerCallFailed`.
    """
    attempts = 0

    async def attempt() -> T:
        nonlocal attempts
        attempts += 1
        return await fn()

    try:
        return await with_retries(attempt, policy)
    except (Unauthorized, InvalidCredentials, IdentityNotAllowed):
        raise
    except ApiError as exc:
        raise ServerCallFailed(call, exc, attempts) from exc


class Session:
    """The signed-in session of one app (or CLI run). Not thread-safe: use the event loop.

    Args:
        settings: read at each sign-in (CA bundle, concurrency).
        paths: where identity databases live (``None``: the app's default).
        events: the app's bus; its current session follows this object.
        scheduler: the queue, told who is current.
        timeouts: network timeouts for the session's client.
        on_started: run once a new session is current and the old one is gone
            (the export service repairs and starts its queue there).
        on_ending: run before a session's client and database close (the
            export service stops that session's listings there).
        retry_policy: the retry rules of the calls made for a front end (the
            export service passes the settings' *retries*).
    """

    def __init__(
        self,
        *,
        settings: Callable[[], Settings],
        paths: AppPaths | None,
        events: EventBus,
        scheduler: TaskQueueManager,
        timeouts: Timeouts,
        on_started: Hook,
        on_ending: Hook,
        retry_policy: Callable[[], RetryPolicy] = RetryPolicy,
    ) -> None:
        self._settings = settings
        self._retry_policy = retry_policy
        self._paths = paths
        self._events = events
        self._scheduler = scheduler
        self._timeouts = timeouts
        self._on_started = on_started
        self._on_ending = on_ending
        self._infos: dict[int, SessionInfo] = {}
        self._ending: set[asyncio.Task[None]] = set()  # sessions closing after a 401

    # -- reading -------------------------------------------------------------------

    @property
    def current(self) -> SessionInfo | None:
        """Who is signed in now (``None``: nobody)."""
        ctx = self._scheduler.user
        return None if ctx is None else self._infos.get(ctx.key)

    def context(self) -> UserContext | None:
        """The current session's engine context (services only; never for front ends)."""
        return self._scheduler.user

    # -- changing ------------------------------------------------------------------

    def _client(self, server_url: str) -> ApiClient:
        settings = self._settings()
        return ApiClient(
            server_url,
            ca_bundle=settings.ca_bundle,
            timeouts=self._timeouts,
            max_connections=max(settings.concurrency, 4),
        )

    async def identities(
        self, server_url: str, username: str, password: str
    ) -> tuple[IdentityChoice, ...]:
        """Check the password and say which identities the user may sign in as.

        For a sign-in dialog that offers the identities after the password;
        changes nothing (the check's session is logged out at once). Errors
        are the client's (``InvalidCredentials``, ``ConnectError``, ...).
        """
        async with self._client(server_url) as client:
            result = await client.login(username, password)
            try:
                return _choices(result)
            finally:
                try:
                    await client.logout()
                except ApiError as exc:
                    _log.info("logging out the identity check failed: %s", exc)

    async def sign_in(
        self,
        server_url: str,
        username: str,
        password: str,
        user_type: str | None = None,
        *,
        retry: bool = False,
    ) -> SessionInfo:
        """Sign in (or switch), open that identity's database and start its queue.

        Login errors (wrong password, unknown identity, unreachable server,
        TLS) propagate as the client's exceptions, with nothing changed. With
        *retry* the login request follows the engine's retry rules first (5xx,
        timeouts and refused connections retried with back-off up to the
        settings' *retries*, 429 waited out): what still fails raises
        :class:`ServerCallFailed`; a wrong password or identity is never
        repeated. A database that cannot be opened raises :class:`StorageError`.
        """
        client = self._client(server_url)
        try:
            login = functools.partial(client.login, username, password, user_type)
            if retry:
                result = await call_server("sign_in", login, self._retry_policy())
            else:
                result = await login()
            # A sign-in cancelled (a dialog's Cancel) while the database opens closes it.
            store = await acquire_in_thread(
                ExportStore.close,
                open_identity_db,
                server_url,
                result.user.id,
                result.user_type,
                paths=self._paths,
            )
        except BaseException:
            await client.aclose()
            raise
        key = next(_keys)
        ctx = UserContext(
            server_url=server_url,
            user_id=result.user.id,
            user_name=result.user.name,
            user_type=result.user_type,
            client=client,
            db=AsyncStore(store, name=f"db-{result.user.id}-{result.user_type}"),
            events=self._events.sink(key),
        )
        choices = _choices(result)
        info = SessionInfo(
            key=key,
            server_url=server_url,
            user_id=result.user.id,
            user_name=result.user.name,
            user_type=result.user_type,
            identity_label=_label(choices, result.user_type),
            identities=choices,
        )
        self._infos[key] = info
        old = self._scheduler.user
        previous = None if old is None else self._infos.get(old.key)
        # The new session is current first: from here on only its events are heard.
        self._events.set_session(key)
        self._scheduler.set_user(ctx)
        change = SessionChange.SWITCHED if old is not None else SessionChange.SIGNED_IN
        self._events.publish(SessionChanged(change, info, previous))
        if old is not None:
            await self._scheduler.stop_running(StopReason.SWITCHED_USER)
            await self._end(old)
        await self._on_started(ctx)
        return info

    async def sign_out(self) -> None:
        """Clear the user first (nothing new starts), then stop the task (*logged out*)."""
        ctx = self._scheduler.user
        previous = self.current
        self._events.set_session(None)
        self._scheduler.set_user(None)
        if ctx is not None:
            self._events.publish(SessionChanged(SessionChange.SIGNED_OUT, None, previous))
        await self._scheduler.stop_running(StopReason.LOGGED_OUT)
        if ctx is not None:
            await self._end(ctx)
        # Sessions that died of a 401 may still be closing: finish that too.
        await asyncio.gather(*list(self._ending), return_exceptions=True)

    def expired(self, ctx: UserContext) -> None:
        """The server refused *ctx*'s session (401): it ends here (the scheduler has
        cleared the user already)."""
        _log.warning("login expired for %s/%s", ctx.user_id, ctx.user_type)
        if self._events.session == ctx.key:
            self._events.set_session(None)
            self._events.publish(
                SessionChanged(SessionChange.LOGIN_EXPIRED, None, self._infos.get(ctx.key))
            )
        # Nobody will log a dead session out: close its connections and its
        # database now (no logout request: the token is refused anyway).
        job = asyncio.get_running_loop().create_task(self._end(ctx, server_logout=False))
        self._ending.add(job)
        job.add_done_callback(self._ending.discard)

    async def _end(self, ctx: UserContext, *, server_logout: bool = True) -> None:
        if ctx.closed:
            return
        await self._on_ending(ctx)
        if server_logout:
            try:
                await ctx.client.logout()
            except ApiError as exc:
                _log.info("server logout failed (the session ends locally anyway): %s", exc)
        await ctx.client.aclose()
        await ctx.db.close()
        ctx.closed = True
        self._infos.pop(ctx.key, None)

    async def refresh(self) -> SessionInfo:
        """Ask the server who the current session speaks for (``GET /me``), retried.

        The server's answer is returned, and becomes the session's snapshot
        (:attr:`current`) when it names the session's own user and identity (the
        user's name and identities may have changed since the sign-in); nothing
        is published. A window checks with it that a session survived a long
        sleep; the command line's ``whoami`` shows it.

        Raises:
            RuntimeError: nobody is signed in.
            Unauthorized: the server ended the session.
            ServerCallFailed: the request failed after the retries.
        """
        ctx = self._scheduler.user
        if ctx is None:
            raise RuntimeError("nobody is signed in")
        me = await call_server("me", ctx.client.me, self._retry_policy())
        choices = _choices_of(me.identities)
        info = SessionInfo(
            key=ctx.key,
            server_url=ctx.server_url,
            user_id=me.user.id,
            user_name=me.user.name,
            user_type=me.user_type,
            identity_label=_label(choices, me.user_type),
            identities=choices,
        )
        same = (me.user.id, me.user_type) == (ctx.user_id, ctx.user_type)
        if same and self._scheduler.user is ctx and ctx.key in self._infos:
            self._infos[ctx.key] = info
        return info

    def database_path(self) -> Path | None:
        """Where the current identity's database lives (for its queue lock)."""
        ctx = self._scheduler.user
        return None if ctx is None else ctx.db.store.path


def _choices(result: LoginResult) -> tuple[IdentityChoice, ...]:
    return _choices_of(result.identities)


def _choices_of(identities: tuple[Identity, ...]) -> tuple[IdentityChoice, ...]:
    return tuple(IdentityChoice(i.user_type, i.label) for i in identities)


def _label(choices: tuple[IdentityChoice, ...], user_type: str) -> str:
    return next((c.label for c in choices if c.user_type == user_type), user_type)
