"""Standard 5 — Pinned dependencies."""

from fixtures.checker import assert_only_failure, edit, passed_on_compliant, run_checks

REQUIREMENTS = "requirements.txt"


def append(project, text):
    path = project / REQUIREMENTS
    path.write_text(path.read_text() + text)


def test_requirements_are_valid(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_requirements_are_valid")
    append(compliant, "-r base.txt\npandas=>2.0\n")
    run = run_checks(compliant, 5)
    result = run.check("test_requirements_are_valid")
    assert run.code == 1 and result["outcome"] == "failed"
    assert "`-r base.txt` hides requirements in another file" in result["message"]
    assert "`pandas=>2.0` is not a valid requirement" in result["message"]


def test_pip_syntax_that_stays_pinned(compliant):
    """Comments, continuations, hashes, markers and index options are fine."""
    append(
        compliant,
        "--index-url https://pypi.org/simple\n"
        "requests==2.32.3 \\\n    --hash=sha256:70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6  # http\n"
        "tomli==2.0.1 ; python_version < '3.11'\n"
        "mylib @ git+https://gitlab.com/ml/mylib.git@3f2a1c9e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39\n",
    )
    assert run_checks(compliant, 5).code == 0


def test_requirements_are_pinned_exactly(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_requirements_are_pinned_exactly")
    append(compliant, "pandas>=2.0\nrich\npydantic==2.*\nmylib @ git+https://gitlab.com/ml/mylib.git@main\n")
    run = run_checks(compliant, 5)
    result = assert_only_failure(run, 5, "test_requirements_are_pinned_exactly", REQUIREMENTS,
                                 "4 requirement(s) are not pinned with ==")
    for line in ("pandas>=2.0", "rich", "pydantic==2.*", "mylib @ git+https://gitlab.com/ml/mylib.git@main"):
        assert line in result["message"]


def test_kserve_and_ddtrace_are_pinned(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_kserve_and_ddtrace_are_pinned")
    edit(compliant / REQUIREMENTS, "ddtrace==", "# ddtrace==")
    run = run_checks(compliant, 5)
    assert_only_failure(run, 5, "test_kserve_and_ddtrace_are_pinned", REQUIREMENTS, "ddtrace not pinned with ==")


def test_kserve_version_matches_serving_api(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_kserve_version_matches_serving_api")
    edit(compliant / REQUIREMENTS, "kserve==0.21.0", "kserve==0.7.0")
    run = run_checks(compliant, 5)
    assert_only_failure(run, 5, "test_kserve_version_matches_serving_api", REQUIREMENTS,
                        "serve.py uses kserve.Model, which kserve==0.7.0 does not have")


def test_kfmodel_with_new_kserve(compliant):
    edit(compliant / "serve.py", "class Classifier(kserve.Model):", "class Classifier(kserve.KFModel):")
    run = run_checks(compliant, 5)
    assert_only_failure(run, 5, "test_kserve_version_matches_serving_api", REQUIREMENTS,
                        "serve.py uses kserve.KFModel, which kserve==0.21.0 no longer has")


def test_conflicting_pins_fail(compliant):
    """pip refuses two different pins of one package; snitch must not pick one of them silently."""
    append(compliant, "kserve==0.7.0\n")
    run = run_checks(compliant, 5)
    assert run.code == 1
    pinned = run.check("test_requirements_are_pinned_exactly")["message"]
    assert "kserve is pinned to 2 different versions" in pinned
    assert "kserve==0.21.0" in pinned and "kserve==0.7.0" in pinned
    version = run.check("test_kserve_version_matches_serving_api")["message"]
    assert "the serving library has no single == pin" in version
