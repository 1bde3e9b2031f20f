"""The catalogues (resources/translations/*.ts) are complete, and load as the app loads them.

Completeness is checked the way the catalogues are made: ``pyside6-lupdate``
extracts every ``tr()``, ``translate()`` and ``QT_TRANSLATE_NOOP`` string of
``manuscript_gui/ui/`` and ``app.py`` into copies of the committed ``.ts``
(``scripts/build_translations.py``'s ``check``); a string in the code that the
committed catalogue lacks, an entry the code no longer has, an unfinished or
empty translation, or one whose placeholders differ from its source fails.
The tests below also prove the check fails in each of those cases (on a copy
of the sources with one more string), and that strings lupdate cannot see
(f-strings, ``.format`` on a translated text) do not get into the sources.

``.qm`` files are not in git: ``ui/i18n.py`` compiles them at the first start
(and when the ``.ts`` is newer); the tests here compile into temporary folders.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import shutil
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

from manuscript_gui.ui import i18n

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "resources" / "translations"


def _load_script() -> ModuleType:
    path = ROOT / "scripts" / "build_translations.py"
    spec = importlib.util.spec_from_file_location("build_translations", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("build_translations", module)
    spec.loader.exec_module(module)
    return module


bt = _load_script()


# ------------------------------------------------------------ completeness


def test_the_catalogues_hold_every_string_of_the_code_translated() -> None:
    problems = bt.check(ROOT)
    assert not problems, (
        "the translation catalogues are out of date or unfinished; run "
        "`python scripts/build_translations.py`, translate the new entries in "
        "resources/translations/manuscript_zh_CN.ts, run it again:\n" + "\n".join(problems)
    )


def test_both_languages_are_catalogued() -> None:
    for language in i18n.LANGUAGES:
        ts = TRANSLATIONS / f"manuscript_{language}.ts"
        root = ET.parse(ts).getroot()
        assert root.get("language") == language
        assert root.get("sourcelanguage") == "en"


def test_english_plurals_have_their_singular_and_plural_forms() -> None:
    """The English catalogue is not a copy of the sources for counted phrases:
    "Found 1 file", never "Found 1 file(s)"."""
    root = ET.parse(TRANSLATIONS / "manuscript_en.ts").getroot()
    numerus = [m for m in root.iter("message") if m.get("numerus") == "yes"]
    assert numerus, "no plural message at all: the Texts class is gone?"
    for message in numerus:
        forms = [f.text or "" for f in message.iter("numerusform")]
        assert len(forms) == 2, message.findtext("source")
        assert not any("(s)" in form for form in forms), forms


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the sources the catalogues are made from, and of the catalogues."""
    root = tmp_path / "tree"
    shutil.copytree(ROOT / "manuscript_gui" / "ui", root / "manuscript_gui" / "ui")
    shutil.copy(ROOT / "manuscript_gui" / "app.py", root / "manuscript_gui" / "app.py")
    shutil.copytree(TRANSLATIONS, root / "resources" / "translations")
    return root


def _edit_ts(ts: Path, source: str, edit: Any) -> None:
    tree = ET.parse(ts)
    for message in tree.getroot().iter("message"):
        if message.findtext("source") == source:
            edit(message)
            break
    else:
        raise AssertionError(f"{source!r} not in {ts}")
    tree.write(ts, encoding="utf-8", xml_declaration=True)


def test_the_check_fails_on_a_new_string_nobody_translated(tree: Path) -> None:
    probe = tree / "manuscript_gui" / "ui" / "probe.py"
    probe.write_text(
        "from PySide6.QtCore import QCoreApplication, QObject\n"
        "from manuscript_gui.ui.texts import QT_TRANSLATE_NOOP\n"
        "class Probe(QObject):\n"
        "    def label(self) -> str:\n"
        "        return self.tr('A button nobody translated')\n"
        "HINT = QT_TRANSLATE_NOOP('Texts', 'A constant nobody translated')\n"
        "def plain() -> str:\n"
        "    return QCoreApplication.translate('Probe', 'A sentence nobody translated')\n",
        encoding="utf-8",
    )
    problems = "\n".join(bt.check(tree))
    for language in ("zh_CN", "en"):
        for source in (
            "A button nobody translated",
            "A constant nobody translated",
            "A sentence nobody translated",
        ):
            assert f"{language}: not in the catalogue" in problems
            assert source in problems


def test_the_check_fails_on_an_unfinished_or_wrong_entry(tree: Path) -> None:
    ts = tree / "resources" / "translations" / "manuscript_zh_CN.ts"

    def unfinished(message: ET.Element) -> None:
        translation = message.find("translation")
        assert translation is not None
        translation.set("type", "unfinished")

    def lost_placeholder(message: ET.Element) -> None:
        translation = message.find("translation")
        assert translation is not None
        translation.text = "磁盘空间不足（还需 %1）"

    def empty(message: ET.Element) -> None:
        translation = message.find("translation")
        assert translation is not None
        translation.text = ""

    _edit_ts(ts, "Pause", unfinished)
    _edit_ts(ts, "disk full (needs %1, %2 free)", lost_placeholder)
    _edit_ts(ts, "Resume", empty)
    problems = bt.check(tree)
    text = "\n".join(problems)
    assert "zh_CN [Texts] 'Pause': unfinished" in text
    assert "zh_CN [Texts] 'disk full (needs %1, %2 free)': placeholders differ" in text
    assert "zh_CN [Texts] 'Resume': empty translation" in text


def test_the_check_fails_on_an_entry_the_code_no_longer_has(tree: Path) -> None:
    texts_py = tree / "manuscript_gui" / "ui" / "texts.py"
    source = texts_py.read_text(encoding="utf-8")
    assert '"Export failure list"' in source
    texts_py.write_text(
        source.replace('"Export failure list"', '"Export the failure list"'), encoding="utf-8"
    )
    text = "\n".join(bt.check(tree))
    assert "no longer in the code: ('Texts', 'Export failure list', '')" in text
    assert "not in the catalogue: ('Texts', 'Export the failure list', '')" in text


def test_the_check_fails_on_a_missing_catalogue(tree: Path) -> None:
    (tree / "resources" / "translations" / "manuscript_en.ts").unlink()
    assert any("manuscript_en.ts is missing" in line for line in bt.check(tree))


# --------------------------------------------- strings lupdate cannot extract


def _sources() -> list[Path]:
    return [
        *sorted((ROOT / "manuscript_gui" / "ui").rglob("*.py")),
        ROOT / "manuscript_gui" / "app.py",
    ]


_MARKERS = {"tr": 0, "translate": 1, "QT_TRANSLATE_NOOP": 1, "QT_TR_NOOP": 0}


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    if isinstance(node.func, ast.Name):
        return node.func.id
    return None


def untranslatable(path: Path) -> list[str]:
    """Calls whose text lupdate cannot extract or whose translation is then broken:
    an f-string, ``%``/``+`` or a call (``.format``) as the source; ``.format(...)``
    on a translated text (a translation must reorder ``%1``, not ``{name}``); a
    plural through ``translate`` (only ``self.tr(text, "", n)`` is a plural)."""
    found: list[str] = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        where = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{node.lineno}"
        name = _call_name(node)
        if (
            name == "format"
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Call)
            and _call_name(node.func.value) in ("tr", "translate")
        ):
            found.append(f"{where}: .format() on a translated text (use %1 and replace)")
        if name not in _MARKERS or len(node.args) <= _MARKERS[name]:
            continue
        source = node.args[_MARKERS[name]]
        if isinstance(source, ast.JoinedStr | ast.BinOp | ast.Call):
            found.append(f"{where}: {name}() of {ast.unparse(source)[:60]} (not extractable)")
        if (
            name == "translate"
            and len(node.args) >= 4
            and isinstance(source, ast.Constant)
            and "%n" in str(source.value).replace("%Ln", "%n")
        ):
            found.append(f"{where}: a plural through translate() (use self.tr(text, '', n))")
    return found


def test_every_translated_string_is_one_lupdate_can_extract() -> None:
    offenders = [line for path in _sources() for line in untranslatable(path)]
    assert not offenders, "\n".join(offenders)


def test_the_extractability_check_catches_the_known_mistakes(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "class W:\n"
        "    def a(self, n):\n"
        "        x = self.tr(f'Found {n} files')\n"
        "        y = self.tr('Needs {need}').format(need=n)\n"
        "        z = QCoreApplication.translate('W', 'Found %n files', None, n)\n"
        "        w = self.tr('Found ' + str(n))\n"
        "        ok = self.tr('Found %n files', '', n)\n"
        "        ok2 = QCoreApplication.translate('W', HEADERS[n])\n",
        encoding="utf-8",
    )
    found = untranslatable(probe)
    assert [line.split(":")[1] for line in found] == ["3", "4", "5", "6"], found


# ------------------------------------------------------- compiling, loading


@pytest.fixture
def ts_only(tmp_path: Path) -> Path:
    """The committed .ts in a folder without any .qm (a fresh clone)."""
    directory = tmp_path / "translations"
    directory.mkdir()
    for ts in TRANSLATIONS.glob("*.ts"):
        shutil.copy(ts, directory / ts.name)
    return directory


@pytest.fixture
def installed(qapp: Any) -> Iterator[None]:
    try:
        yield
    finally:
        i18n.uninstall()


def _translate_with(qm: Path, context: str, source: str) -> str:
    translator = QTranslator()
    assert translator.load(str(qm))
    return translator.translate(context, source) or ""


def test_a_fresh_clone_compiles_its_catalogue_at_first_start(qapp: Any, ts_only: Path) -> None:
    qm = i18n.catalogue("zh_CN", ts_only)
    assert qm == ts_only / "manuscript_zh_CN.qm"
    assert qm.is_file()
    assert _translate_with(qm, "Texts", "Paused") == "已暂停"
    # Compiled once: an up-to-date .qm is used as it is.
    before = qm.stat().st_mtime_ns
    assert i18n.catalogue("zh_CN", ts_only) == qm
    assert qm.stat().st_mtime_ns == before


def test_a_changed_ts_is_compiled_again(qapp: Any, ts_only: Path) -> None:
    qm = i18n.catalogue("zh_CN", ts_only)
    assert qm is not None
    ts = ts_only / "manuscript_zh_CN.ts"

    def retranslate(message: ET.Element) -> None:
        translation = message.find("translation")
        assert translation is not None
        translation.text = "暂停中"

    _edit_ts(ts, "Paused", retranslate)
    later = qm.stat().st_mtime + 10
    os.utime(ts, (later, later))
    assert i18n.catalogue("zh_CN", ts_only) == qm
    assert _translate_with(qm, "Texts", "Paused") == "暂停中"


def test_a_read_only_translations_folder_compiles_into_the_cache(
    qapp: Any, ts_only: Path, tmp_path: Path
) -> None:
    # The .qm cannot be written there (a folder in its way: even root cannot replace it).
    (ts_only / "manuscript_zh_CN.qm").mkdir()
    cache = tmp_path / "cache"
    qm = i18n.catalogue("zh_CN", ts_only, cache=cache)
    assert qm == cache / "manuscript_zh_CN.qm"
    assert _translate_with(qm, "Texts", "Paused") == "已暂停"


def test_no_catalogue_at_all_gives_none(qapp: Any, tmp_path: Path) -> None:
    assert i18n.catalogue("zh_CN", tmp_path) is None


def test_install_loads_the_app_and_qt_catalogues(installed: None, ts_only: Path) -> None:
    result = i18n.install("zh_CN", directory=ts_only)
    assert result.language == "zh_CN"
    assert i18n.current() is result
    assert len(result.translators) == 2, "the app's catalogue and Qt's qtbase_zh_CN"
    assert QCoreApplication.translate("Texts", "Resume") == "继续"
    # Qt's own strings (standard dialog buttons).
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"
    assert QLocale().name() == "zh_CN"


def test_install_replaces_the_previous_language(installed: None, ts_only: Path) -> None:
    i18n.install("zh_CN", directory=ts_only)
    i18n.install("en", directory=ts_only)
    assert QCoreApplication.translate("Texts", "Resume") == "Resume"
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Cancel"


def test_the_translators_outlive_the_call(installed: None, ts_only: Path) -> None:
    """A QTranslator Python drops stops translating (pitfalls §4): install keeps them."""
    import gc

    i18n.install("zh_CN", directory=ts_only)
    gc.collect()
    assert QCoreApplication.translate("Texts", "Pause") == "暂停"


def test_uninstall_gives_back_the_source_strings_and_locale(installed: None, ts_only: Path) -> None:
    before = QLocale().name()
    i18n.install("zh_CN", directory=ts_only)
    i18n.uninstall()
    assert QCoreApplication.translate("Texts", "Pause") == "Pause"
    assert QLocale().name() == before
    assert i18n.current() is None


def test_a_missing_catalogue_leaves_the_source_strings(installed: None, tmp_path: Path) -> None:
    result = i18n.install("zh_CN", directory=tmp_path)
    assert result.language == "zh_CN"
    assert QCoreApplication.translate("Texts", "Pause") == "Pause"


@pytest.mark.parametrize(
    ("setting", "system", "language"),
    [
        ("zh_CN", "en_US", "zh_CN"),
        ("en", "zh_CN", "en"),
        ("system", "zh_CN", "zh_CN"),
        ("system", "zh_TW", "zh_CN"),  # any Chinese gets the only Chinese catalogue
        ("system", "zh_Hant_HK", "zh_CN"),
        ("system", "en_GB", "en"),
        ("system", "de_DE", "en"),  # no catalogue: English, the source language
        ("system", "ja_JP", "en"),
        ("nonsense", "zh_CN", "zh_CN"),  # an unknown setting follows the system
    ],
)
def test_resolve_language(setting: str, system: str, language: str) -> None:
    assert i18n.resolve_language(setting, QLocale(system)) == language


def test_the_translations_folder_can_be_moved(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert i18n.translations_dir() == TRANSLATIONS
    monkeypatch.setenv(i18n.DIR_ENV, str(tmp_path))
    assert i18n.translations_dir() == tmp_path
    monkeypatch.delenv(i18n.DIR_ENV)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert i18n.translations_dir() == tmp_path / "resources" / "translations"


def test_the_qt_tools_are_there() -> None:
    """lupdate and lrelease come with PySide6-Essentials (no extra dependency)."""
    for name in ("lupdate", "lrelease"):
        tool = i18n.qt_tool(name)
        assert tool is not None, name
        assert os.access(tool, os.X_OK)
