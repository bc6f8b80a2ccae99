"""Standard 8 — Tests."""

from fixtures.checker import assert_only_failure, edit, passed_on_compliant, run_checks


def test_test_files_exist(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_test_files_exist")
    (compliant / "tests" / "conftest.py").unlink()
    run = run_checks(compliant, 8)
    assert_only_failure(run, 8, "test_test_files_exist", "tests/", "missing: tests/conftest.py")


def test_test_files_hold_real_tests(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_test_files_hold_real_tests")
    (compliant / "tests" / "test_train.py").write_text(
        'def test_train():\n    """Later."""\n    pass\n\n\ndef helper():\n    return 1\n'
    )
    (compliant / "tests" / "test_evaluate.py").write_text("class TestEvaluate:\n    def test_metric(self):\n        ...\n")
    run = run_checks(compliant, 8)
    assert_only_failure(run, 8, "test_test_files_hold_real_tests", "tests/",
                        "no real test in: tests/test_train.py, tests/test_evaluate.py")


def test_test_class_methods_count(compliant):
    (compliant / "tests" / "test_train.py").write_text(
        "class TestTrain:\n    async def test_it(self):\n        assert 1 + 1 == 2\n"
    )
    assert run_checks(compliant, 8).code == 0


def test_ci_sets_coverage_floor(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_ci_sets_coverage_floor")
    edit(compliant / ".gitlab-ci.yml", "coverage_floor: 80", "coverage_floor: 60")
    run = run_checks(compliant, 8)
    assert_only_failure(run, 8, "test_ci_sets_coverage_floor", ".gitlab-ci.yml",
                        "the include input `coverage_floor` is 60%, below the minimum of 80%")
    edit(compliant / ".gitlab-ci.yml", "coverage_floor: 60", "coverage_floor: lots")
    assert "is 'lots', not a number" in run_checks(compliant, 8).check("test_ci_sets_coverage_floor")["message"]


def test_an_unreadable_tests_folder_is_a_failure_not_a_crash(compliant, monkeypatch):
    """chmod 000 tests/ (root reads it anyway, so the permission error is simulated)."""
    import os

    real_lstat = os.lstat

    def lstat(path, *args, **kwargs):
        if f"{os.sep}tests{os.sep}" in os.fspath(path):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_lstat(path, *args, **kwargs)

    monkeypatch.setattr(os, "lstat", lstat)
    run = run_checks(compliant, 8)
    assert run.code == 1 and "error" not in {check["outcome"] for check in run.report["checks"]}, run.stdout
    assert "permission denied" in run.check("test_test_files_hold_real_tests")["message"]
