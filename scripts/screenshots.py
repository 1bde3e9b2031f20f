"""Screenshots of the window for the README, in every language (issue #8 item 7).

Run it from the project folder under a virtual X display (the real rendering path)::

    xvfb-run -a -s "-screen 0 1600x1000x24" \\
        .venv/bin/python scripts/screenshots.py --out docs/screenshots

On a machine without X (CI) Qt's ``offscreen`` platform draws the same widgets
without a display server (fonts may differ slightly from X11)::

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py --out /tmp/shots

Chinese needs a CJK font (Debian: ``fonts-wqy-microhei``). A run takes about
25 s per language.

For each language (``--languages``, default ``zh_CN en``), in one process and
one qasync loop, the script sets the app up as its demo mode does, with the
app's own functions: :func:`manuscript_gui.app.demo_environment` (the
reference server in-process on loopback with demo data, here with its admin
fault endpoints on; a temporary app home whose settings name the server, the
demo user, the export folder and the language), then
:func:`manuscript_gui.ui.i18n.install` of the settings' language, an
``ExportService``, an ``EventBridge`` and
:func:`manuscript_gui.app.create_main_window`. Then it drives the real window
through its public API (its actions, its dialogs' fields and buttons) and
takes the shots (:data:`SCENES`):

``login``
    The window opens signed out; its *Sign in* dialog checks the demo
    user's password and offers the user's two identities (the shot); the
    first one signs in.
(no shot)
    A task of prj-2 runs at full speed while the server answers one of its
    files with 503 (fault ``errorFiles``): it completes with one failed file.
    From then on the server paces every download (fault ``bandwidthBps``),
    so the next tasks stay visibly mid-way. A task of prj-3 starts and is
    paused with the toolbar's *Pause* (reason: paused by the user).
``new-export``
    The window's new-export dialog: prj-1 expanded, its ``D 实质性程序``
    folder expanded, two of its sub-folders ticked (the folder and the
    project show partly ticked). *Create export* makes the third task, which
    starts running; a fourth task (four other folders of prj-1) waits behind.
``login-expired``
    The server revokes every token: the running task pauses with *login
    expired* and the window opens the sign-in dialog with that reason (the
    shot). Signing in again there lets the queue run the waiting task.
``main``
    The window: the fourth task running and selected (progress, speed, time
    left; the detail pane lists its files, some in flight), the two paused
    tasks with their reasons, the completed task with its failure.
``failures``
    The completed task selected, the detail pane filtered to failed files.
``settings``
    The settings dialog.

The service is only read to wait for states. Shots are ``QWidget.grab()``
of the window (:data:`WINDOW_SIZE`, fixed so the README's images stay
comparable) or of the dialog (its client area: no title bar), saved as
``<out>/<language>-<scene>.png``. The export folders live under
``<tmp>/manuscript-screenshots`` (emptied before and after); the real app
profile is never touched (``MANUSCRIPT_GUI_HOME`` points at a temporary folder
for the whole run).

Exit codes: 0 every shot saved; 1 a step failed or timed out (the message
says which, with the window's state; the shots so far stay); 2 no display
or bad arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final, TypeVar

import httpx
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from manuscript_gui import app
from manuscript_gui.config import LANGUAGES, Language
from manuscript_gui.core.actions import Action
from manuscript_gui.domain import StopReason, TaskRecord, TaskStatus
from manuscript_gui.services.exports import ExportService
from manuscript_gui.services.reads import FileEntry, FileFilter, FolderEntry
from manuscript_gui.ui import i18n
from manuscript_gui.ui.bridge import EventBridge
from manuscript_gui.ui.dialogs.login import LoginDialog
from manuscript_gui.ui.dialogs.new_export import NewExportDialog
from manuscript_gui.ui.dialogs.settings import SettingsDialog
from manuscript_gui.ui.main_window import MainWindow

_log = logging.getLogger("screenshots")

SCENES: Final = ("login", "new-export", "login-expired", "main", "failures", "settings")
"""The shots of one language, in the order they are taken."""

WINDOW_SIZE: Final = (1280, 760)
"""The main window's size in the shots (pixels)."""

DEMO_FILES: Final = 120
"""Files per demo project (enough for the throttled tasks to stay running a while)."""
DEMO_PASSWORD: Final = "demo"
FAILED_PROJECT: Final = "prj-2"
"""The project of the completed task; one of its files always gets 503."""
PAUSED_PROJECT: Final = "prj-3"
"""The project of the task paused by the user."""
EXPORT_PROJECT: Final = "prj-1"
"""The project of the last two tasks."""
TICKED_FOLDER: Final = "D 实质性程序"
TICKED_SUBFOLDERS: Final = ("D1 货币资金", "D3 应收账款")
"""What the new-export shot ticks: the third task, running when the login expires."""
RUNNING_FOLDERS: Final = ("A 业务承接", "B 风险评估", "C 控制测试", "E 完成阶段")
"""The folders of the fourth task, running in the main shot."""
THROTTLE_BPS: Final = 4 * 1024
"""The server's pace per download once the first task is done (bytes/s)."""

EXPORT_FOLDER: Final[dict[str, str]] = {"zh_CN": "底稿导出", "en": "Working papers"}
"""The export folder's name per language (under ``<tmp>/manuscript-screenshots``)."""

TIMEOUT_S: Final = 180.0
"""The longest wait for any one state (the machine may be slow and loaded)."""


class StepFailed(RuntimeError):
    """A scripted step did not reach its state in time."""


# ------------------------------------------------------------------------- helpers


async def wait_until(
    condition: Callable[[], object], what: str, seconds: float = TIMEOUT_S
) -> None:
    """Poll *condition* on the loop (every 0.1 s) until it is true; :class:`StepFailed`
    naming *what* after *seconds*."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        if loop.time() > deadline:
            raise StepFailed(f"timed out after {seconds:g} s waiting for {what}")
        await asyncio.sleep(0.1)


async def settle(seconds: float = 0.6) -> None:
    """Let coalesced updates, layouts and paints happen before a shot: the loop runs Qt's
    events meanwhile. (Never ``processEvents()`` inside a coroutine on qasync: it runs
    other tasks' steps nested in this one, which asyncio refuses, and drops them.)"""
    await asyncio.sleep(seconds)


class ServerAdmin:
    """The reference server's ``/__admin__`` endpoints (loopback only), awaited on the loop."""

    def __init__(self, base_url: str) -> None:
        self._base_url = base_url.rstrip("/")

    async def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self._base_url, trust_env=False) as client:
            response = await client.post(path, json=body, timeout=30)
        response.raise_for_status()
        return response

    async def faults(self, **knobs: Any) -> None:
        """Merge fault knobs (the server's camelCase names, e.g. ``bandwidthBps=4096``)."""
        await self._post("/__admin__/faults", knobs)

    async def revoke_tokens(self) -> int:
        """Revoke every token (the next request of every client gets 401); how many."""
        response = await self._post("/__admin__/tokens/revoke", {"username": None})
        return int(response.json()["revoked"])


class Shooter:
    """Saves ``<out>/<language>-<scene>.png`` from a widget's ``grab()``."""

    def __init__(self, out: Path, language: str) -> None:
        self.out = out
        self.language = language
        self.saved: list[Path] = []

    async def shot(self, scene: str, widget: QWidget) -> Path:
        if scene not in SCENES:
            raise ValueError(f"unknown scene {scene!r}")
        await settle()
        path = self.out / f"{self.language}-{scene}.png"
        pixmap = widget.grab()
        if pixmap.isNull() or not pixmap.save(str(path), "PNG"):
            raise StepFailed(f"could not save {path}")
        _log.info("saved %s (%dx%d)", path, pixmap.width(), pixmap.height())
        self.saved.append(path)
        return path


D = TypeVar("D", bound=QDialog)


def _dialog(dialog: QDialog | None, kind: type[D], what: str) -> D:
    """*dialog* as a *kind*, or :class:`StepFailed` (the window opened none)."""
    if not isinstance(dialog, kind):
        raise StepFailed(f"the window opened no {what} dialog")
    return dialog


# ------------------------------------------------------------------- the session


class ScriptedSession:
    """One language's scripted session on one window (see the module docstring)."""

    def __init__(
        self, window: MainWindow, service: ExportService, admin: ServerAdmin, shooter: Shooter
    ) -> None:
        self.window = window
        self.service = service
        self.admin = admin
        self.shooter = shooter

    # -- reading the window ------------------------------------------------------------

    def task(self, task_id: int) -> TaskRecord | None:
        """The task as the window's list shows it (``None``: not shown)."""
        return next((t for t in self.window.tasks() if t.id == task_id), None)

    def running(self, task_id: int, files_done: int = 0) -> bool:
        """The task runs and has at least *files_done* files done."""
        task = self.task(task_id)
        return (
            task is not None
            and self.window.task_model.running_task_id == task_id
            and task.succeeded + task.failed >= files_done
        )

    def stopped(self, task_id: int, status: TaskStatus, reason: StopReason | None = None) -> bool:
        """The task shows *status* (and *reason*) and does not run."""
        task = self.task(task_id)
        return (
            task is not None
            and task.status == status
            and (reason is None or task.reason == reason)
            and self.window.task_model.running_task_id != task_id
        )

    def describe(self) -> str:
        """The window's state in one paragraph (for a step that timed out)."""
        window = self.window
        tasks = "; ".join(
            f"#{t.id} {t.name!r} {t.status}/{t.reason} {t.succeeded}+{t.failed}/{t.total_files}"
            for t in window.tasks()
        )
        return (
            f"signed in: {self.service.session.current is not None}, "
            f"running: {window.task_model.running_task_id}, tasks: [{tasks}], "
            f"dialogs: login={window.login_dialog is not None} "
            f"new export={window.new_export_dialog is not None} "
            f"settings={window.settings_dialog is not None}"
        )

    # -- steps -----------------------------------------------------------------------------

    async def sign_in(self, shot: str | None) -> None:
        """In the open sign-in dialog: the password, Sign in, the identity list (the shot,
        if any), Sign in again (the remembered identity is preselected)."""
        window = self.window
        dialog = _dialog(window.login_dialog, LoginDialog, "sign-in")
        dialog.password_edit.setText(DEMO_PASSWORD)
        dialog.sign_in_button.click()
        await wait_until(lambda: dialog.choices and not dialog.busy, "the identity list")
        if shot is not None:
            await self.shooter.shot(shot, dialog)
        dialog.sign_in_button.click()
        await wait_until(
            lambda: window.login_dialog is None and window.showing_tasks and not window.busy,
            "the sign-in",
        )

    async def open_new_export(self) -> NewExportDialog:
        window = self.window
        window.window_actions.new_export.trigger()
        dialog = _dialog(window.new_export_dialog, NewExportDialog, "new-export")
        await wait_until(lambda: dialog.projects() and not dialog.busy, "the project list")
        return dialog

    @staticmethod
    def project_row(dialog: NewExportDialog, project_id: str) -> Any:
        row = next((n for n in dialog.projects() if n.project.id == project_id), None)
        if row is None:
            raise StepFailed(f"project {project_id} is not in the new-export dialog")
        return row

    @staticmethod
    async def expand(dialog: NewExportDialog, row: Any) -> list[Any]:
        """Expand a tree row and wait for its folders; returns their rows."""
        dialog.tree.expandItem(row)
        await wait_until(lambda: row.loaded and not dialog.busy, f"the folders of {row.text(0)}")
        children: list[Any] = row.nodes()
        return children

    @staticmethod
    def child_named(children: Sequence[Any], name: str) -> Any:
        found = next((c for c in children if c.text(0) == name), None)
        if found is None:
            raise StepFailed(f"no folder {name!r} among {[c.text(0) for c in children]}")
        return found

    @staticmethod
    def tick(row: Any) -> None:
        row.setCheckState(0, Qt.CheckState.Checked)  # what a click on its box does

    async def create(self, dialog: NewExportDialog) -> int:
        """*Create export* in the dialog; returns the new task's id once its row shows."""
        window = self.window
        before = {t.id for t in window.tasks()}
        dialog.create_button.click()
        await wait_until(lambda: window.new_export_dialog is None, "the new export")
        await wait_until(lambda: {t.id for t in window.tasks()} - before, "the new task's row")
        (task_id,) = {t.id for t in window.tasks()} - before
        return task_id

    async def export(self, project_id: str, folders: Sequence[str] = ()) -> int:
        """A task through the new-export dialog: the project, or some of its top-level
        folders, ticked; *Create export*. Returns the new task's id."""
        dialog = await self.open_new_export()
        project = self.project_row(dialog, project_id)
        if folders:
            children = await self.expand(dialog, project)
            for name in folders:
                self.tick(self.child_named(children, name))
        else:
            self.tick(project)
        return await self.create(dialog)

    async def first_file_id(self, project_id: str) -> str:
        """A file of *project_id* (the first one breadth-first), read as the dialog reads."""
        pending = ["root"]
        while pending:
            entries = await self.service.children(project_id, pending.pop(0))
            for entry in entries:
                if isinstance(entry, FileEntry):
                    return entry.id
            pending += [e.id for e in entries if isinstance(e, FolderEntry)]
        raise StepFailed(f"project {project_id} has no file")

    async def trigger(self, task_id: int, action: Action) -> None:
        """Select a task's row and trigger one of the toolbar's task actions."""
        window = self.window
        window.select_task(task_id)
        qaction = window.window_actions.task[action]
        await wait_until(qaction.isEnabled, f"{action.value} to be enabled on task {task_id}")
        qaction.trigger()

    async def show_files(self, task_id: int, file_filter: FileFilter) -> None:
        """Select a task and filter its files; wait for the first page and the counts."""
        window = self.window
        window.select_task(task_id)
        detail = window.detail
        await wait_until(lambda: detail.task_id == task_id, "the detail pane")
        detail.filter_buttons[file_filter].click()
        await wait_until(lambda: not detail.busy and detail.counts, "the files and their counts")

    # -- the whole session ------------------------------------------------------------------

    async def run(self) -> None:
        """The session (module docstring); a step that fails says the window's state."""
        try:
            await self._run()
        except StepFailed as exc:
            raise StepFailed(f"{exc}\n  {self.describe()}") from None

    async def _run(self) -> None:
        window = self.window
        window.window_actions.sign_in.trigger()
        await self.sign_in("login")

        # A task that completes with one failed file (that file always gets 503).
        await self.admin.faults(errorFiles=[await self.first_file_id(FAILED_PROJECT)])
        failed_task = await self.export(FAILED_PROJECT)
        await wait_until(
            lambda: (
                self.stopped(failed_task, TaskStatus.COMPLETED)
                and getattr(self.task(failed_task), "failed", 0) == 1
            ),
            "the first task to complete with one failure",
        )

        # From now on every download is paced: the next tasks stay mid-way.
        await self.admin.faults(bandwidthBps=THROTTLE_BPS)
        paused_task = await self.export(PAUSED_PROJECT)
        await wait_until(lambda: self.running(paused_task, 2), "the second task to run")
        await self.trigger(paused_task, Action.PAUSE)
        await wait_until(
            lambda: self.stopped(paused_task, TaskStatus.PAUSED, StopReason.BY_USER),
            "the second task to pause",
        )

        # The new-export dialog with a partly ticked project: the third task.
        dialog = await self.open_new_export()
        project = self.project_row(dialog, EXPORT_PROJECT)
        folder = self.child_named(await self.expand(dialog, project), TICKED_FOLDER)
        subfolders = await self.expand(dialog, folder)
        for name in TICKED_SUBFOLDERS:
            self.tick(self.child_named(subfolders, name))
        dialog.tree.scrollToItem(project)
        await wait_until(lambda: not dialog.busy, "the free space")
        await self.shooter.shot("new-export", dialog)
        expired_task = await self.create(dialog)
        await wait_until(lambda: self.running(expired_task, 2), "the third task to run")
        running_task = await self.export(EXPORT_PROJECT, RUNNING_FOLDERS)  # waits behind

        # The login expires (the server forgets every token): the window asks again.
        await self.admin.revoke_tokens()
        await wait_until(lambda: window.login_dialog is not None, "the sign-in dialog")
        await self.shooter.shot("login-expired", _dialog(window.login_dialog, QDialog, "sign-in"))
        await self.sign_in(None)
        await wait_until(
            lambda: self.stopped(expired_task, TaskStatus.PAUSED, StopReason.LOGIN_EXPIRED),
            "the third task to show the expired login",
        )

        # The window: the fourth task running, mid-way, its files in the detail pane.
        await wait_until(lambda: self.running(running_task, 3), "the fourth task to run")
        await self.show_files(running_task, FileFilter.ALL)
        await wait_until(
            lambda: self.running(running_task) and window.detail.counts.get(FileFilter.IN_PROGRESS),
            "files in flight",
        )
        await self.shooter.shot("main", window)

        await self.show_files(failed_task, FileFilter.FAILED)
        await wait_until(lambda: window.detail.model.rowCount() == 1, "the failed file's row")
        await self.shooter.shot("failures", window)

        window.window_actions.settings.trigger()
        settings = _dialog(window.settings_dialog, SettingsDialog, "settings")
        await self.shooter.shot("settings", settings)
        settings.cancel_button.click()


# --------------------------------------------------------------------------- running


async def shoot_language(language: Language, out: Path, files: int, exports: Path) -> list[Path]:
    """One language's session in a fresh demo environment; returns the PNGs saved."""
    target = exports / EXPORT_FOLDER.get(language, "exports")
    shooter = Shooter(out, language)
    async with app.demo_environment(files, target, language, admin=True) as demo:
        i18n.install(demo.settings.language)
        service = ExportService(demo.settings, paths=demo.paths)
        bridge = EventBridge(service.events)
        window = app.create_main_window(
            service, demo.settings, settings_path=demo.paths.settings_file, bridge=bridge
        )
        try:
            if not isinstance(window, MainWindow):
                raise TypeError(f"create_main_window gave a {type(window).__name__}")
            window.resize(*WINDOW_SIZE)
            window.show()
            admin = ServerAdmin(demo.server.base_url)
            await ScriptedSession(window, service, admin, shooter).run()
        finally:
            window.close()
            bridge.close()
            await service.close()
            window.deleteLater()
    return shooter.saved


async def shoot(languages: Sequence[Language], out: Path, files: int) -> list[Path]:
    """Every language's session, one after the other; returns the PNGs saved."""
    exports = Path(tempfile.gettempdir()) / "manuscript-screenshots"
    shutil.rmtree(exports, ignore_errors=True)
    saved: list[Path] = []
    try:
        for language in languages:
            saved += await shoot_language(language, out, files, exports)
    finally:
        shutil.rmtree(exports, ignore_errors=True)
    return saved


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="screenshots", description="Screenshots of the window for the README."
    )
    parser.add_argument("--out", type=Path, required=True, help="the folder for the PNGs")
    parser.add_argument(
        "--languages",
        nargs="+",
        choices=[lang for lang in LANGUAGES if lang != "system"],
        default=["zh_CN", "en"],
        help="the languages to shoot (default: zh_CN en)",
    )
    parser.add_argument(
        "--files", type=int, default=DEMO_FILES, help=f"files per demo project ({DEMO_FILES})"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log the app's info too")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if app.display_problem() is not None:
        print(
            'screenshots: no display; run it under xvfb-run -a -s "-screen 0 1600x1000x24" '
            "or with QT_QPA_PLATFORM=offscreen",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    _log.setLevel(logging.INFO)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_API", "pyside6")  # before qasync (research pitfalls §1)
    import qasync

    with tempfile.TemporaryDirectory(prefix="manuscript-screenshots-home-") as home:
        os.environ["MANUSCRIPT_GUI_HOME"] = home  # nothing reaches the real profile
        qt_app = QApplication([sys.argv[0]])
        qt_app.setApplicationName(app.PROG)
        qt_app.setQuitOnLastWindowClosed(False)
        try:
            with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(qt_app)) as runner:
                saved = runner.run(shoot(args.languages, out, args.files))
        except StepFailed as exc:
            print(f"screenshots: {exc}", file=sys.stderr)
            return 1
    print(f"screenshots: {len(saved)} PNG files in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
