"""One source of truth: the standards document and the check modules agree exactly."""

import ast
import re

from snitch.runner import checks_dir
from snitch.standards import StandardsError, document_path, load, parse

STANDARDS = load()


def check_functions(number):
    tree = ast.parse((checks_dir() / f"test_standard_{number}.py").read_text())
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")], tree


def test_every_check_is_documented_and_every_documented_check_exists():
    modules = sorted(int(re.search(r"\d+", path.stem).group()) for path in checks_dir().glob("test_standard_*.py"))
    assert modules == sorted(STANDARDS.standards) == list(range(1, len(modules) + 1))
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
