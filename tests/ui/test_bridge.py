"""ui/bridge.py: the service's events as Qt signals, the busy ones coalesced, in order.

Unit tests publish events on a real :class:`EventBus` (as the engine does, on
the loop's thread) and record the signals; the last test runs a real export
against the reference server through an :class:`ExportService` and checks
what a window would see. Nothing here asserts a duration: coalescing is shown
by publishing a burst without letting the event loop turn (so the timer
cannot fire in between) and counting the signals after it has fired.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from manuscript_gui.config import Settings, app_paths
from manuscript_gui.core.events import (
    Event,
    EventBus,
    FilesChanged,
    ListingProgress,
    QueueHolder,
    QueueReordered,
    RunEnded,
    RunOutcome,
    SchedulerState,
    SessionChanged,
    TaskAdded,
    TaskChanged,
    TaskProgress,
    TaskRemoved,
)
from manuscript_gui.domain import (
    FileOutcome,
    FileRecord,
    FileStatus,
    QueueOwner,
    SessionChange,
    SessionInfo,
    TaskRecord,
    TaskStatus,
)
from manuscript_gui.reference_server import ServerHandle
from manuscript_gui.services.exports import ExportService, SelectionItem, ServiceOptions
from manuscript_gui.ui.bridge import SIGNAL_NAMES, EventBridge
from tests.ui.conftest import run

NOW = datetime(2026, 11, 29, tzinfo=UTC)


def task(task_id: int = 1, **changes: Any) -> TaskRecord:
    base = TaskRecord(
        id=task_id,
        name=f"task {task_id}",
        target_dir="/exports",
        selection={},
        status=TaskStatus.WAITING,
        reason=None,
        reason_detail=None,
        position=task_id,
        total_files=3,
        succeeded=0,
        failed=0,
        total_bytes=300,
        done_bytes=0,
        created_at=NOW,
        updated_at=NOW,
        finished_at=None,
    )
    return replace(base, **changes)


def row(file_id: int, task_id: int = 1, **changes: Any) -> FileRecord:
    base = FileRecord(
        id=file_id,
        task_id=task_id,
        remote_id=f"f-{file_id}",
        project_id="prj-1",
        remote_path=f"/D/{file_id}.xlsx",
        local_path=f"D/{file_id}.xlsx",
        version=1,
        size=100,
        sha256="0" * 64,
        content_type=None,
        etag=None,
        status=FileStatus.WAITING,
        outcome=None,
        error_code=None,
        error_message=None,
        attempts=0,
        updated_at=NOW,
    )
    return replace(base, **changes)


def progress(task_id: int, n: int) -> TaskProgress:
    return TaskProgress(
        task_id=task_id,
        bytes_done=n,
        bytes_total=1_000_000,
        files_done=n // 100,
        files_total=10,
        in_flight=(),
        rate=float(n),
    )


SESSION = SessionInfo(1, "http://127.0.0.1:1", "u-1", "demo", "auditor", "审计员")


class Recorder:
    """Every signal of a bridge, in the order emitted: (signal name, event)."""

    def __init__(self, bridge: EventBridge) -> None:
        self.seen: list[tuple[str, Event]] = []
        for name in SIGNAL_NAMES.values():
            getattr(bridge, name).connect(lambda event, n=name: self.seen.append((n, event)))

    def names(self) -> list[str]:
        return [name for name, _ in self.seen]

    def of(self, name: str) -> list[Any]:
        return [event for n, event in self.seen if n == name]


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def bridge(qapp: Any, bus: EventBus) -> Any:
    b = EventBridge(bus)
    yield b
    b.close()


def flushed(qtbot: QtBot, bridge: EventBridge) -> None:
    """Let the event loop turn until the bridge's timer has flushed the buffer."""
    qtbot.waitUntil(lambda: bridge.pending == 0, timeout=30_000)


def test_every_event_type_has_a_signal(bridge: EventBridge) -> None:
    assert set(SIGNAL_NAMES) == set(Event.__args__)  # type: ignore[attr-defined]
    for name in SIGNAL_NAMES.values():
        assert hasattr(bridge, name)


def test_a_burst_of_progress_gives_one_signal_per_task_with_the_last_values(
    qtbot: QtBot, bus: EventBus, bridge: EventBridge
) -> None:
    seen = Recorder(bridge)
    for n in range(1000):
        bus.publish(progress(1, n))
        bus.publish(progress(2, 10 * n))
        bus.publish(ListingProgress(3, n, 1000 * n))
    assert seen.seen == [], "nothing before the flush"
    assert bridge.pending == 3
    flushed(qtbot, bridge)
    # One flush, the tasks in id order.
    assert seen.names() == ["task_progress", "task_progress", "listing_progress"]
    last = {e.task_id: e for e in seen.of("task_progress")}
    assert last[1].bytes_done == 999
    assert last[2].bytes_done == 9990
    assert seen.of("listing_progress") == [ListingProgress(3, 999, 999_000)]
    # The next burst starts a new window: again one signal per task.
    for n in range(500):
        bus.publish(progress(1, n))
    flushed(qtbot, bridge)
    assert len(seen.of("task_progress")) == 3


def test_files_changed_are_merged_per_task(
    qtbot: QtBot, bus: EventBus, bridge: EventBridge
) -> None:
    seen = Recorder(bridge)
    bus.publish(FilesChanged(1, (row(1), row(2))))
    bus.publish(FilesChanged(2, (row(7, task_id=2),)))
    done = row(1, status=FileStatus.COMPLETED, outcome=FileOutcome.SUCCEEDED)
    bus.publish(FilesChanged(1, (row(3), done)))
    flushed(qtbot, bridge)
    batches = {e.task_id: e.files for e in seen.of("files_changed")}
    assert len(seen.of("files_changed")) == 2
    # One row per file, its last version, in the order the rows were first written.
    assert batches[1] == (done, row(2), row(3))
    assert batches[2] == (row(7, task_id=2),)


@pytest.mark.parametrize(
    "event",
    [
        SessionChanged(SessionChange.SIGNED_IN, SESSION),
        SchedulerState(1, True),
        QueueHolder(QueueOwner(pid=4242, task=3, front_end="cli")),
        QueueHolder(None),
        TaskAdded(task(5)),
        TaskChanged(task(5)),
        TaskRemoved(5),
        QueueReordered((2, 1)),
        RunEnded(task(5), 100, RunOutcome.COMPLETED),
    ],
    ids=lambda e: type(e).__name__,
)
def test_state_events_are_delivered_at_once(
    bus: EventBus, bridge: EventBridge, event: Event
) -> None:
    seen = Recorder(bridge)
    bus.publish(event)  # no event-loop turn: delivered inside publish()
    assert seen.seen == [(SIGNAL_NAMES[type(event)], event)]


def test_a_task_change_comes_after_what_was_buffered_for_that_task(
    bus: EventBus, bridge: EventBridge
) -> None:
    seen = Recorder(bridge)
    bus.publish(FilesChanged(1, (row(1),)))
    bus.publish(progress(1, 50))
    bus.publish(progress(2, 70))
    changed = TaskChanged(task(1, succeeded=1))
    bus.publish(changed)
    assert seen.seen == [
        ("files_changed", FilesChanged(1, (row(1),))),
        ("task_progress", progress(1, 50)),
        ("task_changed", changed),
    ]
    assert bridge.pending == 1, "task 2's progress still waits for the timer"


def test_a_run_end_comes_after_the_runs_last_progress(bus: EventBus, bridge: EventBridge) -> None:
    seen = Recorder(bridge)
    bus.publish(progress(1, 99))
    ended = RunEnded(task(1, status=TaskStatus.COMPLETED), 300, RunOutcome.COMPLETED)
    bus.publish(ended)
    assert seen.seen == [("task_progress", progress(1, 99)), ("run_ended", ended)]


def test_the_queue_state_comes_after_everything_buffered(
    bus: EventBus, bridge: EventBridge
) -> None:
    seen = Recorder(bridge)
    bus.publish(progress(1, 10))
    bus.publish(ListingProgress(2, 5, 500))
    bus.publish(SchedulerState(None, True))
    assert seen.names()[-1] == "scheduler_state"
    assert sorted(seen.names()[:-1]) == ["listing_progress", "task_progress"]
    assert bridge.pending == 0


def test_a_removed_task_gets_nothing_more(qtbot: QtBot, bus: EventBus, bridge: EventBridge) -> None:
    seen = Recorder(bridge)
    bus.publish(progress(1, 10))
    bus.publish(FilesChanged(1, (row(1),)))
    bus.publish(progress(2, 20))
    bus.publish(TaskRemoved(1))
    flushed(qtbot, bridge)
    assert seen.seen == [("task_removed", TaskRemoved(1)), ("task_progress", progress(2, 20))]


def test_a_session_change_drops_what_the_old_session_left_buffered(
    bus: EventBus, bridge: EventBridge
) -> None:
    """Task ids are per identity database: the old identity's task 1 must never update
    the new identity's task 1."""
    seen = Recorder(bridge)
    bus.publish(progress(1, 10))
    bus.publish(FilesChanged(1, (row(1),)))
    bus.publish(ListingProgress(2, 3, 30))
    switched = SessionChanged(SessionChange.SWITCHED, SESSION)
    bus.publish(switched)
    assert seen.seen == [("session_changed", switched)]
    assert bridge.pending == 0


def test_close_unsubscribes(qtbot: QtBot, bus: EventBus, bridge: EventBridge) -> None:
    seen = Recorder(bridge)
    bus.publish(progress(1, 10))
    bridge.close()
    assert bridge.closed
    assert bridge.pending == 0
    bus.publish(SessionChanged(SessionChange.SIGNED_OUT, None))
    bus.publish(progress(1, 20))
    assert seen.seen == []
    assert bridge.pending == 0
    bridge.close()  # twice is fine


def test_a_bridge_deleted_with_its_parent_stops_listening(
    qapp: Any, bus: EventBus, caplog: pytest.LogCaptureFixture
) -> None:
    parent = QObject()
    bridge = EventBridge(bus, parent)
    bus.publish(progress(1, 10))
    import shiboken6

    shiboken6.delete(parent)
    assert not shiboken6.isValid(bridge)
    with caplog.at_level(logging.ERROR):
        bus.publish(SessionChanged(SessionChange.SIGNED_OUT, None))
        bus.publish(progress(1, 20))
    assert bridge.closed
    assert "listener failed" not in caplog.text


def test_a_failing_slot_does_not_stop_the_others(
    bus: EventBus, bridge: EventBridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A window's slot that raises is reported (sys.excepthook), the engine goes on."""
    hooked: list[BaseException] = []
    monkeypatch.setattr("sys.excepthook", lambda t, e, tb: hooked.append(e))
    seen = Recorder(bridge)

    def broken(event: object) -> None:
        raise RuntimeError("a slot failed")

    bridge.task_added.connect(broken)
    bus.publish(TaskAdded(task(1)))
    bus.publish(TaskAdded(task(2)))
    assert [e.task.id for e in seen.of("task_added")] == [1, 2]


# ----------------------------------------------------------- with the real engine


def test_a_real_export_seen_through_the_bridge(
    qtbot: QtBot, qloop: Any, fresh_server: ServerHandle, tmp_path: Path
) -> None:
    service = ExportService(
        Settings(concurrency=4, retries=2), paths=app_paths(), options=ServiceOptions(fsync=False)
    )
    bridge = EventBridge(service.events)
    seen = Recorder(bridge)
    try:
        info = run(qtbot, service.session.sign_in(fresh_server.base_url, "demo", "demo"))
        assert seen.of("session_changed")[0] == SessionChanged(SessionChange.SIGNED_IN, info)
        projects = run(qtbot, service.projects())
        item = SelectionItem(projects[0].id, projects[0].name)
        created = run(qtbot, service.create_export([item], tmp_path / "out"))
        qtbot.waitUntil(lambda: bool(seen.of("run_ended")), timeout=60_000)
        ended = seen.of("run_ended")[0]
        assert ended.outcome is RunOutcome.COMPLETED
        assert ended.task.id == created.id
        assert ended.task.succeeded == ended.task.total_files > 0
        names = seen.names()
        assert names.index("task_added") < names.index("run_ended")
        # Nothing of the run arrives after its end, and the rows reached the window.
        after = names[names.index("run_ended") + 1 :]
        assert "task_progress" not in after
        assert "files_changed" not in after
        rows = {f.id: f for e in seen.of("files_changed") for f in e.files}
        assert len(rows) == ended.task.total_files
        assert all(f.outcome is FileOutcome.SUCCEEDED for f in rows.values())
        run(qtbot, service.session.sign_out())
        assert seen.of("session_changed")[-1].change is SessionChange.SIGNED_OUT
    finally:
        bridge.close()
        run(qtbot, service.close())
