"""The sign-in / switch-user dialog against the real reference server (issue #8 item 2).

Every inline message comes from a real failure: a wrong password, a closed port,
an ``https://`` URL to the plain-HTTP server (a TLS handshake that fails), a
server whose certificate comes from a private CA, an identity the user does not
have, empty fields and malformed URLs (refused before any request). The
dialog stays responsive while the server is slow (``latencyMs``): busy bar
shown, sign-in button disabled, Cancel stops the wait. One identity signs in
at once; several are offered with their labels, the remembered one
preselected. A sign-in while someone is signed in is a switch. The server URL,
user name and identity are remembered in the settings file, the password never.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from manuscript_gui.config import Settings, app_paths, load_settings, save_settings
from manuscript_gui.domain import SessionChange, SessionInfo
from manuscript_gui.reference_server import ServerHandle
from manuscript_gui.services.exports import ExportService, ServiceOptions
from manuscript_gui.ui import texts
from manuscript_gui.ui.dialogs.login import LoginDialog, url_problem
from manuscript_gui.ui.widgets import MessageKind
from tests.fixtures_server import TINY_DEMO, Admin
from tests.net.conftest import TlsFiles, tls_files  # noqa: F401  (the session fixture)
from tests.ui.conftest import run

WAIT = 30_000


@pytest.fixture
def service(qloop: qasync.QEventLoop, qtbot: QtBot) -> Iterator[ExportService]:
    svc = ExportService(
        Settings(concurrency=2, retries=1),
        paths=app_paths(),
        options=ServiceOptions(fsync=False, autostart=False),
    )
    yield svc
    run(qtbot, svc.close())


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "config" / "settings.json"


def _dialog(
    qtbot: QtBot,
    service: ExportService,
    settings: Settings,
    settings_file: Path,
    **kwargs: Any,
) -> LoginDialog:
    dialog = LoginDialog(service, settings, settings_file=settings_file, **kwargs)
    qtbot.addWidget(dialog)
    dialog.open()
    return dialog


def _fill(dialog: LoginDialog, server: str, user: str, password: str) -> None:
    dialog.server_edit.setText(server)
    dialog.user_edit.setText(user)
    dialog.password_edit.setText(password)


def _submit_and_wait(qtbot: QtBot, dialog: LoginDialog) -> None:
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=WAIT)


def _error(dialog: LoginDialog) -> str:
    assert dialog.message.kind is MessageKind.ERROR, dialog.message.text()
    assert dialog.message.isVisible()
    return dialog.message.text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# -- input refused before any request ----------------------------------------------------


@pytest.mark.parametrize(
    ("server", "user", "password", "words", "focus"),
    [
        ("", "demo", "demo", "server address", "server_edit"),
        ("{url}", "", "demo", "user name", "user_edit"),
        ("{url}", "   ", "demo", "user name", "user_edit"),
        ("{url}", "demo", "", "password", "password_edit"),
    ],
)
def test_empty_fields_are_said_inline(
    qtbot: QtBot,
    service: ExportService,
    fresh_server: ServerHandle,
    settings_file: Path,
    server: str,
    user: str,
    password: str,
    words: str,
    focus: str,
) -> None:
    dialog = _dialog(qtbot, service, Settings(), settings_file)
    _fill(dialog, server.format(url=fresh_server.base_url), user, password)
    dialog.sign_in_button.click()
    assert not dialog.busy  # nothing was sent
    assert words in _error(dialog)
    assert dialog.focusWidget() is getattr(dialog, focus)
    assert dialog.isVisible()
    assert service.session.current is None


@pytest.mark.parametrize(
    "url",
    [
        "wp.example.com",
        "ftp://wp.example.com",
        "http://",
        "http://127.0.0.1:99999",
        "http://127.0.0.1:port",
        "http://wp example.com",
        "https://wp.example.com/?a=1",
        "javascript:alert(1)",
    ],
)
def test_a_malformed_server_url_is_said_inline_without_a_request(
    qtbot: QtBot, service: ExportService, settings_file: Path, url: str
) -> None:
    assert url_problem(url) is not None
    dialog = _dialog(qtbot, service, Settings(), settings_file)
    _fill(dialog, url, "demo", "demo")
    dialog.sign_in_button.click()
    assert not dialog.busy
    assert "server address is not valid" in _error(dialog)
    assert dialog.focusWidget() is dialog.server_edit


def test_url_problem_accepts_what_the_client_accepts() -> None:
    for url in ("http://127.0.0.1:8080", "https://wp.example.com/base/", "http://[::1]:80"):
        assert url_problem(url) is None, url


# -- failures the server (or the network) produces ------------------------------------------


def test_wrong_password(
    qtbot: QtBot, service: ExportService, fresh_server: ServerHandle, settings_file: Path
) -> None:
    dialog = _dialog(qtbot, service, Settings(), settings_file)
    _fill(dialog, fresh_server.base_url, "demo", "not-the-password")
    _submit_and_wait(qtbot, dialog)
    assert "Wrong user name or password" in _error(dialog)
    assert dialog.isVisible()
    assert dialog.focusWidget() is dialog.password_edit
    assert dialog.password_edit.selectedText() == "not-the-password"  # ready to retype
    assert service.session.current is None
    assert not settings_file.exists()  # nothing remembered from a failed sign-in


def test_unreachable_server(qtbot: QtBot, service: ExportService, settings_file: Path) -> None:
    port = _free_port()
    dialog = _dialog(qtbot, service, Settings(), settings_file)
    _fill(dialog, f"http://127.0.0.1:{port}", "demo", "demo")
    _submit_and_wait(qtbot, dialog)
    text = _error(dialog)
    assert f"Cannot reach the server 127.0.0.1:{port}" in text
    assert service.session.current is None


def test_tls_failure_says_the_secure_connection_failed(
    qtbot: QtBot, service: ExportService, fresh_server: ServerHandle, settings_file: Path
) -> None:
    https_url = fresh_server.base_url.replace("http://", "https://")
    dialog = _dialog(qtbot, service, Settings(), settings_file)
    _fill(dialog, https_url, "demo", "demo")
    _submit_and_wait(qtbot, dialog)
    text = _error(dialog)
    assert "secure connection (TLS)" in text
    assert "certificate could not be verified" in text
    assert service.session.current is None


def test_untrusted_certificate_then_the_ca_file_in_the_settings(
    qtbot: QtBot,
    make_server: Callable[..., ServerHandle],
    tls_files: TlsFiles,  # noqa: F811  (the imported fixture)
    service: ExportService,  # after the server: closed before it stops
    settings_file: Path,
) -> None:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(tls_files.cert, tls_files.key)
    handle = make_server(demo=TINY_DEMO, ssl_context=ctx)
    dialog = _dialog(qtbot, service, Settings(), settings_file)
    _fill(dialog, handle.base_url, "lisi", "lisi")
    _submit_and_wait(qtbot, dialog)
    text = _error(dialog)
    assert "certificate could not be verified" in text
    assert "CA file in the settings" in text  # says what to do about it
    assert service.session.current is None

    # The settings dialog's CA file is what the service signs in with.
    service.settings = Settings(ca_bundle=str(tls_files.ca))
    with qtbot.waitSignal(dialog.signed_in, timeout=WAIT) as signed:
        dialog.sign_in_button.click()
    info = signed.args[0]
    assert isinstance(info, SessionInfo)
    assert info.server_url == handle.base_url
    assert info.user_id == "u-lisi"


def test_an_unusable_ca_file_is_said_inline(
    qtbot: QtBot,
    service: ExportService,
    fresh_server: ServerHandle,
    settings_file: Path,
    tmp_path: Path,
) -> None:
    broken = tmp_path / "not-a-ca.pem"
    broken.write_text("not a certificate\n")
    service.settings = Settings(ca_bundle=str(broken))
    dialog = _dialog(qtbot, service, Settings(), settings_file)
    _fill(dialog, fresh_server.base_url, "lisi", "lisi")
    _submit_and_wait(qtbot, dialog)
    assert "CA file in the settings cannot be used" in _error(dialog)
    assert service.session.current is None


# -- identities ----------------------------------------------------------------------------


def test_one_identity_signs_in_at_once_and_is_remembered_without_the_password(
    qtbot: QtBot, service: ExportService, fresh_server: ServerHandle, settings_file: Path
) -> None:
    dialog = _dialog(qtbot, service, Settings(concurrency=3), settings_file)
    assert dialog.windowTitle() == "Sign in"
    _fill(dialog, fresh_server.base_url, "lisi", "lisi")
    remembered: list[Settings] = []
    dialog.remembered.connect(remembered.append)
    with qtbot.waitSignal(dialog.signed_in, timeout=WAIT) as signed:
        dialog.sign_in_button.click()
    info = signed.args[0]
    assert (info.user_id, info.user_type) == ("u-lisi", "auditor")
    assert service.session.current == info
    assert dialog.choices == ()  # no list was offered
    assert not dialog.isVisible()
    assert dialog.result() == LoginDialog.DialogCode.Accepted

    saved = load_settings(settings_file).settings
    assert (saved.server_url, saved.last_user, saved.last_identity) == (
        fresh_server.base_url,
        "lisi",
        "auditor",
    )
    assert saved.concurrency == 3  # the caller's other fields are kept
    assert remembered == [saved]
    # Only the settings' own fields are written (no password, no token), and the
    # password is not kept in the dialog either.
    raw = json.loads(settings_file.read_text(encoding="utf-8"))
    assert set(raw) == {f.name for f in dataclasses.fields(Settings)}
    assert dialog.password_edit.text() == ""


def test_several_identities_are_offered_with_the_remembered_one_preselected(
    qtbot: QtBot, service: ExportService, fresh_server: ServerHandle, settings_file: Path
) -> None:
    settings = Settings(server_url=fresh_server.base_url, last_user="demo", last_identity="manager")
    dialog = _dialog(qtbot, service, settings, settings_file)
    assert dialog.server_edit.text() == fresh_server.base_url
    assert dialog.user_edit.text() == "demo"
    assert dialog.focusWidget() is dialog.password_edit
    assert not dialog.identity_combo.isVisible()
    dialog.password_edit.setText("demo")
    _submit_and_wait(qtbot, dialog)

    assert service.session.current is None  # the password check changes nothing
    assert [c.user_type for c in dialog.choices] == ["auditor", "manager"]
    assert dialog.identity_combo.isVisible()
    labels = [dialog.identity_combo.itemText(i) for i in range(dialog.identity_combo.count())]
    assert labels == [texts.display_safe(c.label) for c in dialog.choices]
    assert all(labels)
    assert dialog.identity_combo.currentData() == "manager"
    assert dialog.message.kind is MessageKind.INFO

    dialog.identity_combo.setCurrentIndex(dialog.identity_combo.findData("auditor"))
    with qtbot.waitSignal(dialog.signed_in, timeout=WAIT) as signed:
        dialog.sign_in_button.click()
    assert signed.args[0].user_type == "auditor"
    assert load_settings(settings_file).settings.last_identity == "auditor"


def test_the_first_identity_is_preselected_for_another_account(
    qtbot: QtBot, service: ExportService, fresh_server: ServerHandle, settings_file: Path
) -> None:
    # wangwu's remembered identity must not carry over to demo.
    settings = Settings(
        server_url=fresh_server.base_url, last_user="wangwu", last_identity="manager"
    )
    dialog = _dialog(qtbot, service, settings, settings_file)
    _fill(dialog, fresh_server.base_url, "demo", "demo")
    _submit_and_wait(qtbot, dialog)
    assert dialog.identity_combo.currentIndex() == 0
    assert dialog.identity_combo.currentData() == "auditor"


def test_editing_the_credentials_drops_the_offered_identities(
    qtbot: QtBot, service: ExportService, fresh_server: ServerHandle, settings_file: Path
) -> None:
    dialog = _dialog(qtbot, service, Settings(), settings_file)
    _fill(dialog, fresh_server.base_url, "demo", "demo")
    _submit_and_wait(qtbot, dialog)
    assert len(dialog.choices) == 2

    qtbot.keyClicks(dialog.user_edit, "x")  # an edit by the user, not setText
    assert not dialog.choices
    assert not dialog.identity_combo.isVisible()
    assert dialog.identity_combo.count() == 0
    # The next click checks the password of the new name first: a wrong one says so.
    _submit_and_wait(qtbot, dialog)
    assert "Wrong user name or password" in _error(dialog)
    assert service.session.current is None


def test_a_requested_identity_the_user_lacks_is_said_and_the_real_ones_offered(
    qtbot: QtBot, service: ExportService, fresh_server: ServerHandle, settings_file: Path
) -> None:
    dialog = _dialog(qtbot, service, Settings(), settings_file, identity="partner")
    _fill(dialog, fresh_server.base_url, "demo", "demo")
    _submit_and_wait(qtbot, dialog)
    text = _error(dialog)
    assert "User demo has no identity “partner”" in text
    assert service.session.current is None
    assert [c.user_type for c in dialog.choices] == ["auditor", "manager"]
    assert dialog.identity_combo.isVisible()

    dialog.identity_combo.setCurrentIndex(dialog.identity_combo.findData("manager"))
    with qtbot.waitSignal(dialog.signed_in, timeout=WAIT) as signed:
        dialog.sign_in_button.click()
    assert signed.args[0].user_type == "manager"


def test_a_requested_identity_the_user_has_signs_in_directly(
    qtbot: QtBot, service: ExportService, fresh_server: ServerHandle, settings_file: Path
) -> None:
    dialog = _dialog(qtbot, service, Settings(), settings_file, identity="partner")
    _fill(dialog, fresh_server.base_url, "wangwu", "wangwu")
    with qtbot.waitSignal(dialog.signed_in, timeout=WAIT) as signed:
        dialog.sign_in_button.click()
    assert signed.args[0].user_type == "partner"
    assert dialog.choices == ()


def test_an_identity_the_server_refuses_at_the_sign_in_is_said_inline(
    qtbot: QtBot, service: ExportService, fresh_server: ServerHandle, settings_file: Path
) -> None:
    dialog = _dialog(qtbot, service, Settings(), settings_file)
    _fill(dialog, fresh_server.base_url, "demo", "demo")
    _submit_and_wait(qtbot, dialog)
    assert len(dialog.choices) == 2
    # The list went stale between the check and the click (the reference server has no
    # knob to withdraw an identity): the second entry now names one demo lacks.
    dialog.identity_combo.setItemData(1, "partner")
    dialog.identity_combo.setCurrentIndex(1)
    _submit_and_wait(qtbot, dialog)
    text = _error(dialog)
    assert "has no identity “partner”" in text
    assert not dialog.choices  # the stale list is gone; the next click checks again
    assert not dialog.identity_combo.isVisible()
    assert service.session.current is None


# -- switching, reason, responsiveness -------------------------------------------------------


def test_signing_in_while_signed_in_is_a_switch(
    qtbot: QtBot, service: ExportService, fresh_server: ServerHandle, settings_file: Path
) -> None:
    first = run(qtbot, service.session.sign_in(fresh_server.base_url, "demo", "demo"))
    changes: list[object] = []
    service.events.subscribe(lambda e: changes.append(getattr(e, "change", None)))
    dialog = _dialog(qtbot, service, Settings(), settings_file)
    assert dialog.windowTitle() == "Switch user"
    assert dialog.sign_in_button.text() == "Switch"
    assert first.user_name in dialog.current_label.text()
    assert first.identity_label in dialog.current_label.text()
    assert dialog.server_edit.text() == fresh_server.base_url  # the current server

    _fill(dialog, fresh_server.base_url, "lisi", "lisi")
    with qtbot.waitSignal(dialog.signed_in, timeout=WAIT) as signed:
        dialog.sign_in_button.click()
    assert signed.args[0].user_id == "u-lisi"
    assert service.session.current is not None
    assert service.session.current.user_id == "u-lisi"
    assert SessionChange.SWITCHED in changes


def test_the_reason_it_opened_is_shown(
    qtbot: QtBot, service: ExportService, settings_file: Path
) -> None:
    reason = texts.session_change_text(SessionChange.LOGIN_EXPIRED, None)
    assert reason
    dialog = _dialog(qtbot, service, Settings(), settings_file, reason=reason)
    assert dialog.reason_label.isVisible()
    assert dialog.reason_label.text() == reason
    plain = _dialog(qtbot, service, Settings(), settings_file)
    assert not plain.reason_label.isVisible()


def test_the_dialog_stays_responsive_on_a_slow_server_and_cancel_stops_the_wait(
    qtbot: QtBot,
    service: ExportService,
    fresh_server: ServerHandle,
    admin: Admin,
    settings_file: Path,
) -> None:
    admin.faults(latency_ms=20_000)
    dialog = _dialog(qtbot, service, Settings(), settings_file)
    _fill(dialog, fresh_server.base_url, "lisi", "lisi")
    dialog.sign_in_button.click()
    assert dialog.busy
    assert dialog.busy_bar.isVisible()
    assert not dialog.sign_in_button.isEnabled()
    assert dialog.cancel_button.isEnabled()

    # Qt keeps handling events while the request waits: a timer fires.
    ticks: list[int] = []
    timer = QTimer(dialog)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(10)
    qtbot.waitUntil(lambda: len(ticks) >= 5, timeout=WAIT)
    timer.stop()
    assert dialog.busy  # still waiting for the server

    dialog.cancel_button.click()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=WAIT)
    assert dialog.isVisible()  # open to correct the input
    assert dialog.message.kind is MessageKind.INFO
    assert "Stopped waiting" in dialog.message.text()
    assert dialog.sign_in_button.isEnabled()
    assert not dialog.busy_bar.isVisible()
    assert service.session.current is None

    admin.reset()
    with qtbot.waitSignal(dialog.signed_in, timeout=WAIT):
        dialog.sign_in_button.click()
    assert service.session.current is not None


def test_escape_while_waiting_closes_and_signs_in_nobody(
    qtbot: QtBot,
    service: ExportService,
    fresh_server: ServerHandle,
    admin: Admin,
    settings_file: Path,
) -> None:
    admin.faults(latency_ms=20_000)
    dialog = _dialog(qtbot, service, Settings(), settings_file)
    _fill(dialog, fresh_server.base_url, "lisi", "lisi")
    dialog.sign_in_button.click()
    assert dialog.busy
    dialog.reject()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=WAIT)
    assert not dialog.isVisible()
    assert dialog.result() == LoginDialog.DialogCode.Rejected
    assert service.session.current is None


def test_the_settings_file_keeps_fields_saved_meanwhile(
    qtbot: QtBot, service: ExportService, fresh_server: ServerHandle, settings_file: Path
) -> None:
    # Another writer (the settings dialog, the CLI) changed the file after the window loaded it.
    save_settings(Settings(retries=9, language="en"), settings_file)
    dialog = _dialog(qtbot, service, Settings(), settings_file)
    _fill(dialog, fresh_server.base_url, "lisi", "lisi")
    with qtbot.waitSignal(dialog.signed_in, timeout=WAIT):
        dialog.sign_in_button.click()
    saved = load_settings(settings_file).settings
    assert (saved.retries, saved.language) == (9, "en")
    assert saved.last_user == "lisi"
