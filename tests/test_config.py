"""Paths and settings: defaults, round trip, validation, damaged files, atomic writes."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path

import platformdirs
import pytest

from manuscript_gui import config
from manuscript_gui.config import (
    APP_NAME,
    HOME_ENV,
    AppPaths,
    Settings,
    app_paths,
    aside_path,
    load_settings,
    save_settings,
)

CUSTOM = Settings(
    server_url="https://wp.example.com",
    last_user="zhangsan",
    last_identity="auditor",
    concurrency=16,
    retries=0,
    bandwidth_limit_bps=1_000_000,
    default_export_dir="/home/u/底稿",
    language="zh_CN",
    ca_bundle="/etc/ssl/corp.pem",
)


# --------------------------------------------------------------------- paths


def test_env_override_puts_everything_under_one_folder() -> None:
    home = Path(os.environ[HOME_ENV])  # set per test by tests/conftest.py
    paths = app_paths()
    assert paths == AppPaths(home / "data", home / "config", home / "logs")
    assert paths.settings_file == home / "config" / "settings.json"
    assert not home.exists()  # computing paths creates nothing


def test_relative_override_becomes_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert app_paths({HOME_ENV: "portable"}).data_dir == tmp_path / "portable" / "data"


@pytest.mark.parametrize("environ", [{}, {HOME_ENV: ""}, {HOME_ENV: "   "}])
def test_without_override_platformdirs_decide(environ: dict[str, str]) -> None:
    paths = app_paths(environ)
    assert paths.data_dir == Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    assert paths.config_dir == Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    assert paths.log_dir == Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def test_aside_path_never_reuses_a_name(tmp_path: Path) -> None:
    target = tmp_path / "settings.json"
    now = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    first = aside_path(target, "corrupt", now=now)
    assert first.name == "settings.json.corrupt-20250102T030405Z"
    first.touch()
    second = aside_path(target, "corrupt", now=now)
    assert second.name == "settings.json.corrupt-20250102T030405Z-2"


# ------------------------------------------------------------------ settings


def test_defaults_when_there_is_no_file() -> None:
    loaded = load_settings()
    assert loaded.settings == Settings()
    assert loaded.problems == ()
    assert loaded.moved_aside is None
    defaults = loaded.settings
    assert (defaults.server_url, defaults.concurrency, defaults.retries) == ("", 8, 5)
    assert (defaults.bandwidth_limit_bps, defaults.language) == (0, "system")
    assert defaults.last_user is defaults.default_export_dir is defaults.ca_bundle is None


def test_round_trip() -> None:
    save_settings(CUSTOM)
    assert load_settings() == config.LoadedSettings(CUSTOM)
    data = json.loads(app_paths().settings_file.read_text(encoding="utf-8"))
    assert data["default_export_dir"] == "/home/u/底稿"
    assert set(data) == {f.name for f in dataclasses.fields(Settings)}


def test_invalid_settings_cannot_be_constructed() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        Settings(concurrency=0)
    with pytest.raises(ValueError, match="language"):
        Settings(language="fr")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="server_url"):
        dataclasses.replace(Settings(), server_url="ftp://x")


@pytest.mark.parametrize(
    ("key", "bad"),
    [
        ("server_url", "ftp://wp.example.com"),
        ("server_url", "wp.example.com"),
        ("server_url", 42),
        ("last_user", 5),
        ("last_user", ""),
        ("last_identity", ["auditor"]),
        ("concurrency", 0),
        ("concurrency", 33),
        ("concurrency", "8"),
        ("concurrency", True),
        ("concurrency", 8.0),
        ("retries", -1),
        ("retries", 21),
        ("bandwidth_limit_bps", -1),
        ("bandwidth_limit_bps", None),
        ("default_export_dir", False),
        ("language", "fr"),
        ("language", None),
        ("ca_bundle", {}),
    ],
)
def test_an_invalid_value_falls_back_alone(
    key: str, bad: object, caplog: pytest.LogCaptureFixture
) -> None:
    data = {**dataclasses.asdict(CUSTOM), key: bad}
    path = app_paths().settings_file
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data), encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="manuscript_gui.config"):
        loaded = load_settings()
    expected = dataclasses.replace(CUSTOM, **{key: getattr(Settings(), key)})
    assert loaded.settings == expected
    assert len(loaded.problems) == 1
    assert repr(key) in loaded.problems[0]
    assert loaded.moved_aside is None
    assert path.exists()  # a bad field is not a damaged file
    assert loaded.problems[0] in caplog.text


def test_every_field_is_validated_on_load() -> None:
    # A wrong type for every field at once: every field falls back.
    path = app_paths().settings_file
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps({f.name: [] for f in dataclasses.fields(Settings)}), encoding="utf-8"
    )
    loaded = load_settings()
    assert loaded.settings == Settings()
    assert len(loaded.problems) == len(dataclasses.fields(Settings))


def test_unknown_keys_and_secrets_are_ignored_and_dropped_on_save() -> None:
    path = app_paths().settings_file
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps({"concurrency": 4, "password": "hunter2", "token": "abc", "future_key": 1}),
        encoding="utf-8",
    )
    loaded = load_settings()
    assert loaded.settings == Settings(concurrency=4)
    assert loaded.problems == ()
    save_settings(loaded.settings)
    text = path.read_text(encoding="utf-8")
    assert "hunter2" not in text
    assert "password" not in text
    assert "token" not in text


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"\xff\xfe\x00garbage", b"[1, 2, 3]", b'"just a string"', b""],
    ids=["broken-json", "not-utf8", "a-list", "a-string", "empty"],
)
def test_damaged_file_is_set_aside_and_defaults_used(
    content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    path = app_paths().settings_file
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="manuscript_gui.config"):
        loaded = load_settings()
    assert loaded.settings == Settings()
    assert loaded.moved_aside is not None
    assert loaded.moved_aside.name.startswith("settings.json.corrupt-")
    assert loaded.moved_aside.read_bytes() == content
    assert not path.exists()
    assert len(loaded.problems) == 1
    assert str(loaded.moved_aside) in loaded.problems[0]
    assert loaded.problems[0] in caplog.text

    # A later save does not touch the kept copy.
    save_settings(CUSTOM)
    assert loaded.moved_aside.read_bytes() == content
    assert load_settings().settings == CUSTOM


def test_unreadable_path_is_reported_not_raised() -> None:
    path = app_paths().settings_file
    path.mkdir(parents=True)  # a directory where the file should be
    loaded = load_settings()
    assert loaded.settings == Settings()
    assert len(loaded.problems) == 1


def test_atomic_write_leaves_only_the_file() -> None:
    for value in (1, 2, 3):
        save_settings(Settings(concurrency=value))
    config_dir = app_paths().config_dir
    assert sorted(p.name for p in config_dir.iterdir()) == ["settings.json"]
    assert load_settings().settings.concurrency == 3


def test_failed_write_keeps_the_old_file_and_no_temp(monkeypatch: pytest.MonkeyPatch) -> None:
    save_settings(CUSTOM)

    def refuse(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(config.os, "replace", refuse)
        with pytest.raises(OSError, match="No space"):
            save_settings(Settings())
    assert sorted(os.listdir(app_paths().config_dir)) == ["settings.json"]
    assert load_settings().settings == CUSTOM


def test_explicit_path(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere" / "s.json"
    save_settings(CUSTOM, path)
    assert load_settings(path).settings == CUSTOM
