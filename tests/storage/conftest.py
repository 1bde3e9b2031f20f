"""Fixtures for the storage tests: real SQLite files in per-test temp dirs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from manuscript_gui.storage import ExportStore


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "identity" / "exports.sqlite3"


@pytest.fixture
def store(db_path: Path) -> Iterator[ExportStore]:
    opened = ExportStore.open(db_path)
    yield opened
    opened.close()
