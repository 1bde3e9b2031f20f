"""The service's events as Qt signals: one signal per event type, the busy ones coalesced.

:class:`EventBridge` subscribes to ``service.events``
(:class:`~manuscript_gui.core.events.EventBus`) and re-emits each event on the
Qt signal of its type, with the event object as the one argument:

==================== ====================================== ===========================
signal               event (``core.events``)                 delivery
==================== ====================================== ===========================
``session_changed``  :class:`SessionChanged`                 at once
``scheduler_state``  :class:`SchedulerState`                 at once
``queue_holder``     :class:`QueueHolder`                    at once
``task_added``       :class:`TaskAdded`                      at once
``task_changed``     :class:`TaskChanged`                    at once
``task_removed``     :class:`TaskRemoved`                    at once
``queue_reordered``  :class:`QueueReordered`                 at once
``run_ended``        :class:`RunEnded`                       at once
``task_progress``    :class:`TaskProgress`                   coalesced per task
``listing_progress`` :class:`ListingProgress`                coalesced per task
``files_changed``    :class:`FilesChanged`                   batched per task
==================== ====================================== ===========================

Coalescing: a progress event waits in a buffer (the last one per task wins)
and file rows are merged per task (the last write of a row wins, rows in the
order first written); the buffer is flushed by one timer :data:`FLUSH_MS`
(250 ms) after the first event it took, so each task gets at most about four
``task_progress``/``listing_progress``/``files_changed`` signals a second,
whatever the engine publishes, and the first one comes within 250 ms.

Order is kept where it matters. Before an event delivered at once about a
task (``task_changed``, ``run_ended``), what is buffered for that task is
flushed first; before ``scheduler_state`` everything buffered is flushed
(the last progress of a run comes before the news that the queue is idle).
``task_removed`` drops what is buffered for that task, and
``session_changed`` drops everything buffered: those events belong to the
session that just ended (task ids of another identity's database must never
reach the new list). Every signal is emitted on the thread that publishes,
the event loop's (the service is not thread-safe anyway).

Call :meth:`EventBridge.close` when the window goes (it unsubscribes; events
after that are ignored).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Final

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal

from manuscript_gui.core.events import (
    Event,
    EventBus,
    FilesChanged,
    ListingProgress,
    QueueHolder,
    QueueReordered,
    RunEnded,
    SchedulerState,
    SessionChanged,
    TaskAdded,
    TaskChanged,
    TaskProgress,
    TaskRemoved,
)
from manuscript_gui.domain import FileRecord

__all__ = ["FLUSH_MS", "SIGNAL_NAMES", "EventBridge"]

_log = logging.getLogger(__name__)

#: How long coalesced events wait at most, in milliseconds (≈ 4 signals/s per task).
FLUSH_MS: Final = 250

#: The name of the signal of each event type.
SIGNAL_NAMES: Final[dict[type, str]] = {
    SessionChanged: "session_changed",
    SchedulerState: "scheduler_state",
    QueueHolder: "queue_holder",
    TaskAdded: "task_added",
    TaskChanged: "task_changed",
    TaskRemoved: "task_removed",
    QueueReordered: "queue_reordered",
    RunEnded: "run_ended",
    TaskProgress: "task_progress",
    ListingProgress: "listing_progress",
    FilesChanged: "files_changed",
}


class EventBridge(QObject):
    """``service.events`` → Qt signals (see the module docstring). Each signal carries the
    event object (``object``: a frozen dataclass of ``core.events``).

    Args:
        events: the service's bus (``service.events``); subscribed at once.
        parent: the Qt parent (deleted with it, the bridge stops listening at the
            next event).
        flush_ms: the coalescing interval (tests may shorten it; 0 flushes on the
            next turn of the event loop).
    """

    session_changed = Signal(object)
    scheduler_state = Signal(object)
    queue_holder = Signal(object)
    task_added = Signal(object)
    task_changed = Signal(object)
    task_removed = Signal(object)
    queue_reordered = Signal(object)
    run_ended = Signal(object)
    task_progress = Signal(object)
    listing_progress = Signal(object)
    files_changed = Signal(object)

    def __init__(
        self, events: EventBus, parent: QObject | None = None, *, flush_ms: int = FLUSH_MS
    ) -> None:
        super().__init__(parent)
        self._progress: dict[int, TaskProgress] = {}
        self._listing: dict[int, ListingProgress] = {}
        self._files: dict[int, dict[int, FileRecord]] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(max(0, flush_ms))
        self._timer.timeout.connect(self.flush)
        self._unsubscribe: Callable[[], None] | None = events.subscribe(self._on_event)

    @property
    def closed(self) -> bool:
        return self._unsubscribe is None

    def close(self) -> None:
        """Unsubscribe from the bus and drop what is buffered (idempotent)."""
        self._stop_listening()
        self._drop_all()

    def _stop_listening(self) -> None:
        unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            with contextlib.suppress(ValueError):  # already removed
                unsubscribe()

    @property
    def pending(self) -> int:
        """How many coalesced signals are waiting for the next flush."""
        return len(self._progress) + len(self._listing) + len(self._files)

    # -- receiving ---------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        if self._unsubscribe is None:
            return
        if not shiboken6.isValid(self):
            # Deleted by its Qt parent without close(): stop listening quietly.
            self._stop_listening()
            return
        if isinstance(event, TaskProgress):
            self._progress[event.task_id] = event
            self._arm()
        elif isinstance(event, ListingProgress):
            self._listing[event.task_id] = event
            self._arm()
        elif isinstance(event, FilesChanged):
            rows = self._files.setdefault(event.task_id, {})
            for row in event.files:
                rows[row.id] = row
            self._arm()
        elif isinstance(event, SessionChanged):
            self._drop_all()
            self.session_changed.emit(event)
        elif isinstance(event, SchedulerState):
            self.flush()
            self.scheduler_state.emit(event)
        elif isinstance(event, TaskRemoved):
            self._drop(event.task_id)
            self.task_removed.emit(event)
        elif isinstance(event, TaskChanged):
            self._flush_task(event.task.id)
            self.task_changed.emit(event)
        elif isinstance(event, RunEnded):
            self._flush_task(event.task.id)
            self.run_ended.emit(event)
        elif isinstance(event, TaskAdded):
            self.task_added.emit(event)
        elif isinstance(event, QueueReordered):
            self.queue_reordered.emit(event)
        elif isinstance(event, QueueHolder):
            self.queue_holder.emit(event)
        else:
            _log.debug("event without a signal: %r", event)

    def _arm(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    # -- flushing ----------------------------------------------------------------------

    def flush(self) -> None:
        """Emit everything buffered now: per task, its file rows, then its listing
        progress, then its progress (the order the engine publishes them in)."""
        self._stop_timer()
        for task_id in sorted({*self._files, *self._listing, *self._progress}):
            self._emit_task(task_id)

    def _flush_task(self, task_id: int) -> None:
        self._emit_task(task_id)
        if not self.pending:
            self._stop_timer()

    def _emit_task(self, task_id: int) -> None:
        rows = self._files.pop(task_id, None)
        listing = self._listing.pop(task_id, None)
        progress = self._progress.pop(task_id, None)
        if rows:
            self.files_changed.emit(FilesChanged(task_id, tuple(rows.values())))
        if listing is not None:
            self.listing_progress.emit(listing)
        if progress is not None:
            self.task_progress.emit(progress)

    def _drop(self, task_id: int) -> None:
        self._files.pop(task_id, None)
        self._listing.pop(task_id, None)
        self._progress.pop(task_id, None)
        if not self.pending:
            self._stop_timer()

    def _drop_all(self) -> None:
        self._files.clear()
        self._listing.clear()
        self._progress.clear()
        self._stop_timer()

    def _stop_timer(self) -> None:
        if shiboken6.isValid(self._timer):
            self._timer.stop()
