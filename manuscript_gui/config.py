"""Where the app keeps its files, and the user's settings.

Paths come from platformdirs (the per-user data, config and log directories of
each OS). ``MANUSCRIPT_GUI_HOME=DIR`` moves all three under one directory
(``DIR/data``, ``DIR/config``, ``DIR/logs``): the tests use it to keep every
run away from the developer's real profile, and it makes a portable install
possible (point it at a folder on a USB stick).

Settings are a small JSON file in the config directory. A settings file is
something users edit by hand, copy between machines and lose to power cuts, so
loading never fails: each field is validated on its own and a bad one falls
back to its default; a file that cannot be read at all is renamed aside (never
overwritten later by a save) and the defaults are used. Every such problem is
logged *and* returned to the caller, so the UI can tell the user and the tests
can check it. Secrets never go here: passwords and tokens are not fields, and
unknown keys found in a file are dropped on the next save.

This module imports nothing from Qt or the network layer; ``storage`` builds on it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal, cast
from urllib.parse import urlsplit

import platformdirs

__all__ = [
    "APP_NAME",
    "HOME_ENV",
    "LANGUAGES",
    "AppPaths",
    "Language",
    "LoadedSettings",
    "Settings",
    "app_paths",
    "aside_path",
    "load_settings",
    "save_settings",
]

_log = logging.getLogger(__name__)

APP_NAME: Final = "manuscript-gui"
HOME_ENV: Final = "MANUSCRIPT_GUI_HOME"
SETTINGS_FILENAME: Final = "settings.json"


# --------------------------------------------------------------------------- paths


@dataclass(frozen=True, slots=True)
class AppPaths:
    """The three per-user directories of the app.

    Nothing is created here: whoever writes into a directory creates it, so
    merely computing paths (``--help``, tests) leaves no trace on disk.
    """

    data_dir: Path
    config_dir: Path
    log_dir: Path

    @property
    def settings_file(self) -> Path:
        return self.config_dir / SETTINGS_FILENAME


def app_paths(environ: Mapping[str, str] | None = None) -> AppPaths:
    """Resolve the app's directories, honouring ``MANUSCRIPT_GUI_HOME``.

    Read on every call rather than cached, so a test (or a portable launcher)
    that sets the variable is never fooled by an earlier lookup.
    """
    env = os.environ if environ is None else environ
    home = env.get(HOME_ENV, "").strip()
    if home:
        # absolute() rather than resolve(): no filesystem access, and a
        # symlinked portable folder keeps the path the user gave.
        root = Path(home).expanduser().absolute()
        return AppPaths(root / "data", root / "config", root / "logs")
    return AppPaths(
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        config_dir=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
        log_dir=Path(platformdirs.user_log_dir(APP_NAME, appauthor=False)),
    )


def aside_path(path: Path, label: str, *, now: datetime | None = None) -> Path:
    """A free sibling name ``<name>.<label>-<UTC timestamp>`` for setting *path* aside.

    Used for damaged files (settings, databases) that must be kept for
    recovery rather than replaced. A counter is appended when two files are
    set aside within the same second.
    """
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    candidate = path.with_name(f"{path.name}.{label}-{stamp}")
    counter = 2
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.{label}-{stamp}-{counter}")
        counter += 1
    return candidate


# ------------------------------------------------------------------------ settings

Language = Literal["system", "zh_CN", "en"]
LANGUAGES: Final[tuple[Language, ...]] = ("system", "zh_CN", "en")


def _server_url(value: object) -> None:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if value == "":  # the embedded demo server
        return
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be empty (demo server) or an http(s):// URL")


def _optional_text(value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ValueError("must be null or a non-empty string")


def _int_range(low: int, high: int | None) -> Callable[[object], None]:
    def check(value: object) -> None:
        # bool is an int subclass; `true` in a hand-edited file is a mistake.
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValueError("must be an integer")
        if value < low or (high is not None and value > high):
            bounds = f"{low}–{high}" if high is not None else f">= {low}"
            raise ValueError(f"must be {bounds}")

    return check


def _language(value: object) -> None:
    if value not in LANGUAGES:
        raise ValueError(f"must be one of {', '.join(LANGUAGES)}")


# One validator per field, shared by construction in code and by loading.
_VALIDATORS: Final[Mapping[str, Callable[[object], None]]] = {
    "server_url": _server_url,
    "last_user": _optional_text,
    "last_identity": _optional_text,
    "concurrency": _int_range(1, 32),
    "retries": _int_range(0, 20),
    "bandwidth_limit_bps": _int_range(0, None),
    "default_export_dir": _optional_text,
    "language": _language,
    "ca_bundle": _optional_text,
}


@dataclass(frozen=True, slots=True)
class Settings:
    """User preferences. Immutable: change one with ``dataclasses.replace``.

    Constructing an invalid value raises ``ValueError``, so an invalid
    ``Settings`` never exists and can never be saved.
    """

    server_url: str = ""
    """Base URL of the working-paper server; ``""`` means the embedded demo server."""
    last_user: str | None = None
    last_identity: str | None = None
    concurrency: int = 8
    """Files in flight at once (1–32)."""
    retries: int = 5
    """Retries of a transient failure per file (0–20)."""
    bandwidth_limit_bps: int = 0
    """Bytes per second over all downloads; 0 means unlimited."""
    default_export_dir: str | None = None
    language: Language = "system"
    ca_bundle: str | None = None
    """A PEM file of extra trusted CAs, for servers behind a corporate CA."""

    def __post_init__(self) -> None:
        for name, check in _VALIDATORS.items():
            try:
                check(getattr(self, name))
            except ValueError as exc:
                raise ValueError(f"settings.{name} {exc}") from None


@dataclass(frozen=True, slots=True)
class LoadedSettings:
    """What :func:`load_settings` found.

    ``problems`` are human-readable sentences (already logged) that the UI may
    show; ``moved_aside`` is where an unreadable file was kept, if any.
    """

    settings: Settings
    problems: tuple[str, ...] = ()
    moved_aside: Path | None = None


def load_settings(path: Path | None = None) -> LoadedSettings:
    """Load settings, falling back to defaults field by field; never raises for bad content.

    A missing file is normal (first start) and not a problem.
    """
    path = app_paths().settings_file if path is None else path
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return LoadedSettings(Settings())
    except OSError as exc:
        return _set_aside(path, f"cannot be read ({exc.strerror or exc})")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return _set_aside(path, f"is not valid JSON ({exc})")
    if not isinstance(data, dict):
        return _set_aside(path, "does not hold a JSON object")

    values: dict[str, object] = {}
    problems: list[str] = []
    for name, check in _VALIDATORS.items():
        if name not in data:
            continue
        try:
            check(data[name])
        except ValueError as exc:
            problem = f"Setting {name!r} in {path} {exc}; using the default instead."
            _log.warning("%s", problem)
            problems.append(problem)
        else:
            values[name] = data[name]
    ignored = sorted(set(data) - set(_VALIDATORS))
    if ignored:
        # Not a problem for the user: older/newer versions may add keys.
        _log.info("Ignoring unknown settings keys in %s: %s", path, ", ".join(ignored))
    # Every value was checked by its validator just above.
    settings = Settings(**cast(dict[str, Any], values))
    return LoadedSettings(settings, tuple(problems))


def _set_aside(path: Path, why: str) -> LoadedSettings:
    problem = f"The settings file {path} {why}; default settings are used."
    target = aside_path(path, "corrupt")
    moved: Path | None = None
    try:
        path.rename(target)
    except OSError as exc:
        problem += f" It could not be set aside ({exc.strerror or exc})."
    else:
        moved = target
        problem += f" The file was kept as {moved}."
    _log.warning("%s", problem)
    return LoadedSettings(Settings(), (problem,), moved)


def save_settings(settings: Settings, path: Path | None = None) -> None:
    """Write settings atomically: readers see the old file or the new one, never half of it."""
    path = app_paths().settings_file if path is None else path
    text = json.dumps(asdict(settings), indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    _atomic_write(path, text.encode("utf-8"))


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # The temp file must be in the same directory: os.replace is only atomic
    # within one filesystem.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            # Without fsync a power cut after the rename can leave an empty file.
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX); Windows cannot open a directory for this."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
