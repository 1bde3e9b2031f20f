"""allowed_actions: the table of docs/behaviour.md and docs/engine.md, state by state."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from manuscript_gui.core.actions import Action, allowed_actions, allowed_actions_in_queue
from manuscript_gui.domain import TaskRecord, TaskStatus

A = Action
DOCS = Path(__file__).resolve().parents[2] / "docs"


def _task(
    status: TaskStatus, *, failed: int = 0, task_id: int = 1, position: int = 1
) -> TaskRecord:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    return TaskRecord(
        id=task_id,
        name=f"task {task_id}",
        target_dir="/exports",
        selection={"items": []},
        status=status,
        reason=None,
        reason_detail=None,
        position=position,
        total_files=10,
        succeeded=10 - failed if status is TaskStatus.COMPLETED else 0,
        failed=failed,
        total_bytes=1000,
        done_bytes=0,
        created_at=now,
        updated_at=now,
        finished_at=None,
    )


# The documented table, written out state by state (not derived from the code):
# (stored status, running, failed files, first in the list, last in the list) -> actions.
_ROWS: list[tuple[TaskStatus, bool, int, bool, bool, set[Action]]] = [
    (TaskStatus.INITIALIZING, False, 0, False, False, {A.CANCEL, A.OPEN_FOLDER}),
    (
        TaskStatus.INITIALIZING,
        False,
        2,
        False,
        False,
        {A.CANCEL, A.OPEN_FOLDER, A.FAILURE_REPORT},
    ),
    (
        TaskStatus.WAITING,
        False,
        0,
        False,
        False,
        {A.PAUSE, A.CANCEL, A.MOVE_UP, A.MOVE_DOWN, A.OPEN_FOLDER},
    ),
    (TaskStatus.WAITING, False, 0, True, False, {A.PAUSE, A.CANCEL, A.MOVE_DOWN, A.OPEN_FOLDER}),
    (TaskStatus.WAITING, False, 0, False, True, {A.PAUSE, A.CANCEL, A.MOVE_UP, A.OPEN_FOLDER}),
    (TaskStatus.WAITING, False, 0, True, True, {A.PAUSE, A.CANCEL, A.OPEN_FOLDER}),
    (
        TaskStatus.WAITING,
        False,
        3,
        False,
        False,
        {A.PAUSE, A.CANCEL, A.MOVE_UP, A.MOVE_DOWN, A.OPEN_FOLDER, A.FAILURE_REPORT},
    ),
    # running (derived: a waiting task the task manager holds): no move, wherever it is
    (TaskStatus.WAITING, True, 0, False, False, {A.PAUSE, A.CANCEL, A.OPEN_FOLDER}),
    (TaskStatus.WAITING, True, 0, True, True, {A.PAUSE, A.CANCEL, A.OPEN_FOLDER}),
    (
        TaskStatus.WAITING,
        True,
        1,
        False,
        False,
        {A.PAUSE, A.CANCEL, A.OPEN_FOLDER, A.FAILURE_REPORT},
    ),
    (TaskStatus.PAUSED, False, 0, False, False, {A.RESUME, A.CANCEL, A.OPEN_FOLDER}),
    (TaskStatus.PAUSED, False, 0, True, True, {A.RESUME, A.CANCEL, A.OPEN_FOLDER}),
    (
        TaskStatus.PAUSED,
        False,
        4,
        False,
        False,
        {A.RESUME, A.CANCEL, A.OPEN_FOLDER, A.FAILURE_REPORT},
    ),
    (TaskStatus.COMPLETED, False, 0, False, False, {A.DELETE, A.OPEN_FOLDER}),
    (
        TaskStatus.COMPLETED,
        False,
        5,
        False,
        False,
        {A.RETRY_FAILED, A.DELETE, A.OPEN_FOLDER, A.FAILURE_REPORT},
    ),
    (TaskStatus.CANCELED, False, 0, False, False, {A.DELETE, A.OPEN_FOLDER}),
    (TaskStatus.CANCELED, False, 6, True, True, {A.DELETE, A.OPEN_FOLDER, A.FAILURE_REPORT}),
]


@pytest.mark.parametrize(
    ("status", "running", "failed", "first", "last", "expected"),
    _ROWS,
    ids=[
        f"{s.value}{'-running' if r else ''}-failed{f}{'-first' if a else ''}{'-last' if b else ''}"
        for s, r, f, a, b, _ in _ROWS
    ],
)
def test_allowed_actions_are_exactly_the_documented_set(
    status: TaskStatus, running: bool, failed: int, first: bool, last: bool, expected: set[Action]
) -> None:
    got = allowed_actions(_task(status, failed=failed), running, first=first, last=last)
    assert got == frozenset(expected)
    assert isinstance(got, frozenset)


@pytest.mark.parametrize(
    ("status", "running", "failed", "first", "last", "expected"),
    _ROWS,
    ids=[
        f"{s.value}{'-running' if r else ''}-failed{f}{'-first' if a else ''}{'-last' if b else ''}"
        for s, r, f, a, b, _ in _ROWS
    ],
)
def test_a_queue_another_process_runs_allows_only_what_changes_nothing(
    status: TaskStatus, running: bool, failed: int, first: bool, last: bool, expected: set[Action]
) -> None:
    got = allowed_actions(
        _task(status, failed=failed), running, first=first, last=last, queue_elsewhere=True
    )
    assert got == frozenset(expected) & {A.OPEN_FOLDER, A.FAILURE_REPORT}
    queue = allowed_actions_in_queue([_task(status, failed=failed)], None, queue_elsewhere=True)
    assert queue[1] <= {A.OPEN_FOLDER, A.FAILURE_REPORT}
    assert A.OPEN_FOLDER in queue[1]


@pytest.mark.parametrize(
    "status", [s for s in TaskStatus if s is not TaskStatus.WAITING], ids=lambda s: s.value
)
def test_a_late_running_flag_never_overrides_the_stored_status(status: TaskStatus) -> None:
    """Only a waiting task can run: for any other status the stored status decides."""
    task = _task(status, failed=1)
    assert allowed_actions(task, True) == allowed_actions(task, False)


def test_every_status_and_every_action_is_covered() -> None:
    assert {row[0] for row in _ROWS} == set(TaskStatus)
    assert set().union(*(row[5] for row in _ROWS)) == set(Action)


def test_a_status_read_back_as_text_is_accepted() -> None:
    task = dataclasses.replace(_task(TaskStatus.PAUSED), status="paused")  # type: ignore[arg-type]
    assert allowed_actions(task, False) == {A.RESUME, A.CANCEL, A.OPEN_FOLDER}


def test_queue_edges_are_worked_out_from_the_list() -> None:
    # Listed out of order on purpose: the queue order is position, then id.
    tasks = [
        _task(TaskStatus.WAITING, task_id=3, position=7),
        _task(TaskStatus.WAITING, task_id=1, position=2),
        _task(TaskStatus.COMPLETED, task_id=9, position=1, failed=1),
        _task(TaskStatus.WAITING, task_id=4, position=5),
    ]
    got = allowed_actions_in_queue(tasks, running_task_id=4)
    assert got == {
        9: {A.RETRY_FAILED, A.DELETE, A.OPEN_FOLDER, A.FAILURE_REPORT},
        1: {A.PAUSE, A.CANCEL, A.MOVE_UP, A.MOVE_DOWN, A.OPEN_FOLDER},
        4: {A.PAUSE, A.CANCEL, A.OPEN_FOLDER},  # running: never moves
        3: {A.PAUSE, A.CANCEL, A.MOVE_UP, A.OPEN_FOLDER},  # last in the list
    }


def test_a_single_waiting_task_cannot_move() -> None:
    got = allowed_actions_in_queue([_task(TaskStatus.WAITING)], running_task_id=None)
    assert got == {1: {A.PAUSE, A.CANCEL, A.OPEN_FOLDER}}


def test_no_tasks_no_actions() -> None:
    assert allowed_actions_in_queue([], running_task_id=None) == {}


def _table(markdown: str, heading: str) -> list[list[str]]:
    """The rows (cells) of the first table after *heading* in a markdown page."""
    text = markdown.split(heading, 1)[1]
    rows = []
    started = False
    for line in text.splitlines():
        if line.startswith("|"):
            started = True
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not set("".join(cells)) <= set("-: "):
                rows.append(cells)
        elif started:
            break
    return rows[1:]  # without the header


_WORDS = {
    "pause": A.PAUSE,
    "resume": A.RESUME,
    "cancel": A.CANCEL,
    "retry failed": A.RETRY_FAILED,
    "move up/down": (A.MOVE_UP, A.MOVE_DOWN),
    "delete": A.DELETE,
    "open folder": A.OPEN_FOLDER,
    "failure report": A.FAILURE_REPORT,
}


def _actions(cell: str) -> set[Action]:
    """The actions a cell names (a parenthesis qualifies, it names no action)."""
    bare = re.sub(r"\([^)]*\)", "", cell)
    found: set[Action] = set()
    for word, action in _WORDS.items():
        if re.search(rf"(?<![\w/]){re.escape(word)}(?![\w/])", bare):
            found |= set(action) if isinstance(action, tuple) else {action}
    return found


_STATES = [s.value for s in TaskStatus] + ["running"]


def _snapshot(state: str) -> tuple[TaskRecord, bool]:
    """A task in *state* with failed files (so that no condition hides an action)."""
    running = state == "running"
    return _task(TaskStatus.WAITING if running else TaskStatus(state), failed=1), running


def test_behaviour_md_table_says_what_the_code_does() -> None:
    """docs/behaviour.md's status table lists the same actions per status (edges aside)."""
    rows = _table((DOCS / "behaviour.md").read_text(encoding="utf-8"), "## Statuses")
    by_state = {row[0].split()[0]: _actions(row[1]) for row in rows}
    every = by_state.pop("any")
    assert set(by_state) == set(_STATES)
    for state, documented in by_state.items():
        task, running = _snapshot(state)
        assert allowed_actions(task, running) == documented | every, state


def test_engine_md_table_says_what_the_code_does() -> None:
    """docs/engine.md's "User actions" table names, per action, the statuses that allow it."""
    rows = _table((DOCS / "engine.md").read_text(encoding="utf-8"), "## User actions")
    documented: dict[Action, set[str]] = {}
    for action_cell, when, _effect in rows:
        bare = re.sub(r"\([^)]*\)", "", when)
        allowed = set(_STATES) if bare.strip() == "any" else set(re.findall(r"\w+", bare))
        assert allowed <= set(_STATES), when
        for action in _actions(action_cell):
            documented[action] = allowed
    assert set(documented) == set(Action)
    for state in _STATES:
        task, running = _snapshot(state)
        got = allowed_actions(task, running)
        for action, allowed in documented.items():
            assert (action in got) == (state in allowed), (action, state)
