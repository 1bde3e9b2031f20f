"""The house rules every contribution keeps, checked by the same command as the tests.

ruff (lint + format) over the whole tree, mypy with strict settings on the
Qt-free layers (pyproject.toml), and the layering rule of
design/architecture.md: core/, net/, storage/ and services/ never import Qt,
and the client never imports the reference server.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "manuscript_gui"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_ruff_lint() -> None:
    proc = _run("ruff", "check", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format() -> None:
    proc = _run("ruff", "format", "--check", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy() -> None:
    proc = _run("mypy")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


_OURS = "manuscript_gui"


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        (
            # The vocabulary under everything: imports nothing of ours or of a library.
            "domain",
            (
                "PySide6",
                "qasync",
                "peewee",
                "httpx",
                *(
                    f"{_OURS}.{p}"
                    for p in (
                        "core",
                        "net",
                        "storage",
                        "services",
                        "ui",
                        "cli",
                        "config",
                        "reference_server",
                    )
                ),
            ),
        ),
        (
            "core",
            (
                "PySide6",
                "qasync",
                "peewee",
                f"{_OURS}.ui",
                f"{_OURS}.services",
                f"{_OURS}.cli",
                f"{_OURS}.reference_server",
            ),
        ),
        (
            "net",
            (
                "PySide6",
                "qasync",
                "peewee",
                f"{_OURS}.ui",
                f"{_OURS}.reference_server",
                f"{_OURS}.storage",
                f"{_OURS}.core",
                f"{_OURS}.services",
            ),
        ),
        (
            "storage",
            (
                "PySide6",
                "qasync",
                "httpx",
                f"{_OURS}.ui",
                f"{_OURS}.reference_server",
                f"{_OURS}.net",
                f"{_OURS}.core",
                f"{_OURS}.services",
            ),
        ),
        (
            "services",
            ("PySide6", "qasync", f"{_OURS}.ui", f"{_OURS}.cli", f"{_OURS}.reference_server"),
        ),
        (
            # The window is a client of the services: never the database or the wire.
            "ui",
            ("peewee", "httpx", f"{_OURS}.storage", f"{_OURS}.net", f"{_OURS}.reference_server"),
        ),
    ],
)
def test_layers_only_import_downwards(layer: str, forbidden: tuple[str, ...]) -> None:
    offenders = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in _imports(path):
            if any(name == bad or name.startswith(bad + ".") for bad in forbidden):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offenders, "\n".join(offenders)


def test_events_speak_the_domain_not_the_database() -> None:
    """What the engine tells listeners (the window, the CLI) needs no database import."""
    names = _imports(PACKAGE / "core" / "events.py")
    assert not [n for n in names if n.startswith((f"{_OURS}.storage", "peewee"))], names
