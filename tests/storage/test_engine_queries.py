"""Queries the export engine relies on: listing state, relisting, relocation, open bytes."""

from __future__ import annotations

from manuscript_gui.storage import ExportStore, TaskStatus, Transition
from tests.storage.helpers import new_files


def test_listing_state_round_trips(store: ExportStore) -> None:
    task = store.create_task("t", "/tmp/out", {"items": []})
    assert task.listed is False
    done = store.transition(task.id, Transition.END_LISTING)
    assert (done.listed, done.status) == (True, TaskStatus.WAITING)
    assert store.get_task(task.id).listed is True


def test_start_listing_starts_a_listing_over(store: ExportStore) -> None:
    task = store.create_task("t", "/tmp/out", {"items": []})
    store.insert_files(task.id, new_files(50))
    assert store.recompute_task_counts(task.id).total_files == 50
    after = store.transition(task.id, Transition.START_LISTING)
    assert (after.total_files, after.total_bytes, after.listed) == (0, 0, False)
    assert after.status is TaskStatus.INITIALIZING
    assert store.page_files(task.id) == []


def test_relocate_refuses_a_path_another_file_has(store: ExportStore) -> None:
    task = store.create_task("t", "/tmp/out", {"items": []})
    store.insert_files(task.id, new_files(2))
    first, second = store.page_files(task.id)
    assert store.relocate_file(task.id, first.id, "elsewhere/x (2).xlsx") is True
    assert store.page_files(task.id)[0].local_path == "elsewhere/x (2).xlsx"
    assert store.relocate_file(task.id, second.id, "elsewhere/x (2).xlsx") is False
    assert store.page_files(task.id)[1].local_path == second.local_path
