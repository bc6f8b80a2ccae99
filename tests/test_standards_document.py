"""One source of truth: the standards document and the check modules agree exactly."""

import ast
import importlib.util
from pathlib import Path

from snitch import registry
from snitch.standards import StandardsError, document_path, load, parse

STANDARDS = load()


def check_functions(number):
    tree = ast.parse(Path(importlib.util.find_spec(registry.BUILT_IN[number]).origin).read_text())
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")], tree


def test_every_check_is_documented_and_every_documented_check_exists():
    assert list(registry.BUILT_IN) == list(STANDARDS.standards) == list(range(1, len(registry.BUILT_IN) + 1))
    checks_folder = Path(importlib.util.find_spec(registry.BUILT_IN[1]).origin).parent
    assert len(list(checks_folder.glob("test_standard_*.py"))) == len(registry.BUILT_IN), "a check module is not registered"
    for number, standard in STANDARDS.standards.items():
        functions, tree = check_functions(number)
        assert functions == list(standard.checks), f"standard {number}: code and document list different checks"
        assert ast.get_docstring(tree).startswith(f"Standard {number} — {standard.title}:")
        for name, doc in standard.checks.items():
            assert doc.expected and doc.fix, f"{name} lacks Expected or Fix"
        assert standard.rationale


def test_parameters_are_used_in_messages():
    filled = STANDARDS.check_doc(1, "test_weights_uri_uses_bucket_and_project").expected
    assert "s3://ml-platform-bucket/<model>/models/<timestamp>" in filled
    assert "${" not in STANDARDS.check_doc(6, "test_dockerfile_final_stage_sets_required_labels").expected


def test_anchors_match_headings():
    text = document_path().read_text()
    for number, standard in STANDARDS.standards.items():
        assert f"## {number}. {standard.title}\n" in text
    assert STANDARDS[10].anchor == "10-apm-tracing"


def test_broken_document_is_reported():
    import pytest

    with pytest.raises(StandardsError, match="no 'Standards version:' line"):
        parse("# Model Standards\n", document_path())
