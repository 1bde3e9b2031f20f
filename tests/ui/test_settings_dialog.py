"""The settings dialog (issue #8 item 4): every field round-trips through the settings
file, bad input is said inline and saves nothing, the CA file is checked the way the
client loads it, and only the dialog's own fields are written.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QFileDialog, QFormLayout, QLabel
from pytestqt.qtbot import QtBot

from manuscript_gui.config import Settings, load_settings, save_settings
from manuscript_gui.ui.dialogs.settings import KIB, MIB, SettingsDialog, check_ca_bundle
from manuscript_gui.ui.widgets import MessageKind
from tests.net.conftest import TlsFiles, tls_files  # noqa: F401  (the session fixture)
from tests.ui.layout_check import unplaced_widgets

#: Every test here runs on the qasync loop (the dialogs' coroutines).
pytestmark = pytest.mark.usefixtures("qloop")

WAIT = 30_000


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "config" / "settings.json"


def _dialog(qtbot: QtBot, settings: Settings, settings_file: Path) -> SettingsDialog:
    dialog = SettingsDialog(settings, settings_file=settings_file)
    qtbot.addWidget(dialog)
    dialog.open()
    return dialog


def _ok_refused(qtbot: QtBot, dialog: SettingsDialog) -> str:
    """Click OK, expect an inline error and nothing saved; return the error."""
    emitted: list[Settings] = []
    dialog.changed.connect(emitted.append)
    dialog.ok_button.click()
    qtbot.waitUntil(lambda: not dialog.busy, timeout=WAIT)
    assert dialog.message.kind is MessageKind.ERROR, dialog.message.text()
    assert dialog.message.isVisible()
    assert dialog.isVisible()
    assert emitted == []
    return dialog.message.text()


def _ok(qtbot: QtBot, dialog: SettingsDialog) -> Settings:
    with qtbot.waitSignal(dialog.changed, timeout=WAIT) as signal:
        dialog.ok_button.click()
    saved = signal.args[0]
    assert isinstance(saved, Settings)
    assert not dialog.isVisible()
    assert dialog.result() == SettingsDialog.DialogCode.Accepted
    return saved


def test_every_field_round_trips_through_the_settings_file(
    qtbot: QtBot,
    tls_files: TlsFiles,  # noqa: F811  (the imported fixture)
    settings_file: Path,
    tmp_path: Path,
) -> None:
    start = Settings(server_url="http://127.0.0.1:1", last_user="demo", last_identity="manager")
    dialog = _dialog(qtbot, start, settings_file)
    assert dialog.concurrency_spin.value() == 8
    assert dialog.retries_spin.value() == 5
    assert dialog.bandwidth_spin.value() == 0
    assert dialog.bandwidth_spin.text() == "No limit"
    assert dialog.export_dir_edit.text() == ""
    assert dialog.language_combo.currentData() == "system"
    assert dialog.ca_edit.text() == ""

    export_dir = tmp_path / "底稿导出"  # need not exist yet
    dialog.concurrency_spin.setValue(4)
    dialog.retries_spin.setValue(2)
    dialog.bandwidth_unit.setCurrentIndex(dialog.bandwidth_unit.findData(MIB))
    dialog.bandwidth_spin.setValue(3)
    dialog.export_dir_edit.setText(f"  {export_dir}  ")
    dialog.language_combo.setCurrentIndex(dialog.language_combo.findData("en"))
    dialog.ca_edit.setText(str(tls_files.ca))
    saved = _ok(qtbot, dialog)

    expected = dataclasses.replace(
        start,
        concurrency=4,
        retries=2,
        bandwidth_limit_bps=3 * MIB,
        default_export_dir=str(export_dir),
        language="en",
        ca_bundle=str(tls_files.ca),
    )
    assert saved == expected
    assert load_settings(settings_file).settings == expected

    again = _dialog(qtbot, saved, settings_file)
    assert again.concurrency_spin.value() == 4
    assert again.retries_spin.value() == 2
    assert (again.bandwidth_spin.value(), again.bandwidth_unit.currentData()) == (3, MIB)
    assert again.export_dir_edit.text() == str(export_dir)
    assert again.language_combo.currentData() == "en"
    assert again.ca_edit.text() == str(tls_files.ca)
    assert _ok(qtbot, again) == expected  # OK without edits changes nothing


@pytest.mark.parametrize(
    ("value", "unit", "bps"),
    [(0, KIB, 0), (512, KIB, 512 * KIB), (1, MIB, MIB), (1536, KIB, 1536 * KIB)],
)
def test_the_bandwidth_limit_in_kb_or_mb_per_second(
    qtbot: QtBot, settings_file: Path, value: int, unit: int, bps: int
) -> None:
    dialog = _dialog(qtbot, Settings(bandwidth_limit_bps=7 * MIB), settings_file)
    assert (dialog.bandwidth_spin.value(), dialog.bandwidth_unit.currentData()) == (7, MIB)
    dialog.bandwidth_unit.setCurrentIndex(dialog.bandwidth_unit.findData(unit))
    dialog.bandwidth_spin.setValue(value)
    assert dialog.bandwidth_limit_bps() == bps
    assert _ok(qtbot, dialog).bandwidth_limit_bps == bps


def test_a_limit_that_is_no_whole_kb_per_second_is_kept_unless_edited(
    qtbot: QtBot, settings_file: Path
) -> None:
    # Written by the command line (--limit-rate 1500) or by hand.
    dialog = _dialog(qtbot, Settings(bandwidth_limit_bps=1500), settings_file)
    assert dialog.bandwidth_unit.currentData() == KIB
    assert dialog.bandwidth_spin.value() == 1
    assert _ok(qtbot, dialog).bandwidth_limit_bps == 1500

    tiny = _dialog(qtbot, Settings(bandwidth_limit_bps=100), settings_file)
    assert tiny.bandwidth_spin.value() == 1  # a set limit never shows as "No limit"
    assert tiny.bandwidth_spin.text() != "No limit"
    assert tiny.bandwidth_limit_bps() == 100
    tiny.bandwidth_spin.setValue(2)
    assert _ok(qtbot, tiny).bandwidth_limit_bps == 2 * KIB


def test_a_relative_export_folder_is_refused(qtbot: QtBot, settings_file: Path) -> None:
    dialog = _dialog(qtbot, Settings(), settings_file)
    dialog.export_dir_edit.setText("exports")
    assert "must be a full path" in _ok_refused(qtbot, dialog)
    assert dialog.focusWidget() is dialog.export_dir_edit
    assert not settings_file.exists()


def test_an_export_folder_that_is_a_file_is_refused(
    qtbot: QtBot, settings_file: Path, tmp_path: Path
) -> None:
    a_file = tmp_path / "exports"
    a_file.write_bytes(b"x")
    dialog = _dialog(qtbot, Settings(), settings_file)
    dialog.export_dir_edit.setText(str(a_file))
    assert "is a file, not a folder" in _ok_refused(qtbot, dialog)
    assert not settings_file.exists()


@pytest.mark.parametrize(
    ("folder", "words"),
    [
        ("{file}/2025", "cannot be created"),
        ("/proc/manuscript-exports", "You cannot write to /proc"),
        ("{tmp}/a\0b", "You cannot write to"),
    ],
    ids=["parent-is-file", "not-writable", "nul"],
)
def test_an_unusable_export_folder_is_refused(
    qtbot: QtBot, settings_file: Path, tmp_path: Path, folder: str, words: str
) -> None:
    # The same check as the new-export dialog's target (dialogs.check_target).
    a_file = tmp_path / "a-file"
    a_file.write_bytes(b"x")
    dialog = _dialog(qtbot, Settings(), settings_file)
    dialog.export_dir_edit.setText(folder.format(file=a_file, tmp=tmp_path))
    assert words in _ok_refused(qtbot, dialog)
    assert dialog.focusWidget() is dialog.export_dir_edit
    assert not settings_file.exists()


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda d: d / "missing.pem", "does not exist"),
        (lambda d: d, "is not a file"),
        (lambda d: _write(d / "text.pem", b"not a certificate\n"), "no certificate"),
        (lambda d: _write(d / "empty.pem", b""), "no certificate"),
        (lambda d: _write(d / "binary.pem", bytes(range(256)) * 4), "no certificate"),
    ],
    ids=["missing", "folder", "text", "empty", "binary"],
)
def test_an_unusable_ca_file_is_refused(
    qtbot: QtBot,
    settings_file: Path,
    tmp_path: Path,
    make: Any,
    words: str,
) -> None:
    path = make(tmp_path)
    assert check_ca_bundle(str(path)) is not None
    dialog = _dialog(qtbot, Settings(), settings_file)
    dialog.ca_edit.setText(str(path))
    assert words in _ok_refused(qtbot, dialog)
    assert dialog.focusWidget() is dialog.ca_edit
    assert not settings_file.exists()


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_private_key_is_not_a_ca_file(
    qtbot: QtBot,
    tls_files: TlsFiles,  # noqa: F811
    settings_file: Path,
) -> None:
    dialog = _dialog(qtbot, Settings(), settings_file)
    dialog.ca_edit.setText(str(tls_files.key))
    assert "no certificate" in _ok_refused(qtbot, dialog)


def test_a_relative_ca_file_is_refused(qtbot: QtBot, settings_file: Path) -> None:
    dialog = _dialog(qtbot, Settings(), settings_file)
    dialog.ca_edit.setText("ca.pem")
    assert "full path" in _ok_refused(qtbot, dialog)


def test_clearing_the_folder_and_the_ca_file_stores_none(
    qtbot: QtBot,
    tls_files: TlsFiles,  # noqa: F811
    settings_file: Path,
    tmp_path: Path,
) -> None:
    start = Settings(default_export_dir=str(tmp_path), ca_bundle=str(tls_files.ca))
    dialog = _dialog(qtbot, start, settings_file)
    dialog.export_dir_edit.setText("  ")
    dialog.ca_edit.clear()
    saved = _ok(qtbot, dialog)
    assert (saved.default_export_dir, saved.ca_bundle) == (None, None)


def test_cancel_saves_nothing(qtbot: QtBot, settings_file: Path) -> None:
    dialog = _dialog(qtbot, Settings(), settings_file)
    emitted: list[Settings] = []
    dialog.changed.connect(emitted.append)
    dialog.concurrency_spin.setValue(3)
    dialog.cancel_button.click()
    assert not dialog.isVisible()
    assert dialog.result() == SettingsDialog.DialogCode.Rejected
    assert emitted == []
    assert not settings_file.exists()


def test_fields_saved_meanwhile_by_others_are_kept(qtbot: QtBot, settings_file: Path) -> None:
    dialog = _dialog(qtbot, Settings(), settings_file)
    # The sign-in (or the command line) wrote the file after this dialog opened.
    save_settings(
        Settings(server_url="http://127.0.0.1:9", last_user="lisi", last_identity="auditor"),
        settings_file,
    )
    dialog.retries_spin.setValue(0)
    saved = _ok(qtbot, dialog)
    assert (saved.server_url, saved.last_user, saved.last_identity) == (
        "http://127.0.0.1:9",
        "lisi",
        "auditor",
    )
    assert saved.retries == 0
    assert load_settings(settings_file).settings == saved


def test_a_settings_file_that_cannot_be_written_is_said_inline(
    qtbot: QtBot, tmp_path: Path
) -> None:
    blocker = tmp_path / "config"
    blocker.write_bytes(b"a file where the folder should be")
    dialog = _dialog(qtbot, Settings(), blocker / "settings.json")
    dialog.concurrency_spin.setValue(2)
    assert "could not be saved" in _ok_refused(qtbot, dialog)


def test_the_language_note_says_when_it_applies(qtbot: QtBot, settings_file: Path) -> None:
    dialog = _dialog(qtbot, Settings(language="zh_CN"), settings_file)
    assert [dialog.language_combo.itemData(i) for i in range(3)] == ["system", "zh_CN", "en"]
    assert dialog.language_combo.itemText(1) == "中文"
    assert dialog.language_combo.itemText(2) == "English"
    assert not dialog.language_note.isVisible()
    dialog.language_combo.setCurrentIndex(2)
    assert dialog.language_note.isVisible()
    assert "starts again" in dialog.language_note.text()
    dialog.language_combo.setCurrentIndex(1)
    assert not dialog.language_note.isVisible()


def test_the_browse_buttons_fill_the_fields(
    qtbot: QtBot,
    tls_files: TlsFiles,  # noqa: F811
    settings_file: Path,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    dialog = _dialog(qtbot, Settings(default_export_dir=str(tmp_path)), settings_file)
    dialog.export_dir_button.click()
    picker = dialog.file_dialog
    assert picker is not None
    assert picker.isVisible()
    assert picker.isModal()
    assert picker.fileMode() == QFileDialog.FileMode.Directory
    assert os.path.samefile(picker.directory().absolutePath(), tmp_path)
    picker.fileSelected.emit(str(folder))
    assert dialog.export_dir_edit.text() == str(folder)
    picker.reject()

    dialog.ca_button.click()
    ca_picker = dialog.file_dialog
    assert ca_picker is not None
    assert ca_picker is not picker
    assert ca_picker.fileMode() == QFileDialog.FileMode.ExistingFile
    ca_picker.fileSelected.emit(str(tls_files.ca))
    assert dialog.ca_edit.text() == str(tls_files.ca)
    ca_picker.reject()
    assert _ok(qtbot, dialog).ca_bundle == str(tls_files.ca)


def test_every_field_is_laid_out_beside_its_label(qtbot: QtBot, settings_file: Path) -> None:
    dialog = _dialog(qtbot, Settings(), settings_file)
    qtbot.waitExposed(dialog)
    assert unplaced_widgets(dialog) == []
    forms = dialog.findChildren(QFormLayout)
    for field in (dialog.concurrency_spin, dialog.retries_spin, dialog.language_combo):
        assert field.isVisible()
        labels = [form.labelForField(field) for form in forms]
        assert any(isinstance(lab, QLabel) and lab.buddy() is field for lab in labels)
