"""Which user actions a task allows: the one place for the rules of docs/behaviour.md.

The service's guards and every front end (buttons, menus, the command line)
ask :func:`allowed_actions`; nobody else decides from a task's status what a
user may do to it. The table (docs/behaviour.md "Statuses", docs/engine.md
"User actions"):

================  =====================================================
task              actions
================  =====================================================
initializing      cancel
waiting           pause, cancel, move up (not the first task), move down (not the last)
running           pause, cancel
paused            resume, cancel
completed         retry failed (only with failed files), delete
canceled          delete
any status        open folder; failure report (only with failed files)
================  =====================================================

``running`` is derived (the live task manager holds the task), never stored:
only a ``waiting`` task can be running, so ``running`` changes the answer for
a waiting task only. For a task whose stored status is anything else the
stored status wins: the engine writes the status after the run stopped, so a
``running`` flag that arrives late (a front end's stale snapshot) never offers
*pause* on a task that is already paused.

*Move up/down* swaps a task with its neighbour in the whole task list (queue
order, :meth:`ExportStore.move_task_up <manuscript_gui.storage.ExportStore.move_task_up>`),
so the first task in the list cannot move up and the last cannot move down: a
button that would do nothing is not offered. Only the caller knows the
neighbours, hence the ``first``/``last`` flags; :func:`allowed_actions_in_queue`
works them out from a task list.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum, unique

from manuscript_gui.domain import TaskRecord, TaskStatus

__all__ = ["Action", "allowed_actions", "allowed_actions_in_queue"]


@unique
class Action(StrEnum):
    """What a user can do to a task. Identifiers: front ends map them to labels."""

    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"
    RETRY_FAILED = "retry_failed"
    MOVE_UP = "move_up"
    MOVE_DOWN = "move_down"
    DELETE = "delete"
    OPEN_FOLDER = "open_folder"
    FAILURE_REPORT = "failure_report"


#: What each stored status allows, before the per-task conditions (failed files,
#: queue edges) and the actions every status allows.
_BY_STATUS: dict[TaskStatus, frozenset[Action]] = {
    TaskStatus.INITIALIZING: frozenset({Action.CANCEL}),
    TaskStatus.WAITING: frozenset({Action.PAUSE, Action.CANCEL, Action.MOVE_UP, Action.MOVE_DOWN}),
    TaskStatus.PAUSED: frozenset({Action.RESUME, Action.CANCEL}),
    TaskStatus.COMPLETED: frozenset({Action.RETRY_FAILED, Action.DELETE}),
    TaskStatus.CANCELED: frozenset({Action.DELETE}),
}
_RUNNING: frozenset[Action] = frozenset({Action.PAUSE, Action.CANCEL})

#: What a task allows while another process runs its identity's queue (a second
#: window, the command line): only what changes nothing in the queue.
READ_ONLY: frozenset[Action] = frozenset({Action.OPEN_FOLDER, Action.FAILURE_REPORT})


def allowed_actions(
    task: TaskRecord,
    running: bool,
    *,
    first: bool = False,
    last: bool = False,
    queue_elsewhere: bool = False,
) -> frozenset[Action]:
    """The actions the user may take on *task* now (see the module docstring).

    Args:
        task: the task as stored (its ``status`` and ``failed`` count decide).
        running: the live task manager holds this task (counts only when the
            stored status is ``waiting``).
        first: the task is the first in the task list (no *move up*).
        last: the task is the last in the task list (no *move down*).
            ``first``/``last`` default to ``False``: a caller that does not
            know the neighbours (the service's guard) allows the move, and
            the store answers ``False`` at an edge.
        queue_elsewhere: another process holds the identity's queue
            (``ExportService.queue_owner``): only :data:`READ_ONLY` actions.

    Returns:
        A set of :class:`Action`; empty never (open folder is always allowed).
    """
    status = TaskStatus(task.status)
    actions = set(_RUNNING if status is TaskStatus.WAITING and running else _BY_STATUS[status])
    if first:
        actions.discard(Action.MOVE_UP)
    if last:
        actions.discard(Action.MOVE_DOWN)
    actions.add(Action.OPEN_FOLDER)
    if task.failed > 0:
        actions.add(Action.FAILURE_REPORT)
    else:
        actions.discard(Action.RETRY_FAILED)
    if queue_elsewhere:
        actions &= READ_ONLY
    return frozenset(actions)


def allowed_actions_in_queue(
    tasks: Iterable[TaskRecord], running_task_id: int | None, *, queue_elsewhere: bool = False
) -> dict[int, frozenset[Action]]:
    """:func:`allowed_actions` for every task of one identity's list, by task id.

    *tasks* is the whole task list (any order: queue order is ``position``,
    then ``id``, as the store sorts it); the first and last task by that
    order get no *move up* / *move down*. *running_task_id* is the id the
    live task manager holds, or ``None``; *queue_elsewhere* as for
    :func:`allowed_actions`.
    """
    ordered = sorted(tasks, key=lambda t: (t.position, t.id))
    last_index = len(ordered) - 1
    return {
        task.id: allowed_actions(
            task,
            task.id == running_task_id,
            first=i == 0,
            last=i == last_index,
            queue_elsewhere=queue_elsewhere,
        )
        for i, task in enumerate(ordered)
    }
