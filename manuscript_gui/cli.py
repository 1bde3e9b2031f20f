"""Headless command line (``manuscript-cli``) on the same layers as the window.

docs/cli.md describes the whole command set; the export commands arrive with
the export engine. What works today: ``whoami`` and ``projects``, which log in
with the given credentials and talk to the server through the API client.

Credentials come from flags or the environment (``MANUSCRIPT_SERVER``,
``MANUSCRIPT_USER``, ``MANUSCRIPT_IDENTITY``, ``MANUSCRIPT_PASSWORD``) or
``--password-stdin``; the password and token are never printed.

Exit codes (docs/cli.md): 0 ok · 2 usage error · 4 server unreachable or the
login refused.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from manuscript_gui.net import ApiClient, ApiError, InvalidCredentials, NetworkError

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_UNREACHABLE = 4


@dataclass(frozen=True)
class Credentials:
    server: str
    user: str
    password: str
    identity: str | None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="manuscript-cli",
        description="Batch export of audit working papers, without the window.",
    )
    parser.add_argument("--server", help="server base URL (env MANUSCRIPT_SERVER)")
    parser.add_argument("--user", help="user name (env MANUSCRIPT_USER)")
    parser.add_argument("--identity", help="identity / userType (env MANUSCRIPT_IDENTITY)")
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (else env MANUSCRIPT_PASSWORD)",
    )
    parser.add_argument("--ca-bundle", help="PEM file of CA certificates to trust instead")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sub.add_parser("whoami", help="log in and show the user and identity")
    projects = sub.add_parser("projects", help="the projects this identity may see")
    projects.add_argument("--json", action="store_true", help="JSON lines, one per project")
    return parser


def _credentials(args: argparse.Namespace, parser: argparse.ArgumentParser) -> Credentials:
    server = args.server or os.environ.get("MANUSCRIPT_SERVER")
    user = args.user or os.environ.get("MANUSCRIPT_USER")
    identity = args.identity or os.environ.get("MANUSCRIPT_IDENTITY") or None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = os.environ.get("MANUSCRIPT_PASSWORD", "")
    missing = [name for name, value in (("--server", server), ("--user", user)) if not value] + (
        [] if password else ["a password (MANUSCRIPT_PASSWORD or --password-stdin)"]
    )
    if missing:
        parser.error("missing " + ", ".join(missing))
    return Credentials(server or "", user or "", password, identity)


async def _whoami(client: ApiClient, args: argparse.Namespace) -> int:
    me = await client.me()
    print(f"{me.user.name} ({me.user.id}) as {me.user_type}")
    return EXIT_OK


async def _projects(client: ApiClient, args: argparse.Namespace) -> int:
    async for project in client.iter_projects():
        if args.json:
            row = {
                "id": project.id,
                "name": project.name,
                "code": project.code,
                "client": project.client,
                "period": project.period,
            }
            print(json.dumps(row, ensure_ascii=False))
        else:
            print(f"{project.id}\t{project.code or ''}\t{project.name}")
    return EXIT_OK


COMMANDS: dict[str, Callable[[ApiClient, argparse.Namespace], Awaitable[int]]] = {
    "whoami": _whoami,
    "projects": _projects,
}


async def _run(creds: Credentials, args: argparse.Namespace) -> int:
    async with ApiClient(creds.server, ca_bundle=args.ca_bundle) as client:
        try:
            await client.login(creds.user, creds.password, creds.identity)
            return await COMMANDS[args.command](client, args)
        finally:
            if client.token is not None:
                await client.logout()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    creds = _credentials(args, parser)
    try:
        return asyncio.run(_run(creds, args))
    except InvalidCredentials:
        print("manuscript-cli: login refused: wrong user name or password", file=sys.stderr)
        return EXIT_UNREACHABLE
    except NetworkError as exc:
        print(f"manuscript-cli: server unreachable: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except ApiError as exc:
        print(f"manuscript-cli: {exc}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except ValueError as exc:  # a bad --ca-bundle, a malformed --server
        print(f"manuscript-cli: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
