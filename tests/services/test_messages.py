"""Codes + parameters -> English: every code has words, every placeholder is filled, and
missing, malformed or hostile parameters never crash nor leave a placeholder."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping

import pytest

from manuscript_gui.core.actions import Action
from manuscript_gui.domain import FileError, StopReason
from manuscript_gui.services.messages import (
    ACTION_ERROR_CODES,
    ACTION_LABELS,
    FILE_ERROR_LABELS,
    REASON_LABELS,
    action_error_text,
    file_error_label,
    file_error_text,
    queue_owner_text,
    reason_label,
    size_text,
    stop_reason_text,
)

Text = Callable[[str, Mapping[str, object] | None], str]

#: A usable value for every parameter a family knows.
STOP_PARAMS: dict[str, object] = {
    "need": 5_000_000_000,
    "free": 1_200_000,
    "error": "No space left on device",
    "path": "/exports/.manuscript-partial",
    "files": 8,
}
FILE_PARAMS: dict[str, object] = {
    "attempts": 6,
    "status": 503,
    "error": "connection reset",
    "problem": "no valid size (got '12')",
}
ACTION_PARAMS: dict[str, object] = {
    "action": "retry_failed",
    "status": "waiting",
    "task": 42,
    "path": "exports/2025",
    "front_end": "window",
    "pid": 4242,
}
FAMILIES: list[tuple[Text, list[str], dict[str, object]]] = [
    (stop_reason_text, [r.value for r in StopReason], STOP_PARAMS),
    (file_error_text, [e.value for e in FileError], FILE_PARAMS),
    (action_error_text, sorted(ACTION_ERROR_CODES), ACTION_PARAMS),
]
CASES = [(fn, code, params) for fn, codes, params in FAMILIES for code in codes]
IDS = [f"{fn.__name__}-{code}" for fn, code, _ in CASES]

#: Values no sentence may take as they come (wrong types, out of range, empty).
MALFORMED: list[object] = [None, "", "  ", True, -1, 3.5, "3", b"x", [1], {"a": 1}, 10**30]


def _subsets(params: dict[str, object]) -> list[dict[str, object]]:
    keys = list(params)
    return [
        {k: params[k] for k in chosen}
        for n in range(len(keys) + 1)
        for chosen in itertools.combinations(keys, n)
    ]


def _clean(text: str) -> None:
    assert isinstance(text, str)
    assert text.strip() == text
    assert text
    assert "{" not in text
    assert "}" not in text
    assert "None" not in text
    assert ".." not in text
    assert text[0].isupper(), text


@pytest.mark.parametrize(("fn", "code", "params"), CASES, ids=IDS)
def test_every_code_has_a_sentence_for_every_set_of_parameters(
    fn: Text, code: str, params: dict[str, object]
) -> None:
    plain = fn(code, {})
    _clean(plain)
    assert fn(code, None) == plain
    assert code not in plain  # a known code is worded, not shown
    for subset in _subsets(params):
        _clean(fn(code, subset))


@pytest.mark.parametrize(("fn", "code", "params"), CASES, ids=IDS)
def test_malformed_parameters_give_a_plainer_sentence_never_an_error(
    fn: Text, code: str, params: dict[str, object]
) -> None:
    for key, bad in itertools.product(params, MALFORMED):
        text = fn(code, {**params, key: bad})
        _clean(text)
        assert repr(bad) not in text or isinstance(bad, int)
    _clean(fn(code, {"unrelated": object(), "need": object()}))


def test_stop_reasons_say_their_figures() -> None:
    assert stop_reason_text("disk_full", STOP_PARAMS) == (
        "Paused: the disk is full. The export still needs 5.0 GB; 1.2 MB is free."
    )
    assert stop_reason_text("disk_full", {"need": 5_000_000_000}) == (
        "Paused: the disk of the export folder is full."
    )
    assert stop_reason_text("disk_full", {"error": "need 5 GB, 1 MB free"}) == (
        "Paused: the disk of the export folder is full: need 5 GB, 1 MB free."
    )
    for code in ("server_unavailable", "server_unreachable", "listing_failed", "unexpected_error"):
        text = stop_reason_text(code, {"error": "503 service_unavailable."})
        assert "503 service_unavailable" in text
        assert ".." not in text
    assert stop_reason_text("by_user", STOP_PARAMS) == "Paused by you."
    # What the engine stores for a local error, failures piling up, files left unscheduled:
    local = {"path": "/data/导出", "error": "Permission denied"}
    assert stop_reason_text("folder_not_writable", local) == (
        "Paused: the export folder cannot be written to: /data/导出: Permission denied."
    )
    assert stop_reason_text("disk_full", {"path": "/data", "error": "No space left on device"}) == (
        "Paused: the disk of the export folder is full: /data: No space left on device."
    )
    assert stop_reason_text("server_unavailable", {"files": 8, "error": "302 redirect"}) == (
        "Paused: 8 files in a row failed the same way and none succeeded "
        "(the server's doing, or a proxy's): 302 redirect."
    )
    assert stop_reason_text("unexpected_error", {"files": 1}) == (
        "Stopped by an unexpected error: 1 file could not be scheduled. The log says more."
    )


def test_file_errors_say_attempts_status_and_error() -> None:
    assert file_error_text("checksum_mismatch", FILE_PARAMS) == (
        "The bytes received did not match the file's checksum, after 6 attempts."
    )
    assert file_error_text("checksum_mismatch", {"attempts": 1}) == (
        "The bytes received did not match the file's checksum, after 1 attempt."
    )
    assert file_error_text("server_error", FILE_PARAMS) == (
        "The server failed (HTTP 503), after 6 attempts."
    )
    assert file_error_text("network_error", FILE_PARAMS) == (
        "The network failed, after 6 attempts: connection reset."
    )
    assert file_error_text("file_deleted", {"status": 410}) == (
        "The file was deleted on the server (HTTP 410)."
    )
    assert file_error_text("file_deleted", {"status": 4100}) == (
        "The file was deleted on the server."
    )
    assert file_error_text("bad_listing", {"problem": "no valid size (got '12')"}) == (
        "The server's listing of this file is malformed: no valid size (got '12')."
    )


def test_action_errors_name_the_action_and_the_status() -> None:
    assert action_error_text("not_allowed", {"action": "pause", "status": "paused"}) == (
        "A task that is paused cannot be paused."
    )
    assert action_error_text("not_allowed", {"action": "move_up", "status": "running"}) == (
        "A task that is running cannot be moved up."
    )
    assert action_error_text("not_allowed", {"action": "teleport", "status": "waiting"}) == (
        "A task that is waiting does not allow this."
    )
    assert action_error_text("no_task", {"task": 7}) == "There is no task 7."
    assert action_error_text("relative_target", {"path": "out"}) == (
        "The export folder must be an absolute path: out"
    )
    assert action_error_text("queue_in_use", {"front_end": "cli", "pid": 77}) == (
        "This queue is exporting in manuscript-cli (pid 77); stop it there first."
    )
    for action in Action:
        text = action_error_text("busy", {"action": action.value})
        assert text.startswith("The task cannot be ")


def test_parameter_values_are_never_read_as_templates() -> None:
    """A server's message with braces is shown as it came, never formatted again."""
    assert stop_reason_text("listing_failed", {"error": "bad {need} and {0}"}) == (
        "Paused: the server would not list the selection: bad {need} and {0}."
    )
    assert file_error_text("from_the_future", {"error": "{status}"}).endswith("): {status}.")


@pytest.mark.parametrize(
    ("fn", "start"),
    [
        (stop_reason_text, "Paused for a reason this version of the app does not know"),
        (file_error_text, "Failed for a reason this version of the app does not know"),
        (action_error_text, "The action was refused"),
    ],
)
def test_a_code_from_a_newer_app_gets_a_generic_sentence_naming_it(fn: Text, start: str) -> None:
    text = fn("quantum_flux", {})
    assert text.startswith(start)
    assert "(quantum_flux)" in text
    _clean(text)
    _clean(fn("", {}))
    assert "()" not in fn("", {})
    with_error = fn("quantum_flux", {"error": "it broke"})
    _clean(with_error)


def test_labels_cover_every_code_and_match_the_command_lines_words() -> None:
    assert set(REASON_LABELS) == set(StopReason)
    assert set(FILE_ERROR_LABELS) == set(FileError)
    assert set(ACTION_LABELS) == set(Action)
    # The command line's words so far (cli.REASONS): moving them changes no output.
    assert dict(REASON_LABELS) == {
        "by_user": "by you",
        "login_expired": "login expired",
        "logged_out": "logged out",
        "switched_user": "switched user",
        "disk_full": "disk full",
        "folder_not_writable": "export folder not writable",
        "server_unreachable": "server unreachable",
        "server_unavailable": "server unavailable",
        "export_in_use": "export in use by another process",
        "listing_failed": "listing failed",
        "unexpected_error": "unexpected error",
    }
    assert reason_label("login_expired") == "login expired"
    assert reason_label("quantum_flux") == "quantum_flux"
    assert reason_label(None) == "unknown reason"
    assert file_error_label("version_gone") == "version no longer on the server"
    assert file_error_label("quantum_flux") == "quantum_flux"
    assert file_error_label(None) == "unknown error"
    for labels in (REASON_LABELS, FILE_ERROR_LABELS, ACTION_LABELS):
        assert all(text and "{" not in text for text in labels.values())
        with pytest.raises(TypeError):
            labels["by_user"] = "changed"  # type: ignore[index]


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 B"),
        (999, "999 B"),
        (999.9, "999 B"),
        (1000, "1.0 kB"),
        (1536, "1.5 kB"),
        (1_500_000, "1.5 MB"),
        (999_999_999, "1000.0 MB"),
        (4_200_000_000, "4.2 GB"),
        (12_345_000_000_000, "12345.0 GB"),
    ],
)
def test_sizes_read_as_the_command_line_printed_them(n: float, text: str) -> None:
    assert size_text(n) == text


def test_who_holds_a_queue() -> None:
    assert queue_owner_text("window", 4242) == "exporting in another window (pid 4242)"
    assert queue_owner_text("cli", 7, 3) == ("exporting in manuscript-cli (pid 7, task 3 running)")
    assert queue_owner_text(None, None) == "exporting in another process"
    assert queue_owner_text("toaster", None, 5) == "exporting in another process (task 5 running)"


def test_no_sentence_shows_a_python_repr() -> None:
    everything = [fn(code, params) for fn, code, params in CASES]
    assert not [t for t in everything if re.search(r"<|\bobject at\b|\\x|\bb'", t)]
