"""Reads for a window: paged, filtered file lists on a real 100k-row SQLite task, counts,
disk figures, and browsing against the real reference server."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import shutil
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from manuscript_gui.core import disk_space
from manuscript_gui.core.retry import RetryPolicy
from manuscript_gui.core.task_manager import staging_dir
from manuscript_gui.domain import (
    FileError,
    FileOutcome,
    FileRecord,
    FileStatus,
    NewFile,
    StopReason,
    TaskStatus,
    Transition,
)
from manuscript_gui.net import ApiClient, ProtocolError
from manuscript_gui.reference_server import ServerHandle
from manuscript_gui.services import reads
from manuscript_gui.services.reads import (
    MAX_PAGE,
    BadFileEntry,
    FileEntry,
    FileFilter,
    FilePage,
    FolderEntry,
)
from manuscript_gui.storage import ExportStore, NotFoundError, ValidationError
from manuscript_gui.storage.sorting import natural_sort_key
from tests.fixtures_server import Admin

F = FileFilter
N_FILES = 100_000
FOLDERS = ("A 业务承接", "D 实质性程序/D3 应收账款/D3-5 询证函回函", "E 完成阶段", "B 风险评估")


def _paths(i: int) -> tuple[str, str]:
    """(local path, remote path) of file *i*: names with %, _, mixed case, Chinese, é."""
    folder = FOLDERS[i % len(FOLDERS)]
    if i % 1000 == 7:
        name = f"D-{i} 利润表 50%.xlsx"
    elif i % 1000 == 8:
        name = f"D-{i} 利润表 50x.xlsx"  # "50%" as a wildcard would match this
    elif i % 1000 == 9:
        name = f"D-{i} 审计_底稿.docx"
    elif i % 1000 == 10:
        name = f"D-{i} 审计X底稿.docx"  # "计_底" as a wildcard would match this
    elif i % 997 == 0:
        name = f"D-{i} Annual REPORT.pdf"
    elif i % 997 == 1:
        name = f"D-{i} annual report.pdf"
    elif i % 2000 == 11:
        name = f"D-{i} Café 报表.xlsx"
    elif i % 5000 == 3:
        # A name made safe: the remote one has characters the local one cannot.
        return f"{folder}/D-{i} 客户_甲_乙.pdf", f"/{folder}/D-{i} 客户:甲\\乙.pdf"
    else:
        name = f"D-{i} 货币资金审定表.xlsx"
    return f"{folder}/{name}", f"/{folder}/{name}"


def _new_files(count: int) -> Iterator[NewFile]:
    for i in range(count):
        local, remote = _paths(i)
        yield NewFile(
            remote_id=f"file-{i}",
            project_id="prj-1",
            remote_path=remote,
            local_path=local,
            version=1,
            size=1000 + i,
            sha256=hashlib.sha256(str(i).encode()).hexdigest(),
            error_code=FileError.BAD_LISTING.value if i % 10_000 == 5 else None,
            error_message="no valid size" if i % 10_000 == 5 else None,
        )


@dataclass(frozen=True)
class Big:
    """A closed database file with a 100k-file task and a smaller one beside it."""

    path: Path
    task_id: int
    other_task_id: int
    rows: tuple[FileRecord, ...]
    """Task ``task_id``'s rows as stored, in the order a window lists them (natural
    path order, then id: ``storage/sorting.py``)."""
    in_flight: frozenset[int]
    """Open rows of the task, as a running task manager would hold them."""


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Big:
    path = tmp_path_factory.mktemp("reads") / "exports.sqlite3"
    with ExportStore.open(path) as store:
        task = store.create_task("大任务", "/exports", {"items": []}, status=TaskStatus.WAITING)
        assert store.insert_files(task.id, _new_files(N_FILES)) == N_FILES
        changed = []
        for i, row in enumerate(store.iter_files(task.id)):
            if row.outcome is not None:
                continue
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
        # Same paths in another (paused) task: never shown for the first one.
        other = store.create_task("其他", "/exports", {"items": []}, status=TaskStatus.WAITING)
        store.insert_files(other.id, _new_files(2000))
        store.transition(other.id, Transition.PAUSE, reason=StopReason.BY_USER)
        rows = tuple(
            sorted(store.iter_files(task.id), key=lambda r: (natural_sort_key(r.local_path), r.id))
        )
    open_ids = sorted(r.id for r in rows if r.outcome is None)
    in_flight = frozenset(open_ids[100:108])
    assert not path.with_name(path.name + "-wal").exists()  # closed: a copy is whole
    return Big(path, task.id, other.id, rows, in_flight)


@pytest.fixture(scope="module")
def shared(big: Big) -> Iterator[ExportStore]:
    """The big database itself, opened once (an open checks the whole file): read only."""
    with ExportStore.open(big.path) as opened:
        yield opened


@pytest.fixture
def store(big: Big, tmp_path: Path) -> Iterator[ExportStore]:
    """A private copy of the big database (tests may change it)."""
    copy = tmp_path / "copy.sqlite3"
    shutil.copyfile(big.path, copy)
    with ExportStore.open(copy) as opened:
        yield opened


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _ascii_lower(text: str) -> str:
    return text.translate(_ASCII_LOWER)


@functools.cache
def _haystacks(rows: tuple[FileRecord, ...]) -> tuple[str, ...]:
    """Each row's local and remote path, ASCII-lowered (a needle has no newline)."""
    return tuple(_ascii_lower(f"{r.local_path}\n{r.remote_path}") for r in rows)


def _expected(
    rows: tuple[FileRecord, ...], kind: FileFilter, text: str, in_flight: frozenset[int]
) -> list[int]:
    """The model: which ids a filter shows (ASCII case-insensitive, NFC, literal %/_)."""
    needle = _ascii_lower(unicodedata.normalize("NFC", text))
    wanted = {F.SUCCEEDED: FileOutcome.SUCCEEDED, F.FAILED: FileOutcome.FAILED}.get(kind)
    found = []
    for r, hay in zip(rows, _haystacks(rows), strict=True):
        if needle not in hay:
            continue
        if kind is F.WAITING and (r.outcome is not None or r.id in in_flight):
            continue
        if kind is F.IN_PROGRESS and (r.outcome is not None or r.id not in in_flight):
            continue
        if wanted is not None and r.outcome is not wanted:
            continue
        found.append(r.id)
    return found


def _walk(
    store: ExportStore,
    task_id: int,
    kind: FileFilter,
    text: str = "",
    *,
    limit: int = 1000,
    in_flight: frozenset[int] = frozenset(),
) -> list[FilePage]:
    pages = []
    after = 0
    while True:
        page = reads.files(
            store, task_id, filter=kind, text=text, after=after, limit=limit, in_flight=in_flight
        )
        pages.append(page)
        if page.next_after is None:
            return pages
        assert page.rows, "a page promised more but came back empty"
        after = page.next_after


_WALKS: dict[tuple[Path, FileFilter, str], list[FilePage]] = {}


def _walk_big(big: Big, shared: ExportStore, kind: FileFilter, text: str = "") -> list[FilePage]:
    """A whole walk of the (unchanged) big database with its files in flight, read once."""
    key = (big.path, kind, text)
    if key not in _WALKS:
        _WALKS[key] = _walk(shared, big.task_id, kind, text, in_flight=big.in_flight)
    return _WALKS[key]


def _position(big: Big) -> Callable[[int], int]:
    """A file id's place in the list's order (for ``sorted(key=...)``)."""
    where = {r.id: i for i, r in enumerate(big.rows)}
    return where.__getitem__


def _ids(pages: list[FilePage]) -> list[int]:
    return [r.id for p in pages for r in p.rows]


TEXTS = [
    "",
    "50%",  # literal percent
    "计_底",  # literal underscore
    "询证函",  # Chinese
    "REPORT",  # ASCII, either case
    "annual Report",
    "客户:甲",  # only in the remote path
    "\\乙",  # a backslash, remote path
    unicodedata.normalize("NFD", "CAFé"),  # typed decomposed: é matches the stored é
    "no such name anywhere",
]


def test_the_big_task_holds_what_the_tests_need(big: Big) -> None:
    assert len(big.rows) == N_FILES
    for kind in F:
        for text in ("", "询证函"):
            assert _expected(big.rows, kind, text, big.in_flight), (kind, text)
    for text in TEXTS[1:-1]:
        assert _expected(big.rows, F.WAITING, text, big.in_flight), text
        assert _expected(big.rows, F.SUCCEEDED, text, big.in_flight), text
    assert len(_expected(big.rows, F.ALL, "50%", frozenset())) == 100
    assert len(_expected(big.rows, F.ALL, "REPORT", frozenset())) > 150
    assert len(big.in_flight) == 8


@pytest.mark.parametrize("text", TEXTS, ids=lambda t: repr(t))
@pytest.mark.parametrize("kind", list(F), ids=lambda k: k.value)
def test_every_filter_pages_through_exactly_its_rows(
    big: Big, shared: ExportStore, kind: FileFilter, text: str
) -> None:
    pages = _walk_big(big, shared, kind, text)
    first = reads.files(
        shared, big.task_id, filter=kind, text=text, limit=200, in_flight=big.in_flight
    )
    expected = _expected(big.rows, kind, text, big.in_flight)
    assert _ids(pages) == expected  # each once, in path order, none missing
    assert all(r.task_id == big.task_id for p in pages for r in p.rows)
    assert [r.id for r in first.rows] == expected[:200]
    assert first.next_after == (expected[199] if len(expected) > 200 else None)


@pytest.mark.parametrize("text", ["", "询证函", "50%"])
def test_the_filters_split_the_task_into_disjoint_parts(
    big: Big, shared: ExportStore, text: str
) -> None:
    parts = {kind: _ids(_walk_big(big, shared, kind, text)) for kind in F}
    everything = parts.pop(F.ALL)
    pieces = [i for ids in parts.values() for i in ids]
    assert sorted(pieces, key=_position(big)) == everything
    assert len(set(pieces)) == len(pieces)


def test_file_counts_agree_with_the_lists(big: Big, shared: ExportStore) -> None:
    task = shared.get_task(big.task_id)
    walked = {kind: len(_ids(_walk_big(big, shared, kind))) for kind in F}
    assert reads.file_counts(task, big.in_flight) == walked
    assert sum(walked[k] for k in F if k is not F.ALL) == walked[F.ALL] == N_FILES
    idle = reads.file_counts(task)
    assert idle[F.IN_PROGRESS] == 0
    assert idle[F.WAITING] == walked[F.WAITING] + len(big.in_flight)


def test_a_page_that_ends_exactly_at_the_last_match_says_so(big: Big, shared: ExportStore) -> None:
    """``next_after`` is None on the last page, even when it is full: no empty page."""
    expected = _expected(big.rows, F.ALL, "50%", frozenset())
    assert len(expected) == 100
    whole = reads.files(shared, big.task_id, text="50%", limit=100)
    assert ([r.id for r in whole.rows], whole.next_after) == (expected, None)
    halves = _walk(shared, big.task_id, F.ALL, "50%", limit=50)
    assert [len(p.rows) for p in halves] == [50, 50]
    assert [p.next_after for p in halves] == [expected[49], None]
    odd = _walk(shared, big.task_id, F.ALL, "50%", limit=99)
    assert [len(p.rows) for p in odd] == [99, 1]
    # Past the end: an empty last page.
    assert reads.files(shared, big.task_id, after=big.rows[-1].id) == FilePage((), None)


def test_in_progress_is_the_open_rows_in_flight_of_this_task(big: Big, shared: ExportStore) -> None:
    done = next(r.id for r in big.rows if r.outcome is FileOutcome.SUCCEEDED)
    elsewhere = next(shared.iter_files(big.other_task_id)).id
    stale = big.in_flight | {done, elsewhere}  # a snapshot a moment old
    page = reads.files(shared, big.task_id, filter=F.IN_PROGRESS, in_flight=stale)
    assert [r.id for r in page.rows] == [r.id for r in big.rows if r.id in big.in_flight]
    assert page.next_after is None
    waiting = _ids(_walk(shared, big.task_id, F.WAITING, in_flight=stale))
    assert not set(waiting) & stale
    succeeded = _ids(_walk(shared, big.task_id, F.SUCCEEDED, in_flight=stale))
    assert done in succeeded  # a completed row stays where its outcome puts it
    idle = reads.files(shared, big.task_id, filter=F.IN_PROGRESS)
    assert idle == FilePage((), None)
    assert reads.files(shared, big.task_id, filter=F.IN_PROGRESS, in_flight=stale, limit=3) == (
        FilePage(tuple(r for r in page.rows[:3]), page.rows[2].id)
    )


class _Engine:
    """Writes results between pages, as the running task manager does, around a cursor."""

    def __init__(self, store: ExportStore, big: Big) -> None:
        self.store = store
        self.task_id = big.task_id
        self.order = [r.id for r in big.rows]  # the list's order (paths never change here)
        self.position = {file_id: i for i, file_id in enumerate(self.order)}
        self.touched: set[int] = set()
        self.done_ahead: set[int] = set()
        self.batches = 0

    def batch(self, cursor: int) -> None:
        """Open rows just ahead of and just behind *cursor* complete (some fail); a few
        succeeded rows behind it go back to waiting (the disk check before a run)."""
        at = self.position[cursor]
        near_ids = self.order[max(at - 200, 0) : at + 200]
        near = self.store.find_files(self.task_id, only_ids=near_ids, limit=400)
        opened = [r for r in near if r.outcome is None and r.id not in self.touched]
        ahead = [r for r in opened if self.position[r.id] > at][:40]
        behind = [r for r in opened if self.position[r.id] <= at][:40]
        requeued = [
            r.id
            for r in near
            if r.outcome is FileOutcome.SUCCEEDED
            and self.position[r.id] <= at
            and r.id not in self.touched
        ][:10]
        with self.store.transaction():  # one commit, as the engine's batch is
            self._write(ahead + behind, requeued)
        self.done_ahead.update(r.id for r in ahead)
        self.touched.update(r.id for r in ahead + behind)
        self.touched.update(requeued)
        self.batches += 1

    def _write(self, results: list[FileRecord], requeued: list[int]) -> None:
        self.store.update_files(
            self.task_id,
            [
                dataclasses.replace(
                    r,
                    status=FileStatus.COMPLETED,
                    outcome=FileOutcome.SUCCEEDED if n % 4 else FileOutcome.FAILED,
                    error_code=None if n % 4 else FileError.NETWORK_ERROR.value,
                    error_message=None if n % 4 else "reset",
                )
                for n, r in enumerate(results)
            ],
        )
        self.store.requeue_missing(self.task_id, requeued)

    def walk(self, kind: FileFilter, limit: int) -> list[FilePage]:
        pages = []
        after = 0
        while True:
            page = reads.files(self.store, self.task_id, filter=kind, after=after, limit=limit)
            pages.append(page)
            if page.next_after is None:
                return pages
            self.batch(page.next_after)
            after = page.next_after


def test_paging_while_rows_change_status_never_repeats_or_skips_a_row(
    big: Big, store: ExportStore
) -> None:
    """Every row that waits throughout the walk is shown once; no row twice; path order."""
    engine = _Engine(store, big)
    waiting = _ids(engine.walk(F.WAITING, limit=1000))
    assert engine.batches > 50  # many pages, a batch of changes between each two
    assert waiting == sorted(set(waiting), key=_position(big))
    always_waiting = {r.id for r in big.rows if r.outcome is None} - engine.touched
    assert always_waiting <= set(waiting)
    assert not set(waiting) & engine.done_ahead  # completed before the cursor got there
    # What the walk shows is what was waiting when its page was read: never a row
    # that was completed all along.
    completed_all_along = {r.id for r in big.rows if r.outcome is not None} - engine.touched
    assert not set(waiting) & completed_all_along


def test_paging_all_files_while_rows_change_shows_each_row_once(
    big: Big, store: ExportStore
) -> None:
    engine = _Engine(store, big)
    shown = _ids(engine.walk(F.ALL, limit=2000))
    assert engine.batches > 40
    assert shown == [r.id for r in big.rows]


@pytest.mark.parametrize("kind", [F.SUCCEEDED, F.FAILED])
def test_paging_outcomes_while_rows_change_never_repeats_a_row(
    big: Big, store: ExportStore, kind: FileFilter
) -> None:
    engine = _Engine(store, big)
    shown = _ids(engine.walk(kind, limit=1000 if kind is F.SUCCEEDED else 100))
    assert shown == sorted(set(shown), key=_position(big))
    outcome = FileOutcome.SUCCEEDED if kind is F.SUCCEEDED else FileOutcome.FAILED
    kept = {r.id for r in big.rows if r.outcome is outcome} - engine.touched
    assert kept <= set(shown)
    final = {r.id for r in store.iter_files(big.task_id, outcome=outcome)}
    assert engine.done_ahead & final <= set(shown)  # completed ahead of the cursor: shown


def test_unknown_tasks_and_bad_arguments_are_refused(big: Big, store: ExportStore) -> None:
    for kind in F:
        with pytest.raises(NotFoundError):
            reads.files(store, 999, filter=kind, in_flight=frozenset({1}))
        with pytest.raises(NotFoundError):
            reads.files(store, 999, filter=kind)
    for limit in (0, -1, MAX_PAGE + 1):
        with pytest.raises(ValueError, match="limit"):
            reads.files(store, big.task_id, limit=limit)
    with pytest.raises(ValueError, match="not_a_filter"):
        reads.files(store, big.task_id, filter="not_a_filter")  # type: ignore[arg-type]
    assert len(reads.files(store, big.task_id, filter="failed", limit=MAX_PAGE).rows) > 0  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        store.find_files(big.task_id, open_only=True, outcome=FileOutcome.FAILED)
    with pytest.raises(ValidationError):
        store.find_files(big.task_id, limit=0)


def test_bytes_needed_counts_the_open_files_not_on_disk(tmp_path: Path) -> None:
    target = tmp_path / "导出"
    with ExportStore.open(tmp_path / "db.sqlite3") as store:
        task = store.create_task("t", str(target), {"items": []}, status=TaskStatus.WAITING)
        sizes = [3000, 5000, 7000, 11_000, 13_000]
        store.insert_files(
            task.id,
            (
                NewFile(f"r{i}", "p", f"/x/f{i}.bin", f"x/f{i}.bin", 1, size, "0" * 64)
                for i, size in enumerate(sizes)
            ),
        )
        rows = list(store.iter_files(task.id))
        # f0 succeeded (never counted, even if gone); f1 is on disk with its size;
        # f2 has a 2000-byte partial; f3 and f4 have nothing yet.
        store.update_files(
            task.id,
            [
                dataclasses.replace(
                    rows[0], status=FileStatus.COMPLETED, outcome=FileOutcome.SUCCEEDED
                )
            ],
        )
        (target / "x").mkdir(parents=True)
        (target / "x" / "f1.bin").write_bytes(b"1" * 5000)
        staging = staging_dir(target, task.staging_key)
        staging.mkdir(parents=True)
        (staging / f"{rows[2].id}.part").write_bytes(b"2" * 2000)
        waiting = store.get_task(task.id)
        assert reads.bytes_needed(store, waiting) == 5000 + 11_000 + 13_000
        # A paused task's open rows are paused: they are needed all the same.
        paused = store.transition(task.id, Transition.PAUSE, reason=StopReason.BY_USER)
        assert {r.status for r in store.iter_files(task.id) if r.outcome is None} == {
            FileStatus.PAUSED
        }
        assert reads.bytes_needed(store, paused) == 5000 + 11_000 + 13_000
        canceled = store.transition(task.id, Transition.CANCEL)
        assert reads.bytes_needed(store, canceled) == 29_000  # open rows stay open
        store.delete_task(task.id)
        with pytest.raises(NotFoundError):
            reads.bytes_needed(store, canceled)


def test_bytes_needed_walks_every_page(big: Big, store: ExportStore) -> None:
    """More open rows than one query returns: every page counts (nothing is on disk)."""
    task = dataclasses.replace(store.get_task(big.task_id), target_dir="/nonexistent/导出")
    open_sizes = sum(r.size for r in big.rows if r.outcome is None)
    assert reads.bytes_needed(store, task) == open_sizes


def test_free_space_of_an_export_folder_not_made_yet(tmp_path: Path) -> None:
    folder = tmp_path / "later" / "导出"
    assert abs(reads.free_space(folder) - disk_space.free_space(tmp_path)) <= 256 * 1024 * 1024
    assert not folder.exists()


# ------------------------------------------------------------------------- browsing


async def test_projects_follows_every_page(ref_server: ServerHandle) -> None:
    async with ApiClient(ref_server.base_url) as client:
        await client.login("demo", "demo")
        whole = await reads.projects(client)
        paged = await reads.projects(client, page_size=1)
    expected = set(ref_server.facts.projects_for("demo"))
    assert [p.id for p in whole] == [p.id for p in paged]
    assert len(whole) == len(expected) > 1
    assert {p.id for p in whole} == expected


async def test_children_follows_every_page_of_a_wide_folder(ref_server: ServerHandle) -> None:
    facts = ref_server.facts
    assert facts.wide_folder_id is not None
    assert facts.wide_folder_project_id is not None
    async with ApiClient(ref_server.base_url) as client:
        await client.login("demo", "demo")
        wide = await reads.children(client, facts.wide_folder_project_id, facts.wide_folder_id)
        big_pages = await reads.children(
            client, facts.wide_folder_project_id, facts.wide_folder_id, page_size=1000
        )
        top = await reads.children(client, facts.wide_folder_project_id)
    assert len(wide) == facts.wide_folder_children == 1200
    assert len({e.id for e in wide if isinstance(e, FileEntry)}) == 1200
    assert wide == big_pages
    assert all(isinstance(e, FolderEntry) for e in top)
    assert "A 业务承接" in {e.name for e in top if isinstance(e, FolderEntry)}


async def test_browsing_retries_a_flaky_server(fresh_server: ServerHandle, admin: Admin) -> None:
    admin.faults(fail_once=True, retry_after_s=0)  # every request: 503 once, then served
    policy = RetryPolicy(retries=2, base=0.01)
    async with ApiClient(fresh_server.base_url) as client:
        await client.login("demo", "demo")
        found = await reads.projects(client, policy=policy, page_size=1)
        top = await reads.children(client, found[0].id, policy=policy, page_size=2)
    assert {p.id for p in found} == set(fresh_server.facts.projects_for("demo"))
    assert len(top) > 2


@pytest.mark.parametrize("mode", ["repeat", "empty"])
async def test_browsing_a_listing_that_never_ends_stops(
    fresh_server: ServerHandle, admin: Admin, mode: str
) -> None:
    async with ApiClient(fresh_server.base_url) as client:
        await client.login("demo", "demo")
        (project, *_) = await reads.projects(client)
        admin.faults(cursor_loop=mode)
        with pytest.raises(ProtocolError) as info:
            await reads.projects(client)
        assert info.value.code == "cursor_loop"
        with pytest.raises(ProtocolError) as info:
            await reads.children(client, project.id)
        assert info.value.code == "cursor_loop"


async def test_browsing_shows_entries_the_export_cannot_fetch(
    fresh_server: ServerHandle, admin: Admin
) -> None:
    async with ApiClient(fresh_server.base_url) as client:
        await client.login("demo", "demo")
        (project, *_) = await reads.projects(client)
        top = await reads.children(client, project.id)
        folder = next(e for e in top if isinstance(e, FolderEntry))
        inside = await reads.children(client, project.id, folder.id)
        file = next(e for e in inside if isinstance(e, FileEntry))
        admin.entry(file.id, {"sha256": None})
        again = await reads.children(client, project.id, folder.id)
    bad = [e for e in again if isinstance(e, BadFileEntry)]
    assert [e.id for e in bad] == [file.id]
    assert "sha256" in bad[0].problem
