"""Guards against Qt runtime regressions that would kill the app in the field.

PySide6 6.12.0 on Python 3.11 drops a reference to ``True`` on every
``Signal.emit()`` from Python; after a few thousand emits CPython aborts with
``bool_dealloc`` (research/env-spike.md §1.3). The app emits progress signals
continuously, so a broken combination would crash every long export. The emit
loop runs in a child process so an abort fails this test instead of killing
the whole test run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

EMITS = 50_000

CHILD = textwrap.dedent(
    f"""
    import sys
    from PySide6.QtCore import QCoreApplication, QObject, Signal

    class Emitter(QObject):
        plain = Signal()
        with_args = Signal(str, int)
        flag = Signal(bool)

    app = QCoreApplication([])
    emitter = Emitter()
    received = [0]

    def on_flag(value):
        received[0] += 1

    emitter.flag.connect(on_flag)
    before = sys.getrefcount(True)
    for n in range({EMITS}):
        emitter.plain.emit()
        emitter.with_args.emit("x", n)
        emitter.flag.emit(True)
    delta = sys.getrefcount(True) - before
    print("delta", delta, "received", received[0])
    """
)


def test_signal_emit_does_not_corrupt_refcounts() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, f"child died (rc {proc.returncode}): {proc.stderr[-2000:]}"
    fields = proc.stdout.split()
    assert fields[0] == "delta"
    # On 3.12+ True is immortal and its refcount is a huge constant; a leak
    # shows as a negative delta proportional to the number of emits.
    assert abs(int(fields[1])) < 100, proc.stdout
    assert int(fields[3]) == EMITS


def test_installed_pyside_is_not_the_known_broken_combination() -> None:
    import PySide6

    major, minor = (int(part) for part in PySide6.__version__.split(".")[:2])
    if sys.version_info < (3, 12):
        assert (major, minor) < (6, 12), (
            f"PySide6 {PySide6.__version__} on Python {sys.version_info[:2]} aborts on signal "
            "emits; pyproject.toml must exclude it"
        )
