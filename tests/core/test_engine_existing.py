"""Files already in the export folder: the same bytes are kept as they are (no download);
different ones are never overwritten, the export takes the next free name."""

from __future__ import annotations

from pathlib import Path

from manuscript_gui.core.local_names import with_counter
from manuscript_gui.reference_server import ServerHandle
from manuscript_gui.storage import FileOutcome
from tests.core.engine_helpers import (
    RunWatcher,
    ServerRequests,
    assert_completed,
    check_on_disk,
    export_and_wait,
    files_of,
    project,
    sha256_of,
    signed_in,
    store_of,
)


def _snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    return {
        p.relative_to(root).as_posix(): (p.stat().st_mtime_ns, p.read_bytes())
        for p in root.rglob("*")
        if p.is_file()
    }


async def test_identical_files_are_up_to_date_without_a_download(
    fresh_server: ServerHandle, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    async with signed_in(fresh_server.base_url) as service:
        item = await project(service, "prj-1")
        first = await export_and_wait(service, [item], out)
        assert_completed(first)
        before = _snapshot(out)
        assert len(before) == 8

        watcher = RunWatcher(service)
        with ServerRequests(fresh_server) as requests:
            again = await export_and_wait(service, [item], out)
        watcher.close()

        assert_completed(again)
        assert (again.succeeded, again.failed) == (8, 0)
        store = store_of(service)
        check_on_disk(store, again)
        assert requests.content() == []
        assert watcher.bytes_received == 0
        assert watcher.started == [again.id]
        # Same paths as the first export, and the files were not rewritten.
        assert sorted(r.local_path for r in files_of(store, again.id)) == sorted(
            r.local_path for r in files_of(store, first.id)
        )
        assert _snapshot(out) == before


async def test_different_files_in_the_way_are_kept_and_the_export_takes_the_next_name(
    fresh_server: ServerHandle, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    async with signed_in(fresh_server.base_url) as service:
        item = await project(service, "prj-1")
        first = await export_and_wait(service, [item], out)
        assert_completed(first)
        store = store_of(service)
        rows = sorted(files_of(store, first.id), key=lambda r: r.local_path)
        edited, replaced, crowded = rows[0], rows[1], rows[2]
        planned = {r.remote_id: r.local_path for r in rows}

        # The user edited one file (same size, other bytes), put a folder where
        # another was, and for a third also has a file at its "(2)" name.
        mine = bytes(b ^ 0xFF for b in (out / edited.local_path).read_bytes())
        (out / edited.local_path).write_bytes(mine)
        (out / replaced.local_path).unlink()
        (out / replaced.local_path).mkdir()
        (out / replaced.local_path / "notes.txt").write_text("mine")
        (out / crowded.local_path).write_bytes(b"my version")
        folder, _, name = crowded.local_path.rpartition("/")
        (out / folder / with_counter(name, 2)).write_bytes(b"my other version")
        before = _snapshot(out)

        with ServerRequests(fresh_server) as requests:
            task = await export_and_wait(service, [item], out)
        assert_completed(task)
        assert (task.succeeded, task.failed) == (8, 0)
        check_on_disk(store, task)
        after = {r.remote_id: r for r in files_of(store, task.id)}

        # Only the three files in the way were downloaded again.
        downloaded = sorted(h.path.split("/")[4] for h in requests.content())
        assert downloaded == sorted(r.remote_id for r in (edited, replaced, crowded))

        expected_paths = {
            edited.remote_id: _with_counter_path(edited.local_path, 2),
            replaced.remote_id: _with_counter_path(replaced.local_path, 2),
            crowded.remote_id: _with_counter_path(crowded.local_path, 3),
        }
        for remote_id, row in after.items():
            assert row.outcome is FileOutcome.SUCCEEDED
            assert row.local_path == expected_paths.get(remote_id, planned[remote_id])
            assert sha256_of(out / row.local_path) == row.sha256

        # Whatever the user had is untouched.
        now = _snapshot(out)
        for path, state in before.items():
            assert now[path] == state, path
        assert set(now) - set(before) == set(expected_paths.values())


def _with_counter_path(local_path: str, n: int) -> str:
    folder, _, name = local_path.rpartition("/")
    return f"{folder}/{with_counter(name, n)}" if folder else with_counter(name, n)
