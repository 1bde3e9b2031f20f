"""The detail pane's file model over a 100k-file task in a real ExportStore.

The page source is what the window gives the model (``service.files`` bound to
a task), here ``services.reads.files`` called on the store directly: the same
keyset query on the same SQLite file, without a signed-in service around it.
A real ``QTableView`` drives the paging (``canFetchMore``/``fetchMore`` when
the user scrolls to the end), as it does in the window.

What it proves: the first page shows after one query; scrolling to the end
loads every row exactly once (no duplicate, no gap, one query per page); a
page of a superseded query never lands, whichever of the two finishes first;
``apply_files_changed`` rewrites the rows the model holds and nothing else.
No assertion here depends on time.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from manuscript_gui.domain import (
    FileError,
    FileOutcome,
    FileRecord,
    FileStatus,
    NewFile,
    TaskStatus,
)
from manuscript_gui.services import reads
from manuscript_gui.services.reads import FileFilter, FilePage
from manuscript_gui.storage import ExportStore
from manuscript_gui.ui import texts
from manuscript_gui.ui.delegates import use_fixed_row_height
from manuscript_gui.ui.models import file_table as ft
from manuscript_gui.ui.models.file_table import FileTableModel

FILES = 100_000
FAILED_EVERY = 997  # a listing failure now and then: 100 failed files
WAIT = 30_000  # ms: generous, the machine is shared

Call = tuple[FileFilter, str, int, int]


def _new_file(i: int) -> NewFile:
    failed = i % FAILED_EVERY == 0
    folder = f"底稿/D 实质性程序/{i // 1000:03d}"
    return NewFile(
        remote_id=f"f{i}",
        project_id="prj-1",
        remote_path=f"/{folder}/D-{i:06d}.pdf",
        local_path=f"{folder}/D-{i:06d}.pdf",
        version=1 + i % 4,
        size=1000 + i,
        sha256=hashlib.sha256(str(i).encode()).hexdigest(),
        error_code=FileError.BAD_LISTING.value if failed else None,
        error_message="no valid size" if failed else None,
        error_params={"problem": "size is missing"} if failed else None,
    )


@dataclasses.dataclass(frozen=True)
class Big:
    store: ExportStore
    task_id: int
    """The 100k-file task."""
    other_id: int
    """A second task of the same identity, three files."""


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Big]:
    """One 100k-file task (and a small second task), built once for the module."""
    folder = tmp_path_factory.mktemp("files100k")
    with ExportStore.open(folder / "export.sqlite3") as store:
        task = store.create_task("年审 2026", str(folder / "out"), {}, status=TaskStatus.WAITING)
        assert store.insert_files(task.id, (_new_file(i) for i in range(FILES))) == FILES
        other = store.create_task("另一个任务", str(folder / "out2"), {}, status=TaskStatus.WAITING)
        store.insert_files(other.id, (_new_file(FILES + i) for i in range(3)))
        yield Big(store, task.id, other.id)


def store_source(
    store: ExportStore, task_id: int, calls: list[Call]
) -> Callable[[FileFilter, str, int, int], Any]:
    """``service.files`` bound to *task_id*, on the store itself; every call recorded."""

    async def fetch(filter: FileFilter, text: str, after: int, limit: int) -> FilePage:
        calls.append((filter, text, after, limit))
        await asyncio.sleep(0)  # a real source answers later, never within the call
        return reads.files(store, task_id, filter=filter, text=text, after=after, limit=limit)

    return fetch


def make_view(qtbot: QtBot, model: FileTableModel) -> QTableView:
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    use_fixed_row_height(view, 24)
    view.resize(900, 600)
    view.show()
    qtbot.waitExposed(view)
    return view


def ids(model: FileTableModel) -> list[int]:
    return [model.file_at(r).id for r in range(model.rowCount())]


def page_answered(model: FileTableModel, calls: list[Call], asked: int) -> bool:
    """A query beyond the first *asked* was made and its page is in."""
    return len(calls) > asked and not model.loading


def settle(qtbot: QtBot, model: FileTableModel) -> None:
    """Let Qt and the loop run until no page is in flight (a view may ask for more)."""
    qtbot.waitUntil(lambda: not model.loading, timeout=WAIT)
    qtbot.wait(20)  # posted layouts and the view's delayed fetchMore get their turn
    qtbot.waitUntil(lambda: not model.loading, timeout=WAIT)


def test_a_100k_file_task_shows_its_first_page_after_one_query(
    qtbot: QtBot, qloop: Any, big: Big
) -> None:
    store, task_id = big.store, big.task_id
    calls: list[Call] = []
    model = FileTableModel()
    view = make_view(qtbot, model)

    with qtbot.waitSignal(model.pageLoaded, timeout=WAIT) as loaded:
        model.set_source(store_source(store, task_id, calls))
    settle(qtbot, model)

    assert loaded.args == [ft.PAGE_SIZE]
    assert calls == [(FileFilter.ALL, "", 0, ft.PAGE_SIZE)]  # one query, nothing more
    assert model.rowCount() == ft.PAGE_SIZE
    assert model.canFetchMore(QModelIndex())
    first = store.page_files(task_id, limit=ft.PAGE_SIZE)
    assert ids(model) == [f.id for f in first]
    # The view shows the first rows, with their texts.
    top = view.indexAt(view.viewport().rect().topLeft())
    assert top.row() == 0
    assert top.data(Qt.ItemDataRole.DisplayRole).endswith("D-000000.pdf")
    assert model.data(model.index(0, ft.COL_STATUS)) == texts.file_status_text(first[0], False)
    assert model.data(model.index(0, ft.COL_REASON)) != ""  # file 0 failed in the listing


def test_scrolling_to_the_end_loads_every_row_once_one_query_per_page(
    qtbot: QtBot, qloop: Any, big: Big
) -> None:
    store, task_id = big.store, big.task_id
    calls: list[Call] = []
    model = FileTableModel()
    view = make_view(qtbot, model)
    model.set_source(store_source(store, task_id, calls))
    settle(qtbot, model)

    pages = 1
    while not model.exhausted:
        asked = len(calls)
        view.scrollToBottom()  # what dragging the scroll bar to its end does
        model.fetchMore(QModelIndex())  # a second ask while the page is in flight
        qtbot.waitUntil(functools.partial(page_answered, model, calls, asked), timeout=WAIT)
        pages += 1
        assert model.rowCount() == min(pages * ft.PAGE_SIZE, FILES)
    settle(qtbot, model)

    assert model.rowCount() == FILES
    shown = ids(model)
    assert len(set(shown)) == FILES  # no duplicate
    assert shown == [f.id for f in store.iter_files(task_id)]  # no gap, id order
    # One query per page, each starting after the previous page's last row.
    assert len(calls) == FILES // ft.PAGE_SIZE
    starts = [after for _, _, after, _ in calls]
    assert starts == [0] + [shown[i * ft.PAGE_SIZE - 1] for i in range(1, len(calls))]
    assert not model.canFetchMore(QModelIndex())
    view.scrollToBottom()
    settle(qtbot, model)
    assert len(calls) == FILES // ft.PAGE_SIZE  # the end asks for nothing more
    last = model.index(FILES - 1, ft.COL_PATH).data(Qt.ItemDataRole.DisplayRole)
    assert last.endswith(f"D-{FILES - 1:06d}.pdf")


class Gate:
    """A page source whose calls for one filter wait until released."""

    def __init__(self, store: ExportStore, task_id: int, held: FileFilter) -> None:
        self.inner = store_source(store, task_id, [])
        self.held = held
        self.release = asyncio.Event()
        self.waiting = 0
        self.answered: list[FileFilter] = []

    async def __call__(self, filter: FileFilter, text: str, after: int, limit: int) -> FilePage:
        if filter == self.held:
            self.waiting += 1
            await self.release.wait()
        page: FilePage = await self.inner(filter, text, after, limit)
        self.answered.append(filter)
        return page


def failed_ids(store: ExportStore, task_id: int) -> list[int]:
    return [f.id for f in store.iter_files(task_id, outcome=FileOutcome.FAILED)]


@pytest.mark.parametrize("late", ["old-page-lands-last", "old-page-lands-first"])
def test_a_new_query_discards_the_page_of_the_query_it_replaced(
    qtbot: QtBot, qloop: Any, big: Big, late: str
) -> None:
    store, task_id = big.store, big.task_id
    model = FileTableModel()
    make_view(qtbot, model)
    loaded: list[int] = []
    model.pageLoaded.connect(loaded.append)
    expected = failed_ids(store, task_id)
    assert 0 < len(expected) < ft.PAGE_SIZE

    if late == "old-page-lands-last":
        # "All" is slow to answer; the user picks "failed" meanwhile.
        gate = Gate(store, task_id, held=FileFilter.ALL)
        model.set_source(gate)
        qtbot.waitUntil(lambda: gate.waiting == 1, timeout=WAIT)
        model.set_query(FileFilter.FAILED)
        qtbot.waitUntil(lambda: model.rowCount() == len(expected), timeout=WAIT)
        gate.release.set()
        qtbot.waitUntil(lambda: FileFilter.ALL in gate.answered, timeout=WAIT)
    else:
        # "All" answers first, after the user already picked "failed", which is slow.
        gate = Gate(store, task_id, held=FileFilter.FAILED)
        hold_all = Gate(store, task_id, held=FileFilter.ALL)

        async def both(filter: FileFilter, text: str, after: int, limit: int) -> FilePage:
            source = hold_all if filter == FileFilter.ALL else gate
            return await source(filter, text, after, limit)

        model.set_source(both)
        qtbot.waitUntil(lambda: hold_all.waiting == 1, timeout=WAIT)
        model.set_query(FileFilter.FAILED)
        qtbot.waitUntil(lambda: gate.waiting == 1, timeout=WAIT)
        hold_all.release.set()
        qtbot.waitUntil(lambda: FileFilter.ALL in hold_all.answered, timeout=WAIT)
        qtbot.wait(20)
        assert model.rowCount() == 0  # the old page did not land in the new query
        assert model.loading  # the new query's page is still awaited
        gate.release.set()
        qtbot.waitUntil(lambda: FileFilter.FAILED in gate.answered, timeout=WAIT)
    settle(qtbot, model)

    assert model.filter is FileFilter.FAILED
    assert ids(model) == expected
    assert all(model.file_at(r).outcome == FileOutcome.FAILED for r in range(model.rowCount()))
    assert loaded == [len(expected)]  # one page landed: the new query's
    assert model.exhausted


def test_another_tasks_late_page_never_lands_after_a_switch(
    qtbot: QtBot, qloop: Any, big: Big
) -> None:
    store, task_id = big.store, big.task_id
    other_id = big.other_id
    assert len(store.page_files(other_id)) == 3
    model = FileTableModel()
    gate = Gate(store, task_id, held=FileFilter.ALL)
    model.set_source(gate)
    qtbot.waitUntil(lambda: gate.waiting == 1, timeout=WAIT)
    model.set_source(store_source(store, other_id, []))  # the user selects another task
    qtbot.waitUntil(lambda: model.rowCount() == 3, timeout=WAIT)
    gate.release.set()
    qtbot.waitUntil(lambda: gate.answered == [FileFilter.ALL], timeout=WAIT)
    settle(qtbot, model)
    assert [model.file_at(r).task_id for r in range(model.rowCount())] == [other_id] * 3


def _succeeded(record: FileRecord) -> FileRecord:
    return dataclasses.replace(
        record, status=FileStatus.COMPLETED, outcome=FileOutcome.SUCCEEDED, attempts=1
    )


def test_files_changed_rewrites_only_the_rows_the_model_holds(
    qtbot: QtBot, qloop: Any, big: Big
) -> None:
    store, task_id = big.store, big.task_id
    model = FileTableModel()
    make_view(qtbot, model)
    model.set_source(store_source(store, task_id, []))
    settle(qtbot, model)
    assert model.rowCount() == ft.PAGE_SIZE
    held_before = [model.file_at(r) for r in range(model.rowCount())]
    changes: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda top, bottom, _roles=None: changes.append(
            (top.row(), bottom.row(), top.column(), bottom.column())
        )
    )
    inserted: list[Any] = []
    model.rowsInserted.connect(lambda *a: inserted.append(a))
    model.modelReset.connect(lambda: inserted.append("reset"))

    # A batch as the engine writes it: rows 5, 6, 7 and 150 of the first page succeed,
    # and two files far beyond the loaded page (ids the model does not hold) too.
    deep = store.page_files(task_id, after_id=held_before[-1].id + 40_000, limit=2)
    batch = [_succeeded(held_before[r]) for r in (5, 6, 7, 150)] + [_succeeded(f) for f in deep]
    store.update_files(task_id, batch)
    written = {f.id: f for f in store.page_files(task_id, limit=ft.PAGE_SIZE)} | {
        f.id: f for f in store.page_files(task_id, after_id=deep[0].id - 1, limit=2)
    }
    model.apply_files_changed([written[f.id] for f in batch])

    assert inserted == []  # never adds a row (nor resets)
    assert model.rowCount() == ft.PAGE_SIZE
    assert all(model.row_of(f.id) is None for f in deep)
    touched = {row for top, bottom, _, _ in changes for row in range(top, bottom + 1)}
    assert touched == {5, 6, 7, 150}
    assert {(left, right) for _, _, left, right in changes} <= {
        (ft.COL_STATUS, ft.COL_ATTEMPTS)
    }  # the status (and attempts); path, size, version never change
    for r in (5, 6, 7, 150):
        assert model.file_at(r).outcome == FileOutcome.SUCCEEDED
        assert model.data(model.index(r, ft.COL_STATUS)) == texts.file_status_text(
            model.file_at(r), False
        )
        assert model.data(model.index(r, ft.COL_ATTEMPTS)) == "1"
    untouched = [r for r in range(ft.PAGE_SIZE) if r not in (5, 6, 7, 150)]
    assert [model.file_at(r) for r in untouched] == [held_before[r] for r in untouched]

    # Under "waiting", a row that succeeds stays (showing it) until the next query.
    model.set_query(FileFilter.WAITING)
    settle(qtbot, model)
    first_waiting = model.file_at(0)
    assert first_waiting.status is FileStatus.WAITING
    store.update_files(task_id, [_succeeded(first_waiting)])
    model.apply_files_changed(store.page_files(task_id, after_id=first_waiting.id - 1, limit=1))
    assert model.rowCount() == ft.PAGE_SIZE
    assert model.file_at(0).outcome == FileOutcome.SUCCEEDED
    model.reload()
    settle(qtbot, model)
    assert model.row_of(first_waiting.id) is None  # the next query no longer lists it
    assert model.rowCount() == ft.PAGE_SIZE
