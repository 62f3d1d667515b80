"""QualityGuard's gates, in order: Python parses, ``ruff check``, paths stay inside the workspace's allowed
paths, no stub code, and the workspace's tests pass. Each gate returns ``{"gate", "passed", "findings"}``;
findings name ``path:line``.

Pure module (no Django). The ruff and tests gates run subprocesses through :mod:`agents.codegen.sandbox`.
"""

from __future__ import annotations

import ast
import io
import re
import shlex
import shutil
import sys
import tokenize
from pathlib import Path, PurePosixPath
from typing import Any

from agents.codegen import sandbox

ORDER = ("parse", "ruff", "paths", "stubs", "tests")
MARKER = re.compile(r"\b(TODO|FIXME)\b")


def _gate(name: str, findings: list[str], **extra: Any) -> dict[str, Any]:
    return {"gate": name, "passed": not findings, "findings": findings} | extra


def path_problem(path: str, allowed: list[str]) -> str | None:
    """Return why ``path`` (relative, POSIX) may not be written, or None when it is inside ``allowed``."""
    if not path or "\\" in path or "\x00" in path:
        return "not a plain relative path"
    pure = PurePosixPath(path)
    if pure.is_absolute():
        return "absolute path"
    if ".." in pure.parts:
        return "escapes the workspace (`..`)"
    if pure.parts and pure.parts[0] == ".git":
        return "inside .git"
    normal = str(pure)
    if not any(normal == a.rstrip("/") or normal.startswith(a.rstrip("/") + "/") for a in allowed):
        return f"outside the allowed paths ({', '.join(allowed)})"
    return None


def check_paths(files: dict[str, str], allowed: list[str], root: Path | None = None) -> dict[str, Any]:
    """Refuse paths that are absolute, climb out with ``..``, sit outside ``allowed``, or (given the checkout
    ``root``) resolve through a symlink to somewhere outside it."""
    findings = []
    for path in sorted(files):
        problem = path_problem(path, allowed)
        if problem is None and root is not None:
            resolved = (root / path).resolve()
            if not resolved.is_relative_to(root.resolve()):
                problem = "resolves through a symlink outside the workspace"
        if problem:
            findings.append(f"{path}: {problem}")
    return _gate("paths", findings)


def check_parse(files: dict[str, str]) -> dict[str, Any]:
    findings = []
    for path, content in sorted(files.items()):
        if path.endswith(".py"):
            try:
                ast.parse(content, filename=path)
            except SyntaxError as exc:
                findings.append(f"{path}:{exc.lineno or 0}: SyntaxError: {exc.msg}")
    return _gate("parse", findings)


def _only_stub(body: list[ast.stmt]) -> bool:
    statements = body
    first = statements[0] if statements else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        statements = statements[1:]
    if not statements:
        return False
    return all(
        isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)
                                    and s.value.value is Ellipsis)
        for s in statements
    )  # fmt: skip


def _raises_not_implemented(node: ast.Raise) -> bool:
    exc = node.exc
    if isinstance(exc, ast.Call):
        exc = exc.func
    return isinstance(exc, ast.Name) and exc.id in ("NotImplementedError", "NotImplemented")


def stubs_in(path: str, content: str) -> list[str]:
    """Return ``path:line: why`` for every stub in one file: a function whose body is only ``pass``/``...``,
    ``raise NotImplementedError``, or a TODO/FIXME marker (in comments, strings or any text file)."""
    findings = []
    if path.endswith(".py"):
        try:
            tree = ast.parse(content)
        except SyntaxError:
            return []
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _only_stub(node.body):
                findings.append((node.lineno, f"function {node.name}() has only pass/... as its body"))
            elif isinstance(node, ast.Raise) and _raises_not_implemented(node):
                findings.append((node.lineno, "raises NotImplementedError"))
        try:
            for token in tokenize.generate_tokens(io.StringIO(content).readline):
                if token.type in (tokenize.COMMENT, tokenize.STRING) and (m := MARKER.search(token.string)):
                    findings.append((token.start[0], f"{m.group(1)} marker"))
        except (tokenize.TokenError, SyntaxError):
            pass
    else:
        for number, line in enumerate(content.splitlines(), start=1):
            if m := MARKER.search(line):
                findings.append((number, f"{m.group(1)} marker"))
    return [f"{path}:{line}: {why}" for line, why in sorted(set(findings))]


def check_stubs(files: dict[str, str]) -> dict[str, Any]:
    return _gate("stubs", [f for path, content in sorted(files.items()) for f in stubs_in(path, content)])


def ruff_executable() -> str | None:
    candidate = Path(sys.executable).with_name("ruff")
    return str(candidate) if candidate.exists() else shutil.which("ruff")


def check_ruff(files: dict[str, str], root: Path, *, timeout_s: int, memory_mb: int) -> dict[str, Any]:
    """Run ``ruff check --no-cache`` on the written Python files in the checkout ``root`` (the workspace's own
    ruff configuration applies)."""
    targets = sorted(p for p in files if p.endswith(".py"))
    if not targets:
        return _gate("ruff", [])
    exe = ruff_executable()
    if exe is None:
        return _gate("ruff", ["ruff is not installed on this node"])
    result = sandbox.run(
        [exe, "check", "--no-cache", "--output-format", "concise", *targets],
        cwd=root, timeout_s=timeout_s, memory_mb=memory_mb,
    )  # fmt: skip
    if result.returncode == 0:
        return _gate("ruff", [])
    lines = [line for line in result.output.splitlines() if re.match(r"^\S+:\d+:\d+: ", line)]
    return _gate("ruff", lines or [result.output.strip()[-2000:] or f"ruff exited {result.returncode}"])


def test_argv(command: str) -> list[str]:
    """Return the argv of a workspace test command; ``{python}`` stands for DreamNet's own interpreter."""
    return [sys.executable if part == "{python}" else part for part in shlex.split(command)]


def check_tests(command: str, root: Path, *, timeout_s: int, memory_mb: int) -> dict[str, Any]:
    result = sandbox.run(test_argv(command), cwd=root, timeout_s=timeout_s, memory_mb=memory_mb)
    findings = []
    if result.timed_out:
        findings.append(f"the tests ran past {timeout_s} s and were killed")
    elif result.returncode != 0:
        findings.append(f"`{command}` exited {result.returncode}")
    return _gate(
        "tests", findings, output=result.output[-6000:], seconds=result.seconds,
        network=sandbox.network_isolation(),
    )  # fmt: skip


def skipped(name: str, after: str) -> dict[str, Any]:
    return {"gate": name, "passed": None, "findings": [f"not run: the {after} gate failed"]}
