"""Live progress of the files in flight (a detail pane's per-file percent)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from manuscript_gui.core.events import Event, TaskProgress
from manuscript_gui.reference_server import DemoSpec, ServerHandle
from manuscript_gui.services.reads import FileFilter
from tests.core.engine_helpers import project, signed_in, until
from tests.fixtures_server import Admin

BIG = DemoSpec(
    seed=3,
    files_per_project=6,
    min_size=60_000,
    max_size=90_000,
    large_project_files=0,
    wide_folder_children=0,
)


async def test_files_in_flight_report_their_bytes_growing_up_to_their_size(
    make_server: Callable[..., ServerHandle], tmp_path: Path
) -> None:
    server = make_server(demo=BIG)
    admin = Admin(server.base_url)
    heard: list[TaskProgress] = []

    def listen(event: Event) -> None:
        if isinstance(event, TaskProgress):
            heard.append(event)

    async with signed_in(server.base_url) as service:
        service.events.subscribe(listen)
        item = await project(service, "prj-1")
        admin.faults(bandwidthBps=20_000)
        task = await service.create_export([item], tmp_path / "out")
        await service.wait_listing(task.id)
        page = await service.files(task.id, filter=FileFilter.ALL, limit=1000)
        sizes = {f.id: f.size for f in page.rows}
        # Some file seen in flight at least twice, its bytes on disk growing.
        seen: dict[int, list[int]] = {}

        def grown() -> bool:
            for p in heard:
                assert len(p.in_flight_bytes) == len(p.in_flight_ids) == len(p.in_flight)
                for file_id, done in zip(p.in_flight_ids, p.in_flight_bytes, strict=True):
                    assert 0 <= done <= sizes[file_id]
                    seen.setdefault(file_id, []).append(done)
            heard.clear()
            return any(len(set(v)) >= 2 and v == sorted(v) and v[-1] > 0 for v in seen.values())

        await until(grown)
        await service.pause(task.id)
