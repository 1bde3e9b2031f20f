"""The settings dialog: downloads, the default export folder, language, the CA file.

Every field of :class:`~manuscript_gui.config.Settings` a user sets by hand
(``server_url``, ``last_user`` and ``last_identity`` belong to the sign-in):

- files in flight (``concurrency``, 1–32) and retries per file (``retries``,
  0–20): used from the next task that starts;
- bandwidth limit (``bandwidth_limit_bps``), entered in KB/s or MB/s (binary
  units, like the command line's ``--limit-rate``), 0 = no limit: the window
  applies it at once, to the running task too;
- default export folder (``default_export_dir``): the new-export dialog's
  starting folder; absolute, and usable (``dialogs.check_target``: not a file,
  nothing on its path a file, writable), the same check as the new export's;
- language (``language``: follow the system / 中文 / English): applied when the
  app starts again (every widget is built in the language of the start; the
  dialog says so when it changes);
- CA file (``ca_bundle``): a PEM file of extra trusted certificate authorities
  for a server behind a corporate CA; checked before it is saved (it must
  exist and load as PEM certificates); used from the next sign-in.

OK validates (the CA file is read off the event loop), writes the fields to
the settings file (:func:`~manuscript_gui.ui.dialogs.update_settings`: other
fields as they are in the file) and emits ``changed(Settings)``; bad input is
said inline and nothing is saved. The window applies the new settings:
``service.settings = settings`` (concurrency, retries, CA file: next run or
sign-in) and ``service.set_bandwidth_limit(settings.bandwidth_limit_bps or
None)`` (at once).
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from manuscript_gui.config import Settings
from manuscript_gui.ui import texts
from manuscript_gui.ui.dialogs import check_target, target_problem_text, typed_path, update_settings
from manuscript_gui.ui.widgets import BusyBar, InlineMessage, JobRunner

__all__ = ["KIB", "MIB", "CaBundleProblem", "SettingsDialog", "check_ca_bundle"]

_log = logging.getLogger(__name__)

KIB = 1024
MIB = 1024 * 1024
_MAX_KIB_S = 10_000_000  # ~10 GB/s: more than any link an auditor has


@dataclass(frozen=True, slots=True)
class CaBundleProblem:
    """Why a CA file cannot be used: ``kind`` is ``missing``, ``not_a_file`` or
    ``not_pem``; ``detail`` the system's words (English), for the message."""

    kind: str
    detail: str = ""


def check_ca_bundle(path: str) -> CaBundleProblem | None:
    """Whether *path* is a PEM file of CA certificates the client can load.

    Loaded the way the client loads it (``ssl.create_default_context(cafile=)``),
    so a file that passes here does not fail at the next sign-in. Blocking
    (reads the file): run it off the event loop.
    """
    if not os.path.exists(path):
        return CaBundleProblem("missing")
    if not os.path.isfile(path):
        return CaBundleProblem("not_a_file")
    try:
        ssl.create_default_context(cafile=path)
    except (ssl.SSLError, ValueError, UnicodeDecodeError) as exc:
        return CaBundleProblem("not_pem", str(exc))
    except OSError as exc:
        return CaBundleProblem("not_pem", exc.strerror or str(exc))
    return None


class SettingsDialog(QDialog):
    """Edit and save the user's settings.

    Args:
        settings: the settings in use (the fields start from them).
        settings_file: the file to write (``None``: the app's, ``config.app_paths()``).

    Signals:
        changed(Settings): the settings as saved, after OK; the dialog then closes.
    """

    changed = Signal(object)

    def __init__(
        self,
        settings: Settings,
        *,
        settings_file: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings = settings
        self._settings_file = settings_file
        self._bandwidth_edited = False
        self._jobs = JobRunner(self)
        self._jobs.busy_changed.connect(self._set_busy)
        self._file_dialog: QFileDialog | None = None
        self._setup_ui()
        self._load(settings)

    # -- building ------------------------------------------------------------------

    def _setup_ui(self) -> None:
        self.setWindowTitle(self.tr("Settings"))
        self.setModal(True)
        self.setMinimumWidth(520)

        self.concurrency_spin = QSpinBox(self)
        self.concurrency_spin.setRange(1, 32)
        self.retries_spin = QSpinBox(self)
        self.retries_spin.setRange(0, 20)

        self.bandwidth_spin = QSpinBox(self)
        self.bandwidth_spin.setRange(0, _MAX_KIB_S)
        self.bandwidth_spin.setSpecialValueText(self.tr("No limit"))
        self.bandwidth_unit = QComboBox(self)
        self.bandwidth_unit.addItem(self.tr("KB/s"), KIB)
        self.bandwidth_unit.addItem(self.tr("MB/s"), MIB)
        bandwidth_row = QHBoxLayout()
        bandwidth_row.addWidget(self.bandwidth_spin, 1)
        bandwidth_row.addWidget(self.bandwidth_unit)

        self.export_dir_edit = QLineEdit(self)
        self.export_dir_edit.setPlaceholderText(self.tr("Your documents folder"))
        self.export_dir_button = QPushButton(self.tr("Browse…"), self)
        export_row = QHBoxLayout()
        export_row.addWidget(self.export_dir_edit, 1)
        export_row.addWidget(self.export_dir_button)

        self.language_combo = QComboBox(self)
        self.language_combo.addItem(self.tr("Follow the system"), "system")
        # Each language is named in its own words, whatever the current one.
        self.language_combo.addItem("中文", "zh_CN")
        self.language_combo.addItem("English", "en")
        self.language_note = QLabel(self.tr("The new language applies when the app starts again."))
        self.language_note.setWordWrap(True)
        self.language_note.hide()

        self.ca_edit = QLineEdit(self)
        self.ca_edit.setPlaceholderText(self.tr("None (the system's trusted certificates)"))
        self.ca_button = QPushButton(self.tr("Browse…"), self)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_edit, 1)
        ca_row.addWidget(self.ca_button)

        form = QFormLayout()
        form.addRow(
            self._label(self.tr("&Files at once:"), self.concurrency_spin), self.concurrency_spin
        )
        form.addRow(self._hint(self.tr("Used from the next task that starts.")))
        form.addRow(
            self._label(self.tr("&Retries per file:"), self.retries_spin), self.retries_spin
        )
        form.addRow(self._label(self.tr("&Bandwidth limit:"), self.bandwidth_spin), bandwidth_row)
        form.addRow(
            self._hint(self.tr("0 means no limit. Applies at once, also to a running task."))
        )
        form.addRow(
            self._label(self.tr("Default e&xport folder:"), self.export_dir_edit), export_row
        )
        form.addRow(self._label(self.tr("&Language:"), self.language_combo), self.language_combo)
        form.addRow(self.language_note)
        form.addRow(self._label(self.tr("&CA file:"), self.ca_edit), ca_row)
        form.addRow(
            self._hint(
                self.tr(
                    "Only for a server whose certificate comes from your firm's own "
                    "certificate authority (a PEM file). Used from the next sign-in."
                )
            )
        )

        self.message = InlineMessage(self)
        self.busy_bar = BusyBar(self)
        self.ok_button = QPushButton(self.tr("OK"), self)
        self.ok_button.setDefault(True)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.ok_button)
        buttons.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.busy_bar)
        layout.addLayout(buttons)

        self.ok_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.reject)
        self.export_dir_button.clicked.connect(self._browse_export_dir)
        self.ca_button.clicked.connect(self._browse_ca)
        self.language_combo.currentIndexChanged.connect(self._language_changed)

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text, self)
        label.setBuddy(buddy)
        return label

    def _hint(self, text: str) -> QLabel:
        hint = QLabel(text, self)
        hint.setWordWrap(True)
        hint.setEnabled(False)  # the palette's dimmed text: a note, not a field
        return hint

    def _load(self, settings: Settings) -> None:
        self.concurrency_spin.setValue(settings.concurrency)
        self.retries_spin.setValue(settings.retries)
        bps = settings.bandwidth_limit_bps
        unit = MIB if bps and bps % MIB == 0 else KIB
        self.bandwidth_unit.setCurrentIndex(self.bandwidth_unit.findData(unit))
        self.bandwidth_spin.setValue(min(round(bps / unit), _MAX_KIB_S))
        if bps and bps < KIB:
            self.bandwidth_spin.setValue(1)  # never show a set limit as "no limit"
        # Only an edit replaces the stored figure (which may not be a whole KB/s).
        self.bandwidth_spin.valueChanged.connect(self._bandwidth_touched)
        self.bandwidth_unit.currentIndexChanged.connect(self._bandwidth_touched)
        self.export_dir_edit.setText(settings.default_export_dir or "")
        self.language_combo.setCurrentIndex(max(self.language_combo.findData(settings.language), 0))
        self.ca_edit.setText(settings.ca_bundle or "")

    # -- state ---------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self._jobs.busy

    def _set_busy(self, busy: bool) -> None:
        self.busy_bar.set_busy(busy)
        self.ok_button.setEnabled(not busy)

    def _bandwidth_touched(self) -> None:
        self._bandwidth_edited = True

    def _language_changed(self) -> None:
        self.language_note.setVisible(self.language_combo.currentData() != self._settings.language)

    def bandwidth_limit_bps(self) -> int:
        """The limit as entered, in bytes per second (0: none)."""
        if not self._bandwidth_edited:
            return self._settings.bandwidth_limit_bps
        return int(self.bandwidth_spin.value()) * int(self.bandwidth_unit.currentData())

    # -- file pickers (native dialogs through open(), never exec()) -----------------

    def _browse_export_dir(self) -> None:
        dialog = self._new_file_dialog(self.tr("Default export folder"))
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        start = typed_path(self.export_dir_edit.text())
        if start and os.path.isabs(start):
            dialog.setDirectory(start)
        dialog.fileSelected.connect(self.export_dir_edit.setText)
        dialog.open()

    def _browse_ca(self) -> None:
        dialog = self._new_file_dialog(self.tr("CA file"))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters(
            [self.tr("Certificates (*.pem *.crt *.cer)"), self.tr("All files (*)")]
        )
        current = self.ca_edit.text().strip()
        if current and os.path.isabs(current):
            dialog.setDirectory(os.path.dirname(current))
        dialog.fileSelected.connect(self.ca_edit.setText)
        dialog.open()

    def _new_file_dialog(self, title: str) -> QFileDialog:
        if self._file_dialog is not None:
            self._file_dialog.deleteLater()
        dialog = QFileDialog(self, title)
        self._file_dialog = dialog
        return dialog

    @property
    def file_dialog(self) -> QFileDialog | None:
        """The file picker opened last (tests drive it)."""
        return self._file_dialog

    # -- saving --------------------------------------------------------------------

    def submit(self) -> None:
        """OK: check the input, check the CA file off the loop, save, emit, close."""
        if self.busy:
            return
        export_dir = typed_path(self.export_dir_edit.text())
        ca_bundle = typed_path(self.ca_edit.text())
        if export_dir and not os.path.isabs(export_dir):
            self.message.show_error(
                texts.fill(
                    self.tr("The default export folder must be a full path, e.g. %1."),
                    self._absolute_example(),
                )
            )
            self.export_dir_edit.setFocus()
            return
        if ca_bundle and not os.path.isabs(ca_bundle):
            self.message.show_error(self.tr("The CA file must be given as a full path."))
            self.ca_edit.setFocus()
            return
        self.message.clear_message()
        self._jobs.start(self._save(export_dir or None, ca_bundle or None))

    @staticmethod
    def _absolute_example() -> str:
        return "D:\\底稿导出" if os.name == "nt" else "/home/me/底稿导出"

    async def _save(self, export_dir: str | None, ca_bundle: str | None) -> None:
        if export_dir is not None:
            folder_problem = await asyncio.to_thread(check_target, Path(export_dir))
            if folder_problem is not None:
                self.message.show_error(target_problem_text(folder_problem))
                self.export_dir_edit.setFocus()
                return
        if ca_bundle is not None:
            problem = await asyncio.to_thread(check_ca_bundle, ca_bundle)
            if problem is not None:
                self.message.show_error(self._ca_problem_text(ca_bundle, problem))
                self.ca_edit.setFocus()
                return
        changes: dict[str, object] = {
            "concurrency": int(self.concurrency_spin.value()),
            "retries": int(self.retries_spin.value()),
            "bandwidth_limit_bps": self.bandwidth_limit_bps(),
            "default_export_dir": export_dir,
            "language": str(self.language_combo.currentData()),
            "ca_bundle": ca_bundle,
        }
        try:
            saved = await asyncio.to_thread(
                update_settings, self._settings, self._settings_file, **changes
            )
        except (OSError, ValueError) as exc:
            _log.warning("saving the settings failed: %s", exc)
            self.message.show_error(
                texts.fill(
                    self.tr("The settings could not be saved.\n(%1)"),
                    texts.display_safe(str(exc), texts.DETAIL_LIMIT),
                )
            )
            return
        self._settings = saved
        self.changed.emit(saved)
        self.accept()

    def _ca_problem_text(self, path: str, problem: CaBundleProblem) -> str:
        name = texts.in_sentence(path)
        if problem.kind == "missing":
            return texts.fill(self.tr("The CA file %1 does not exist."), name)
        if problem.kind == "not_a_file":
            return texts.fill(self.tr("%1 is not a file. Choose the CA file itself (PEM)."), name)
        return texts.fill(
            self.tr("The CA file %1 holds no certificate that can be loaded (PEM expected).\n(%2)"),
            name,
            texts.display_safe(problem.detail, texts.DETAIL_LIMIT),
        )

    def reject(self) -> None:
        """Cancel, Escape, closing the window: nothing is saved."""
        self._jobs.cancel_all()
        super().reject()
