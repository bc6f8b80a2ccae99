"""One source of truth: the standards document and the check modules agree exactly."""

import ast
import importlib.util
from pathlib import Path

from snitch.standards import registry
from snitch.standards.document import StandardsError, document_path, load, parse

STANDARDS = load()


def check_functions(number):
    tree = ast.parse(Path(importlib.util.find_spec(registry.module_name(number)).origin).read_text())
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")], tree


def test_every_check_is_documented_and_every_documented_check_exists():
    numbered = [number for number in STANDARDS.standards if isinstance(number, int)]
    assert numbered == list(range(1, len(numbered) + 1))
    standards_folder = Path(importlib.util.find_spec("snitch.standards").origin).parent
    modules = sorted(int(path.stem.removeprefix("standard_")) for path in standards_folder.glob("standard_*.py"))
    assert modules == numbered, "a standard's module has no section in the standards document, or a section no module"
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


def test_a_numbered_section_without_its_module_is_a_standards_error(monkeypatch):
    """Standard N's module is snitch.standards.standard_N, imported by that name: a section with
    no module is a StandardsError naming the module snitch looked for, when the standards load."""
    import pytest

    monkeypatch.setattr(registry, "BUILT_IN_MODULE", "snitch.standards.standard_{number}_missing")
    with pytest.raises(StandardsError, match=r"the standards document has standard\(s\) that snitch has no module for "
                                             r"\(snitch\.standards\.standard_1_missing, .*standard_11_missing\)"):
        load()  # before any check runs


def test_the_docs_table_names_every_standard_by_its_document_title():
    """docs/standards.md summarises what each standard checks in a table; its numbers and titles are
    the document's, so a new or renamed standard cannot be left out of it."""
    page = (Path(__file__).resolve().parents[1] / "docs" / "standards.md").read_text()
    table = page.split("| # | standard | what is checked |\n|---|---|---|\n", 1)[1].split("\n\n", 1)[0]
    rows = [line.split("|")[1:3] for line in table.splitlines()]
    numbered = {number: standard.title for number, standard in STANDARDS.standards.items() if isinstance(number, int)}
    assert {int(number): title.strip() for number, title in rows} == numbered
