"""The client against the real reference server on 127.0.0.1.

``ref_server`` is shared and read-only; everything that injects faults or
changes data uses ``fresh_server`` + ``admin`` (a new server per test).
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from manuscript_gui.net import (
    ApiClient,
    CertificateError,
    ConnectError,
    DownloadResult,
    DownloadStart,
    FileEntry,
    FolderEntry,
    Forbidden,
    Gone,
    IdentityNotAllowed,
    IncompleteBody,
    InvalidCredentials,
    NetworkError,
    NetworkTimeout,
    RateLimited,
    ServerError,
    Timeouts,
    Unauthorized,
    VersionNotFound,
)
from manuscript_gui.reference_server import ServerHandle
from tests.fixtures_server import TINY_DEMO, Admin
from tests.net.conftest import TlsFiles


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def files_of(client: ApiClient, project_id: str, folder_id: str = "root") -> list[FileEntry]:
    """Every file under a folder, depth first."""
    found: list[FileEntry] = []
    async for child in client.iter_children(project_id, folder_id):
        if isinstance(child, FolderEntry):
            found.extend(await files_of(client, project_id, child.id))
        else:
            found.append(child)
    return found


async def fetch(client: ApiClient, entry: FileEntry, dest: Path, **kw: Any) -> DownloadResult:
    args: dict[str, Any] = {
        "expected_size": entry.size,
        "expected_sha256": entry.sha256,
        "content_type": entry.content_type,
    }
    args.update(kw)
    return await client.download_to(entry.id, entry.version, dest, **args)


async def biggest_file(client: ApiClient, project_id: str = "prj-1") -> FileEntry:
    return max(await files_of(client, project_id), key=lambda f: f.size)


# -- login, identities, sessions -------------------------------------------------


async def test_login_me_and_identities(ref_server: ServerHandle) -> None:
    async with ApiClient(ref_server.base_url) as client:
        result = await client.login("demo", "demo")
        assert result.user_type == "auditor"
        assert {i.user_type for i in result.identities} == {"auditor", "manager"}
        assert client.token == result.token
        me = await client.me()
        assert (me.user, me.user_type) == (result.user, "auditor")


async def test_login_failures(ref_server: ServerHandle) -> None:
    async with ApiClient(ref_server.base_url) as client:
        with pytest.raises(InvalidCredentials) as wrong:
            await client.login("demo", "not-the-password")
        assert wrong.value.status == 401
        assert not isinstance(wrong.value, Unauthorized)
        with pytest.raises(InvalidCredentials):
            await client.login("nobody", "demo")
        with pytest.raises(IdentityNotAllowed) as ident:
            await client.login("demo", "demo", "qc")
        assert ident.value.code == "identity_not_allowed"
        with pytest.raises(IdentityNotAllowed):
            await client.login("lisi", "lisi", "manager")
        assert client.token is None


async def test_projects_depend_on_identity(ref_server: ServerHandle) -> None:
    seen: dict[str, set[str]] = {}
    for user_type in ("auditor", "manager"):
        async with ApiClient(ref_server.base_url) as client:
            await client.login("demo", "demo", user_type)
            seen[user_type] = {p.id async for p in client.iter_projects(limit=2)}
        assert seen[user_type] == set(ref_server.facts.projects_for("demo", user_type))
    assert seen["auditor"] != seen["manager"]
    assert seen["auditor"] & seen["manager"]
    async with ApiClient(ref_server.base_url) as client:
        await client.login("lisi", "lisi")
        lisi = {p.id async for p in client.iter_projects()}
    assert lisi == set(ref_server.facts.projects_for("lisi"))


async def test_token_expiry(fresh_server: ServerHandle, admin: Admin) -> None:
    admin.faults(tokenTtlS=1)
    async with ApiClient(fresh_server.base_url) as client:
        await client.login("demo", "demo")
        await client.me()
        entry = (await files_of(client, "prj-1"))[0]
        await asyncio.sleep(1.3)
        with pytest.raises(Unauthorized) as info:
            await client.me()
        assert info.value.status == 401
        with pytest.raises(Unauthorized):
            await fetch(client, entry, fresh_server.server.data_dir.parent / "x.part")


async def test_revocation_and_logout(fresh_server: ServerHandle, admin: Admin) -> None:
    async with ApiClient(fresh_server.base_url) as client:
        await client.login("demo", "demo")
        await client.me()
        assert admin.revoke("demo") >= 1
        with pytest.raises(Unauthorized):
            await client.me()

        token = (await client.login("demo", "demo")).token
        await client.logout()
        assert client.token is None
        with pytest.raises(Unauthorized):
            await client.me()  # refused locally: nothing is sent after logout
    # The server revoked it too: the old token is dead for anyone holding it.
    async with ApiClient(fresh_server.base_url, token=token) as stale:
        with pytest.raises(Unauthorized):
            await stale.me()


# -- browsing ----------------------------------------------------------------------


async def test_pagination_over_a_wide_folder(ref_server: ServerHandle) -> None:
    facts = ref_server.facts
    assert facts.wide_folder_id is not None
    assert facts.wide_folder_project_id is not None
    async with ApiClient(ref_server.base_url) as client:
        await client.login("demo", "demo")
        small = [c.id async for c in client.iter_children(
            facts.wide_folder_project_id, facts.wide_folder_id, limit=97)]  # fmt: skip
        big = [c.id async for c in client.iter_children(
            facts.wide_folder_project_id, facts.wide_folder_id, limit=1000)]  # fmt: skip
        first = await client.children_page(
            facts.wide_folder_project_id, facts.wide_folder_id, limit=97
        )
    assert len(small) == facts.wide_folder_children >= 1000
    assert len(set(small)) == len(small)
    assert small == big
    assert len(first.items) == 97
    assert first.next_cursor is not None


async def test_get_file(ref_server: ServerHandle) -> None:
    async with ApiClient(ref_server.base_url) as client:
        await client.login("demo", "demo")
        entry = (await files_of(client, "prj-2"))[0]
        info = await client.get_file(entry.id)
    assert info.id == entry.id
    assert info.project_id == "prj-2"
    assert info.current_version == entry.version
    current = info.get_version(entry.version)
    assert current is not None
    assert (current.size, current.sha256) == (entry.size, entry.sha256)


async def test_unknown_and_hidden_project(ref_server: ServerHandle) -> None:
    async with ApiClient(ref_server.base_url) as client:
        await client.login("lisi", "lisi")
        with pytest.raises(Forbidden):
            [c async for c in client.iter_children("prj-2")]


# -- downloads -----------------------------------------------------------------------


async def test_full_download_is_byte_exact(ref_server: ServerHandle, tmp_path: Path) -> None:
    async with ApiClient(ref_server.base_url) as client:
        await client.login("demo", "demo")
        entries = await files_of(client, "prj-2")
        starts: list[DownloadStart] = []
        deltas: list[int] = []
        entry = max(entries, key=lambda f: f.size)
        dest = tmp_path / "big.part"
        result = await fetch(client, entry, dest, progress=deltas.append, on_start=starts.append)
        data = dest.read_bytes()
        assert sha(data) == entry.sha256 == result.sha256
        assert result.matches(entry.size, entry.sha256)
        assert (result.status, result.offset, result.received) == (200, 0, entry.size)
        assert sum(deltas) == entry.size
        assert result.etag is not None
        assert not result.etag.startswith("W/")
        assert starts == [DownloadStart(status=200, offset=0, etag=result.etag)]

        # Every other file of the project, eight at a time, as the engine would.
        async def one(e: FileEntry) -> bool:
            r = await fetch(client, e, tmp_path / f"{e.id}.part")
            return (
                r.matches(e.size, e.sha256)
                and sha((tmp_path / f"{e.id}.part").read_bytes()) == e.sha256
            )

        assert all(await asyncio.gather(*(one(e) for e in entries)))


async def test_resume_from_a_partial(ref_server: ServerHandle, tmp_path: Path) -> None:
    async with ApiClient(ref_server.base_url) as client:
        await client.login("demo", "demo")
        entry = await biggest_file(client)
        whole = tmp_path / "whole"
        first = await fetch(client, entry, whole)
        data = whole.read_bytes()

        for cut, etag in ((1, first.etag), (entry.size // 2, first.etag), (entry.size - 1, None)):
            dest = tmp_path / f"partial-{cut}"
            dest.write_bytes(data[:cut])
            deltas: list[int] = []
            result = await fetch(client, entry, dest, etag=etag, progress=deltas.append)
            assert (result.status, result.offset, result.received) == (206, cut, entry.size - cut)
            assert sum(deltas) == entry.size - cut
            assert result.sha256 == entry.sha256
            assert dest.read_bytes() == data


async def test_stale_etag_restarts_with_a_full_answer(
    ref_server: ServerHandle, tmp_path: Path
) -> None:
    async with ApiClient(ref_server.base_url) as client:
        await client.login("demo", "demo")
        entry = await biggest_file(client)
        dest = tmp_path / "f.part"
        # Bytes from "some other representation": If-Range must not match them.
        dest.write_bytes(b"\0" * (entry.size // 3))
        result = await fetch(client, entry, dest, etag='"an-old-etag"')
    assert (result.status, result.offset) == (200, 0)
    assert result.matches(entry.size, entry.sha256)
    assert sha(dest.read_bytes()) == entry.sha256


async def test_partial_already_whole_or_too_long(ref_server: ServerHandle, tmp_path: Path) -> None:
    async with ApiClient(ref_server.base_url) as client:
        await client.login("demo", "demo")
        entry = await biggest_file(client)
        dest = tmp_path / "f.part"
        first = await fetch(client, entry, dest)
        data = dest.read_bytes()

        again = await fetch(client, entry, dest, etag=first.etag)  # bytes=N- with N == size
        assert (again.status, again.received) == (416, 0)
        assert again.matches(entry.size, entry.sha256)
        assert dest.read_bytes() == data

        dest.write_bytes(data + b"junk")  # longer than the file: cannot be a prefix
        longer = await fetch(client, entry, dest, etag=first.etag)
        assert longer.status == 200
        assert dest.read_bytes() == data


async def test_purged_version_and_new_version(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    async with ApiClient(fresh_server.base_url) as client:
        await client.login("demo", "demo")
        entry = (await files_of(client, "prj-1"))[0]
        new = b"version two \xe4\xb8\xad" * 1000
        published = admin.new_version(entry.id, new)
        admin.purge(entry.id, entry.version)

        dest = tmp_path / "old.part"
        dest.write_bytes(b"partial of v1")
        with pytest.raises(VersionNotFound) as info:
            await fetch(client, entry, dest)
        assert info.value.code == "version_not_found"
        assert dest.read_bytes() == b"partial of v1"

        result = await client.download_to(
            entry.id, published["version"], tmp_path / "new.part",
            expected_size=len(new), expected_sha256=sha(new),
        )  # fmt: skip
        assert result.matches(len(new), sha(new))
        info2 = await client.get_file(entry.id)
        assert info2.get_version(entry.version) is None
        assert info2.current_version == published["version"]


async def test_deleted_file_is_gone(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    async with ApiClient(fresh_server.base_url) as client:
        await client.login("demo", "demo")
        entry = (await files_of(client, "prj-1"))[0]
        admin.delete(entry.id)
        with pytest.raises(Gone) as info:
            await fetch(client, entry, tmp_path / "f.part")
        assert info.value.code == "file_deleted"
        with pytest.raises(Gone):
            await client.get_file(entry.id)


async def test_withdrawn_access_is_forbidden(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    async with ApiClient(fresh_server.base_url) as client:
        await client.login("demo", "demo")
        entry = (await files_of(client, "prj-1"))[0]
        admin.access("demo", "auditor", "prj-1", False)
        with pytest.raises(Forbidden):
            await fetch(client, entry, tmp_path / "f.part")
        with pytest.raises(Forbidden):
            [c async for c in client.iter_children("prj-1")]
        assert "prj-1" not in {p.id async for p in client.iter_projects()}


async def test_server_errors_carry_retry_after(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    async with ApiClient(fresh_server.base_url) as client:
        await client.login("demo", "demo")
        entry = (await files_of(client, "prj-1"))[0]
        admin.faults(errorRate=1)
        with pytest.raises(ServerError) as info:
            await client.me()
        assert (info.value.status, info.value.retry_after) == (503, 1.0)
        dest = tmp_path / "f.part"
        dest.write_bytes(b"keep me")
        with pytest.raises(ServerError) as info2:
            await fetch(client, entry, dest)
        assert info2.value.retry_after == 1.0
        assert info2.value.transient
        assert dest.read_bytes() == b"keep me"


async def test_cut_off_bodies_resume_to_byte_exact(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    data = random.Random(5).randbytes(300_000)
    added = admin.add_file("prj-1", ["Z 测试"], "big.bin", data)
    assert added["sha256"] == sha(data)
    dest = tmp_path / "f.part"
    etag: str | None = None

    def remember(start: DownloadStart) -> None:
        nonlocal etag
        etag = start.etag

    async def attempt() -> DownloadResult:
        return await client.download_to(
            added["id"], added["version"], dest,
            expected_size=len(data), expected_sha256=sha(data), etag=etag, on_start=remember,
        )  # fmt: skip

    async with ApiClient(fresh_server.base_url) as client:
        await client.login("demo", "demo")
        admin.faults(dropRate=1)
        sizes = []
        for _ in range(3):
            with pytest.raises(NetworkError) as info:
                await attempt()
            assert isinstance(info.value, IncompleteBody)
            assert info.value.transient
            sizes.append(dest.stat().st_size)
            # Whatever was kept is a true prefix of the file.
            assert data.startswith(dest.read_bytes())
        assert sizes == sorted(sizes)  # never loses what it had
        assert sizes[-1] < len(data)
        admin.reset()
        result = await attempt()
    assert result.offset == sizes[-1]
    assert result.status == (206 if sizes[-1] else 200)
    assert result.matches(len(data), sha(data))
    assert dest.read_bytes() == data


async def test_too_many_concurrent_downloads(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    async with ApiClient(fresh_server.base_url) as client:
        await client.login("demo", "demo")
        entries = sorted(await files_of(client, "prj-1"), key=lambda f: -f.size)
        slow, other = entries[0], entries[1]
        admin.faults(maxConcurrentPerToken=1, bandwidthBps=max(50_000, slow.size * 2))
        started = asyncio.Event()
        first = asyncio.create_task(
            fetch(client, slow, tmp_path / "a.part", on_start=lambda _: started.set())
        )
        await started.wait()
        with pytest.raises(RateLimited) as info:
            await fetch(client, other, tmp_path / "b.part")
        assert info.value.retry_after == 1.0
        assert not (tmp_path / "b.part").exists()
        assert (await first).matches(slow.size, slow.sha256)


async def test_read_timeout(fresh_server: ServerHandle, admin: Admin) -> None:
    admin.faults(latencyMs=400)
    async with ApiClient(fresh_server.base_url, timeouts=Timeouts(read=0.1)) as client:
        with pytest.raises(NetworkTimeout, match="timed out") as info:
            await client.login("demo", "demo")
    assert info.value.transient


async def test_connection_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with ApiClient(f"http://127.0.0.1:{port}") as client:
        with pytest.raises(ConnectError, match="refused") as info:
            await client.login("demo", "demo")
    assert info.value.transient


# -- TLS with a private CA -------------------------------------------------------------


async def test_private_ca(
    make_server: Callable[..., ServerHandle], tls_files: TlsFiles, tmp_path: Path
) -> None:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(tls_files.cert, tls_files.key)
    handle = make_server(demo=TINY_DEMO, ssl_context=ctx)
    assert handle.base_url.startswith("https://127.0.0.1:")

    async with ApiClient(handle.base_url) as default:
        with pytest.raises(CertificateError, match="certificate") as info:
            await default.login("demo", "demo")
    assert isinstance(info.value, NetworkError)
    assert not info.value.transient
    assert "certificate verify failed" in str(info.value)

    async with ApiClient(handle.base_url, ca_bundle=tls_files.ca) as client:
        await client.login("demo", "demo")
        entry = await biggest_file(client)
        result = await fetch(client, entry, tmp_path / "tls.part")
    assert result.matches(entry.size, entry.sha256)
