"""Injected faults: the knobs of ``POST /__admin__/faults``.

See the package docstring for what each knob does to requests. This module
only holds the values, validates updates, and renders them as JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

#: Lifetime of a token when ``tokenTtlS`` is not set.
DEFAULT_TOKEN_TTL_S = 8 * 3600.0

#: Status of the ``errorRate`` answers when ``errorStatus`` is not set.
DEFAULT_ERROR_STATUS = 503

#: The only ``contentEncoding`` the server knows how to apply.
CONTENT_ENCODINGS = ("gzip",)

#: Values of ``cursorLoop``: listings whose cursor never advances.
CURSOR_LOOPS = ("repeat", "empty")


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


def _delay_or_none(key: str, value: Any) -> float | None:
    """A ``Retry-After`` delay in seconds (>= 0), or None for "send no header"."""
    if value is None:
        return None
    return _number(key, value, lo=0, hi=1e6)


def _absolute_url(key: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FaultError(f"{key} must be an absolute http(s) URL or null, got {value!r}")
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.netloc
        or any(ord(c) < 0x21 or ord(c) == 0x7F for c in value)
    ):
        raise FaultError(f"{key} must be an absolute http(s) URL or null, got {value!r}")
    return value


def retry_after_value(seconds: float) -> str:
    """Render a delay as a ``Retry-After`` value.

    Whole numbers give RFC 9110 delay-seconds (``"1"``); a fraction is sent as
    written (``"0.5"``), which the RFC does not allow but some servers do.
    """
    if seconds.is_integer():
        return str(int(seconds))
    return repr(seconds)


@dataclass(frozen=True)
class Faults:
    """The current faults. Immutable: an update swaps the whole object."""

    latency_ms: float = 0.0
    bandwidth_bps: int | None = None
    drop_rate: float = 0.0
    error_rate: float = 0.0
    #: Status of the ``errorRate`` answers (500-599).
    error_status: int = DEFAULT_ERROR_STATUS
    #: ``Retry-After`` seconds of the ``errorRate`` answers; None: no header.
    retry_after_s: float | None = 1.0
    token_ttl_s: float | None = None
    max_concurrent_per_token: int | None = None
    #: ``Retry-After`` seconds of the ``maxConcurrentPerToken`` 429s; None: no header.
    rate_limit_retry_after_s: float | None = 1.0
    #: Content answers carry ``W/"..."`` and never match ``If-Range``.
    weak_etags: bool = False
    #: Seconds between the single bytes of a content body; None: off.
    trickle_interval_s: float | None = None
    #: ``"gzip"``: content bodies are compressed whatever the request said.
    content_encoding: str | None = None
    #: Content requests answer ``302 Found`` to this absolute URL.
    redirect_content: str | None = None
    #: Files whose content requests always get ``errorStatus`` (one broken file).
    error_files: frozenset[str] = frozenset()
    #: Content requests answer 200 with an HTML sign-in page (a proxy's).
    html_content: bool = False
    #: Listings never end: ``"repeat"`` (one nextCursor forever) or ``"empty"``
    #: (endless empty pages, each with a fresh cursor); None: off.
    cursor_loop: str | None = None
    #: Each distinct API request fails once with ``errorStatus``, then is served.
    fail_once: bool = False

    @property
    def shapes_bodies(self) -> bool:
        """True when bodies must go through Python (no zero-copy sendfile)."""
        return (
            self.bandwidth_bps is not None
            or self.drop_rate > 0
            or self.trickle_interval_s is not None
            or self.content_encoding is not None
        )

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
            elif key == "errorStatus":
                if value is None:
                    value = DEFAULT_ERROR_STATUS
                if isinstance(value, bool) or not isinstance(value, int) or not 500 <= value <= 599:
                    raise FaultError(f"errorStatus must be an integer 500-599, got {value!r}")
                changes["error_status"] = value
            elif key == "retryAfterS":
                changes["retry_after_s"] = _delay_or_none(key, value)
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
            elif key == "rateLimitRetryAfterS":
                changes["rate_limit_retry_after_s"] = _delay_or_none(key, value)
            elif key == "weakEtags":
                if value is not None and not isinstance(value, bool):
                    raise FaultError(f"weakEtags must be true, false or null, got {value!r}")
                changes["weak_etags"] = bool(value)
            elif key == "trickleIntervalS":
                if value is None:
                    changes["trickle_interval_s"] = None
                else:
                    interval = _number(key, value, lo=0, hi=3600)
                    if interval <= 0:
                        raise FaultError(f"trickleIntervalS must be > 0 or null, got {value!r}")
                    changes["trickle_interval_s"] = interval
            elif key == "contentEncoding":
                if value is not None and value not in CONTENT_ENCODINGS:
                    raise FaultError(f"contentEncoding must be 'gzip' or null, got {value!r}")
                changes["content_encoding"] = value
            elif key == "redirectContent":
                changes["redirect_content"] = _absolute_url(key, value)
            elif key == "htmlContent":
                if value is not None and not isinstance(value, bool):
                    raise FaultError(f"htmlContent must be true, false or null, got {value!r}")
                changes["html_content"] = bool(value)
            elif key == "cursorLoop":
                if value is not None and value not in CURSOR_LOOPS:
                    raise FaultError(f"cursorLoop must be 'repeat', 'empty' or null, got {value!r}")
                changes["cursor_loop"] = value
            elif key == "failOnce":
                if value is not None and not isinstance(value, bool):
                    raise FaultError(f"failOnce must be true, false or null, got {value!r}")
                changes["fail_once"] = bool(value)
            elif key == "errorFiles":
                if value is None:
                    value = []
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise FaultError(
                        f"errorFiles must be a list of file ids or null, got {value!r}"
                    )
                changes["error_files"] = frozenset(value)
            else:
                raise FaultError(f"unknown fault {key!r}")
        return replace(self, **changes)

    def to_json(self) -> dict[str, Any]:
        return {
            "latencyMs": self.latency_ms,
            "bandwidthBps": self.bandwidth_bps,
            "dropRate": self.drop_rate,
            "errorRate": self.error_rate,
            "errorStatus": self.error_status,
            "retryAfterS": self.retry_after_s,
            "tokenTtlS": self.token_ttl_s,
            "maxConcurrentPerToken": self.max_concurrent_per_token,
            "rateLimitRetryAfterS": self.rate_limit_retry_after_s,
            "weakEtags": self.weak_etags,
            "trickleIntervalS": self.trickle_interval_s,
            "contentEncoding": self.content_encoding,
            "redirectContent": self.redirect_content,
            "errorFiles": sorted(self.error_files),
            "htmlContent": self.html_content,
            "cursorLoop": self.cursor_loop,
            "failOnce": self.fail_once,
        }
