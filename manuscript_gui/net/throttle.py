"""Download rates: one shared bandwidth limit, and a minimum speed per attempt.

:class:`BandwidthLimiter` caps the bytes per second of every download that
awaits it (the engine shares one per running task, so the limit holds over
all its workers, and changes the rate when the setting changes).
:class:`LowSpeedGuard` is curl's ``CURLOPT_LOW_SPEED_LIMIT`` /
``CURLOPT_LOW_SPEED_TIME`` for one attempt: it tells when a body has arrived
slower than a floor for a whole period.

Both are plain objects on the event loop: no background task, no polling.
The limiter arms at most one timer (``loop.call_later``) for the whole queue;
the guard is a few arithmetic operations per received chunk.

Why not ``aiolimiter``: its ``AsyncLimiter`` refuses amounts above its
capacity (``ValueError``; body pieces routinely exceed a low limit), derives
its rate once in the constructor (changing it means writing private
attributes), has no "unlimited" setting and wakes waiters by polling with
timeouts. The token bucket below is short and does exactly what a download
limit needs.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from typing import Final

__all__ = ["BandwidthLimiter", "LowSpeedGuard"]


def _check_rate(rate: float | None) -> float | None:
    if rate is None:
        return None
    if not isinstance(rate, int | float) or isinstance(rate, bool):
        raise TypeError(f"rate must be a number of bytes per second or None, got {rate!r}")
    if not math.isfinite(rate) or rate <= 0:
        raise ValueError(f"rate must be a positive number of bytes per second, got {rate!r}")
    return float(rate)


class BandwidthLimiter:
    """A token bucket over bytes per second, shared by concurrent downloads.

    Args:
        rate: bytes per second, or ``None`` for no limit.

    A download calls :meth:`take` for the body bytes it holds and may then
    write as many as it was granted: at most :attr:`piece_bytes`, about a
    sixteenth of a second at the rate in force *when the grant is made*. A
    piece is granted when the bucket is not in debt; its size is then taken
    from the bucket, which may go negative, so the *next* grant waits until
    the debt is paid off. Over any interval of ``t`` seconds at most
    ``burst + rate * t + one piece`` bytes pass, where the burst is
    :data:`BURST_SECONDS` of the rate (what the bucket saved up while nobody
    asked; it starts empty).

    Fairness: waiters are served first come, first served, one piece each,
    so concurrent downloads take turns and share the rate evenly. A cancelled
    waiter leaves the queue without being charged.

    :meth:`set_rate` takes effect at once, for the pieces already waiting
    too (their size is decided when they are granted). A debt never takes
    longer to pay off than it would have at the old rate, so lowering the
    limit a lot does not stall on a piece granted under the high one.

    No polling: one timer (``loop.call_later``) for the whole queue, armed
    only while someone waits. Not thread-safe: call :meth:`take`,
    :meth:`acquire` and :meth:`set_rate` from the thread of the event loop
    that runs the downloads.
    """

    #: The bucket holds at most this many seconds of the rate.
    BURST_SECONDS: Final = 0.25
    #: Bounds of :attr:`piece_bytes`.
    MIN_PIECE: Final = 4 * 1024
    MAX_PIECE: Final = 1024 * 1024
    #: :attr:`piece_bytes` is this fraction of a second at the rate.
    PIECE_SECONDS: Final = 1 / 16

    def __init__(self, rate: float | None = None) -> None:
        self._rate = _check_rate(rate)
        self._tokens = 0.0
        self._stamp = time.monotonic()
        self._waiters: deque[tuple[asyncio.Future[int], int]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None

    @property
    def rate(self) -> float | None:
        """The limit in bytes per second, ``None`` when unlimited."""
        return self._rate

    @property
    def piece_bytes(self) -> int:
        """The most one grant of :meth:`take` gives at the current rate.

        About a sixteenth of a second at the rate, 4 KiB to 1 MiB: pieces of
        a whole MiB under a limit of a few hundred KB/s would let a file, its
        progress and its share of the link advance in jumps of seconds.
        """
        if self._rate is None:
            return self.MAX_PIECE
        return int(min(self.MAX_PIECE, max(self.MIN_PIECE, self._rate * self.PIECE_SECONDS)))

    def set_rate(self, rate: float | None) -> None:
        """Change the limit (bytes per second, ``None``: unlimited) with immediate effect.

        Raises:
            ValueError: a rate that is not a positive finite number.
            TypeError: not a number.
        """
        new = _check_rate(rate)
        now = time.monotonic()
        self._refill(now)
        old = self._rate
        self._rate = new
        if new is None or old is None:
            # Bytes that passed while there was no limit are not charged.
            self._tokens = 0.0
        elif self._tokens < 0:
            # A debt never takes longer to pay off than under either rate: when
            # lowering, it keeps its time at the old rate (a piece granted at
            # 10 MB/s is not paid at 10 KB/s); when raising, its bytes.
            self._tokens *= min(1.0, new / old)
        else:
            self._tokens = min(self._tokens, new * self.BURST_SECONDS)
        if self._waiters:
            self._dispatch()

    async def take(self, nbytes: int) -> int:
        """Wait for a grant and return how many of ``nbytes`` may pass now.

        The grant is between 1 and ``min(nbytes, piece_bytes)`` bytes (all of
        ``nbytes`` when unlimited); call again for the rest. ``0`` returns
        ``0`` at once.

        Raises:
            ValueError: ``nbytes`` is negative.
        """
        if nbytes < 0:
            raise ValueError("nbytes must not be negative")
        if self._rate is None or nbytes == 0:
            return nbytes
        waiters = self._waiters
        while waiters and waiters[0][0].done():
            waiters.popleft()
        if not waiters:
            self._refill(time.monotonic())
            if self._tokens >= 0:
                granted = min(nbytes, self.piece_bytes)
                self._tokens -= granted
                return granted
        loop = asyncio.get_running_loop()
        self._loop = loop
        future: asyncio.Future[int] = loop.create_future()
        waiters.append((future, nbytes))
        if self._timer is None:
            self._arm()
        # A cancellation cancels the future too; _dispatch then skips it.
        return await future

    async def acquire(self, nbytes: int) -> None:
        """Wait until all of ``nbytes`` have been granted, piece by piece.

        Raises:
            ValueError: ``nbytes`` is negative.
        """
        while nbytes > 0:
            nbytes -= await self.take(nbytes)
        if nbytes < 0:
            raise ValueError("nbytes must not be negative")

    def _refill(self, now: float) -> None:
        if self._rate is not None:
            self._tokens = min(
                self._tokens + (now - self._stamp) * self._rate, self._rate * self.BURST_SECONDS
            )
        self._stamp = now

    def _arm(self) -> None:
        """Wake :meth:`_dispatch` when the debt is paid off (the only timer)."""
        if self._timer is not None:
            self._timer.cancel()
        assert self._loop is not None
        delay = 0.0 if self._rate is None else max(0.0, -self._tokens / self._rate)
        self._timer = self._loop.call_later(delay, self._dispatch)

    def _dispatch(self) -> None:
        """Grant queued pieces in order while the bucket is not in debt; re-arm if any wait."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._refill(time.monotonic())
        waiters = self._waiters
        while waiters:
            future, nbytes = waiters[0]
            if future.done():
                waiters.popleft()
                continue
            if self._rate is None:
                granted = nbytes
            elif self._tokens < 0:
                break
            else:
                granted = min(nbytes, self.piece_bytes)
                self._tokens -= granted
            waiters.popleft()
            future.set_result(granted)
        if waiters:
            self._arm()


class LowSpeedGuard:
    """Tells when a transfer has been slower than ``limit`` bytes/s for ``period`` seconds.

    Args:
        limit: the floor in bytes per second (curl's ``LOW_SPEED_LIMIT``).
        period: seconds the speed must stay below it (curl's ``LOW_SPEED_TIME``).
        now: the start of the attempt, in :func:`time.monotonic` seconds.

    The speed is measured over a window of the last ``period`` seconds (up to
    an eighth more, the granularity of the marks kept), on a clock that
    excludes the time the caller reports through :meth:`exclude`: waiting
    for a bandwidth limiter is not slowness of the server. Nothing is judged
    before ``period`` seconds have passed. Cost per chunk: one comparison,
    and a mark (a tuple in a deque of at most ten) every ``period / 8``.
    """

    _MARKS_PER_PERIOD: Final = 8

    def __init__(self, limit: float, period: float, now: float) -> None:
        if not limit > 0 or not period > 0:
            raise ValueError("limit and period must be positive")
        self._limit = float(limit)
        self._period = float(period)
        self._step = self._period / self._MARKS_PER_PERIOD
        self._excluded = 0.0
        self._total = 0
        # (clock, bytes so far): the window runs from the oldest mark to now.
        self._marks: deque[tuple[float, int]] = deque([(now, 0)])
        self._next_mark = now + self._step

    @property
    def limit(self) -> float:
        """The floor in bytes per second."""
        return self._limit

    @property
    def period(self) -> float:
        """The seconds over which the speed is averaged."""
        return self._period

    def exclude(self, seconds: float) -> None:
        """Leave ``seconds`` (time spent waiting for something else) out of the clock."""
        self._excluded += seconds

    def add(self, nbytes: int, now: float) -> float | None:
        """Count ``nbytes`` received at ``now``; the speed (bytes/s) if too slow, else ``None``."""
        self._total += nbytes
        clock = now - self._excluded
        marks = self._marks
        if clock >= self._next_mark:
            marks.append((clock, self._total))
            self._next_mark = clock + self._step
        horizon = clock - self._period
        # Keep the newest mark that is at least one period old as the window start.
        while len(marks) > 1 and marks[1][0] <= horizon:
            marks.popleft()
        since, base = marks[0]
        span = clock - since
        if span < self._period:
            return None
        speed = (self._total - base) / span
        return speed if speed < self._limit else None
