"""The shared pipeline file and the snitch.pipeline code, without running gitlab-ci-local."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from fixtures.pipeline import KSERVE_SCHEMA, PIPELINE_FILE, REPO_ROOT
from snitch.pipeline import records
from snitch.pipeline.build import labels_only_dockerfile
from snitch.pipeline.cli import main
from snitch.pipeline.errors import PipelineError
from snitch.pipeline.manifest import Release, render
from snitch.pipeline.validate import load_schema, rule_problems, schema_problems
from snitch.pipeline.weights import parse_weights_uri

PROTECTED_JOBS = ["snitch", "test", "build", "image-labels", "deploy-dev", "deploy-staging", "deploy-production",
                  "rollback-dev", "rollback-staging", "rollback-production"]
DEPLOY_JOBS = [job for job in PROTECTED_JOBS if job.startswith(("deploy-", "rollback-"))]
TIERS = {"dev": "development", "staging": "staging", "production": "production"}
DIGEST = "sha256:" + "ab" * 32
COMMIT = "0123456789abcdef0123456789abcdef01234567"
WEIGHTS = "s3://ml-platform-bucket/iris-classifier/models/20240102T030405Z"

needs_schema = pytest.mark.skipif(not KSERVE_SCHEMA.is_file(), reason=f"{KSERVE_SCHEMA} (test data beside the repo) is missing")


def pipeline_documents() -> tuple[dict, dict]:
    header, body = yaml.safe_load_all(PIPELINE_FILE.read_text())
    return header, body


def release(**changes) -> Release:
    values = dict(
        model="iris-classifier", environment="staging", namespace="ml-models-staging",
        weights=parse_weights_uri(WEIGHTS, "iris-classifier"),
        image_repository="registry.example.com/ml-platform/iris-classifier", image_digest=DIGEST,
        version="1.2.0", commit=COMMIT, deployed_by="alice", pipeline_url="https://gitlab.example.com/p/1",
    )
    values.update(changes)
    return Release(**values)


# --- the pipeline file ---------------------------------------------------------------------------

def test_pipeline_file_is_a_spec_inputs_header_then_the_pipeline():
    text = PIPELINE_FILE.read_text()
    assert text.startswith("spec:\n  inputs:\n")
    assert "\n---\n" in text
    header, body = pipeline_documents()
    inputs = header["spec"]["inputs"]
    assert {"model_name", "weights_uri", "coverage_floor"} <= set(inputs)
    assert "default" not in inputs["model_name"] and "default" not in inputs["weights_uri"]  # required
    assert inputs["coverage_floor"]["type"] == "number" and inputs["coverage_floor"]["default"] >= 80
    # every input reaches the jobs as a variable (so it works as a CI/CD component too)
    for name in ("model_name", "weights_uri", "coverage_floor"):
        assert body["variables"][name.upper()] == f"$[[ inputs.{name} ]]"
    used = set(re.findall(r"\$\[\[ inputs\.(\w+) \]\]", text))
    assert used == set(inputs), "every declared input is used and every used input is declared"
    # the input regexes accept the contract's example and reject a malformed URI
    assert re.match(inputs["weights_uri"]["regex"], WEIGHTS)
    assert not re.match(inputs["weights_uri"]["regex"], "s3://bucket/iris-classifier/weights/x")
    assert re.match(inputs["model_name"]["regex"], "iris-classifier")
    assert not re.match(inputs["model_name"]["regex"], "Iris_Classifier")


def test_pipeline_defines_the_protected_jobs_with_environments_and_resource_groups():
    _, body = pipeline_documents()
    assert [name for name in body if name in PROTECTED_JOBS] == PROTECTED_JOBS
    for name in DEPLOY_JOBS:
        job = body[name]
        env = name.split("-", 1)[1]
        assert job["environment"]["name"] == env
        assert job["environment"]["deployment_tier"] == TIERS[env]
        assert job["resource_group"] == f"$[[ inputs.model_name ]]-{env}"
    assert body["deploy-staging"]["needs"] == ["build", "deploy-dev"]
    assert body["deploy-production"]["needs"] == ["build", "deploy-staging"]
    for name in ("deploy-staging", "deploy-production"):
        assert body[name]["allow_failure"] is False  # manual and blocking
        assert all(rule.get("when") in ("manual", "never") for rule in body[name]["rules"])
    assert body["deploy-production"]["rules"] == [{"if": "$CI_COMMIT_TAG", "when": "manual"}]
    for name in DEPLOY_JOBS:
        if name.startswith("rollback-"):
            assert all(rule.get("when") in ("manual", "never") for rule in body[name]["rules"])
    assert "--junitxml snitch.xml" in body["snitch"]["script"][0]
    assert body["snitch"]["artifacts"]["reports"]["junit"] == "snitch.xml"
    test_reports = body["test"]["artifacts"]["reports"]
    assert test_reports["coverage_report"]["coverage_format"] == "cobertura"
    assert '--cov-fail-under="$COVERAGE_FLOOR"' in body["test"]["script"][1]
    assert body["build"]["artifacts"]["reports"]["dotenv"] == "build.env"
    assert body["build"]["variables"] == {"STORAGE_DRIVER": "vfs", "BUILDAH_ISOLATION": "chroot"}


def test_job_logic_lives_in_python_not_in_shell():
    _, body = pipeline_documents()
    for name in PROTECTED_JOBS:
        script = body[name]["script"]
        assert len(script) <= 2, f"{name} has a long shell script; put the logic in snitch.pipeline"
        if name not in ("snitch", "test"):
            assert script[-1].startswith("python3 -m snitch.pipeline "), name


def test_pipeline_installs_snitch_at_its_own_version():
    _, body = pipeline_documents()
    from importlib.metadata import version as installed_version

    import snitch

    version = snitch.__version__
    assert installed_version("model-snitch") == version
    assert body["variables"]["SNITCH_PIP_SPEC"] == f"model-snitch=={version}"
    assert f"ref: v{version}" in (REPO_ROOT / "docs" / "pipeline.md").read_text()


# --- rendering and validating the InferenceService ----------------------------------------------

@needs_schema
def test_rendered_inference_service_validates_against_the_crd_schema():
    manifest = render(release(canary_traffic_percent=25))
    assert manifest["apiVersion"] == "serving.kserve.io/v1beta1" and manifest["kind"] == "InferenceService"
    model = manifest["spec"]["predictor"]["model"]
    assert model["storageUri"] == WEIGHTS
    assert model["image"] == f"registry.example.com/ml-platform/iris-classifier@{DIGEST}"
    assert manifest["spec"]["predictor"]["canaryTrafficPercent"] == 25
    labels, annotations = manifest["metadata"]["labels"], manifest["metadata"]["annotations"]
    assert labels["ml-platform/model"] == "iris-classifier" and labels["ml-platform/commit"] == COMMIT
    assert labels["app.kubernetes.io/version"] == "1.2.0"
    assert annotations["ml-platform/weights-uri"] == WEIGHTS and annotations["ml-platform/deployed-by"] == "alice"
    assert rule_problems(manifest) == []
    assert schema_problems(manifest, load_schema(KSERVE_SCHEMA)) == []


@needs_schema
def test_strict_schema_catches_misspelled_and_mistyped_fields():
    schema = load_schema(KSERVE_SCHEMA)
    manifest = render(release())
    typo = copy.deepcopy(manifest)
    typo["spec"]["predictor"]["model"]["storageUrl"] = typo["spec"]["predictor"]["model"].pop("storageUri")
    problems = schema_problems(typo, schema)
    assert any("storageUrl" in problem and "spec.predictor.model" in problem for problem in problems)
    wrong_type = copy.deepcopy(manifest)
    wrong_type["spec"]["predictor"]["minReplicas"] = "two"
    assert any("minReplicas" in problem for problem in schema_problems(wrong_type, schema))
    misplaced = copy.deepcopy(manifest)
    misplaced["spec"]["predicter"] = misplaced["spec"].pop("predictor")
    assert any("predictor" in problem for problem in schema_problems(misplaced, schema))


def test_our_rules_catch_what_the_crd_schema_allows():
    good = render(release())
    cases = {
        "metadata.name": lambda m: m["metadata"].__setitem__("name", "a" * 64),
        "canaryTrafficPercent": lambda m: m["spec"]["predictor"].__setitem__("canaryTrafficPercent", 101),
        "not pinned by digest": lambda m: m["spec"]["predictor"]["model"].__setitem__("image", "registry.example.com/x:latest"),
        "project 'other' instead of the model name 'iris-classifier'": lambda m: m["spec"]["predictor"]["model"].__setitem__(
            "storageUri", "s3://ml-platform-bucket/other/models/20240102T030405Z"),
        "malformed weights URI": lambda m: m["spec"]["predictor"]["model"].__setitem__("storageUri", "s3://b/iris"),
        "label": lambda m: m["metadata"]["labels"].__setitem__("ml-platform/version", "v1 beta"),
    }
    for expected, breaks in cases.items():
        manifest = copy.deepcopy(good)
        breaks(manifest)
        problems = rule_problems(manifest)
        assert any(expected in problem for problem in problems), (expected, problems)
    assert rule_problems(good) == []


def test_weights_uri_follows_standard_1():
    parsed = parse_weights_uri("s3://ml-platform-bucket/iris-classifier/models/2024-01-02T03:04:05Z", "iris-classifier")
    assert parsed.basic_timestamp == "20240102T030405Z"
    for bad, message in {
        "s3://ml-platform-bucket/iris-classifier/2024": "malformed weights URI",
        "s3://ml-platform-bucket/iris-classifier/models/yesterday": "not a UTC ISO 8601 timestamp",
        "s3://ml-platform-bucket/iris-classifier/models/29990101T000000Z": "in the future",
        "s3://ml-platform-bucket/other/models/20240101T000000Z": "project 'other' instead of the model name 'iris-classifier'",
    }.items():
        with pytest.raises(PipelineError, match=message):
            parse_weights_uri(bad, "iris-classifier", now=datetime(2026, 1, 1, tzinfo=timezone.utc))


# --- the CLI: clear errors, never a traceback ----------------------------------------------------

def ci_environment(**changes) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CI_", "GITLAB_", "SNITCH_", "IMAGE_"))}
    env.update(
        MODEL_NAME="iris-classifier", WEIGHTS_URI=WEIGHTS, IMAGE_REPOSITORY="registry.example.com/ml/iris-classifier",
        IMAGE_DIGEST=DIGEST, CI_COMMIT_SHA=COMMIT, CI_COMMIT_SHORT_SHA=COMMIT[:8], GITLAB_USER_LOGIN="alice",
        CI_PIPELINE_URL="https://gitlab.example.com/ml/iris-classifier/-/pipelines/7",
    )
    env.update(changes)
    return {key: value for key, value in env.items() if value is not None}


def run_cli(*args, cwd: Path, **env_changes) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snitch.pipeline", *args], cwd=cwd, env=ci_environment(**env_changes),
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"MODEL_NAME": None}, "variable MODEL_NAME is not set; it comes from the `model_name` input"),
        ({"GITLAB_USER_LOGIN": None}, "variable GITLAB_USER_LOGIN is not set"),
        ({"IMAGE_DIGEST": None}, "variable IMAGE_DIGEST is not set; it comes from the build job's dotenv"),
        ({"WEIGHTS_URI": "s3://ml-platform-bucket/iris-classifier/weights.pkl"}, "malformed weights URI"),
        ({"IMAGE_DIGEST": "sha256:1234"}, "bad image digest 'sha256:1234'"),
        ({"IMAGE_REPOSITORY": "registry.example.com/x:latest@sha256:00"}, "bad image repository"),
        ({"CANARY_TRAFFIC_PERCENT": "150"}, "outside 0–100"),
        ({"CI_COMMIT_SHA": "HEAD"}, "bad commit SHA"),
    ],
)
def test_deploy_rejects_bad_input_with_a_clear_message(tmp_path, changes, message):
    done = run_cli("deploy", "--environment", "dev", "--dry-run", cwd=tmp_path, **changes)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "promotion").exists()


def test_cli_usage_errors_exit_non_zero_without_traceback(tmp_path):
    for args in (["deploy"], ["deploy", "--environment", "qa"], ["validate", "missing.yaml"], ["nonsense"]):
        done = run_cli(*args, cwd=tmp_path)
        assert done.returncode == 2, args
        assert "Traceback" not in done.stderr
    (tmp_path / "bad.yaml").write_text("apiVersion: [unclosed\n")
    done = run_cli("validate", "bad.yaml", cwd=tmp_path)
    assert done.returncode == 2 and "cannot be read as YAML" in done.stderr


@needs_schema
def test_deploy_dry_run_writes_the_manifest_and_the_promotion_record(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps({"accuracy": 0.97, "f1": 0.96}))
    done = run_cli("deploy", "--environment", "staging", "--dry-run", "--schema", str(KSERVE_SCHEMA), cwd=tmp_path,
                   CI_COMMIT_TAG="v1.2.0")
    assert done.returncode == 0, done.stderr
    assert "checked: rules, CRD schema" in done.stdout or "checked: rules, kserve models, CRD schema" in done.stdout
    record = json.loads((tmp_path / "promotion" / "promotion-record.json").read_text())
    assert record["action"] == "deploy" and record["environment"] == "staging"
    assert record["deployed_by"] == "alice" and record["commit"] == COMMIT and record["version"] == "1.2.0"
    assert record["image_digest"] == DIGEST and record["weights_uri"] == WEIGHTS
    assert record["metrics"] == {"accuracy": 0.97, "f1": 0.96}
    assert datetime.strptime(record["deployed_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    manifest = yaml.safe_load((tmp_path / "promotion" / "inferenceservice.yaml").read_text())
    assert manifest == record["manifest"] and manifest["metadata"]["namespace"] == "ml-models-staging"
    dotenv = dict(line.split("=", 1) for line in (tmp_path / "promotion" / "promotion.env").read_text().splitlines())
    assert dotenv["PROMOTION_IMAGE_DIGEST"] == DIGEST and dotenv["PROMOTION_ENVIRONMENT"] == "staging"
    assert dotenv["PROMOTION_DEPLOYED_BY"] == "alice"


def test_invalid_manifest_fails_validation_with_every_problem_listed(tmp_path):
    manifest = render(release())
    manifest["metadata"]["name"] = "Iris_Classifier"
    manifest["spec"]["predictor"]["canaryTrafficPercent"] = -5
    (tmp_path / "isvc.yaml").write_text(yaml.safe_dump(manifest))
    done = run_cli("validate", "isvc.yaml", cwd=tmp_path)
    assert done.returncode == 1
    assert "metadata.name 'Iris_Classifier' is not a Kubernetes DNS label" in done.stderr
    assert "canaryTrafficPercent is -5" in done.stderr
    assert "Traceback" not in done.stderr


def test_kserve_models_reject_unknown_fields(ci_python, tmp_path):
    """With kserve importable (the model venv), its own generated models check the manifest too."""
    manifest = render(release())
    (tmp_path / "good.yaml").write_text(yaml.safe_dump(manifest))
    manifest["spec"]["predictor"]["model"]["storageUrl"] = manifest["spec"]["predictor"]["model"].pop("storageUri")
    manifest["spec"]["predictor"]["minReplicas"] = "two"
    (tmp_path / "typo.yaml").write_text(yaml.safe_dump(manifest))
    python = str(ci_python / "python")
    good = subprocess.run([python, "-m", "snitch.pipeline", "validate", "good.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert good.returncode == 0 and "kserve models" in good.stdout, good.stderr
    bad = subprocess.run([python, "-m", "snitch.pipeline", "validate", "typo.yaml"], cwd=tmp_path, capture_output=True, text=True)
    assert bad.returncode == 1
    assert "spec.predictor.model.storageUrl: unknown field of kserve's V1beta1ModelSpec" in bad.stderr
    assert "spec.predictor.minReplicas: expected int, got 'two'" in bad.stderr


# --- promotion records and rollback ---------------------------------------------------------------

def record(n: int, action: str = "deploy", **extra) -> dict:
    data = {
        "record_version": 1, "action": action, "model": "iris-classifier", "environment": "dev",
        "version": f"1.{n}.0", "commit": str(n) * 40, "image": f"registry/x@sha256:{n:064x}",
        "image_digest": f"sha256:{n:064x}", "weights_uri": f"s3://b/iris-classifier/models/2024010{n}T000000Z",
        "deployed_at": f"2026-01-0{n}T00:00:00.000000Z", "manifest": render(release(version=f"1.{n}.0", environment="dev")),
    }
    data.update(extra)
    return data


def test_rollback_goes_to_the_previous_different_deploy_and_not_back_again():
    first, second = record(1), record(2)
    assert records.rollback_target([first, second]) == (second, first)
    # after rolling back to `first`, another rollback has nowhere sensible to go
    back = record(3, action="rollback", image=first["image"], weights_uri=first["weights_uri"],
                  rolled_back_from={"image": second["image"], "weights_uri": second["weights_uri"]})
    with pytest.raises(PipelineError, match="nothing to roll back to"):
        records.rollback_target([first, second, back])
    # a redeploy of the same content is skipped
    again = record(4, image=second["image"], weights_uri=second["weights_uri"])
    assert records.rollback_target([first, second, again])[1] is first
    assert records.rollback_target([first, second, record(5)], to=first["commit"][:10])[1] is first
    with pytest.raises(PipelineError, match="no earlier deploy matches"):
        records.rollback_target([first, second], to="9.9.9")
    with pytest.raises(PipelineError, match="no earlier promotion records"):
        records.rollback_target([])


class _FakeGitLab(BaseHTTPRequestHandler):
    """The two GitLab API endpoints rollback reads, served on loopback."""

    routes: dict[str, bytes] = {}
    seen: list[tuple[str, str]] = []

    def do_GET(self):  # noqa: N802
        self.seen.append((self.path, self.headers.get("PRIVATE-TOKEN", "")))
        body = self.routes.get(self.path.split("?")[0])
        self.send_response(200 if body is not None else 404)
        self.end_headers()
        self.wfile.write(body or b'{"message": "404 Not Found"}')

    def log_message(self, *args):
        pass


@needs_schema
def test_rollback_reads_earlier_records_from_the_gitlab_api(tmp_path, kubectl_recorder, monkeypatch, capsys):
    first, second = record(1), record(2)
    _FakeGitLab.routes = {
        "/api/v4/projects/42/deployments": json.dumps([
            {"id": 9, "deployable": {"id": 902, "name": "deploy-dev"}},
            {"id": 8, "deployable": {"id": 801, "name": "deploy-dev"}},
            {"id": 7, "deployable": {"id": 700, "name": "deploy-dev"}},  # artifacts expired: skipped
        ]).encode(),
        "/api/v4/projects/42/jobs/902/artifacts/promotion/promotion-record.json": json.dumps(second).encode(),
        "/api/v4/projects/42/jobs/801/artifacts/promotion/promotion-record.json": json.dumps(first).encode(),
    }
    _FakeGitLab.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeGitLab)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.chdir(tmp_path)
        for key in [k for k in os.environ if k.startswith(("SNITCH_", "CI_"))]:
            monkeypatch.delenv(key)
        monkeypatch.setenv("PATH", f"{kubectl_recorder}{os.pathsep}{os.environ['PATH']}")
        monkeypatch.setenv("KUBECTL_RECORD_DIR", str(tmp_path / "kube"))
        monkeypatch.setenv("MODEL_NAME", "iris-classifier")
        monkeypatch.setenv("GITLAB_USER_LOGIN", "bob")
        monkeypatch.setenv("CI_API_V4_URL", f"http://127.0.0.1:{server.server_address[1]}/api/v4")
        monkeypatch.setenv("CI_PROJECT_ID", "42")
        monkeypatch.setenv("SNITCH_API_TOKEN", "glpat-test")
        assert main(["rollback", "--environment", "dev", "--schema", str(KSERVE_SCHEMA)]) == 0
    finally:
        server.shutdown()
    out = capsys.readouterr().out
    assert "2 promotion record(s) of iris-classifier in dev from GitLab deployments" in out
    query = _FakeGitLab.seen[0][0]
    assert "environment=dev" in query and "status=success" in query
    assert all(token == "glpat-test" for _, token in _FakeGitLab.seen)
    applied = yaml.safe_load((tmp_path / "kube" / "000-manifest.yaml").read_text())
    assert applied["spec"] == first["manifest"]["spec"]
    assert applied["metadata"]["annotations"]["ml-platform/rolled-back-by"] == "bob"
    assert schema_problems(applied, load_schema(KSERVE_SCHEMA)) == []
    new = json.loads((tmp_path / "promotion" / "promotion-record.json").read_text())
    assert new["action"] == "rollback" and new["image"] == first["image"] and new["rolled_back_from"]["image"] == second["image"]


def test_rollback_without_any_record_source_says_how_to_configure_one(tmp_path):
    done = run_cli("rollback", "--environment", "dev", cwd=tmp_path)
    assert done.returncode == 2
    assert "set SNITCH_RECORDS_DIR" in done.stderr and "SNITCH_API_TOKEN" in done.stderr


# --- the image build ------------------------------------------------------------------------------

def test_labels_only_dockerfile_keeps_the_final_stage_labels(rendered_project):
    text = (rendered_project / "Dockerfile").read_text()
    derived = labels_only_dockerfile(text)
    assert derived.startswith("FROM scratch\n")
    assert not re.search(r"^(RUN|COPY|FROM (?!scratch))", derived, re.MULTILINE)
    for label in ("author", "version", "model", "org.label-schema.version", "org.label-schema.name",
                  "org.label-schema.build-date", "org.label-schema.vcs-ref", "org.label-schema.vcs-url",
                  "org.label-schema.vendor", "org.label-schema.schema-version"):
        assert re.search(rf"(^LABEL|\s){re.escape(label)}=", derived, re.MULTILINE), label
    for arg in ("VERSION", "BUILD_DATE", "VCS_REF", "VCS_URL"):
        assert re.search(rf"^ARG {arg}\b", derived, re.MULTILINE), arg
    multi = "FROM a AS one\nLABEL stage=one\nFROM b\n# a comment\nARG X=1\nLABEL model=m \\\n      other=${X}\nRUN true\n"
    assert labels_only_dockerfile(multi) == "FROM scratch\nARG X=1\nLABEL model=m other=${X}\n"
    with pytest.raises(PipelineError, match="sets no LABEL"):
        labels_only_dockerfile("FROM a\nLABEL x=1\nFROM b\nRUN true\n")
