"""The bandwidth limiter, the low-speed guard, the Timeouts that configure them,
and which errors are worth a retry.

No assertion here depends on how fast the machine is: waits that must not
end are many seconds long, waits that must end get generous deadlines. The
achieved rate is measured against the real server in
``test_download_policies.py``.
"""

from __future__ import annotations

import asyncio
import math

import pytest

from manuscript_gui.net import (
    BandwidthLimiter,
    NetworkTimeout,
    ProtocolError,
    Timeouts,
    TooSlow,
    is_transient,
)
from manuscript_gui.net.client import DEFAULT_TIMEOUTS
from manuscript_gui.net.throttle import LowSpeedGuard

# -- BandwidthLimiter --------------------------------------------------------------


async def test_unlimited_grants_everything_at_once() -> None:
    limiter = BandwidthLimiter()
    assert limiter.rate is None
    assert await limiter.take(50_000_000) == 50_000_000
    await limiter.acquire(50_000_000)
    assert await limiter.take(0) == 0


async def test_grants_are_pieces_of_the_current_rate() -> None:
    limiter = BandwidthLimiter(160_000)
    assert limiter.piece_bytes == 10_000
    assert await limiter.take(1_000_000) == 10_000
    assert await limiter.take(3) == 3
    assert BandwidthLimiter(10).piece_bytes == BandwidthLimiter.MIN_PIECE
    assert BandwidthLimiter(1e12).piece_bytes == BandwidthLimiter.MAX_PIECE


async def test_an_amount_far_above_the_rate_passes() -> None:
    """aiolimiter refuses this (ValueError); a body chunk of 1 MiB at 1 KB/s must pass."""
    limiter = BandwidthLimiter(1_000_000)
    await asyncio.wait_for(limiter.acquire(1_500_000), 30)


async def test_a_debt_makes_the_next_wait_and_unlimited_releases_it() -> None:
    limiter = BandwidthLimiter(100_000)
    limiter.set_rate(1e9)
    assert await limiter.take(10**9) == BandwidthLimiter.MAX_PIECE
    limiter.set_rate(4096)  # the debt is carried over as time: ~1 ms at the old rate
    await asyncio.wait_for(limiter.take(1), 30)
    # Now a real debt: a 4 KiB piece at 1 byte/s is more than an hour.
    limiter.set_rate(1)
    assert await limiter.take(10_000) == BandwidthLimiter.MIN_PIECE
    waiting = asyncio.ensure_future(limiter.take(10_000))
    await asyncio.sleep(0.2)
    assert not waiting.done()
    limiter.set_rate(None)
    assert await asyncio.wait_for(waiting, 30) == 10_000


async def test_raising_the_rate_applies_to_pieces_already_waiting() -> None:
    limiter = BandwidthLimiter(1)
    await limiter.take(4096)  # 4096 s of debt at 1 byte/s
    waiting = asyncio.ensure_future(limiter.take(4096))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    limiter.set_rate(10_000_000)  # the same debt is now 0.4 ms
    assert await asyncio.wait_for(waiting, 30) == 4096


async def test_waiters_are_served_first_come_first_served() -> None:
    limiter = BandwidthLimiter(1)
    await limiter.take(4096)  # 4096 s of debt
    order: list[int] = []

    async def one(i: int) -> None:
        await limiter.take(100)
        order.append(i)

    tasks = [asyncio.create_task(one(i)) for i in range(6)]
    await asyncio.sleep(0.05)
    assert order == []
    limiter.set_rate(1e9)
    await asyncio.wait_for(asyncio.gather(*tasks), 30)
    assert order == list(range(6))


async def test_a_cancelled_waiter_is_not_charged() -> None:
    limiter = BandwidthLimiter(100)
    await limiter.take(100)  # 1 s of debt
    # Granted, this one would cost 4096 bytes: 41 s more for everyone behind it.
    greedy = asyncio.ensure_future(limiter.acquire(10**9))
    modest = asyncio.ensure_future(limiter.take(10))
    await asyncio.sleep(0)
    greedy.cancel()
    assert await asyncio.wait_for(modest, 30) == 10
    with pytest.raises(asyncio.CancelledError):
        await greedy


@pytest.mark.parametrize("rate", [0, -5, math.inf, math.nan])
def test_bad_rates_are_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="rate"):
        BandwidthLimiter(rate)
    limiter = BandwidthLimiter(1000)
    with pytest.raises(ValueError, match="rate"):
        limiter.set_rate(rate)
    assert limiter.rate == 1000


async def test_bad_amounts_are_refused() -> None:
    limiter = BandwidthLimiter(1000)
    with pytest.raises(ValueError, match="negative"):
        await limiter.take(-1)
    with pytest.raises(ValueError, match="negative"):
        await limiter.acquire(-1)
    with pytest.raises(TypeError):
        BandwidthLimiter("fast")  # type: ignore[arg-type]


# -- LowSpeedGuard (clock given explicitly: nothing depends on real time) ---------------


def test_guard_judges_nothing_before_the_period() -> None:
    guard = LowSpeedGuard(1024, 60, now=1000.0)
    assert guard.add(1, 1030.0) is None
    assert guard.add(1, 1059.9) is None
    speed = guard.add(1, 1060.0)
    assert speed is not None
    assert speed == pytest.approx(3 / 60)


def test_guard_passes_a_fast_transfer() -> None:
    guard = LowSpeedGuard(1024, 60, now=0.0)
    for second in range(1, 600):
        assert guard.add(2048, float(second)) is None


def test_guard_catches_a_transfer_that_slows_down() -> None:
    """Fast for ten minutes, then a byte every 2 s: caught about a period later."""
    guard = LowSpeedGuard(1024, 60, now=0.0)
    t = 0.0
    while t < 600:
        t += 0.5
        assert guard.add(100_000, t) is None
    slow_from = t
    caught = None
    while caught is None:
        t += 2
        caught = guard.add(1, t)
        assert t < slow_from + 60 + 60 / 8 + 2, "not caught within a period and a mark"
    assert t >= slow_from + 60 - 2 * 60 / 8
    assert caught < 1024


def test_guard_leaves_out_excluded_time() -> None:
    """A download held back by the bandwidth limit for minutes is not slow."""
    guard = LowSpeedGuard(1024, 60, now=0.0)
    t = 0.0
    for _ in range(500):  # 2500 s on the wall clock, 500 s of its own
        t += 5.0
        guard.exclude(4.0)  # waited for the limiter
        assert guard.add(2000, t) is None  # 2000 bytes per second of its own
    # The same own time at 500 bytes per second of its own is too slow.
    slow = LowSpeedGuard(1024, 60, now=0.0)
    t = 0.0
    verdicts = []
    for _ in range(100):
        t += 5.0
        slow.exclude(4.0)
        verdicts.append(slow.add(500, t))
    caught = [v for v in verdicts if v is not None]
    assert caught
    assert caught[0] == pytest.approx(500, rel=0.2)


def test_guard_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="positive"):
        LowSpeedGuard(0, 60, now=0.0)
    with pytest.raises(ValueError, match="positive"):
        LowSpeedGuard(1024, 0, now=0.0)


# -- Timeouts ----------------------------------------------------------------------------


def test_timeouts_minimum_speed_defaults_and_switches() -> None:
    assert DEFAULT_TIMEOUTS.low_speed == (1024.0, 60.0)
    assert Timeouts(low_speed_limit=None).low_speed is None
    assert Timeouts(low_speed_time=None).low_speed is None
    # No byte for the low-speed time is below any minimum: the read timeout says so.
    assert Timeouts(read=None, low_speed_time=5).for_download().read == 5
    assert Timeouts(read=3, low_speed_time=5).for_download().read == 3
    assert Timeouts(read=None, low_speed_limit=None).for_download().read is None
    assert Timeouts(read=7).to_httpx().read == 7


@pytest.mark.parametrize(
    "kwargs",
    [
        {"low_speed_limit": 0},
        {"low_speed_limit": -1},
        {"low_speed_time": 0},
        {"low_speed_time": math.inf},
        {"low_speed_limit": math.nan},
        {"read": -1},
        {"connect": math.nan},
    ],
)
def test_timeouts_refuse_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be"):
        Timeouts(**kwargs)


# -- which errors are worth a retry (item 4) -------------------------------------------------

PERMANENT = [
    "bad_field",
    "cursor_loop",
    "unexpected_status",
    "unexpected_redirect",
    "bad_encoding",
    "digest_mismatch",
    "malformed_response",
]
TRANSIENT = [
    "bad_json",
    "html_page",
    "bad_content_range",
    "bad_content_length",
    "etag_mismatch",
    "too_many_bytes",
    "partial_changed",
]


@pytest.mark.parametrize("code", PERMANENT)
def test_answers_that_will_not_change_are_permanent(code: str) -> None:
    error = ProtocolError("x", code=code)
    assert not error.transient
    assert not is_transient(error)


@pytest.mark.parametrize("code", TRANSIENT)
def test_answers_that_may_differ_next_time_are_transient(code: str) -> None:
    assert is_transient(ProtocolError("x", code=code))


def test_too_slow_is_a_transient_timeout() -> None:
    error = TooSlow("slow", rate=12.5, received=300)
    assert isinstance(error, NetworkTimeout)
    assert is_transient(error)
    assert (error.rate, error.received) == (12.5, 300)
