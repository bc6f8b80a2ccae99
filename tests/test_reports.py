"""CI-native reports: GitLab Code Quality, SARIF 2.1.0 (checked by Microsoft's validator), JUnit
(read by junitparser), and the CI files that publish them (checked with GitLab's own schema)."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from fixtures.checker import STANDARDS, edit, run_snitch

REPO = Path(__file__).resolve().parents[1]
FUTURE = (date.today() + timedelta(days=30)).isoformat()
SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


@pytest.fixture
def broken(compliant):
    """Three located failures (README line 2, Dockerfile model label) and one waived one."""
    edit(compliant / "README.md", "\n", "\nTODO: owner\n")
    edit(compliant / "Dockerfile", 'model="iris-classifier"', 'model="other"')
    edit(compliant / "serve.py", "def predict(self", "def guess(self")
    with (compliant / "pyproject.toml").open("a") as handle:
        handle.write(f'\n[tool.snitch.waivers."4.test_model_subclass_implements_predict"]\n'
                     f'reason = "rewriting serving (ML-7)"\nexpires = {FUTURE}\n')
    return compliant


def report(project, output_format: str):
    run = run_snitch(project, "--format", output_format)
    assert run.code == 1, run.stdout + run.stderr
    return json.loads(run.stdout)


def test_codequality_issues_have_gitlab_fields_and_lines(broken):
    issues = report(broken, "codequality")
    by_check = {issue["check_name"]: issue for issue in issues}
    assert set(by_check) == {
        "snitch/3.test_readme_has_no_placeholders",
        "snitch/6.test_model_label_is_model_name",
        "snitch/4.test_model_subclass_implements_predict",
    }
    for issue in issues:
        assert {"description", "check_name", "fingerprint", "severity", "location"} <= set(issue)
        assert issue["severity"] in SEVERITIES
        assert isinstance(issue["location"]["path"], str) and issue["location"]["lines"]["begin"] >= 1
    assert by_check["snitch/3.test_readme_has_no_placeholders"]["location"] == {"path": "README.md", "lines": {"begin": 2}}
    model_label = by_check["snitch/6.test_model_label_is_model_name"]
    assert model_label["location"]["path"] == "Dockerfile"
    # The line of the LABEL instruction that sets it.
    assert (broken / "Dockerfile").read_text().splitlines()[model_label["location"]["lines"]["begin"] - 1].startswith("LABEL ")
    waived = by_check["snitch/4.test_model_subclass_implements_predict"]
    assert waived["severity"] == "info"
    assert waived["description"].startswith(f"[waived until {FUTURE}: rewriting serving (ML-7)]")


def test_codequality_fingerprints_are_unique_and_stable(broken):
    first = report(broken, "codequality")
    fingerprints = [issue["fingerprint"] for issue in first]
    assert len(set(fingerprints)) == len(fingerprints)
    # Another run, with the findings moved to other lines, gives the same fingerprints.
    edit(broken / "README.md", "\n", "\n\n\n")
    second = report(broken, "codequality")
    assert [issue["fingerprint"] for issue in second] == fingerprints
    assert [issue["location"] for issue in second] != [issue["location"] for issue in first]


def test_codequality_of_a_compliant_project_is_empty(compliant, tmp_path):
    target = tmp_path / "out" / "gl-code-quality-report.json"
    run = run_snitch(compliant, "--codequality", str(target))
    assert run.code == 0, run.stdout
    assert json.loads(target.read_text()) == []


def test_mandatory_standards_are_critical(broken, tmp_path):
    config = tmp_path / "org.yaml"
    config.write_text("mandatory: [6]\n")
    run = run_snitch(broken, "--format", "codequality", "--config", str(config))
    severities = {issue["check_name"]: issue["severity"] for issue in json.loads(run.stdout)}
    assert severities["snitch/6.test_model_label_is_model_name"] == "critical"
    assert severities["snitch/3.test_readme_has_no_placeholders"] == "major"


def test_sarif_rules_come_from_the_standards_document(broken):
    log = report(broken, "sarif")
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    for number, standard in STANDARDS.standards.items():
        for name in standard.checks:
            rule = rules[f"SNITCH{number}/{name}"]
            doc = STANDARDS.check_doc(number, name)
            assert rule["fullDescription"]["text"] == doc.expected and rule["help"]["text"] == doc.fix
            assert rule["helpUri"] == STANDARDS.url(number)
    results = {result["ruleId"]: result for result in run["results"]}
    readme = results["SNITCH3/test_readme_has_no_placeholders"]
    assert readme["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "README.md", "uriBaseId": "PROJECTROOT"},
        "region": {"startLine": 2},
    }
    assert run["tool"]["driver"]["rules"][readme["ruleIndex"]]["id"] == readme["ruleId"]
    waived = results["SNITCH4/test_model_subclass_implements_predict"]
    assert waived["suppressions"] == [
        {"kind": "external", "status": "accepted", "justification": f"waived until {FUTURE}: rewriting serving (ML-7)"}
    ]
    assert "suppressions" not in readme


def sarif_errors(path: Path, tmp_path: Path) -> list[dict]:
    out = tmp_path / f"{path.stem}.validation.sarif"
    done = subprocess.run(["sarif-multitool", "validate", str(path), "-o", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert out.is_file(), done.stdout + done.stderr
    results = json.loads(out.read_text())["runs"][0].get("results", [])
    return [result for result in results if result.get("level") == "error"]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("sarif-multitool") is None, reason="sarif-multitool missing (scripts/setup installs it with npm)")
@pytest.mark.parametrize("project", ["broken", "hostile"])  # hostile: a `#` in its path, control characters
def test_microsofts_validator_accepts_the_sarif_log(project, request, tmp_path):
    log = tmp_path / "snitch.sarif"
    log.write_text(json.dumps(report(request.getfixturevalue(project), "sarif")))
    assert sarif_errors(log, tmp_path) == []
    # The validator does find errors when there are some: the check above is not vacuous.
    damaged = json.loads(log.read_text())
    del damaged["runs"][0]["tool"]["driver"]["name"]
    bad = tmp_path / "damaged.sarif"
    bad.write_text(json.dumps(damaged))
    assert sarif_errors(bad, tmp_path)


def test_junit_is_read_by_a_junit_consumer(broken, tmp_path):
    junitparser = pytest.importorskip("junitparser")
    target = tmp_path / "snitch.xml"
    assert run_snitch(broken, "--junitxml", str(target)).code == 1
    suites = junitparser.JUnitXml.fromfile(str(target))
    cases = {case.name: case for suite in suites for case in suite}
    assert len(cases) == sum(len(s.checks) for s in STANDARDS.standards.values())
    failed = {name for name, case in cases.items() if any(isinstance(r, junitparser.Failure) for r in case.result)}
    assert failed == {"test_readme_has_no_placeholders", "test_model_label_is_model_name"}
    waived = cases["test_model_subclass_implements_predict"].result
    assert len(waived) == 1 and isinstance(waived[0], junitparser.Skipped)
    assert waived[0].type == "waived" and "rewriting serving (ML-7)" in waived[0].message
    suite = next(iter(suites))
    assert (suite.failures, suite.errors) == (2, 0)


def gitlab_schema_problems(path: Path, tmp_path: Path) -> list[str]:
    """check-jsonschema with GitLab's CI schema, on each YAML document of the file separately."""
    problems = []
    for index, document in enumerate(yaml.safe_load_all(path.read_text())):
        part = tmp_path / f"{path.stem}-{index}.json"
        part.write_text(json.dumps(document))
        done = subprocess.run(["check-jsonschema", "--builtin-schema", "vendor.gitlab-ci", str(part)],
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            problems.append(done.stdout + done.stderr)
    return problems


@pytest.mark.skipif(shutil.which("check-jsonschema") is None, reason="check-jsonschema missing (pip install '.[test]')")
@pytest.mark.parametrize("name", ["model-promotion-pipeline.yml", "fleet.yml"])
def test_ci_files_follow_gitlabs_schema(name, tmp_path):
    path = REPO / "ci" / name
    assert len(list(yaml.safe_load_all(path.read_text()))) == 2  # the spec: header and the jobs
    assert gitlab_schema_problems(path, tmp_path) == []
    broken = tmp_path / name
    broken.write_text(path.read_text().replace("artifacts:", "artefacts:", 1))
    assert gitlab_schema_problems(broken, tmp_path)  # the schema does reject a wrong keyword


def test_snitch_job_publishes_code_quality_and_junit():
    documents = list(yaml.safe_load_all((REPO / "ci" / "model-promotion-pipeline.yml").read_text()))
    spec, jobs = documents
    assert jobs["variables"]["SNITCH_CONFIG"] == "$[[ inputs.snitch_config ]]"
    assert spec["spec"]["inputs"]["snitch_config"]["default"] == ""
    job = jobs["snitch"]
    reports = job["artifacts"]["reports"]
    assert reports["junit"] == "snitch.xml"
    assert f"--codequality {reports['codequality']}" in job["script"][0]
    assert "--junitxml snitch.xml" in job["script"][0]


def test_gitlab_ci_findings_point_at_the_line_that_sets_the_value(compliant):
    edit(compliant / ".gitlab-ci.yml", "coverage_floor: 80", "coverage_floor: 60")
    edit(compliant / ".gitlab-ci.yml", "s3://ml-platform-bucket/", "s3://elsewhere/")
    edit(compliant / ".gitlab-ci.yml", "ref: v1.0.0", "ref: main")
    lines = (compliant / ".gitlab-ci.yml").read_text().splitlines()
    located = {issue["check_name"]: issue["location"] for issue in report(compliant, "codequality")}
    for check, text in {
        "snitch/8.test_ci_sets_coverage_floor": "coverage_floor: 60",
        "snitch/1.test_weights_uri_uses_bucket_and_project": "s3://elsewhere/",
        "snitch/9.test_shared_pipeline_ref_is_pinned_tag": "ref: main",
    }.items():
        assert located[check]["path"] == ".gitlab-ci.yml"
        assert text in lines[located[check]["lines"]["begin"] - 1], check


# Every format stays well-formed for any input: what a project holds is quoted, never markup.


@pytest.fixture
def hostile(rendered_project, tmp_path):
    """A project in a folder whose path holds `#`, `%`, `?` and a space, with a control character
    and XML markup in requirements.txt (line 6) and a file tracked under weights/."""
    from fixtures.template import git, git_commit_all

    project = tmp_path / "team #1 50% ?" / "iris-classifier"
    shutil.copytree(rendered_project, project)
    lines = (project / "requirements.txt").read_text().splitlines()
    lines.insert(5, "\x01<x>]]>&amp;\x1b[31m")
    (project / "requirements.txt").write_text("\n".join(lines) + "\n")
    git_commit_all(project)
    (project / "weights").mkdir(exist_ok=True)
    (project / "weights" / "model.joblib").write_bytes(b"\0weights")
    git("add", "-f", "weights/model.joblib", cwd=project)
    git("commit", "-q", "-m", "weights", cwd=project)
    return project


def test_junit_stays_well_formed_xml_with_control_characters(hostile, tmp_path):
    from xml.etree import ElementTree

    target = tmp_path / "snitch.xml"
    assert run_snitch(hostile, "--junitxml", str(target)).code == 1
    root = ElementTree.parse(target).getroot()  # raises on a control character
    (failure,) = [case.find("failure") for case in root.iter("testcase") if case.get("name") == "test_requirements_are_valid"]
    assert "\\x01<x>]]>&amp;\\x1b[31m" in failure.text  # shown, escaped, not dropped


def test_every_location_is_a_real_path_with_its_line(hostile):
    issues = {issue["check_name"]: issue["location"] for issue in report(hostile, "codequality")}
    tracked = issues["snitch/2.test_nothing_tracked_under_datasets_or_weights"]
    assert tracked["path"] == "weights/model.joblib"
    assert issues["snitch/5.test_requirements_are_valid"] == {"path": "requirements.txt", "lines": {"begin": 6}}
    for location in issues.values():
        assert location["path"] == "." or (hostile / location["path"]).exists() or location["path"].startswith("weights/")


def test_sarif_uris_are_escaped(hostile):
    from urllib.parse import unquote, urlsplit

    run = report(hostile, "sarif")["runs"][0]
    base = run["originalUriBaseIds"]["PROJECTROOT"]["uri"]
    parts = urlsplit(base)
    assert (parts.scheme, parts.query, parts.fragment) == ("file", "", "") and unquote(parts.path) == f"{hostile}/"
    for result in run["results"]:
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert urlsplit(uri).fragment == "" and ", " not in uri, uri
