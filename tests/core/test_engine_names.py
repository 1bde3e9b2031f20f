"""Hostile remote names: every file lands inside the export folder, distinct, byte-exact."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

from manuscript_gui.core.listing import SelectionItem
from manuscript_gui.core.task_manager import STAGING_DIR
from manuscript_gui.reference_server import ServerHandle
from manuscript_gui.storage import FileOutcome
from tests.core.engine_helpers import (
    all_paths_inside,
    assert_completed,
    check_on_disk,
    export_and_wait,
    files_of,
    remote_files,
    signed_in,
    store_of,
)
from tests.fixtures_server import Admin

HOSTILE_FILES: list[tuple[list[str], str]] = [
    ([], ".."),
    ([], "."),
    ([], "a/b.txt"),
    ([], "..\\..\\evil.txt"),
    ([], "/etc/passwd"),
    ([], "../../escape.txt"),
    ([], "C:evil.txt"),
    ([], "CON"),
    ([], "con"),
    ([], "nul.txt"),
    ([], "COM1.tar.gz"),
    ([], "LPT9 .doc"),
    ([], "trailing dots..."),
    ([], "trailing space   "),
    ([], "   leading space.txt"),
    ([], "x" * 300),
    ([], "长" * 100 + ".pdf"),
    ([], "Report.pdf"),
    ([], "report.PDF"),
    ([], "REPORT.pdf"),
    ([], "report (2).pdf"),
    ([], "ctrl\x01\x07\x1f\x7f.txt"),
    ([], "tab\tnew\nline\r.txt"),
    ([], 'wild<>:"|?*.txt'),
    ([], "e\u0301.txt"),  # é decomposed (as macOS writes it)...
    ([], "\u00e9.txt"),  # ...and composed: one name on a case-insensitive disk
    ([], "\u00c9.TXT"),
    ([".."], "up.txt"),
    (["..", ".."], "up2.txt"),
    (["."], "dot.txt"),
    (["a/b"], "slash-folder.txt"),
    (["a", "b"], "slash-folder.txt"),
    (["..\\.."], "backslash-folder.txt"),
    (["CON"], "in-con.txt"),
    (["aux.d"], "in-aux.txt"),
    (["dir. "], "dotspace.txt"),
    (["dir"], "dotspace.txt"),
    (["Dir"], "same.txt"),
    (["dir"], "same.txt"),
    (["DIR"], "Same.TXT"),
    (["ctl\x1bfolder\x00"], "x.txt"),
    (["长" * 100], "deep.txt"),
    (["x" * 300, "y" * 300], "deeper.txt"),
    ([STAGING_DIR, "1"], "1.part"),
]

_RESERVED = re.compile(r"^(CON|PRN|AUX|NUL|COM[1-9¹²³]|LPT[1-9¹²³]|CONIN\$|CONOUT\$)$", re.I)


def _check_segment(segment: str, path: str) -> None:
    assert segment not in ("", ".", ".."), path
    assert not re.search(r'[\x00-\x1f\x7f<>:"/\\|?*]', segment), path
    assert segment == segment.rstrip(" .") == segment.lstrip(" "), path
    assert len(segment.encode("utf-8")) <= 255, path
    assert not _RESERVED.match(segment.split(".", 1)[0].rstrip(" ")), path
    assert unicodedata.normalize("NFC", segment) == segment, path


async def test_hostile_names_stay_inside_distinct_and_byte_exact(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    base = fresh_server.base_url
    pid = admin.create_project("../恶意:项目 <CON>. ")
    spoof = admin.create_project(STAGING_DIR)  # a project named like the staging folder
    for n, (folders, name) in enumerate(HOSTILE_FILES):
        content = f"{n}:{folders}:{name}".encode("utf-8", "surrogatepass") * (n + 1)
        admin.add_file(pid, folders, name, content)
    for n in range(1, 6):  # what the first task's first partials would be called
        admin.add_file(spoof, ["1"], f"{n}.part", f"spoof {n}".encode() * 100)
    for project_id in (pid, spoof):
        admin.access("demo", "auditor", project_id, True)
        admin.access("wangwu", "qc", project_id, True)  # remote_files lists as wangwu
    remote = await remote_files(base, pid) | await remote_files(base, spoof)
    assert len(remote) == len(HOSTILE_FILES) + 5

    out = tmp_path / "out"
    async with signed_in(base) as service:
        assert service.user is not None
        names = {p.id: p.name async for p in service.user.client.iter_projects()}
        items = [SelectionItem(pid, names[pid]), SelectionItem(spoof, names[spoof])]
        task = await export_and_wait(service, items, out)

        assert_completed(task)
        store = store_of(service)
        rows = files_of(store, task.id)
        failed = [(r.remote_path, r.error_message) for r in rows if r.outcome is FileOutcome.FAILED]
        assert not failed
        assert sorted(r.remote_id for r in rows) == sorted(remote)
        assert check_on_disk(store, task) == len(remote)

        # Inside the export folder, each under its own safe and distinct name.
        all_paths_inside(out, rows)
        keys = {unicodedata.normalize("NFC", r.local_path).casefold() for r in rows}
        assert len(keys) == len(rows)
        for row in rows:
            for segment in row.local_path.split("/"):
                _check_segment(segment, row.local_path)
            assert not row.local_path.casefold().startswith(STAGING_DIR + "/")

        # What is on disk is exactly the export: nothing outside, nothing extra.
        assert sorted(os.listdir(tmp_path)) == ["app-home", "fresh-server", "out"]
        on_disk = {
            p.relative_to(out).as_posix()
            for p in out.rglob("*")
            if p.is_file() and not p.relative_to(out).as_posix().startswith(STAGING_DIR + "/")
        }
        assert on_disk == {r.local_path for r in rows}
        for row in rows:
            # The name on disk is the planned one, not something the OS changed.
            assert row.local_path.rsplit("/", 1)[-1] in os.listdir((out / row.local_path).parent)

        # Deleting the task clears its staging data only: every exported file
        # stays, including those of the project named like the staging folder.
        await service.delete(task.id)
        assert all((out / r.local_path).is_file() for r in rows)
