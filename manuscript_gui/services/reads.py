"""Reads a window stands on: a task's files page by page, counts, disk figures, browsing.

Everything here is a plain function; the service decides where it runs:

- :func:`files` and :func:`bytes_needed` take the identity's
  :class:`~manuscript_gui.storage.ExportStore` first, so the service runs them
  with ``await ctx.db.run(reads.files, task_id, ...)`` on the store's own
  thread (:func:`bytes_needed` also makes one or two ``lstat`` calls per open
  file: better ``asyncio.to_thread(reads.bytes_needed, store, task)``, which
  holds the store's lock only for each page's query);
- :func:`file_counts` is arithmetic on a task row (no query);
- :func:`free_space` blocks on the file system (``asyncio.to_thread``);
- :func:`projects` and :func:`children` are coroutines on the client.

The types a selection dialog needs (:class:`Project`, :class:`FolderEntry`,
:class:`FileEntry`, :class:`BadFileEntry`, :data:`ChildEntry`) are re-exported
here, so a window never imports ``net``.

**"In progress" is not stored** (docs/behaviour.md): the files in flight are
those the running task manager holds; the caller passes their ids
(``in_flight``), for the running task only. With them the filters split a
task's rows into four disjoint parts: *waiting* (open rows, ``waiting`` or
``paused``, not in flight), *in progress* (open rows in flight), *succeeded*,
*failed*; *all* is every row.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum, unique
from pathlib import Path
from typing import TypeVar

from manuscript_gui.core import disk_space
from manuscript_gui.core.retry import RetryPolicy, with_retries
from manuscript_gui.core.task_manager import io_path, staging_dir
from manuscript_gui.domain import FileOutcome, FileRecord, TaskRecord
from manuscript_gui.net import (
    ApiClient,
    BadFileEntry,
    ChildEntry,
    FileEntry,
    FolderEntry,
    Page,
    PageGuard,
    Project,
)
from manuscript_gui.storage import ExportStore

__all__ = [
    "MAX_PAGE",
    "BadFileEntry",
    "ChildEntry",
    "FileEntry",
    "FileFilter",
    "FilePage",
    "FolderEntry",
    "Project",
    "bytes_needed",
    "children",
    "file_counts",
    "files",
    "free_space",
    "projects",
]

T = TypeVar("T")

#: The largest page :func:`files` hands out (a view shows a few hundred rows).
MAX_PAGE = 5000
_SCAN_PAGE = 1000  # rows per query when bytes_needed walks the open files


@unique
class FileFilter(StrEnum):
    """Which of a task's files a list shows (identifiers: the window maps them to labels)."""

    ALL = "all"
    WAITING = "waiting"
    """Open rows (``waiting`` or ``paused``) that are not in flight."""
    IN_PROGRESS = "in_progress"
    """Open rows the running task manager is downloading now."""
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class FilePage:
    """One page of a task's files, in natural path order (``D2`` before ``D10``, a
    folder's files together; then the id: ``storage/sorting.py``).

    ``next_after`` is the ``after`` of the next page (the last row's id), or
    ``None`` when no matching row follows: a list never asks for an empty page.
    """

    rows: tuple[FileRecord, ...]
    next_after: int | None


def files(
    store: ExportStore,
    task_id: int,
    *,
    filter: FileFilter = FileFilter.ALL,
    text: str = "",
    after: int = 0,
    limit: int = 200,
    in_flight: frozenset[int] = frozenset(),
) -> FilePage:
    """A page of a task's files: those matching *filter* and *text*, after file *after*.

    In path order (:class:`FilePage`). Keyset paging: pass ``page.next_after``
    as *after* to get the next page. Rows that change status between pages
    are never returned twice, and a row that matches throughout is never
    skipped. Each page is an index range scan (``task_id, outcome, sort_key``
    or ``task_id, sort_key``), whatever its depth in a 100k-file task; a
    *text* filter scans rows in that order until the page is full.

    Args:
        store: the identity's store (run on its thread).
        task_id: the task.
        filter: see :class:`FileFilter`.
        text: keep rows whose local or remote path contains it; ASCII letters
            match in either case, other letters as written (Chinese has no
            case); ``%``, ``_`` and ``\\`` are plain characters. Compared in
            NFC, the form the local paths are stored in. ``""``: no text filter.
        after: the ``next_after`` of the previous page (0 for the first).
        limit: rows per page, 1 to :data:`MAX_PAGE`.
        in_flight: ids of the files in flight (``TaskManager.in_flight``) when
            this task is the running one, else empty.

    Raises:
        ValueError: *limit* out of range, or *filter* unknown.
        NotFoundError: there is no task *task_id* (a ``LookupError``).
    """
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be 1 to {MAX_PAGE}, not {limit}")
    kind = FileFilter(filter)
    if kind is FileFilter.IN_PROGRESS and not in_flight:
        store.get_task(task_id)  # an unknown task is still an error
        return FilePage((), None)
    query = functools.partial(
        store.find_files,
        task_id,
        after_id=after,
        limit=limit + 1,  # one more tells whether another page follows
        text=unicodedata.normalize("NFC", text),
    )
    if kind is FileFilter.ALL:
        rows = query()
    elif kind is FileFilter.WAITING:
        rows = query(open_only=True, exclude_ids=in_flight)
    elif kind is FileFilter.IN_PROGRESS:
        rows = query(open_only=True, only_ids=in_flight)
    elif kind is FileFilter.SUCCEEDED:
        rows = query(outcome=FileOutcome.SUCCEEDED)
    else:
        rows = query(outcome=FileOutcome.FAILED)
    if len(rows) > limit:
        return FilePage(tuple(rows[:limit]), rows[limit - 1].id)
    return FilePage(tuple(rows), None)


def file_counts(task: TaskRecord, in_flight: frozenset[int] = frozenset()) -> dict[FileFilter, int]:
    """How many files each :class:`FileFilter` (without text) shows, from the task row.

    No query: the task's counters (total, succeeded, failed; re-derived with
    every written batch of results) and the number of files in flight. As
    fresh as *task* (the last ``TaskChanged``); *in_flight* as for :func:`files`.
    """
    in_progress = min(len(in_flight), max(task.remaining_files, 0))
    return {
        FileFilter.ALL: task.total_files,
        FileFilter.WAITING: max(task.remaining_files, 0) - in_progress,
        FileFilter.IN_PROGRESS: in_progress,
        FileFilter.SUCCEEDED: task.succeeded,
        FileFilter.FAILED: task.failed,
    }


def bytes_needed(store: ExportStore, task: TaskRecord) -> int:
    """Bytes a run of *task* still needs on its export volume.

    The engine's own count before a run (:func:`manuscript_gui.core.disk_space.needed_bytes`)
    over the task's open files (waiting or paused): nothing for a target
    already there with its size, the rest of each partial. Compare with
    :func:`free_space` of ``task.target_dir``. A completed or canceled task
    needs 0. Blocking (queries a page at a time, one or two ``lstat`` per file).

    Raises:
        NotFoundError: the task is gone.
    """
    root = io_path(Path(task.target_dir))
    staging = staging_dir(root, task.staging_key)
    need = 0
    after = 0
    while True:
        page = store.find_files(task.id, after_id=after, limit=_SCAN_PAGE, open_only=True)
        need += disk_space.needed_bytes(root, staging, page)
        if len(page) < _SCAN_PAGE:
            return need
        after = page[-1].id


def free_space(path: Path) -> int:
    """Bytes free on the volume of an export folder, which need not exist yet.

    See :func:`manuscript_gui.core.disk_space.free_space` (the nearest existing
    ancestor is asked). Blocking. Raises ``OSError`` when the volume cannot
    be asked.
    """
    return disk_space.free_space(path)


async def _all_pages(
    what: str, fetch: Callable[[str | None], Awaitable[Page[T]]], policy: RetryPolicy
) -> list[T]:
    guard = PageGuard(what)
    items: list[T] = []
    cursor: str | None = None
    while True:
        page = await with_retries(functools.partial(fetch, cursor), policy)
        items.extend(page.items)
        cursor = guard.next_cursor(page)
        if cursor is None:
            return items


async def projects(
    client: ApiClient, *, policy: RetryPolicy | None = None, page_size: int | None = None
) -> list[Project]:
    """Every project the signed-in identity may see, in the server's order.

    Follows every cursor (:class:`~manuscript_gui.net.PageGuard` ends a
    listing that would never end); each page is retried by the engine's rules
    (:func:`~manuscript_gui.core.retry.with_retries` with *policy*, default
    :class:`RetryPolicy`). *page_size*: the ``limit`` asked of the server
    (``None``: its default).

    Raises:
        ApiError: the error the retries gave up on (``Unauthorized`` at once);
            ``ProtocolError`` code ``cursor_loop`` for a listing that never ends.
    """
    return await _all_pages(
        "projects",
        lambda cursor: client.projects_page(cursor=cursor, limit=page_size),
        policy or RetryPolicy(),
    )


async def children(
    client: ApiClient,
    project_id: str,
    folder_id: str = "root",
    *,
    policy: RetryPolicy | None = None,
    page_size: int | None = None,
) -> list[ChildEntry]:
    """Every entry directly in one folder of a project (``"root"``: its top level).

    Folders (:class:`FolderEntry`), files (:class:`FileEntry`) and entries the
    export cannot fetch (:class:`BadFileEntry`, with the problem), in the
    server's order. Pages, retries and errors as for :func:`projects`.
    """
    return await _all_pages(
        f"the children of folder {folder_id!r} of project {project_id!r}",
        lambda cursor: client.children_page(project_id, folder_id, cursor=cursor, limit=page_size),
        policy or RetryPolicy(),
    )
