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
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from manuscript_gui.config import AppPaths, Settings
from manuscript_gui.core.async_store import AsyncStore
from manuscript_gui.core.events import EventBus, SessionChanged
from manuscript_gui.core.task_queue import TaskQueueManager, UserContext
from manuscript_gui.domain import IdentityChoice, SessionChange, SessionInfo, StopReason
from manuscript_gui.net import ApiClient, ApiError, LoginResult, Timeouts
from manuscript_gui.storage import open_identity_db

__all__ = ["Session"]

_log = logging.getLogger(__name__)
_keys = itertools.count(1)

Hook = Callable[[UserContext], Awaitable[None]]


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
    ) -> None:
        self._settings = settings
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
        self, server_url: str, username: str, password: str, user_type: str | None = None
    ) -> SessionInfo:
        """Sign in (or switch), open that identity's database and start its queue.

        Login errors (wrong password, unknown identity, unreachable server,
        TLS) propagate as the client's exceptions, with nothing changed.
        """
        client = self._client(server_url)
        try:
            result = await client.login(username, password, user_type)
            store = await asyncio.to_thread(
                open_identity_db, server_url, result.user.id, result.user_type, paths=self._paths
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
            identity_label=next(
                (c.label for c in choices if c.user_type == result.user_type), result.user_type
            ),
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

    def database_path(self) -> Path | None:
        """Where the current identity's database lives (for its queue lock)."""
        ctx = self._scheduler.user
        return None if ctx is None else ctx.db.store.path


def _choices(result: LoginResult) -> tuple[IdentityChoice, ...]:
    return tuple(IdentityChoice(i.user_type, i.label) for i in result.identities)
