"""Identity folders built from hostile user ids, identities and server URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from manuscript_gui.config import AppPaths
from manuscript_gui.storage import open_identity_db
from manuscript_gui.storage.locations import (
    DATABASE_FILENAME,
    DEMO_SERVER_KEY,
    FEATURE_DIRNAME,
    identity_db_path,
    identity_dirname,
    server_key,
)

HOSTILE = [
    "../x",
    "..",
    ".",
    "a/b",
    "a\\b",
    "/etc/passwd",
    "C:\\Windows",
    "CON",
    "con.txt",
    "NUL",
    "COM1",
    "LPT¹",
    "name. ",
    " lead",
    ".hidden",
    "x" * 1000,
    "张三" * 200,
    "Zoë",
    "tab\there",
    "nul\x00byte",
    "emoji 🧾",
    'quote"star*pipe|<>?',
]

WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL"} | {
    f"{d}{i}" for d in ("COM", "LPT") for i in "123456789¹²³"
}


def assert_safe_segment(segment: str) -> None:
    assert segment not in ("", ".", "..")
    assert not segment.startswith((".", " "))
    assert not segment.endswith((".", " "))
    assert not set(segment) & set('/\\:*?"<>|\x00\t')
    assert segment.split(".")[0].upper() not in WINDOWS_DEVICES
    assert len(segment.encode("utf-8")) <= 80


@pytest.mark.parametrize("user_id", HOSTILE)
def test_hostile_user_ids_give_safe_folders_inside_the_data_dir(
    tmp_path: Path, user_id: str
) -> None:
    data_dir = tmp_path / "data"
    path = identity_db_path("https://wp.example.com", user_id, user_id, data_dir=data_dir)
    relative = path.relative_to(data_dir)
    assert len(relative.parts) == 4
    assert relative.parts[2:] == (FEATURE_DIRNAME, DATABASE_FILENAME)
    for segment in relative.parts[:2]:
        assert_safe_segment(segment)
    # And the filesystem agrees: the database can be created there.
    with open_identity_db(
        "https://wp.example.com", user_id, user_id, paths=AppPaths(data_dir, tmp_path, tmp_path)
    ) as store:
        assert store.path == path
        assert path.resolve().is_relative_to(data_dir.resolve())
    assert path.is_file()


@pytest.mark.parametrize(
    "url", ["http://[::1]:8080/", "https://a..b/../../x", "http://x:notaport", "CON"]
)
def test_hostile_server_urls_give_safe_keys(url: str) -> None:
    assert_safe_segment(server_key(url))


def test_names_stay_readable_where_harmless() -> None:
    assert identity_dirname("zhangsan", "auditor").startswith("zhangsan-auditor-")
    assert identity_dirname("张三", "manager").startswith("张三-manager-")
    assert identity_dirname("a.b@example.com", "qc").startswith("a_b_example_com-qc-")
    assert server_key("https://wp.example.com").startswith("wp_example_com-")
    assert server_key("http://127.0.0.1:8765").startswith("127_0_0_1_8765-")
    assert server_key("") == DEMO_SERVER_KEY


def test_ids_that_clean_up_alike_stay_apart() -> None:
    # Distinct after cleaning, and distinct on case-insensitive disks too.
    names = {
        identity_dirname(user, kind).casefold()
        for user, kind in [
            ("a/b", "auditor"),
            ("a_b", "auditor"),
            ("a:b", "auditor"),
            ("Bob", "auditor"),
            ("bob", "auditor"),
            ("bob", "Auditor"),
            ("bob-auditor", "x"),
            ("bob", "auditor-x"),
            ("x" * 1000, "auditor"),
            ("x" * 1001, "auditor"),
        ]
    }
    assert len(names) == 10


def test_equivalent_server_urls_share_a_key_and_others_do_not() -> None:
    same = {
        server_key(url)
        for url in [
            "https://wp.example.com",
            "https://wp.example.com/",
            "HTTPS://WP.Example.com:443",
            " https://wp.example.com ",
        ]
    }
    assert len(same) == 1
    different = {
        server_key(url)
        for url in [
            "https://wp.example.com",
            "http://wp.example.com",
            "https://wp.example.com:8443",
            "https://wp.example.com/tenant-a",
            "https://wp.example.com/tenant-b",
        ]
    }
    assert len(different) == 5


def test_empty_ids_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="non-empty"):
        identity_db_path("", "", "auditor", data_dir=tmp_path)
    with pytest.raises(ValueError, match="non-empty"):
        identity_db_path("", "demo", "", data_dir=tmp_path)
