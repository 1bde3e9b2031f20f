"""``main``: parse the arguments, run one command, turn what went wrong into an exit code.

Every error the command line expects ends in one line on stderr and an exit
code (:class:`~manuscript_gui.cli.exit_codes.ExitCode`, docs/cli.md): a
refused login, a server that failed the command line's own calls after the
retries (4); a usage error or an action the task does not allow (2); a
database that cannot be opened (1); a reader that closed standard output
(141, quietly); Ctrl-C outside a run (3).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import os
import sys

from manuscript_gui.cli.commands import COMMANDS, signed_in
from manuscript_gui.cli.credentials import Credentials, credentials, forget_user
from manuscript_gui.cli.errors import ServerTrouble, UsageError
from manuscript_gui.cli.exit_codes import ExitCode
from manuscript_gui.cli.output import PROG, log_to_stderr, say
from manuscript_gui.cli.parser import build_parser
from manuscript_gui.config import Settings, load_settings
from manuscript_gui.services.exports import ActionError
from manuscript_gui.services.session import (
    ApiError,
    IdentityNotAllowed,
    InvalidCredentials,
    NetworkError,
    ServerCallFailed,
    StorageError,
    Unauthorized,
)

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run one command (``argv`` without the program name; ``None``: ``sys.argv``).

    Returns the exit code (docs/cli.md); argparse exits 2 itself on bad arguments.
    """
    try:
        code = _main(argv)
        sys.stdout.flush()  # a closed pipe shows here at the latest
    except BrokenPipeError:
        # Whoever read standard output stopped (`files 3 | head`): stop quietly, as
        # a program killed by SIGPIPE does, and keep Python from complaining when
        # it flushes stdout at exit (the recipe of Python's signal docs).
        _drop_stdout()
        return ExitCode.CLOSED_STDOUT
    return code


def _drop_stdout() -> None:
    with contextlib.suppress(OSError, ValueError):  # ValueError: no descriptor (tests)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _with_run_settings(settings: Settings, args: argparse.Namespace) -> Settings:
    """The settings with this command's ``--concurrency`` and ``--limit-rate`` applied."""
    concurrency = getattr(args, "concurrency", None)
    if concurrency is not None:
        settings = dataclasses.replace(settings, concurrency=concurrency)
    rate = getattr(args, "limit_rate", None)
    if rate is not None:
        settings = dataclasses.replace(settings, bandwidth_limit_bps=rate)
    return settings


def _logout(settings: Settings) -> ExitCode:
    who = forget_user(settings)
    if who is None:
        say("no user was remembered", err=True)
    else:
        say(f"forgot {who}; no session or password is kept between commands")
    return ExitCode.OK


async def _signed_in_command(
    creds: Credentials, settings: Settings, args: argparse.Namespace
) -> ExitCode:
    async with signed_in(creds, settings) as service:
        return await COMMANDS[args.command](service, args)


def _main(argv: list[str] | None) -> ExitCode:
    parser = build_parser()
    args = parser.parse_args(argv)
    loaded = load_settings()
    for problem in loaded.problems:
        say(f"{PROG}: {problem}", err=True)
    settings = loaded.settings
    if args.ca_bundle:
        settings = dataclasses.replace(settings, ca_bundle=args.ca_bundle)
    settings = _with_run_settings(settings, args)
    with log_to_stderr(args.verbose or 0):
        try:
            if args.command == "logout":
                return _logout(loaded.settings)
            if args.command == "demo":
                from manuscript_gui.cli.demo import demo

                return asyncio.run(demo(settings, args))
            creds = credentials(args, parser, settings)
            args.server, args.user_name = creds.server, creds.user_name  # as signed in
            return asyncio.run(_signed_in_command(creds, settings, args))
        except KeyboardInterrupt:
            say(f"{PROG}: interrupted", err=True)
            return ExitCode.PAUSED
        except InvalidCredentials:
            say(f"{PROG}: login refused: wrong user name or password", err=True)
            return ExitCode.SERVER
        except Unauthorized as exc:  # the session died under one of our own requests
            say(f"{PROG}: login expired: {exc}", err=True)
            return ExitCode.SERVER
        except IdentityNotAllowed as exc:
            say(f"{PROG}: login refused: {exc}", err=True)
            return ExitCode.SERVER
        except (ServerTrouble, ServerCallFailed) as exc:
            say(f"{PROG}: {exc}", err=True)
            return ExitCode.SERVER
        except NetworkError as exc:
            say(f"{PROG}: server unreachable: {exc}", err=True)
            return ExitCode.SERVER
        except ApiError as exc:  # e.g. a listing whose cursor never advances
            say(f"{PROG}: {exc}", err=True)
            return ExitCode.SERVER
        except (UsageError, ActionError) as exc:
            say(f"{PROG}: {exc}", err=True)
            return ExitCode.USAGE
        except StorageError as exc:
            say(f"{PROG}: {exc}", err=True)
            return ExitCode.FAILED_FILES
        except ValueError as exc:  # a bad --ca-bundle, a malformed --server
            say(f"{PROG}: {exc}", err=True)
            return ExitCode.USAGE
