"""What the window's two tables share: a flat list of rows under fixed columns.

:class:`FlatTableModel` answers Qt's shape questions (rows, columns, flags,
the translated header labels and the alignment of numeric columns) from three
class attributes, so the task table and the file table only say what their
cells hold.
"""

from __future__ import annotations

from typing import Any, ClassVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

__all__ = ["FlatTableModel"]


class FlatTableModel(QAbstractTableModel):
    """A table without children whose rows are selectable and read-only.

    Subclasses set :attr:`CONTEXT` (the translation context of the header
    labels), :attr:`HEADERS` (the labels, marked with ``QT_TRANSLATE_NOOP``
    in that context, one per column) and :attr:`NUMERIC` (columns aligned to
    the right), and implement :meth:`row_total`.
    """

    CONTEXT: ClassVar[str]
    HEADERS: ClassVar[tuple[str, ...]]
    NUMERIC: ClassVar[frozenset[int]] = frozenset()

    def row_total(self) -> int:
        """How many rows the model holds now."""
        raise NotImplementedError

    def alignment(self, col: int) -> int:
        """Numbers to the right, text to the left, both centred vertically."""
        horizontal = (
            Qt.AlignmentFlag.AlignRight if col in self.NUMERIC else Qt.AlignmentFlag.AlignLeft
        )
        return int(horizontal | Qt.AlignmentFlag.AlignVCenter)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self.row_total()

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return QCoreApplication.translate(self.CONTEXT, self.HEADERS[section])
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.alignment(section)
        return None
