"""Issue #6 item 8: optional metadata never stops a listing.

A field the export does not need (timestamps, contentType, a project's code)
is read leniently and becomes None when malformed; a file entry whose needed
field (id, name, version, size, sha256) is malformed becomes a BadFileEntry
with a clear reason, and the rest of the page is intact. The server-side
cases use the reference server's listing overrides
(``POST /__admin__/files/{id}/entry``), over real HTTP.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

import pytest

from manuscript_gui.net import ApiClient, ProtocolError
from manuscript_gui.net.wire import (
    BadFileEntry,
    ChildEntry,
    FileEntry,
    FolderEntry,
    Page,
    Project,
    parse_children_page,
    parse_rfc3339,
)
from manuscript_gui.reference_server import ServerHandle
from tests.fixtures_server import Admin

UTC = datetime.UTC
SHA = "ab" * 32


class Tree:
    """A folder ``tolerant`` in prj-1 with a sub-folder and four files."""

    def __init__(self, admin: Admin) -> None:
        self.files = {
            name: admin.add_file("prj-1", ["tolerant"], name, f"bytes of {name}".encode())
            for name in ("a.xlsx", "b.docx", "c.pdf", "d.txt")
        }
        inner = admin.add_file("prj-1", ["tolerant", "sub"], "inner.txt", b"inner")
        self.sub_id: str = inner["folderId"]
        self.inner_id: str = inner["id"]
        self.folder_id: str = self.files["a.xlsx"]["folderId"]

    def id(self, name: str) -> str:
        return str(self.files[name]["id"])


async def _page(server: ServerHandle, folder_id: str, **kw: Any) -> Page[ChildEntry]:
    async with ApiClient(server.base_url) as client:
        await client.login("demo", "demo")
        return await client.children_page("prj-1", folder_id, **kw)


def _by_id(page: Page[ChildEntry]) -> dict[str | None, ChildEntry]:
    return {item.id: item for item in page.items}


async def _assert_rest_intact(
    server: ServerHandle, tree: Tree, before: Page[ChildEntry], changed: set[str]
) -> Page[ChildEntry]:
    after = await _page(server, tree.folder_id)
    assert len(after.items) == len(before.items)
    old, new = _by_id(before), _by_id(after)
    for item_id, item in old.items():
        if item_id not in changed:
            assert new[item_id] == item
    return after


# -- one optional field, served malformed: the page parses, the entry is whole -------


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        # A leap second (the finding of the issue): clamped to :59.
        (
            {"updatedAt": "2016-12-31T23:59:60Z"},
            {"updated_at": datetime.datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)},
        ),
        ({"updatedAt": "yesterday, around noon"}, {"updated_at": None}),
        ({"updatedAt": "2026-01-02T03:04:05"}, {"updated_at": None}),  # no offset
        ({"updatedAt": "2026-02-30T00:00:00Z"}, {"updated_at": None}),
        ({"updatedAt": 1700000000}, {"updated_at": None}),
        ({"updatedAt": None}, {"updated_at": None}),  # removed from the entry
        ({"contentType": None}, {"content_type": None}),  # removed from the entry
        ({"contentType": ["text/plain"]}, {"content_type": None}),
        (
            {"updatedAt": "2026-01-02t03:04:05.123456789+08:00"},
            {
                "updated_at": datetime.datetime(
                    2026,
                    1,
                    2,
                    3,
                    4,
                    5,
                    123456,
                    tzinfo=datetime.timezone(datetime.timedelta(hours=8)),
                )
            },
        ),
    ],
)
async def test_malformed_optional_file_field_is_none(
    fresh_server: ServerHandle, admin: Admin, override: dict[str, Any], expected: dict[str, Any]
) -> None:
    tree = Tree(admin)
    before = await _page(fresh_server, tree.folder_id)
    target = tree.id("b.docx")
    admin.entry(target, override)
    after = await _assert_rest_intact(fresh_server, tree, before, {target})
    entry = _by_id(after)[target]
    assert isinstance(entry, FileEntry)
    original = _by_id(before)[target]
    assert isinstance(original, FileEntry)
    # Everything the export needs is exactly what it was.
    assert (entry.id, entry.name, entry.version, entry.size, entry.sha256) == (
        original.id,
        original.name,
        original.version,
        original.size,
        original.sha256,
    )
    for attr, value in expected.items():
        assert getattr(entry, attr) == value


async def test_folder_with_garbage_timestamp_is_still_listed(
    fresh_server: ServerHandle, admin: Admin
) -> None:
    tree = Tree(admin)
    before = await _page(fresh_server, tree.folder_id)
    admin.folder_entry(tree.sub_id, {"updatedAt": "not a time at all"})
    after = await _assert_rest_intact(fresh_server, tree, before, {tree.sub_id})
    sub = _by_id(after)[tree.sub_id]
    assert sub == FolderEntry(id=tree.sub_id, name="sub", updated_at=None)
    inner = await _page(fresh_server, tree.sub_id)
    assert [item.id for item in inner.items] == [tree.inner_id]


async def test_folder_without_a_name_is_listed_under_its_id(
    fresh_server: ServerHandle, admin: Admin
) -> None:
    tree = Tree(admin)
    before = await _page(fresh_server, tree.folder_id)
    for bad in ({"name": None}, {"name": 42}):
        admin.folder_entry(tree.sub_id, {})
        admin.folder_entry(tree.sub_id, bad)
        after = await _assert_rest_intact(fresh_server, tree, before, {tree.sub_id})
        sub = _by_id(after)[tree.sub_id]
        assert isinstance(sub, FolderEntry)
        assert sub.name == tree.sub_id


# -- one needed field, served malformed: that file is a BadFileEntry ----------------


@pytest.mark.parametrize(
    ("override", "problem"),
    [
        ({"size": "12"}, "the server's listing gives no valid size for this file (got '12')"),
        ({"size": -1}, "the server's listing gives no valid size for this file (got -1)"),
        ({"size": 2**64}, "the server's listing gives no valid size for this file (got "),
        ({"size": None}, "the server's listing gives no size for this file"),
        ({"sha256": None}, "the server's listing gives no sha256 for this file"),
        (
            {"sha256": "not-hex"},
            "the server's listing gives no valid sha256 for this file (got 'not-hex')",
        ),
        ({"version": "2"}, "the server's listing gives no valid version for this file (got '2')"),
        ({"version": 1.5}, "the server's listing gives no valid version for this file (got 1.5)"),
        ({"version": True}, "the server's listing gives no valid version for this file (got true)"),
        ({"version": None}, "the server's listing gives no version for this file"),
        ({"name": 17}, "the server's listing gives no valid name for this file (got 17)"),
        (
            {"size": "12", "sha256": None},
            "the server's listing gives no valid size (got '12') and no sha256 for this file",
        ),
    ],
)
async def test_malformed_needed_file_field_fails_that_file(
    fresh_server: ServerHandle, admin: Admin, override: dict[str, Any], problem: str
) -> None:
    tree = Tree(admin)
    before = await _page(fresh_server, tree.folder_id)
    target = tree.id("c.pdf")
    admin.entry(target, override)
    after = await _assert_rest_intact(fresh_server, tree, before, {target})
    bad = _by_id(after)[target]
    assert isinstance(bad, BadFileEntry)
    assert bad.id == target
    assert bad.name == (None if "name" in override else "c.pdf")
    assert bad.problem.startswith(problem)
    # The order of the page is the server's.
    assert [item.id for item in after.items] == [item.id for item in before.items]


async def test_file_without_an_id_is_a_bad_entry_without_id(
    fresh_server: ServerHandle, admin: Admin
) -> None:
    tree = Tree(admin)
    before = await _page(fresh_server, tree.folder_id)
    admin.entry(tree.id("a.xlsx"), {"id": None})
    admin.entry(tree.id("d.txt"), {"id": ""})
    after = await _page(fresh_server, tree.folder_id)
    assert len(after.items) == len(before.items)
    bad = [item for item in after.items if isinstance(item, BadFileEntry)]
    assert bad == [
        BadFileEntry(None, "a.xlsx", "the server's listing gives no id for this file"),
        BadFileEntry(
            None, "d.txt", "the server's listing gives no valid id for this file (got '')"
        ),
    ]
    good = {item.id for item in after.items if not isinstance(item, BadFileEntry)}
    assert good == {tree.sub_id, tree.id("b.docx"), tree.id("c.pdf")}


@pytest.mark.parametrize(
    ("kind", "shown"), [("shortcut", "'shortcut'"), ("File", "'File'"), ("", "''")]
)
async def test_an_item_of_unknown_kind_is_a_bad_entry(
    fresh_server: ServerHandle, admin: Admin, kind: str, shown: str
) -> None:
    """Skipping it would let an export say "completed" with that item missing."""
    tree = Tree(admin)
    before = await _page(fresh_server, tree.folder_id)
    target = tree.id("d.txt")
    admin.entry(target, {"kind": kind})
    after = await _assert_rest_intact(fresh_server, tree, before, {target})
    assert _by_id(after)[target] == BadFileEntry(
        target,
        "d.txt",
        f"the server lists an item of unknown kind {shown}; it cannot be exported",
    )
    # A folder turned into an unknown kind is reported too (its id and name kept).
    admin.folder_entry(tree.sub_id, {"kind": "link", "name": None})
    entry = _by_id(await _page(fresh_server, tree.folder_id))[tree.sub_id]
    assert entry == BadFileEntry(
        tree.sub_id, None, "the server lists an item of unknown kind 'link'; it cannot be exported"
    )
    assert [item.id for item in after.items] == [item.id for item in before.items]


@pytest.mark.parametrize("bad_id", [".", ".."])
async def test_dot_segment_ids_are_not_usable(
    fresh_server: ServerHandle, admin: Admin, bad_id: str
) -> None:
    """``/files/../versions/1/content`` would be normalised into another path."""
    tree = Tree(admin)
    before = await _page(fresh_server, tree.folder_id)
    target = tree.id("b.docx")
    admin.entry(target, {"id": bad_id})
    after = await _page(fresh_server, tree.folder_id)
    assert len(after.items) == len(before.items)
    (bad,) = [item for item in after.items if isinstance(item, BadFileEntry)]
    assert bad == BadFileEntry(
        None, "b.docx", f"the server's listing gives no valid id for this file (got {bad_id!r})"
    )
    admin.entry(target, {})
    admin.folder_entry(tree.sub_id, {"id": bad_id})
    with pytest.raises(ProtocolError, match=r"children\.items\[0\]\.id") as info:
        await _page(fresh_server, tree.folder_id)
    assert info.value.code == "bad_field"
    admin.folder_entry(tree.sub_id, {})
    admin.project_entry("prj-1", {"id": bad_id})
    async with ApiClient(fresh_server.base_url) as client:
        await client.login("demo", "demo")
        with pytest.raises(ProtocolError, match=r"projects\.items\[\d+\]\.id"):
            await client.projects_page()


async def test_folder_without_an_id_fails_the_page(
    fresh_server: ServerHandle, admin: Admin
) -> None:
    tree = Tree(admin)
    for bad in ({"id": None}, {"id": ""}, {"id": 5}):
        admin.folder_entry(tree.sub_id, {})
        admin.folder_entry(tree.sub_id, bad)
        with pytest.raises(ProtocolError, match=r"children\.items\[0\]\.id") as info:
            await _page(fresh_server, tree.folder_id)
        assert info.value.code == "bad_field"
        assert not info.value.transient


async def test_every_page_of_a_paged_listing_copes(
    fresh_server: ServerHandle, admin: Admin
) -> None:
    tree = Tree(admin)
    admin.entry(tree.id("a.xlsx"), {"updatedAt": "2016-12-31T23:59:60Z"})
    admin.entry(tree.id("c.pdf"), {"sha256": None})
    admin.entry(tree.id("d.txt"), {"contentType": None, "updatedAt": "garbage"})
    async with ApiClient(fresh_server.base_url) as client:
        await client.login("demo", "demo")
        items = [item async for item in client.iter_children("prj-1", tree.folder_id, limit=2)]
    kinds = {item.id: type(item).__name__ for item in items}
    assert kinds == {
        tree.sub_id: "FolderEntry",
        tree.id("a.xlsx"): "FileEntry",
        tree.id("b.docx"): "FileEntry",
        tree.id("c.pdf"): "BadFileEntry",
        tree.id("d.txt"): "FileEntry",
    }


async def test_projects_with_malformed_optional_fields(
    fresh_server: ServerHandle, admin: Admin
) -> None:
    async with ApiClient(fresh_server.base_url) as client:
        await client.login("demo", "demo")
        before = {p.id: p for p in (await client.projects_page()).items}
        admin.project_entry(
            "prj-1", {"updatedAt": "2016-12-31T23:59:60Z", "code": 17, "client": None}
        )
        admin.project_entry("prj-2", {"updatedAt": "n/a", "period": {"year": 2025}, "name": None})
        after = {p.id: p for p in (await client.projects_page()).items}
    assert after["prj-1"] == Project(
        id="prj-1",
        name=before["prj-1"].name,
        code=None,
        client=None,
        period=before["prj-1"].period,
        updated_at=datetime.datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC),
    )
    assert after["prj-2"] == Project(
        id="prj-2",
        name="prj-2",
        code=before["prj-2"].code,
        client=before["prj-2"].client,
        period=None,
        updated_at=None,
    )
    assert {k: v for k, v in after.items() if k not in ("prj-1", "prj-2")} == {
        k: v for k, v in before.items() if k not in ("prj-1", "prj-2")
    }


# -- the parser on its own ------------------------------------------------------------


def _file(**over: object) -> dict[str, object]:
    item: dict[str, object] = {
        "kind": "file",
        "id": "f1",
        "name": "D1-1.xlsx",
        "size": 10,
        "version": 2,
        "sha256": SHA,
        "contentType": "application/vnd.ms-excel",
        "updatedAt": "2026-01-02T03:04:05Z",
    }
    item.update(over)
    return {k: v for k, v in item.items() if v is not ...}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2016-12-31T23:59:60Z", datetime.datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)),
        ("2016-12-31T23:59:60.5Z", datetime.datetime(2016, 12, 31, 23, 59, 59, 500000, UTC)),
        ("2026-01-02T03:04:05.1Z", datetime.datetime(2026, 1, 2, 3, 4, 5, 100000, UTC)),
        ("2026-01-02T03:04:05.123456789Z", datetime.datetime(2026, 1, 2, 3, 4, 5, 123456, UTC)),
        ("2026-01-02 03:04:05z", datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        ("2026-01-02t03:04:05-00:00", datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
        (
            "2026-01-02T03:04:05-05:30",
            datetime.datetime(
                2026, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(-datetime.timedelta(hours=5.5))
            ),
        ),
        ("2026-01-02T03:04:05", None),
        ("2026-01-02", None),
        ("2026-13-02T03:04:05Z", None),
        ("2026-01-02T24:00:00Z", None),
        ("2026-01-02T03:04:61Z", None),
        ("2026-01-02T03:04:05+24:00", None),
        ("2026-01-02T03:04:05.Z", None),
        ("２０２６-01-02T03:04:05Z", None),  # fullwidth digits are not RFC 3339
        ("", None),
    ],
)
def test_parse_rfc3339(text: str, expected: datetime.datetime | None) -> None:
    parsed = parse_rfc3339(text)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is not None


def test_page_structure_stays_a_protocol_error() -> None:
    for data, where in (
        ({"items": {}, "nextCursor": None}, "items"),
        ({"items": [], "nextCursor": 5}, "nextCursor"),
        ({"items": [], "nextCursor": ""}, "nextCursor"),
        ({"items": []}, "nextCursor"),
        ([], "children"),
        ({"items": [_file(kind=...)], "nextCursor": None}, "kind"),
    ):
        with pytest.raises(ProtocolError, match=where):
            parse_children_page(data)


def test_one_log_line_per_page(caplog: pytest.LogCaptureFixture) -> None:
    items = [_file(id=f"f{i}", updatedAt="2016-12-31T23:59:60Z") for i in range(50)]
    items += [_file(id=f"g{i}", updatedAt="garbage", contentType=5) for i in range(50)]
    items += [_file(id="bad", size="12"), _file(id="new", kind="shortcut")]
    with caplog.at_level(logging.DEBUG, logger="manuscript_gui.net.wire"):
        page = parse_children_page({"items": items, "nextCursor": None})
    assert len(page.items) == 102
    assert isinstance(page.items[-1], BadFileEntry)  # the shortcut is reported, not dropped
    records = [r for r in caplog.records if r.name == "manuscript_gui.net.wire"]
    assert len(records) == 1
    message = records[0].getMessage()
    assert "102 field(s)" in message
    assert "children.items[50].updatedAt" in message
    # A leap second is read, not ignored: nothing to report for the first 50.
    assert "items[0]" not in message


def test_a_clean_page_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="manuscript_gui.net.wire"):
        parse_children_page({"items": [_file()], "nextCursor": None})
    assert [r for r in caplog.records if r.name == "manuscript_gui.net.wire"] == []
