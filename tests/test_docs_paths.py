"""The documentation stands on its own: every path it names is inside the repository, and none
is a path on somebody's machine."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")  # [text](target) with a local target
UPWARD = re.compile(r"(?<![\w/.])((?:\.\./)+[\w./-]+)")  # ../x in prose or code spans
MACHINE = re.compile(r"(?<![\w.~-])/(?:work|home|Users|root|opt|mnt)/[\w.-]+")


def markdown_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return [ROOT / line for line in out.splitlines()]


def test_there_is_documentation_to_check() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in markdown_files()}
    assert {"README.md", "benchmarks/README.md"} <= names


def test_every_local_link_and_relative_path_stays_in_the_repository() -> None:
    bad = []
    for path in markdown_files():
        text = path.read_text(encoding="utf-8")
        targets = [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]
        for target in targets + UPWARD.findall(text):
            resolved = (path.parent / target).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                bad.append(f"{path.relative_to(ROOT)}: {target}")
    assert bad == []


def test_no_machine_paths() -> None:
    bad = [
        f"{path.relative_to(ROOT)}: {m.group()}"
        for path in markdown_files()
        for m in MACHINE.finditer(path.read_text(encoding="utf-8"))
    ]
    assert bad == []


def test_the_checks_find_what_they_look_for(tmp_path: Path) -> None:
    """The patterns are not vacuous: they catch the two mistakes this test exists for."""
    assert UPWARD.findall("(see `../shared/DESIGN.md` for the picture)") == ["../shared/DESIGN.md"]
    assert MACHINE.search("/work/venv/bin/python benchmarks/registry.py")
    assert not MACHINE.search("`.venv/bin/python` and https://example.com/home/x")
