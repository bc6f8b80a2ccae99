"""The front door: the text session, exit statuses, JSON and JUnit output, `list` and
`explain`, and organisation parameters."""

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pytest

from fixtures.checker import MODEL, STANDARDS, edit, run_json, run_snitch


def snitch(*args, cwd=None, env=None):
    import os

    return subprocess.run([sys.executable, "-m", "snitch", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd, env={**os.environ, **(env or {})})


def test_help():
    result = snitch("--help")
    assert result.returncode == 0
    for words in ("-n, --name", "-p, --path", "--format", "--junitxml", "--config", "--image", "list", "explain"):
        assert words in result.stdout


def test_text_session_on_compliant_project(compliant):
    run = run_snitch(compliant)
    assert run.code == 0, run.stdout
    lines = run.stdout.splitlines()
    assert lines[0] == (
        f"Running snitch on the {MODEL} model at {compliant}, "
        f"using Model Standards version {STANDARDS.version} from {STANDARDS.source}"
    )
    standards = sorted(STANDARDS.standards)
    rows = [line for line in lines if re.match(r"^ *\d+\. ", line)]
    # Numeric order (1, 2, ... 10, 11), one line each: the number, the title, a mark per check.
    assert [int(row.split(".")[0]) for row in rows] == standards
    for row, number in zip(rows, standards):
        title, marks = row.split(". ", 1)[1].rsplit(None, 1)
        assert title == STANDARDS[number].title
        assert len(marks) == len(STANDARDS[number].checks) and set(marks) <= {".", "s"}, row
    assert re.fullmatch(r"\d+ passed, \d+ skipped in [\d.]+s", lines[-1])
    assert STANDARDS.parameters["docs_url"] in run.stdout
    # Every skip says why.
    assert "SKIPPED 1.test_weights_prefix_holds_model_hash: offline (pass --online" in run.stdout
    assert "\x1b[" not in run.stdout  # no colours when not on a terminal


def test_path_defaults_to_current_directory(compliant):
    run = run_snitch(compliant, cwd=compliant)
    run_here = run_snitch(".", cwd=compliant)
    assert run.code == run_here.code == 0
    assert f"model at {compliant}," in run_here.stdout


def test_model_name_defaults_to_ci_declaration(compliant):
    result = snitch("-p", str(compliant), "--format", "json")
    assert result.returncode == 0 and json.loads(result.stdout)["model"] == MODEL


def test_deleting_predict_fails_standard_4(compliant):
    edit(compliant / "serve.py", "def predict(self", "def guess(self")
    run = run_snitch(compliant)
    assert run.code == 1
    assert re.search(r"^  4\. Serving class +\.\.F\.$", run.stdout, re.MULTILINE)
    failure = run.stdout.split("FAILED 4.test_model_subclass_implements_predict\n", 1)[1]
    assert failure.startswith("serve.py: class Classifier (line") and "does not implement predict()" in failure
    assert f"how to fix: {STANDARDS.check_doc(4, 'test_model_subclass_implements_predict').fix}" in failure
    assert re.fullmatch(r"1 failed, \d+ passed, \d+ skipped in [\d.]+s", run.stdout.splitlines()[-1])
    assert "Traceback" not in run.stdout + run.stderr


def test_text_session_lists_each_cause_once(tmp_path):
    """An empty folder: four failures, each with its whole message; the skips they cause are
    counted, not listed one by one; the skips with a reason of their own are listed."""
    run = run_snitch(tmp_path)
    assert run.code == 1, run.stdout
    failures = re.findall(r"^FAILED (\S+)$", run.stdout, re.MULTILINE)
    assert failures == [
        "1.test_gitlab_ci_declares_weights_uri", "2.test_required_files_exist",
        "2.test_datasets_and_weights_are_gitignored", "8.test_test_files_exist",
    ]
    own_skips = re.findall(r"^SKIPPED (\S+): ", run.stdout, re.MULTILINE)
    assert "2.test_nothing_tracked_under_datasets_or_weights" in own_skips
    report = run_json(tmp_path).report
    inherited = report["summary"]["skipped"] - len(own_skips)
    assert f"{inherited} more checks were skipped: they need 1.test_gitlab_ci_declares_weights_uri, which failed" in run.stdout
    assert run.stdout.splitlines()[-1].startswith(f"4 failed, {report['summary']['skipped']} skipped in ")


@pytest.mark.parametrize(
    "args, message",
    [
        (["-n", "Iris_Classifier"], "is not a KServe InferenceService name"),
        (["-n", "x" * 64], "has 64 characters, more than 63"),
        (["-n", MODEL, "-p", "/no/such/folder"], "does not exist"),
        (["-n", MODEL, "-p", "/etc/hostname"], "is a file"),
        (["-n", MODEL, "-s", "99"], "no standard 99"),
        (["-n", MODEL, "--format", "xml"], "'xml' is not one of"),
        (["-n", MODEL, "--config", "/no/such.yaml"], "config file /no/such.yaml does not exist"),
        (["explain", "42"], "no standard 42"),
        (["--bogus"], "No such option"),
    ],
)
def test_unusable_runs_exit_2(compliant, args, message):
    result = snitch(*args, cwd=compliant)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_internal_error_is_never_success(compliant):
    """A crash inside a check is a bug in snitch: exit 2 and say so, never 0 or 1."""
    code = (
        "import sys, snitch.facts.serve_summary\n"
        "def broken(*args): raise RuntimeError('boom')\n"
        "snitch.facts.serve_summary.facts = broken\n"
        "from snitch.cli.main import main\n"
        f"sys.argv = ['snitch', '-n', '{MODEL}', '-p', r'{compliant}']\n"
        "main()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "internal error in snitch: RuntimeError: boom" in result.stderr


def test_json_report_schema(compliant):
    edit(compliant / "Dockerfile", 'model="iris-classifier"', 'model="iris"')
    run = run_json(compliant)
    assert run.code == 1
    report = run.report
    assert set(report) == {"model", "path", "standards_version", "snitch_version", "config", "summary", "checks", "stale_waivers"}
    assert (report["model"], report["path"], report["standards_version"]) == (MODEL, str(compliant), STANDARDS.version)
    summary = report["summary"]
    assert summary["total"] == len(report["checks"]) == sum(len(s.checks) for s in STANDARDS.standards.values())
    assert summary["failed"] == 1 and summary["error"] == 0
    assert summary["passed"] + summary["failed"] + summary["skipped"] == summary["total"]
    for check in report["checks"]:
        located = {"file", "line"} if check["outcome"] == "failed" else set()
        assert set(check) == {"standard", "check", "outcome", "message", "url"} | located
        assert check["check"] in STANDARDS[check["standard"]].checks
        assert check["outcome"] in {"passed", "failed", "skipped"}
    assert [c["standard"] for c in report["checks"]] == sorted(c["standard"] for c in report["checks"])


def test_junitxml(compliant, tmp_path):
    edit(compliant / "serve.py", "def predict(self", "def guess(self")
    report = tmp_path / "reports" / "snitch.xml"
    report.parent.mkdir()
    run = run_snitch(compliant, "--junitxml", str(report))
    assert run.code == 1
    suite = ElementTree.parse(report).getroot().find("testsuite")
    assert suite.get("name") == "snitch"
    assert int(suite.get("tests")) == sum(len(s.checks) for s in STANDARDS.standards.values())
    assert int(suite.get("failures")) == 1
    failure = next(case for case in suite.iter("testcase") if case.find("failure") is not None)
    assert failure.get("name") == "test_model_subclass_implements_predict"
    assert "does not implement predict()" in failure.find("failure").text


def test_list_reads_the_standards_document():
    result = snitch("list")
    assert result.returncode == 0
    for number, standard in STANDARDS.standards.items():
        assert f"{number:>3}. {standard.title} ({len(standard.checks)} checks)" in result.stdout


def test_explain_reads_the_standards_document():
    result = snitch("explain", "4")
    assert result.returncode == 0
    flat = " ".join(result.stdout.split())
    standard = STANDARDS[4]
    assert f"Standard 4: {standard.title}" in result.stdout
    assert " ".join(standard.rationale.split()) in flat
    for name in standard.checks:
        doc = STANDARDS.check_doc(4, name)
        assert name in result.stdout and doc.expected in flat and doc.fix in flat
    assert STANDARDS.url(4) in result.stdout


def test_config_overrides_parameters(compliant, tmp_path):
    config = tmp_path / "org.yaml"
    config.write_text("bucket: acme-models\ncoverage_floor: 90\ndocs_url: https://wiki.acme.io/standards\n")
    run = run_json(compliant, "--config", str(config))
    assert run.failed() == {"test_weights_uri_uses_bucket_and_project", "test_ci_sets_coverage_floor"}
    message = run.check("test_weights_uri_uses_bucket_and_project")["message"]
    assert "instead of 'acme-models'" in message and "s3://acme-models/<model>/models/" in message
    assert run.check("test_ci_sets_coverage_floor")["url"] == "https://wiki.acme.io/standards#8-tests"
    via_env = run_json(compliant, env={"SNITCH_CONFIG": str(config)})
    assert via_env.failed() == run.failed()
    explained = snitch("explain", "1", "--config", str(config))
    assert "s3://acme-models/" in explained.stdout


def test_config_can_change_the_label_list(compliant, tmp_path):
    config = tmp_path / "oci.yaml"
    config.write_text("image_labels: [org.opencontainers.image.source, model]\n")
    run = run_json(compliant, "-s", "6", "--config", str(config))
    message = run.check("test_dockerfile_final_stage_sets_required_labels")["message"]
    assert "does not set: org.opencontainers.image.source" in message


@pytest.mark.parametrize(
    "text, message",
    [
        ("bucket: [1, 2]\n", "bucket must be text"),
        ("bukket: x\n", "unknown parameter 'bukket'"),
        ("pipeline_ref_pattern: '(['\n", "not a valid regular expression"),
        ("readme_links: {logs: '(('}\n", "not a valid regular expression"),
        ("- a\n- b\n", "must be a YAML mapping"),
        ("a: [\n", "is not valid YAML"),
    ],
)
def test_bad_config_exits_2(compliant, tmp_path, text, message):
    config = tmp_path / "bad.yaml"
    config.write_text(text)
    result = snitch("-n", MODEL, "-p", str(compliant), "--config", str(config))
    assert result.returncode == 2 and message in result.stderr, result.stderr


def test_a_declared_model_name_that_starts_with_a_digit_fails_standard_9_naming_the_rule(compliant):
    edit(compliant / ".gitlab-ci.yml", 'model_name: "iris-classifier"', 'model_name: "123-model"')
    done = subprocess.run([sys.executable, "-m", "snitch", "-p", str(compliant), "-s", "9", "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    failed = [check for check in json.loads(done.stdout)["checks"] if check["outcome"] == "failed"]
    assert [check["check"] for check in failed] == ["test_model_name_is_a_service_name"]
    assert "'123-model' starts with a digit; start it with a letter (a KServe InferenceService name" in failed[0]["message"]


def test_a_model_name_given_with_n_that_breaks_the_rule_is_a_usage_error(compliant):
    done = subprocess.run([sys.executable, "-m", "snitch", "-n", "123-model", "-p", str(compliant)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "'123-model' starts with a digit" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("content, reason", [
    (None, "has no .gitlab-ci.yml to read a model_name input from"),
    ("include: [unclosed\n", "its .gitlab-ci.yml cannot be used ("),
    ("variables: {A: b}\n", "its .gitlab-ci.yml declares no valid model_name input"),
])
def test_without_n_the_message_says_why_no_model_name_was_found(tmp_path, content, reason):
    if content is not None:
        (tmp_path / ".gitlab-ci.yml").write_text(content)
    done = subprocess.run([sys.executable, "-m", "snitch", "-p", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert reason in done.stderr, done.stderr


def test_a_skip_names_the_check_it_depends_on(compliant_report, compliant):
    """Nothing failed: the built-image value check is skipped because the labels check was (no --image)."""
    from fixtures.checker import run_snitch
    from fixtures.template import git_commit_all

    git_commit_all(compliant)
    run = run_snitch(compliant)
    assert run.code == 0, run.stdout
    assert "a check above did not pass" not in run.stdout
    assert "1 more check was skipped: it needs 6.test_built_image_has_required_labels, which was skipped" in run.stdout
