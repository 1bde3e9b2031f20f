"""Application entry point (``manuscript-gui``).

The window is not built yet. Until it is, the app's embedded default — demo
mode — is the command line's ``demo``: the reference working-paper server
starts in-process with demo data, the demo user is signed in, and one
project is exported end to end with progress (``python3 dev.py demo``).
"""

from __future__ import annotations

import sys

from manuscript_gui.cli import main as cli_main


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--demo"]:
        args = args[1:]
    return cli_main(["demo", *args])


if __name__ == "__main__":
    sys.exit(main())
