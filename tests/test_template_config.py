"""The template takes the organisation's config: a project rendered with SNITCH_CONFIG=acme.yaml
uses acme's bucket, labels, coverage floor and pipeline project, passes `snitch --config
acme.yaml`, fails the default standards where acme differs, and its image build writes acme's labels."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.checker import run_json
from fixtures.pipeline import tool_missing
from fixtures.template import git_commit_all, render_project

from snitch.read.dockerfile import final_stage

ACME = """\
bucket: acme-ml-models
coverage_floor: 85
docs_url: https://wiki.acme.io/ml/model-standards
pipeline_project: acme/ml-pipeline
image_labels:
  - org.opencontainers.image.authors
  - org.opencontainers.image.version
  - org.opencontainers.image.source
  - org.opencontainers.image.revision
  - org.opencontainers.image.created
  - org.opencontainers.image.vendor
  - model
vcs_ref_label: org.opencontainers.image.revision
build_date_label: org.opencontainers.image.created
vcs_url_label: org.opencontainers.image.source
version_labels: [org.opencontainers.image.version]
"""
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def acme_config(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("org") / "acme.yaml"
    path.write_text(ACME)
    return path


@pytest.fixture(scope="module")
def acme_project(acme_config, tmp_path_factory) -> Path:
    """A real cookiecutter render with SNITCH_CONFIG=acme.yaml, committed to git."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SNITCH_CONFIG", str(acme_config))
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg")))
        project = render_project(tmp_path_factory.mktemp("acme"))
    return git_commit_all(project)


def test_acme_render_uses_acme_values(acme_project):
    ci = (acme_project / ".gitlab-ci.yml").read_text()
    assert "project: acme/ml-pipeline" in ci
    assert "weights_uri: s3://acme-ml-models/iris-classifier/models/" in ci
    assert "coverage_floor: 85" in ci
    labels = final_stage((acme_project / "Dockerfile").read_text()).labels
    assert set(labels) == {
        "org.opencontainers.image.authors", "org.opencontainers.image.version", "org.opencontainers.image.source",
        "org.opencontainers.image.revision", "org.opencontainers.image.created", "org.opencontainers.image.vendor", "model",
    }
    assert labels["org.opencontainers.image.revision"].value == "${VCS_REF}"
    assert labels["org.opencontainers.image.authors"].value == "ml-team@example.com"
    assert labels["model"].value == "iris-classifier"
    assert "acme/ml-pipeline" in (acme_project / ".pre-commit-config.yaml").read_text()


def test_acme_project_passes_acme_and_fails_the_defaults_where_they_differ(acme_project, acme_config, tmp_path):
    with_acme = run_json(acme_project, "--config", str(acme_config))
    assert with_acme.code == 0, with_acme.stdout + with_acme.stderr
    assert with_acme.report["summary"]["failed"] == 0
    # An organisation config of the defaults wins over the project's copy of acme's
    defaults = tmp_path / "defaults.yaml"
    defaults.write_text("# the standards' defaults\n")
    with_defaults = run_json(acme_project, "--config", str(defaults))
    assert with_defaults.code == 1
    note = with_defaults.report["config"]["project_copy_note"]
    assert note.startswith("the project's .snitch/config.yaml differs from this config in bucket, ")
    assert with_defaults.failed() == {
        "test_dockerfile_final_stage_sets_required_labels",  # OCI labels, not label-schema
        "test_gitlab_ci_includes_shared_pipeline",  # acme's pipeline project
    }
    # no include of the default pipeline to read a ref from: skipped, naming the failure above
    assert with_defaults.check("test_shared_pipeline_ref_is_pinned_tag")["outcome"] == "skipped"
    # nor its inputs (acme's bucket, acme's floor): standard 9 owns the missing include
    for inputs_check in ("test_gitlab_ci_declares_weights_uri", "test_ci_sets_coverage_floor"):
        assert "standard 9" in with_defaults.check(inputs_check)["message"]


def test_default_render_passes_the_defaults_and_fails_acme(rendered_project, acme_config):
    assert run_json(rendered_project, env={"SNITCH_CONFIG": ""}).code == 0
    with_acme = run_json(rendered_project, "--config", str(acme_config))
    # the default include is not acme's pipeline: standard 9 fails, and the checks of its inputs wait for it
    assert "test_gitlab_ci_includes_shared_pipeline" in with_acme.failed()
    assert "test_dockerfile_final_stage_sets_required_labels" in with_acme.failed()


def test_the_coverage_floor_answer_must_reach_the_organisations_minimum(acme_config, tmp_path, monkeypatch):
    from cookiecutter.exceptions import FailedHookException

    monkeypatch.setenv("SNITCH_CONFIG", str(acme_config))
    with pytest.raises(FailedHookException, match=r"coverage_floor='82' must be between 85 and 100 \(the organisation's minimum is 85\)"):
        render_project(tmp_path, coverage_floor="82")
    assert not (tmp_path / "iris-classifier").exists()


def test_a_label_the_template_cannot_fill_is_asked_for_not_refused(tmp_path, monkeypatch):
    from cookiecutter.exceptions import FailedHookException

    config = tmp_path / "odd.yaml"
    config.write_text("image_labels: [model, team.cost-centre]\n")
    monkeypatch.setenv("SNITCH_CONFIG", str(config))
    # with --no-input nobody can be asked: the refusal names the answer to give
    with pytest.raises(FailedHookException, match=r"extra_labels='team.cost-centre=' gives no value for 'team.cost-centre'"
                       r".*answer team.cost-centre=<value>, or set label_values in the organisation's config"):
        render_project(tmp_path)
    assert not (tmp_path / "iris-classifier").exists()
    project = render_project(tmp_path, extra_labels="team.cost-centre=CC 42; ")
    assert final_stage((project / "Dockerfile").read_text()).labels["team.cost-centre"].value == "CC 42"


def test_a_broken_config_stops_the_render_with_its_problem(tmp_path):
    config = tmp_path / "broken.yaml"
    config.write_text("bucket: [1, 2]\n")
    done = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "--output-dir", str(tmp_path / "out"),
         str(Path(__file__).resolve().parents[1] / "model-project-template")],
        capture_output=True, text=True, timeout=120, env={**os.environ, "SNITCH_CONFIG": str(config)},
    )
    assert done.returncode != 0
    assert "Cannot read the organisation's parameters" in done.stdout + done.stderr
    assert "bucket must be text" in done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.skipif(bool(tool_missing("buildah")), reason=str(tool_missing("buildah")))
def test_the_build_writes_acmes_labels(acme_project, acme_config, tmp_path):
    layout = tmp_path / "oci"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CI_", "SNITCH_"))}
    env.update(
        SNITCH_CONFIG=str(acme_config), IMAGE_REPOSITORY="registry.acme.io/ml/iris-classifier", CI_COMMIT_SHA=COMMIT,
        CI_COMMIT_TAG="v1.2.3", CI_PROJECT_URL="https://gitlab.acme.io/ml/iris-classifier",
        SNITCH_BUILDAH_ROOT=str(tmp_path / "buildah"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "snitch.pipeline", "build", "--labels-only", "--push", f"oci:{layout}",
         "--output-dir", str(tmp_path / "image")],
        cwd=acme_project, env=env, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    index = json.loads((layout / "index.json").read_text())

    def blob(digest: str) -> dict:
        algorithm, value = digest.split(":")
        return json.loads((layout / "blobs" / algorithm / value).read_text())

    labels = blob(blob(index["manifests"][-1]["digest"])["config"]["digest"])["config"]["Labels"]
    assert labels["org.opencontainers.image.revision"] == COMMIT
    assert labels["org.opencontainers.image.version"] == "1.2.3"
    assert labels["org.opencontainers.image.source"] == "https://gitlab.acme.io/ml/iris-classifier"
    assert labels["org.opencontainers.image.created"].endswith("Z")
    assert not any(label.startswith("org.label-schema") for label in labels)
    checked = subprocess.run(
        [sys.executable, "-m", "snitch", "-p", str(acme_project), "--image", f"oci:{layout}:1.2.3", "-s", "6",
         "--format", "json"],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


ACCEPTANCE = """\
# {{ 7 * 7 }} stays a comment in the project's copy: the copy is data, never a template
bucket: acme-ml-models
coverage_floor: 85
teams: [fraud, vision]
replicas_limit: 5
cpu_limit: "2"
memory_limit: 4Gi
image_labels: [author, version, model, org.label-schema.vcs-ref, org.label-schema.build-date,
               org.label-schema.vcs-url, com.acme.cost-center]
label_values: {com.acme.cost-center: CC-1234}
"""


def test_day_one_under_an_organisation_config(tmp_path, monkeypatch):
    """The issue's acceptance: a listed team renders, the Dockerfile carries the configured label
    value, and snitch inside the project passes with no flag, no SNITCH_CONFIG, no ~/.config."""
    config = tmp_path / "acme.yaml"
    config.write_text(ACCEPTANCE)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("SNITCH_CONFIG", str(config))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    project = render_project(tmp_path, team="vision")
    assert final_stage((project / "Dockerfile").read_text()).labels["com.acme.cost-center"].value == "CC-1234"
    assert (project / ".snitch" / "config.yaml").read_text() == ACCEPTANCE
    assert "snitch_config: .snitch/config.yaml" in (project / ".gitlab-ci.yml").read_text()
    clean = {key: value for key, value in os.environ.items() if key != "SNITCH_CONFIG"}
    clean.update(HOME=str(home), XDG_CONFIG_HOME=str(home))
    done = subprocess.run([sys.executable, "-m", "snitch"], cwd=project, env=clean, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"with parameters from {project / '.snitch' / 'config.yaml'} (the snitch_config input" in done.stdout


@pytest.mark.parametrize("answers, named", [
    ({"team": "payments"}, "team 'payments' is not one of the organisation's teams (fraud, vision; parameter `teams`)"),
    ({"max_replicas": "6"}, "max_replicas is 6, above the organisation's limit of 5 (replicas_limit)"),
    ({"cpu": "3"}, "cpu is 3, above the organisation's limit of 2 (cpu_limit)"),
    ({"memory": "8Gi"}, "memory is 8Gi, above the organisation's limit of 4Gi (memory_limit)"),
    ({"s3_bucket": "ml-platform-bucket"}, "s3_bucket='ml-platform-bucket' is not the organisation's bucket 'acme-ml-models'"),
])
def test_answers_over_the_organisations_rules_are_refused_before_anything_is_written(tmp_path, monkeypatch, answers, named):
    from cookiecutter.exceptions import FailedHookException

    config = tmp_path / "acme.yaml"
    config.write_text(ACCEPTANCE)
    monkeypatch.setenv("SNITCH_CONFIG", str(config))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    with pytest.raises(FailedHookException) as refusal:
        render_project(tmp_path, **{"team": "fraud", **answers})
    assert named in str(refusal.value) and str(config) in str(refusal.value)
    assert not (tmp_path / "iris-classifier").exists()
