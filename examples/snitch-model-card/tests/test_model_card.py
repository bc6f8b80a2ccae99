"""Standard acme-1 on small projects, in-process through snitch.testing: each check passes on a
good model card and fails alone, with its document's Expected and Fix, on one that breaks it."""

from __future__ import annotations

import pytest

from snitch.standards.document import load
from snitch.testing import run

CARD = """# Model card: iris-classifier

## Intended use
Classifies iris flowers for the botany team's field app; not for medical or safety decisions.

## Data
The UCI iris dataset (150 samples), from s3://ml-platform-bucket/iris-classifier/datasets/.

## Evaluation
Accuracy 0.97 on a held-out 20% split (evaluate.py).
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "MODEL_CARD.md").write_text(CARD)
    return tmp_path


def check(project, **options):
    return run(project, "iris-classifier", standards=["acme-1"], **options)


def test_a_complete_model_card_passes(project):
    report = check(project)
    assert [(result.id, result.outcome) for result in report.results] == [
        ("acme-1.test_model_card_exists", "passed"),
        ("acme-1.test_model_card_names_intended_use_data_and_evaluation", "passed"),
    ]


def test_a_missing_model_card_fails_once(project):
    (project / "MODEL_CARD.md").unlink()
    report = check(project)
    assert report.failed() == {"test_model_card_exists"}
    result = report.check("test_model_card_exists")
    doc = load().check_doc("acme-1", "test_model_card_exists")
    assert result.message.startswith("MODEL_CARD.md: does not exist")
    assert "standard:   acme-1. Model card" in result.message
    assert doc.expected in result.message and doc.fix in result.message
    assert report.check("test_model_card_names_intended_use_data_and_evaluation").outcome == "skipped"


@pytest.mark.parametrize("old, new, words", [
    ("## Data\n", "## Datasets\n", "has no filled-in section for: Data"),
    ("Accuracy 0.97 on a held-out 20% split (evaluate.py).\n", "", "Evaluation (heading without text)"),
])
def test_a_card_without_a_section_names_it(project, old, new, words):
    card = project / "MODEL_CARD.md"
    card.write_text(card.read_text().replace(old, new))
    report = check(project)
    assert report.failed() == {"test_model_card_names_intended_use_data_and_evaluation"}
    assert words in report.check("test_model_card_names_intended_use_data_and_evaluation").message


def test_the_organisation_config_moves_the_card(project, tmp_path_factory):
    (project / "docs").mkdir()
    (project / "MODEL_CARD.md").rename(project / "docs" / "card.md")
    config = tmp_path_factory.mktemp("config") / "acme.yaml"
    config.write_text("standards:\n  acme-1:\n    model_card: docs/card.md\n")
    assert check(project, config=config).failed() == set()
    assert check(project).failed() == {"test_model_card_exists"}
