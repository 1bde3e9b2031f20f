"""Argument types shared by the command lines (``manuscript-cli``, ``manuscript-server``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def whole_number(
    low: int, high: int | None = None, *, what: str = "a whole number"
) -> Callable[[str], int]:
    """An argparse ``type`` accepting integers in ``low..high`` (no upper bound if ``None``)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if value < low or (high is not None and value > high):
            bounds = f">= {low}" if high is None else f"{low}-{high}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {value}")
        return value

    return parse


_UNITS = {"": 1, "B": 1, "K": 1 << 10, "KB": 1 << 10, "KIB": 1 << 10, "M": 1 << 20, "MB": 1 << 20}
_UNITS |= {"MIB": 1 << 20, "G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30}


def byte_size(text: str) -> int:
    """Parse ``4096``, ``64K``, ``1.5M``, ``1G`` (binary units) into bytes.

    Fractions of a byte are dropped (``1.5`` is 1). A positive size under one
    byte (``0.5``, ``0.0001K``) is refused rather than read as 0, which the
    options taking a size use for "none" or "no limit"; only a zero (``0``,
    ``0K``) is 0.

    Raises:
        argparse.ArgumentTypeError: not a size, negative, infinite, or under a byte.
    """
    raw = text.strip().upper()
    number = raw.rstrip("BKMGI")
    unit = raw[len(number) :]
    try:
        value = float(number)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 4096, 64K, 1M)") from None
    if unit not in _UNITS or not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 4096, 64K, 1M)")
    size = value * _UNITS[unit]
    if 0 < size < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is less than one byte; give at least 1 (or 0 for none)"
        )
    return int(size)
