"""Imports in `compute` point one way: submodules import their siblings, never their own package's __init__
(which re-exports from them), and nothing in `compute` imports Django."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import compute

ROOT = Path(compute.__file__).resolve().parent
MODULES = sorted(p for p in ROOT.rglob("*.py") if p.name != "__init__.py")


def _name(path: Path) -> str:
    return ".".join(("compute", *path.relative_to(ROOT).with_suffix("").parts))


def _imported(path: Path) -> set[str]:
    """Return the modules `path` imports, as the dotted names its import statements name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # a relative import: resolve it against this module's package
                package = _name(path).split(".")[: -node.level]
                base = ".".join([*package, *([base] if base else [])])
            names.add(base)
    return names


@pytest.mark.parametrize("path", MODULES, ids=[_name(p) for p in MODULES])
def test_a_submodule_does_not_import_its_own_package(path: Path) -> None:
    name = _name(path)
    packages = {".".join(name.split(".")[:i]) for i in range(2, name.count(".") + 1)}  # compute.x, compute.x.y…
    assert not (_imported(path) & packages), f"{name} imports its package's __init__; import the sibling module"


@pytest.mark.parametrize("path", MODULES, ids=[_name(p) for p in MODULES])
def test_compute_imports_no_django(path: Path) -> None:
    assert not {n for n in _imported(path) if n == "django" or n.startswith("django.")}
