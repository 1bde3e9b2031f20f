"""End-to-end export through the service, against the real reference server."""

from __future__ import annotations

from pathlib import Path

from manuscript_gui.reference_server import ServerHandle
from tests.core.engine_helpers import (
    assert_completed,
    check_on_disk,
    export_and_wait,
    project,
    remote_files,
    signed_in,
)


async def test_small_project_exports_byte_exact(fresh_server: ServerHandle, tmp_path: Path) -> None:
    async with signed_in(fresh_server.base_url) as service:
        item = await project(service, "prj-1")
        task = await export_and_wait(service, [item], tmp_path / "out")
        assert_completed(task)
        remote = await remote_files(fresh_server.base_url, "prj-1")
        assert task.total_files == len(remote) > 0
        assert task.failed == 0
        assert service.user is not None
        assert check_on_disk(service.user.db.store, task) == len(remote)
        assert not (tmp_path / "out" / ".manuscript-partial" / str(task.id)).exists() or not any(
            (tmp_path / "out" / ".manuscript-partial" / str(task.id)).iterdir()
        )
