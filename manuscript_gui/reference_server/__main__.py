"""``manuscript-server``: run the reference working-paper server from a shell.

Exit codes: 0 after Ctrl-C/SIGTERM, 1 when it could not start (port in use,
unreadable data), 2 for bad command-line arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import ssl
import sys
from pathlib import Path

from manuscript_gui.argtypes import byte_size, whole_number

from .demo import DemoFacts, DemoSpec
from .runner import ReferenceServer, check_admin_host

_DEFAULTS = DemoSpec()
count = whole_number(0)


def port_number(text: str) -> int:
    value = count(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port: {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="manuscript-server",
        description=(
            "Reference working-paper server (API v1 of server-api.md) with deterministic "
            "demo data, for the manuscript-gui demo mode, tests and benchmarks."
        ),
        epilog="Demo users: demo/demo (auditor, manager), lisi/lisi, wangwu/wangwu (qc, partner).",
    )
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        metavar="DIR",
        help="data directory (SQLite metadata + pack files); created when missing",
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=8765,
        metavar="N",
        help="TCP port to listen on; 0 picks a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: %(default)s)",
    )
    parser.add_argument(
        "--admin",
        action="store_true",
        help="enable the /__admin__ fault and data endpoints (loopback hosts only)",
    )
    parser.add_argument(
        "--demo-data",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="generate demo projects on first start (or when the demo flags change); "
        "--no-demo-data serves the data directory as it is (default: on)",
    )
    demo = parser.add_argument_group("demo data")
    demo.add_argument(
        "--seed",
        type=int,
        default=_DEFAULTS.seed,
        metavar="N",
        help="seed for names, sizes and bytes (default: %(default)s)",
    )
    demo.add_argument(
        "--files-per-project",
        type=count,
        default=_DEFAULTS.files_per_project,
        metavar="N",
        help="files in each of the five regular projects (default: %(default)s)",
    )
    demo.add_argument(
        "--large-project-files",
        type=count,
        default=_DEFAULTS.large_project_files,
        metavar="N",
        help="files in the large group-audit project; 0 omits it (default: %(default)s)",
    )
    demo.add_argument(
        "--wide-folder-children",
        type=count,
        default=_DEFAULTS.wide_folder_children,
        metavar="N",
        help="files directly in one folder of the first project, for "
        "pagination; 0 omits it (default: %(default)s)",
    )
    demo.add_argument(
        "--min-size",
        type=byte_size,
        default=_DEFAULTS.min_size,
        metavar="B",
        help="smallest file size, e.g. 512, 4K (default: %(default)s bytes)",
    )
    demo.add_argument(
        "--max-size",
        type=byte_size,
        default=_DEFAULTS.max_size,
        metavar="B",
        help="largest file size, e.g. 256K, 4M; sizes are log-uniform in between "
        "(default: %(default)s bytes)",
    )
    demo.add_argument(
        "--big-file-size",
        type=byte_size,
        default=_DEFAULTS.big_file_size,
        metavar="B",
        help="add one archive file of this size, e.g. 1G, for throughput benchmarks; "
        "0 omits it (default: %(default)s)",
    )
    tls = parser.add_argument_group("TLS (both or neither)")
    tls.add_argument("--tls-cert", type=Path, metavar="FILE", help="PEM certificate chain")
    tls.add_argument("--tls-key", type=Path, metavar="FILE", help="PEM private key")
    return parser


def _banner(server: ReferenceServer, facts: DemoFacts) -> str:
    lines = [f"Reference working-paper server (API v1) listening on {server.base_url}"]
    lines.append(f"  data directory: {server.data_dir}")
    if server.admin:
        lines.append(f"  admin/fault endpoints: ON at {server.base_url}/__admin__/")
    else:
        lines.append("  admin/fault endpoints: off (start with --admin to enable)")
    lines.append("Users (username / password: identities, the first is the default):")
    for account in facts.accounts:
        idents = ", ".join(f"{t} {label}" for t, label in account.identities)
        lines.append(f"  {account.username} / {account.password}: {idents}")
    lines.append("Projects:")
    if not facts.projects:
        lines.append("  (none)")
    for p in facts.projects.values():
        seen = [f"{u}/{t}" for (u, t), ids in facts.visible.items() if p.id in ids]
        lines.append(f"  {p.id:<8} {p.code or '-':<15} {p.files:>7} files  {p.name}")
        lines.append(f"           seen by: {', '.join(seen) or 'nobody'}")
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


async def _run(server: ReferenceServer) -> None:
    await server.start()
    try:
        assert server.facts is not None
        print(_banner(server, server.facts), flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C only
            loop.add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
    finally:
        await server.stop()


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, start the server, block until Ctrl-C or SIGTERM."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    try:
        check_admin_host(args.host, args.admin)
    except ValueError as exc:
        parser.error(str(exc))
    demo = None
    if args.demo_data:
        try:
            demo = DemoSpec(
                seed=args.seed,
                files_per_project=args.files_per_project,
                min_size=args.min_size,
                max_size=args.max_size,
                large_project_files=args.large_project_files,
                wide_folder_children=args.wide_folder_children,
                big_file_size=args.big_file_size,
            )
        except ValueError as exc:
            parser.error(str(exc))
    ssl_context = None
    if args.tls_cert is not None:
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            ssl_context.load_cert_chain(args.tls_cert, args.tls_key)
        except (OSError, ssl.SSLError) as exc:
            parser.error(f"cannot load the TLS certificate/key: {exc}")
    server = ReferenceServer(
        args.data,
        demo=demo,
        admin=args.admin,
        host=args.host,
        port=args.port,
        ssl_context=ssl_context,
    )
    try:
        asyncio.run(_run(server))
    except KeyboardInterrupt:
        pass
    except (OSError, RuntimeError) as exc:
        print(f"manuscript-server: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
