"""Small ext4 volumes on loop devices, and a power cut: what their disks had at one moment.

Layout (all under the test's ``tmp_path``, all root-only, all undone by :meth:`Volumes.close`)::

    ram/                        tmpfs: holds the outer image and the snapshots
    ram/outer.img               ext4, loop-mounted at outer/ (the "host" file system)
    outer/<scene>-<name>.img    one small ext4 volume, loop-mounted at <scene>/<name>/
    ram/cut-N/<name>.img        a snapshot of one, loop-mounted at <scene>-cut-N/<name>/

:meth:`Volumes.release` undoes one scene (mounts, loop devices, images, snapshots).

**What the disk had.** A loop device turns the block requests of the file
system on it into reads and writes of its image file. What the inner file
system has *not* sent to its device (dirty pages, a journal transaction not
yet committed) is not in the image; what it has sent is, whether or not
anything was synced further down. The volumes are mounted with ``commit=300``
(no periodic journal commit for 5 minutes; the kernel's own writeback of
dirty pages starts after ``vm.dirty_expire_centisecs``, 30 s here, so every
scene keeps its writes and its cut well within that), so the image holds
what the application made durable (``fsync``, ``fdatasync``, SQLite's syncs,
and whatever an ext4 journal commit forced by one of them carried along),
and not much more.

**The cut** (:meth:`Volumes.cut`): the writer is SIGKILLed first; then the
outer file system is frozen (``fsfreeze``: nothing can change any image file
while it is frozen, so the snapshot is one instant, not a torn read), the
images are copied (sparse), the outer file system is thawed, and the copies
are mounted elsewhere: mounting replays each copy's journal, exactly what
the machine does when the power comes back.

**Limits.** Nothing below the loop devices is modelled: the copy is what the
devices *received*, in the order it left the page cache, as a disk with a
write cache that honours flushes would keep it (no torn sectors, no
reordering across a flush). A global ``sync`` by some other process on the
machine during a scene would flush the volumes early; that can only hide a
missing ``fsync`` (the test would pass where it should not), never invent a
loss.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

TOOLS = ("mount", "umount", "losetup", "mkfs.ext4", "fsfreeze", "cp")
MKFS = ["mkfs.ext4", "-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0"]


def _run(argv: list[str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout.strip()


class Volumes:
    """The host file system and the volumes of one test; see the module docstring."""

    def __init__(self, root: Path, *, ram_mb: int = 1024, outer_mb: int = 640) -> None:
        self.root = root
        self._undo: list[tuple[str, str, str]] = []  # (group, "mount" | "loop" | "dir", what)
        self._group = ""
        self._frozen = False
        self._cuts = 0
        missing = [tool for tool in TOOLS if shutil.which(tool) is None]
        if os.geteuid() != 0:
            pytest.fail(
                "the power-loss test mounts loop devices and must run as root "
                f"(euid {os.geteuid()}); CI runs as root"
            )
        if missing:
            pytest.fail(
                f"the power-loss test needs {', '.join(missing)} "
                "(Debian: e2fsprogs, mount, util-linux, coreutils)"
            )
        self.ram = self._mount_tmpfs(root / "ram", ram_mb)
        image = self.ram / "outer.img"
        self.outer = self._mount_image(image, root / "outer", outer_mb, "noatime")

    # -- building -----------------------------------------------------------------

    def _mount_tmpfs(self, point: Path, size_mb: int) -> Path:
        point.mkdir(parents=True)
        try:
            _run(["mount", "-t", "tmpfs", "-o", f"size={size_mb}m", "tmpfs", str(point)])
        except RuntimeError as exc:
            pytest.fail(f"cannot mount a tmpfs for the power-loss test: {exc}")
        self._undo.append((self._group, "mount", str(point)))
        return point

    def _attach(self, image: Path) -> str:
        try:
            device = _run(["losetup", "--find", "--show", str(image)])
        except RuntimeError as exc:
            pytest.fail(
                f"no loop device for {image} ({exc}); the power-loss test needs "
                "/dev/loop-control (or free /dev/loopN devices) and root"
            )
        self._undo.append((self._group, "loop", device))
        return device

    def _mount_image(self, image: Path, point: Path, size_mb: int | None, options: str) -> Path:
        if size_mb is not None:
            with open(image, "wb") as f:
                f.truncate(size_mb * 1024 * 1024)
            _run([*MKFS, str(image)])
        device = self._attach(image)
        point.mkdir(parents=True)
        try:
            _run(["mount", "-t", "ext4", "-o", options, device, str(point)])
        except RuntimeError as exc:
            pytest.fail(f"cannot mount {image} ({device}) at {point}: {exc}")
        self._undo.append((self._group, "mount", str(point)))
        return point

    def volume(self, scene: str, name: str, size_mb: int = 96) -> Path:
        """A fresh ext4 volume ``<scene>/<name>``: a journal commit only when something syncs."""
        image = self.outer / f"{scene}-{name}.img"
        self._group = scene
        try:
            return self._mount_image(
                image, self.root / scene / name, size_mb, "commit=300,noinit_itable"
            )
        finally:
            self._group = ""

    # -- the cut ------------------------------------------------------------------

    def cut(self, scene: str, names: tuple[str, ...]) -> dict[str, Path]:
        """What the volumes' disks had now, mounted elsewhere (journal replayed): name -> path.

        Call it only when nothing writes to the volumes any more (the writer
        was SIGKILLed): the snapshot is then exactly what a power cut leaves.
        """
        self._cuts += 1
        folder = self.ram / f"cut-{self._cuts}"
        folder.mkdir()
        self._undo.append((scene, "dir", str(folder)))
        _run(["fsfreeze", "--freeze", str(self.outer)])
        self._frozen = True
        try:
            for name in names:
                source = self.outer / f"{scene}-{name}.img"
                _run(["cp", "--sparse=always", str(source), str(folder / f"{name}.img")])
        finally:
            _run(["fsfreeze", "--unfreeze", str(self.outer)])
            self._frozen = False
        self._group = scene
        try:
            return {
                name: self._mount_image(
                    folder / f"{name}.img",
                    self.root / f"{scene}-cut-{self._cuts}" / name,
                    None,
                    "rw",
                )
                for name in names
            }
        finally:
            self._group = ""

    # -- undoing ------------------------------------------------------------------

    def release(self, scene: str) -> None:
        """Unmount a scene's volumes and snapshots, free their loop devices and images."""
        self._undo_where(lambda group: group == scene)
        for image in self.outer.glob(f"{scene}-*.img"):
            image.unlink()

    def close(self) -> None:
        """Unmount everything and free every loop device (also after a failure)."""
        if self._frozen:
            subprocess.run(["fsfreeze", "--unfreeze", str(self.outer)], check=False)
        self._undo_where(lambda group: True)

    def _undo_where(self, chosen: Callable[[str], bool]) -> None:
        keep: list[tuple[str, str, str]] = []
        for group, kind, what in reversed(self._undo):
            if not chosen(group):
                keep.append((group, kind, what))
            elif kind == "mount":
                subprocess.run(["umount", what], capture_output=True, check=False)
                if os.path.ismount(what):
                    subprocess.run(["umount", "-l", what], capture_output=True, check=False)
            elif kind == "loop":
                subprocess.run(["losetup", "-d", what], capture_output=True, check=False)
            else:
                shutil.rmtree(what, ignore_errors=True)
        self._undo = keep[::-1]
