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

from fixtures.pipeline import KSERVE_SCHEMA, PIPELINE_FILE, REPO_ROOT, SERVICE_VALUES, service_environment
from fixtures.s3 import AWS_TEST_ENV, s3_client
from snitch.facts import gitlab_ci
from snitch.facts.names import model_name_problem
from snitch.facts.service_settings import FIELDS, ServiceSpec
from snitch.pipeline import records
from snitch.pipeline.build import labels_only_dockerfile
from snitch.pipeline.cli import main
from snitch.pipeline.errors import PipelineError
from snitch.pipeline.manifest import Release, render
from snitch.pipeline.validate import load_schema, rule_problems, schema_problems
from snitch.pipeline.weights import parse_weights_uri
from snitch.standards import document

# Model Standard 9's parameter: the jobs a project must not redefine (test_protected_jobs_agree_everywhere
# proves they are exactly the pipeline's jobs).
PROTECTED_JOBS = list(document.load().parameters["protected_jobs"])
DEPLOY_JOBS = [job for job in PROTECTED_JOBS if job.startswith(("deploy-", "rollback-"))]
SERVICE = ServiceSpec.from_values(SERVICE_VALUES)
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
        version="1.2.0", commit=COMMIT, service=SERVICE, deployed_by="alice", pipeline_url="https://gitlab.example.com/p/1",
    )
    values.update(changes)
    return Release(**values)


# --- the pipeline file ---------------------------------------------------------------------------

def test_pipeline_file_is_a_spec_inputs_header_then_the_pipeline():
    text = PIPELINE_FILE.read_text()
    assert re.sub(r"\A(#.*\n)*", "", text).startswith("spec:\n  inputs:\n")  # after the "generated" note
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


def test_service_inputs_are_typed_and_reach_the_jobs():
    header, body = pipeline_documents()
    inputs = header["spec"]["inputs"]
    for field in FIELDS:  # one name for each value: input, variable, snitch.facts.service_settings field
        assert body["variables"][field.variable] == f"$[[ inputs.{field.name} ]]"
        declared = inputs[field.name]
        if field.kind in ("whole", "positive"):
            assert declared["type"] == "number"
            minimum = 0 if field.kind == "whole" else 1
            assert ServiceSpec.from_values({**SERVICE_VALUES, field.name: declared["default"]}) and declared["default"] >= minimum
        else:
            assert "regex" in declared, field.name
    assert "default" not in inputs["team"]  # who owns a model is never a default
    assert inputs["dev_min_replicas"]["default"] == 0 and inputs["min_replicas"]["default"] >= 1
    # GitLab refuses what snitch.facts.service_settings refuses, before any job runs
    for name, good, bad in (("cpu", ["500m", "2", "1.5", "2e3"], ["half", "500 m", "-1", "1K"]),
                            ("memory", ["512Mi", "2Gi", "1G", "129e6"], ["2GB", "lots", "1 Gi"]),
                            ("team", ["fraud-detection", "ml"], ["ML Team", "-x", "a_b"])):
        for value in good:
            assert re.match(inputs[name]["regex"], value), (name, value)
        for value in bad:
            assert not re.match(inputs[name]["regex"], value), (name, value)


def test_pipeline_file_is_valid_for_gitlabs_own_ci_schema(tmp_path):
    """check-jsonschema's copy of GitLab's CI schema, on each YAML document of the file."""
    for index, document in enumerate(pipeline_documents()):
        path = tmp_path / f"document-{index}.json"
        path.write_text(json.dumps(document))
        done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.gitlab-ci", str(path)],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
    header, body = pipeline_documents()
    broken = copy.deepcopy(body)
    broken["experiment"]["rules"][0]["when"] = "sometimes"
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    done = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.gitlab-ci",
                           str(tmp_path / "broken.json")], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1  # the schema really is checked


def test_experiment_runs_only_when_a_person_or_a_schedule_starts_it():
    _, body = pipeline_documents()
    job = body["experiment"]
    assert job["needs"] == [] and job["artifacts"]["reports"]["dotenv"] == "experiment/experiment.env"
    assert job["rules"] == [
        {"if": "$CI_COMMIT_TAG", "when": "never"},
        {"if": '$CI_PIPELINE_SOURCE == "schedule"'},
        {"if": '$CI_PIPELINE_SOURCE == "web"', "when": "manual", "allow_failure": True},
    ]
    # a schedule runs the experiment and nothing else
    for name in ("snitch", "test", "build", "image-labels", "deploy-dev", "deploy-staging", "rollback-dev", "rollback-staging"):
        rules = body[name].get("rules") or body[body[name]["extends"][0]]["rules"]
        assert rules[0] == {"if": '$CI_PIPELINE_SOURCE == "schedule"', "when": "never"}, name


def test_protected_jobs_agree_everywhere():
    """Standard 9's `protected_jobs`, the jobs the pipeline file defines and the list docs/pipeline.md
    gives a project are one list."""
    _, body = pipeline_documents()
    assert gitlab_ci.jobs(body) == PROTECTED_JOBS
    docs = (REPO_ROOT / "docs" / "pipeline.md").read_text()
    sentence = re.search(r"Do not define jobs with the pipeline's names \(([^)]*)\)", docs)
    assert sentence, "docs/pipeline.md no longer lists the pipeline's jobs"
    assert re.findall(r"`([^`]+)`", sentence[1]) == PROTECTED_JOBS


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
    assert body["variables"]["SNITCH_PIP_SPEC"] == f"model-snitch[pipeline]=={version}"
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


@needs_schema
@pytest.mark.parametrize("environment, replicas", [("dev", (0, 1)), ("staging", (2, 6)), ("production", (2, 6))])
def test_inference_service_carries_how_the_model_runs(environment, replicas):
    manifest = render(release(environment=environment))
    predictor = manifest["spec"]["predictor"]
    assert (predictor["minReplicas"], predictor["maxReplicas"]) == replicas  # dev scales to zero, the others never
    assert (predictor["scaleMetric"], predictor["scaleTarget"]) == ("concurrency", 8)
    assert predictor["timeout"] == 3  # 10 x the 250 ms objective, in whole seconds
    amounts = {"cpu": "500m", "memory": "1Gi"}
    assert predictor["model"]["resources"] == {"requests": amounts, "limits": amounts}
    assert predictor["model"]["env"] == [{"name": "LATENCY_SLO_MS", "value": "250"}]  # serve.py's deadline
    selectors = {"ml-platform/team": "fraud-detection", "ml-platform/latency-slo-ms": "250"}
    for where in (manifest["metadata"]["labels"], manifest["metadata"]["annotations"], predictor["labels"]):
        assert selectors.items() <= where.items()
    assert rule_problems(manifest) == []
    assert schema_problems(manifest, load_schema(KSERVE_SCHEMA)) == []


def test_rules_keep_production_scaled_above_zero_and_ranges_sane():
    production = render(release(environment="production"))
    production["spec"]["predictor"]["minReplicas"] = 0
    assert "spec.predictor.minReplicas is 0 in production; production never scales to zero" in rule_problems(production)
    upside_down = render(release(environment="dev"))
    upside_down["spec"]["predictor"].update(minReplicas=5, maxReplicas=2)
    assert "spec.predictor.minReplicas (5) is above maxReplicas (2)" in rule_problems(upside_down)


def test_request_timeout_follows_the_latency_objective():
    from snitch.facts.service_settings import timeout_seconds

    assert [timeout_seconds(ms) for ms in (1, 50, 100, 101, 250, 1000, 30000)] == [1, 1, 1, 2, 3, 10, 300]


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
        **service_environment(),
    )
    env = {key: value for key, value in env.items() if not key.startswith("AWS_")}
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
        ({"SERVICE_TEAM": None}, "the service metadata cannot be deployed: team is not set"),
        ({"MIN_REPLICAS": "0"}, "staging and production would scale to zero"),
        ({"MIN_REPLICAS": "4", "MAX_REPLICAS": "3"}, "min_replicas (4) is above max_replicas (3)"),
        ({"SERVICE_MEMORY": "2GB"}, "memory is '2GB', not a Kubernetes quantity"),
        ({"LATENCY_SLO_MS": "fast"}, "latency_slo_ms is 'fast', not a whole number"),
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
def test_deploy_applies_the_manifest_and_writes_the_promotion_record(tmp_path, kubectl_recorder):
    (tmp_path / "metrics.json").write_text(json.dumps({"accuracy": 0.97, "f1": 0.96}))
    done = run_cli("deploy", "--environment", "staging", "--schema", str(KSERVE_SCHEMA), cwd=tmp_path,
                   CI_COMMIT_TAG="v1.2.0", **recorded(kubectl_recorder, tmp_path))
    assert done.returncode == 0, done.stderr
    assert "checked: rules, CRD schema" in done.stdout or "checked: rules, kserve models, CRD schema" in done.stdout
    record = json.loads((tmp_path / "promotion" / "promotion-record.json").read_text())
    assert record["action"] == "deploy" and record["environment"] == "staging"
    assert record["deployed_by"] == "alice" and record["commit"] == COMMIT and record["version"] == "1.2.0"
    assert record["image_digest"] == DIGEST and record["weights_uri"] == WEIGHTS
    assert record["metrics"] == {"accuracy": 0.97, "f1": 0.96}
    assert record["service"] == SERVICE.facts("staging") and record["service"]["min_replicas"] == 2
    assert record["content_sha256"] == records.content_digest(record["manifest"], record["service"])
    assert datetime.strptime(record["deployed_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    manifest = yaml.safe_load((tmp_path / "promotion" / "inferenceservice.yaml").read_text())
    assert manifest == record["manifest"] and manifest["metadata"]["namespace"] == "ml-models-staging"
    dotenv = dict(line.split("=", 1) for line in (tmp_path / "promotion" / "promotion.env").read_text().splitlines())
    assert dotenv["PROMOTION_IMAGE_DIGEST"] == DIGEST and dotenv["PROMOTION_ENVIRONMENT"] == "staging"
    assert dotenv["PROMOTION_DEPLOYED_BY"] == "alice"


def recorded(kubectl_recorder: Path, tmp_path: Path) -> dict:
    """Variables that put the kubectl stand-in first on PATH, recording into tmp_path/kube."""
    return dict(PATH=f"{kubectl_recorder}{os.pathsep}{os.environ['PATH']}", KUBECTL_RECORD_DIR=str(tmp_path / "kube"))


def test_deploy_dry_run_neither_promotes_nor_records(tmp_path, kubectl_recorder):
    records_dir = tmp_path / "records"
    done = run_cli("deploy", "--environment", "dev", "--dry-run", cwd=tmp_path, SNITCH_RECORDS_DIR=str(records_dir),
                   **recorded(kubectl_recorder, tmp_path))
    assert done.returncode == 0, done.stderr
    assert "promoted iris-classifier" not in done.stdout and "was NOT promoted to dev" in done.stdout
    assert sorted(path.name for path in (tmp_path / "promotion").iterdir()) == ["inferenceservice.yaml"]
    assert not records_dir.exists() and not (tmp_path / "kube").exists()  # nothing kept, nothing applied
    for max_replicas in ("1", "2"):  # two real deploys that differ, so there is something to roll back to
        assert run_cli("deploy", "--environment", "dev", cwd=tmp_path, SNITCH_RECORDS_DIR=str(records_dir),
                       DEV_MAX_REPLICAS=max_replicas, **recorded(kubectl_recorder, tmp_path)).returncode == 0
    kept = sorted(records_dir.rglob("*.json"))
    done = run_cli("rollback", "--environment", "dev", "--dry-run", cwd=tmp_path, SNITCH_RECORDS_DIR=str(records_dir),
                   **recorded(kubectl_recorder, tmp_path))
    assert done.returncode == 0, done.stderr
    assert "was NOT rolled back" in done.stdout and "rolled iris-classifier" not in done.stdout
    assert sorted(records_dir.rglob("*.json")) == kept and len(list((tmp_path / "kube").glob("*-manifest.yaml"))) == 2


def test_deploy_record_carries_the_metrics_published_with_the_weights(tmp_path, s3_endpoint, kubectl_recorder):
    """The experiment job publishes metrics.json beside the weights; a later deploy finds it there."""
    s3 = s3_client(s3_endpoint)
    s3.create_bucket(Bucket="ml-platform-bucket")
    aws = {**AWS_TEST_ENV, "AWS_ENDPOINT_URL": s3_endpoint, **recorded(kubectl_recorder, tmp_path)}
    done = run_cli("deploy", "--environment", "dev", cwd=tmp_path, **aws)
    assert done.returncode == 0, done.stderr
    assert "carries no metrics: s3://ml-platform-bucket/iris-classifier/models/20240102T030405Z/metrics.json does not exist" in done.stdout
    assert json.loads((tmp_path / "promotion" / "promotion-record.json").read_text())["metrics"] is None

    metrics = {"accuracy": 0.97, "f1_macro": 0.96, "threshold": 0.9, "passed": True}
    s3.put_object(Bucket="ml-platform-bucket", Key="iris-classifier/models/20240102T030405Z/metrics.json",
                  Body=json.dumps(metrics).encode())
    done = run_cli("deploy", "--environment", "dev", cwd=tmp_path, **aws)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "promotion" / "promotion-record.json").read_text())["metrics"] == metrics
    s3.put_object(Bucket="ml-platform-bucket", Key="iris-classifier/models/20240102T030405Z/metrics.json", Body=b"[1, 2")
    done = run_cli("deploy", "--environment", "dev", cwd=tmp_path, **aws)
    assert done.returncode == 0 and "metrics.json is not valid JSON" in done.stdout  # reported, never blocks a deploy
    done = run_cli("deploy", "--environment", "dev", cwd=tmp_path, **recorded(kubectl_recorder, tmp_path))
    assert done.returncode == 0 and "no AWS credentials in this job" in done.stdout


def test_a_deploy_that_only_resizes_is_recorded_and_rolled_back(tmp_path, kubectl_recorder):
    env = dict(PATH=f"{kubectl_recorder}{os.pathsep}{os.environ['PATH']}", KUBECTL_RECORD_DIR=str(tmp_path / "kube"),
               SNITCH_RECORDS_DIR=str(tmp_path / "records"))
    for max_replicas in ("1", "4"):  # same commit, image and weights: only dev's scaling changes
        done = run_cli("deploy", "--environment", "dev", cwd=tmp_path, DEV_MAX_REPLICAS=max_replicas, **env)
        assert done.returncode == 0, done.stderr
    listed = run_cli("history", "--environment", "dev", cwd=tmp_path, **env)
    shown = [json.loads(line) for line in listed.stdout.splitlines()[1:]]
    assert [entry["service"]["max_replicas"] for entry in shown] == [1, 4]  # history tells the two apart
    done = run_cli("rollback", "--environment", "dev", cwd=tmp_path, **env)
    assert done.returncode == 0, done.stderr
    applied = [yaml.safe_load(path.read_text()) for path in sorted((tmp_path / "kube").glob("*-manifest.yaml"))]
    assert [manifest["spec"]["predictor"]["maxReplicas"] for manifest in applied] == [1, 4, 1]
    back = json.loads((tmp_path / "promotion" / "promotion-record.json").read_text())
    assert back["action"] == "rollback" and back["service"]["max_replicas"] == 1
    assert back["rolled_back_from"]["service"]["max_replicas"] == 4
    # and rolling back again does not bounce to the resized deploy
    done = run_cli("rollback", "--environment", "dev", cwd=tmp_path, **env)
    assert done.returncode == 2 and "nothing to roll back to" in done.stderr


def test_invalid_manifest_fails_validation_with_every_problem_listed(tmp_path):
    manifest = render(release())
    manifest["metadata"]["name"] = "Iris_Classifier"
    manifest["spec"]["predictor"]["canaryTrafficPercent"] = -5
    (tmp_path / "isvc.yaml").write_text(yaml.safe_dump(manifest))
    done = run_cli("validate", "isvc.yaml", cwd=tmp_path)
    assert done.returncode == 1
    assert "metadata.name: the model name 'Iris_Classifier' is not a KServe InferenceService name" in done.stderr
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

def record(n: int, action: str = "deploy", content: int | None = None, service: ServiceSpec = SERVICE, **extra) -> dict:
    """Promotion record number `n`; its image and weights are those of `content` (default `n`)."""
    content = n if content is None else content
    weights = f"s3://ml-platform-bucket/iris-classifier/models/2024010{content}T000000Z"
    manifest = render(release(version=f"1.{n}.0", environment="dev", image_repository="registry.example.com/x",
                              image_digest=f"sha256:{content:064x}", weights=parse_weights_uri(weights), service=service))
    data = {
        "record_version": 1, "action": action, "model": "iris-classifier", "environment": "dev",
        "version": f"1.{n}.0", "commit": str(n) * 40, "image": f"registry.example.com/x@sha256:{content:064x}",
        "image_digest": f"sha256:{content:064x}", "weights_uri": weights, "service": service.facts("dev"),
        "deployed_at": f"2026-01-0{n}T00:00:00.000000Z", "manifest": manifest,
    }
    data.update(extra)
    return data


def test_rollback_goes_to_the_previous_different_deploy_and_not_back_again():
    first, second = record(1), record(2)
    assert records.rollback_target([first, second]) == (second, first)
    # after rolling back to `first`, another rollback has nowhere sensible to go
    back = record(3, action="rollback", content=1, rolled_back_from={"content_sha256": records.content(second)})
    with pytest.raises(PipelineError, match="nothing to roll back to"):
        records.rollback_target([first, second, back])
    # a redeploy of the same content is skipped
    again = record(4, content=2)
    assert records.rollback_target([first, second, again])[1] is first
    assert records.rollback_target([first, second, record(5)], to=first["commit"][:10])[1] is first
    with pytest.raises(PipelineError, match="no earlier deploy matches"):
        records.rollback_target([first, second], to="9.9.9")
    with pytest.raises(PipelineError, match="no earlier promotion records"):
        records.rollback_target([])


def test_a_change_of_service_metadata_alone_is_a_promotion_rollback_can_undo():
    bigger = ServiceSpec.from_values({**SERVICE_VALUES, "dev_max_replicas": "4", "memory": "2Gi"})
    other_team = ServiceSpec.from_values({**SERVICE_VALUES, "team": "growth"})
    first, resized, reowned = record(1), record(2, content=1, service=bigger), record(3, content=1, service=other_team)
    assert first["image"] == resized["image"] == reowned["image"] and first["weights_uri"] == resized["weights_uri"]
    assert len({records.content(r) for r in (first, resized, reowned)}) == 3
    assert records.rollback_target([first, resized])[1] is first
    assert records.rollback_target([first, resized, reowned])[1] is resized
    # a record written before content digests existed gets one computed from its manifest
    legacy = {key: value for key, value in first.items() if key != "content_sha256"}
    assert records.content(legacy) == records.make_record(
        action="deploy", manifest=first["manifest"], release={"service": first["service"]}, metrics=None)["content_sha256"]


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


# --- hostile input (issue 18): a clear message or a right answer, never an internal error ----------

MALFORMED_RECORDS = {
    "a digest that is a list": {"content_sha256": ["sha256:1"]},
    "a rolled-back-from digest that is a list": {"action": "rollback", "rolled_back_from": {"content_sha256": [1]}},
    "a rolled-back-from manifest that is a list": {"action": "rollback", "rolled_back_from": {"manifest": [1]}},
    "metadata that is a list": {"manifest": {"metadata": ["x"], "spec": {}}},
    "annotations that are a list": {"manifest": {"metadata": {"annotations": ["x"]}, "spec": {}}},
}


@pytest.mark.parametrize("shape", list(MALFORMED_RECORDS))
def test_rollback_ignores_malformed_records(tmp_path, kubectl_recorder, shape):
    folder = tmp_path / "records" / "dev"
    folder.mkdir(parents=True)
    for n, data in ((1, record(1)), (2, record(2)), (3, record(3, **MALFORMED_RECORDS[shape]))):
        data.setdefault("content_sha256", records.content(data)) if n < 3 else None
        (folder / f"{n}.json").write_text(json.dumps(data))
    done = run_cli("rollback", "--environment", "dev", "--dry-run", cwd=tmp_path, SNITCH_RECORDS_DIR=str(tmp_path / "records"),
                   **recorded(kubectl_recorder, tmp_path))
    assert done.returncode == 0, done.stderr
    assert "2 promotion record(s)" in done.stdout and "internal error" not in done.stderr


def test_history_reads_a_records_folder_nested_1500_deep(tmp_path):
    (tmp_path / "records" / "dev").mkdir(parents=True)
    (tmp_path / "records" / "dev" / "1.json").write_text(json.dumps(record(1)))
    folders = [os.open(tmp_path / "records", os.O_RDONLY)]
    try:  # 1,500 levels, made one at a time (a path that long is past PATH_MAX)
        for _ in range(1500):
            os.mkdir("d", dir_fd=folders[-1])
            folders.append(os.open("d", os.O_RDONLY, dir_fd=folders[-1]))
        done = run_cli("history", "--environment", "dev", "--records-dir", str(tmp_path / "records"), cwd=tmp_path)
    finally:  # removed bottom-up here: pytest's recursive clean-up of tmp_path would overflow Python's stack
        folders.pop()
        while folders:
            os.rmdir("d", dir_fd=folders[-1])
            os.close(folders.pop())
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("# 1 record(s)")


def test_validate_explains_metadata_that_is_a_list(tmp_path):
    (tmp_path / "m.yaml").write_text("apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: [a, b]\nspec: {}\n")
    done = run_cli("validate", "m.yaml", "--no-kserve", cwd=tmp_path)
    assert done.returncode == 1 and "internal error" not in done.stderr
    assert f"metadata.name: {model_name_problem(None)}" in done.stderr


@pytest.mark.parametrize("schema, message", [
    ({"properties": {"metadata": {"properties": {"name": {"pattern": "(["}}}}}, "is not a valid regular expression"),
    ({"properties": {"metadata": {"properties": {"name": {"pattern": "^(a+)+$"}}}}}, "exponential time"),
    ({"patternProperties": {"^(a*)*$": {}}}, "exponential time"),
    ({"properties": {"metadata": {"$ref": "https://example.com/schema.json"}}}, "points outside the schema"),
])
def test_validate_refuses_a_schema_it_cannot_use_safely(tmp_path, schema, message):
    (tmp_path / "schema.json").write_text(json.dumps({"type": "object", **schema}))
    name = "a" * 40 + "!"  # what `^(a+)+$` would take minutes on
    (tmp_path / "m.yaml").write_text(f"apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {{name: '{name}'}}\n")
    done = run_cli("validate", "m.yaml", "--no-kserve", "--schema", "schema.json", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "schema.json cannot be used" in done.stderr and message in done.stderr


def test_run_local_refuses_a_nul_in_the_includes_ref(tmp_path):
    (tmp_path / ".gitlab-ci.yml").write_text(
        'include:\n  - project: ml-platform/snitch\n    ref: "v1.0.0\\0"\n    file: ci/model-promotion-pipeline.yml\n')
    done = subprocess.run([sys.executable, str(REPO_ROOT / "ci" / "run-local"), str(tmp_path), "--", "--list"],
                          capture_output=True, text=True, timeout=120, env=ci_environment())
    assert done.returncode == 2, done.stderr
    assert "is not a GitLab project path and ref" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / ".gitlab-ci-local").exists()


def test_render_and_history_read_the_projects_include_inputs(tmp_path):
    (tmp_path / ".gitlab-ci.yml").write_text(yaml.safe_dump({"include": [{
        "project": "ml-platform/snitch", "ref": "v1.0.0", "file": "ci/model-promotion-pipeline.yml",
        "inputs": {"model_name": "iris-classifier", "weights_uri": WEIGHTS, "team": "fraud-detection",
                   "latency_slo_ms": 250, "min_replicas": 2, "max_replicas": 6, "target_concurrency": 8,
                   "cpu": "500m", "memory": "1Gi"}}]}))
    ci_only = {"IMAGE_REPOSITORY": "registry.example.com/ml/iris-classifier", "IMAGE_DIGEST": DIGEST,
               "CI_COMMIT_SHA": COMMIT, "GITLAB_USER_LOGIN": "alice"}
    bare = {key: value for key, value in os.environ.items()
            if not key.startswith(("CI_", "GITLAB_", "SNITCH_", "IMAGE_", "MODEL_", "WEIGHTS_", "SERVICE_", "AWS_"))
            and key not in ("LATENCY_SLO_MS", "MIN_REPLICAS", "MAX_REPLICAS", "TARGET_CONCURRENCY")}
    done = subprocess.run([sys.executable, "-m", "snitch.pipeline", "render", "-e", "production", "-p", str(tmp_path)],
                          env={**bare, **ci_only}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    manifest = yaml.safe_load(done.stdout)
    assert manifest["metadata"]["name"] == "iris-classifier"
    predictor = manifest["spec"]["predictor"]
    assert predictor["model"]["storageUri"] == WEIGHTS and (predictor["minReplicas"], predictor["maxReplicas"]) == (2, 6)
    # a variable that is set wins over the project's value, as in CI
    done = subprocess.run([sys.executable, "-m", "snitch.pipeline", "render", "-e", "dev", "-p", str(tmp_path)],
                          env={**bare, **ci_only, "DEV_MAX_REPLICAS": "2"}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and yaml.safe_load(done.stdout)["spec"]["predictor"]["maxReplicas"] == 2, done.stderr
    (tmp_path / "records" / "dev").mkdir(parents=True)
    (tmp_path / "records" / "dev" / "1.json").write_text(json.dumps(record(1)))
    done = subprocess.run([sys.executable, "-m", "snitch.pipeline", "history", "-e", "dev", "--records-dir",
                           str(tmp_path / "records")], cwd=tmp_path, env=bare, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("# 1 record(s)"), done.stderr


def test_render_reads_the_organisation_config_the_project_hands_its_pipeline(tmp_path):
    """`render -p` run by hand, from another folder, with no $SNITCH_CONFIG: the bucket a weights
    URI must use comes from the config the project's `snitch_config` input names (a path in the
    project), as it does in the project's CI and for snitch."""
    project = tmp_path / "project"
    (project / ".snitch").mkdir(parents=True)
    (project / ".snitch" / "config.yaml").write_text("bucket: acme-ml-models\n")
    weights = "s3://acme-ml-models/iris-classifier/models/20240102T030405Z"
    (project / ".gitlab-ci.yml").write_text(yaml.safe_dump({"include": [{
        "project": "ml-platform/snitch", "ref": "v1.0.0", "file": "ci/model-promotion-pipeline.yml",
        "inputs": {"model_name": "iris-classifier", "weights_uri": weights, "snitch_config": ".snitch/config.yaml",
                   "team": "fraud-detection", "latency_slo_ms": 250, "min_replicas": 1, "max_replicas": 2,
                   "target_concurrency": 8, "cpu": "500m", "memory": "1Gi"}}]}))
    home = tmp_path / "home"
    home.mkdir()
    bare = {key: value for key, value in os.environ.items()
            if not key.startswith(("CI_", "GITLAB_", "SNITCH_", "IMAGE_", "MODEL_", "WEIGHTS_", "AWS_"))}
    environment = {**bare, "HOME": str(home), "XDG_CONFIG_HOME": str(home), "CI_COMMIT_SHA": COMMIT,
                   "IMAGE_REPOSITORY": "registry.example.com/ml/iris-classifier", "IMAGE_DIGEST": DIGEST,
                   "GITLAB_USER_LOGIN": "alice"}
    render = [sys.executable, "-m", "snitch.pipeline", "render", "-e", "dev", "-p", str(project)]
    done = subprocess.run(render, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert yaml.safe_load(done.stdout)["spec"]["predictor"]["model"]["storageUri"] == weights
    # the organisation's own config, set for the job, still wins over the project's copy
    (tmp_path / "org.yaml").write_text("bucket: org-models\n")
    done = subprocess.run(render, cwd=tmp_path, env={**environment, "SNITCH_CONFIG": str(tmp_path / "org.yaml")},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "s3://org-models/iris-classifier/models/" in done.stderr, done.stderr
    # a config the input names but the project lacks is named, with the fix, not a traceback
    (project / ".snitch" / "config.yaml").unlink()
    done = subprocess.run(render, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "names '.snitch/config.yaml', which does not exist in the project" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_deploy_refuses_a_model_name_kserve_refuses_with_the_checkers_rule():
    """`123-model` is a DNS label but no InferenceService name: the manifest check says so with
    snitch.facts.names.model_name_problem, the function standard 9 and the template use."""
    from snitch.facts.names import model_name_problem
    from snitch.pipeline.validate import rule_problems

    manifest = render(release())
    manifest["metadata"]["name"] = "123-model"
    assert f"metadata.name: {model_name_problem('123-model')}" in rule_problems(manifest)
