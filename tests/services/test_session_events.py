"""Sessions apart from task actions, and events that cannot be misread (issue #7, items 1-2).

Against the real reference server on a plain asyncio loop: a switch of identity
mid-run never delivers an event of the old identity to a listener of the new
one; sign-in, switch, sign-out and a 401 each say so once (SessionChanged);
a run's end, a queue reorder and file-row writes are events of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from manuscript_gui.config import Settings, app_paths
from manuscript_gui.core.events import (
    Event,
    FilesChanged,
    QueueReordered,
    RunEnded,
    RunOutcome,
    SessionChanged,
    TaskAdded,
    TaskChanged,
    TaskProgress,
)
from manuscript_gui.domain import SessionChange, StopReason, TaskStatus
from manuscript_gui.net import InvalidCredentials
from manuscript_gui.reference_server import DemoSpec, ServerHandle
from manuscript_gui.services.exports import ExportService, ServiceOptions
from tests.core.engine_helpers import project, wait_task
from tests.fixtures_server import Admin

SLOW = DemoSpec(
    seed=13,
    files_per_project=10,
    min_size=40_000,
    max_size=90_000,
    large_project_files=0,
    wide_folder_children=0,
)


@pytest.fixture
def slow(make_server: Callable[..., ServerHandle]) -> ServerHandle:
    return make_server(demo=SLOW)


def _service() -> ExportService:
    return ExportService(
        Settings(concurrency=2, retries=2), paths=app_paths(), options=ServiceOptions(fsync=False)
    )


def _task_ids(event: Event) -> set[int]:
    if isinstance(event, TaskAdded | TaskChanged | RunEnded):
        return {event.task.id}
    if isinstance(event, FilesChanged | TaskProgress):
        return {event.task_id}
    if isinstance(event, QueueReordered):
        return set(event.order)
    return set()


async def test_identities_are_offered_after_a_password_check(ref_server: ServerHandle) -> None:
    service = _service()
    choices = await service.session.identities(ref_server.base_url, "demo", "demo")
    assert [c.user_type for c in choices] == ["auditor", "manager"]
    assert all(c.label for c in choices)
    assert service.session.current is None  # nothing changed
    with pytest.raises(InvalidCredentials):
        await service.session.identities(ref_server.base_url, "demo", "wrong")


async def test_a_switch_mid_run_never_reaches_the_new_identitys_listeners(
    slow: ServerHandle, tmp_path: Path
) -> None:
    admin = Admin(slow.base_url)
    admin.faults(bandwidth_bps=40_000)
    service = _service()
    seen: list[tuple[int | None, Event]] = []
    service.events.subscribe(lambda e: seen.append((service.events.session, e)))
    first = await service.session.sign_in(slow.base_url, "demo", "demo", "auditor")
    assert (first.user_type, first.identity_label) == ("auditor", "审计员")
    item = await project(service, "prj-1")
    old_task = await service.create_export([item], tmp_path / "out-auditor")
    await service.wait_listing(old_task.id)
    await wait_task(service, old_task.id, lambda t: t.succeeded >= 1)

    mark = len(seen)
    second = await service.session.sign_in(slow.base_url, "demo", "demo", "manager")
    assert second.key != first.key
    assert service.session.current == second
    after = [e for _, e in seen[mark:]]
    switched = [e for e in after if isinstance(e, SessionChanged)]
    assert [(e.change, e.session, e.previous) for e in switched] == [
        (SessionChange.SWITCHED, second, first)
    ]
    # The auditor's task stopped (switched user) and its last words were not heard.
    assert not [e for e in after if old_task.id in _task_ids(e)], after
    # The manager's queue is what listeners see now.
    item2 = await project(service, "prj-4")
    new_task = await service.create_export([item2], tmp_path / "out-manager")
    await service.wait_listing(new_task.id)
    admin.reset()
    await service.scheduler.wait_idle()
    assert any(isinstance(e, RunEnded) and e.task.id == new_task.id for _, e in seen)
    await service.close()
    # The auditor's task paused, with the reason, in the auditor's database.
    back = _service()
    await back.session.sign_in(slow.base_url, "demo", "demo", "auditor")
    stopped = await back.task(old_task.id)
    assert (stopped.status, stopped.reason) == (TaskStatus.PAUSED, StopReason.SWITCHED_USER)
    await back.close()


async def test_sign_out_and_login_expired_are_session_events(
    fresh_server: ServerHandle, admin: Admin, tmp_path: Path
) -> None:
    service = _service()
    changes: list[SessionChanged] = []
    service.events.subscribe(lambda e: changes.append(e) if isinstance(e, SessionChanged) else None)
    info = await service.session.sign_in(fresh_server.base_url, "demo", "demo")
    await service.session.sign_out()
    assert service.session.current is None
    assert [(c.change, c.session, c.previous) for c in changes] == [
        (SessionChange.SIGNED_IN, info, None),
        (SessionChange.SIGNED_OUT, None, info),
    ]
    changes.clear()
    info = await service.session.sign_in(fresh_server.base_url, "demo", "demo")
    item = await project(service, "prj-1")
    admin.revoke("demo")  # the server ends the session: the listing meets a 401
    task = await service.create_export([item], tmp_path / "out")
    await service.wait_listing(task.id)
    assert [(c.change, c.session, c.previous) for c in changes] == [
        (SessionChange.SIGNED_IN, info, None),
        (SessionChange.LOGIN_EXPIRED, None, info),
    ]
    assert service.session.current is None
    await service.close()


async def test_run_end_reorder_and_file_batches_are_events(
    slow: ServerHandle, tmp_path: Path
) -> None:
    service = _service()
    seen: list[Event] = []
    service.events.subscribe(seen.append)
    await service.session.sign_in(slow.base_url, "demo", "demo")
    items = [await project(service, p) for p in ("prj-1", "prj-2", "prj-3")]
    service.scheduler.hold()
    tasks = [await service.create_export([i], tmp_path / i.project_id) for i in items]
    for task in tasks:
        await service.wait_listing(task.id)
    assert await service.move(tasks[2].id, up=True)
    reorders = [e for e in seen if isinstance(e, QueueReordered)]
    assert [r.order for r in reorders] == [(tasks[0].id, tasks[2].id, tasks[1].id)]
    await service.start_queue()
    await service.scheduler.wait_idle()
    ends = [e for e in seen if isinstance(e, RunEnded)]
    assert [e.task.id for e in ends] == [tasks[0].id, tasks[2].id, tasks[1].id]
    assert all(e.outcome is RunOutcome.COMPLETED for e in ends)
    assert all(e.bytes_received == e.task.total_bytes for e in ends)
    for task in tasks:
        batches = [e for e in seen if isinstance(e, FilesChanged) and e.task_id == task.id]
        written = [f.id for b in batches for f in b.files]
        assert len(set(written)) == 10  # every file row reached listeners...
        assert len(batches) < 10  # ...in batches, not one event per file
    await service.close()
