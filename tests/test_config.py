"""One organisation config, read everywhere: where it is found, `mandatory`, and the pipeline's
bucket rule and build labels reading the same parameters as the checker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from snitch.pipeline.errors import PipelineError
from snitch.pipeline.weights import parse_weights_uri
from snitch.read.image_labels import build_argument_labels
from snitch.standards import config
from snitch.standards.document import StandardsError

ACME = """\
bucket: acme-ml-models
coverage_floor: 85
docs_url: https://wiki.acme.io/ml/model-standards
mandatory: [6]
image_labels: [org.opencontainers.image.authors, org.opencontainers.image.version, org.opencontainers.image.source,
               org.opencontainers.image.revision, org.opencontainers.image.created, model]
vcs_ref_label: org.opencontainers.image.revision
build_date_label: org.opencontainers.image.created
vcs_url_label: org.opencontainers.image.source
version_labels: [org.opencontainers.image.version]
"""


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No SNITCH_CONFIG, and an empty XDG config folder (the machine's own config must not count)."""
    monkeypatch.delenv(config.CONFIG_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg"


@pytest.fixture
def acme(tmp_path) -> Path:
    path = tmp_path / "acme.yaml"
    path.write_text(ACME)
    return path


def test_the_default_place_is_read_when_nothing_else_is_given(clean_env):
    assert config.default_config_path() == clean_env / "snitch" / "config.yaml"
    assert config.load_standards().parameters["bucket"] == "ml-platform-bucket"  # no file there yet
    (clean_env / "snitch").mkdir(parents=True)
    (clean_env / "snitch" / "config.yaml").write_text("bucket: from-the-default-place\n")
    standards = config.load_standards()
    assert standards.parameters["bucket"] == "from-the-default-place"
    assert standards.config == clean_env / "snitch" / "config.yaml"


def test_without_xdg_the_default_place_is_under_home(clean_env, monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert config.default_config_path() == tmp_path / "home" / ".config" / "snitch" / "config.yaml"


def test_option_beats_environment_beats_default_place(clean_env, monkeypatch, tmp_path):
    (clean_env / "snitch").mkdir(parents=True)
    (clean_env / "snitch" / "config.yaml").write_text("bucket: default-place\n")
    from_env = tmp_path / "env.yaml"
    from_env.write_text("bucket: from-env\n")
    option = tmp_path / "option.yaml"
    option.write_text("bucket: from-option\n")
    monkeypatch.setenv(config.CONFIG_ENV, str(from_env))
    assert config.load_standards().parameters["bucket"] == "from-env"
    assert config.load_standards(option).parameters["bucket"] == "from-option"


def test_the_cli_uses_the_default_place(clean_env, compliant):
    (clean_env / "snitch").mkdir(parents=True)
    (clean_env / "snitch" / "config.yaml").write_text("bucket: elsewhere\n")
    run = subprocess.run([sys.executable, "-m", "snitch", "-p", str(compliant), "--format", "json"],
                         capture_output=True, text=True, timeout=120, env=os.environ.copy())
    assert run.returncode == 1, run.stdout + run.stderr
    assert "instead of 'elsewhere'" in run.stdout


@pytest.mark.parametrize("value, words", [
    ("[99]", "lists 99, which is not a standard number"),
    ("['3']", "lists '3', which is not a standard number"),
    ("[true]", "lists True, which is not a standard number"),
    ("3", "mandatory must be a list"),
])
def test_mandatory_lists_existing_standard_numbers(clean_env, tmp_path, value, words):
    path = tmp_path / "bad.yaml"
    path.write_text(f"mandatory: {value}\n")
    with pytest.raises(StandardsError, match=words):
        config.load_standards(path)


def test_mandatory_and_label_roles_are_parameters(acme):
    parameters = config.load_standards(acme).parameters
    assert parameters["mandatory"] == [6]
    assert config.load_standards().parameters["mandatory"] == []


def test_pipeline_refuses_weights_outside_the_configured_bucket(clean_env, monkeypatch, acme):
    default_uri = "s3://ml-platform-bucket/iris-classifier/models/20240102T030405Z"
    acme_uri = "s3://acme-ml-models/iris-classifier/models/20240102T030405Z"
    assert parse_weights_uri(default_uri, "iris-classifier").bucket == "ml-platform-bucket"
    with pytest.raises(PipelineError, match="bucket 'acme-ml-models' instead of 'ml-platform-bucket'"):
        parse_weights_uri(acme_uri, "iris-classifier")
    monkeypatch.setenv(config.CONFIG_ENV, str(acme))
    assert parse_weights_uri(acme_uri, "iris-classifier").bucket == "acme-ml-models"
    with pytest.raises(PipelineError, match="bucket 'ml-platform-bucket' instead of 'acme-ml-models'"):
        parse_weights_uri(default_uri, "iris-classifier")


def test_pipeline_reports_a_broken_config_as_a_pipeline_error(clean_env, monkeypatch, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("bucket: [not, a, string]\n")
    monkeypatch.setenv(config.CONFIG_ENV, str(broken))
    with pytest.raises(PipelineError, match="bucket must be text.*snitch_config"):
        parse_weights_uri("s3://ml-platform-bucket/iris-classifier/models/20240102T030405Z", "iris-classifier")


def test_build_labels_follow_the_configured_label_names(acme):
    assert build_argument_labels(config.load_standards().parameters) == {
        "version": "VERSION",
        "org.label-schema.version": "VERSION",
        "org.label-schema.build-date": "BUILD_DATE",
        "org.label-schema.vcs-ref": "VCS_REF",
        "org.label-schema.vcs-url": "VCS_URL",
    }
    assert build_argument_labels(config.load_standards(acme).parameters) == {
        "org.opencontainers.image.version": "VERSION",
        "org.opencontainers.image.created": "BUILD_DATE",
        "org.opencontainers.image.revision": "VCS_REF",
        "org.opencontainers.image.source": "VCS_URL",
    }


def test_pipeline_has_no_copy_of_the_bucket_or_label_names():
    """The pipeline's rules read the parameters; no default value is written in its code."""
    source = Path(__file__).resolve().parents[1] / "src" / "snitch" / "pipeline"
    for path in source.glob("*.py"):
        text = path.read_text()
        for value in ("ml-platform-bucket", "org.label-schema"):
            assert value not in text, f"{path.name} repeats {value!r}"


@pytest.mark.parametrize("text, words", [
    ("bucket: Not_A_Bucket\n", "bucket is 'Not_A_Bucket', not an S3 bucket name"),
    ("teams: [Bad Team]\n", "teams lists 'Bad Team', not a team name usable as a Kubernetes label"),
    ("replicas_limit: 0\n", "replicas_limit is 0; it must be at least 1 (a model needs at least one replica)"),
    ("replicas_limit: '4'\n", "replicas_limit must be a whole number like the default 20, got '4'"),
    ("pipeline_ref: main\n", "pipeline_ref gives the ref 'main', which is not a release tag"),
    ("label_values: {model: x}\nimage_labels: [author]\n", "label_values gives 'model', which image_labels does not list"),
    ("label_values: {author: \"a\\nRUN curl evil\"}\n", "label_values gives author 'a\\nRUN curl evil', which holds a control character"),
])
def test_values_that_break_the_shared_rules_are_refused_with_exit_2(clean_env, compliant, tmp_path, text, words):
    path = tmp_path / "org.yaml"
    path.write_text(text)
    done = subprocess.run([sys.executable, "-m", "snitch", "-p", str(compliant), "--config", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"config file {path}: " in done.stderr and words in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_a_configured_ref_that_its_pattern_accepts_loads(clean_env, tmp_path):
    path = tmp_path / "org.yaml"
    path.write_text("pipeline_ref: release-7\npipeline_ref_pattern: '^release-[0-9]+$'\nteams: [fraud, ml-team]\n")
    parameters = config.load_standards(path).parameters
    assert parameters["pipeline_ref"] == "release-7" and parameters["teams"] == ["fraud", "ml-team"]


def _with_project_config(project: Path, text: str | None, path: str = ".snitch/config.yaml") -> None:
    """Point the project's include at its own config (`snitch_config` input), holding `text`."""
    ci = project / ".gitlab-ci.yml"
    ci.write_text(ci.read_text().replace("      coverage_floor: 80\n", f"      coverage_floor: 80\n      snitch_config: {path}\n"))
    if text is not None:
        (project / ".snitch").mkdir(exist_ok=True)
        (project / ".snitch" / "config.yaml").write_text(text)


def _snitch_json(project: Path, *args: str) -> tuple[int, dict | None, str]:
    done = subprocess.run([sys.executable, "-m", "snitch", "-p", str(project), "--format", "json", *args],
                          capture_output=True, text=True, timeout=120, env=os.environ.copy())
    import json

    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else None, done.stderr


def test_without_an_organisation_config_the_projects_own_config_is_used(clean_env, compliant):
    _with_project_config(compliant, "bucket: acme-ml-models\n")
    code, report, _ = _snitch_json(compliant)
    assert code == 1
    assert report["config"]["path"] == str(compliant / ".snitch" / "config.yaml")
    assert report["config"]["source"] == "the snitch_config input of the project's .gitlab-ci.yml"
    bucket = next(check for check in report["checks"] if check["check"] == "test_weights_uri_uses_bucket_and_project")
    assert "instead of 'acme-ml-models'" in bucket["message"]


def test_the_organisations_config_wins_over_the_projects_copy_and_says_they_differ(clean_env, compliant, tmp_path):
    _with_project_config(compliant, "coverage_floor: 50\n")  # a project loosening its own copy
    organisation = tmp_path / "org.yaml"
    organisation.write_text("coverage_floor: 90\n")
    code, report, _ = _snitch_json(compliant, "--config", str(organisation))
    assert code == 1  # the project declares 80, below the organisation's 90
    assert report["config"] == {
        "path": str(organisation), "source": "--config",
        "project_copy_note": f"the project's .snitch/config.yaml differs from this config in coverage_floor; this run "
                             f"(and CI with the organisation's config) uses {organisation}: update the copy to match",
    }
    text = subprocess.run([sys.executable, "-m", "snitch", "-p", str(compliant), "--config", str(organisation)],
                          capture_output=True, text=True, timeout=120).stdout
    assert f"with parameters from {organisation} (--config)" in text and "Note: the project's .snitch/config.yaml differs" in text


@pytest.mark.parametrize("text, path, words", [
    ("bucket: Not_A_Bucket\n", ".snitch/config.yaml", ".snitch/config.yaml: bucket is 'Not_A_Bucket', not an S3 bucket name"),
    (None, ".snitch/config.yaml", "the include input `snitch_config` names '.snitch/config.yaml', which does not exist in the project"),
    (None, "../../outside.yaml", "names '../../outside.yaml', which "),
    ("# a config nobody reads to the end\n" * 10_000, ".snitch/config.yaml", "config.yaml is 0.3 MiB, too large"),
], ids=["invalid", "missing", "outside", "huge"])
def test_a_project_config_that_cannot_be_used_is_exit_2_naming_the_file(clean_env, compliant, text, path, words):
    _with_project_config(compliant, text, path)
    code, _, stderr = _snitch_json(compliant)
    assert code == 2
    assert words in stderr and "Traceback" not in stderr, stderr


def test_a_broken_project_copy_does_not_stop_a_run_under_the_organisations_config(clean_env, compliant, tmp_path):
    _with_project_config(compliant, "bucket: [broken\n")
    organisation = tmp_path / "org.yaml"
    organisation.write_text("coverage_floor: 80\n")
    code, report, _ = _snitch_json(compliant, "--config", str(organisation))
    assert code == 0
    assert report["config"]["project_copy_note"].startswith("the project's own config cannot be used, so it was not compared")
