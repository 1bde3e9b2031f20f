#!/usr/bin/env python3
"""Developer entry point: the README's two quick-start commands.

    python3 dev.py demo [args...]   run the app on its embedded demo server
    python3 dev.py test [args...]   run the test suite (args go to pytest)
    python3 dev.py server [args...] run the reference server alone
    python3 dev.py cli [args...]    run the headless command line

Each command first makes sure a virtual environment exists in ``.venv`` with
the project installed (editable, with the test extra), reinstalling only when
``pyproject.toml`` changed. It uses nothing but the standard library, so it
works on a fresh machine with Python >= 3.11.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("MANUSCRIPT_DEV_VENV", ROOT / ".venv"))
STAMP = VENV / ".dev-stamp"


def _venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def _wanted_stamp() -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_env() -> Path:
    """Create or refresh .venv; return its interpreter."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs under any python3
        sys.exit(f"manuscript-gui needs Python >= 3.11 (this is {sys.version.split()[0]})")
    python = _venv_python()
    if not python.exists():
        print(f"creating virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    stamp = _wanted_stamp()
    if not STAMP.exists() or STAMP.read_text().strip() != stamp:
        print("installing manuscript-gui and its dependencies ...", flush=True)
        quiet = ["--quiet", "--disable-pip-version-check"]
        pip = [str(python), "-m", "pip", "install", *quiet]
        subprocess.run([*pip, "--upgrade", "pip"], check=True)
        subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
        STAMP.write_text(stamp + "\n")
    return python


COMMANDS = {
    "demo": ["-m", "manuscript_gui.app", "--demo"],
    "test": ["-m", "pytest"],
    "server": ["-m", "manuscript_gui.reference_server"],
    "cli": ["-m", "manuscript_gui.cli"],
}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__.strip())
        return 2
    python = ensure_env()
    cmd = [str(python), *COMMANDS[argv[0]], *argv[1:]]
    try:
        return subprocess.call(cmd, cwd=ROOT)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
