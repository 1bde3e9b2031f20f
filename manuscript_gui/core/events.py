"""Events the engine publishes for the window, the CLI and tests.

Plain callbacks on the event loop's thread, no Qt: the UI has one small bridge
that turns them into Qt signals. Progress is *coalesced*: the task manager
counts bytes as they arrive and publishes a :class:`TaskProgress` at most a few
times per second, so 3000 files at full speed cost a handful of UI updates,
not one per chunk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from manuscript_gui.domain import TaskRecord

__all__ = [
    "Event",
    "EventBus",
    "ListingProgress",
    "SchedulerState",
    "TaskAdded",
    "TaskChanged",
    "TaskProgress",
    "TaskRemoved",
]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TaskAdded:
    task: TaskRecord


@dataclass(frozen=True, slots=True)
class TaskChanged:
    """A task row changed (status, reason, counters); ``running`` is derived by listeners."""

    task: TaskRecord


@dataclass(frozen=True, slots=True)
class TaskRemoved:
    task_id: int


@dataclass(frozen=True, slots=True)
class ListingProgress:
    """A task is initializing: ``found`` files listed so far."""

    task_id: int
    found: int
    found_bytes: int


@dataclass(frozen=True, slots=True)
class TaskProgress:
    """Live figures of the running task, beyond what its stored row says.

    ``bytes_done`` counts finished files and the partial bytes of files in
    flight; ``rate`` is bytes per second over the last few seconds.
    """

    task_id: int
    bytes_done: int
    bytes_total: int
    files_done: int
    files_total: int
    in_flight: tuple[str, ...]
    rate: float


@dataclass(frozen=True, slots=True)
class SchedulerState:
    """Which task runs (``None``: idle) and whether a user is signed in."""

    running_task_id: int | None
    has_user: bool


Event = TaskAdded | TaskChanged | TaskRemoved | ListingProgress | TaskProgress | SchedulerState
Listener = Callable[[Event], None]


class EventBus:
    """Synchronous fan-out; a failing listener is logged and never stops the engine."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add a listener; returns the function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def publish(self, event: Event) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                _log.exception("event listener failed on %r", event)
