"""Durable, non-clobbering file operations (core/fsutil.py; issue #6 items 2 and 11)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from manuscript_gui.core import fsutil
from manuscript_gui.core.fsutil import DirSync, make_dirs, rename_noreplace, sync_all


def test_rename_never_replaces_a_file(tmp_path: Path) -> None:
    src, dst = tmp_path / "a.part", tmp_path / "a.pdf"
    src.write_bytes(b"mine")
    dst.write_bytes(b"someone else's")
    with pytest.raises(FileExistsError):
        rename_noreplace(src, dst)
    assert dst.read_bytes() == b"someone else's"
    assert src.read_bytes() == b"mine"
    free = tmp_path / "a (2).pdf"
    rename_noreplace(src, free)
    assert free.read_bytes() == b"mine"
    assert not src.exists()


def test_a_folder_or_a_link_at_the_target_is_not_replaced_either(tmp_path: Path) -> None:
    src = tmp_path / "x.part"
    src.write_bytes(b"x")
    (tmp_path / "dir").mkdir()
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling")
    for taken in ("dir", "dangling"):
        with pytest.raises(FileExistsError):
            rename_noreplace(src, tmp_path / taken)
    assert src.exists()


@pytest.mark.parametrize("fallback", ["link", "check-then-rename"])
def test_fallbacks_keep_the_promise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fallback: str
) -> None:
    """Where renameat2 is refused (some network file systems), link + unlink; where hard
    links are refused too (FAT, exFAT), a check before the rename."""
    monkeypatch.setattr(fsutil, "_call_libc", lambda *a: False)
    if fallback == "check-then-rename":

        def no_links(src: object, dst: object) -> None:
            raise OSError(errno.EPERM, "Operation not permitted")

        monkeypatch.setattr(os, "link", no_links)
    src, dst = tmp_path / "a.part", tmp_path / "a.pdf"
    src.write_bytes(b"mine")
    dst.write_bytes(b"theirs")
    with pytest.raises(FileExistsError):
        rename_noreplace(src, dst)
    assert dst.read_bytes() == b"theirs"
    dst.unlink()
    rename_noreplace(src, dst)
    assert dst.read_bytes() == b"mine"
    assert not src.exists()


def test_make_dirs_reports_the_folders_whose_entries_changed(tmp_path: Path) -> None:
    root = tmp_path / "out"
    root.mkdir()
    (root / "a").mkdir()
    touched = make_dirs(root / "a" / "b" / "c", root)
    assert (root / "a" / "b" / "c").is_dir()
    # b was created in a, c in b: those two folders gained an entry.
    assert touched == [root / "a", root / "a" / "b"]
    assert make_dirs(root / "a" / "b" / "c", root) == []


def test_make_dirs_refuses_a_file_in_the_way(tmp_path: Path) -> None:
    root = tmp_path / "out"
    root.mkdir()
    (root / "js").write_bytes(b"a file")
    with pytest.raises(FileExistsError) as caught:
        make_dirs(root / "js" / "lib", root)
    assert caught.value.filename == str(root / "js")


def test_folder_syncs_are_collected_once_each(tmp_path: Path) -> None:
    pending = DirSync()
    pending.add([tmp_path, tmp_path / "gone", tmp_path])
    assert len(pending) == 2
    folders = pending.take()
    assert len(pending) == 0
    sync_all(folders)  # a folder that vanished is skipped, the rest is synced


def test_on_linux_the_kernel_does_it_in_one_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """renameat2(RENAME_NOREPLACE): atomic, no link/unlink window (this CI runs Linux)."""

    def no_fallback(*args: object) -> None:
        raise AssertionError("renameat2 was not used")

    monkeypatch.setattr(os, "link", no_fallback)
    monkeypatch.setattr(os, "rename", no_fallback)
    src, dst = tmp_path / "a.part", tmp_path / "a.pdf"
    src.write_bytes(b"mine")
    rename_noreplace(src, dst)
    assert dst.read_bytes() == b"mine"
