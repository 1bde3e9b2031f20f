"""The failure report is safe to open in a spreadsheet (names come from the server)."""

from __future__ import annotations

import csv
from pathlib import Path

from manuscript_gui.reference_server import ServerHandle
from manuscript_gui.storage import FileOutcome
from tests.core.engine_helpers import export_and_wait, files_of, project, signed_in, store_of
from tests.fixtures_server import Admin

HOSTILE = ['=HYPERLINK("x","y").xlsx', "+1+1.xlsx", "-2.pdf", "@SUM(A1).docx", "正常.pdf"]


async def test_failure_report_cells_never_become_formulas(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    pid = admin.create_project("=报告")  # the local paths start with "=" too
    made = [admin.add_file(pid, ["=cmd"], name, name.encode()) for name in HOSTILE]
    admin.access("demo", "auditor", pid, True)
    for file in made:  # every file fails: purged after the listing pinned it
        admin.purge(file["id"], file["version"])
    async with signed_in(fresh_server.base_url) as service:
        task = await export_and_wait(service, [await project(service, pid)], tmp_path / "out")
        rows = files_of(store_of(service), task.id)
        assert {r.outcome for r in rows} == {FileOutcome.FAILED}
        report = tmp_path / "failures.csv"
        assert await service.failure_report(task.id, report) == len(HOSTILE)
    lines = _read_csv(report)
    cells = [line[key] for line in lines for key in ("path", "remote_path", "message")]
    assert all(not c.startswith(("=", "+", "-", "@")) for c in cells), cells
    # The name is still there to read, after the quote.
    names = sorted(line["remote_path"].rsplit("/", 1)[-1] for line in lines)
    assert names == sorted(HOSTILE)
    assert all(line["path"].startswith("'=报告/") for line in lines)


def _read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))
