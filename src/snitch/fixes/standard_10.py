"""Fixes for standard 10 — APM tracing: turn on tracing for the framework the pinned KServe serves
with, first thing when serve.py runs (after its docstring and its leading imports), so it is on
before the server starts. The framework is the one the standard's own check expects
(`ddtrace.patch(fastapi=True)` since kserve 0.10, tornado before)."""

from __future__ import annotations

import ast

from snitch.fixes import CannotFix
from snitch.standards.standard_10 import SERVE, expected_framework
from snitch.violation import Violation

FILE = SERVE


def patch_before_server(text: str, project, parameters) -> str:
    try:
        framework, reason = expected_framework(project)
    except Violation as unknown:
        raise CannotFix(f"{unknown.file}: {unknown.found}; fix standard 5 first") from None
    comment = f"# Model Standard 10: {reason}; trace it before the server starts."
    patch = f"ddtrace.patch({framework}=True)"
    if f"{comment}\n" in text:
        return text  # added for another check of this standard in the same run
    try:
        tree = ast.parse(text)
    except SyntaxError as error:
        raise CannotFix(f"{SERVE} has a syntax error at line {error.lineno}") from None
    lines = text.split("\n")
    after, imported = _after_leading_imports(tree, lines)
    block = [comment, patch] if imported else [comment, "import ddtrace", "", patch]
    before = [""] if after and lines[after - 1].strip() else []  # one blank line on each side
    following = [""] if after < len(lines) and lines[after].strip() else []
    lines[after:after] = [*before, *block, *following]
    return "\n".join(lines)


def _after_leading_imports(tree: ast.Module, lines: list[str]) -> tuple[int, bool]:
    """The line index after the module's docstring, `from __future__` and leading imports (after
    the shebang and encoding comments when there are none), and whether those import ddtrace."""
    end, imported = 0, False
    for index, node in enumerate(tree.body):
        docstring = index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        if not (docstring or isinstance(node, (ast.Import, ast.ImportFrom))):
            break
        end = node.end_lineno
        imported |= isinstance(node, ast.Import) and any(alias.name == "ddtrace" and not alias.asname for alias in node.names)
    if end == 0:
        while end < len(lines) and lines[end].startswith("#"):
            end += 1
    return end, imported


FIXES = dict.fromkeys(
    ("test_serve_py_enables_ddtrace", "test_ddtrace_patches_framework_of_pinned_kserve", "test_tracing_starts_before_server"),
    patch_before_server,
)
