"""What ``export`` names on its command line, found on the server: a project, its folders.

``PROJECT`` is a project id or its exact name (a name several projects share
is refused: give the id); ``--folder PATH`` is a folder inside the project,
its names from the top level down separated by ``/``, matched exactly. Every
lookup is a service call retried by the engine's rules
(:func:`~manuscript_gui.cli.errors.server_call`); what cannot be found is a
:class:`~manuscript_gui.cli.errors.UsageError` that says what there is.
"""

from __future__ import annotations

from manuscript_gui.cli.errors import UsageError, server_call
from manuscript_gui.cli.output import PROG
from manuscript_gui.services.exports import ExportService, SelectionItem
from manuscript_gui.services.reads import FolderEntry, Project

__all__ = ["find_folder", "find_project", "list_projects"]


async def list_projects(service: ExportService) -> list[Project]:
    """Every project the signed-in identity may see."""
    return await server_call("listing the projects", service.projects())


async def find_project(service: ExportService, wanted: str) -> Project:
    """The project whose id, else whose exact name, is *wanted*."""
    projects = await list_projects(service)
    for project in projects:
        if project.id == wanted:
            return project
    by_name = [project for project in projects if project.name == wanted]
    if len(by_name) == 1:
        return by_name[0]
    if by_name:
        ids = ", ".join(p.id for p in by_name)
        raise UsageError(f"several projects are named {wanted!r} ({ids}): give the id")
    raise UsageError(f"no project {wanted!r} for this identity (see: {PROG} projects)")


async def find_folder(service: ExportService, project: Project, path: str) -> SelectionItem:
    """The selection of the folder at *path* (``"D 实质性程序/D1 货币资金"``) in *project*;
    an empty path selects the whole project."""
    names = [part for part in path.strip().strip("/").split("/") if part]
    if not names:
        return SelectionItem(project.id, project.name)
    folder_id = "root"
    for depth, name in enumerate(names):
        where = "/".join(names[:depth]) or "the top level"
        children = await server_call(
            f"listing the folders in {where} of {project.name!r}",
            service.children(project.id, folder_id),
        )
        folders = [entry for entry in children if isinstance(entry, FolderEntry)]
        found = next((f for f in folders if f.name == name), None)
        seen = [f.name for f in folders]
        if found is None:
            hint = ", ".join(repr(s) for s in seen[:8]) + (", …" if len(seen) > 8 else "")
            raise UsageError(
                f"no folder {name!r} in {where} of {project.name!r}"
                + (f" (there: {hint})" if seen else " (it has no folders)")
            )
        folder_id = found.id
    return SelectionItem(project.id, project.name, folder_id, tuple(names))
