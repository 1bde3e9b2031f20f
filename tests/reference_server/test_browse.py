"""Projects, folder children, pagination and file metadata."""

from __future__ import annotations

import pytest

from manuscript_gui.reference_server import ServerHandle

from .helpers import (
    RFC3339_UTC,
    assert_error,
    children_url,
    client,
    items,
    pages,
    token_for,
)

FILE_KEYS = {"kind", "id", "name", "size", "version", "sha256", "contentType", "updatedAt"}


@pytest.mark.parametrize(
    ("username", "user_type"),
    [
        ("demo", "auditor"),
        ("demo", "manager"),
        ("lisi", "auditor"),
        ("wangwu", "qc"),
        ("wangwu", "partner"),
    ],
)
def test_projects_follow_identity(ref_server: ServerHandle, username: str, user_type: str) -> None:
    token = token_for(ref_server.base_url, username, username, user_type)
    with client(ref_server.base_url, token) as c:
        got = items(c, "/api/v1/projects")
    expected = ref_server.facts.projects_for(username, user_type)
    assert expected
    assert sorted(p["id"] for p in got) == sorted(expected)
    for p in got:
        assert set(p) == {"id", "name", "code", "client", "period", "updatedAt"}
        assert RFC3339_UTC.match(p["updatedAt"])
        assert p["name"].startswith(p["client"])
    # Sorted by name (then id), so pages are stable.
    assert [(p["name"], p["id"]) for p in got] == sorted((p["name"], p["id"]) for p in got)


def test_demo_identities_overlap_partly(ref_server: ServerHandle) -> None:
    facts = ref_server.facts
    auditor = set(facts.projects_for("demo", "auditor"))
    manager = set(facts.projects_for("demo", "manager"))
    assert auditor & manager
    assert auditor - manager
    assert manager - auditor
    assert facts.projects_for("demo") == facts.projects_for("demo", "auditor")


def test_project_list_pagination(ref_server: ServerHandle) -> None:
    token = token_for(ref_server.base_url, "wangwu", "wangwu")
    with client(ref_server.base_url, token) as c:
        whole = items(c, "/api/v1/projects")
        paged = list(pages(c, "/api/v1/projects", limit=2))
    assert len(whole) == 6
    assert [len(p["items"]) for p in paged] == [2, 2, 2]
    assert [i for p in paged for i in p["items"]] == whole


def test_root_children(ref_server: ServerHandle) -> None:
    token = token_for(ref_server.base_url)
    with client(ref_server.base_url, token) as c:
        resp = c.get(children_url("prj-1"))
    assert resp.status_code == 200
    page = resp.json()
    assert page["nextCursor"] is None
    assert [i["name"] for i in page["items"]] == [
        "A 业务承接",
        "B 风险评估",
        "C 控制测试",
        "D 实质性程序",
        "E 完成阶段",
    ]
    for item in page["items"]:
        assert set(item) == {"kind", "id", "name", "updatedAt"}
        assert item["kind"] == "folder"
        assert RFC3339_UTC.match(item["updatedAt"])


def test_nested_folders_and_file_items(ref_server: ServerHandle) -> None:
    token = token_for(ref_server.base_url)
    with client(ref_server.base_url, token) as c:
        top = {i["name"]: i for i in items(c, children_url("prj-1"))}
        substantive = {
            i["name"]: i for i in items(c, children_url("prj-1", top["D 实质性程序"]["id"]))
        }
        cash = items(c, children_url("prj-1", substantive["D1 货币资金"]["id"]))
    assert cash
    names = [i["name"] for i in cash]
    assert names == sorted(names)
    for item in cash:
        assert set(item) == FILE_KEYS
        assert item["kind"] == "file"
        assert item["name"].startswith("D1-")
        assert isinstance(item["size"], int)
        assert item["version"] >= 1
        assert len(item["sha256"]) == 64
        int(item["sha256"], 16)
        assert RFC3339_UTC.match(item["updatedAt"])
        if item["name"].endswith(".xlsx"):
            assert item["contentType"] == (
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            )
        if item["name"].endswith(".pdf"):
            assert item["contentType"] == "application/pdf"


def test_folders_come_before_files(ref_server: ServerHandle) -> None:
    facts = ref_server.facts
    assert facts.large_project_id is not None
    token = token_for(ref_server.base_url)
    with client(ref_server.base_url, token) as c:
        top = {i["name"]: i["id"] for i in items(c, children_url(facts.large_project_id))}
        cash = {
            i["name"]: i["id"]
            for i in items(c, children_url(facts.large_project_id, top["D 实质性程序"]))
        }
        listing = items(c, children_url(facts.large_project_id, cash["D1 货币资金"]))
    kinds = [i["kind"] for i in listing]
    assert "folder" in kinds
    assert "file" in kinds
    assert kinds == sorted(kinds, key=lambda k: k != "folder")


@pytest.mark.parametrize("limit", [None, 7, 200, 1000, 5000])
def test_wide_folder_pagination(ref_server: ServerHandle, limit: int | None) -> None:
    facts = ref_server.facts
    assert facts.wide_folder_id is not None
    assert facts.wide_folder_project_id is not None
    assert facts.wide_folder_children >= 1000
    token = token_for(ref_server.base_url)
    url = children_url(facts.wide_folder_project_id, facts.wide_folder_id)
    with client(ref_server.base_url, token) as c:
        got = list(pages(c, url, limit))
    cap = min(limit or 200, 1000)
    sizes = [len(p["items"]) for p in got]
    assert all(s == cap for s in sizes[:-1])
    assert 0 < sizes[-1] <= cap
    ids = [i["id"] for p in got for i in p["items"]]
    assert len(ids) == facts.wide_folder_children
    assert len(set(ids)) == len(ids)
    names = [i["name"] for p in got for i in p["items"]]
    assert names == sorted(names)


def test_cursor_survives_inserts_between_pages(fresh_server: ServerHandle) -> None:
    from tests.fixtures_server import Admin

    adm = Admin(fresh_server.base_url)
    project = adm.create_project("分页测试", "PAGE-1")
    adm.access("demo", "auditor", project, True)
    for i in range(0, 20, 2):
        adm.add_file(project, ["wide"], f"f{i:02d}.txt", b"x")
    token = token_for(fresh_server.base_url)
    folder = None
    seen: list[str] = []
    with client(fresh_server.base_url, token) as c:
        folder = items(c, children_url(project))[0]["id"]
        url = children_url(project, folder)
        first = c.get(url, params={"limit": 5}).json()
        seen += [i["name"] for i in first["items"]]
        # Insert before and after the cursor position, then continue.
        adm.add_file(project, ["wide"], "f01.txt", b"x")
        adm.add_file(project, ["wide"], "f99.txt", b"x")
        cursor = first["nextCursor"]
        while cursor:
            page = c.get(url, params={"limit": 5, "cursor": cursor}).json()
            seen += [i["name"] for i in page["items"]]
            cursor = page["nextCursor"]
    assert seen == [f"f{i:02d}.txt" for i in range(0, 20, 2)] + ["f99.txt"]


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "1.5", "", " 5", "１０"])
def test_invalid_limit_is_400(ref_server: ServerHandle, limit: str) -> None:
    token = token_for(ref_server.base_url)
    with client(ref_server.base_url, token) as c:
        for url in ("/api/v1/projects", children_url("prj-1")):
            assert_error(c.get(url, params={"limit": limit}), 400, "bad_request")


def test_invalid_cursor_is_400(ref_server: ServerHandle) -> None:
    facts = ref_server.facts
    assert facts.wide_folder_id is not None
    token = token_for(ref_server.base_url)
    wide = children_url("prj-1", facts.wide_folder_id)
    with client(ref_server.base_url, token) as c:
        good = c.get(wide, params={"limit": 3}).json()["nextCursor"]
        assert good
        for bad in ("garbage!", "eyJ4IjoxfQ", good[:-3] + "AAA", "W10"):
            assert_error(c.get(wide, params={"cursor": bad}), 400, "bad_request")
        # A cursor belongs to the listing it came from.
        assert_error(c.get(children_url("prj-1"), params={"cursor": good}), 400, "bad_request")
        assert_error(c.get("/api/v1/projects", params={"cursor": good}), 400, "bad_request")


def test_unknown_project_or_folder_is_404(ref_server: ServerHandle) -> None:
    token = token_for(ref_server.base_url)
    with client(ref_server.base_url, token) as c:
        assert_error(c.get(children_url("prj-nope")), 404, "not_found")
        assert_error(c.get(children_url("prj-1", "fld-nope")), 404, "not_found")
        # A folder of another project is unknown here.
        other_top = items(c, children_url("prj-2"))[0]["id"]
        assert_error(c.get(children_url("prj-1", other_top)), 404, "not_found")


def test_project_of_another_identity_is_403(ref_server: ServerHandle) -> None:
    hidden = set(ref_server.facts.projects_for("demo", "manager")) - set(
        ref_server.facts.projects_for("demo", "auditor")
    )
    token = token_for(ref_server.base_url)
    with client(ref_server.base_url, token) as c:
        for project_id in hidden:
            assert_error(c.get(children_url(project_id)), 403, "forbidden")


def test_file_info(ref_server: ServerHandle) -> None:
    token = token_for(ref_server.base_url)
    with client(ref_server.base_url, token) as c:
        wide = items(c, children_url("prj-1", ref_server.facts.wide_folder_id or ""), limit=1000)
        revised = [i for i in wide if i["version"] > 1]
        assert revised, "about one demo file in ten has two versions"
        item = revised[0]
        resp = c.get(f"/api/v1/files/{item['id']}")
    assert resp.status_code == 200
    info = resp.json()
    assert set(info) == {"id", "projectId", "name", "currentVersion", "versions"}
    assert info["id"] == item["id"]
    assert info["projectId"] == "prj-1"
    assert info["name"] == item["name"]
    assert info["currentVersion"] == item["version"] == 2
    assert [v["version"] for v in info["versions"]] == [1, 2]
    for v in info["versions"]:
        assert set(v) == {"version", "size", "sha256", "createdAt"}
        assert RFC3339_UTC.match(v["createdAt"])
    assert info["versions"][-1]["sha256"] == item["sha256"]
    assert info["versions"][-1]["size"] == item["size"]
    assert info["versions"][0]["sha256"] != item["sha256"]


def test_file_info_errors(ref_server: ServerHandle) -> None:
    manager_only = set(ref_server.facts.projects_for("demo", "manager")) - set(
        ref_server.facts.projects_for("demo", "auditor")
    )
    manager = token_for(ref_server.base_url, user_type="manager")
    with client(ref_server.base_url, manager) as c:
        project = sorted(manager_only)[0]
        top = items(c, children_url(project))
        file_id = next(
            i["id"]
            for f in top
            for i in items(c, children_url(project, f["id"]))
            if i["kind"] == "file"
        )
        assert c.get(f"/api/v1/files/{file_id}").status_code == 200
    with client(ref_server.base_url, token_for(ref_server.base_url)) as c:
        assert_error(c.get(f"/api/v1/files/{file_id}"), 403, "forbidden")
        assert_error(c.get("/api/v1/files/fil-nope"), 404, "not_found")


def test_unknown_routes_are_json_404(ref_server: ServerHandle) -> None:
    token = token_for(ref_server.base_url)
    with client(ref_server.base_url, token) as c:
        for path in ("/", "/api/v2/projects", "/api/v1/projects/prj-1", "/favicon.ico"):
            assert_error(c.get(path), 404, "not_found")
        assert_error(c.get("/api/v1/files/fil-1/versions/one/content"), 404, "not_found")
        resp = c.delete("/api/v1/projects")
        assert_error(resp, 405, "method_not_allowed")
        assert "GET" in resp.headers["Allow"]
