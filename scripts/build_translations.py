#!/usr/bin/env python3
"""Refresh the window's translation catalogues from the sources, and compile them.

    python scripts/build_translations.py           # update the .ts files, then compile .qm
    python scripts/build_translations.py --check   # change nothing; exit 1 if a catalogue
                                                   # is out of date or unfinished
    python scripts/build_translations.py --compile # only compile .ts -> .qm (packaging)

Steps of a plain run:

1. ``lupdate`` (PySide6-Essentials ships it) reads every ``tr()``,
   ``translate()`` and ``QT_TRANSLATE_NOOP`` string of ``manuscript_gui/ui/``
   and ``manuscript_gui/app.py`` into ``resources/translations/manuscript_<lang>.ts``
   for each language (``-no-obsolete``: strings no longer in the code are
   dropped; ``-locations none``: no line numbers, so moving code does not
   change the catalogue).
2. In the English catalogue every new plain message is the source itself
   (the source strings are English) and is marked finished; plural messages
   stay unfinished until someone writes the singular and plural forms.
3. ``lrelease`` compiles each ``.ts`` into ``manuscript_<lang>.qm`` next to it
   (git ignores ``*.qm``; ``ui/i18n.py`` compiles a missing or older one at
   start, so a fresh clone runs without this script).

New strings then show as ``type="unfinished"`` in the Chinese catalogue:
translate them (Qt Linguist: ``pyside6-linguist``, or any editor) and run the
script again. ``tests/ui/test_translations.py`` fails while any entry is
unfinished, missing or obsolete.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "resources" / "translations"
LANGUAGES = ("zh_CN", "en")
SOURCE_LANGUAGE = "en"
PREFIX = "manuscript_"


def sources(root: Path = ROOT) -> list[Path]:
    """The files whose strings the catalogues hold: ``ui/`` and ``app.py``."""
    package = root / "manuscript_gui"
    return [*sorted((package / "ui").rglob("*.py")), package / "app.py"]


def ts_path(language: str, directory: Path = TRANSLATIONS) -> Path:
    return directory / f"{PREFIX}{language}.ts"


def _tool(name: str) -> Path:
    sys.path.insert(0, str(ROOT))
    from manuscript_gui.ui.i18n import qt_tool

    tool = qt_tool(name)
    if tool is None:
        sys.exit(f"{name} not found: install PySide6-Essentials (it ships lupdate and lrelease)")
    return tool


def lupdate(catalogues: dict[str, Path], root: Path = ROOT) -> None:
    """Refresh each language's ``.ts`` (created when missing) from the sources."""
    tool = _tool("lupdate")
    files = [str(p) for p in sources(root)]
    for language, ts in catalogues.items():
        ts.parent.mkdir(parents=True, exist_ok=True)
        cmd = [
            str(tool),
            "-silent",
            "-no-obsolete",
            "-locations",
            "none",
            "-source-language",
            SOURCE_LANGUAGE,
            "-target-language",
            language,
            *files,
            "-ts",
            str(ts),
        ]
        subprocess.run(cmd, check=True, cwd=root)


def fill_source_language(ts: Path) -> int:
    """In the source-language catalogue, give each unfinished plain message its source
    as translation. Returns how many were filled; plural messages are left alone."""
    tree = ET.parse(ts)
    filled = 0
    for message in tree.getroot().iter("message"):
        if message.get("numerus") == "yes":
            continue
        translation = message.find("translation")
        source = message.findtext("source")
        if translation is None or source is None or translation.get("type") != "unfinished":
            continue
        translation.text = source
        del translation.attrib["type"]
        filled += 1
    if filled:
        _write_ts(tree, ts)
    return filled


def _write_ts(tree: ET.ElementTree[ET.Element], ts: Path) -> None:
    """Write a .ts the way lupdate does (declaration, doctype, 4-space indent)."""
    ET.indent(tree, space="    ")
    body = ET.tostring(tree.getroot(), encoding="unicode")
    ts.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n' + body + "\n", encoding="utf-8"
    )


def lrelease(ts: Path, qm: Path) -> None:
    subprocess.run([str(_tool("lrelease")), "-silent", str(ts), "-qm", str(qm)], check=True)


# ---------------------------------------------------------------------- checking


@dataclass(frozen=True)
class Problem:
    language: str
    context: str
    source: str
    what: str

    def __str__(self) -> str:
        return f"{self.language} [{self.context}] {self.source!r}: {self.what}"


def problems(ts: Path, language: str) -> list[Problem]:
    """Every entry of *ts* that is not a finished translation: unfinished, vanished or
    obsolete, empty, or with placeholders (``%1``.., ``%n``/``%Ln``) that differ
    from its source."""
    found: list[Problem] = []
    root = ET.parse(ts).getroot()
    for context in root.iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            source = message.findtext("source") or ""
            found += [
                Problem(language, name, source, what) for what in _message_problems(message, source)
            ]
    return found


def _message_problems(message: ET.Element, source: str) -> list[str]:
    translation = message.find("translation")
    if translation is None:
        return ["no translation element"]
    kind = translation.get("type")
    if kind:
        return [kind]
    if message.get("numerus") == "yes":
        texts = [f.text or "" for f in translation.iter("numerusform")] or [""]
    else:
        texts = [translation.text or ""]
    what: list[str] = []
    for text in texts:
        if not text.strip():
            what.append("empty translation")
        elif placeholders(text) != placeholders(source):
            what.append(f"placeholders differ: {text!r}")
    return what


def placeholders(text: str) -> set[str]:
    """``%1``..``%99`` and the count (``%n``/``%Ln`` count as one) in *text*."""
    import re

    marks = set(re.findall(r"%(\d+)", text))
    if re.search(r"%L?n", text):
        marks.add("n")
    return marks


def check(root: Path = ROOT) -> list[str]:
    """What is wrong with the committed catalogues, as lines (empty: all good):
    a catalogue lupdate would change (strings added, changed or removed in the
    code), or any entry :func:`problems` reports."""
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="manuscript-ts-") as tmp:
        copies: dict[str, Path] = {}
        for language in LANGUAGES:
            committed = ts_path(language, root / "resources" / "translations")
            if not committed.is_file():
                lines.append(f"{committed} is missing")
                continue
            copy = Path(tmp) / committed.name
            shutil.copyfile(committed, copy)
            copies[language] = copy
        lupdate(copies, root)
        for language, copy in copies.items():
            committed = ts_path(language, root / "resources" / "translations")
            before = _messages(committed)
            after = _messages(copy)
            lines += [f"{language}: not in the catalogue: {m}" for m in sorted(after - before)]
            lines += [f"{language}: no longer in the code: {m}" for m in sorted(before - after)]
            lines += [str(p) for p in problems(copy, language)]
    return lines


def _messages(ts: Path) -> set[tuple[str, str, str]]:
    """(context, source, comment) of every message lupdate considers current."""
    result: set[tuple[str, str, str]] = set()
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            translation = message.find("translation")
            if translation is not None and translation.get("type") in ("vanished", "obsolete"):
                continue
            result.add((name, message.findtext("source") or "", message.findtext("comment") or ""))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="report problems, change nothing")
    mode.add_argument("--compile", action="store_true", help="only compile .ts into .qm")
    args = parser.parse_args(argv)
    if args.check:
        lines = check()
        for line in lines:
            print(line)
        print("catalogues: " + ("out of date or unfinished" if lines else "complete"))
        return 1 if lines else 0
    catalogues = {language: ts_path(language) for language in LANGUAGES}
    if not args.compile:
        lupdate(catalogues)
        filled = fill_source_language(catalogues[SOURCE_LANGUAGE])
        if filled:
            print(f"{SOURCE_LANGUAGE}: {filled} new message(s) filled with their source text")
            # Once more, so the file is laid out as lupdate writes it (no churn next time).
            lupdate({SOURCE_LANGUAGE: catalogues[SOURCE_LANGUAGE]})
    unfinished = 0
    for language, ts in catalogues.items():
        lrelease(ts, ts.with_suffix(".qm"))
        for problem in problems(ts, language):
            print(problem)
            unfinished += 1
    if unfinished:
        print(f"{unfinished} entr{'y' if unfinished == 1 else 'ies'} still to translate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
