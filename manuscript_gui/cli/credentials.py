"""Who a command signs in as: flags, then the environment, then what ``login`` remembered.

No session is kept between commands and nothing secret is written: ``login``
remembers only the server URL, the user name and the identity the server
chose, in the settings file the window also reads (``server_url``,
``last_user``, ``last_identity``); ``logout`` forgets the user and identity.
The password comes from ``MANUSCRIPT_PASSWORD``, ``--password-stdin`` or a
prompt on a terminal, and is never printed.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import os
import sys

from manuscript_gui.config import Settings, load_settings, save_settings

__all__ = ["Credentials", "credentials", "forget_user", "remember_login"]


@dataclasses.dataclass(frozen=True)
class Credentials:
    """What a command signs in with (``identity`` ``None``: the user's default)."""

    server: str
    user_name: str
    password: str = dataclasses.field(repr=False)
    identity: str | None


def credentials(
    args: argparse.Namespace, parser: argparse.ArgumentParser, settings: Settings
) -> Credentials:
    """Flags, then the environment, then what ``login`` remembered (the remembered
    identity only for the remembered server and user).

    A missing server, user or password is a usage error (``parser.error``:
    exit 2); with no password given and standard input a terminal, it is
    asked for (not echoed).
    """
    server = args.server or os.environ.get("MANUSCRIPT_SERVER") or settings.server_url or None
    user = args.user_name or os.environ.get("MANUSCRIPT_USER") or settings.last_user
    identity = args.identity or os.environ.get("MANUSCRIPT_IDENTITY") or None
    if identity is None and user == settings.last_user and server == settings.server_url:
        identity = settings.last_identity
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = os.environ.get("MANUSCRIPT_PASSWORD", "")
        if not password and user and sys.stdin.isatty():
            password = getpass.getpass(f"Password for {user}: ")
    missing = [name for name, value in (("--server", server), ("--user", user)) if not value] + (
        [] if password else ["a password (MANUSCRIPT_PASSWORD or --password-stdin)"]
    )
    if missing:
        parser.error("missing " + ", ".join(missing))
    return Credentials(server or "", user or "", password, identity)


def remember_login(server: str, user_name: str, identity: str) -> None:
    """Remember the server, user and identity in the settings file (no secret)."""
    loaded = load_settings()
    save_settings(
        dataclasses.replace(
            loaded.settings, server_url=server, last_user=user_name, last_identity=identity
        )
    )


def forget_user(settings: Settings) -> str | None:
    """Forget the remembered user and identity (the server URL stays, like in the
    window); returns ``"user/identity"`` as it was, ``None`` if nobody was remembered."""
    if settings.last_user is None and settings.last_identity is None:
        return None
    who = f"{settings.last_user}/{settings.last_identity or 'default'}"
    save_settings(dataclasses.replace(settings, last_user=None, last_identity=None))
    return who
