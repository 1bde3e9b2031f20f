"""A listing always ends, whatever the server sends (issue #6, review H7).

- A folder listed again -- inside itself, under ``root``, or in two places --
  is listed once, and its files are not duplicated.
- A cursor that never advances (the same ``nextCursor`` again, or endless
  empty pages) pauses the task *listing failed* (``cursor_loop``) instead of
  growing without end: one :class:`~manuscript_gui.net.PageGuard` for the
  client's own paging and the task listing.
- An item of unknown kind, or with an id that is a URL dot segment, is a
  failed file of the task, not a silent gap.
- :func:`~manuscript_gui.core.retry.with_retries`: the engine's retry rules
  for one request, shared by the listing and the command line.

The loops run against the real reference server (listing overrides and the
``cursorLoop`` knob). Every listing here is watched: the test stops it once
the server has seen more requests than a finite listing can need, so a
listing that would never end fails the test instead of eating the machine.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from manuscript_gui.core.listing import SelectionItem
from manuscript_gui.core.retry import RetryPolicy, ServerHealth, with_retries
from manuscript_gui.net import (
    MAX_EMPTY_PAGES,
    ConnectError,
    Forbidden,
    NetworkTimeout,
    NotFound,
    ProtocolError,
    RateLimited,
    ServerError,
    TLSError,
    Unauthorized,
)
from manuscript_gui.reference_server import ServerHandle
from manuscript_gui.services.exports import ExportService, ServiceOptions
from manuscript_gui.storage import FileOutcome, StopReason, TaskRecord, TaskStatus
from tests.core.engine_helpers import (
    ServerRequests,
    assert_completed,
    export_and_wait,
    files_of,
    project,
    remote_files,
    signed_in,
    store_of,
    until,
)
from tests.fixtures_server import Admin

#: More authenticated requests than any listing here needs: the tiny demo project
#: has a dozen folders, and with endless empty pages each of the 8 folders listed
#: at once may fetch MAX_EMPTY_PAGES pages before the first one gives up. Past it
#: the listing is taken to be endless and stopped.
REQUEST_BOUND = 8 * MAX_EMPTY_PAGES + 400


@asynccontextmanager
async def held_service(
    server: ServerHandle, *, listing_concurrency: int = 8
) -> AsyncIterator[ExportService]:
    """Signed in with the queue on hold: a listing ends in ``waiting``, nothing runs."""
    options = ServiceOptions(
        fsync=False,
        autostart=False,
        backoff_base=0.01,
        listing_concurrency=listing_concurrency,
    )
    async with signed_in(server.base_url, options=options) as service:
        yield service


async def list_watched(
    server: ServerHandle, service: ExportService, items: list[SelectionItem], target: Path
) -> tuple[TaskRecord, list[str]]:
    """Create a task and wait for its listing; stop it past :data:`REQUEST_BOUND` requests.

    Returns the task as stored afterwards and the paths of the requests the server saw.
    """
    with ServerRequests(server) as seen:
        task = await service.create_export(items, target)
        listing = asyncio.ensure_future(service.wait_listing(task.id))
        try:
            await until(lambda: listing.done() or seen.count() > REQUEST_BOUND, within=90)
        finally:
            if not listing.done():
                await service.stop_queue()  # cancels the endless listing
            await listing
        return await service.task(task.id), [hit.path for hit in seen.hits]


def children_requests(paths: list[str], folder_id: str) -> int:
    return sum(path.endswith(f"/folders/{folder_id}/children") for path in paths)


def file_ids(service: ExportService, task: TaskRecord) -> list[str]:
    return [row.remote_id for row in files_of(store_of(service), task.id)]


# ------------------------------------------------------------------ folder loops


def _folder_cases(admin: Admin) -> dict[str, tuple[dict[str, str], set[str]]]:
    """Build the trees; per case: (folder id -> the id it is listed under, ids of the
    files that the lie hides: they are under the folder whose real id nobody lists).

    Each case lists one folder id twice (``root``, ``outer``, ``shared``)."""
    loop = admin.add_file("prj-1", ["环 loop"], "in-loop.txt", b"never reachable")
    outer = admin.add_file("prj-1", ["outer"], "o.txt", b"outer file")
    inner = admin.add_file("prj-1", ["outer", "inner"], "i.txt", b"inner file")
    shared = admin.add_file("prj-1", ["p1", "shared"], "s.txt", b"shared file")
    other = admin.add_file("prj-1", ["p2", "other"], "x.txt", b"other file")
    return {
        # A top-level folder that calls itself "root": the whole project again.
        "listed-as-root": ({loop["folderId"]: "root"}, {loop["id"]}),
        # "inner" says it is "outer": outer is listed inside itself.
        "inside-itself": ({inner["folderId"]: outer["folderId"]}, {inner["id"]}),
        # "other" says it is "shared": one folder in two places (no cycle).
        "in-two-places": ({other["folderId"]: shared["folderId"]}, {other["id"]}),
    }


@pytest.mark.parametrize("case", ["listed-as-root", "inside-itself", "in-two-places"])
async def test_a_folder_met_again_is_listed_once(
    fresh_server: ServerHandle,
    admin: Admin,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    case: str,
) -> None:
    overrides, hidden = _folder_cases(admin)[case]
    every = set(await remote_files(fresh_server.base_url, "prj-1"))  # before the lie
    for folder_id, listed_as in overrides.items():
        admin.folder_entry(folder_id, {"id": listed_as})
    async with held_service(fresh_server) as service:
        item = await project(service, "prj-1")
        with caplog.at_level(logging.WARNING, logger="manuscript_gui.core.listing"):
            task, paths = await list_watched(fresh_server, service, [item], tmp_path / "out")
        assert len(paths) <= REQUEST_BOUND, "the listing followed the loop"
        assert (task.status, task.listed) == (TaskStatus.WAITING, True), task.reason_detail
        ids = file_ids(service, task)
    (twice,) = set(overrides.values())
    assert children_requests(paths, twice) == 1, "the folder met again was listed again"
    assert len(ids) == len(set(ids)), "a file was listed twice"
    assert set(ids) == every - hidden
    assert task.total_files == len(every - hidden)
    assert any("is listed once" in r.getMessage() for r in caplog.records)


async def test_a_chosen_folder_listed_inside_itself_is_listed_once(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    outer = admin.add_file("prj-1", ["outer"], "o.txt", b"outer file")
    inner = admin.add_file("prj-1", ["outer", "inner"], "i.txt", b"inner file")
    deeper = admin.add_file("prj-1", ["outer", "inner", "deeper"], "d.txt", b"deeper file")
    # "deeper" claims to be the chosen folder itself.
    admin.folder_entry(deeper["folderId"], {"id": outer["folderId"]})
    async with held_service(fresh_server) as service:
        chosen = await project(service, "prj-1")
        item = SelectionItem("prj-1", chosen.project_name, outer["folderId"], ("outer",))
        task, paths = await list_watched(fresh_server, service, [item], tmp_path / "out")
        assert len(paths) <= REQUEST_BOUND, "the listing followed the loop"
        assert task.status is TaskStatus.WAITING, task.reason_detail
        rows = files_of(store_of(service), task.id)
    assert children_requests(paths, outer["folderId"]) == 1
    assert sorted(r.remote_id for r in rows) == sorted([outer["id"], inner["id"]])
    local = {r.remote_id: r.local_path for r in rows}
    assert local[inner["id"]].endswith("/outer/inner/i.txt")


async def test_an_export_through_a_folder_loop_completes_byte_exact(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    outer = admin.add_file("prj-1", ["outer"], "o.txt", b"outer file")
    inner = admin.add_file("prj-1", ["outer", "inner"], "i.txt", b"inner file")
    admin.folder_entry(inner["folderId"], {"id": outer["folderId"]})
    options = ServiceOptions(fsync=False, backoff_base=0.01)  # the queue runs on its own
    async with signed_in(fresh_server.base_url, options=options) as service:
        name = (await project(service, "prj-1")).project_name
        item = SelectionItem("prj-1", name, outer["folderId"], ("outer",))
        task, paths = await list_watched(fresh_server, service, [item], tmp_path / "out")
        assert len(paths) <= REQUEST_BOUND, "the listing followed the loop"
        await service.scheduler.wait_idle()
        task = await service.task(task.id)
    assert_completed(task)
    assert (task.succeeded, task.failed) == (1, 0)
    (exported,) = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert exported.read_bytes() == b"outer file"


# ------------------------------------------------------------------ cursor loops


@pytest.mark.parametrize("loop", ["repeat", "empty"])
async def test_a_cursor_that_never_advances_pauses_listing_failed(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path, loop: str
) -> None:
    # One folder at a time: when the looping folder stops the listing, no other
    # request is in flight to be cancelled. (A connect cancelled in flight leaks its
    # socket on Python 3.11, a ResourceWarning that is not this test's subject.)
    async with held_service(fresh_server, listing_concurrency=1) as service:
        item = await project(service, "prj-1")
        admin.faults(cursor_loop=loop)
        task, paths = await list_watched(fresh_server, service, [item], tmp_path / "out")
    assert len(paths) <= REQUEST_BOUND, "the listing followed the cursors"
    assert (task.status, task.reason, task.listed) == (
        TaskStatus.PAUSED,
        StopReason.LISTING_FAILED,
        False,
    )
    detail = task.reason_detail or ""
    assert detail.startswith(f"/{item.project_name}")
    assert "the list would never end" in detail
    if loop == "repeat":
        assert "sent cursor 'loop-repeat' twice" in detail
    else:
        assert "empty pages in a row" in detail


async def test_a_resumed_listing_goes_on_once_the_server_is_fixed(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    async with held_service(fresh_server, listing_concurrency=1) as service:
        item = await project(service, "prj-1")
        admin.faults(cursor_loop="repeat")
        task, _ = await list_watched(fresh_server, service, [item], tmp_path / "out")
        assert task.status is TaskStatus.PAUSED
        admin.reset()
        await service.resume(task.id)
        await service.wait_listing(task.id)
        task = await service.task(task.id)
        assert (task.status, task.listed) == (TaskStatus.WAITING, True)
        ids = file_ids(service, task)
    assert set(ids) == set(await remote_files(fresh_server.base_url, "prj-1"))


# -------------------------------------------------- items the export cannot fetch


@pytest.mark.parametrize(
    ("override", "problem"),
    [
        (
            {"kind": "shortcut"},
            "the server lists an item of unknown kind 'shortcut'; it cannot be exported",
        ),
        ({"id": ".."}, "the server's listing gives no valid id for this file (got '..')"),
        ({"id": "."}, "the server's listing gives no valid id for this file (got '.')"),
    ],
)
async def test_an_item_the_export_cannot_fetch_is_a_failed_file(
    fresh_server: ServerHandle,
    admin: Admin,
    tmp_path: Path,
    override: dict[str, Any],
    problem: str,
) -> None:
    """Never a "completed" export with that item missing and nothing said."""
    victim = admin.add_file("prj-1", ["odd"], "odd.pdf", b"%PDF odd")
    admin.add_file("prj-1", ["odd"], "fine.pdf", b"%PDF fine")
    admin.entry(victim["id"], override)
    every = await remote_files(fresh_server.base_url, "prj-1")
    options = ServiceOptions(fsync=False, backoff_base=0.01)
    async with signed_in(fresh_server.base_url, options=options) as service:
        task = await export_and_wait(service, [await project(service, "prj-1")], tmp_path / "out")
        rows = files_of(store_of(service), task.id)
    assert_completed(task)
    assert task.total_files == len(every)  # the odd item counts as one of the task's files
    (failed,) = [r for r in rows if r.outcome is FileOutcome.FAILED]
    assert (task.failed, task.succeeded) == (1, len(every) - 1)
    assert failed.error_code == "bad_listing"
    assert failed.error_message == problem
    assert failed.remote_path.endswith("/odd/odd.pdf")


# ------------------------------------------------------------ listing trouble


async def test_listing_retries_a_flaky_server_and_stops_on_a_dead_one(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    """The listing's reasons after :func:`with_retries` stay those of docs/engine.md."""
    every = set(await remote_files(fresh_server.base_url, "prj-1"))
    async with held_service(fresh_server) as service:
        item = await project(service, "prj-1")
        admin.faults(fail_once=True, retry_after_s=0)  # every page fails once
        task, _ = await list_watched(fresh_server, service, [item], tmp_path / "a")
        assert task.status is TaskStatus.WAITING, task.reason_detail
        assert set(file_ids(service, task)) == every
        admin.faults(fail_once=False, error_rate=1, error_status=502)
        task, _ = await list_watched(fresh_server, service, [item], tmp_path / "b")
    assert (task.status, task.reason) == (TaskStatus.PAUSED, StopReason.SERVER_UNAVAILABLE)
    assert f"/{item.project_name}: 502 bad_gateway" in (task.reason_detail or "")


# -------------------------------------------------------------- with_retries


class Script:
    """A call that raises the scripted errors in turn, then answers ``"ok"``."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def _503(n: int = 0, retry_after: float | None = None) -> ServerError:
    return ServerError(503, "service_unavailable", f"busy #{n}", retry_after=retry_after)


def _429(retry_after: float | None = 2.0) -> RateLimited:
    return RateLimited(429, "rate_limited", "slow down", retry_after=retry_after)


def run(
    call: Callable[[], Awaitable[str]], policy: RetryPolicy, **kw: Any
) -> tuple[str | BaseException, Sleeps]:
    sleeps = Sleeps()

    async def go() -> str:
        return await with_retries(call, policy, sleep=sleeps, **kw)

    try:
        return asyncio.run(go()), sleeps
    except Exception as exc:
        return exc, sleeps


@pytest.mark.parametrize(
    "error",
    [
        _503(),
        ConnectError("connection refused"),
        NetworkTimeout("read timed out"),
        ProtocolError("not JSON", code="bad_json"),
    ],
    ids=["5xx", "unreachable", "timeout", "odd answer"],
)
def test_server_trouble_is_retried_up_to_the_policy(error: Exception) -> None:
    call = Script(error, error, error)
    result, sleeps = run(call, RetryPolicy(retries=3, base=1.0, cap=10.0))
    assert (result, call.calls) == ("ok", 4)
    assert len(sleeps.delays) == 3
    # Exponential with jitter in [0.5, 1]: 1, 2, 4 seconds at most.
    for n, delay in enumerate(sleeps.delays):
        assert 0.5 * 2**n <= delay <= 2**n


def test_the_last_error_is_raised_when_the_retries_run_out() -> None:
    errors = [_503(n, retry_after=0) for n in range(5)]
    call = Script(*errors)
    result, sleeps = run(call, RetryPolicy(retries=2, base=0.0))
    assert result is errors[2]
    assert call.calls == 3
    assert len(sleeps.delays) == 2
    result, _ = run(Script(_503()), RetryPolicy(retries=0))
    assert isinstance(result, ServerError)


def test_retry_after_is_honoured() -> None:
    result, sleeps = run(Script(_503(retry_after=7.0)), RetryPolicy(base=0.1))
    assert result == "ok"
    assert sleeps.delays == [7.0]


@pytest.mark.parametrize(
    "error",
    [
        Unauthorized(401, "unauthorized", "token expired"),
        Forbidden(403, "forbidden", "no"),
        NotFound(404, "not_found", "no folder"),
        ServerError(501, "not_implemented", "never"),
        ProtocolError("cursor sent twice", code="cursor_loop"),
        TLSError("certificate verify failed"),
        OSError("disk full"),
        ValueError("'..' is not a usable id"),
    ],
    ids=["401", "403", "404", "501", "cursor-loop", "tls", "os-error", "value-error"],
)
def test_what_never_changes_is_raised_at_once(error: Exception) -> None:
    call = Script(error)
    result, sleeps = run(call, RetryPolicy(retries=5))
    assert result is error
    assert call.calls == 1
    assert sleeps.delays == []


def test_back_pressure_spends_no_retry() -> None:
    call = Script(_429(), _429(), _429(), _503(), _429())
    result, sleeps = run(call, RetryPolicy(retries=1, base=0.0))
    assert (result, call.calls) == ("ok", 6)
    assert sleeps.delays[:3] == [2.0, 2.0, 2.0]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_back_pressure_is_bounded_by_the_patience() -> None:
    clock = Clock()
    health = ServerHealth(clock)
    policy = RetryPolicy(retries=5, rate_limit_patience=10.0)

    async def refused() -> str:
        clock.now += 4.0  # each refusal takes a while
        raise _429(retry_after=1.0)

    result, sleeps = run(refused, policy, health=health)
    assert isinstance(result, RateLimited)
    assert 2 <= len(sleeps.delays) <= 4  # about 10 s of refusals, then given up


def test_a_success_elsewhere_restarts_the_patience() -> None:
    clock = Clock()
    health = ServerHealth(clock)
    policy = RetryPolicy(rate_limit_patience=10.0)
    refusals = 0

    async def refused_then_ok() -> str:
        nonlocal refusals
        clock.now += 4.0
        refusals += 1
        if refusals <= 12:
            health.success()  # another request (a folder, a file) went through meanwhile
            raise _429(retry_after=1.0)
        return "ok"

    result, _ = run(refused_then_ok, policy, health=health)
    assert result == "ok"
    assert refusals == 13  # 48 s of 429s, never 10 s without a success
    assert health.successes == 13  # twelve elsewhere, and this call's own
