"""Two exporters, one folder: nothing lost, nothing overwritten, nothing mislabeled.

Issue #6, item 2: "Identity auditor and identity manager of one user each
export a different project into the same --to folder at the same time (slow
server). Result: manager's task completed, 4 succeeded with all 4 files
holding auditor's bytes; auditor's task paused export folder not writable."
Partial files lived at ``.manuscript-partial/<task id>/<file id>.part`` and
ids restart at 1 in every database, so two databases wrote into each other's
partials. The kind: any path two independent writers can share (two
identities, two users, two PCs on one network share).

Each test starts two ``manuscript-cli export`` processes at the same moment,
against a server slow enough (per-download bandwidth) that their downloads
overlap the whole time:

- two identities of one user (one app home, two databases), two different
  projects (different final paths, colliding staging names);
- two identities, the **same** project (the same final paths, the same bytes);
- two users on two PCs (two app homes), two different projects that map to
  the **same** local paths with **different** bytes: neither may overwrite the
  other's file (one takes ``name (2).ext``) and nothing may be lost.

The truth is the server's listing for each identity. Checked for both
exporters: exit code 0 and a ``--json`` summary that says completed, every
file succeeded, none failed, bytes right; every database row succeeded with
its file byte-exact at its local path; the folder holds exactly the files
the rows name (no stray copies, nothing in staging); every state sound
(``kills.check_home``).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from manuscript_gui.reference_server import DemoSpec, ServerHandle, start_in_thread
from tests.e2e.helpers import cli_argv, cli_env, exported_files, server_files
from tests.e2e.kills import Child, check_home, database, read_files, staged
from tests.fixtures_server import Admin

#: Six papers of 48-96 KiB per project: at 64 kB/s per download and 4 at once an
#: export takes ~2-3 s, so two started together overlap from start to end.
SPEC = DemoSpec(
    seed=17,
    files_per_project=6,
    min_size=48 * 1024,
    max_size=96 * 1024,
    large_project_files=0,
    wide_folder_children=0,
)
SLOW = {"bandwidth_bps": 64_000}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerHandle]:
    with start_in_thread(tmp_path / "server", demo=SPEC, admin=True) as handle:
        Admin(handle.base_url).faults(**SLOW)
        yield handle


@dataclass(frozen=True)
class Exporter:
    """One side: who exports which project, from which app home."""

    user: str
    identity: str
    project: str
    home: Path


def _export_together(
    server: ServerHandle, target: Path, sides: list[Exporter], logs: Path
) -> list[tuple[int, dict[str, Any], str]]:
    """Start one ``export --json`` per side at once; wait for all. (exit, summary, stderr)."""
    logs.mkdir(exist_ok=True)
    children = []
    for n, side in enumerate(sides):
        env = cli_env(side.home, server.base_url, side.user, side.user, side.identity)
        argv = [*cli_argv(), "export", side.project, "--to", str(target), "--json"]
        children.append(Child(f"{n}-{side.identity}", [*argv, "--concurrency", "4"], env, logs))
    results = []
    for child in children:
        code = child.wait(180)
        assert code is not None, f"{child.name} still runs after 180 s"
        text = (logs / f"{child.name}.out").read_text()
        results.append((code, json.loads(text) if text.strip() else {}, child.stderr()))
    return results


def _check(server: ServerHandle, target: Path, sides: list[Exporter], logs: Path) -> None:
    """Run the sides together, then check every claim against the server and the disk."""
    results = _export_together(server, target, sides, logs)
    named: dict[str, tuple[Exporter, str]] = {}  # local path -> the side whose row names it
    for side, (code, summary, stderr) in zip(sides, results, strict=True):
        who = f"{side.user}/{side.identity} exporting {side.project}"
        listing = server_files(server.base_url, side.project, side.user, side.user, side.identity)
        remote = {f.id: f for f in listing}
        assert code == 0, f"{who}: exit {code}\n{stderr}"
        (task,) = summary["tasks"]
        assert task["status"] == "completed", f"{who}: {task}"
        assert (task["total_files"], task["succeeded"], task["failed"]) == (
            len(remote),
            len(remote),
            0,
        ), f"{who}: {task}"
        size = sum(f.size for f in remote.values())
        assert task["total_bytes"] == task["done_bytes"] == size, f"{who}: {task}"

        rows = read_files(database(side.home, side.identity), task["id"])
        assert sorted(r.remote_id for r in rows) == sorted(remote), f"{who}: rows vs server"
        for row in rows:
            want = remote[row.remote_id]
            assert (row.state, row.size, row.sha256) == ("succeeded", want.size, want.sha256), (
                who,
                row,
            )
            file = target / row.local_path
            assert file.is_file(), f"{who}: marked succeeded, missing: {row.local_path}"
            got = hashlib.sha256(file.read_bytes()).hexdigest()
            other = named.get(row.local_path)
            assert got == want.sha256, f"{who}: {row.local_path} does not hold its bytes" + (
                f" (also claimed by {other[0].user}/{other[0].identity})" if other else ""
            )
            if other is not None:
                # Both rows name one file: only possible when both want the same bytes.
                assert other[1] == want.sha256, f"{row.local_path} is claimed by both exporters"
            named[row.local_path] = (side, want.sha256)
        assert check_home(side.home) == [], who

    on_disk = {p.relative_to(target).as_posix() for p in exported_files(target)}
    assert on_disk == set(named), (
        f"on disk but no row's: {sorted(on_disk - set(named))[:10]}; "
        f"a row's but not on disk: {sorted(set(named) - on_disk)[:10]}"
    )
    assert staged(target) == [], "partial data left in the staging folder"


def test_two_identities_two_projects_one_folder(server: ServerHandle, tmp_path: Path) -> None:
    """The issue's case: demo/auditor exports prj-1 while demo/manager exports prj-4."""
    home = tmp_path / "home"
    sides = [
        Exporter("demo", "auditor", "prj-1", home),
        Exporter("demo", "manager", "prj-4", home),
    ]
    _check(server, tmp_path / "out", sides, tmp_path / "logs")


def test_two_identities_same_project_one_folder(server: ServerHandle, tmp_path: Path) -> None:
    """prj-2 by both of demo's identities: the same paths, the same bytes, one copy each."""
    home = tmp_path / "home"
    sides = [
        Exporter("demo", "auditor", "prj-2", home),
        Exporter("demo", "manager", "prj-2", home),
    ]
    target = tmp_path / "out"
    _check(server, target, sides, tmp_path / "logs")
    # The same bytes at the same path are one file: "already up to date", not "name (2)".
    remote = server_files(server.base_url, "prj-2", "demo", "demo", "auditor")
    name = server.facts.projects["prj-2"].name
    expected = {"/".join((name, *f.folders, f.name)) for f in remote}
    on_disk = {p.relative_to(target).as_posix() for p in exported_files(target)}
    assert on_disk == expected, sorted(on_disk ^ expected)[:10]


def test_two_pcs_same_paths_different_bytes(server: ServerHandle, tmp_path: Path) -> None:
    """demo (PC 1) and lisi (PC 2) export two projects that map to the same local paths
    with different bytes into one shared folder: nobody overwrites anybody."""
    admin = Admin(server.base_url)
    rng = random.Random(20260107)
    name = "某某集团股份有限公司2025年度审计（共享）"
    papers = [
        (["A 业务承接"], "A1 业务承接评价表.xlsx"),
        (["A 业务承接"], "A2 审计业务约定书.pdf"),
        (["D 实质性程序", "D1 货币资金"], "D1-1 货币资金审定表.xlsx"),
        (["D 实质性程序", "D1 货币资金"], "D1-2 银行存款明细表.xlsx"),
        (["E 完成阶段"], "E1 审计总结.docx"),
        (["E 完成阶段"], "E2 管理层声明书.pdf"),
    ]
    projects = {}
    for user in ("demo", "lisi"):
        project_id = admin.create_project(name)
        for folders, file_name in papers:
            content = rng.randbytes(rng.randint(48 * 1024, 96 * 1024))
            admin.add_file(project_id, folders, file_name, content)
        admin.access(user, "auditor", project_id, True)
        projects[user] = project_id
    sides = [
        Exporter("demo", "auditor", projects["demo"], tmp_path / "pc-1"),
        Exporter("lisi", "auditor", projects["lisi"], tmp_path / "pc-2"),
    ]
    target = tmp_path / "share"
    _check(server, target, sides, tmp_path / "logs")
    # Both sets are there in full: 2 x 6 files, none lost to the other.
    assert len(exported_files(target)) == 2 * len(papers)
