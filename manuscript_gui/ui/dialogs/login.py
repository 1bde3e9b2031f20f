"""Sign in, or switch user / identity: server URL, user name, password, identity.

The flow (docs/behaviour.md "The scheduler", issue #8 item 2):

1. The password is checked first (``service.session.identities``): that says
   which identities the user has, and changes nothing.
2. One identity: the dialog signs in at once. Several: the identity list
   appears (labels from the server, the remembered identity preselected) and
   the second click signs in as the chosen one. Editing the server, the user
   name or the password afterwards drops the list (it belonged to them).
3. ``service.session.sign_in`` signs in; while someone is signed in it is a
   *switch* (the dialog is titled so), and the old identity's running task
   stops with *switched user*.

A requested identity (``identity=``, e.g. the window's "switch identity" menu
or a ``manuscript://`` link) skips the list: the server decides at the sign-in
itself, and an identity the user does not have is said inline, with the
user's real identities offered instead.

The server URL and the user name (and the identity the sign-in chose) are
remembered in the settings file; the password never is. Every failure is an
inline message in the dialog: empty fields, a malformed URL, a wrong password,
an unreachable server, a certificate that could not be verified, an unknown
identity, a server answering with errors or not like a working-paper server.
While the dialog waits it stays responsive: a busy bar, the sign-in button
disabled, and Cancel stops waiting (the request is cancelled; the dialog stays
open to correct the input; a second Cancel, Escape or closing the window
closes it).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from manuscript_gui.config import Settings
from manuscript_gui.domain import IdentityChoice, SessionInfo
from manuscript_gui.services.errors import (
    ApiError,
    CertificateError,
    ConnectError,
    HTTPError,
    IdentityNotAllowed,
    InvalidCredentials,
    NetworkError,
    ProtocolError,
    ServerError,
    TLSError,
)
from manuscript_gui.services.exports import ExportService
from manuscript_gui.services.session import StorageError
from manuscript_gui.ui import texts
from manuscript_gui.ui.dialogs import update_settings
from manuscript_gui.ui.widgets import BusyBar, ElidedLabel, InlineMessage, JobRunner

__all__ = ["CREDENTIALS_IN_URL", "LoginDialog", "url_problem", "without_credentials"]

#: The identity box's width, in characters (longer names are elided, whole in tooltips).
IDENTITY_MIN_CHARS: Final = 20

#: :func:`url_problem`'s answer for an address with a user name or password in it.
CREDENTIALS_IN_URL: Final = "has a user name or password"

_log = logging.getLogger(__name__)


def url_problem(text: str) -> str | None:
    """Why *text* is not a server URL the client accepts (English, for logs), or ``None``.

    The client's own rule (``http``/``https``, a host, an optional port and
    path prefix), checked before any request so that a typo is said at once.
    The client's constructor still has the last word (``ValueError``).
    """
    if not text:
        return "empty"
    if any(ch.isspace() for ch in text):
        return "contains white space"
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (raises ValueError for a port out of range or not a number)
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("http", "https"):
        return "not http:// or https://"
    if not parts.hostname:
        return "no host"
    if parts.query or parts.fragment:
        return "has a query or fragment"
    if "@" in parts.netloc:
        # https://user:pw@host: the password would be remembered with the address.
        return CREDENTIALS_IN_URL
    return None


def without_credentials(url: str) -> str:
    """*url* without the ``user:password@`` in front of its host (``urlsplit`` rules)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


class LoginDialog(QDialog):
    """The sign-in (or switch-user) dialog.

    Args:
        service: the app's export service; ``service.session`` signs in.
        settings: the settings the window holds: ``server_url`` and ``last_user``
            fill the fields, ``last_identity`` (same server and user) is
            preselected when the user has several identities.
        reason: why the dialog opened, shown above the fields (translated text,
            e.g. ``texts.stop_reason_text("login_expired")`` after a 401).
        identity: sign in as exactly this identity (``userType``) instead of
            offering the list first.
        settings_file: where to remember the server and user (``None``: the app's).

    Signals:
        signed_in(SessionInfo): the sign-in (or switch) succeeded; the dialog
            then closes with ``accept()``.
        remembered(Settings): the settings as written after a sign-in (server,
            user and identity remembered), for the window to keep.
    """

    signed_in = Signal(object)
    remembered = Signal(object)

    def __init__(
        self,
        service: ExportService,
        settings: Settings,
        *,
        reason: str | None = None,
        identity: str | None = None,
        settings_file: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._service = service
        self._settings = settings
        self._settings_file = settings_file
        self._requested_identity = identity
        self._current = service.session.current
        self._choices: tuple[IdentityChoice, ...] = ()
        self._choices_for: tuple[str, str, str] | None = None
        self._finishing = False
        self._jobs = JobRunner(self)
        self._jobs.busy_changed.connect(self._set_busy)
        self._setup_ui(reason)

    # -- building ------------------------------------------------------------------

    def _setup_ui(self, reason: str | None) -> None:
        switching = self._current is not None
        self.setWindowTitle(self.tr("Switch user") if switching else self.tr("Sign in"))
        self.setModal(True)
        self.setMinimumWidth(440)

        self.reason_label = InlineMessage(self)
        if reason:
            self.reason_label.show_info(reason)
        self.current_label = ElidedLabel(self, mode=Qt.TextElideMode.ElideMiddle)
        if self._current is not None:
            self.current_label.setText(
                texts.fill(
                    self.tr("Signed in now: %1 · %2"),
                    texts.display_safe(self._current.user_name),
                    texts.display_safe(self._current.identity_label),
                )
            )
        else:
            self.current_label.hide()

        self.server_edit = QLineEdit(self)
        self.server_edit.setPlaceholderText(self.tr("https://wp.example.com"))
        self.server_edit.setText(
            self._current.server_url if self._current is not None else self._settings.server_url
        )
        self.user_edit = QLineEdit(self)
        self.user_edit.setText(self._settings.last_user or "")
        self.password_edit = QLineEdit(self)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.identity_combo = QComboBox(self)
        # Identity names come from the server: the box never asks for a long one's width.
        self.identity_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.identity_combo.setMinimumContentsLength(IDENTITY_MIN_CHARS)
        self.identity_label = QLabel(self.tr("&Identity:"), self)
        self.identity_label.setBuddy(self.identity_combo)

        form = QFormLayout()
        server_label = QLabel(self.tr("&Server:"), self)
        server_label.setBuddy(self.server_edit)
        user_label = QLabel(self.tr("&User name:"), self)
        user_label.setBuddy(self.user_edit)
        password_label = QLabel(self.tr("&Password:"), self)
        password_label.setBuddy(self.password_edit)
        form.addRow(server_label, self.server_edit)
        form.addRow(user_label, self.user_edit)
        form.addRow(password_label, self.password_edit)
        form.addRow(self.identity_label, self.identity_combo)
        self._show_identities(False)

        self.message = InlineMessage(self)
        self.busy_bar = BusyBar(self)

        self.sign_in_button = QPushButton(
            self.tr("Switch") if self._current is not None else self.tr("Sign in"), self
        )
        self.sign_in_button.setDefault(True)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.sign_in_button)
        buttons.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.reason_label)
        layout.addWidget(self.current_label)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.busy_bar)
        layout.addLayout(buttons)

        self.sign_in_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self._cancel_clicked)
        for edit in (self.server_edit, self.user_edit, self.password_edit):
            edit.textEdited.connect(self._credentials_edited)
            edit.returnPressed.connect(self.submit)

        first_empty = next(
            (e for e in (self.server_edit, self.user_edit) if not e.text()), self.password_edit
        )
        first_empty.setFocus()

    # -- state ---------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Waiting for the server (or for the settings to be written)."""
        return self._jobs.busy

    @property
    def choices(self) -> tuple[IdentityChoice, ...]:
        """The identities offered now (empty until the password check found several)."""
        return self._choices

    def _set_busy(self, busy: bool) -> None:
        self.busy_bar.set_busy(busy)
        self.sign_in_button.setEnabled(not busy)
        for edit in (self.server_edit, self.user_edit, self.password_edit):
            edit.setReadOnly(busy)
        self.identity_combo.setEnabled(not busy)

    def _show_identities(self, shown: bool) -> None:
        self.identity_label.setVisible(shown)
        self.identity_combo.setVisible(shown)

    def _credentials_edited(self) -> None:
        if self._choices:
            self._choices = ()
            self._choices_for = None
            self.identity_combo.clear()
            self._show_identities(False)
            self.message.clear_message()

    def _offer(self, creds: tuple[str, str, str], choices: tuple[IdentityChoice, ...]) -> None:
        self._choices = choices
        self._choices_for = creds
        self.identity_combo.clear()
        for index, choice in enumerate(choices):
            self.identity_combo.addItem(texts.in_sentence(choice.label), choice.user_type)
            self.identity_combo.setItemData(
                index,
                texts.plain_tooltip(texts.display_safe(choice.label)),
                Qt.ItemDataRole.ToolTipRole,
            )
        server, user, _password = creds
        remembered = self._settings.last_identity
        same_account = (server, user) == (self._settings.server_url, self._settings.last_user)
        index = self.identity_combo.findData(remembered) if same_account and remembered else -1
        self.identity_combo.setCurrentIndex(max(index, 0))
        self._show_identities(True)
        self.identity_combo.setFocus()

    # -- actions -------------------------------------------------------------------

    def submit(self) -> None:
        """The sign-in button (or Enter): check the input, then check or sign in."""
        if self.busy or self._finishing:
            return
        creds = self._read_input()
        if creds is None:
            return
        if self._choices and creds == self._choices_for:
            user_type = self.identity_combo.currentData()
            self.message.clear_message()
            self._jobs.start(self._sign_in(creds, str(user_type)))
        else:
            self.message.clear_message()
            self._jobs.start(self._check_and_sign_in(creds))

    def _read_input(self) -> tuple[str, str, str] | None:
        server = self.server_edit.text().strip()
        user = self.user_edit.text().strip()
        password = self.password_edit.text()
        refusal: tuple[QLineEdit, str] | None = None
        if not server:
            refusal = (self.server_edit, self.tr("Enter the server address."))
        elif (problem := url_problem(server)) == CREDENTIALS_IN_URL:
            # Never logged nor kept: the field keeps the address without them.
            self.server_edit.setText(without_credentials(server))
            refusal = (
                self.server_edit,
                self.tr(
                    "Leave the user name and password out of the server address: "
                    "enter the address alone, your user name and password below."
                ),
            )
        elif problem is not None:
            _log.info("server URL %r refused: %s", server, problem)
            refusal = (self.server_edit, self._malformed_url_text())
        elif not user:
            refusal = (self.user_edit, self.tr("Enter your user name."))
        elif not password:
            refusal = (self.password_edit, self.tr("Enter your password."))
        if refusal is not None:
            edit, text = refusal
            self.message.show_error(text)
            edit.setFocus()
            return None
        return server, user, password

    def _malformed_url_text(self) -> str:
        return self.tr(
            "The server address is not valid. It starts with http:// or https:// and "
            "names the server, e.g. https://wp.example.com:8443"
        )

    def _cancel_clicked(self) -> None:
        if self._finishing:
            return
        if self.busy:
            self._jobs.cancel_all()
            self.message.show_info(self.tr("Stopped waiting for the server."))
            return
        self.reject()

    def reject(self) -> None:
        """Escape, Cancel when idle, closing the window: stop waiting, then close."""
        if self._finishing:  # signed in already; the settings are being written
            return
        self._jobs.cancel_all()
        super().reject()

    # -- the work (coroutines) -----------------------------------------------------

    async def _check_and_sign_in(self, creds: tuple[str, str, str]) -> None:
        server, user, password = creds
        try:
            if self._requested_identity is not None:
                requested = self._requested_identity
                try:
                    await self._finish(await self._session_sign_in(creds, requested))
                    return
                except IdentityNotAllowed:
                    self._requested_identity = None
                    unknown = self._unknown_identity_text(user, requested)
                    choices = await self._service.session.identities(server, user, password)
                    self._offer(creds, choices)
                    self.message.show_error(unknown)
                    return
            choices = await self._service.session.identities(server, user, password)
            if len(choices) > 1:
                self._offer(creds, choices)
                self.message.show_info(
                    self.tr("You have several identities. Choose one and sign in.")
                )
                return
            user_type = choices[0].user_type if choices else None
            await self._finish(await self._session_sign_in(creds, user_type))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every failure is said inline
            self._failed(exc, creds)

    async def _sign_in(self, creds: tuple[str, str, str], user_type: str) -> None:
        try:
            await self._finish(await self._session_sign_in(creds, user_type))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # every failure is said inline
            self._failed(exc, creds, user_type)

    async def _session_sign_in(
        self, creds: tuple[str, str, str], user_type: str | None
    ) -> SessionInfo:
        server, user, password = creds
        return await self._service.session.sign_in(server, user, password, user_type)

    async def _finish(self, info: SessionInfo) -> None:
        """Signed in: remember server, user and identity (never the password), then close."""
        self._finishing = True
        self.cancel_button.setEnabled(False)
        self.password_edit.clear()
        try:
            saved = await asyncio.to_thread(
                update_settings,
                self._settings,
                self._settings_file,
                server_url=info.server_url,
                last_user=self.user_edit.text().strip(),
                last_identity=info.user_type,
            )
        except (OSError, ValueError) as exc:
            # Signed in all the same; only the next dialog's prefill is lost.
            _log.warning("could not remember the sign-in in the settings: %s", exc)
        else:
            self._settings = saved
            self.remembered.emit(saved)
        self.signed_in.emit(info)
        self.accept()

    def _failed(
        self, exc: Exception, creds: tuple[str, str, str], user_type: str | None = None
    ) -> None:
        server, user, _password = creds
        if isinstance(exc, InvalidCredentials):
            self.message.show_error(self.tr("Wrong user name or password."))
            self.password_edit.selectAll()
            self.password_edit.setFocus()
            return
        if isinstance(exc, IdentityNotAllowed):
            # The list it was chosen from is stale now: drop it, then say why.
            self._credentials_edited()
            self.message.show_error(self._unknown_identity_text(user, user_type or ""))
            return
        _log.info("sign-in to %s failed: %r", server, exc)
        self.message.show_error(self._error_text(exc, server))

    def _unknown_identity_text(self, user: str, user_type: str) -> str:
        return texts.fill(
            self.tr("User %1 has no identity “%2”. Choose one of the user's identities."),
            texts.in_sentence(user),
            texts.in_sentence(user_type),
        )

    def _error_text(self, exc: Exception, server: str) -> str:
        """What went wrong, for everything but a refused password or identity."""
        detail = texts.display_safe(str(exc), texts.DETAIL_LIMIT)
        host = texts.in_sentence(urlsplit(server).netloc)
        if isinstance(exc, CertificateError):
            return texts.fill(
                self.tr(
                    "The server's certificate could not be verified, so the connection was "
                    "not trusted. If your firm uses its own certificate authority, choose its "
                    "CA file in the settings.\n(%1)"
                ),
                detail,
            )
        if isinstance(exc, TLSError):
            return texts.fill(
                self.tr(
                    "The secure connection (TLS) to %1 failed: the server's certificate could "
                    "not be verified or the server does not speak TLS.\n(%2)"
                ),
                host,
                detail,
            )
        if isinstance(exc, ConnectError):
            return texts.fill(
                self.tr("Cannot reach the server %1. Check the address and the network.\n(%2)"),
                host,
                detail,
            )
        if isinstance(exc, NetworkError):
            return texts.fill(
                self.tr(
                    "The connection to the server was interrupted or timed out. Try again.\n(%1)"
                ),
                detail,
            )
        if isinstance(exc, ServerError):
            return texts.fill(
                self.tr("The server is temporarily unavailable (HTTP %1). Try again later."),
                str(exc.status),
            )
        if isinstance(exc, HTTPError):
            return texts.fill(
                self.tr(
                    "The server refused the sign-in (HTTP %1). Check the server address.\n(%2)"
                ),
                str(exc.status),
                detail,
            )
        if isinstance(exc, ProtocolError):
            return texts.fill(
                self.tr(
                    "The server's answer was not understood; the address may not be a "
                    "working-paper server.\n(%1)"
                ),
                detail,
            )
        if isinstance(exc, ApiError):
            return texts.fill(self.tr("The sign-in failed.\n(%1)"), detail)
        if isinstance(exc, StorageError):
            return texts.fill(
                self.tr("The task database on this computer cannot be opened.\n(%1)"), detail
            )
        if isinstance(exc, ValueError):
            # The client refused its settings: the URL, or the CA file in the settings.
            if self._service.settings.ca_bundle:
                return texts.fill(
                    self.tr(
                        "The CA file in the settings cannot be used, or the server address is "
                        "not valid.\n(%1)"
                    ),
                    detail,
                )
            return self._malformed_url_text()
        _log.error("unexpected sign-in failure", exc_info=exc)
        return texts.fill(self.tr("The sign-in failed unexpectedly.\n(%1)"), detail)
