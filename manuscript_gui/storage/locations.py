"""Where an identity's database lives, built from untrusted strings.

Layout (the original note's ``user-userType/manuscriptBatchExport/``, one level
down per server, since the same user id on two servers is two people)::

    <data dir>/<server key>/<user>-<userType>-<hash>/manuscriptBatchExport/exports.sqlite3

Server URLs, user ids and identities come from the user or the server, so each
folder name is built to be safe on Windows, macOS and Linux whatever they hold:

* a *readable* part keeps ASCII letters and digits, ``-``, ``_`` and non-ASCII
  letters/digits (``张三``); everything else, dots included, becomes ``_``. With
  no dots and no separators a name can never be ``..``, hidden, a path, end in
  a dot or space, or start with a Windows device name such as ``CON.``;
* the readable part is cut to a few dozen bytes, keeping the whole path well
  under Windows' 260-character limit;
* a hash of the *exact* original strings is always appended, so two ids that
  read the same after cleaning (``a/b`` and ``a_b``, ``Bob`` and ``bob`` on a
  case-insensitive disk) still get different folders.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

__all__ = [
    "DATABASE_FILENAME",
    "DEMO_SERVER_KEY",
    "FEATURE_DIRNAME",
    "identity_db_path",
    "identity_dirname",
    "server_key",
]

FEATURE_DIRNAME: Final = "manuscriptBatchExport"
DATABASE_FILENAME: Final = "exports.sqlite3"
DEMO_SERVER_KEY: Final = "demo"
"""Key of the embedded demo server (``server_url == ""``); real servers' keys carry a hash."""

_HASH_CHARS: Final = 10  # 40 bits: collisions among one machine's identities are negligible
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def _readable(text: str, max_bytes: int) -> str:
    """The harmless, human-readable part of a folder name (may be lossy)."""
    out: list[str] = []
    size = 0
    for char in unicodedata.normalize("NFC", text):
        if char.isascii():
            keep = char.isalnum() or char in "-_"
        else:
            keep = unicodedata.category(char)[0] in "LN"
        piece = char if keep else "_"
        size += len(piece.encode("utf-8"))
        if size > max_bytes:
            break
        out.append(piece)
    return "".join(out) or "_"


def _digest(*parts: str) -> str:
    # JSON keeps ("a-b", "c") and ("a", "b-c") apart, whatever the strings hold.
    encoded = json.dumps(parts, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(encoded).hexdigest()[:_HASH_CHARS]


def server_key(server_url: str) -> str:
    """Folder name for a server: ``demo`` for the embedded one, else ``<host>[_<port>]-<hash>``.

    The URL is normalised first (case of scheme and host, default port,
    trailing slash), so ``HTTPS://WP.example.com:443/`` and
    ``https://wp.example.com`` share one folder.
    """
    url = server_url.strip()
    if not url:
        return DEMO_SERVER_KEY
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:  # e.g. a port that is not a number: still needs a stable key
        return f"server-{_digest(url)}"
    scheme = parts.scheme.lower()
    if port == _DEFAULT_PORTS.get(scheme):
        port = None
    netloc = host if port is None else f"{host}:{port}"
    normalised = f"{scheme}://{netloc}{parts.path.rstrip('/')}"
    label = host if port is None else f"{host}_{port}"
    return f"{_readable(label or 'server', 40)}-{_digest(normalised)}"


def identity_dirname(user_id: str, user_type: str) -> str:
    """Folder name for one user + identity: ``<user>-<userType>-<hash>``."""
    if not user_id or not user_type:
        raise ValueError("user_id and user_type must be non-empty")
    return f"{_readable(user_id, 32)}-{_readable(user_type, 16)}-{_digest(user_id, user_type)}"


def identity_db_path(server_url: str, user_id: str, user_type: str, *, data_dir: Path) -> Path:
    """Path of the export database of one server + user + identity under *data_dir*."""
    return (
        data_dir
        / server_key(server_url)
        / identity_dirname(user_id, user_type)
        / FEATURE_DIRNAME
        / DATABASE_FILENAME
    )
