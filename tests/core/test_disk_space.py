"""needed_bytes and free_space: real files, links and folders that do not exist yet."""

from __future__ import annotations

import errno
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from manuscript_gui.core.disk_space import free_space, needed_bytes
from manuscript_gui.domain import FileRecord, FileStatus

#: Free space moves while other processes write; two reads of one volume agree within this.
_SLACK = 256 * 1024 * 1024


def _file(file_id: int, local_path: str, size: int) -> FileRecord:
    return FileRecord(
        id=file_id,
        task_id=1,
        remote_id=f"f-{file_id}",
        project_id="p-1",
        remote_path="/" + local_path,
        local_path=local_path,
        version=1,
        size=size,
        sha256="0" * 64,
        content_type=None,
        etag=None,
        status=FileStatus.WAITING,
        outcome=None,
        error_code=None,
        error_message=None,
        attempts=0,
        updated_at=datetime(2025, 1, 1, tzinfo=UTC),
    )


def test_needed_bytes_counts_what_is_not_on_disk_yet(tmp_path: Path) -> None:
    root = tmp_path / "export"
    staging = root / ".manuscript-partial" / "key"
    (root / "D 实质性程序").mkdir(parents=True)
    staging.mkdir(parents=True)
    there = _file(1, "D 实质性程序/there.xlsx", 1000)
    (root / there.local_path).write_bytes(b"x" * 1000)
    other_size = _file(2, "D 实质性程序/other size.xlsx", 1000)
    (root / other_size.local_path).write_bytes(b"x" * 10)
    absent = _file(3, "E 完成阶段/absent.pdf", 700)
    partial = _file(4, "E 完成阶段/partial.pdf", 500)
    (staging / "4.part").write_bytes(b"p" * 200)
    overlong_partial = _file(5, "E 完成阶段/overlong.pdf", 100)
    (staging / "5.part").write_bytes(b"p" * 300)
    linked = _file(6, "D 实质性程序/linked.xlsx", 1000)
    os.symlink(root / there.local_path, root / linked.local_path)  # a link is not ours
    below_a_file = _file(7, "D 实质性程序/there.xlsx/inner.txt", 50)
    files = [there, other_size, absent, partial, overlong_partial, linked, below_a_file]
    assert needed_bytes(root, staging, files) == 1000 + 700 + 300 + 0 + 1000 + 50
    assert needed_bytes(root, staging, []) == 0
    # Nothing exists yet (a first run): every byte is needed.
    fresh = tmp_path / "not yet"
    assert needed_bytes(fresh, fresh / ".manuscript-partial" / "k", files) == sum(
        f.size for f in files
    )


def test_needed_bytes_takes_any_iterable(tmp_path: Path) -> None:
    files = (_file(i, f"f{i}.bin", i) for i in range(1, 101))
    assert needed_bytes(tmp_path, tmp_path / "staging", files) == sum(range(1, 101))


def test_free_space_of_an_existing_folder(tmp_path: Path) -> None:
    assert abs(free_space(tmp_path) - shutil.disk_usage(tmp_path).free) <= _SLACK


@pytest.mark.parametrize(
    "missing", ["a", "a/b/c/底稿导出", "file.txt/below/a/file"], ids=["one", "deep", "below-a-file"]
)
def test_free_space_of_a_folder_not_made_yet_asks_its_nearest_ancestor(
    tmp_path: Path, missing: str
) -> None:
    (tmp_path / "file.txt").write_text("in the way")
    folder = tmp_path / missing
    assert not folder.exists()
    assert abs(free_space(folder) - shutil.disk_usage(tmp_path).free) <= _SLACK
    assert not folder.exists()  # asking creates nothing


def test_free_space_of_another_volume_is_that_volume(tmp_path: Path) -> None:
    other = Path("/dev/shm")
    if not other.is_dir():
        other = Path(tmp_path.anchor)
    assert abs(free_space(other / "no such export" / "x") - shutil.disk_usage(other).free) <= (
        _SLACK
    )


def test_free_space_of_a_relative_folder_starts_at_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert abs(free_space(Path("later/export")) - shutil.disk_usage(tmp_path).free) <= _SLACK


def test_free_space_raises_oserror_when_the_volume_cannot_be_asked(tmp_path: Path) -> None:
    loop = tmp_path / "loop"
    os.symlink(loop, loop)  # a link to itself: ELOOP, not "does not exist"
    with pytest.raises(OSError, match="symbolic links") as info:
        free_space(loop / "export")
    assert info.value.errno == errno.ELOOP
