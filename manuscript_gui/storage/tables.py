"""Peewee models of the two tables: the task list and the per-file details.

The models describe the *current* schema for queries; the schema itself is
created and changed only by the numbered migrations in ``migrations.py`` (raw
DDL frozen per version), so a fresh database and an upgraded one end up
identical. A test checks that these models and the migrated tables agree.

The module-level classes are unbound templates. :func:`bind_models` derives
subclasses bound to one ``SqliteDatabase``, which is how several identity
databases stay open side by side in one process (see ``store.py``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

import peewee as pw

__all__ = ["BoundModels", "Task", "TaskFile", "bind_models", "sqlite_connection"]


class _BaseModel(pw.Model):
    class Meta:
        # Never used unbound: a query on a template model fails loudly
        # instead of reaching some other identity's database.
        database = None


class Task(_BaseModel):
    """One export task. ``status`` never holds ``running`` (enforced by a CHECK too).

    The counters are derived from the file rows by one aggregate query
    (``ExportStore.recompute_task_counts``) and written nowhere else.
    """

    id = pw.AutoField()
    name = pw.TextField()
    target_dir = pw.TextField()
    selection = pw.TextField()  # JSON: the projects/folders the user chose
    status = pw.TextField()
    reason = pw.TextField(null=True)
    reason_detail = pw.TextField(null=True)
    reason_params = pw.TextField(null=True)  # JSON object (schema v5)
    position = pw.IntegerField()  # queue order (move up/down swaps two positions)
    total_files = pw.IntegerField(default=0)
    succeeded = pw.IntegerField(default=0)
    failed = pw.IntegerField(default=0)
    total_bytes = pw.IntegerField(default=0)
    done_bytes = pw.IntegerField(default=0)
    created_at = pw.TextField()  # ISO 8601, UTC: readable in the sqlite3 shell and sortable
    updated_at = pw.TextField()
    finished_at = pw.TextField(null=True)
    listed = pw.BooleanField(default=False)  # the file list is complete (schema v3)
    staging_key = pw.TextField(null=True)  # partials: .manuscript-partial/<key>/ (schema v4)

    class Meta:
        table_name = "task"


class TaskFile(_BaseModel):
    """One file of a task, with everything needed to resume it after a crash."""

    id = pw.AutoField()
    # A plain integer on the peewee side: the FOREIGN KEY (ON DELETE CASCADE)
    # lives in the migration DDL, and nothing here ever needs a lazy join.
    task_id = pw.IntegerField()
    remote_id = pw.TextField()
    project_id = pw.TextField()
    remote_path = pw.TextField()  # for display and failure reports
    local_path = pw.TextField()  # relative to the task's target_dir, "/"-separated
    sort_key = pw.TextField(default="")  # natural order of local_path (schema v6, sorting.py)
    version = pw.IntegerField()  # pinned at task creation
    size = pw.IntegerField()
    sha256 = pw.TextField()
    content_type = pw.TextField(null=True)
    etag = pw.TextField(null=True)  # for If-Range when resuming (schema v2)
    status = pw.TextField()
    outcome = pw.TextField(null=True)
    error_code = pw.TextField(null=True)
    error_message = pw.TextField(null=True)
    error_params = pw.TextField(null=True)  # JSON object (schema v5)
    attempts = pw.IntegerField(default=0)
    updated_at = pw.TextField()

    class Meta:
        table_name = "task_file"


@dataclass(frozen=True, slots=True)
class BoundModels:
    """The model classes bound to one database."""

    task: type[Task]
    file: type[TaskFile]


def bind_models(db: pw.Database) -> BoundModels:
    """Subclass the templates with ``Meta.database = db``.

    Unlike ``Model.bind`` or a global ``DatabaseProxy`` this mutates nothing
    shared, so two stores (two identities) can be used at the same time.
    """

    class BoundTask(Task):
        class Meta:
            database = db
            table_name = Task._meta.table_name

    class BoundTaskFile(TaskFile):
        class Meta:
            database = db
            table_name = TaskFile._meta.table_name

    return BoundModels(task=BoundTask, file=BoundTaskFile)


def sqlite_connection(db: pw.Database) -> sqlite3.Connection:
    """The driver connection under *db*, for DDL, PRAGMAs and ``executemany``.

    Typed (peewee's ``execute_sql`` is not), and used inside peewee's
    ``atomic()`` blocks, which run on this same connection.
    """
    conn: sqlite3.Connection = db.connection()  # type: ignore[no-untyped-call]
    return conn
