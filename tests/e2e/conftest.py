"""End-to-end tests: no child process outlives its test, even a failed one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.kills import LIVE


@pytest.fixture(autouse=True)
def _no_child_left() -> Iterator[None]:
    yield
    for child in list(LIVE):
        child.kill()
