"""The window's language: which catalogue, where it lives, and installing it before any widget.

Catalogues are Qt Linguist files: ``resources/translations/manuscript_<lang>.ts``
(the sources, in git, written by ``scripts/build_translations.py`` from the
``tr()`` and ``QT_TRANSLATE_NOOP`` strings of ``ui/``) compiled into
``manuscript_<lang>.qm`` (binary, derived, ignored by git). A fresh clone has
no ``.qm``: :func:`catalogue` compiles the one it needs with ``lrelease``
(shipped in PySide6-Essentials, a dependency) the first time, and again
whenever the ``.ts`` is newer, so ``python3 dev.py demo`` works without a build
step (about 10 ms); a read-only install compiles into the app's data folder
instead. A frozen bundle ships the compiled ``.qm`` (``scripts/build_translations.py
--compile``) and never compiles.

The language is the setting ``language`` (``"system"``, ``"zh_CN"``, ``"en"``):
``"system"`` follows the system locale's UI languages, taking the first one
the app has a catalogue for (Chinese, any script or region, gets ``zh_CN``),
else English. :func:`install` loads the app's catalogue and Qt's own
(``qtbase_<lang>.qm``: the buttons of standard dialogs), sets the default
``QLocale`` (digits, dates), and keeps the translators referenced by the
:class:`Translation` it returns: a ``QTranslator`` that Python drops stops
translating (research/desktop-stack-pitfalls.md §4). Install before building
widgets; a later :func:`install` replaces the previous one (widgets then
retranslate on ``QEvent.LanguageChange``).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from manuscript_gui.config import Language, app_paths

__all__ = [
    "CATALOGUE_PREFIX",
    "LANGUAGES",
    "SOURCE_LANGUAGE",
    "Translation",
    "catalogue",
    "compiled_cache_dir",
    "current",
    "install",
    "qt_tool",
    "resolve_language",
    "translations_dir",
    "uninstall",
]

_log = logging.getLogger(__name__)

# The languages the app has catalogues for; the first is what unknown locales get.
LANGUAGES: Final = ("en", "zh_CN")
# The language the source strings are written in.
SOURCE_LANGUAGE: Final = "en"
CATALOGUE_PREFIX: Final = "manuscript_"
# Overrides where the catalogues are looked for (tests, packagers).
DIR_ENV: Final = "MANUSCRIPT_GUI_TRANSLATIONS"


def translations_dir() -> Path:
    """Where ``manuscript_<lang>.ts``/``.qm`` live.

    ``$MANUSCRIPT_GUI_TRANSLATIONS`` if set; in a PyInstaller bundle
    ``<sys._MEIPASS>/resources/translations``; otherwise the source tree's
    ``resources/translations`` (next to the ``manuscript_gui`` package).
    """
    override = os.environ.get(DIR_ENV, "").strip()
    if override:
        return Path(override)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources" / "translations"
    return Path(__file__).resolve().parents[2] / "resources" / "translations"


def resolve_language(setting: Language | str, locale: QLocale | None = None) -> str:
    """The catalogue language for a ``language`` setting: ``"zh_CN"`` or ``"en"``.

    ``"system"`` (or anything unknown) follows *locale*'s UI languages
    (default: the system locale), in order; a Chinese entry of any script or
    region (``zh-Hans-CN``, ``zh-TW``) gives ``zh_CN``, the only Chinese
    catalogue; no match gives English.
    """
    if setting in LANGUAGES:
        return setting
    system = locale if locale is not None else QLocale.system()
    for name in system.uiLanguages():
        lang = name.replace("-", "_").split("_")[0].lower()
        if lang == "zh":
            return "zh_CN"
        if lang == "en":
            return "en"
    return SOURCE_LANGUAGE


def qt_tool(name: str) -> Path | None:
    """The Qt tool *name* (``"lrelease"``, ``"lupdate"``): PySide6's own binary, else
    ``pyside6-<name>`` or ``<name>`` / ``<name>-qt6`` on ``PATH``; ``None`` if none."""
    import PySide6

    exe = ".exe" if os.name == "nt" else ""
    bundled = Path(PySide6.__file__).parent / f"{name}{exe}"
    if bundled.is_file():
        return bundled
    for candidate in (f"pyside6-{name}", name, f"{name}-qt6"):
        found = shutil.which(candidate)
        if found:
            return Path(found)
    return None


def _fresh(qm: Path, ts: Path) -> bool:
    """*qm* is a compiled file at least as new as *ts*."""
    try:
        return qm.is_file() and qm.stat().st_mtime >= ts.stat().st_mtime
    except OSError:
        return False


def compiled_cache_dir() -> Path:
    """Where catalogues are compiled when the translations folder is read-only
    (an installed copy): ``<app data dir>/translations``."""
    return app_paths().data_dir / "translations"


def catalogue(
    language: str, directory: Path | None = None, *, cache: Path | None = None
) -> Path | None:
    """The compiled catalogue of *language*: ``<directory>/manuscript_<language>.qm``,
    compiled from its ``.ts`` first when missing or older than the ``.ts``.

    When *directory* cannot be written, the ``.qm`` is compiled into *cache*
    (default :func:`compiled_cache_dir`) instead, again only when missing or
    stale there. ``None`` when there is no ``.ts`` and no ``.qm`` (then the
    source strings show). A failed compile is logged and an older ``.qm`` is
    used if there is one; nothing here raises for a missing tool or folder.
    """
    directory = translations_dir() if directory is None else directory
    ts = directory / f"{CATALOGUE_PREFIX}{language}.ts"
    qm = directory / f"{CATALOGUE_PREFIX}{language}.qm"
    if not ts.is_file() or _fresh(qm, ts):
        return qm if qm.is_file() else None
    if _compile(ts, qm):
        return qm
    cached = (compiled_cache_dir() if cache is None else cache) / qm.name
    if _fresh(cached, ts) or _compile(ts, cached):
        return cached
    return qm if qm.is_file() else None


def _compile(ts: Path, qm: Path) -> bool:
    """``lrelease`` *ts* into *qm* (atomically); False, logged, when that fails."""
    tool = qt_tool("lrelease")
    if tool is None:
        _log.warning("cannot compile %s: lrelease not found (PySide6-Essentials has it)", ts)
        return False
    # Into a temporary file, then renamed: a second app starting at the same time
    # never loads half a catalogue.
    try:
        qm.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=qm.parent, prefix=f".{qm.name}.", suffix=".tmp")
    except OSError as exc:
        _log.info("cannot compile %s into %s: %s", ts, qm.parent, exc)
        return False
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        proc = subprocess.run(
            [str(tool), "-silent", str(ts), "-qm", str(tmp)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if proc.returncode != 0 or tmp.stat().st_size == 0:
            _log.warning("lrelease failed on %s (exit %s): %s", ts, proc.returncode, proc.stderr)
            return False
        os.replace(tmp, qm)
        return True
    except (OSError, subprocess.SubprocessError) as exc:
        _log.warning("cannot compile %s: %s", ts, exc)
        return False
    finally:
        tmp.unlink(missing_ok=True)


@dataclass(slots=True)
class Translation:
    """The installed language and its translators (kept alive by this object).

    ``previous_locale`` is the default ``QLocale`` before :func:`install` set
    this language's (restored by :func:`uninstall`).
    """

    language: str
    translators: list[QTranslator] = field(default_factory=list)
    previous_locale: QLocale = field(default_factory=QLocale)

    def remove(self) -> None:
        """Uninstall the translators (before installing another language)."""
        for translator in self.translators:
            QCoreApplication.removeTranslator(translator)
        self.translators.clear()


_current: Translation | None = None


def current() -> Translation | None:
    """What :func:`install` installed last (``None``: nothing, the source strings show)."""
    return _current


def uninstall() -> None:
    """Remove the installed translators and give back the default ``QLocale`` from
    before the first :func:`install` (tests; a language switch just calls
    :func:`install` again)."""
    global _current
    if _current is None:
        return
    _current.remove()
    QLocale.setDefault(_current.previous_locale)
    _current = None


def install(setting: Language | str, *, directory: Path | None = None) -> Translation:
    """Install the language the setting asks for (see the module docstring); replaces
    the previous installation. Needs a ``QCoreApplication``.

    Returns the :class:`Translation` (its ``language`` is ``"zh_CN"`` or ``"en"``);
    a missing catalogue is logged and the source (English) strings show.
    """
    global _current
    language = resolve_language(setting)
    previous_locale = QLocale()
    if _current is not None:
        _current.remove()
        previous_locale = _current.previous_locale
    QLocale.setDefault(QLocale(language))
    result = Translation(language, previous_locale=previous_locale)
    app_qm = catalogue(language, directory)
    if app_qm is None:
        _log.warning("no catalogue for %s in %s", language, directory or translations_dir())
    else:
        _load(result, app_qm)
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    qt_qm = Path(qt_dir) / f"qtbase_{language}.qm"
    if qt_qm.is_file():
        _load(result, qt_qm)
    elif language != SOURCE_LANGUAGE:
        _log.info("Qt's own %s strings not found in %s", language, qt_dir)
    _current = result
    return result


def _load(result: Translation, qm: Path) -> None:
    translator = QTranslator(QCoreApplication.instance())
    if translator.load(str(qm)) and QCoreApplication.installTranslator(translator):
        result.translators.append(translator)
    else:
        _log.warning("could not load the catalogue %s", qm)
