"""Who is signed in, as front ends see it: frozen snapshots, never a client or a database."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum, unique

__all__ = ["IdentityChoice", "QueueOwner", "SessionChange", "SessionInfo"]


@dataclass(frozen=True, slots=True)
class IdentityChoice:
    """One identity (``userType``) a user may sign in as, with its display label."""

    user_type: str
    label: str


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """One signed-in session: a server, a user and one of the user's identities.

    ``key`` is unique per sign-in in this process (a switch, or signing in again
    after a logout, gives a new one): events of a session that is no longer
    current are dropped by comparing it.
    """

    key: int
    server_url: str
    user_id: str
    user_name: str
    user_type: str
    identity_label: str
    identities: tuple[IdentityChoice, ...] = ()


@unique
class SessionChange(StrEnum):
    """What happened to the session (see ``core.events.SessionChanged``)."""

    SIGNED_IN = "signed_in"
    SWITCHED = "switched"
    """Another user or identity signed in while one was signed in."""
    SIGNED_OUT = "signed_out"
    LOGIN_EXPIRED = "login_expired"
    """The server refused the session (401): the user is signed out; sign in again."""


@dataclass(frozen=True, slots=True)
class QueueOwner:
    """Who holds an identity's queue in *another* process, as its owner record says.

    Any field may be unknown (``None``). ``front_end`` is ``"window"`` or
    ``"cli"`` (a newer app may write another word); ``task`` is the id of the
    task it runs now, if any. Written and read by
    :mod:`manuscript_gui.services.queue_lock`.
    """

    pid: int | None
    task: int | None
    front_end: str | None
