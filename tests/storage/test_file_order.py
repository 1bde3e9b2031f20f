"""The order a window lists a task's files in: natural path order (schema v6).

``D2`` before ``D10``, a folder's files together, case ignored, then the id;
paged by keyset without repeating or skipping a row, also among equal keys;
relocated rows move to their new place; a migrated database gets its keys.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from manuscript_gui.domain import TaskStatus
from manuscript_gui.storage import ExportStore, NewFile, NotFoundError
from manuscript_gui.storage.sorting import natural_sort_key
from tests.storage.test_migrations import build_v1

PATHS = [
    "D 实质性程序/D10 应付职工薪酬/b.pdf",
    "D 实质性程序/D2 应收票据/a.pdf",
    "D 实质性程序/D2 应收票据/A10.pdf",
    "D 实质性程序/D2 应收票据/a2.pdf",
    "D 实质性程序/D1 货币资金.pdf",
    "D/x.pdf",
    "D 实质性程序/D01 货币资金/z.pdf",
    "A 业务承接/A1.docx",
    "a 业务承接/A1 (2).docx",
    "E 完成阶段/E9999999999999999999999 大号.pdf",
    "E 完成阶段/E10.pdf",
]
#: The order an auditor expects (numbers by value, a folder's files together).
EXPECTED = [
    "a 业务承接/A1 (2).docx",  # case ignored; " " sorts before "."
    "A 业务承接/A1.docx",
    "D/x.pdf",
    "D 实质性程序/D01 货币资金/z.pdf",
    "D 实质性程序/D1 货币资金.pdf",
    "D 实质性程序/D2 应收票据/a.pdf",
    "D 实质性程序/D2 应收票据/a2.pdf",
    "D 实质性程序/D2 应收票据/A10.pdf",
    "D 实质性程序/D10 应付职工薪酬/b.pdf",
    "E 完成阶段/E10.pdf",
    "E 完成阶段/E9999999999999999999999 大号.pdf",
]


def _file(i: int, path: str) -> NewFile:
    return NewFile(
        remote_id=f"f{i}",
        project_id="p",
        remote_path="/" + path,
        local_path=path,
        version=1,
        size=10,
        sha256="0" * 64,
    )


@pytest.fixture
def task_id(store: ExportStore) -> int:
    task = store.create_task("t", "/exports", {}, status=TaskStatus.WAITING)
    store.insert_files(task.id, [_file(i, p) for i, p in enumerate(PATHS)])
    return task.id


def test_the_key_orders_numbers_by_value_and_keeps_folders_together() -> None:
    assert sorted(PATHS, key=natural_sort_key) == EXPECTED
    assert natural_sort_key("A01") == natural_sort_key("a1")  # equal: the id decides
    assert natural_sort_key("x/1") < natural_sort_key("x 1")  # a folder's files first


def test_pages_follow_the_order_without_repeats_or_gaps(store: ExportStore, task_id: int) -> None:
    whole = [f.local_path for f in store.find_files(task_id, limit=100)]
    assert whole == EXPECTED
    for size in (1, 2, 3):
        seen: list[str] = []
        after = 0
        while True:
            page = store.find_files(task_id, after_id=after, limit=size)
            seen += [f.local_path for f in page]
            if len(page) < size:
                break
            after = page[-1].id
        assert seen == EXPECTED, size


def test_rows_with_equal_keys_page_by_id(store: ExportStore) -> None:
    task = store.create_task("t", "/exports", {}, status=TaskStatus.WAITING)
    same = ["F/A01.pdf", "F/a1.pdf", "F/A1.pdf", "f/a01.pdf"]
    store.insert_files(task.id, [_file(i, p) for i, p in enumerate(same)])
    ids = [f.id for f in store.find_files(task.id)]
    assert ids == sorted(ids)
    one_by_one = []
    after = 0
    while page := store.find_files(task.id, after_id=after, limit=1):
        one_by_one.append(page[0].id)
        after = page[0].id
    assert one_by_one == ids


def test_relocated_rows_take_their_new_place(store: ExportStore, task_id: int) -> None:
    rows = {f.local_path: f for f in store.find_files(task_id, limit=100)}
    moved = rows["D 实质性程序/D10 应付职工薪酬/b.pdf"]
    assert store.relocate_file(task_id, moved.id, "A 业务承接/A0.docx")
    assert store.relocate_folder(task_id, "E 完成阶段", "0 完成阶段 (2)") == 2
    order = [f.local_path for f in store.find_files(task_id, limit=100)]
    assert order[:3] == [
        "0 完成阶段 (2)/E10.pdf",
        "0 完成阶段 (2)/E9999999999999999999999 大号.pdf",
        "A 业务承接/A0.docx",
    ]
    assert len(order) == len(PATHS)


def test_a_cursor_of_another_task_is_refused(store: ExportStore, task_id: int) -> None:
    other = store.create_task("o", "/exports", {}, status=TaskStatus.WAITING)
    store.insert_files(other.id, [_file(99, "x.pdf")])
    foreign = store.find_files(other.id)[0].id
    with pytest.raises(NotFoundError):
        store.find_files(task_id, after_id=foreign)


def test_a_migrated_database_gets_the_keys(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    build_v1(path)
    ExportStore.open(path).close()
    raw = sqlite3.connect(path)
    try:
        rows = raw.execute("SELECT local_path, sort_key FROM task_file").fetchall()
        names = {row[1] for row in raw.execute("PRAGMA index_list(task_file)")}
    finally:
        raw.close()
    assert rows
    assert all(key == natural_sort_key(local) for local, key in rows)
    assert {"task_file_task_sort", "task_file_task_outcome_sort"} <= names
