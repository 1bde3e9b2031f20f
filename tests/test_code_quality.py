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


# ------------------------------------------------------------ the command line


def _cli_sources() -> list[Path]:
    """The command line's source files: the ``cli`` package (or a ``cli.py`` module)."""
    package = PACKAGE / "cli"
    if package.is_dir():
        return sorted(package.rglob("*.py"))
    return [PACKAGE / "cli.py"]


#: What the command line may import of ours: the public service API and the vocabulary
#: under it (issue #7: it is a client of the services, as the window is).
_CLI_MAY_IMPORT = (
    f"{_OURS}.cli",
    f"{_OURS}.services",
    f"{_OURS}.domain",
    f"{_OURS}.core.events",
    f"{_OURS}.config",
    f"{_OURS}.argtypes",
)


def test_the_command_line_imports_only_the_public_service_api() -> None:
    offenders = []
    for path in _cli_sources():
        where = path.relative_to(ROOT)
        for name in _imports(path):
            if any(
                name == bad or name.startswith(bad + ".")
                for bad in (
                    f"{_OURS}.storage",
                    f"{_OURS}.core.task_queue",
                    f"{_OURS}.core.task_manager",
                    f"{_OURS}.core.async_store",
                    f"{_OURS}.net",
                    "peewee",
                    "httpx",
                )
            ):
                offenders.append(f"{where} imports {name}")
            elif name == _OURS or name.startswith(_OURS + "."):
                demo = path.name == "demo.py" and name == f"{_OURS}.reference_server"
                if not demo and not any(
                    name == ok or name.startswith(ok + ".") for ok in _CLI_MAY_IMPORT
                ):
                    offenders.append(f"{where} imports {name} (not the public service API)")
    assert not offenders, "\n".join(offenders)


#: Documented public names that happen to start with an underscore.
_PUBLIC_UNDERSCORED = {("os", "_exit")}

#: What reaches under the service into the engine (the scheduler, the database, the
#: client, the engine's context of a session): the command line asks the service.
_ENGINE_ATTRIBUTES = {
    "scheduler",
    "running_manager",
    "login_expired_count",
    "db",
    "context",
    "user",
    "login",
}


def test_the_command_line_touches_no_private_or_engine_attribute() -> None:
    """``x._name`` only on ``self``/``cls``; never the engine under the service."""
    offenders = []
    for path in _cli_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute):
                continue
            owner = node.value.id if isinstance(node.value, ast.Name) else None
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            private = node.attr.startswith("_") and not (
                node.attr.startswith("__") and node.attr.endswith("__")
            )
            if (
                private
                and owner not in ("self", "cls")
                and (owner, node.attr) not in _PUBLIC_UNDERSCORED
            ):
                offenders.append(f"{where}: {ast.unparse(node)}")
            if node.attr in _ENGINE_ATTRIBUTES:
                offenders.append(f"{where}: {ast.unparse(node)} (the engine under the service)")
    assert not offenders, "\n".join(offenders)
