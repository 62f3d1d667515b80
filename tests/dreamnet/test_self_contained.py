"""A clone of DreamNet runs and tests with nothing beside it: no file in the repository reads the shared folder
beside the checkout."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The relative path up to that folder, or a path built to it from a file's location: `parents[n]` or `.parent`
# joined with that folder's name as a string.
OUTSIDE = re.compile(r"\.\./shared\b|(parents?\[\d+\]|\.parent)\s*/\s*[\"']shared[\"']")
SUFFIXES = {".py", ".md", ".toml", ".txt", ".cfg", ".ini", ".sh", ".yml", ".yaml", ".html", ".js", ""}


def _project_files() -> list[Path]:
    try:
        listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        paths = [ROOT / line for line in listed.splitlines()]
    except (OSError, subprocess.CalledProcessError):  # a copy without .git (CI's fresh copy): walk the tree
        skip = {".venv", "var", ".git", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis", "build", "dist"}
        paths = [
            p
            for p in ROOT.rglob("*")
            if p.is_file()
            and not skip & set(p.relative_to(ROOT).parts)
            and not any(part.endswith(".egg-info") for part in p.relative_to(ROOT).parts)
        ]
    return [p for p in paths if p.suffix in SUFFIXES and p.is_file() and p != Path(__file__).resolve()]


def test_nothing_in_the_project_reads_files_beside_the_checkout():
    found = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _project_files()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1)
        if OUTSIDE.search(line)
    ]
    assert not found, "files outside the repository are read from:\n" + "\n".join(found)
