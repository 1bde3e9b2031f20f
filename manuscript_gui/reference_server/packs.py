"""Append-only pack files that hold every version's bytes.

A version is ``(pack, offset, size)`` in one of a few large files. With 100k
small files this avoids 100k inodes and 100k ``open()`` calls per export, and
lets the server answer with ``sendfile(pack_fd, offset, count)``: the bytes go
from the page cache to the socket without entering Python.

Packs are grouped by prefix: ``demo-NNNN.pack`` holds generated demo content
and is thrown away when the demo is regenerated; ``data-NNNN.pack`` holds what
the admin endpoints published, and survives regeneration.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

#: Packs roll over past this size; a blob never straddles two packs.
MAX_PACK_BYTES = 1 << 30

_NAME = re.compile(r"^(?P<prefix>[a-z]+)-(?P<n>\d{4,})\.pack$")


class PackStore:
    """The directory of pack files, plus one cached read descriptor per pack.

    Read descriptors are shared by all concurrent downloads. That is safe
    because every read names its offset (``sendfile``/``pread``) instead of
    using the file position.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._readers: dict[str, io.FileIO] = {}

    def path(self, pack: str) -> Path:
        if not _NAME.match(pack):
            raise ValueError(f"not a pack name: {pack!r}")
        return self.root / pack

    def reader(self, pack: str) -> io.FileIO:
        """An unbuffered read-only file object for ``pack`` (opened once, then cached)."""
        f = self._readers.get(pack)
        if f is None:
            f = io.FileIO(self.path(pack), "rb")
            self._readers[pack] = f
        return f

    def read(self, pack: str, offset: int, size: int) -> bytes:
        """Read a whole blob (admin and test paths; downloads stream instead)."""
        fd = self.reader(pack).fileno()
        parts: list[bytes] = []
        while size > 0:
            chunk = os.pread(fd, min(size, 1 << 24), offset)
            if not chunk:
                raise OSError(f"pack {pack} is truncated at offset {offset}")
            parts.append(chunk)
            offset += len(chunk)
            size -= len(chunk)
        return b"".join(parts)

    def packs(self, prefix: str) -> list[str]:
        names = (p.name for p in self.root.iterdir())
        return sorted(n for n in names if _NAME.match(n) and n.startswith(prefix + "-"))

    def remove_prefix(self, prefix: str) -> None:
        """Delete every pack of ``prefix`` (demo regeneration)."""
        for name in self.packs(prefix):
            f = self._readers.pop(name, None)
            if f is not None:
                f.close()
            (self.root / name).unlink()

    def writer(self, prefix: str, *, buffer_size: int = 1 << 20) -> PackWriter:
        return PackWriter(self, prefix, buffer_size=buffer_size)

    def close(self) -> None:
        for f in self._readers.values():
            f.close()
        self._readers.clear()


class PackWriter:
    """Appends blobs to the newest pack of one prefix, opening a new pack when full.

    Call :meth:`flush` before anyone reads what was appended (the readers use
    their own descriptors, so buffered bytes are invisible to them).
    """

    def __init__(self, store: PackStore, prefix: str, *, buffer_size: int) -> None:
        self._store = store
        self._prefix = prefix
        self._buffer_size = buffer_size
        existing = store.packs(prefix)
        if existing:
            last = existing[-1]
            m = _NAME.match(last)
            assert m is not None
            self._n = int(m["n"])
        else:
            self._n = 0
        self._file: BinaryIO | None = None
        self._name = ""
        self._offset = 0

    def _open(self, size_needed: int) -> None:
        if self._file is not None and self._offset + size_needed <= MAX_PACK_BYTES:
            return
        if self._file is not None:
            self._file.close()
            self._n += 1
        while True:
            name = f"{self._prefix}-{self._n:04d}.pack"
            path = self._store.root / name
            size = path.stat().st_size if path.exists() else 0
            if size == 0 or size + size_needed <= MAX_PACK_BYTES:
                break
            self._n += 1
        self._name = name
        self._file = open(path, "ab", buffering=self._buffer_size)  # noqa: SIM115
        self._offset = size

    def append(self, data: bytes | memoryview) -> tuple[str, int]:
        """Append one blob; return where it landed as ``(pack, offset)``."""
        return self.append_chunks((data,), len(data))

    def append_chunks(self, chunks: Iterable[bytes | memoryview], size: int) -> tuple[str, int]:
        """Append a blob given as chunks (big files never sit in memory whole)."""
        self._open(size)
        assert self._file is not None
        where = (self._name, self._offset)
        written = 0
        for chunk in chunks:
            self._file.write(chunk)
            written += len(chunk)
        if written != size:
            raise ValueError(f"blob announced {size} bytes but had {written}")
        self._offset += size
        return where

    def flush(self) -> None:
        if self._file is not None:
            self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
