"""Item delegates and view settings shared by the window's tables.

- :class:`ProgressBarDelegate` draws a progress bar from a model's percent
  role (:data:`~manuscript_gui.ui.models.task_table.ProgressRole`: a ``float``
  0–100, ``None`` for no bar) with the cell's display text on it, in the
  platform's own style.
- :func:`use_fixed_row_height` gives a table view fixed row heights: Qt then
  never measures rows from their contents, which at 100k rows is the
  difference between an instant view and a minute of ``data()`` calls
  (research: desktop-stack-pitfalls §2).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QApplication,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
)

from manuscript_gui.ui.models.task_table import ProgressRole

__all__ = ["ProgressBarDelegate", "use_fixed_row_height"]

_STEPS = 1000  # bar resolution: 0.1 %
_MARGIN = 2  # pixels between the bar and the cell's edges


class ProgressBarDelegate(QStyledItemDelegate):
    """Paints a cell as a progress bar (the percent in *role*, the display text on it).

    A cell whose *role* holds ``None`` is painted as a plain item (its text,
    if any). Selection and focus backgrounds are the view's usual ones.
    """

    def __init__(self, parent: QObject | None = None, *, role: int = ProgressRole) -> None:
        super().__init__(parent)
        self._role = role

    @property
    def role(self) -> int:
        return self._role

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        percent = index.data(self._role)
        if not isinstance(percent, int | float):
            super().paint(painter, option, index)
            return
        item = QStyleOptionViewItem(option)
        self.initStyleOption(item, index)
        widget = item.widget
        style = widget.style() if widget is not None else QApplication.style()
        # The cell's background (selection, alternate rows) without its text.
        item.text = ""
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, item, painter, widget)

        bar = QStyleOptionProgressBar()
        if widget is not None:
            bar.initFrom(widget)
        # Horizontal: without this state flag Fusion fills the bar from the bottom.
        bar.state = item.state | QStyle.StateFlag.State_Horizontal
        bar.direction = item.direction
        bar.fontMetrics = item.fontMetrics
        bar.palette = item.palette
        bar.rect = item.rect.adjusted(_MARGIN, _MARGIN, -_MARGIN, -_MARGIN)
        bar.minimum = 0
        bar.maximum = _STEPS
        bar.progress = round(max(0.0, min(100.0, float(percent))) * _STEPS / 100)
        text = index.data(Qt.ItemDataRole.DisplayRole)
        bar.text = text if isinstance(text, str) else ""
        bar.textVisible = bool(bar.text)
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, widget)


def use_fixed_row_height(view: QTableView, height: int | None = None) -> None:
    """Make *view*'s rows one fixed height (*height* px; default: the font's line + padding).

    Rows are never measured from their contents (no ``sizeHint`` per row),
    so a view over a 100k-row or paged model lays out in constant time.
    """
    header = view.verticalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    if height is None:
        height = view.fontMetrics().height() + 8
    header.setDefaultSectionSize(height)
    header.setMinimumSectionSize(min(header.minimumSectionSize(), height))
