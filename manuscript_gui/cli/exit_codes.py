"""The exit codes of ``manuscript-cli`` (docs/cli.md, "Exit codes").

When a run ends in several ways the worst wins: :attr:`ExitCode.PAUSED`, then
:attr:`ExitCode.FAILED_FILES`, then :attr:`ExitCode.OK`.
"""

from __future__ import annotations

from enum import IntEnum, unique

__all__ = ["ExitCode"]


@unique
class ExitCode(IntEnum):
    """What the process returns to its shell."""

    OK = 0
    """Everything requested finished and every file succeeded."""
    FAILED_FILES = 1
    """Finished with failed files; also a damaged database or an unexpected error."""
    USAGE = 2
    """A usage error: bad arguments, an unknown project, folder or task, an action the
    task's state does not allow, an action while another process runs the queue."""
    PAUSED = 3
    """Stopped paused (the reason on stderr): Ctrl-C, login expired, disk full, ..."""
    SERVER = 4
    """The command line's own server calls failed after the retries (the server is
    unreachable or unavailable, or answered against the contract), or the login was
    refused."""
    CLOSED_STDOUT = 141
    """Standard output was closed by its reader (128 + SIGPIPE, what a shell reports
    for a program stopped by a closed pipe)."""
