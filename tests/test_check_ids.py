"""Ids everywhere: `snitch list` names every check by the id a failure prints, `snitch explain`
takes that id, and a waiver that waives nothing is reported so that it gets removed."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta

import pytest

from fixtures.checker import STANDARDS, edit, run_json, run_snitch
from snitch import testing
from snitch.engine import waivers
from snitch.engine.results import FAILED, PASSED, SKIPPED, WAIVED, CheckResult

FUTURE = date.today() + timedelta(days=60)


def snitch(*args):
    return subprocess.run([sys.executable, "-m", "snitch", *args], capture_output=True, text=True, timeout=120,
                          env=os.environ.copy())


def test_list_names_every_check_by_its_id_and_title():
    result = snitch("list")
    assert result.returncode == 0, result.stderr
    assert "4.test_model_subclass_implements_predict  — model subclass implements predict\n" in result.stdout
    for number, standard in STANDARDS.standards.items():
        for name, doc in standard.checks.items():
            assert f"       {number}.{name}  — {doc.title}\n" in result.stdout


def test_explain_takes_the_id_a_failure_prints(compliant):
    edit(compliant / "serve.py", "def predict(self", "def guess(self")
    failure = run_snitch(compliant)
    assert "FAILED 4.test_model_subclass_implements_predict\n" in failure.stdout
    result = snitch("explain", "4.test_model_subclass_implements_predict")
    assert result.returncode == 0, result.stderr
    flat = " ".join(result.stdout.split())
    doc = STANDARDS.check_doc(4, "test_model_subclass_implements_predict")
    assert result.stdout.startswith(f"Standard 4: {STANDARDS[4].title}\n")
    assert doc.expected in flat and doc.fix in flat and STANDARDS.url(4) in flat
    assert "test_model_subclass_implements_load" not in result.stdout  # that one check, not the standard
    assert " ".join(STANDARDS[4].rationale.split()) not in flat


def test_explain_takes_a_check_name_alone():
    by_name = snitch("explain", "test_load_marks_model_ready")
    assert by_name.returncode == 0 and by_name.stdout == snitch("explain", "4.test_load_marks_model_ready").stdout


def test_explain_refuses_an_unknown_id_naming_what_exists():
    for wanted, words in (("4.test_nothing", "standard 4 has no check test_nothing; its checks are test_serve_py"),
                          ("99", "no standard 99; the standards are 1, 2"), ("acme-1", "no standard acme-1")):
        result = snitch("explain", wanted)
        assert result.returncode == 2 and words in result.stderr and "Traceback" not in result.stderr, result.stderr


def _result(standard, check, outcome):
    return CheckResult(standard, check, outcome, "", "")


def test_a_waiver_is_stale_only_when_everything_it_covers_ran_and_passed():
    whole, one = (waivers.Waiver(key, 3, check, "why", FUTURE) for key, check in (("3", None), ("3.test_b", "test_b")))
    declared = waivers.Waivers([whole, one], [])
    passing = [_result(3, "test_a", PASSED), _result(3, "test_b", PASSED)]
    assert declared.stale(passing) == [whole, one]
    assert declared.stale([_result(3, "test_a", PASSED), _result(3, "test_b", WAIVED)]) == []
    # A skipped check might fail when it can run (online, with an image): its waiver stays.
    assert declared.stale([_result(3, "test_a", PASSED), _result(3, "test_b", SKIPPED)]) == []
    # Waiving test_a's failure leaves the waiver of test_b stale.
    assert declared.stale([_result(3, "test_a", FAILED), _result(3, "test_b", PASSED)]) == [one]
    assert declared.stale([_result(4, "test_a", PASSED)]) == []  # standard 3 not run (-s 4)


def test_a_waiver_of_a_passing_standard_is_reported_in_text_and_json(compliant):
    with (compliant / "pyproject.toml").open("a") as handle:
        handle.write(f'\n[tool.snitch.waivers."3"]\nreason = "docs move (ML-42)"\nexpires = {FUTURE.isoformat()}\n')
    run = run_json(compliant)
    assert run.code == 0, run.stdout + run.stderr
    assert run.report["stale_waivers"] == [{"key": "3", "reason": "docs move (ML-42)", "expires": FUTURE.isoformat()}]
    text = run_snitch(compliant)
    assert text.code == 0
    assert ("warning: waiver 3 waives nothing: standard 3 passed; remove it from [tool.snitch.waivers] "
            "in pyproject.toml") in text.stdout
    deselected = run_json(compliant, "-s", "4")
    assert deselected.report["stale_waivers"] == []


def test_the_testing_api_refuses_a_standard_that_is_not_there(compliant):
    for call in (lambda: testing.run(compliant, "iris-classifier", standards=["acme-9"]),
                 lambda: testing.run_check(compliant, "acme-9.test_x", "iris-classifier")):
        with pytest.raises(LookupError, match="no standard acme-9"):
            call()
