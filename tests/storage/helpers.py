"""Builders shared by the storage tests."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from manuscript_gui.storage import NewFile


def new_files(
    count: int, *, start: int = 0, size: int = 100, folder: str = "D 实质性程序"
) -> Iterator[NewFile]:
    """*count* distinct files as a task listing would produce them (lazily)."""
    for i in range(start, start + count):
        yield NewFile(
            remote_id=f"file-{i}",
            project_id="p-1",
            remote_path=f"/{folder}/D1-{i} 货币资金审定表.xlsx",
            local_path=f"{folder}/D1-{i} 货币资金审定表.xlsx",
            version=1,
            size=size,
            sha256=hashlib.sha256(str(i).encode()).hexdigest(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
