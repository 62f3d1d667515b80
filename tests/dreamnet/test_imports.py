"""The import graph: no circles anywhere in the project, and imports point down the layers.

Layers, bottom up (docs/architecture.md): platform plumbing in ``dreamnet/`` that imports no app; ``compute``
(no Django at all); ``mesh``; the domain apps ``commerce`` and ``agents`` (agents may read commerce; commerce
never imports agents: it asks for briefs through the mission-kind registry); ``computejobs``; then the site
(``dreamnet``'s pages, urls and the API root), which may import anything and which no app imports.

Every import counts, function-level ones included (they are how a circle hides from Python), except those under
``if TYPE_CHECKING:``, which never run.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("dreamnet", "compute", "mesh", "commerce", "agents", "computejobs", "treasury", "reports")

# What each app may import from the others (the platform is open to all of them).
ALLOWED = {
    "compute": set(),
    "mesh": set(),
    "commerce": {"mesh", "compute"},
    "agents": {"commerce", "mesh", "compute"},
    "computejobs": {"commerce", "mesh", "compute"},
    "treasury": {"commerce", "mesh", "compute", "computejobs"},
    # Reports read every domain app's figures and run as agent missions; no app imports reports.
    "reports": {"commerce", "mesh", "compute", "agents", "computejobs", "treasury"},
}

# The site's modules in dreamnet/: the only ones that may import apps.
SITE = (
    "dreamnet.api",
    "dreamnet.api_middleware",
    "dreamnet.urls",
    "dreamnet.asgi",
    "dreamnet.cli",  # the `dream` command: reads the node identity (mesh)
    "dreamnet.routing",
    "dreamnet.settings",
    "dreamnet.views",
    "dreamnet.views_site",
    "dreamnet.sitemaps",
    "dreamnet.selectors",
    "dreamnet.consumers",
    "dreamnet.management",
    "dreamnet.tasks",  # aliases for task paths queued before compute jobs became an app
)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _graph() -> dict[str, set[str]]:
    modules = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_lines(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if getattr(node, "lineno", None) in skip:
                continue
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, *([node.module] if node.module else [])])
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for target in targets:
                resolved = resolve(target)
                if resolved and resolved != name:
                    graph[name].add(resolved)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _layer(module: str) -> str:
    top = module.split(".")[0]
    if top == "dreamnet":
        return "site" if any(module == site or module.startswith(f"{site}.") for site in SITE) else "platform"
    return top


def test_the_project_has_no_import_circle():
    assert _cycles(_graph()) == []


def test_imports_point_down_the_layers():
    wrong = []
    for source, targets in sorted(_graph().items()):
        layer = _layer(source)
        for target in sorted(targets):
            to = _layer(target)
            if layer == to or layer == "site":
                continue
            if to == "site":
                wrong.append(f"{source} -> {target} (nothing imports the site)")
            elif layer == "platform":
                wrong.append(f"{source} -> {target} (platform plumbing imports no app)")
            elif to != "platform" and to not in ALLOWED[layer]:
                wrong.append(f"{source} -> {target} ({layer} may not import {to})")
    assert wrong == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}}, []),
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ],
)
def test_the_circle_finder_finds_circles(graph, expected):
    assert _cycles(graph) == expected
