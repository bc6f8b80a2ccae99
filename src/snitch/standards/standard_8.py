"""Standard 8 — Tests: tests/ holds a test module per part of the model with real tests, and CI
enforces a coverage floor."""

import ast
import math

from snitch.facts import gitlab_ci
from snitch.violation import Violation, requires

TEST_MODULES = ("test_model.py", "test_train.py", "test_evaluate.py", "test_serve.py")
REQUIRED = ("conftest.py", *TEST_MODULES)


def is_real_test(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    body = list(function.body)
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # docstring
    trivial = all(
        isinstance(node, ast.Pass) or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
        for node in body
    )
    return bool(body) and not trivial


def defined_tests(tree: ast.Module):
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            yield node
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and item.name.startswith("test"):
                    yield item


def test_test_files_exist(project):
    missing = [f"tests/{name}" for name in REQUIRED if not project.exists(f"tests/{name}")]
    if missing:
        raise Violation("tests/", f"missing: {', '.join(missing)}")


@requires("test_test_files_exist")
def test_test_files_hold_real_tests(project):
    empty = []
    for name in TEST_MODULES:
        relative = f"tests/{name}"
        if not project.exists(relative):
            empty.append(f"{relative} (missing)")
        elif not any(is_real_test(function) for function in defined_tests(project.python(relative))):
            empty.append(relative)
    if empty:
        raise Violation("tests/", f"no real test in: {', '.join(empty)}")


def test_ci_sets_coverage_floor(project, parameters):
    gitlab_ci.require_shared_include(project, parameters)
    minimum = parameters["coverage_floor"]
    found = gitlab_ci.setting(gitlab_ci.document(project), "coverage_floor", "COVERAGE_FLOOR")
    if found is None:
        raise Violation(".gitlab-ci.yml", "sets no coverage floor (no `coverage_floor` input, no COVERAGE_FLOOR variable)")
    line = gitlab_ci.key_line(project.text(".gitlab-ci.yml"), "coverage_floor", "COVERAGE_FLOOR")
    text = str(found.value).strip().rstrip("%")
    try:
        floor = float(text) if text.isascii() else math.nan  # float() also reads other scripts' digits
    except ValueError:
        floor = math.nan
    if isinstance(found.value, bool) or not math.isfinite(floor):  # NaN compares false with everything
        raise Violation(".gitlab-ci.yml", f"the {found.where} is {found.value!r}, not a number", line=line)
    if floor < minimum:
        raise Violation(".gitlab-ci.yml", f"the {found.where} is {floor:g}%, below the minimum of {minimum}%", line=line)
