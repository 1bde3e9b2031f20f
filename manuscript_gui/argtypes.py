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
