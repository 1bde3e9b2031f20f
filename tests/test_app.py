"""``manuscript-gui`` (app.py) before any window: arguments, and no display.

Without a display the app must say so in one line naming the way out and exit
with 2, before Qt is loaded (Qt itself would abort with a trace). Checked in
real processes with an empty environment. The window itself: tests/ui/test_app.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from manuscript_gui import app

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "manuscript_gui.app", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("args", [["--demo"], []], ids=["demo", "window"])
def test_without_a_display_one_line_names_the_way_out(args: list[str]) -> None:
    proc = _run(args, env={})  # no DISPLAY, no WAYLAND_DISPLAY, no QT_QPA_PLATFORM
    assert proc.returncode == app.EXIT_NO_DISPLAY == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith("manuscript-gui: cannot open the window: no display")
    assert "xvfb-run python3 dev.py demo" in line
    assert "python3 dev.py cli demo" in line
    for noise in ("Traceback", "qt.qpa", "Aborted", "xcb"):
        assert noise not in proc.stderr


def test_a_platform_that_needs_a_missing_display_is_named() -> None:
    proc = _run(["--demo"], env={"QT_QPA_PLATFORM": "wayland"})
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "QT_QPA_PLATFORM=wayland" in proc.stderr
    assert "xvfb-run" in proc.stderr


def test_qt_is_not_loaded_before_the_display_check() -> None:
    """Importing the app and failing the check loads no Qt (a fast, trace-free exit)."""
    code = (
        "import sys\n"
        "from manuscript_gui import app\n"
        "assert 'PySide6' not in sys.modules, 'Qt imported with the module'\n"
        "rc = app.main(['--demo'])\n"
        "assert 'PySide6' not in sys.modules, 'Qt imported before the check'\n"
        "assert 'manuscript_gui.reference_server' not in sys.modules\n"
        "sys.exit(rc)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], env={}, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2, proc.stderr


@pytest.mark.parametrize(
    ("env", "platform", "usable"),
    [
        ({}, "linux", False),
        ({"DISPLAY": ":0"}, "linux", True),
        ({"DISPLAY": "  "}, "linux", False),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", True),
        ({"QT_QPA_PLATFORM": "offscreen:configfile=/tmp/screens.json"}, "linux", True),
        ({"QT_QPA_PLATFORM": "vnc:size=1280x800"}, "linux", True),
        ({"QT_QPA_PLATFORM": "xcb"}, "linux", False),
        ({"QT_QPA_PLATFORM": "xcb", "DISPLAY": ":99"}, "linux", True),
        ({"QT_QPA_PLATFORM": "wayland", "DISPLAY": ":0"}, "linux", False),
        ({"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":0"}, "linux", True),
        ({"QT_QPA_PLATFORM": "wayland-egl", "WAYLAND_DISPLAY": "w"}, "linux", True),
        ({}, "freebsd14", False),
        ({}, "win32", True),
        ({}, "darwin", True),
    ],
)
def test_display_problem(env: dict[str, str], platform: str, usable: bool) -> None:
    problem = app.display_problem(env, platform)
    assert (problem is None) is usable, problem
    if problem is not None:
        assert "\n" not in problem
        assert "xvfb-run" in problem


def test_arguments() -> None:
    args = app.parse_args([])
    assert not args.demo
    assert args.files == app.DEMO_FILES
    assert args.to == Path(os.getcwd()) / "manuscript-demo"
    assert args.language is None
    args = app.parse_args(["--demo", "--files", "6", "--to", "~/x", "--language", "zh_CN"])
    assert args.demo
    assert args.files == 6
    assert args.to == Path.home() / "x"
    assert args.language == "zh_CN"


@pytest.mark.parametrize("bad", [["--files", "0"], ["--language", "fr"], ["--nonsense"]])
def test_bad_arguments_exit_with_2(bad: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        app.parse_args(bad)
    assert exit_info.value.code == 2
    assert "manuscript-gui" in capsys.readouterr().err


def test_help_names_demo_mode() -> None:
    proc = _run(["--help"], env={})
    assert proc.returncode == 0
    assert "--demo" in proc.stdout
