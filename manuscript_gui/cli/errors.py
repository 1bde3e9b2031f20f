"""The command line's own errors, and the wording of its own server calls that failed.

- :class:`UsageError`: something asked for that cannot be (an unknown project,
  folder or task, a queue another process runs): exit 2.
- :class:`ServerTrouble`: one of the command line's own server calls (signing
  in, asking who is signed in, the project and folder lookups) failed after the
  engine's retries (the service raised
  :class:`~manuscript_gui.services.session.ServerCallFailed`): exit 4, saying
  what failed and how often it was tried, e.g. ``server unavailable: listing
  the projects failed after 6 attempts (5 retries): 503 ...``.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from manuscript_gui.services.messages import reason_label
from manuscript_gui.services.session import ServerCallFailed

__all__ = ["ServerTrouble", "UsageError", "server_call"]

T = TypeVar("T")


class UsageError(Exception):
    """Something the user asked for that cannot be (an unknown project, task, folder...)."""


class ServerTrouble(Exception):
    """A server call of the command line itself failed for good (exit 4).

    ``what`` says what the call did (``"listing the projects"``); ``failure``
    is the service's account of it (the last error, the attempts, and whether
    the server was unreachable or unavailable).
    """

    def __init__(self, what: str, failure: ServerCallFailed) -> None:
        super().__init__(what, failure)
        self.what = what
        self.failure = failure

    def __str__(self) -> str:
        reason = self.failure.reason
        head = f"{reason_label(reason)}: " if reason is not None else ""
        text = f"{head}{self.what} failed"
        attempts = self.failure.attempts
        if attempts > 1:
            retries = attempts - 1
            text += f" after {attempts} attempts ({retries} "
            text += "retry)" if retries == 1 else "retries)"
        return f"{text}: {self.failure.error}"


async def server_call(what: str, call: Awaitable[T]) -> T:
    """``await call``, a service call that talks to the server for the command line;
    its :class:`ServerCallFailed` becomes :class:`ServerTrouble` named *what*.

    A refused login or an ended session propagate as they are (the program
    names them).
    """
    try:
        return await call
    except ServerCallFailed as exc:
        raise ServerTrouble(what, exc) from exc
