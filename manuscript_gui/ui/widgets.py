"""Small widgets and helpers the dialogs share.

- :class:`InlineMessage`: the line in a dialog that says what is wrong with the
  input (or what is going on), instead of a message box.
- :class:`ElidedLabel`: one line of plain text that never widens its window:
  shown elided (``…``) when it does not fit, whole in its tooltip.
- :class:`BusyBar`: an indeterminate progress bar shown while a dialog waits.
- :class:`JobRunner`: the dialog's background coroutines, strongly referenced,
  cancellable as a group, their unexpected failures logged (and handed to
  ``sys.excepthook``, as qasync's ``asyncSlot`` does, so that the app's hook and
  pytest-qt see them).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Coroutine
from enum import StrEnum
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QLabel, QProgressBar, QSizePolicy, QWidget

from manuscript_gui.ui import texts

__all__ = ["BusyBar", "ElidedLabel", "InlineMessage", "JobRunner", "MessageKind"]

_log = logging.getLogger(__name__)
T = TypeVar("T")


class MessageKind(StrEnum):
    """How an :class:`InlineMessage` looks: an error in the input, or a plain note."""

    ERROR = "error"
    INFO = "info"


class InlineMessage(QLabel):
    """A word-wrapped message line inside a dialog; hidden while it has nothing to say.

    Errors are drawn in the palette's error colour with a leading sign, notes in
    the normal text colour. The text is already translated (the caller's ``tr``).
    The current kind is readable as :attr:`kind` (``None`` when cleared).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self._kind: MessageKind | None = None
        self.hide()

    @property
    def kind(self) -> MessageKind | None:
        return self._kind

    def show_error(self, text: str) -> None:
        self._show(MessageKind.ERROR, text)

    def show_info(self, text: str) -> None:
        self._show(MessageKind.INFO, text)

    def clear_message(self) -> None:
        self._kind = None
        self.setText("")
        self.setStyleSheet("")
        self.hide()

    def _show(self, kind: MessageKind, text: str) -> None:
        self._kind = kind
        self.setText(text)
        # A fixed red reads on light and dark palettes alike; info keeps the palette.
        self.setStyleSheet("color: #c62828;" if kind is MessageKind.ERROR else "")
        self.setAccessibleDescription(text)
        self.show()


class ElidedLabel(QLabel):
    """One line of plain text (names from the server inside) that takes the room it is
    given and never more: drawn elided with ``…`` when it does not fit, the whole text
    then in its tooltip (:func:`texts.plain_tooltip`).

    A plain ``QLabel`` asks for its whole text's width as its minimum: a 10,000-character
    task name in the detail pane's title or a long user name in the status bar would
    make the window tens of thousands of pixels wide. ``text()`` stays the whole text.

    Args:
        max_width: the widest it asks to be (pixels; its ``sizeHint``), ``None``: its text's.
        mode: where the ellipsis goes.
    """

    #: The narrowest it gets, in average character widths.
    MIN_CHARS = 6

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        max_width: int | None = None,
        mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
    ) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(False)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self._max_width = max_width
        self._mode = mode

    def setText(self, text: str) -> None:
        super().setText(text)
        self._update_tooltip()
        self.updateGeometry()

    def clear(self) -> None:
        self.setText("")

    def elided(self) -> bool:
        """Whether the text is shown shortened at the current width."""
        return self.fontMetrics().horizontalAdvance(self.text()) > self.contentsRect().width()

    def shown_text(self) -> str:
        """The text as drawn at the current width."""
        return self.fontMetrics().elidedText(self.text(), self._mode, self.contentsRect().width())

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        margins = self.contentsMargins()
        chars = self.fontMetrics().averageCharWidth() * self.MIN_CHARS
        return QSize(min(hint.width(), chars + margins.left() + margins.right()), hint.height())

    def sizeHint(self) -> QSize:
        hint = super().sizeHint()
        if self._max_width is None:
            return hint
        return QSize(min(hint.width(), self._max_width), hint.height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_tooltip()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        self.style().drawItemText(
            painter,
            self.contentsRect(),
            int(self.alignment()),
            self.palette(),
            self.isEnabled(),
            self.shown_text(),
            self.foregroundRole(),
        )

    def _update_tooltip(self) -> None:
        self.setToolTip(texts.plain_tooltip(self.text()) if self.elided() else "")


class BusyBar(QProgressBar):
    """An indeterminate, text-less progress bar: "waiting", shown only while busy."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(0, 0)
        self.setTextVisible(False)
        self.setMaximumHeight(6)
        self.hide()

    def set_busy(self, busy: bool) -> None:
        self.setVisible(busy)


class JobRunner(QObject):
    """The coroutines one dialog runs in the background.

    Each :meth:`start` creates a task on the running loop and keeps a strong
    reference to it until it ends (qasync 0.28 keeps none: research/desktop-stack-
    pitfalls.md §1). :meth:`cancel_all` aborts them (Cancel in a dialog).
    ``busy_changed(bool)`` says when the first one starts and the last one ends.
    A task that fails with an exception nobody handled is logged and passed to
    ``sys.excepthook``; cancellation is not an error.
    """

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def busy(self) -> bool:
        return bool(self._tasks)

    @property
    def tasks(self) -> frozenset[asyncio.Task[Any]]:
        return frozenset(self._tasks)

    def start(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(coro)
        was_busy = self.busy
        self._tasks.add(task)
        task.add_done_callback(self._done)
        if not was_busy:
            self.busy_changed.emit(True)
        return task

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled():
            exc = task.exception()
            if exc is not None:
                _log.error("a dialog's background job failed", exc_info=exc)
                sys.excepthook(type(exc), exc, exc.__traceback__)
        # A task may end after its dialog was destroyed: nobody to tell then.
        if not self._tasks and shiboken6.isValid(self):
            self.busy_changed.emit(False)
