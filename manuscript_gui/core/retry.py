"""How the engine reacts to trouble: one retry policy, a circuit breaker, back-pressure.

Used by the listing (``listing.py``) and the downloads (``task_manager.py``)
alike, so both wait the same way and judge errors the same way.

- :func:`classify` sorts a client error into what it means for an export:
  the session is over, the server asks us to slow down (429), the server as a
  whole is in trouble (5xx, refused or cut connections, timeouts, a trickle),
  this one answer was odd (worth a bounded retry), or it will never change
  (fail the file at once).
- :class:`RetryPolicy` is the back-off: exponential with jitter, capped, and
  never shorter than the server's ``Retry-After``.
- :class:`ServerHealth` is the circuit breaker. A file whose retries run out
  on server-wide trouble fails on its own only if some other file succeeded
  meanwhile (then the trouble is this file's); if nothing succeeded since its
  first failure, the *server* is down and the task pauses (*server
  unavailable*, with the last error), its files still waiting. 3000 files
  therefore pause after one file's back-off schedule (~15 s), not after
  3000 × 6 attempts.
- :class:`ConcurrencyGate` is back-pressure: a 429 halves the number of files
  in flight (at most once per second), every success adds back a fraction
  (additive increase, multiplicative decrease: AIMD, as TCP does), up to the
  configured concurrency. A 429 never spends a file's retries.
"""

from __future__ import annotations

import asyncio
import collections
import enum
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from manuscript_gui.net import (
    ApiError,
    ConnectError,
    HTTPError,
    NetworkError,
    RateLimited,
    ServerError,
    TLSError,
    Unauthorized,
    is_transient,
    retry_after_of,
)

__all__ = [
    "ConcurrencyGate",
    "RetryPolicy",
    "ServerHealth",
    "Trouble",
    "classify",
    "with_retries",
]


class Trouble(enum.Enum):
    """What an error means for the export (see :func:`classify`)."""

    SESSION = "session"
    """401: the session is over; the task pauses *login expired*."""
    BACKPRESSURE = "backpressure"
    """429: slow down; the request is repeated, no retry is spent."""
    SERVER = "server"
    """The server (or the way to it) is in trouble: 5xx, connection refused, reset or
    cut, timeouts, too slow. Retried; see :class:`ServerHealth` for what happens then."""
    UNREACHABLE = "unreachable"
    """No connection at all (refused, DNS, connect timeout): like SERVER, but the stop
    reason says *server unreachable*."""
    TLS = "tls"
    """The TLS handshake failed: every request would; the task stops at once."""
    ANSWER = "answer"
    """This answer did not fit (an HTML page, a digest that disagrees): bounded retries."""
    PERMANENT = "permanent"
    """Will never change (404, 410, 403, an encoded body, a redirect, bad framing)."""


def classify(exc: BaseException) -> Trouble:
    """Sort an error raised by :class:`~manuscript_gui.net.ApiClient` (see :class:`Trouble`)."""
    if isinstance(exc, Unauthorized):
        return Trouble.SESSION
    if isinstance(exc, RateLimited):
        return Trouble.BACKPRESSURE
    if isinstance(exc, TLSError):
        return Trouble.TLS
    if isinstance(exc, ConnectError):
        return Trouble.UNREACHABLE
    if isinstance(exc, NetworkError):
        return Trouble.SERVER
    if isinstance(exc, ServerError | HTTPError) and exc.status >= 500:
        return Trouble.SERVER if is_transient(exc) else Trouble.PERMANENT
    if isinstance(exc, HTTPError) and exc.status == 408:
        return Trouble.SERVER
    if isinstance(exc, ApiError) and is_transient(exc):
        return Trouble.ANSWER
    return Trouble.PERMANENT


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Back-off between attempts: ``base * 2**(n-1)`` seconds, capped, times a jitter
    in [0.5, 1], and at least the server's ``Retry-After`` (itself capped)."""

    retries: int = 5
    """Further attempts after the first, for one file (or one listing request)."""
    base: float = 0.5
    cap: float = 30.0
    retry_after_cap: float = 300.0
    rate_limit_patience: float = 300.0
    """Seconds a file keeps waiting on 429s while *nothing* succeeds before the task
    pauses *server unavailable* (back-pressure that never eases is an outage)."""
    suspect_limit: int = 8
    """Files failing in a row, none succeeding in between, for reasons that are not the
    file's own (a web page instead of the file, a redirect, bad framing, an encoded body,
    a 5xx that is not retried): at this many the answers are the server's (or a proxy's)
    doing, the task pauses *server unavailable* and those files wait again."""

    def delay(self, tries: int, exc: BaseException | None = None) -> float:
        """Seconds to wait before attempt ``tries + 1`` after *exc*."""
        delay: float = min(self.cap, self.base * 2.0 ** max(tries - 1, 0))
        delay *= random.uniform(0.5, 1.0)  # jitter: spread the retries of many files
        after = None if exc is None else retry_after_of(exc)
        if after is not None:
            delay = max(delay, min(after, self.retry_after_cap))
        return delay


class ServerHealth:
    """The circuit breaker of one run: counts successes, remembers the last server error.

    A file notes :meth:`mark` at its first server-wide failure; when its retries
    run out it asks :meth:`down_since` whether anything succeeded since.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.successes = 0
        self.last_error: BaseException | None = None

    def success(self) -> None:
        self.successes += 1

    def failure(self, exc: BaseException) -> None:
        self.last_error = exc

    def mark(self) -> tuple[int, float]:
        """A point to compare with later: (successes so far, now)."""
        return self.successes, self._clock()

    def down_since(self, mark: tuple[int, float]) -> bool:
        """Whether nothing succeeded since *mark*."""
        return self.successes == mark[0]

    def waited(self, mark: tuple[int, float]) -> float:
        """Seconds since *mark*."""
        return self._clock() - mark[1]


class ConcurrencyGate:
    """Files in flight, adjusted by back-pressure (AIMD); see the module docstring.

    ``ticket = await gate.acquire()`` before a request, ``gate.release()`` after
    it, :meth:`back_off` with the ticket on a 429. :attr:`limit` is between 1
    and *maximum*; a lower limit lets requests in flight finish and holds new
    ones. Like TCP's congestion window, the limit halves at most once per
    window: only a 429 to a request sent after the last decrease counts, so
    one burst of refusals (every request in flight refused at once) halves it
    once, not eight times.
    """

    def __init__(self, maximum: int) -> None:
        if maximum < 1:
            raise ValueError("maximum must be at least 1")
        self.maximum = maximum
        self._limit = float(maximum)
        self._active = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._sent = 0  # requests let through so far
        self._decreased_at = 0  # ``_sent`` when the limit last went down

    @property
    def limit(self) -> int:
        """Requests allowed in flight now."""
        return max(1, int(self._limit))

    @property
    def active(self) -> int:
        return self._active

    async def acquire(self) -> int:
        """Wait for a free slot (first come, first served); returns the request's ticket."""
        if self._active >= self.limit or self._waiters:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter  # release() hands its slot over (``_active`` counted there)
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self.release()  # handed over just as we were cancelled: give it back
                else:
                    self._waiters.remove(waiter)
                raise
        else:
            self._active += 1
        self._sent += 1
        return self._sent

    def release(self) -> None:
        """Give a slot back (synchronous: safe in ``finally`` during cancellation)."""
        self._active -= 1
        while self._waiters and self._active < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self._active += 1
                waiter.set_result(None)

    def back_off(self, ticket: int) -> None:
        """The request with *ticket* got a 429: halve the limit, once per window."""
        if ticket > self._decreased_at:
            self._decreased_at = self._sent
            self._limit = max(1.0, self._limit / 2)

    def success(self) -> None:
        """A request went through: add back 1/limit (one whole slot per limit successes).

        The waiters see a raised limit at the next :meth:`release`.
        """
        self._limit = min(float(self.maximum), self._limit + 1.0 / self._limit)


_T = TypeVar("_T")

#: The troubles a request is repeated for, spending one retry each time.
_RETRIED = frozenset({Trouble.SERVER, Trouble.UNREACHABLE, Trouble.ANSWER})


async def with_retries(
    call: Callable[[], Awaitable[_T]],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    health: ServerHealth | None = None,
) -> _T:
    """``await call()`` under the engine's retry rules; its result, or the last error.

    One request (a listing page, a project lookup) that is not a download:

    - :attr:`Trouble.BACKPRESSURE` (429) repeats after ``Retry-After`` (at least
      ``policy.delay(1)``) without spending a retry, until nothing at all has
      succeeded for ``policy.rate_limit_patience`` seconds; then that 429 is raised;
    - :attr:`Trouble.SERVER`, :attr:`Trouble.UNREACHABLE` and
      :attr:`Trouble.ANSWER` repeat after ``policy.delay(n)`` for the n-th retry,
      at most ``policy.retries`` times; then the last error is raised;
    - anything else (:attr:`Trouble.SESSION`, :attr:`Trouble.TLS`,
      :attr:`Trouble.PERMANENT`, and every exception that is not an
      :class:`~manuscript_gui.net.ApiError`) is raised at once.

    ``call`` makes a fresh attempt each time it is called. ``health`` is the
    circuit breaker of a run whose requests share the server (the listing's
    folders): a success recorded there by any caller restarts the patience on
    429s, and this call's own success is recorded there. Without it the
    patience runs from this call's first 429. Callers map the error they get
    to their own reasons (the listing to *server unavailable*, *listing
    failed*, ...; the command line to its exit codes).

    Raises:
        ApiError: the last error, when it is not retried or its retries ran out.
        Exception: whatever ``call`` raised that is not an ``ApiError``, at once.
    """
    if health is None:
        health = ServerHealth()
    tries = 0
    rate_mark: tuple[int, float] | None = None
    while True:
        try:
            result = await call()
        except ApiError as exc:
            trouble = classify(exc)
            if trouble is Trouble.BACKPRESSURE:
                if rate_mark is None or not health.down_since(rate_mark):
                    rate_mark = health.mark()  # the patience runs from the last success
                elif health.waited(rate_mark) > policy.rate_limit_patience:
                    raise
                await sleep(policy.delay(1, exc))
                continue
            if trouble not in _RETRIED or tries >= policy.retries:
                raise
            tries += 1
            await sleep(policy.delay(tries, exc))
            continue
        health.success()
        return result
