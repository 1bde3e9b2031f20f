"""app.py: the bootstrap runs the window on a qasync loop, demo mode works end to end, the
app quits cleanly, and errors in slots and callbacks are logged instead of lost.

Each run is a real process (``python driver.py ARGS``, offscreen): the driver
calls ``manuscript_gui.app.main`` after wrapping ``create_main_window`` (the
bootstrap's seam) to get the service and the window, does what the test
needs from a Qt timer on the app's own loop, closes the window, and prints
what it saw as JSON. The exit code, stderr and the folders left behind are the
app's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from pytestqt.qtbot import QtBot

from manuscript_gui import app as gui
from manuscript_gui.config import Settings, app_paths, save_settings
from manuscript_gui.services.exports import ExportService, ServiceOptions
from manuscript_gui.ui.bridge import EventBridge

ROOT = Path(__file__).resolve().parents[2]

DRIVER = textwrap.dedent(
    """
    import asyncio, json, logging, sys
    from PySide6.QtCore import QCoreApplication, QTimer
    from PySide6.QtWidgets import QApplication
    from manuscript_gui import app as gui
    from manuscript_gui.services.exports import SelectionItem

    MODE = sys.argv[1]
    seen = {}
    jobs = []
    original = gui.create_main_window

    def capture(service, settings, **kw):
        window = original(service, settings, **kw)
        seen.update(service=service, window=window, settings=settings, kw=kw)
        return window

    gui.create_main_window = capture

    async def export(service, target):
        projects = await service.projects()
        item = SelectionItem(projects[0].id, projects[0].name)
        task = await service.create_export([item], target)
        while (await service.task(task.id)).status != "completed":
            await asyncio.sleep(0.05)
        return await service.task(task.id)

    def report(**extra):
        timer.stop()
        service, window, settings = seen["service"], seen["window"], seen["settings"]
        info = service.session.current
        print(json.dumps({
            "user": info and info.user_name,
            "server": info and info.server_url,
            "settings": {"server_url": settings.server_url,
                         "default_export_dir": settings.default_export_dir,
                         "bandwidth_limit_bps": settings.bandwidth_limit_bps,
                         "language": settings.language},
            "settings_path": str(seen["kw"]["settings_path"]),
            "pause": QCoreApplication.translate("Texts", "Pause"),
            "visible": window.isVisible(),
            **extra,
        }, ensure_ascii=False))
        window.close()

    def watch():
        service = seen.get("service")
        if service is None:
            return
        if MODE == "demo":
            if service.session.current is None:
                return
            if not jobs:
                target = seen["settings"].default_export_dir
                jobs.append(asyncio.ensure_future(export(service, target)))
                return
            job, window = jobs[0], seen["window"]
            if job.done() and window.task_model.rowCount() == 1:
                task = job.result()
                report(status=str(task.status), files=task.total_files,
                       succeeded=task.succeeded, rows=window.task_model.rowCount())
        elif MODE == "lost":
            timer.stop()
            QApplication.quit()  # as Qt does when the display connection breaks
        elif MODE == "faults":
            if not jobs:
                loop = asyncio.get_running_loop()
                loop.call_soon(lambda: 1 / 0)  # a callback that raises
                jobs.append(1)
                raise RuntimeError("a slot failed")  # reaches sys.excepthook
            report()
        else:
            report()

    qapp = QApplication([sys.argv[0]])
    timer = QTimer()
    timer.timeout.connect(watch)
    timer.start(50)
    sys.exit(gui.main(sys.argv[2:]))
    """
)


def drive(tmp_path: Path, mode: str, *args: str) -> tuple[int, dict[str, Any], str]:
    """Run the app under the driver; (exit code, what it reported, stderr)."""
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER, encoding="utf-8")
    scratch = tmp_path / "tmp"
    scratch.mkdir(exist_ok=True)
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "TMPDIR": str(scratch),  # where the demo's temporary app home goes
        "QT_API": "pyside6",
    }
    proc = subprocess.run(
        [sys.executable, str(driver), mode, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    report = json.loads(lines[-1]) if lines else {}
    return proc.returncode, report, proc.stderr


def _no_crash(stderr: str) -> None:
    for sign in ("Traceback", "QThread: Destroyed", "Aborted", "core dumped"):
        assert sign not in stderr, stderr


def test_demo_opens_the_window_signed_in_and_exports(tmp_path: Path) -> None:
    target = tmp_path / "demo-export"
    code, report, stderr = drive(
        tmp_path, "demo", "--demo", "--files", "5", "--to", str(target), "--language", "zh_CN"
    )
    assert code == gui.EXIT_OK, stderr
    _no_crash(stderr)
    assert report["visible"] is True
    # Signed in as the demo user on the embedded server, on loopback.
    assert report["user"]
    assert report["server"].startswith("http://127.0.0.1:")
    assert report["settings"] == {
        "server_url": report["server"],
        "default_export_dir": str(target),
        "bandwidth_limit_bps": gui.DEMO_RATE,
        "language": "zh_CN",
    }
    # The language was installed before the window was built.
    assert report["pause"] == "暂停"
    # A project exported through the window's service showed in the window's list.
    assert report["status"] == "completed"
    assert report["files"] == report["succeeded"] == 5
    assert report["rows"] == 1
    exported = [p for p in target.rglob("*") if p.is_file()]
    assert len(exported) == 5
    # Quit cleanly: the demo's temporary home (server data, database, settings) is gone,
    # and the real profile was never touched.
    assert list((tmp_path / "tmp").iterdir()) == []
    assert not Path(report["settings_path"]).exists()
    assert not Path(os.environ["MANUSCRIPT_GUI_HOME"]).exists()


def test_the_app_starts_signed_out_with_the_users_settings(tmp_path: Path) -> None:
    paths = app_paths()
    save_settings(Settings(language="zh_CN", concurrency=3), paths.settings_file)
    code, report, stderr = drive(tmp_path, "plain")
    assert code == gui.EXIT_OK, stderr
    _no_crash(stderr)
    assert report["user"] is None  # the window offers the sign-in; nobody is signed in
    assert report["settings"]["language"] == "zh_CN"
    assert report["pause"] == "暂停"
    assert report["settings_path"] == str(paths.settings_file)
    # The log goes to the app's log folder.
    assert (paths.log_dir / "manuscript-gui.log").is_file()


def test_the_language_option_wins_over_the_settings(tmp_path: Path) -> None:
    save_settings(Settings(language="zh_CN"), app_paths().settings_file)
    code, report, stderr = drive(tmp_path, "plain", "--language", "en")
    assert code == gui.EXIT_OK, stderr
    assert report["pause"] == "Pause"
    assert report["settings"]["language"] == "en"


def test_a_lost_display_ends_the_app_in_one_line(tmp_path: Path) -> None:
    code, _report, stderr = drive(tmp_path, "lost", "--demo")
    assert code == gui.EXIT_FAILED
    assert "display connection lost" in stderr
    _no_crash(stderr)
    assert "Exception ignored" not in stderr


def test_errors_in_slots_and_callbacks_are_logged_and_the_app_goes_on(tmp_path: Path) -> None:
    code, report, stderr = drive(tmp_path, "faults")
    assert code == gui.EXIT_OK, stderr
    assert report["visible"] is True  # still running after both errors
    log = (app_paths().log_dir / "manuscript-gui.log").read_text(encoding="utf-8")
    assert "uncaught exception" in log
    assert "RuntimeError: a slot failed" in log
    assert "ZeroDivisionError" in log


def test_create_main_window_builds_the_window_on_the_service(
    qtbot: QtBot, qloop: Any, tmp_path: Path
) -> None:
    """The seam the lead wires: the window of ``ui.main_window`` on the given service."""
    from PySide6.QtWidgets import QMainWindow

    service = ExportService(Settings(), paths=app_paths(), options=ServiceOptions(fsync=False))
    bridge = EventBridge(service.events)
    try:
        window = gui.create_main_window(
            service, Settings(), settings_path=tmp_path / "settings.json", bridge=bridge
        )
        qtbot.addWidget(window)
        assert isinstance(window, QMainWindow)
        from manuscript_gui.ui.main_window import MainWindow

        assert isinstance(window, MainWindow)
    finally:
        bridge.close()
