"""Helpers for driving ``manuscript-cli`` as a user would, and checking what it left.

``cli_argv`` / ``cli_env`` build a child process (the console script of this
virtualenv, else ``python -m manuscript_gui.cli``); ``server_files`` lists a
project straight from the server, as the truth to compare the disk with.

A child imports the same ``manuscript_gui`` as the test process: ``cli_env``
puts the folder that holds it first on ``PYTHONPATH``, so a test run from
another checkout (e.g. a copy of an older commit) drives that checkout's code,
not whatever the virtualenv's editable install points at.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import manuscript_gui
from manuscript_gui.net import ApiClient, FileEntry, FolderEntry

CHUNK = 1 << 20
#: The folder holding the ``manuscript_gui`` package this process imported.
CODE_ROOT = Path(manuscript_gui.__file__).resolve().parent.parent


@dataclass(frozen=True)
class RemoteFile:
    """A file as the server lists it: where it sits and what its bytes must hash to."""

    id: str
    folders: tuple[str, ...]
    name: str
    size: int
    sha256: str


def cli_argv() -> list[str]:
    script = Path(sys.executable).parent / "manuscript-cli"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "manuscript_gui.cli"]


def cli_env(
    home: Path,
    server: str,
    user: str = "demo",
    password: str = "demo",
    identity: str | None = None,
) -> dict[str, str]:
    """The child's environment: its own app home, the server, the password in the env.

    *identity* (``MANUSCRIPT_IDENTITY``) picks the user type; ``None``: the user's default.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("MANUSCRIPT_")}
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        env.pop(name, None)
    env.update(
        MANUSCRIPT_GUI_HOME=str(home),
        MANUSCRIPT_SERVER=server,
        MANUSCRIPT_USER=user,
        MANUSCRIPT_PASSWORD=password,
        PYTHONPATH=os.pathsep.join([str(CODE_ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    )
    if identity is not None:
        env["MANUSCRIPT_IDENTITY"] = identity
    return env


async def _list(
    base_url: str, project_id: str, user: str, password: str, identity: str | None
) -> list[RemoteFile]:
    found: list[RemoteFile] = []
    async with ApiClient(base_url) as client:
        await client.login(user, password, identity)
        todo: list[tuple[str, tuple[str, ...]]] = [("root", ())]
        while todo:
            folder, path = todo.pop()
            async for entry in client.iter_children(project_id, folder):
                if isinstance(entry, FolderEntry):
                    todo.append((entry.id, (*path, entry.name)))
                elif isinstance(entry, FileEntry):
                    found.append(RemoteFile(entry.id, path, entry.name, entry.size, entry.sha256))
        await client.logout()
    return found


def server_files(
    base_url: str,
    project_id: str,
    user: str = "demo",
    password: str = "demo",
    identity: str | None = None,
) -> list[RemoteFile]:
    """Every file of a project as *user*/*identity* sees it, from the server.

    Call from sync code, not from a running loop.
    """
    return asyncio.run(_list(base_url, project_id, user, password, identity))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def exported_files(target: Path) -> dict[Path, str]:
    """Every regular file under *target* outside the staging folder, with its sha256."""
    return {
        path: sha256_of(path)
        for path in sorted(target.rglob("*"))
        if path.is_file() and ".manuscript-partial" not in path.relative_to(target).parts
    }


def staged_files(target: Path) -> list[Path]:
    """Whatever is left in the staging folder (partials).

    While an export runs, files come and go there (a write probe, a partial
    renamed into place): only those still there are returned.
    """
    root = target / ".manuscript-partial"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def staged_bytes_now(target: Path) -> int:
    """Bytes in the staging folder now, tolerating files that vanish while counted."""
    total = 0
    for path in staged_files(target):
        try:
            total += path.stat().st_size
        except FileNotFoundError:
            continue
    return total


def assert_byte_exact(target: Path, project_name: str, remote: list[RemoteFile]) -> None:
    """The export folder holds exactly the project's files, each at its plain path, byte-exact.

    The demo names are already safe on every OS, so each file sits at
    ``<target>/<project name>/<folders>/<name>``.
    """
    on_disk = exported_files(target)
    expected = {target.joinpath(project_name, *f.folders, f.name): f for f in remote}
    assert set(on_disk) == set(expected), sorted(str(p) for p in set(on_disk) ^ set(expected))[:10]
    wrong = [str(p) for p, f in expected.items() if on_disk[p] != f.sha256]
    assert not wrong, wrong[:10]
