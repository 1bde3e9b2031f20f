"""A flaky server: drops mid-body and 503s still end byte-exact, by resuming, not restarting."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from manuscript_gui.config import Settings
from manuscript_gui.reference_server import DemoSpec, ServerHandle
from manuscript_gui.storage import FileOutcome
from tests.core.engine_helpers import (
    RunWatcher,
    ServerRequests,
    assert_completed,
    check_on_disk,
    export_and_wait,
    files_of,
    project,
    remote_files,
    signed_in,
    staged_bytes,
    store_of,
)
from tests.fixtures_server import Admin

#: Files big enough (64-512 KiB) that a drop usually cuts a body in the middle.
FLAKY_DEMO = DemoSpec(
    seed=23,
    files_per_project=14,
    min_size=64 * 1024,
    max_size=512 * 1024,
    large_project_files=0,
    wide_folder_children=0,
)


async def test_drops_and_errors_end_byte_exact_and_resume_instead_of_restarting(
    make_server: Callable[..., ServerHandle], tmp_path: Path
) -> None:
    server = make_server(demo=FLAKY_DEMO)
    admin = Admin(server.base_url)
    projects = server.facts.projects_for("demo", "auditor")
    remote = {}
    for pid in projects:
        remote.update(await remote_files(server.base_url, pid))
    total = sum(e.size for e in remote.values())
    assert len(remote) == 3 * 14

    settings = Settings(concurrency=4, retries=20)
    async with signed_in(server.base_url, settings=settings) as service:
        items = [await project(service, pid) for pid in projects]
        admin.faults(dropRate=0.2, errorRate=0.1, latencyMs=5)
        watcher = RunWatcher(service)
        with ServerRequests(server) as requests:
            task = await export_and_wait(service, items, tmp_path / "out")
        admin.reset()
        watcher.close()

        assert_completed(task)
        failures = [
            (r.local_path, r.error_message)
            for r in files_of(store_of(service), task.id)
            if r.outcome is FileOutcome.FAILED
        ]
        counts = (task.total_files, task.succeeded, task.failed)
        assert counts == (len(remote), len(remote), 0), failures
        assert task.total_bytes == task.done_bytes == total
        store = store_of(service)
        assert check_on_disk(store, task) == len(remote)
        rows = files_of(store, task.id)
        assert all(r.outcome is FileOutcome.SUCCEEDED for r in rows)
        assert sorted(r.remote_id for r in rows) == sorted(remote)
        assert staged_bytes(tmp_path / "out", task) == 0

        # The faults did bite: bodies were cut and requests refused, so files
        # took more than one attempt (503s never reach the content handler, so
        # the attempts count them; the server's content hits count the cuts)...
        assert len(requests.content()) > len(remote)
        assert sum(r.attempts for r in rows) >= len(remote) + 5, [r.attempts for r in rows]
        # ...and yet the bytes that crossed the wire are about the total: cut
        # bodies were continued with Range requests, not fetched again from 0.
        assert watcher.started == [task.id]
        assert total <= watcher.bytes_received <= 1.3 * total, (watcher.bytes_received, total)
