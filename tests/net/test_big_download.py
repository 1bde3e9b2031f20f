"""Bodies big enough for the threaded write path: full, resumed, cut off, disk errors."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from manuscript_gui.net import ApiClient, FileEntry, FolderEntry, IncompleteBody
from manuscript_gui.net.client import PIPELINE_MIN_BYTES
from manuscript_gui.reference_server import DemoSpec, ServerHandle
from tests.fixtures_server import Admin

BIG = 3 * PIPELINE_MIN_BYTES // 2


@pytest.fixture
def big_server(make_server: Callable[..., ServerHandle]) -> ServerHandle:
    demo = DemoSpec(
        seed=3,
        files_per_project=2,
        min_size=64,
        max_size=1024,
        large_project_files=0,
        wide_folder_children=0,
        big_file_size=BIG,
    )
    return make_server(demo=demo)


async def _big_file(client: ApiClient) -> FileEntry:
    todo = ["root"]
    while todo:
        async for entry in client.iter_children("prj-1", todo.pop()):
            if isinstance(entry, FolderEntry):
                todo.append(entry.id)
            elif entry.size == BIG:
                return entry
    raise AssertionError("no big file in the demo data")


async def test_big_body_is_byte_exact_and_resumes(big_server: ServerHandle, tmp_path: Path) -> None:
    dest = tmp_path / "big.part"
    async with ApiClient(big_server.base_url) as client:
        await client.login("demo", "demo")
        big = await _big_file(client)
        result = await client.download_to(
            big.id, big.version, dest, expected_size=big.size, expected_sha256=big.sha256
        )
        assert result.matches(big.size, big.sha256)
        data = dest.read_bytes()
        assert hashlib.sha256(data).hexdigest() == big.sha256
        # Resume from a partial that stops mid-way through a write batch.
        keep = PIPELINE_MIN_BYTES // 3 + 12345
        dest.write_bytes(data[:keep])
        resumed = await client.download_to(
            big.id,
            big.version,
            dest,
            expected_size=big.size,
            expected_sha256=big.sha256,
            etag=result.etag,
        )
        assert resumed.status == 206
        assert resumed.received == big.size - keep
        assert resumed.sha256 == big.sha256
        assert dest.read_bytes() == data


async def test_cut_body_keeps_every_byte_received(big_server: ServerHandle, tmp_path: Path) -> None:
    admin = Admin(big_server.base_url)
    dest = tmp_path / "big.part"
    async with ApiClient(big_server.base_url) as client:
        await client.login("demo", "demo")
        big = await _big_file(client)
        admin.faults(dropRate=1.0)
        received = 0
        for _ in range(4):
            with pytest.raises(IncompleteBody) as cut:
                await client.download_to(
                    big.id, big.version, dest, expected_size=big.size, expected_sha256=big.sha256
                )
            # What the client says it kept is exactly what is on disk, and
            # each attempt continued the last one.
            assert dest.stat().st_size == received + cut.value.received
            received = dest.stat().st_size
        admin.reset()
        final = await client.download_to(
            big.id, big.version, dest, expected_size=big.size, expected_sha256=big.sha256
        )
        assert final.matches(big.size, big.sha256)


async def test_big_body_through_an_open_handle(big_server: ServerHandle, tmp_path: Path) -> None:
    """The threaded writer works through the caller's handle, and resumes through it too."""
    path = tmp_path / "big.part"
    async with ApiClient(big_server.base_url) as client:
        await client.login("demo", "demo")
        big = await _big_file(client)
        with os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o644), "r+b") as f:
            result = await client.download_to(
                big.id, big.version, f, expected_size=big.size, expected_sha256=big.sha256
            )
            assert result.matches(big.size, big.sha256)
            assert os.fstat(f.fileno()).st_size == big.size
            keep = PIPELINE_MIN_BYTES // 2 + 777
            f.truncate(keep)
            resumed = await client.download_to(
                big.id, big.version, f,
                expected_size=big.size, expected_sha256=big.sha256, etag=result.etag,
            )  # fmt: skip
            assert (resumed.status, resumed.offset) == (206, keep)
            assert resumed.matches(big.size, big.sha256)
            assert not f.closed
    assert hashlib.sha256(path.read_bytes()).hexdigest() == big.sha256


def test_httpcore_reads_bodies_in_big_pieces() -> None:
    """The 1 GiB throughput depends on it; an httpcore upgrade must not drop it silently."""
    from httpcore._async.http11 import AsyncHTTP11Connection

    from manuscript_gui.net.client import HTTPCORE_READ_BYTES

    assert AsyncHTTP11Connection.READ_NUM_BYTES >= HTTPCORE_READ_BYTES
