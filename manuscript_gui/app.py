"""Application entry point (``manuscript-gui``).

The window and the export engine are not built yet (docs/ and the issue
tracker say what comes next). Until they are, the app's embedded default —
demo mode — starts the reference working-paper server with demo data in the
app's data folder, so a fresh checkout has something real to talk to:
``python3 dev.py demo``.
"""

from __future__ import annotations

import argparse
import sys

from manuscript_gui.config import app_paths
from manuscript_gui.reference_server.__main__ import main as server_main

DEMO_PORT = 8765


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="manuscript-gui",
        description="Batch export of audit working papers (底稿批量导出).",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="run on the embedded demo server with demo data (the default for now)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEMO_PORT,
        help=f"port of the embedded demo server (default: {DEMO_PORT}; 0 picks a free one)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    data_dir = app_paths().data_dir / "demo-server"
    print(f"manuscript-gui demo mode: reference server data in {data_dir}", flush=True)
    return server_main(["--data", str(data_dir), "--port", str(args.port), "--admin"])


if __name__ == "__main__":
    sys.exit(main())
