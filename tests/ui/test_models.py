"""The window's item models on small instances: Qt's model tester, the texts every status
shows, targeted updates (one row per progress tick), queue order, the running row, the
progress-bar delegate, and the file list's paging against a real ExportStore."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPalette
from PySide6.QtWidgets import QHeaderView, QTableView
from pytestqt.qtbot import QtBot

from manuscript_gui.core.events import ListingProgress, TaskProgress
from manuscript_gui.domain import (
    FileError,
    FileOutcome,
    FileStatus,
    NewFile,
    StopReason,
    TaskRecord,
    TaskStatus,
)
from manuscript_gui.services import reads
from manuscript_gui.services.reads import FileFilter, FilePage
from manuscript_gui.storage import ExportStore
from manuscript_gui.ui import texts
from manuscript_gui.ui.delegates import ProgressBarDelegate, use_fixed_row_height
from manuscript_gui.ui.models import file_table as ft
from manuscript_gui.ui.models import task_table as tt
from manuscript_gui.ui.models.file_table import FileTableModel
from manuscript_gui.ui.models.task_table import TaskTableModel
from tests.ui.conftest import run

DISPLAY = Qt.ItemDataRole.DisplayRole
T0 = datetime(2026, 11, 29, 8, 30, tzinfo=UTC)
MB = 1024 * 1024


def task(
    id: int,
    status: TaskStatus = TaskStatus.WAITING,
    *,
    reason: str | None = None,
    reason_params: dict[str, Any] | None = None,
    reason_detail: str | None = None,
    total_files: int = 10,
    succeeded: int = 0,
    failed: int = 0,
    total_bytes: int = 100 * MB,
    done_bytes: int = 0,
    name: str | None = None,
) -> TaskRecord:
    return TaskRecord(
        id=id,
        name=name or f"任务 {id}",
        target_dir=f"/exports/{id}",
        selection={"items": []},
        status=status,
        reason=reason,
        reason_detail=reason_detail,
        position=id,
        total_files=total_files,
        succeeded=succeeded,
        failed=failed,
        total_bytes=total_bytes,
        done_bytes=done_bytes,
        created_at=T0 + timedelta(minutes=id),
        updated_at=T0 + timedelta(minutes=id),
        finished_at=None,
        reason_params=reason_params,
    )


def progress(task_id: int, done: int, *, total: int = 100 * MB, rate: float = 0.0) -> TaskProgress:
    return TaskProgress(
        task_id=task_id,
        bytes_done=done,
        bytes_total=total,
        files_done=3,
        files_total=10,
        in_flight=("a.pdf",),
        rate=rate,
        in_flight_ids=(1,),
    )


def text(model: Any, row: int, col: int) -> str:
    value = model.data(model.index(row, col), DISPLAY)
    assert isinstance(value, str)
    return value


class Recorder:
    """Every change signal of a model, in order: ("data", top, bottom) / ("reset",) / ..."""

    def __init__(self, model: Any) -> None:
        self.events: list[tuple[Any, ...]] = []
        model.dataChanged.connect(self._data)
        model.modelReset.connect(lambda: self.events.append(("reset",)))
        model.layoutChanged.connect(lambda *_: self.events.append(("layout",)))
        model.rowsInserted.connect(lambda _p, a, b: self.events.append(("insert", a, b)))
        model.rowsRemoved.connect(lambda _p, a, b: self.events.append(("remove", a, b)))

    def _data(self, top: QModelIndex, bottom: QModelIndex, _roles: Any = None) -> None:
        self.events.append(("data", (top.row(), top.column()), (bottom.row(), bottom.column())))

    def clear(self) -> None:
        self.events.clear()

    def cells(self) -> set[tuple[int, int]]:
        """Every (row, column) a recorded ``dataChanged`` covered; other signals fail."""
        covered: set[tuple[int, int]] = set()
        for event in self.events:
            assert event[0] == "data", event
            (top, left), (bottom, right) = event[1], event[2]
            covered |= {(r, c) for r in range(top, bottom + 1) for c in range(left, right + 1)}
        return covered


@pytest.fixture
def tasks() -> list[TaskRecord]:
    return [
        task(1, TaskStatus.COMPLETED, total_files=5, succeeded=4, failed=1, done_bytes=90 * MB),
        task(2, TaskStatus.WAITING, done_bytes=20 * MB, succeeded=2),
        task(3, TaskStatus.PAUSED, reason=StopReason.BY_USER),
        task(4, TaskStatus.INITIALIZING, total_files=0, total_bytes=0),
        task(5, TaskStatus.CANCELED, reason=StopReason.BY_USER, total_bytes=9 * MB),
    ]


# ------------------------------------------------------------- task table


def test_task_model_passes_qt_model_tester_through_every_change(
    qtmodeltester: Any, tasks: list[TaskRecord]
) -> None:
    model = TaskTableModel()
    qtmodeltester.check(model)  # checks again after every signal below
    model.set_tasks(tasks)
    model.set_running(2)
    model.set_progress(progress(2, 40 * MB, rate=2 * MB))
    model.set_listing(ListingProgress(4, found=120, found_bytes=3 * MB))
    model.upsert(dataclasses.replace(tasks[1], succeeded=3, done_bytes=30 * MB))
    model.upsert(task(6))
    model.set_order([6, 5, 4, 3, 2, 1])
    model.remove(3)
    model.set_running(None)
    model.set_tasks(tasks[:2])
    assert model.rowCount() == 2
    assert model.columnCount() == tt.COLUMN_COUNT
    assert model.rowCount(model.index(0, 0)) == 0  # a table: no children


def test_task_model_behind_a_sorting_proxy_passes_the_tester_and_sorts_numbers(
    qtmodeltester: Any, tasks: list[TaskRecord]
) -> None:
    model = TaskTableModel()
    sizes = [task(i, total_bytes=size) for i, size in ((1, 9 * MB), (2, 10 * MB), (3, 900))]
    model.set_tasks(sizes)
    for dynamic in (True, False):
        proxy = QSortFilterProxyModel()
        proxy.setDynamicSortFilter(dynamic)
        proxy.setSortRole(tt.SortRole)
        proxy.setSourceModel(model)
        qtmodeltester.check(proxy)
        proxy.sort(tt.COL_SIZE, Qt.SortOrder.AscendingOrder)
        ids = [proxy.index(r, 0).data(tt.TaskIdRole) for r in range(proxy.rowCount())]
        # By bytes: "900 B" < "9.0 MB" < "10.0 MB" (as text, "10" would sort before "9").
        assert ids == [3, 1, 2]
        model.upsert(task(4, total_bytes=5 * MB))
        model.remove(4)
        proxy.sort(-1)  # no sort column: the queue order
        ids = [proxy.index(r, 0).data(tt.TaskIdRole) for r in range(proxy.rowCount())]
        assert ids == [1, 2, 3]


def _status_cases() -> Iterator[tuple[str, TaskRecord, bool]]:
    """Every stored status, every stop reason with and without its parameters,
    running, completed with failures, and codes this version does not know."""
    params: dict[str, dict[str, Any]] = {
        StopReason.DISK_FULL: {"need": 5 * 1024**3, "free": 1200 * MB},
        StopReason.LOGIN_EXPIRED: {"error": "token revoked"},
        StopReason.SERVER_UNAVAILABLE: {"files": 12, "error": "HTTP 503"},
        StopReason.FOLDER_NOT_WRITABLE: {"path": "/exports/x", "error": "read-only"},
        StopReason.UNEXPECTED_ERROR: {"error": "boom"},
    }
    for status in TaskStatus:
        yield f"{status}", task(1, status), False
    yield "running", task(1, TaskStatus.WAITING), True
    yield "completed-1-failed", task(1, TaskStatus.COMPLETED, succeeded=9, failed=1), False
    yield "completed-7-failed", task(1, TaskStatus.COMPLETED, succeeded=3, failed=7), False
    for status in (TaskStatus.PAUSED, TaskStatus.CANCELED):
        for reason in StopReason:
            yield f"{status}-{reason}", task(1, status, reason=reason), False
            if reason in params:
                with_params = task(1, status, reason=reason, reason_params=params[reason])
                yield f"{status}-{reason}-params", with_params, False
        yield f"{status}-unknown", task(1, status, reason="reason_from_2030"), False
        detail = task(1, status, reason=StopReason.SERVER_UNREACHABLE, reason_detail="refused")
        yield f"{status}-detail", detail, False


STATUS_CASES = list(_status_cases())


@pytest.mark.parametrize(
    ("record", "running"),
    [(record, running) for _, record, running in STATUS_CASES],
    ids=[name for name, _, _ in STATUS_CASES],
)
def test_status_column_shows_the_status_and_its_reason(
    qapp: Any, record: TaskRecord, running: bool
) -> None:
    model = TaskTableModel()
    model.set_tasks([record])
    if running:
        model.set_running(record.id)
    shown = text(model, 0, tt.COL_STATUS)
    tooltip = model.data(model.index(0, tt.COL_STATUS), Qt.ItemDataRole.ToolTipRole)
    assert shown == texts.task_status_text(record, running)
    # The sentence escaped as rich text: server text in it is never rendered (review UX).
    assert tooltip == texts.plain_tooltip(texts.task_status_text(record, running, full=True))
    # The cell is one of the texts its column is sized for; no server text in it.
    variants = texts.task_status_variants(record.failed, running=running)
    assert shown in variants + texts.task_status_variants(record.failed)
    if record.reason_detail:
        assert record.reason_detail not in shown
    if record.status is TaskStatus.PAUSED and record.reason is not None:
        # The cell: the reason's few words; the tooltip: the reason with its parameters
        # ("disk full (needs 5.0 GB, 1.2 GB free)").
        assert shown.endswith(texts.stop_reason_short_text(record.reason))
        params = dict(record.reason_params or {})
        if record.reason_detail:
            params.setdefault("error", record.reason_detail)
        assert texts.stop_reason_text(record.reason, params) in tooltip
    if record.reason == StopReason.DISK_FULL and record.reason_params:
        assert texts.size_text(5 * 1024**3) in tooltip
        assert texts.size_text(5 * 1024**3) not in shown
    if record.reason == "reason_from_2030":
        assert "reason_from_2030" in tooltip


def test_listing_shows_found_files_while_initializing(qapp: Any, tasks: list[TaskRecord]) -> None:
    model = TaskTableModel()
    model.set_tasks(tasks)
    row = model.row_of(4)
    assert row is not None
    status = texts.task_status_text(tasks[3], False)
    assert text(model, row, tt.COL_STATUS) == status
    changes = Recorder(model)

    model.set_listing(ListingProgress(4, found=1240, found_bytes=3 * MB))

    shown = text(model, row, tt.COL_STATUS)
    assert shown.startswith(status)
    assert texts.listing_text(1240) in shown
    assert text(model, row, tt.COL_SIZE) == texts.size_text(3 * MB)
    assert model.data(model.index(row, tt.COL_PROGRESS), tt.ProgressRole) is None  # no bar yet
    assert changes.events
    assert all(e[0] == "data" and e[1][0] == e[2][0] == row for e in changes.events)
    # Listing done: the task is waiting, the count of the listing is gone.
    model.upsert(task(4, TaskStatus.WAITING, total_files=1240, total_bytes=3 * MB))
    assert text(model, row, tt.COL_STATUS) == texts.task_status_text(task(4), False)
    # A listing event for a task that is not initializing changes nothing.
    changes.clear()
    model.set_listing(ListingProgress(2, found=5, found_bytes=1))
    assert changes.events == []


def test_progress_tick_repaints_one_row_and_counts_partial_bytes(
    qapp: Any, tasks: list[TaskRecord]
) -> None:
    model = TaskTableModel()
    model.set_tasks(tasks)
    model.set_running(2)
    row = model.row_of(2)
    assert row == 1
    changes = Recorder(model)

    # 45 MiB done of 100 (20 MiB of finished files + partial bytes in flight), 5 MiB/s.
    model.set_progress(progress(2, 45 * MB, rate=5 * MB))

    # Exactly the cells whose text changed: not the name, status, failed, size, created.
    assert changes.cells() == {
        (row, tt.COL_PROGRESS),
        (row, tt.COL_FILES),
        (row, tt.COL_SPEED),
        (row, tt.COL_TIME_LEFT),
    }
    assert model.data(model.index(row, tt.COL_PROGRESS), tt.ProgressRole) == pytest.approx(45.0)
    assert text(model, row, tt.COL_PROGRESS) == "45%"
    assert text(model, row, tt.COL_SPEED) == texts.speed_text(5 * MB)
    assert text(model, row, tt.COL_TIME_LEFT) == texts.duration_text(11)  # 55 MiB at 5 MiB/s
    assert text(model, row, tt.COL_FILES) == f"3 / {texts.count_text(10)}"

    changes.clear()
    model.set_progress(progress(2, 46 * MB, rate=0.0))  # no rate measured yet
    assert changes.cells() == {
        (row, tt.COL_PROGRESS),
        (row, tt.COL_SPEED),
        (row, tt.COL_TIME_LEFT),
    }
    assert text(model, row, tt.COL_TIME_LEFT) == texts.time_left_text(None)
    assert text(model, row, tt.COL_SPEED) == texts.speed_text(0)

    changes.clear()
    model.set_progress(progress(2, 46 * MB, rate=0.0))  # the same figures: nothing to repaint
    assert changes.events == []

    # Progress of a task that is not running never shows a speed or a time left.
    model.set_progress(progress(3, 70 * MB, rate=9 * MB))
    assert text(model, 2, tt.COL_SPEED) == ""
    assert text(model, 2, tt.COL_TIME_LEFT) == ""
    assert model.data(model.index(2, tt.COL_PROGRESS), tt.ProgressRole) == 0.0


def test_a_progress_tick_never_touches_the_sort_column_of_a_proxy_sorted_on_size(
    qapp: Any, tasks: list[TaskRecord]
) -> None:
    model = TaskTableModel()
    model.set_tasks(tasks)
    model.set_running(2)
    proxy = QSortFilterProxyModel()
    proxy.setSortRole(tt.SortRole)
    proxy.setSourceModel(model)
    proxy.sort(tt.COL_SIZE, Qt.SortOrder.AscendingOrder)
    order = [proxy.index(r, 0).data(tt.TaskIdRole) for r in range(proxy.rowCount())]
    changes = Recorder(model)
    for step in range(1, 40):
        model.set_progress(progress(2, step * MB, rate=step * 100_000.0))
    assert changes.events
    assert all(event[0] == "data" and event[1][0] == event[2][0] == 1 for event in changes.events)
    touched = {col for _, col in changes.cells()}
    assert tt.COL_SIZE not in touched
    assert tt.COL_NAME not in touched
    assert tt.COL_CREATED not in touched
    assert [proxy.index(r, 0).data(tt.TaskIdRole) for r in range(proxy.rowCount())] == order


def test_overall_rate_is_the_running_tasks_rate_or_nothing(
    qapp: Any, tasks: list[TaskRecord]
) -> None:
    assert tt.overall_rate(None, progress(2, 0, rate=5.0)) is None  # idle
    assert tt.overall_rate(2, None) is None  # running, no figure yet
    assert tt.overall_rate(2, progress(3, 0, rate=5.0)) is None  # a stopped task's late tick
    assert tt.overall_rate(2, progress(2, 0, rate=float("nan"))) is None
    assert tt.overall_rate(2, progress(2, 0, rate=-1.0)) is None
    assert tt.overall_rate(2, progress(2, 0, rate=0.0)) == 0.0  # running, nothing lately
    assert tt.overall_rate(2, progress(2, 0, rate=3.5 * MB)) == 3.5 * MB

    model = TaskTableModel()
    model.set_tasks(tasks)
    assert model.overall_rate() is None
    assert model.running_progress is None
    model.set_progress(progress(2, MB, rate=2 * MB))  # not running: not shown
    assert model.overall_rate() is None
    model.set_running(2)
    assert model.overall_rate() is None  # a run starts with no figures of its own
    model.set_progress(progress(2, MB, rate=2 * MB))
    assert model.overall_rate() == 2 * MB
    assert model.running_progress == progress(2, MB, rate=2 * MB)
    model.set_progress(progress(2, 2 * MB, rate=MB))
    assert model.overall_rate() == MB
    model.set_running(None)
    assert model.overall_rate() is None
    assert model.running_progress is None
    model.set_running(2)  # runs again: the last run's figures are gone until a new tick
    assert model.overall_rate() is None
    # A tick the bridge delivers after the run stopped is not shown when the task runs again.
    model.set_running(None)
    model.set_progress(progress(2, 70 * MB, rate=9 * MB))
    model.set_running(2)
    assert model.overall_rate() is None
    assert text(model, 1, tt.COL_SPEED) == ""
    assert model.data(model.index(1, tt.COL_PROGRESS), tt.ProgressRole) == pytest.approx(20.0)
    model.set_progress(progress(2, 30 * MB, rate=MB))
    assert model.overall_rate() == MB
    assert model.data(model.index(1, tt.COL_PROGRESS), tt.ProgressRole) == pytest.approx(30.0)


def test_the_running_row_is_bold_and_marked_and_its_live_figures_end_with_the_run(
    qapp: Any, tasks: list[TaskRecord]
) -> None:
    model = TaskTableModel()
    model.set_tasks(tasks)
    changes = Recorder(model)

    def bold(row: int) -> bool:
        font = model.data(model.index(row, tt.COL_NAME), Qt.ItemDataRole.FontRole)
        return isinstance(font, QFont) and font.bold()

    def dot(row: int) -> QColor:
        icon = model.data(model.index(row, tt.COL_STATUS), Qt.ItemDataRole.DecorationRole)
        assert isinstance(icon, QIcon)
        image = icon.pixmap(12, 12).toImage()
        return image.pixelColor(image.width() // 2, image.height() // 2)

    waiting_dot = dot(1)
    assert not any(bold(r) for r in range(model.rowCount()))
    model.set_running(2)
    assert [bold(r) for r in range(model.rowCount())] == [False, True, False, False, False]
    assert dot(1) != waiting_dot
    assert text(model, 1, tt.COL_STATUS) == texts.task_status_text(tasks[1], True)
    # Both the whole row of the new running task repaint, nothing else.
    assert changes.events == [("data", (1, 0), (1, tt.COLUMN_COUNT - 1))]

    model.set_progress(progress(2, 60 * MB, rate=MB))
    changes.clear()
    model.set_running(None)
    assert changes.events == [("data", (1, 0), (1, tt.COLUMN_COUNT - 1))]
    assert not bold(1)
    assert dot(1) == waiting_dot
    # Stopped: the stored row speaks again (20 MiB done), no speed, no time left.
    assert model.data(model.index(1, tt.COL_PROGRESS), tt.ProgressRole) == pytest.approx(20.0)
    assert text(model, 1, tt.COL_SPEED) == ""
    assert text(model, 1, tt.COL_TIME_LEFT) == ""
    # Completed with a failure, paused, completed: each its own colour.
    assert len({dot(0).name(), dot(2).name(), waiting_dot.name()}) == 3


def test_queue_order_moves_rows_and_keeps_selections_and_persistent_indexes(
    qtbot: QtBot, tasks: list[TaskRecord]
) -> None:
    model = TaskTableModel()
    model.set_tasks(tasks)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.selectRow(model.row_of(3) or 0)
    kept = QPersistentModelIndex(model.index(model.row_of(3) or 0, tt.COL_STATUS))
    changes = Recorder(model)

    model.set_order([2, 3, 1, 5, 4])

    assert model.task_ids() == [2, 3, 1, 5, 4]
    assert changes.events == [("layout",)]
    assert kept.row() == 1
    assert kept.column() == tt.COL_STATUS
    assert kept.data(tt.TaskIdRole) == 3
    selected = view.selectionModel().selectedRows()
    assert [i.data(tt.TaskIdRole) for i in selected] == [3]
    assert [model.row_of(i) for i in (2, 3, 1, 5, 4)] == [0, 1, 2, 3, 4]

    changes.clear()
    model.set_order([2, 3, 1, 5, 4])  # the same order: no signal
    model.set_order([99, 4])  # unknown ids are ignored, the others keep their order
    assert model.task_ids() == [4, 2, 3, 1, 5]
    assert changes.events == [("layout",)]


def test_upsert_updates_one_row_or_inserts_by_queue_position_and_remove_drops_it(
    qapp: Any, tasks: list[TaskRecord]
) -> None:
    model = TaskTableModel()
    model.set_tasks(tasks)
    changes = Recorder(model)

    model.upsert(dataclasses.replace(tasks[1], succeeded=4, failed=1, done_bytes=40 * MB))
    assert len(changes.events) == 1
    kind, (top, left), (bottom, right) = changes.events[0]
    assert (kind, top, bottom) == ("data", 1, 1)
    # Progress, files, failed changed; name, status, size, created did not.
    assert (left, right) == (tt.COL_PROGRESS, tt.COL_FAILED)
    assert text(model, 1, tt.COL_FAILED) == "1"
    assert model.task_at(1).failed == 1

    changes.clear()
    model.upsert(task(9))
    model.upsert(dataclasses.replace(task(7), position=0))  # ahead of every task
    assert changes.events == [("insert", 5, 5), ("insert", 0, 0)]
    assert model.task_ids() == [7, 1, 2, 3, 4, 5, 9]

    changes.clear()
    model.remove(3)
    model.remove(12345)
    assert changes.events == [("remove", 3, 3)]
    assert model.row_of(3) is None
    assert model.row_of(9) == 5
    with pytest.raises(IndexError):
        model.task_at(6)


def test_task_columns_show_figures_in_the_users_terms(qapp: Any, tasks: list[TaskRecord]) -> None:
    model = TaskTableModel()
    model.set_tasks(tasks)
    assert text(model, 0, tt.COL_NAME) == "任务 1"
    assert text(model, 0, tt.COL_FILES) == "5 / 5"
    assert text(model, 0, tt.COL_FAILED) == "1"
    assert text(model, 1, tt.COL_FAILED) == ""
    assert text(model, 0, tt.COL_SIZE) == texts.size_text(100 * MB)
    assert text(model, 0, tt.COL_PROGRESS) == "90%"
    assert text(model, 3, tt.COL_FILES) == ""  # initializing: not counted yet
    created = text(model, 0, tt.COL_CREATED)
    local = (T0 + timedelta(minutes=1)).astimezone()
    assert created == local.strftime("%Y-%m-%d %H:%M")
    assert model.data(model.index(0, tt.COL_CREATED), tt.SortRole) == local.timestamp()
    assert model.data(model.index(0, tt.COL_NAME), tt.TaskRole) is tasks[0]
    assert model.data(model.index(4, tt.COL_SIZE), tt.TaskIdRole) == 5
    # A completed task with nothing to fetch is full, a waiting empty one is empty.
    model.set_tasks([task(1, TaskStatus.COMPLETED, total_bytes=0), task(2, total_bytes=0)])
    assert model.data(model.index(0, tt.COL_PROGRESS), tt.ProgressRole) == 100.0
    assert model.data(model.index(1, tt.COL_PROGRESS), tt.ProgressRole) == 0.0
    # Names from the server never carry invisible characters into the list.
    model.set_tasks([task(1, name="invoice\u202efdp.exe")])
    assert text(model, 0, tt.COL_NAME) == texts.display_safe("invoice\u202efdp.exe")
    assert "\u202e" not in text(model, 0, tt.COL_NAME)
    header = model.headerData(tt.COL_STATUS, Qt.Orientation.Horizontal, DISPLAY)
    assert header == "Status"


# --------------------------------------------------------------- delegate


def _bar_colour_pixels(qtbot: QtBot, percent: float, running_text: str) -> tuple[int, QImage]:
    model = TaskTableModel()
    done = int(percent * MB)
    model.set_tasks([task(1, done_bytes=done)])
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    delegate = ProgressBarDelegate(view)
    view.setItemDelegateForColumn(tt.COL_PROGRESS, delegate)
    view.setColumnWidth(tt.COL_PROGRESS, 200)
    view.resize(900, 200)
    use_fixed_row_height(view, 24)
    view.show()
    qtbot.waitExposed(view)
    rect = view.visualRect(model.index(0, tt.COL_PROGRESS))
    image = view.viewport().grab(rect).toImage()
    highlight = view.palette().color(view.palette().ColorRole.Highlight)
    near = 0
    for x in range(image.width()):
        for y in range(image.height()):
            c = image.pixelColor(x, y)
            close = (
                abs(c.red() - highlight.red())
                + abs(c.green() - highlight.green())
                + abs(c.blue() - highlight.blue())
            )
            near += close < 90
    assert text(model, 0, tt.COL_PROGRESS) == running_text
    return near, image


def test_progress_delegate_draws_a_bar_as_long_as_the_percent(qtbot: QtBot) -> None:
    empty, _ = _bar_colour_pixels(qtbot, 0, "0%")
    half, _ = _bar_colour_pixels(qtbot, 50, "50%")
    full, _ = _bar_colour_pixels(qtbot, 100, "100%")
    assert empty < half < full
    assert half > 0


def test_progress_delegate_fills_the_bar_from_the_left(qtbot: QtBot) -> None:
    """A horizontal bar: at 30 % the left part is filled and the right part is not (a
    bar drawn without the horizontal state fills from the bottom instead)."""
    _, image = _bar_colour_pixels(qtbot, 30, "30%")
    highlight = QTableView().palette().color(QPalette.ColorRole.Highlight)

    def filled(x0: int, x1: int) -> int:
        y = image.height() // 2  # the middle line: a vertical bar at 30 % leaves it empty
        return sum(
            abs(image.pixelColor(x, y).red() - highlight.red())
            + abs(image.pixelColor(x, y).green() - highlight.green())
            + abs(image.pixelColor(x, y).blue() - highlight.blue())
            < 90
            for x in range(x0, x1)
        )

    width = image.width()
    assert filled(width // 20, width // 5) > (width // 5 - width // 20) // 2
    assert filled(width // 2, width - width // 20) == 0


def test_fixed_row_height_holds_whatever_the_contents(qtbot: QtBot) -> None:
    model = TaskTableModel()
    model.set_tasks([task(1, name="a\nb\nc\nd"), task(2)])
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    use_fixed_row_height(view, 22)
    view.show()
    qtbot.waitExposed(view)
    header = view.verticalHeader()
    assert header.sectionResizeMode(0) == QHeaderView.ResizeMode.Fixed
    # Four lines of text would need more than 22 px: the row is not measured.
    assert view.sizeHintForRow(0) > 22
    assert [view.rowHeight(r) for r in range(2)] == [22, 22]
    # Rows that arrive later (a reset, an insert) get the same height.
    model.set_tasks([task(i, name="x\ny\nz") for i in range(1, 6)])
    model.upsert(task(9, name="p\nq\nr"))
    assert [view.rowHeight(r) for r in range(6)] == [22] * 6
    # Without a height: the font's line plus padding.
    use_fixed_row_height(view)
    assert header.defaultSectionSize() == view.fontMetrics().height() + 8


# ---------------------------------------------------- file table (small store)


def _new_file(i: int, error: FileError | None = None) -> NewFile:
    return NewFile(
        remote_id=f"f{i}",
        project_id="prj-1",
        remote_path=f"/D 实质性程序/D-{i}.pdf",
        local_path=f"D 实质性程序/D-{i}.pdf",
        version=1 + i % 3,
        size=1000 * (i + 1),
        sha256=hashlib.sha256(str(i).encode()).hexdigest(),
        error_code=error.value if error else None,
        error_message="no valid size" if error else None,
        error_params={"problem": "size is missing"} if error else None,
    )


@pytest.fixture
def small_store(tmp_path: Path) -> Iterator[tuple[ExportStore, int]]:
    with ExportStore.open(tmp_path / "small.sqlite3") as store:
        created = store.create_task("小任务", str(tmp_path / "out"), {}, status=TaskStatus.WAITING)
        files = [_new_file(i, FileError.BAD_LISTING if i == 3 else None) for i in range(25)]
        store.insert_files(created.id, files)
        yield store, created.id


def store_source(
    store: ExportStore, task_id: int, calls: list[tuple[FileFilter, str, int, int]]
) -> Callable[[FileFilter, str, int, int], Any]:
    async def fetch(filter: FileFilter, text: str, after: int, limit: int) -> FilePage:
        calls.append((filter, text, after, limit))
        await asyncio.sleep(0)
        return reads.files(store, task_id, filter=filter, text=text, after=after, limit=limit)

    return fetch


def test_file_model_passes_qt_model_tester_while_pages_load(
    qtbot: QtBot, qloop: Any, qtmodeltester: Any, small_store: tuple[ExportStore, int]
) -> None:
    store, task_id = small_store
    calls: list[tuple[FileFilter, str, int, int]] = []
    model = FileTableModel(page_size=10)
    qtmodeltester.check(model)
    assert not model.canFetchMore(QModelIndex())  # no source yet
    model.set_source(store_source(store, task_id, calls))
    qtbot.waitUntil(lambda: not model.loading)
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
        qtbot.waitUntil(lambda: not model.loading)
    assert model.rowCount() == 25
    assert len(calls) == 3  # 10 + 10 + 5
    row = model.row_of(model.file_at(3).id)
    assert row == 3
    failed = model.file_at(3)
    model.apply_files_changed([dataclasses.replace(failed, attempts=2)])
    model.set_in_flight([model.file_at(0).id], {model.file_at(0).id: 500})
    model.set_query(FileFilter.FAILED)
    qtbot.waitUntil(lambda: not model.loading)
    assert model.rowCount() == 1
    model.clear()
    assert model.rowCount() == 0
    assert not model.canFetchMore(QModelIndex())


def test_file_columns_show_path_size_version_status_reason_attempts(
    qtbot: QtBot, qloop: Any, small_store: tuple[ExportStore, int]
) -> None:
    store, task_id = small_store
    model = FileTableModel()
    model.set_source(store_source(store, task_id, []))
    qtbot.waitUntil(lambda: model.rowCount() == 25)
    ok, bad = model.file_at(0), model.file_at(3)
    assert text(model, 0, ft.COL_PATH).endswith("D-0.pdf")
    assert text(model, 0, ft.COL_SIZE) == texts.size_text(1000)
    assert text(model, 1, ft.COL_VERSION) == "2"
    assert text(model, 0, ft.COL_STATUS) == texts.file_status_text(ok, False)
    assert text(model, 0, ft.COL_REASON) == ""
    assert text(model, 0, ft.COL_ATTEMPTS) == ""
    assert text(model, 3, ft.COL_STATUS) == texts.file_status_text(bad, False)
    assert bad.error_code is not None
    reason = texts.file_error_text(bad.error_code, bad.error_params, bad.error_message)
    assert text(model, 3, ft.COL_REASON) == reason
    assert "size is missing" in reason
    assert model.data(model.index(3, 0), ft.FileRole) == bad
    assert model.data(model.index(3, 5), ft.FileIdRole) == bad.id
    header = model.headerData(ft.COL_REASON, Qt.Orientation.Horizontal, DISPLAY)
    assert header == "Failure reason"


def test_in_flight_files_show_in_progress_with_percent_and_repaint_their_status_only(
    qtbot: QtBot, qloop: Any, small_store: tuple[ExportStore, int]
) -> None:
    store, task_id = small_store
    model = FileTableModel()
    model.set_source(store_source(store, task_id, []))
    qtbot.waitUntil(lambda: model.rowCount() == 25)
    changes = Recorder(model)
    a, b = model.file_at(4), model.file_at(9)  # 5000 and 10000 bytes

    model.set_in_flight([a.id, b.id, 10**9], {a.id: 2100})

    assert text(model, 4, ft.COL_STATUS) == texts.file_status_text(a, True, 42)
    assert text(model, 9, ft.COL_STATUS) == texts.file_status_text(b, True, None)
    assert sorted(changes.events) == [
        ("data", (4, ft.COL_STATUS), (4, ft.COL_STATUS)),
        ("data", (9, ft.COL_STATUS), (9, ft.COL_STATUS)),
    ]
    changes.clear()
    model.set_in_flight([b.id])  # a finished its part; b goes on
    assert text(model, 4, ft.COL_STATUS) == texts.file_status_text(a, False)
    assert changes.events == [("data", (4, ft.COL_STATUS), (4, ft.COL_STATUS))]
    # A row already written as completed wins over an in-flight list that lags behind.
    done = dataclasses.replace(b, status=FileStatus.COMPLETED, outcome=FileOutcome.SUCCEEDED)
    model.apply_files_changed([done])
    assert text(model, 9, ft.COL_STATUS) == texts.file_status_text(done, False)


def test_a_failing_page_source_reports_once_and_stops_asking(
    qtbot: QtBot, qloop: Any, small_store: tuple[ExportStore, int]
) -> None:
    store, task_id = small_store
    calls: list[Any] = []

    async def broken(filter: FileFilter, text: str, after: int, limit: int) -> FilePage:
        calls.append(after)
        raise RuntimeError("the store is closed")

    model = FileTableModel()
    with qtbot.waitSignal(model.loadFailed) as failure:
        model.set_source(broken)
    assert isinstance(failure.args[0], RuntimeError)
    assert not model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    assert calls == [0]
    # The next query asks again, through a working source.
    model.set_source(store_source(store, task_id, []))
    qtbot.waitUntil(lambda: model.rowCount() == 25)


def test_without_a_running_loop_fetch_more_does_nothing(
    qapp: Any, small_store: tuple[ExportStore, int]
) -> None:
    store, task_id = small_store
    model = FileTableModel()
    calls: list[Any] = []
    model.set_source(store_source(store, task_id, calls))  # no loop: nothing scheduled
    assert model.canFetchMore(QModelIndex())
    assert not model.loading
    assert calls == []


def test_run_helper_is_usable_for_setup(qtbot: QtBot, qloop: Any) -> None:
    assert run(qtbot, asyncio.sleep(0, result=7)) == 7


def test_the_running_rows_dot_stays_visible_when_the_row_is_selected(qtbot: QtBot) -> None:
    """Selected, the running row is painted in the highlight colour, close to its blue dot:
    the dot then has a ring in the highlighted text's colour (the icon's Selected mode),
    so the row still shows a dot, besides its bold text."""
    model = TaskTableModel()
    model.set_tasks([task(1), task(2)])
    model.set_running(1)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    view.setColumnWidth(tt.COL_STATUS, 200)
    view.resize(900, 200)
    use_fixed_row_height(view, 24)
    view.show()
    qtbot.waitExposed(view)
    highlight = view.palette().color(QPalette.ColorRole.Highlight)

    def contrasting_in_icon_area(row: int) -> int:
        rect = view.visualRect(model.index(row, tt.COL_STATUS))
        rect.setWidth(18)  # the dot's place, left of the text
        image = view.viewport().grab(rect).toImage()
        return sum(
            abs(image.pixelColor(x, y).red() - highlight.red())
            + abs(image.pixelColor(x, y).green() - highlight.green())
            + abs(image.pixelColor(x, y).blue() - highlight.blue())
            > 150
            for x in range(image.width())
            for y in range(image.height())
        )

    view.selectRow(0)
    qtbot.waitUntil(lambda: view.selectionModel().isRowSelected(0), timeout=5000)
    assert contrasting_in_icon_area(0) >= 12  # a ring around a dot 8 px wide: ~40
    font = model.data(model.index(0, tt.COL_STATUS), Qt.ItemDataRole.FontRole)
    assert isinstance(font, QFont)
    assert font.bold()
