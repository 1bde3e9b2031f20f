"""A widget created but never put into a layout sits at (0, 0) over its siblings.

:func:`unplaced_widgets` finds them: every visible widget whose parent manages
its children with a layout must be in that layout (or one of its nested
layouts). Widgets Qt places itself (a splitter's panes, a scroll area's
viewport) have parents without a layout and are not judged.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLayout, QWidget


def _in_layout(layout: QLayout, widget: QWidget) -> bool:
    if layout.menuBar() is widget:  # a main window's menu bar
        return True
    for i in range(layout.count()):
        item = layout.itemAt(i)
        if item is None:
            continue
        if item.widget() is widget:
            return True
        inner = item.layout()
        if inner is not None and _in_layout(inner, widget):
            return True
    return False


def unplaced_widgets(top: QWidget) -> list[str]:
    """Visible descendants of *top* that their parent's layout does not hold."""
    found = []
    for widget in top.findChildren(QWidget):
        parent = widget.parentWidget()
        if not widget.isVisible() or widget.isWindow() or parent is None:
            continue
        layout = parent.layout()
        if layout is None or _in_layout(layout, widget):
            continue
        name = widget.objectName() or type(widget).__name__
        text = getattr(widget, "text", None)
        label = text() if callable(text) else ""
        found.append(f"{name} {label!r} in {parent.objectName() or type(parent).__name__}")
    return found
