"""The app's embedded default (demo mode) works on a fresh profile."""

from __future__ import annotations

from pathlib import Path

from manuscript_gui.app import main


def test_demo_mode_exports_a_project(tmp_path: Path) -> None:
    target = tmp_path / "demo-export"
    assert main(["--demo", "--files", "6", "--to", str(target)]) == 0
    exported = [
        p for p in target.rglob("*") if p.is_file() and ".manuscript-partial" not in p.parts
    ]
    assert len(exported) == 6
    assert all(p.stat().st_size > 0 for p in exported)
