"""Injected faults: the knobs of ``POST /__admin__/faults``.

See the package docstring for what each knob does to requests. This module
only holds the values, validates updates, and renders them as JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

#: Lifetime of a token when ``tokenTtlS`` is not set.
DEFAULT_TOKEN_TTL_S = 8 * 3600.0


class FaultError(ValueError):
    """An update that names an unknown knob or a value out of range."""


def _number(key: str, value: Any, *, lo: float, hi: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise FaultError(f"{key} must be a number, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        bound = f"between {lo:g} and {hi:g}" if hi is not None else f">= {lo:g}"
        raise FaultError(f"{key} must be {bound}, got {value!r}")
    return float(value)


def _positive_int_or_none(key: str, value: Any) -> int | None:
    # null and 0 both mean "off": the two things a caller is likely to send.
    if value is None or value == 0:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FaultError(f"{key} must be a positive integer, 0 or null, got {value!r}")
    return value


@dataclass(frozen=True)
class Faults:
    """The current faults. Immutable: an update swaps the whole object."""

    latency_ms: float = 0.0
    bandwidth_bps: int | None = None
    drop_rate: float = 0.0
    error_rate: float = 0.0
    token_ttl_s: float | None = None
    max_concurrent_per_token: int | None = None

    @property
    def shapes_bodies(self) -> bool:
        """True when bodies must go through Python (no zero-copy sendfile)."""
        return self.bandwidth_bps is not None or self.drop_rate > 0

    @property
    def token_ttl(self) -> float:
        return DEFAULT_TOKEN_TTL_S if self.token_ttl_s is None else self.token_ttl_s

    def merged(self, update: Any) -> Faults:
        """A copy with ``update`` (a JSON object, camelCase keys) applied.

        Keys that are absent keep their value; all keys are checked before any
        is applied, so a bad update changes nothing.
        """
        if not isinstance(update, dict):
            raise FaultError("the body must be a JSON object")
        changes: dict[str, Any] = {}
        for key, value in update.items():
            if key == "latencyMs":
                changes["latency_ms"] = 0.0 if value is None else _number(key, value, lo=0, hi=6e5)
            elif key == "bandwidthBps":
                changes["bandwidth_bps"] = _positive_int_or_none(key, value)
            elif key == "dropRate":
                changes["drop_rate"] = 0.0 if value is None else _number(key, value, lo=0, hi=1)
            elif key == "errorRate":
                changes["error_rate"] = 0.0 if value is None else _number(key, value, lo=0, hi=1)
            elif key == "tokenTtlS":
                if value is None:
                    changes["token_ttl_s"] = None
                else:
                    ttl = _number(key, value, lo=0)
                    if ttl <= 0:
                        raise FaultError(f"tokenTtlS must be > 0 or null, got {value!r}")
                    changes["token_ttl_s"] = ttl
            elif key == "maxConcurrentPerToken":
                changes["max_concurrent_per_token"] = _positive_int_or_none(key, value)
            else:
                raise FaultError(f"unknown fault {key!r}")
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "latencyMs": self.latency_ms,
            "bandwidthBps": self.bandwidth_bps,
            "dropRate": self.drop_rate,
            "errorRate": self.error_rate,
            "tokenTtlS": self.token_ttl_s,
            "maxConcurrentPerToken": self.max_concurrent_per_token,
        }
