"""One cause, one failure (snitch.engine.results), and the in-process API (snitch.testing) that shares it
with the command."""

import pytest

from fixtures.checker import MODEL, STANDARDS, edit, run_json
from snitch import testing
from snitch.engine.results import FAILED, PASSED, SKIPPED, CheckResult, Ledger
from snitch.standards import registry
from snitch.violation import FileProblem, Violation, requires


def unreadable(file: str) -> FileProblem:
    return FileProblem(file, "is a binary file", "a UTF-8 text file", f"replace {file} with its text")


def test_failure_message_comes_from_the_standards_document():
    ledger = Ledger(STANDARDS)
    result = ledger.violated(4, "test_model_subclass_implements_predict", Violation("serve.py", "class X has no predict()", "line 3"))
    doc = STANDARDS.check_doc(4, "test_model_subclass_implements_predict")
    assert result.outcome == FAILED and (result.file, result.line) == ("serve.py", None)
    assert result.message.splitlines() == [
        "serve.py: class X has no predict()",
        "  standard:   4. Serving class",
        f"  expected:   {doc.expected}",
        f"  how to fix: {doc.fix}",
        "              line 3",
        f"  see:        {STANDARDS.url(4)}",
    ]


def test_an_unusable_file_fails_once_and_later_checks_skip_naming_it():
    ledger = Ledger(STANDARDS)
    first = ledger.violated(4, "test_serve_py_defines_model_subclass", unreadable("serve.py"))
    later = ledger.violated(10, "test_serve_py_enables_ddtrace", unreadable("serve.py"))
    other = ledger.violated(7, "test_openapi_is_valid_openapi3", unreadable("openapi.yaml"))
    assert (first.outcome, later.outcome, other.outcome) == (FAILED, SKIPPED, FAILED)
    assert later.message == (
        "serve.py cannot be used, reported by 4.test_serve_py_defines_model_subclass (serve.py: is a binary file)"
    )


def test_a_plain_violation_does_not_make_its_file_unusable():
    ledger = Ledger(STANDARDS)
    ledger.violated(3, "test_readme_links_every_resource", Violation("README.md", "no link to: logs"))
    assert ledger.violated(3, "test_readme_has_no_placeholders", unreadable("README.md")).outcome == FAILED


def test_a_failure_accounts_for_the_files_it_names():
    ledger = Ledger(STANDARDS)
    ledger.violated(2, "test_required_files_exist", Violation(".", "missing: serve.py", accounts_for=["serve.py"]))
    missing = FileProblem("serve.py", "does not exist", "the project has serve.py", "create serve.py")
    skipped = ledger.violated(4, "test_serve_py_defines_model_subclass", missing)
    assert skipped.outcome == SKIPPED and "reported by 2.test_required_files_exist" in skipped.message


def test_requires_skips_on_a_failed_or_skipped_prerequisite_and_passes_on_the_root_cause():
    declares, timestamp = "test_gitlab_ci_declares_weights_uri", "test_weights_timestamp_is_utc_iso8601"

    @requires(declares)
    def needs_declaration():
        pass

    @requires(f"1.{timestamp}")
    def needs_timestamp():
        pass

    ledger = Ledger(STANDARDS)
    assert ledger.blocked(1, timestamp, needs_declaration) is None  # the prerequisite has not run: run the check
    ledger.violated(1, declares, Violation(".gitlab-ci.yml", "no weights URI"))
    reason, cause, prerequisite = ledger.blocked(1, timestamp, needs_declaration)
    assert prerequisite == f"1.{declares}"
    assert reason == f"requires 1.{declares}, which failed (.gitlab-ci.yml: no weights URI)"
    ledger.record(CheckResult(1, timestamp, SKIPPED, reason, ""), cause)
    reason, _, _ = ledger.blocked(8, "test_ci_sets_coverage_floor", needs_timestamp)
    assert reason == f"requires 1.{timestamp}, which did not pass because 1.{declares} failed (.gitlab-ci.yml: no weights URI)"


def test_requires_does_not_block_when_the_prerequisite_passed():
    ledger = Ledger(STANDARDS)
    ledger.record(CheckResult(1, "test_a", PASSED, "", ""))
    assert ledger.blocked(1, "test_b", requires("test_a")(lambda: None)) is None


def test_every_requirement_names_an_earlier_check():
    """The command runs standards in numeric order, so a prerequisite must come earlier."""
    earlier = set()
    for number in [number for number in STANDARDS.standards if isinstance(number, int)]:
        for function in registry.checks(number):
            for required in getattr(function, "snitch_requires", ()):
                required = required if "." in required else f"{number}.{required}"
                assert required in earlier, f"{number}.{function.__name__} requires {required}, which does not run before it"
            earlier.add(f"{number}.{function.__name__}")


def test_testing_api_agrees_with_the_command(compliant):
    edit(compliant / "serve.py", "class Classifier(kserve.Model):", "class Classifier(object):")
    (compliant / "openapi.yaml").write_bytes(b"\0binary")
    command = run_json(compliant)
    in_process = testing.run(compliant, MODEL)
    assert command.code == in_process.code == 1
    assert [(c["check"], c["outcome"], c["message"]) for c in command.report["checks"]] == [
        (r.check, r.outcome, r.message) for r in in_process.results
    ]


def test_run_check_runs_its_prerequisites_first(compliant):
    (compliant / ".gitlab-ci.yml").unlink()
    result = testing.run_check(compliant, "1.test_weights_timestamp_is_not_in_future", MODEL)
    assert result.outcome == SKIPPED
    assert result.message.endswith("because 1.test_gitlab_ci_declares_weights_uri failed (.gitlab-ci.yml: does not exist)")
    assert testing.run_check(compliant, "4.test_load_marks_model_ready", MODEL).outcome == PASSED


def test_run_check_names_an_unknown_check(compliant):
    with pytest.raises(LookupError, match="standard 4 has no check test_nope"):
        testing.run_check(compliant, "4.test_nope", MODEL)


def test_a_crash_inside_a_check_is_raised_in_process(compliant, monkeypatch):
    from snitch.facts import serve_summary

    monkeypatch.setattr(serve_summary, "facts", lambda project: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        testing.run(compliant, MODEL, standards=[4])
