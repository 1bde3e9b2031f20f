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


@pytest.mark.parametrize(
    ("layer", "forbidden"),
    [
        (
            "core",
            ("PySide6", "qasync", "peewee", "manuscript_gui.ui", "manuscript_gui.reference_server"),
        ),
        (
            "net",
            (
                "PySide6",
                "qasync",
                "peewee",
                "manuscript_gui.ui",
                "manuscript_gui.reference_server",
                "manuscript_gui.storage",
                "manuscript_gui.core",
            ),
        ),
        (
            "storage",
            (
                "PySide6",
                "qasync",
                "httpx",
                "manuscript_gui.ui",
                "manuscript_gui.reference_server",
                "manuscript_gui.net",
            ),
        ),
        ("services", ("PySide6", "qasync", "manuscript_gui.ui", "manuscript_gui.reference_server")),
    ],
)
def test_layers_only_import_downwards(layer: str, forbidden: tuple[str, ...]) -> None:
    offenders = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for name in _imports(path):
            if any(name == bad or name.startswith(bad + ".") for bad in forbidden):
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offenders, "\n".join(offenders)
