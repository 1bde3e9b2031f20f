"""Headless command line (``manuscript-cli``): the engine without the window, for
automation, support staff and the project's own crash tests and benchmarks.

docs/cli.md is the contract (commands, output, exit codes). The command line
is a thin client of the public service API, exactly as the window is: the
session (:attr:`ExportService.session <manuscript_gui.services.exports.ExportService>`),
the task actions, the reads, the queue and its events, the queue lock and the
English wording of ``services/messages.py``; never the database, the
scheduler or the client underneath (tests/test_code_quality.py checks it).

- :mod:`~manuscript_gui.cli.program`: :func:`main`, errors to exit codes;
- :mod:`~manuscript_gui.cli.parser`: the commands and their options;
- :mod:`~manuscript_gui.cli.credentials`: flags, environment, what ``login`` remembered;
- :mod:`~manuscript_gui.cli.commands`: one coroutine per command;
- :mod:`~manuscript_gui.cli.lookups`: a project and its folders by name;
- :mod:`~manuscript_gui.cli.runner`: running the queue (lock, progress, Ctrl-C, summary);
- :mod:`~manuscript_gui.cli.demo`: ``demo``, the one user of the reference server;
- :mod:`~manuscript_gui.cli.views`: tasks and files as JSON objects and lines;
- :mod:`~manuscript_gui.cli.output`: every byte printed, server text escaped in one place;
- :mod:`~manuscript_gui.cli.errors`: usage errors and failed server calls;
- :mod:`~manuscript_gui.cli.exit_codes`: :class:`ExitCode`.
"""

from manuscript_gui.cli.program import main

__all__ = ["main"]
