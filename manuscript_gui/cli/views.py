"""How tasks and files look on the command line: JSON objects, table rows, summary lines.

Pure functions of the domain's records; the words for reasons and sizes come
from :mod:`manuscript_gui.services.messages` (the same labels as the window's
fallback). JSON keys are ``snake_case`` and documented in docs/cli.md
("Output").
"""

from __future__ import annotations

from typing import Any

from manuscript_gui.domain import FileRecord, TaskRecord, TaskStatus
from manuscript_gui.services.messages import reason_label, size_text

__all__ = [
    "TASKS_HEADER",
    "file_json",
    "file_state",
    "task_json",
    "task_row",
    "task_summary",
]


def task_json(task: TaskRecord, running: bool = False) -> dict[str, Any]:
    """A task as one ``--json`` object; ``status`` is the stored one, ``running`` whether
    a live process runs it."""
    return {
        "id": task.id,
        "name": task.name,
        "status": task.status.value,
        "running": running,
        "reason": task.reason,
        "reason_detail": task.reason_detail,
        "target_dir": task.target_dir,
        "position": task.position,
        "listed": task.listed,
        "total_files": task.total_files,
        "succeeded": task.succeeded,
        "failed": task.failed,
        "remaining": task.remaining_files,
        "total_bytes": task.total_bytes,
        "done_bytes": task.done_bytes,
        "created_at": task.created_at.isoformat(),
        "updated_at": task.updated_at.isoformat(),
        "finished_at": task.finished_at.isoformat() if task.finished_at else None,
    }


def file_state(file: FileRecord) -> str:
    """``waiting``, ``paused``, ``succeeded`` or ``failed``."""
    return file.outcome.value if file.outcome is not None else file.status.value


def file_json(file: FileRecord) -> dict[str, Any]:
    """A file as one ``--json`` object."""
    return {
        "id": file.id,
        "task": file.task_id,
        "state": file_state(file),
        "status": file.status.value,
        "outcome": file.outcome.value if file.outcome is not None else None,
        "local_path": file.local_path,
        "remote_path": file.remote_path,
        "remote_id": file.remote_id,
        "project_id": file.project_id,
        "version": file.version,
        "size": file.size,
        "sha256": file.sha256,
        "error_code": file.error_code,
        "error_message": file.error_message,
        "attempts": file.attempts,
    }


#: The head of the ``tasks`` table (:func:`task_row`).
TASKS_HEADER = f"{'ID':>4}  {'STATUS':<12} {'FILES':>15} {'FAILED':>7} {'SIZE':>10}  NAME"


def task_row(task: TaskRecord, running: bool) -> str:
    """One line of the ``tasks`` table; a paused or canceled task adds its reason."""
    done = f"{task.succeeded + task.failed:,}/{task.total_files:,}"
    state = "running" if running else task.status.value
    line = (
        f"{task.id:>4}  {state:<12} {done:>15} "
        f"{task.failed:>7,} {size_text(task.total_bytes):>10}  {task.name}"
    )
    if task.status in (TaskStatus.PAUSED, TaskStatus.CANCELED) and task.reason:
        line += f"  ({reason_label(task.reason)})"
    return line


def task_summary(task: TaskRecord) -> str:
    """One summary line for a task after a run
    (``task 3 "name": completed, 1,240 files succeeded, 0 failed (45.2 MB) -> DIR``)."""
    head = f'task {task.id} "{task.name}"'
    done = task.succeeded + task.failed
    if task.status is TaskStatus.COMPLETED:
        return (
            f"{head}: completed, {task.succeeded:,} files succeeded, {task.failed:,} failed "
            f"({size_text(task.done_bytes)}) -> {task.target_dir}"
        )
    if task.status is TaskStatus.PAUSED:
        return (
            f"{head}: paused ({reason_label(task.reason)}), "
            f"{done:,} of {task.total_files:,} files done"
        )
    if task.status is TaskStatus.CANCELED:
        return f"{head}: canceled, {task.succeeded:,} files exported stay"
    return f"{head}: {task.status.value}, {done:,} of {task.total_files:,} files done"
