#!/usr/bin/env python3
"""Read benchmark: a window's file list on a 100k-file task (``services/reads.py``).

Builds a real SQLite database (the app's schema, through ``ExportStore``) with
one task of ``--files`` files: a third succeeded, one in fifty failed, the rest
waiting, eight of them "in flight". Then times, over ``--runs`` runs after one
warm-up, the calls a window makes:

- the first page (``--limit`` rows) of every filter (all, waiting, in progress,
  succeeded, failed), and a page deep in the task (after 90 % of the ids);
- the first page with a text filter: a common text (most rows match, the page
  fills at once), a rare one (one row: the whole task is scanned) and one
  that matches nothing (a whole scan, an empty page), each with the *all* and
  the *waiting* filter;
- ``file_counts`` (no query) and ``bytes_needed`` (one query per 1000 open
  rows and an ``lstat`` per open file; nothing is on disk here).

Prints the median, min and max in milliseconds and the rows returned. It is a
script, not a test: nothing asserts a time.

Usage::

    .venv/bin/python benchmarks/bench_reads.py              # 100k files, 15 runs
    .venv/bin/python benchmarks/bench_reads.py --files 20000 --runs 5
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from manuscript_gui.domain import (  # noqa: E402
    FileError,
    FileOutcome,
    FileStatus,
    NewFile,
    TaskStatus,
)
from manuscript_gui.services import reads  # noqa: E402
from manuscript_gui.services.reads import FileFilter  # noqa: E402
from manuscript_gui.storage import ExportStore  # noqa: E402

FOLDERS = (
    "A 业务承接",
    "B 风险评估/B2 了解被审计单位及其环境",
    "C 控制测试/C1 销售与收款循环",
    "D 实质性程序/D1 货币资金",
    "D 实质性程序/D3 应收账款/D3-5 询证函回函",
    "D 实质性程序/D9 凭证抽查/2025年06月",
    "E 完成阶段",
)
RARE = "D-77777 特殊底稿"
COMMON = "审定表"
ABSENT = "不存在的名字"


def _files(count: int) -> Iterator[NewFile]:
    for i in range(count):
        folder = FOLDERS[i % len(FOLDERS)]
        name = f"{RARE}.xlsx" if i == 77_777 % count else f"D-{i} 货币资金审定表.xlsx"
        if i % 9 == 4:
            name = f"D-{i} 银行询证函回函.pdf"
        yield NewFile(
            remote_id=f"file-{i}",
            project_id="prj-6",
            remote_path=f"/{folder}/{name}",
            local_path=f"{folder}/{name}",
            version=1,
            size=1000 + i % 50_000,
            sha256=hashlib.sha256(str(i).encode()).hexdigest(),
        )


def build(path: Path, count: int) -> tuple[int, frozenset[int], int]:
    """The database: (task id, ids in flight, an id after 90 % of the rows)."""
    started = time.perf_counter()
    with ExportStore.open(path) as store:
        task = store.create_task(
            "某某控股集团", "/nonexistent/导出", {"items": []}, status=TaskStatus.WAITING
        )
        store.insert_files(task.id, _files(count))
        changed = []
        rows = list(store.iter_files(task.id))
        for i, row in enumerate(rows):
            if i % 3 == 0:
                changed.append(
                    dataclasses.replace(
                        row, status=FileStatus.COMPLETED, outcome=FileOutcome.SUCCEEDED
                    )
                )
            elif i % 50 == 1:
                changed.append(
                    dataclasses.replace(
                        row,
                        status=FileStatus.COMPLETED,
                        outcome=FileOutcome.FAILED,
                        error_code=FileError.NETWORK_ERROR.value,
                        error_message="connection reset",
                        attempts=6,
                    )
                )
        store.update_files(task.id, changed)
        done = {r.id for r in changed}
        open_ids = [r.id for r in rows if r.id not in done]
        in_flight = frozenset(open_ids[len(open_ids) // 2 : len(open_ids) // 2 + 8])
        deep = rows[int(len(rows) * 0.9)].id
    print(f"built {count:,} files in {time.perf_counter() - started:.1f} s: {path}")
    return task.id, in_flight, deep


def measure(fn: Callable[[], object], runs: int) -> tuple[list[float], object]:
    result = fn()  # warm-up (and the figure shown)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--limit", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-reads-") as tmp:
        path = Path(tmp) / "exports.sqlite3"
        task_id, in_flight, deep = build(path, args.files)
        with ExportStore.open(path) as store:
            task = store.get_task(task_id)

            def page(kind: FileFilter, text: str = "", after: int = 0) -> Callable[[], object]:
                return lambda: reads.files(
                    store,
                    task_id,
                    filter=kind,
                    text=text,
                    after=after,
                    limit=args.limit,
                    in_flight=in_flight,
                )

            cases: list[tuple[str, Callable[[], object]]] = [
                *((f"first page, {kind.value}", page(kind)) for kind in FileFilter),
                ("page after 90 % of the ids, all", page(FileFilter.ALL, after=deep)),
                ("page after 90 % of the ids, waiting", page(FileFilter.WAITING, after=deep)),
                (f"text common {COMMON!r}, all", page(FileFilter.ALL, COMMON)),
                (f"text common {COMMON!r}, waiting", page(FileFilter.WAITING, COMMON)),
                (f"text rare {RARE!r}, all", page(FileFilter.ALL, RARE)),
                (f"text rare {RARE!r}, waiting", page(FileFilter.WAITING, RARE)),
                (f"text absent {ABSENT!r}, all", page(FileFilter.ALL, ABSENT)),
                (f"text absent {ABSENT!r}, failed", page(FileFilter.FAILED, ABSENT)),
                ("file_counts", lambda: reads.file_counts(task, in_flight)),
                (
                    "bytes_needed (open rows, nothing on disk)",
                    lambda: reads.bytes_needed(store, task),
                ),
            ]
            print(
                f"\n{args.files:,} files: {task.succeeded:,} succeeded, {task.failed:,} failed, "
                f"{task.remaining_files:,} open ({len(in_flight)} in flight); page = {args.limit} "
                f"rows; {args.runs} runs after 1 warm-up\n"
            )
            print(f"{'case':<52} {'median ms':>10} {'min':>8} {'max':>8}  rows")
            for name, fn in cases:
                times, result = measure(fn, args.runs)
                if isinstance(result, reads.FilePage):
                    shown = f"{len(result.rows)}" + ("+" if result.next_after else "")
                else:
                    shown = "-"
                print(
                    f"{name:<52} {statistics.median(times):>10.2f} {min(times):>8.2f} "
                    f"{max(times):>8.2f}  {shown}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
