"""Admin endpoints: data changes, access, hostile names, and the admin switch itself."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from manuscript_gui.reference_server import ServerHandle, start_in_thread
from tests.fixtures_server import TINY_DEMO, Admin, AdminError

from .helpers import assert_error, children_url, client, content_url, items, token_for, walk

HOSTILE_NAMES = [
    "a/b.xlsx",
    "a\\b.docx",
    "..",
    ".",
    "../../etc/passwd",
    "CON",
    "nul.txt",
    "com1.pdf",
    "trailing dot.",
    "trailing space ",
    " leading space",
    "tab\there",
    "line\nbreak",
    "bell\x07",
    "nul\x00byte",
    "Readme.md",
    "README.md",
    "长" * 100 + ".pdf",  # 304 bytes of UTF-8
    "x" * 300,
    "\u202egpj.exe",
    "emoji 📄.pdf",
    "",
]


def _first_file(base_url: str, project_id: str = "prj-1") -> dict[str, Any]:
    with client(base_url, token_for(base_url)) as c:
        return walk(c, project_id)[0][1]


def test_new_version_keeps_old_one(fresh_server: ServerHandle, admin: Admin) -> None:
    item = _first_file(fresh_server.base_url)
    old = item["version"]
    data = b"revised working paper " * 100
    made = admin.new_version(item["id"], data)
    assert made == {
        "id": item["id"],
        "version": old + 1,
        "sha256": hashlib.sha256(data).hexdigest(),
        "size": len(data),
    }
    with client(fresh_server.base_url, token_for(fresh_server.base_url)) as c:
        info = c.get(f"/api/v1/files/{item['id']}").json()
        assert info["currentVersion"] == old + 1
        assert [v["version"] for v in info["versions"]][-2:] == [old, old + 1]
        new = c.get(content_url(item["id"], old + 1))
        assert new.content == data
        prev = c.get(content_url(item["id"], old))
        assert hashlib.sha256(prev.content).hexdigest() == item["sha256"]
        assert new.headers["ETag"] != prev.headers["ETag"]
        listed = next(i for _, i in walk(c, "prj-1") if i["id"] == item["id"])
        assert listed["version"] == old + 1
        assert listed["sha256"] == made["sha256"]


def test_identical_content_is_stored_once(fresh_server: ServerHandle, admin: Admin) -> None:
    blob = b"same bytes" * 1000
    a = admin.add_file("prj-1", ["dedup"], "a.bin", blob)
    b = admin.add_file("prj-1", ["dedup"], "b.bin", blob)
    assert a["sha256"] == b["sha256"]
    assert a["id"] != b["id"]
    packs = sorted((fresh_server.data_dir / "packs").glob("data-*.pack"))
    assert sum(p.stat().st_size for p in packs) == len(blob)


def test_purge_version(fresh_server: ServerHandle, admin: Admin) -> None:
    item = _first_file(fresh_server.base_url)
    old = item["version"]
    admin.new_version(item["id"], b"v-next")
    admin.purge(item["id"], old)
    with client(fresh_server.base_url, token_for(fresh_server.base_url)) as c:
        assert_error(c.get(content_url(item["id"], old)), 404, "version_not_found")
        info = c.get(f"/api/v1/files/{item['id']}").json()
        assert old not in [v["version"] for v in info["versions"]]
        assert c.get(content_url(item["id"], old + 1)).content == b"v-next"
    with pytest.raises(AdminError, match="version_not_found"):
        admin.purge(item["id"], old)


def test_purging_current_version_falls_back(fresh_server: ServerHandle, admin: Admin) -> None:
    made = admin.add_file("prj-1", [], "fallback.txt", b"one")
    admin.new_version(made["id"], b"two")
    admin.purge(made["id"], 2)
    with client(fresh_server.base_url, token_for(fresh_server.base_url)) as c:
        info = c.get(f"/api/v1/files/{made['id']}").json()
        assert info["currentVersion"] == 1
        listed = next(i for i in items(c, children_url("prj-1")) if i["id"] == made["id"])
        assert listed["version"] == 1
        assert listed["sha256"] == hashlib.sha256(b"one").hexdigest()


def test_delete_file(fresh_server: ServerHandle, admin: Admin) -> None:
    item = _first_file(fresh_server.base_url)
    admin.delete(item["id"])
    with client(fresh_server.base_url, token_for(fresh_server.base_url)) as c:
        assert_error(c.get(content_url(item["id"], item["version"])), 410, "file_deleted")
        assert_error(c.get(f"/api/v1/files/{item['id']}"), 410, "file_deleted")
        assert item["id"] not in [i["id"] for _, i in walk(c, "prj-1")]
    with pytest.raises(AdminError, match="file_deleted"):
        admin.delete(item["id"])
    with pytest.raises(AdminError, match="file_deleted"):
        admin.new_version(item["id"], b"x")
    with pytest.raises(AdminError, match="not_found"):
        admin.delete("fil-nope")


def test_access_withdrawn_and_granted(fresh_server: ServerHandle, admin: Admin) -> None:
    item = _first_file(fresh_server.base_url)
    token = token_for(fresh_server.base_url)
    with client(fresh_server.base_url, token) as c:
        admin.access("demo", "auditor", "prj-1", False)
        assert "prj-1" not in [p["id"] for p in items(c, "/api/v1/projects")]
        assert_error(c.get(children_url("prj-1")), 403, "forbidden")
        assert_error(c.get(f"/api/v1/files/{item['id']}"), 403, "forbidden")
        assert_error(c.get(content_url(item["id"], item["version"])), 403, "forbidden")
        admin.access("demo", "auditor", "prj-1", True)
        assert "prj-1" in [p["id"] for p in items(c, "/api/v1/projects")]
        assert c.get(content_url(item["id"], item["version"])).status_code == 200
    # The other identity of the same user is unaffected by either change.
    with client(fresh_server.base_url, token_for(fresh_server.base_url, user_type="manager")) as m:
        assert "prj-1" not in [p["id"] for p in items(m, "/api/v1/projects")]


def test_created_project_is_invisible_until_granted(
    fresh_server: ServerHandle, admin: Admin
) -> None:
    project = admin.create_project("新建项目", None)
    coded = admin.create_project("新建项目二", "NEW-2")
    token = token_for(fresh_server.base_url, "lisi", "lisi")
    with client(fresh_server.base_url, token) as c:
        assert project not in [p["id"] for p in items(c, "/api/v1/projects")]
        assert_error(c.get(children_url(project)), 403, "forbidden")
        admin.access("lisi", "auditor", project, True)
        admin.access("lisi", "auditor", coded, True)
        listed = {p["id"]: p for p in items(c, "/api/v1/projects")}
        assert listed[project]["name"] == "新建项目"
        assert listed[project]["code"] is None
        assert listed[coded]["code"] == "NEW-2"
        assert items(c, children_url(project)) == []


def test_hostile_names_are_stored_verbatim(fresh_server: ServerHandle, admin: Admin) -> None:
    project = admin.create_project("hostile", "H-1")
    admin.access("demo", "auditor", project, True)
    chain = ["..", "a/b", "CON", "trailing. ", "长" * 100]
    made = {}
    for i, name in enumerate(HOSTILE_NAMES):
        made[name] = admin.add_file(project, chain, name, f"content {i}".encode())
    twin = admin.add_file(project, chain, "Readme.md", b"twin")
    assert len({m["folderId"] for m in made.values()}) == 1, "the folder chain is reused"
    with client(fresh_server.base_url, token_for(fresh_server.base_url)) as c:
        files = walk(c, project)
        paths = {path for path, _ in files}
        assert paths == {"/" + "/".join(chain)}
        listed = [item for _, item in files]
        # Compare with the exact strings sent, control characters included.
        assert sorted(i["name"] for i in listed) == sorted([*HOSTILE_NAMES, "Readme.md"])
        by_id = {i["id"]: i for i in listed}
        for i, name in enumerate(HOSTILE_NAMES):
            assert by_id[made[name]["id"]]["name"] == name
            data = c.get(content_url(made[name]["id"], 1)).content
            assert data == f"content {i}".encode()
            assert c.get(f"/api/v1/files/{made[name]['id']}").json()["name"] == name
        assert by_id[twin["id"]]["name"] == "Readme.md"
        assert twin["id"] != made["Readme.md"]["id"]
        # Folders are folders first, so the chain shows up before anything else.
        top = items(c, children_url(project))
        assert [(t["kind"], t["name"]) for t in top] == [("folder", "..")]


def test_hostile_names_survive_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with start_in_thread(data, demo=TINY_DEMO, admin=True) as handle:
        adm = Admin(handle.base_url)
        project = adm.create_project("nul\x00项目\n", "C\x01")
        adm.access("demo", "auditor", project, True)
        for name in HOSTILE_NAMES:
            adm.add_file(project, ["nul\x00dir", " "], name, b"x")
    with (
        start_in_thread(data, demo=TINY_DEMO) as handle,
        client(handle.base_url, token_for(handle.base_url)) as c,
    ):
        listed = {p["id"]: p for p in items(c, "/api/v1/projects")}
        assert listed[project]["name"] == "nul\x00项目\n"
        assert listed[project]["code"] == "C\x01"
        files = walk(c, project)
    assert {path for path, _ in files} == {"/nul\x00dir/ "}
    assert sorted(item["name"] for _, item in files) == sorted(HOSTILE_NAMES)


def test_lone_surrogates_are_rejected(fresh_server: ServerHandle) -> None:
    body = b'{"folders": ["ok"], "name": "bad\\ud800", "contentBase64": ""}'
    with client(fresh_server.base_url) as c:
        resp = c.post("/__admin__/projects/prj-1/files", content=body)
        assert_error(resp, 400, "bad_request")
        resp = c.post("/__admin__/projects", content=b'{"name": "\\udfff"}')
        assert_error(resp, 400, "bad_request")


def test_add_file_content_type(fresh_server: ServerHandle, admin: Admin) -> None:
    cases = {
        "x.XLSX": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "x.docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "x.pdf": "application/pdf",
        "x.unknownext": "application/octet-stream",
        "noext": "application/octet-stream",
    }
    for name, ctype in cases.items():
        made = admin.add_file("prj-1", ["types"], name, b"%")
        with client(fresh_server.base_url, token_for(fresh_server.base_url)) as c:
            resp = c.get(content_url(made["id"], 1))
        assert resp.headers["Content-Type"] == ctype, name


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/__admin__/projects", {"code": "X"}, 400, "bad_request"),
        ("/__admin__/projects", {"name": 5}, 400, "bad_request"),
        ("/__admin__/projects", {"name": "n", "code": 5}, 400, "bad_request"),
        (
            "/__admin__/projects/prj-1/files",
            {"name": "a", "contentBase64": "!!"},
            400,
            "bad_request",
        ),
        (
            "/__admin__/projects/prj-1/files",
            {"folders": "a", "name": "a", "contentBase64": ""},
            400,
            "bad_request",
        ),
        ("/__admin__/projects/prj-1/files", {"contentBase64": ""}, 400, "bad_request"),
        (
            "/__admin__/projects/prj-nope/files",
            {"name": "a", "contentBase64": ""},
            404,
            "not_found",
        ),
        (
            "/__admin__/access",
            {"username": "ghost", "userType": "auditor", "projectId": "prj-1", "allowed": True},
            404,
            "not_found",
        ),
        (
            "/__admin__/access",
            {"username": "demo", "userType": "auditor", "projectId": "prj-nope", "allowed": True},
            404,
            "not_found",
        ),
        (
            "/__admin__/access",
            {"username": "demo", "userType": "qc", "projectId": "prj-1", "allowed": True},
            400,
            "bad_request",
        ),
        (
            "/__admin__/access",
            {"username": "demo", "userType": "auditor", "projectId": "prj-1", "allowed": "yes"},
            400,
            "bad_request",
        ),
        ("/__admin__/tokens/revoke", {"username": 3}, 400, "bad_request"),
        ("/__admin__/files/fil-nope/versions", None, 404, "not_found"),
    ],
)
def test_admin_rejects_bad_requests(
    fresh_server: ServerHandle, path: str, body: Any, status: int, code: str
) -> None:
    with client(fresh_server.base_url) as c:
        resp = c.post(path, json=body) if body is not None else c.post(path, content=b"x")
    assert_error(resp, status, code)


def test_revoke_tokens(fresh_server: ServerHandle, admin: Admin) -> None:
    base = fresh_server.base_url
    demo_a, demo_b = token_for(base), token_for(base, user_type="manager")
    lisi = token_for(base, "lisi", "lisi")
    assert admin.revoke("lisi") == 1
    with client(base) as c:
        for token, ok in ((demo_a, True), (demo_b, True), (lisi, False)):
            resp = c.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
            assert resp.status_code == (200 if ok else 401)
    assert admin.revoke() == 2
    assert admin.revoke() == 0
    with client(base, demo_a) as c:
        assert_error(c.get("/api/v1/me"), 401, "unauthorized")
    # A new login works again.
    with client(base, token_for(base)) as c:
        assert c.get("/api/v1/me").status_code == 200


def test_demo_endpoint_matches_facts(fresh_server: ServerHandle, admin: Admin) -> None:
    live = admin.demo()
    assert live == fresh_server.facts.to_json()
    assert {a["username"] for a in live["accounts"]} == {"demo", "lisi", "wangwu"}


def test_admin_routes_absent_without_flag(make_server: Callable[..., ServerHandle]) -> None:
    handle = make_server(demo=TINY_DEMO, admin=False)
    routes = [
        ("GET", "/__admin__/faults"),
        ("POST", "/__admin__/faults"),
        ("POST", "/__admin__/reset"),
        ("POST", "/__admin__/tokens/revoke"),
        ("POST", "/__admin__/files/fil-1/versions"),
        ("DELETE", "/__admin__/files/fil-1/versions/1"),
        ("DELETE", "/__admin__/files/fil-1"),
        ("POST", "/__admin__/access"),
        ("POST", "/__admin__/projects"),
        ("POST", "/__admin__/projects/prj-1/files"),
        ("GET", "/__admin__/demo"),
        ("POST", "/__admin__/files/fil-1/entry"),
        ("POST", "/__admin__/folders/fld-1/entry"),
        ("POST", "/__admin__/projects/prj-1/entry"),
    ]
    with client(handle.base_url) as c:
        for method, path in routes:
            assert_error(c.request(method, path, json={}), 404, "not_found")
    # The API itself works as usual.
    with client(handle.base_url, token_for(handle.base_url)) as c:
        assert c.get("/api/v1/projects").status_code == 200


def test_entry_overrides_change_only_listings(fresh_server: ServerHandle, admin: Admin) -> None:
    made = admin.add_file("prj-1", ["ov", "inner"], "paper.xlsx", b"real bytes")
    neighbour = admin.add_file("prj-1", ["ov", "inner"], "other.xlsx", b"other bytes")
    with client(fresh_server.base_url, token_for(fresh_server.base_url)) as c:
        listing = children_url("prj-1", made["folderId"])
        before = {i["id"]: i for i in items(c, listing)}
        info_before = c.get(f"/api/v1/files/{made['id']}").json()
        content_before = c.get(content_url(made["id"], 1))

        admin.entry(
            made["id"],
            {
                "updatedAt": "2016-12-31T23:59:60Z",
                "size": "12",
                "sha256": None,
                "extra": {"nested": [1, None]},
            },
        )
        for limit in (None, 1):  # every page that shows the file, whatever the paging
            after = {i["id"]: i for i in items(c, listing, limit=limit)}
            expected = {k: v for k, v in before[made["id"]].items() if k != "sha256"}
            expected |= {
                "updatedAt": "2016-12-31T23:59:60Z",
                "size": "12",
                "extra": {"nested": [1, None]},
            }
            assert after[made["id"]] == expected
            assert after[neighbour["id"]] == before[neighbour["id"]]
        # Metadata and content keep the real values.
        assert c.get(f"/api/v1/files/{made['id']}").json() == info_before
        resp = c.get(content_url(made["id"], 1))
        assert resp.content == b"real bytes"
        assert resp.headers["ETag"] == content_before.headers["ETag"]
        assert resp.headers["Content-Length"] == "10"

        # Later calls add to earlier ones.
        admin.entry(made["id"], {"contentType": 5, "kind": "symlink"})
        item = {i["id"]: i for i in items(c, listing)}[made["id"]]
        assert item["contentType"] == 5
        assert item["kind"] == "symlink"
        assert item["size"] == "12"
        assert "sha256" not in item
        # {} clears every override of that file.
        admin.entry(made["id"], {})
        assert {i["id"]: i for i in items(c, listing)} == before


def test_folder_and_project_entry_overrides(fresh_server: ServerHandle, admin: Admin) -> None:
    made = admin.add_file("prj-1", ["ov-folder"], "f.txt", b"x")
    folder_id = made["folderId"]
    with client(fresh_server.base_url, token_for(fresh_server.base_url)) as c:
        top_before = items(c, children_url("prj-1"))
        projects_before = items(c, "/api/v1/projects")

        admin.folder_entry(folder_id, {"updatedAt": "not a time", "id": None})
        top = items(c, children_url("prj-1"))
        changed = [t for t in top if t.get("name") == "ov-folder"]
        assert changed == [{"kind": "folder", "name": "ov-folder", "updatedAt": "not a time"}]
        assert [t for t in top if t.get("name") != "ov-folder"] == [
            t for t in top_before if t["name"] != "ov-folder"
        ]
        # The folder itself still lists normally.
        assert [i["id"] for i in items(c, children_url("prj-1", folder_id))] == [made["id"]]

        admin.project_entry("prj-1", {"updatedAt": "2016-12-31T23:59:60Z", "code": 17})
        projects = {p["id"]: p for p in items(c, "/api/v1/projects")}
        original = next(p for p in projects_before if p["id"] == "prj-1")
        assert projects["prj-1"] == {
            **original,
            "updatedAt": "2016-12-31T23:59:60Z",
            "code": 17,
        }

        # reset drops every override together with the fault knobs.
        admin.entry(made["id"], {"size": -1})
        admin.reset()
        assert items(c, children_url("prj-1")) == top_before
        assert items(c, "/api/v1/projects") == projects_before
        assert items(c, children_url("prj-1", folder_id))[0]["size"] == 1


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/__admin__/files/fil-nope/entry", b"{}", 404, "not_found"),
        ("/__admin__/folders/fld-nope/entry", b'{"name": "x"}', 404, "not_found"),
        ("/__admin__/projects/prj-nope/entry", b'{"name": "x"}', 404, "not_found"),
        # A file id is not a folder id, and the other way round.
        ("/__admin__/folders/{file}/entry", b"{}", 404, "not_found"),
        ("/__admin__/files/{folder}/entry", b"{}", 404, "not_found"),
        ("/__admin__/files/{file}/entry", b"[1]", 400, "bad_request"),
        ("/__admin__/files/{file}/entry", b'"size"', 400, "bad_request"),
        ("/__admin__/files/{file}/entry", b"not json", 400, "bad_request"),
        ("/__admin__/files/{file}/entry", b'{"name": "\\ud800"}', 400, "bad_request"),
        ("/__admin__/projects/prj-1/entry", b"null", 400, "bad_request"),
    ],
)
def test_entry_override_rejects_bad_requests(
    fresh_server: ServerHandle, admin: Admin, path: str, body: bytes, status: int, code: str
) -> None:
    made = admin.add_file("prj-1", ["ov-bad"], "f.txt", b"x")
    path = path.format(file=made["id"], folder=made["folderId"])
    with client(fresh_server.base_url, token_for(fresh_server.base_url)) as c:
        before = items(c, children_url("prj-1", made["folderId"]))
        assert_error(c.post(path, content=body), status, code)
        # Nothing changed.
        assert items(c, children_url("prj-1", made["folderId"])) == before
