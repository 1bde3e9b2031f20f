"""The window's dialogs: sign in / switch user, new export, settings.

Each dialog is opened with ``open()`` (never ``exec()`` inside a coroutine),
does its server and disk work in background coroutines on the qasync loop
(``ui.widgets.JobRunner``), stays responsive while it waits (a busy bar, the
OK button disabled, Cancel aborting the wait) and reports bad input inline.

- ``dialogs.login.LoginDialog(service, settings, reason=...)``: emits
  ``signed_in(SessionInfo)``.
- ``dialogs.new_export.NewExportDialog(service, settings)``: emits
  ``created(TaskRecord)``.
- ``dialogs.settings.SettingsDialog(settings)``: emits ``changed(Settings)``.

This module holds what two of them share: :func:`update_settings`, the one way
a dialog writes the settings file, and :func:`check_target` /
:func:`target_problem_text`, the one check of an export folder (the new
export's target, the settings' default export folder).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication

from manuscript_gui.config import Settings, app_paths, load_settings, save_settings
from manuscript_gui.ui import texts

__all__ = ["TargetProblem", "check_target", "target_problem_text", "typed_path", "update_settings"]


def update_settings(base: Settings, path: Path | None = None, **changes: object) -> Settings:
    """Write *changes* (field name -> value) into the settings file; return what was saved.

    Read-modify-write of the named fields only: the other fields are taken from
    the file as it is now, so a dialog never undoes what another one (or the
    command line's ``login``) saved meanwhile. When the file is missing or was
    unreadable (set aside by :func:`~manuscript_gui.config.load_settings`),
    *base*, the caller's current settings, stands in for it.

    Blocking (a read, an atomic write with fsync): run it off the event loop.

    Args:
        base: the settings the caller holds.
        path: the settings file (``None``: the app's, ``config.app_paths()``).
        changes: ``Settings`` field names and their new values.

    Raises:
        ValueError: a value the field does not accept (nothing is written).
        OSError: the file could not be written.
    """
    path = app_paths().settings_file if path is None else path
    current = base
    if path.exists():
        loaded = load_settings(path)
        if loaded.moved_aside is None:
            current = loaded.settings
    updated = dataclasses.replace(current, **changes)  # type: ignore[arg-type]
    save_settings(updated, path)
    return updated


def typed_path(text: str) -> str:
    """A folder or file path as the user typed or pasted it, made usable: surrounding
    white space dropped, a leading ``~`` expanded to the home folder (``~/底稿``, as a
    shell would), an absolute path normalised (``/a/./b/../c`` -> ``/a/c``). A relative
    path is returned as it is (the dialogs refuse it: the app's working folder is not
    the user's)."""
    path = text.strip()
    if path.startswith("~"):
        path = os.path.expanduser(path)
    return os.path.normpath(path) if os.path.isabs(path) else path


@dataclass(frozen=True, slots=True)
class TargetProblem:
    """Why an export folder cannot be used.

    ``kind``: ``is_file`` (the folder itself is a file), ``parent_is_file`` (a
    folder on its path is a file: ``path``), ``not_writable`` (``path``, the
    nearest existing folder, cannot be written; ``detail`` the system's words).
    """

    kind: str
    path: str
    detail: str = ""


def check_target(target: Path) -> TargetProblem | None:
    """Whether an export can write into the absolute folder *target* (which need not exist).

    The nearest existing folder on its path must be a folder and writable:
    ``os.access`` first, then a probe file created and removed there (``access``
    says yes for root, on read-only mounts and often on Windows). Blocking:
    run it off the event loop.
    """
    if "\0" in str(target):  # no file system takes it; os calls raise ValueError
        return TargetProblem("not_writable", str(target), "the path holds a NUL character")
    try:
        return _check_target(target)
    except OSError as exc:  # e.g. a folder on the path that may not be searched
        return TargetProblem("not_writable", str(target), exc.strerror or str(exc))


def _check_target(target: Path) -> TargetProblem | None:
    if target.exists() and not target.is_dir():
        return TargetProblem("is_file", str(target))
    existing = target
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        return TargetProblem("parent_is_file", str(existing))
    if not os.access(existing, os.W_OK | os.X_OK):
        return TargetProblem("not_writable", str(existing), "permission denied")
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".manuscript-probe-")
    except OSError as exc:
        return TargetProblem("not_writable", str(existing), exc.strerror or str(exc))
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return None


def target_problem_text(problem: TargetProblem) -> str:
    """The inline message for *problem*, in the user's language (context ``ExportFolder``)."""
    path = texts.in_sentence(problem.path)
    if problem.kind == "is_file":
        return texts.fill(
            QCoreApplication.translate("ExportFolder", "%1 is a file, not a folder."), path
        )
    if problem.kind == "parent_is_file":
        return texts.fill(
            QCoreApplication.translate(
                "ExportFolder", "The folder cannot be created: %1 is a file."
            ),
            path,
        )
    return texts.fill(
        QCoreApplication.translate(
            "ExportFolder", "You cannot write to %1. Choose another folder.\n(%2)"
        ),
        path,
        texts.display_safe(problem.detail, texts.DETAIL_LIMIT),
    )
