"""Durable, non-clobbering file operations for the export folder (blocking: run in threads).

A row may say *succeeded* only once the file is durable where the user will
look for it: its bytes fsynced, its rename done, and the rename itself (an
entry in its folder) and every folder created on its way fsynced too. Folder
fsyncs are batched: :class:`DirSync` collects the folders a batch of files
touched and syncs each once, just before the commit that records the batch.

Renames never replace: two writers (two identities, two PCs on one network
share) can plan the same final path, and ``os.replace`` would silently put one
writer's bytes over the other's. :func:`rename_noreplace` fails with
:class:`FileExistsError` instead, atomically where the platform can:

- Linux: ``renameat2(RENAME_NOREPLACE)``; where the file system refuses it
  (some network and FUSE file systems), ``link`` + ``unlink``, which is just
  as exclusive;
- macOS: ``renamex_np(RENAME_EXCL)``;
- Windows: ``MoveFileExW`` without ``MOVEFILE_REPLACE_EXISTING`` and with
  ``MOVEFILE_WRITE_THROUGH``, so the rename is on disk when it returns
  (Windows cannot fsync a folder);
- anything else, and file systems with no hard links (FAT, exFAT: USB drives):
  a check for the target, then a rename. Not atomic against a second writer
  racing in that instant; documented in docs/engine.md.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import stat
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["DirSync", "fsync_dir", "fsync_file", "make_dirs", "rename_noreplace", "sync_all"]

_RENAME_NOREPLACE = 1  # linux/fs.h
_RENAME_EXCL = 0x00000004  # macOS sys/stdio.h
_AT_FDCWD = -100
_MOVEFILE_WRITE_THROUGH = 0x8

_libc: Any = None
if sys.platform.startswith("linux") or sys.platform == "darwin":
    with contextlib.suppress(OSError):
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def fsync_file(path: Path) -> None:
    """fsync a file by path (its bytes and its inode)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """fsync a folder, making the entries created, renamed or removed in it durable.

    A no-op on Windows, where folders cannot be opened for fsync (renames there
    are write-through instead, see :func:`rename_noreplace`).
    """
    if os.name == "nt":
        return
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        # Some file systems (a few network and FUSE ones) cannot fsync a
        # folder; they give no stronger promise we could ask for instead.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def make_dirs(folder: Path, stop: Path, *, follow_links: bool = False) -> list[Path]:
    """``mkdir -p`` *folder* (which lies inside *stop*); returns the folders whose entries
    changed (the parent of each folder created, or found just created by another writer),
    for :class:`DirSync`.

    Links are never followed unless *follow_links* (the export folder itself, which
    the user chose, may be one): a file or a link where a folder must be raises
    :class:`FileExistsError` naming it, so nothing is ever written through a link
    someone planted inside the export folder.
    """
    missing: list[Path] = []
    current = folder
    while current != stop:
        try:
            st = os.stat(current) if follow_links else os.lstat(current)
        except (FileNotFoundError, NotADirectoryError):  # (a file further up: found next)
            missing.append(current)
            if current.parent == current:
                break
            current = current.parent
            continue
        if not stat.S_ISDIR(st.st_mode):
            raise _blocked(current)
        break
    touched: list[Path] = []
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                raise _blocked(path) from None
            # Another writer made it a moment ago: its entry must be durable before
            # our commit too, so the parent is synced all the same.
        touched.append(path.parent)
    return touched


def _blocked(path: Path) -> FileExistsError:
    return FileExistsError(errno.EEXIST, "a file or link stands where a folder must be", str(path))


def rename_noreplace(src: Path, dst: Path) -> None:
    """Rename *src* to *dst*; :class:`FileExistsError` if *dst* exists (never replaced).

    See the module docstring for how each platform does it atomically.
    """
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        _move_file_ex(src, dst)
        return
    if _libc is not None and sys.platform.startswith("linux"):
        if _call_libc("renameat2", _AT_FDCWD, src, _AT_FDCWD, dst, _RENAME_NOREPLACE):
            return
    elif _libc is not None and sys.platform == "darwin":  # pragma: no cover - macOS only
        if _call_libc("renamex_np", src, dst, _RENAME_EXCL):
            return
    try:
        os.link(src, dst)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        # No hard links here (FAT/exFAT): check, then rename (see module docstring).
        if os.path.lexists(dst):
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(dst)) from None
        os.rename(src, dst)
        return
    os.unlink(src)


def _call_libc(name: str, *args: object) -> bool:
    """Call a libc rename variant; ``True`` when it renamed, ``False`` when the call or the
    file system does not support it (the caller falls back), otherwise raise the OSError."""
    func = getattr(_libc, name, None)
    if func is None:
        return False
    encoded = [os.fsencode(a) if isinstance(a, Path) else a for a in args]
    if func(*encoded) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(args[-2] if name == "renameat2" else args[1]))


def _move_file_ex(src: Path, dst: Path) -> None:  # pragma: no cover - Windows only
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
    move = kernel32.MoveFileExW
    move.argtypes = [ctypes.c_wchar_p, ctypes.c_wchar_p, ctypes.c_uint32]
    move.restype = ctypes.c_int
    if not move(str(src), str(dst), _MOVEFILE_WRITE_THROUGH):
        code = ctypes.get_last_error()  # type: ignore[attr-defined]
        if code in (80, 183):  # ERROR_FILE_EXISTS, ERROR_ALREADY_EXISTS
            raise FileExistsError(errno.EEXIST, "file exists", str(dst))
        raise ctypes.WinError(code)  # type: ignore[attr-defined]


class DirSync:
    """Folders whose entries changed since the last :meth:`sync` (one fsync each)."""

    def __init__(self) -> None:
        self._pending: set[Path] = set()

    def add(self, folders: Iterable[Path]) -> None:
        self._pending.update(folders)

    def take(self) -> list[Path]:
        """The pending folders, forgotten here (call :func:`sync_all` on them)."""
        pending, self._pending = sorted(self._pending), set()
        return pending

    def __len__(self) -> int:
        return len(self._pending)


def sync_all(folders: Iterable[Path]) -> None:
    """fsync every folder (a folder that is gone is skipped: nothing in it to keep)."""
    for folder in folders:
        with contextlib.suppress(FileNotFoundError):
            fsync_dir(folder)
