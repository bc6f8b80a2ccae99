"""The experimentation job end to end: gitlab-ci-local runs the shared pipeline's `experiment`
job on a rendered project against a real S3 endpoint on loopback (moto's server), then the
patch it hands on is applied and a dev deploy's promotion record carries the new weights' metrics.

Real: gitlab-ci-local (rules, dotenv report), the project's own train.py/evaluate.py/publish.py,
S3 over HTTP, git apply, snitch. Faked: kubectl (a recorder) and the registry (an OCI layout)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from fixtures.pipeline import KSERVE_SCHEMA, artifact, ci_project, job_environment, read_dotenv, run_local, tool_missing
from fixtures.s3 import AWS_TEST_ENV, s3_client
from fixtures.template import git, git_commit_all
from snitch.pipeline import experiment, s3
from snitch.pipeline.errors import PipelineError

BUCKET = "ml-platform-bucket"
MODEL = "iris-classifier"
WEIGHTS = re.compile(rf"s3://{BUCKET}/{MODEL}/models/\d{{8}}T\d{{6}}Z")

# Writes datasets/train.csv and datasets/eval.csv from the iris data scikit-learn ships; with
# "wrong", the evaluation labels are rotated so no model can pass the accuracy gate.
DATASETS_SCRIPT = """
import csv, sys
import model
for split in ("train", "eval"):
    features, labels = model.load_dataset(split=split)
    shift = 1 if split == "eval" and sys.argv[2] == "wrong" else 0
    with open(f"{sys.argv[1]}/{split}.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(model.FEATURES + [model.TARGET])
        for row, label in zip(features.tolist(), labels):
            writer.writerow(row + [model.CLASSES[(label + shift) % len(model.CLASSES)]])
"""


def upload_datasets(s3_api, project: Path, model_env: Path, tmp_path: Path, labels: str = "right") -> None:
    folder = tmp_path / f"datasets-{labels}"
    folder.mkdir()
    done = subprocess.run([str(model_env / "python"), "-c", DATASETS_SCRIPT, str(folder), labels], cwd=project,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for path in folder.iterdir():
        s3_api.upload_file(str(path), BUCKET, f"{MODEL}/datasets/{path.name}")


def published(s3_api) -> set[str]:
    listing = s3_api.list_objects_v2(Bucket=BUCKET, Prefix=f"{MODEL}/models/")
    return {item["Key"] for item in listing.get("Contents", [])}


def declared_weights(project: Path) -> str:
    return re.search(r"weights_uri: (\S+)", (project / ".gitlab-ci.yml").read_text())[1]


def run_experiment(project: Path, env: dict, *extra: str, source: str = "web"):
    return run_local(project, "experiment", "--", "--variable", f"CI_PIPELINE_SOURCE={source}", *extra, **env)


@pytest.mark.slow
@pytest.mark.skipif(bool(tool_missing("gitlab-ci-local", "rsync", "git", "buildah")),
                    reason=str(tool_missing("gitlab-ci-local", "rsync", "git", "buildah")))
@pytest.mark.skipif(not KSERVE_SCHEMA.is_file(), reason=f"{KSERVE_SCHEMA} is missing")
def test_experiment_trains_gates_publishes_and_hands_on_the_new_weights(
        tmp_path, model_site, kubectl_recorder, snitch_wheel, model_env, s3_endpoint):
    project = ci_project(tmp_path)
    s3_api = s3_client(s3_endpoint)
    s3_api.create_bucket(Bucket=BUCKET)
    upload_datasets(s3_api, project, model_env, tmp_path)
    env = job_environment(model_site, kubectl_recorder, snitch_wheel, tmp_path,
                          **AWS_TEST_ENV, AWS_ENDPOINT_URL=s3_endpoint)

    # 1. a person starts it from scratch: train -> evaluate -> publish -> hand on
    done = run_experiment(project, env)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-6000:]
    assert re.search(r"PASS\s+experiment", log)
    handed = read_dotenv(artifact(project, "experiment", "experiment/experiment.env"))
    first = handed["EXPERIMENT_WEIGHTS_URI"]
    assert WEIGHTS.fullmatch(first) and handed["EXPERIMENT_FINE_TUNED"] == "false"
    assert handed["EXPERIMENT_PREVIOUS_WEIGHTS_URI"] == declared_weights(project)
    prefix = first[len(f"s3://{BUCKET}/"):] + "/"
    assert {prefix + name for name in ("model.joblib", "model_hash.txt", "metrics.json")} <= published(s3_api)
    metrics = json.loads(s3_api.get_object(Bucket=BUCKET, Key=prefix + "metrics.json")["Body"].read())
    assert metrics["passed"] is True and metrics["accuracy"] >= metrics["threshold"]
    assert json.loads(artifact(project, "experiment", "experiment/metrics.json").read_text()) == metrics
    summary = json.loads(artifact(project, "experiment", "experiment/experiment.json").read_text())
    assert summary["started_by"] == "alice" and summary["pipeline_source"] == "web"
    assert summary["datasets_uri"] == f"s3://{BUCKET}/{MODEL}/datasets/"

    # the patch is ready to apply; the project then declares the new weights and stays compliant
    patch = str(artifact(project, "experiment", "experiment/weights_uri.patch"))
    git("apply", "--check", patch, cwd=project)
    git("apply", patch, cwd=project)
    assert declared_weights(project) == first
    git_commit_all(project, "Serve the weights of the experiment")

    # 2. fine-tuning from the weights now declared
    done = run_experiment(project, env, "--variable", "EXPERIMENT_FINE_TUNE=true")
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    tuned = json.loads(artifact(project, "experiment", "experiment/experiment.json").read_text())
    assert tuned["fine_tuned_from"] == first and WEIGHTS.fullmatch(tuned["weights_uri"]) and tuned["weights_uri"] != first
    assert f"fine-tuning from the declared weights {first}" in done.stdout

    # 3. a nightly schedule on data no model can pass: the gate fails the job, nothing new is published
    before = published(s3_api)
    upload_datasets(s3_api, project, model_env, tmp_path, labels="wrong")
    done = run_experiment(project, env, source="schedule")
    log = done.stdout + done.stderr
    assert done.returncode != 0 and re.search(r"FAIL\s+experiment", log)
    assert "the new weights miss the evaluation threshold; nothing was published" in log
    assert published(s3_api) == before

    # 4. the merge request's pipeline deploys the first experiment's weights: its record carries their metrics
    done = run_local(project, "build", "deploy-dev", **env)
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    record = json.loads(artifact(project, "deploy-dev", "promotion/promotion-record.json").read_text())
    assert record["weights_uri"] == first and record["metrics"] == metrics
    assert record["service"]["team"] == "ml-team" and record["service"]["min_replicas"] == 0  # dev scales to zero


def test_weights_uri_patch_applies_with_git(tmp_path):
    project = ci_project(tmp_path)
    old = declared_weights(project)
    new = f"s3://{BUCKET}/{MODEL}/models/20991231T000000Z"
    (tmp_path / "change.patch").write_text(experiment.weights_uri_patch(project, old, new))
    git("apply", str(tmp_path / "change.patch"), cwd=project)
    assert declared_weights(project) == new
    assert experiment.weights_uri_patch(project, old, new) is None  # no longer spelled out: nothing to patch


def test_hostile_dataset_keys_never_land_outside_the_folder(tmp_path, s3_endpoint, monkeypatch):
    for key, value in {**AWS_TEST_ENV, "AWS_ENDPOINT_URL": s3_endpoint}.items():
        monkeypatch.setenv(key, value)
    s3_api = s3_client(s3_endpoint)
    s3_api.create_bucket(Bucket=BUCKET)
    s3_api.put_object(Bucket=BUCKET, Key=f"{MODEL}/datasets/train.csv", Body=b"a\n")
    s3_api.put_object(Bucket=BUCKET, Key=f"{MODEL}/datasets/../../escape.csv", Body=b"x\n")
    destination = tmp_path / "work" / "datasets"
    with pytest.raises(PipelineError, match="would land outside the destination folder"):
        s3.download_prefix(BUCKET, f"{MODEL}/datasets/", destination)
    assert not list(tmp_path.rglob("escape.csv"))
    with pytest.raises(s3.Missing, match="nothing is stored under"):
        s3.download_prefix(BUCKET, "other-model/datasets/", destination)


@pytest.mark.parametrize("variables, message", [
    ({}, "variable MODEL_NAME is not set"),
    ({"MODEL_NAME": MODEL, "WEIGHTS_URI": "s3://ml-platform-bucket/other/models/20240101T000000Z"},
     "uses project 'other' instead of the model name 'iris-classifier'"),
    ({"MODEL_NAME": MODEL, "WEIGHTS_URI": f"s3://{BUCKET}/{MODEL}/models/20240101T000000Z",
      "EXPERIMENT_DATASETS_URI": "https://example.com/data"}, "is not an s3://bucket/prefix URI"),
])
def test_experiment_explains_bad_settings_without_a_traceback(tmp_path, variables, message):
    import os
    import sys

    env = {key: value for key, value in os.environ.items() if not key.startswith(("CI_", "MODEL_", "WEIGHTS_", "EXPERIMENT_"))}
    done = subprocess.run([sys.executable, "-m", "snitch.pipeline", "experiment"], cwd=tmp_path, env={**env, **variables},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_dataset_keys_that_are_a_file_and_a_folder_are_named(tmp_path, s3_endpoint, monkeypatch):
    for key, value in {**AWS_TEST_ENV, "AWS_ENDPOINT_URL": s3_endpoint}.items():
        monkeypatch.setenv(key, value)
    s3_api = s3_client(s3_endpoint)
    bucket = "file-and-folder"  # the S3 server lives for the session: a bucket of this test's own
    s3_api.create_bucket(Bucket=bucket)
    for key in ("a", "a/b"):
        s3_api.put_object(Bucket=bucket, Key=f"{MODEL}/datasets/{key}", Body=b"x\n")
    with pytest.raises(PipelineError, match=r"datasets/a is an object and also a folder of .*datasets/a/b"):
        s3.download_prefix(bucket, f"{MODEL}/datasets/", tmp_path / "datasets")
    assert not (tmp_path / "datasets").exists()
