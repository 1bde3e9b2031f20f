"""The window's item models: plain snapshots in, Qt's model/view API out.

- :mod:`.task_table`: :class:`TaskTableModel`, the task list (all tasks of the
  signed-in identity, queue order, live figures of the running one).
- :mod:`.file_table`: :class:`FileTableModel`, the detail pane's files of one
  task, loaded a page at a time from an async page source.

Neither model does I/O of its own: the window feeds them from the service's
calls and events (``ui/bridge.py``). Texts come from ``ui/texts.py``.
"""

from manuscript_gui.ui.models.file_table import FileTableModel
from manuscript_gui.ui.models.task_table import TaskTableModel

__all__ = ["FileTableModel", "TaskTableModel"]
