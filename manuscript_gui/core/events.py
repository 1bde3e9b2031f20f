"""Events the engine and the services publish for the window, the CLI and tests.

Plain callbacks on the event loop's thread, no Qt: the UI has one small bridge
that turns them into Qt signals. Progress is *coalesced*: the task manager
counts bytes as they arrive and publishes a :class:`TaskProgress` at most a few
times per second, and file rows reach listeners as one :class:`FilesChanged`
per write (every 0.5 s), so 3000 files at full speed cost a handful of UI
updates, not one per chunk or per file.

**Events cannot be misread across a switch.** Everything one signed-in
session's engine publishes goes through that session's :class:`EventSink`
(:meth:`EventBus.sink`), which drops the event unless its session is still the
current one (:meth:`EventBus.set_session`). When a user switches identity, the
old identity's last words (its stopped task, its run's end) never reach a
listener that now shows the new identity's queue. :class:`SessionChanged` and
:class:`SchedulerState` are the app's own and always delivered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum, unique
from typing import Protocol

from manuscript_gui.domain import FileRecord, QueueOwner, SessionChange, SessionInfo, TaskRecord

__all__ = [
    "Event",
    "EventBus",
    "EventSink",
    "FilesChanged",
    "ListingProgress",
    "Publisher",
    "QueueHolder",
    "QueueReordered",
    "RunEnded",
    "RunOutcome",
    "SchedulerState",
    "SessionChanged",
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
class QueueReordered:
    """The queue's order changed (move up/down): every task id, in the new order."""

    order: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class FilesChanged:
    """File rows of a task were written (one event per write, not per file).

    ``files`` are the rows as written: a detail pane updates the rows it shows
    and ignores the others.
    """

    task_id: int
    files: tuple[FileRecord, ...]


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
    flight; ``rate`` is bytes per second over the last few seconds;
    ``in_flight_ids`` holds the ids of the files being downloaded now (a
    detail pane's "in progress"), ``in_flight`` their local paths and
    ``in_flight_bytes`` the bytes of each already on disk (resumed partials
    included), in the same order: a file's percent is its bytes over its size.
    """

    task_id: int
    bytes_done: int
    bytes_total: int
    files_done: int
    files_total: int
    in_flight: tuple[str, ...]
    rate: float
    in_flight_ids: tuple[int, ...] = ()
    in_flight_bytes: tuple[int, ...] = ()


@unique
class RunOutcome(StrEnum):
    """How a run of a task ended."""

    COMPLETED = "completed"
    """Every file row is completed (some may have failed)."""
    PAUSED = "paused"
    """Stopped with a reason (the task's ``reason``)."""
    CANCELED = "canceled"
    UNFINISHED = "unfinished"
    """The run processed its files but some rows are still open (they run next)."""


@dataclass(frozen=True, slots=True)
class RunEnded:
    """A run of a task ended: the task as written, and what this run fetched."""

    task: TaskRecord
    bytes_received: int
    outcome: RunOutcome


@dataclass(frozen=True, slots=True)
class SchedulerState:
    """Which task runs (``None``: idle) and whether a user is signed in."""

    running_task_id: int | None
    has_user: bool


@dataclass(frozen=True, slots=True)
class SessionChanged:
    """Someone signed in, switched, signed out, or the server ended the session.

    ``session`` is the current session afterwards (``None``: nobody), ``previous``
    the one before.
    """

    change: SessionChange
    session: SessionInfo | None
    previous: SessionInfo | None = None


@dataclass(frozen=True, slots=True)
class QueueHolder:
    """Whether this process may run the signed-in identity's queue.

    ``other`` is ``None`` when it does; otherwise another process holds the
    identity's queue lock (another window, the command line) and this one
    waits, runs nothing and refuses task actions until that process lets go
    (``ActionError("queue_in_use")``). Published through the session's sink.
    """

    other: QueueOwner | None


Event = (
    TaskAdded
    | TaskChanged
    | TaskRemoved
    | QueueReordered
    | FilesChanged
    | ListingProgress
    | TaskProgress
    | RunEnded
    | SchedulerState
    | SessionChanged
    | QueueHolder
)
Listener = Callable[[Event], None]


class Publisher(Protocol):
    """Anything events are published to: the bus, or one session's sink."""

    def publish(self, event: Event) -> None: ...


class EventBus:
    """Synchronous fan-out; a failing listener is logged and never stops the engine."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []
        self._session: int | None = None

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

    @property
    def session(self) -> int | None:
        """The key of the current session (``SessionInfo.key``), ``None`` when nobody."""
        return self._session

    def set_session(self, key: int | None) -> None:
        """From now on only the sink of session *key* is heard (see the module docstring)."""
        self._session = key

    def sink(self, key: int) -> EventSink:
        """Where session *key*'s engine publishes."""
        return EventSink(self, key)


class EventSink:
    """One session's way onto the bus: its events pass only while it is current."""

    def __init__(self, bus: EventBus, key: int) -> None:
        self._bus = bus
        self.key = key

    @property
    def current(self) -> bool:
        return self._bus.session == self.key

    def publish(self, event: Event) -> None:
        if self.current:
            self._bus.publish(event)
        else:
            _log.debug("dropped an event of session %s (no longer current): %r", self.key, event)
