"""Room on the export volume: what a task still needs, and what is free (blocking).

Shared by the engine's check before a run (``task_manager.py``: *disk full*
before any byte moves, rather than at 97 %) and the reads a window shows next
to a task (``services/reads.py``), so both count the same bytes.
"""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Iterable
from pathlib import Path

from manuscript_gui.domain import FileRecord

__all__ = ["free_space", "needed_bytes"]


def needed_bytes(root: Path, staging: Path, files: Iterable[FileRecord]) -> int:
    """Bytes these open files still need on the export volume.

    Nothing for a file whose target is already there as a regular file with
    its size (most likely up to date: the run checks its sha256 without
    downloading); for the others, the size minus what their partial
    ``<staging>/<file id>.part`` already holds. One ``lstat`` or two per file,
    no hashing: run it off the event loop.

    Args:
        root: the task's export folder as the engine opens it
            (``task_manager.io_path``).
        staging: the task's staging folder (``task_manager.staging_dir``).
        files: open file rows (waiting or paused); completed rows are the
            caller's to leave out.

    Returns:
        Bytes, 0 or more.
    """
    # Plain strings, not Path objects: at 100k files pathlib's parsing cost more than
    # the lstat calls themselves. "/" in stored paths becomes the platform's separator
    # (an extended-length Windows path takes no "/").
    sep = os.sep
    target_prefix = os.path.join(os.fspath(root), "")
    staging_prefix = os.path.join(os.fspath(staging), "")
    need = 0
    for file in files:
        try:
            st = os.lstat(target_prefix + file.local_path.replace("/", sep))
            if stat.S_ISREG(st.st_mode) and st.st_size == file.size:
                continue
        except (FileNotFoundError, NotADirectoryError):
            pass
        try:
            staged = os.lstat(f"{staging_prefix}{file.id}.part").st_size
        except (FileNotFoundError, NotADirectoryError):
            staged = 0
        need += file.size - min(staged, file.size)
    return need


def free_space(path: Path) -> int:
    """Bytes free for this user on the volume that holds (or will hold) *path*.

    *path* need not exist yet (an export folder is created by its first run):
    the nearest existing ancestor is asked, so the answer is the volume the
    folder will be created on. A relative *path* is taken from the current
    folder.

    Raises:
        OSError: the volume cannot be asked (no permission to look, an I/O
            error); never for a path that merely does not exist yet.
    """
    folder = Path(os.path.abspath(path))
    while True:
        try:
            return shutil.disk_usage(folder).free
        except (FileNotFoundError, NotADirectoryError):
            parent = folder.parent
            if parent == folder:
                raise
            folder = parent
