"""Demo data: realistic names, sizes, determinism, reuse and regeneration."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from manuscript_gui.reference_server import DemoSpec, ServerHandle, start_in_thread
from tests.fixtures_server import Admin

from .helpers import client, content_url, items, token_for, walk

SPEC = DemoSpec(
    seed=3,
    files_per_project=70,
    min_size=100,
    max_size=5000,
    large_project_files=250,
    wide_folder_children=30,
    big_file_size=300_000,
)


def snapshot(handle: ServerHandle) -> list[tuple[str, str, str, Any, Any, Any, Any]]:
    """Every project's files as (project, path, id, name, size, version, sha256)."""
    rows = []
    with client(handle.base_url, token_for(handle.base_url, "wangwu", "wangwu")) as c:
        for project in items(c, "/api/v1/projects"):
            for path, item in walk(c, project["id"]):
                rows.append(
                    (
                        project["id"],
                        path,
                        item["id"],
                        item["name"],
                        item["size"],
                        item["version"],
                        item["sha256"],
                    )
                )
    return sorted(rows)


def test_spec_validation() -> None:
    with pytest.raises(ValueError, match="min_size"):
        DemoSpec(min_size=10, max_size=5)
    with pytest.raises(ValueError, match="files_per_project"):
        DemoSpec(files_per_project=-1)
    assert DemoSpec().fingerprint() == DemoSpec().fingerprint()
    assert DemoSpec(seed=1).fingerprint() != DemoSpec(seed=2).fingerprint()


def test_same_seed_same_data(make_server: Callable[..., ServerHandle]) -> None:
    a = snapshot(make_server(demo=SPEC))
    b = snapshot(make_server(demo=SPEC))
    assert a == b
    assert len(a) == 5 * 70 + 250 + 30 + 1


def test_other_seed_other_bytes(make_server: Callable[..., ServerHandle]) -> None:
    a = snapshot(make_server(demo=SPEC))
    b = snapshot(make_server(demo=replace(SPEC, seed=4)))
    assert {r[6] for r in a}.isdisjoint({r[6] for r in b})


def test_realistic_tree(make_server: Callable[..., ServerHandle]) -> None:
    handle = make_server(demo=SPEC)
    facts = handle.facts
    rows = snapshot(handle)
    paths = {(r[1], r[3]) for r in rows if r[0] == "prj-1"}
    for expected in [
        ("/A 业务承接", "A2 审计业务约定书.pdf"),
        ("/B 风险评估", "B3 重要性水平确定表.xlsx"),
        ("/C 控制测试", "C1 销售与收款循环控制测试.xlsx"),
        ("/D 实质性程序/D1 货币资金", "D1-1 货币资金审定表.xlsx"),
        ("/D 实质性程序/D1 货币资金", "D1-2 银行存款明细表.xlsx"),
        ("/E 完成阶段", "E4 审计报告.docx"),
        ("/E 完成阶段/E9 电子档案", "E9-1 审计档案归档包.zip"),
    ]:
        assert expected in paths
    # Past the standard index, vouchers are filed by area and month.
    assert any(
        r[1].startswith("/D 实质性程序/D1 货币资金/D1-9 凭证抽查/2025年") and r[3].startswith("记-")
        for r in rows
    )
    counts = {p.id: p.files for p in facts.projects.values()}
    assert counts["prj-2"] == 70
    assert facts.large_project_id is not None
    assert counts[facts.large_project_id] == 250
    assert facts.wide_folder_children == 30
    assert facts.big_file_id is not None
    sizes = [r[4] for r in rows if r[2] != facts.big_file_id]
    assert min(sizes) >= 100
    assert max(sizes) <= 5000
    assert next(r[4] for r in rows if r[2] == facts.big_file_id) == 300_000
    with client(handle.base_url, token_for(handle.base_url)) as c:
        big = c.get(content_url(facts.big_file_id, 1))
        assert big.headers["Content-Type"] == "application/zip"
        assert big.content.startswith(b"PK\x03\x04")


def test_tiny_demo_still_has_nested_folders(make_server: Callable[..., ServerHandle]) -> None:
    handle = make_server(demo=DemoSpec(files_per_project=3, large_project_files=0))
    rows = [r for r in snapshot(handle) if r[0] == "prj-1"]
    assert len(rows) == 3
    assert any(r[1].count("/") >= 2 for r in rows)


def test_no_demo_data(tmp_path: Path) -> None:
    with start_in_thread(tmp_path / "data", demo=None) as handle:
        assert handle.facts.projects == {}
        with client(handle.base_url, token_for(handle.base_url)) as c:
            assert items(c, "/api/v1/projects") == []


def test_reuse_and_regeneration(tmp_path: Path) -> None:
    data = tmp_path / "data"
    small = replace(SPEC, large_project_files=0, big_file_size=0, wide_folder_children=0)
    with start_in_thread(data, demo=small, admin=True) as handle:
        before = snapshot(handle)
        adm = Admin(handle.base_url)
        file_id = before[0][2]
        adm.new_version(file_id, b"edited")
        extra = adm.create_project("管理员项目", "ADM-1")
        adm.access("demo", "auditor", extra, True)
        added = adm.add_file(extra, ["x"], "kept.txt", b"kept")
    t0 = time.monotonic()
    with start_in_thread(data, demo=small, admin=True) as handle:
        reused = snapshot(handle)
        reuse_s = time.monotonic() - t0
        assert [r for r in reused if r[2] != file_id and r[0] != extra] == [
            r for r in before if r[2] != file_id
        ]
        assert next(r for r in reused if r[2] == file_id)[5] == before[0][5] + 1
    assert reuse_s < 5
    changed = replace(small, seed=99)
    with start_in_thread(data, demo=changed, admin=True) as handle:
        regenerated = snapshot(handle)
        # Demo projects are new (other bytes), the admin project survived.
        demo_rows = [r for r in regenerated if r[0] != extra]
        assert {r[6] for r in demo_rows}.isdisjoint({r[6] for r in before})
        with client(handle.base_url, token_for(handle.base_url)) as c:
            assert c.get(content_url(added["id"], 1)).content == b"kept"
            assert extra in [p["id"] for p in items(c, "/api/v1/projects")]
    packs = sorted(p.name for p in (data / "packs").iterdir())
    assert packs == ["data-0000.pack", "demo-0000.pack"]


@pytest.mark.slow
def test_hundred_thousand_files(tmp_path: Path) -> None:
    spec = DemoSpec(large_project_files=100_000, min_size=512, max_size=4096)
    t0 = time.monotonic()
    with start_in_thread(tmp_path / "data", demo=spec) as handle:
        generated_s = time.monotonic() - t0
        assert handle.facts.large_project_id is not None
        assert handle.facts.projects[handle.facts.large_project_id].files == 100_000
        with client(handle.base_url, token_for(handle.base_url)) as c:
            files = walk(c, handle.facts.large_project_id)
            assert len(files) == 100_000
            assert len({item["id"] for _, item in files}) == 100_000
            _, item = files[-1]
            assert c.get(content_url(item["id"], item["version"])).status_code == 200
    assert generated_s < 60
