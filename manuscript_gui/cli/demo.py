"""``demo``: the reference server in-process with demo data, and one project exported.

The only part of the command line that imports the reference server (and
only when ``demo`` runs). It serves demo data from a temporary folder, signs
in as demo/demo with its own temporary queue, and exports the demo user's
first project into ``--to DIR`` (default ``./manuscript-demo``) with the same
runner as ``export``. The temporary folder is removed at the end; the
exported files stay, so a second run finds them up to date.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from manuscript_gui.cli.commands import create_and_run, signed_in, target_path
from manuscript_gui.cli.credentials import Credentials
from manuscript_gui.cli.errors import UsageError
from manuscript_gui.cli.exit_codes import ExitCode
from manuscript_gui.cli.lookups import list_projects
from manuscript_gui.cli.output import say
from manuscript_gui.config import AppPaths, Settings
from manuscript_gui.services.exports import SelectionItem

__all__ = ["demo"]


async def demo(settings: Settings, args: argparse.Namespace) -> ExitCode:
    """Serve demo data from a temporary folder, sign in as demo, export its first project."""
    from manuscript_gui.reference_server import DemoSpec, start_in_thread

    target = target_path(args.to or "manuscript-demo")
    with tempfile.TemporaryDirectory(prefix="manuscript-demo-") as tmp:
        root = Path(tmp)
        spec = DemoSpec(files_per_project=args.files, large_project_files=0)
        handle = await asyncio.to_thread(start_in_thread, root / "server", demo=spec)
        try:
            say(
                f"demo server on {handle.base_url} ({args.files} files per project), "
                "signed in as demo/demo",
                err=True,
            )
            paths = AppPaths(root / "app" / "data", root / "app" / "config", root / "app" / "logs")
            creds = Credentials(handle.base_url, "demo", "demo", None)
            async with signed_in(creds, settings, paths=paths) as service:
                projects = await list_projects(service)
                if not projects:
                    raise UsageError("the demo user sees no project")
                project = projects[0]
                args.no_run = False
                item = SelectionItem(project.id, project.name)
                code = await create_and_run(service, args, [item], target, None)
                say(f"the exported files are in {target / project.name}", err=True)
                return code
        finally:
            await asyncio.to_thread(handle.stop)
