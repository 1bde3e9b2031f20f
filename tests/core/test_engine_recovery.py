"""A crash while a task is listing: the next start lists it again from scratch."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from manuscript_gui.core.task_manager import STAGING_DIR
from manuscript_gui.reference_server import DemoSpec, ServerHandle
from manuscript_gui.storage import FileOutcome, TaskStatus
from tests.core.engine_helpers import (
    all_paths_inside,
    assert_completed,
    check_on_disk,
    files_of,
    identity_store,
    project,
    remote_files,
    signed_in,
    store_of,
    until,
)
from tests.fixtures_server import Admin

#: One project of ~1560 tiny files in ~200 folders: listing takes a while under latency.
MANY_DEMO = DemoSpec(
    seed=13,
    files_per_project=2,
    min_size=16,
    max_size=1024,
    large_project_files=1500,
    wide_folder_children=0,
)


async def test_crash_while_listing_lists_again_from_scratch(
    make_server: Callable[..., ServerHandle], tmp_path: Path
) -> None:
    server = make_server(demo=MANY_DEMO)
    admin = Admin(server.base_url)
    large = server.facts.large_project_id
    assert large is not None
    remote = await remote_files(server.base_url, large)
    assert len(remote) > 1000  # more than one insert batch of the listing
    out = tmp_path / "out"

    async with signed_in(server.base_url) as service:
        ctx = service.user
        assert ctx is not None
        item = await project(service, large)
        admin.faults(latencyMs=15)
        task = await service.create_export([item], out)
        store = store_of(service)
        # Let a first batch of rows reach the database, then "crash": the
        # listing dies where it stands and the app goes away without a word.
        await until(lambda: len(store.page_files(task.id, limit=1000)) == 1000, within=30)
        job = service._listings[(id(ctx), task.id)]
        assert not job.done()
        job.cancel()
        await asyncio.gather(job, return_exceptions=True)
        await service.close()
    admin.reset()

    with identity_store(service, server.base_url, ctx.user_id, ctx.user_type) as db:
        left = db.get_task(task.id)
        assert left.status is TaskStatus.INITIALIZING
        assert not left.listed
        partial = sum(1 for _ in db.iter_files(task.id))
        assert 1000 <= partial < len(remote)

    # The next start: same identity, a new service.
    async with signed_in(server.base_url) as service:
        await service.wait_listing(task.id)
        await service.scheduler.wait_idle()
        done = await service.task(task.id)

        assert_completed(done)
        store = store_of(service)
        rows = files_of(store, task.id)
        assert len(rows) == done.total_files == len(remote)
        assert sorted(r.remote_id for r in rows) == sorted(remote)  # no duplicates, none lost
        assert len({r.local_path for r in rows}) == len(rows)
        assert all(r.outcome is FileOutcome.SUCCEEDED for r in rows)
        assert (done.succeeded, done.failed) == (len(remote), 0)
        assert done.total_bytes == done.done_bytes == sum(e.size for e in remote.values())
        assert check_on_disk(store, done) == len(remote)
        all_paths_inside(out, rows)
        on_disk = [p for p in out.rglob("*") if p.is_file() and STAGING_DIR not in p.parts]
        assert len(on_disk) == len(remote)
        assert [t.id for t in await service.tasks()] == [task.id]
