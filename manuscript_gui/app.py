"""Application entry point (``manuscript-gui``): the window on a qasync loop, and demo mode.

``main(argv)`` parses the arguments, checks that there is a display to open a
window on (before Qt is imported: without one Qt aborts with a trace; here it
is one line naming the way out, exit code 2), sets up logging, then runs
:func:`run_app` on a qasync event loop: settings, the language
(:mod:`manuscript_gui.ui.i18n`), one :class:`~manuscript_gui.services.exports.ExportService`,
its :class:`~manuscript_gui.ui.bridge.EventBridge`, and the main window from
:func:`create_main_window` (the one seam between the bootstrap and the window).
The app ends when the window closes: the bridge stops listening, the service
signs out (the running task stops, its rows are written), and — in demo mode —
the embedded server stops and its temporary folder goes, all awaited on the
loop before it stops (research/desktop-stack-pitfalls.md §1 "Quitting").

``--demo`` (``python3 dev.py demo``, the README's first command): the reference
server starts in-process on loopback with demo data, the app keeps its
database and settings in a temporary folder (the real profile is not
touched), the demo user is signed in, and the window opens on its (empty)
queue with the demo projects ready to export into ``--to DIR`` (default
``./manuscript-demo``, kept afterwards). Downloads are limited to
:data:`DEMO_RATE` so the progress can be watched (Settings changes it).

Exit codes: 0 the window was closed; 1 the app could not start (logged); 2 no
display or bad arguments; 130 interrupted (Ctrl-C in the terminal).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import logging.handlers
import os
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final

from manuscript_gui.config import (
    LANGUAGES,
    AppPaths,
    Language,
    Settings,
    app_paths,
    load_settings,
    save_settings,
)

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication, QMainWindow

    from manuscript_gui.reference_server import ServerHandle
    from manuscript_gui.services.exports import ExportService
    from manuscript_gui.ui.bridge import EventBridge

__all__ = [
    "DEMO_RATE",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "EXIT_NO_DISPLAY",
    "EXIT_OK",
    "create_main_window",
    "display_problem",
    "main",
    "parse_args",
    "run_app",
]

_log = logging.getLogger(__name__)

PROG: Final = "manuscript-gui"
EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_NO_DISPLAY: Final = 2
EXIT_INTERRUPTED: Final = 130

#: The demo's download limit in bytes per second (the demo files are small: at full
#: speed a project is done before the eye sees it).
DEMO_RATE: Final = 512 * 1024
DEMO_USER: Final = "demo"
DEMO_FILES: Final = 40

# Qt platform plugins that need no display server.
_WAY_OUT: Final = (
    "run it on a desktop, under a virtual display (xvfb-run python3 dev.py demo), "
    "or use the command line instead (python3 dev.py cli demo, or manuscript-cli demo)"
)


# ------------------------------------------------------------------ arguments


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line of ``manuscript-gui`` (``argv`` without the program name)."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Batch export of audit working papers (底稿批量导出): the window.",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="start the reference server in-process with demo data and sign in as demo",
    )
    parser.add_argument(
        "--files",
        type=int,
        default=DEMO_FILES,
        metavar="N",
        help=f"--demo: files per demo project (default {DEMO_FILES})",
    )
    parser.add_argument(
        "--to",
        default="manuscript-demo",
        metavar="DIR",
        help="--demo: the default export folder (default ./manuscript-demo)",
    )
    parser.add_argument(
        "--language",
        choices=LANGUAGES,
        help="the window's language for this run (default: the settings' choice)",
    )
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log more on stderr (-vv: debug)"
    )
    args = parser.parse_args(argv)
    if args.files < 1:
        parser.error("--files must be at least 1")
    args.to = Path(os.path.abspath(os.path.expanduser(args.to)))
    return args


# -------------------------------------------------------------------- display


def display_problem(
    environ: Mapping[str, str] | None = None, platform: str | None = None
) -> str | None:
    """Why no window can be opened here (one line naming the way out), or ``None``.

    Only X11/Wayland systems need a display server named in the environment:
    there, a window needs ``DISPLAY`` or ``WAYLAND_DISPLAY`` unless
    ``QT_QPA_PLATFORM`` picks a plugin that draws without one (``offscreen``,
    ``vnc``, ``eglfs``, ...). A ``QT_QPA_PLATFORM`` list (``wayland;xcb``) works
    if any of its plugins can. Windows and macOS always have a display.
    """
    env = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    if platform.startswith(("win", "darwin", "cygwin")):
        return None
    has_x11 = bool(env.get("DISPLAY", "").strip())
    has_wayland = bool(env.get("WAYLAND_DISPLAY", "").strip())
    wanted = [
        part.split(":", 1)[0].strip().lower()
        for part in env.get("QT_QPA_PLATFORM", "").split(";")
        if part.strip()
    ]

    def can_draw(plugin: str) -> bool:
        if plugin == "xcb":
            return has_x11
        if plugin.startswith("wayland"):
            return has_wayland
        return True  # offscreen, vnc, eglfs, ... or a plugin we do not know: Qt decides

    usable = any(can_draw(p) for p in wanted) if wanted else has_x11 or has_wayland
    if usable:
        return None
    if wanted:
        why = f"QT_QPA_PLATFORM={env.get('QT_QPA_PLATFORM')} needs a display that is not set"
    else:
        why = "no display (DISPLAY and WAYLAND_DISPLAY are not set)"
    return f"{PROG}: cannot open the window: {why}; {_WAY_OUT}."


# -------------------------------------------------------------------- logging


@contextlib.contextmanager
def _logging(verbosity: int, log_dir: Path | None) -> Iterator[None]:
    """Log the app's records to stderr (warnings; ``-v`` info, ``-vv`` debug) and, when
    *log_dir* is given, to a rotating ``manuscript-gui.log`` there (info). The
    handlers are removed on the way out."""
    logger = logging.getLogger("manuscript_gui")
    handlers: list[logging.Handler] = []
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if sys.stderr is not None:  # None in a windowed (no console) build
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(
            logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity else logging.WARNING
        )
        console.setFormatter(fmt)
        handlers.append(console)
    if log_dir is not None:
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            file = logging.handlers.RotatingFileHandler(
                log_dir / f"{PROG}.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
            )
        except OSError as exc:
            print(f"{PROG}: cannot write the log in {log_dir}: {exc}", file=sys.stderr)
        else:
            file.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO)
            file.setFormatter(fmt)
            handlers.append(file)
    previous_level = logger.level
    logger.setLevel(min([h.level for h in handlers], default=logging.WARNING))
    for handler in handlers:
        logger.addHandler(handler)
    try:
        yield
    finally:
        for handler in handlers:
            logger.removeHandler(handler)
            handler.close()
        logger.setLevel(previous_level)


def _log_uncaught(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    """``sys.excepthook``: qasync hands an ``asyncSlot``'s exception here; log it, go on."""
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    _log.error("uncaught exception", exc_info=(kind, value, tb))


def _log_loop_exception(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """The loop's exception handler: a task nobody awaited failed, a callback raised."""
    error = context.get("exception")
    message = context.get("message", "error on the event loop")
    if error is not None:
        _log.error("%s", message, exc_info=(type(error), error, error.__traceback__))
    else:
        _log.error("%s: %r", message, context)


# ------------------------------------------------------------------------ demo


@dataclass(frozen=True, slots=True)
class Demo:
    """The embedded demo: its server, the temporary app home, the settings of the run."""

    server: ServerHandle
    paths: AppPaths
    settings: Settings


@contextlib.asynccontextmanager
async def demo_environment(
    files: int, target: Path, language: Language, *, admin: bool = False
) -> AsyncIterator[Demo]:
    """The reference server on loopback with demo data (*files* per project) and a
    temporary app home whose settings name it, the demo user and *target*; the
    server stops and the folder goes on the way out. *admin* turns on the
    server's admin and fault endpoints (loopback only; scripts/screenshots.py)."""
    from manuscript_gui.reference_server import DemoSpec, start_in_thread

    with tempfile.TemporaryDirectory(prefix="manuscript-demo-") as tmp:
        root = Path(tmp)
        spec = DemoSpec(files_per_project=files, large_project_files=0)
        from manuscript_gui.core.threads import acquire_in_thread

        # Quit while the server starts: it is stopped all the same.
        handle = await acquire_in_thread(
            lambda h: h.stop(), start_in_thread, root / "server", demo=spec, admin=admin
        )
        try:
            paths = AppPaths(root / "app" / "data", root / "app" / "config", root / "app" / "logs")
            settings = Settings(
                server_url=handle.base_url,
                last_user=DEMO_USER,
                default_export_dir=str(target),
                bandwidth_limit_bps=DEMO_RATE,
                language=language,
            )
            await asyncio.to_thread(save_settings, settings, paths.settings_file)
            _log.info("demo server on %s, app home %s", handle.base_url, root / "app")
            yield Demo(handle, paths, settings)
        finally:
            await asyncio.to_thread(handle.stop)


async def _sign_in_demo(service: ExportService, demo: Demo) -> None:
    try:
        await service.session.sign_in(demo.server.base_url, DEMO_USER, DEMO_USER, None, retry=True)
    except Exception:
        # The window stays open, signed out: its sign-in dialog offers the demo server.
        _log.exception("signing in to the demo server failed")


# ---------------------------------------------------------------------- the app


def create_main_window(
    service: ExportService,
    settings: Settings,
    *,
    settings_path: Path | None,
    bridge: EventBridge,
) -> QMainWindow:
    """The app's main window for *service* (the seam between bootstrap and window).

    ``settings`` are the settings as loaded, ``settings_path`` the file the
    dialogs save to (``None``: the app's default), ``bridge`` the service's
    events as Qt signals. Imported here so the bootstrap's own imports stay
    small until a window is wanted.
    """
    from manuscript_gui.ui.main_window import MainWindow

    return MainWindow(service, settings, settings_path=settings_path, bridge=bridge)


async def run_app(app: QApplication, args: argparse.Namespace) -> int:
    """Everything between the loop's start and its end (see the module docstring).

    Returns once the last window closed and every clean-up step was awaited.
    """
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(_log_loop_exception)
    from manuscript_gui.services.exports import ExportService
    from manuscript_gui.ui import i18n
    from manuscript_gui.ui.bridge import EventBridge

    async with contextlib.AsyncExitStack() as stack:
        home = app_paths()
        loaded = load_settings(home.settings_file)
        language: Language = args.language or loaded.settings.language
        demo: Demo | None = None
        if args.demo:
            demo = await stack.enter_async_context(demo_environment(args.files, args.to, language))
            paths, settings = demo.paths, demo.settings
        else:
            paths, settings = home, dataclasses.replace(loaded.settings, language=language)
        i18n.install(settings.language)
        service = ExportService(settings, paths=paths)
        stack.push_async_callback(service.close)
        bridge = EventBridge(service.events)
        stack.callback(bridge.close)
        window = create_main_window(
            service, settings, settings_path=paths.settings_file, bridge=bridge
        )
        closed: asyncio.Future[None] = loop.create_future()

        def last_window_closed() -> None:
            if not closed.done():
                closed.set_result(None)

        app.lastWindowClosed.connect(last_window_closed)
        window.show()
        if demo is not None:
            await _sign_in_demo(service, demo)
        await closed
        _log.info("the window closed: signing out and stopping")
    return EXIT_OK


def _run_qt(args: argparse.Namespace) -> int:
    # Without QT_API qasync tries PyQt5 and PyQt6 before PySide6 (pitfalls §1).
    os.environ.setdefault("QT_API", "pyside6")
    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0]])
    app.setApplicationName(PROG)
    quit_on_close = app.quitOnLastWindowClosed()
    # The loop must outlive the window: clean-up is awaited on it after the close.
    app.setQuitOnLastWindowClosed(False)
    # Python runs signal handlers only when it gets control: tick, so Ctrl-C (which
    # asyncio.Runner turns into a cancel of run_app: the clean-up runs) is heard.
    ticker = QTimer()
    ticker.timeout.connect(lambda: None)
    ticker.start(250)
    previous_hook = sys.excepthook
    sys.excepthook = _log_uncaught
    try:
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
            try:
                return runner.run(run_app(app, args))
            except RuntimeError as exc:
                if "Event loop stopped before Future completed" not in str(exc):
                    raise
                # Qt's event loop ended under the app (the display connection was lost,
                # the desktop session ended): nothing can run the clean-up any more, and
                # the engine needs none (every state change is durable; the next start
                # resumes). Leave now, in one line, not with the loop's tracebacks.
                _log.error("the event loop was stopped under the app: %s", exc)
                print(
                    f"{PROG}: the window system stopped the app (display connection lost?);"
                    " exports continue where they stopped at the next start",
                    file=sys.stderr,
                    flush=True,
                )
                logging.shutdown()
                os._exit(EXIT_FAILED)
    finally:
        sys.excepthook = previous_hook
        ticker.stop()
        app.setQuitOnLastWindowClosed(quit_on_close)


def main(argv: list[str] | None = None) -> int:
    """Run the window (``argv`` without the program name; ``None``: ``sys.argv``).

    Returns the exit code (module docstring).
    """
    args = parse_args(sys.argv[1:] if argv is None else argv)
    problem = display_problem()
    if problem is not None:
        print(problem, file=sys.stderr)
        return EXIT_NO_DISPLAY
    with _logging(args.verbose, None if args.demo else app_paths().log_dir):
        try:
            return _run_qt(args)
        except KeyboardInterrupt:
            print(f"{PROG}: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
        except Exception:
            _log.exception("the app failed")
            return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
