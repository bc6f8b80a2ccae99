"""Rendering model-project-template: file set, answers, validation, git URLs, prompts.

The heavier tests that run the rendered project (its own tests, train/evaluate/serve/publish,
snitch) are in test_template_project.py; cruft create/update is in test_template_cruft.py.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fixtures.template import DEFAULT_MODEL_NAME, PROJECT_TEMPLATE_DIR, TEMPLATE_DIR, git_commit_all, render_project, rendered_answers
from snitch.standards import document

EXPECTED_FILES = {
    ".dockerignore",
    ".gitignore",
    ".gitlab-ci.yml",
    ".pre-commit-config.yaml",
    "Dockerfile",
    "README.md",
    "evaluate.py",
    "model.py",
    "noxfile.py",
    "openapi.yaml",
    "publish.py",
    "pyproject.toml",
    "requirements-dev.txt",
    "requirements.txt",
    "schemathesis.toml",
    "serve.py",
    "train.py",
    "tests/conftest.py",
    "tests/test_contract.py",
    "tests/test_evaluate.py",
    "tests/test_model.py",
    "tests/test_publish.py",
    "tests/test_serve.py",
    "tests/test_train.py",
}
EXPECTED_DIRS = {"datasets", "tests", "weights"}

# Answer sets baked by the tests (cookiecutter-data-science style); the expected model name
# is the second item.
VARIANTS = {
    "default": ({}, DEFAULT_MODEL_NAME),
    "odd-name": (
        {
            "project_name": "Ünïcode — Fraud/Detector v2!!",
            "project_description": 'Flags "odd" #things: yes/no & more',
            "organization": 'Acme "Data" Co: Risk',
        },
        "unicode-fraud-detector-v2",
    ),
    "longest-name": ({"project_name": "Long " + "x" * 58}, "long-" + "x" * 58),
    "yaml-keyword-name": ({"project_name": "On"}, "on"),
    "platform": (
        {
            "project_name": "Churn Predictor",
            "container_registry": "registry.internal:5000/ml/models",
            "coverage_floor": "92.5",
            "accuracy_threshold": "0.8",
            "snitch_version": "v1.2.3",
            "gitlab_url": "https://git.corp.example/",
            "serving_domain": "serving.corp.example",
            "datadog_url": "https://app.datadoghq.eu",
            "weights_timestamp": "20250101T000000Z",
            "team": "on",  # a YAML 1.1 boolean if it were not quoted
            "latency_slo_ms": "150",
            "min_replicas": "2",
            "max_replicas": "10",
            "target_concurrency": "4",
            "cpu": "2",
            "memory": "4Gi",
        },
        "churn-predictor",
    ),
}
# Model Standard 9's parameter (a copy here had gone stale: it lacked `experiment`).
PROTECTED_JOBS = set(document.load().parameters["protected_jobs"])


def project_files(project: Path) -> set[str]:
    return {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_file()}


def defaults() -> dict:
    return {k: v for k, v in json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text()).items() if not k.startswith("_")}


@pytest.fixture(scope="module", params=list(VARIANTS))
def baked(request, tmp_path_factory):
    answers, model_name = VARIANTS[request.param]
    project = render_project(tmp_path_factory.mktemp(request.param), **answers)
    return project, rendered_answers(project), model_name


def test_exact_file_set(baked):
    project, _, model_name = baked
    assert project.name == model_name
    assert project_files(project) == EXPECTED_FILES
    assert {p.relative_to(project).as_posix() for p in project.rglob("*") if p.is_dir()} == EXPECTED_DIRS
    assert not any((project / "datasets").iterdir()) and not any((project / "weights").iterdir())


def test_nothing_left_unrendered(baked):
    project, _, _ = baked
    for name in EXPECTED_FILES:
        text = (project / name).read_text()
        assert "{{" not in text and "{%" not in text and "cookiecutter" not in text, name


def test_every_yaml_file_parses(baked):
    project, _, _ = baked
    yaml_files = [p for p in project.rglob("*") if p.suffix in (".yml", ".yaml")]
    assert len(yaml_files) == 3
    for path in yaml_files:
        assert isinstance(yaml.safe_load(path.read_text()), dict), path


def test_every_python_file_parses(baked):
    project, _, _ = baked
    for path in project.rglob("*.py"):
        ast.parse(path.read_text(), filename=str(path))


def test_gitlab_ci_includes_the_pinned_pipeline(baked):
    project, answers, model_name = baked
    ci = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
    assert not PROTECTED_JOBS & set(ci)
    assert ci["include"] == [
        {
            "project": "ml-platform/snitch",
            "ref": answers["snitch_version"],
            "file": "ci/model-promotion-pipeline.yml",
            "inputs": {
                "model_name": model_name,
                "weights_uri": f"s3://{answers['s3_bucket']}/{model_name}/models/{answers['weights_timestamp']}",
                "coverage_floor": float(answers["coverage_floor"]) if "." in answers["coverage_floor"] else int(answers["coverage_floor"]),
                "team": answers["team"],
                **{key: int(answers[key]) for key in ("latency_slo_ms", "min_replicas", "max_replicas", "target_concurrency")},
                "cpu": answers["cpu"],
                "memory": answers["memory"],
            },
        }
    ]
    assert re.fullmatch(r"\d{8}T\d{6}Z", answers["weights_timestamp"])


def test_pre_commit_runs_snitch_for_the_model(baked):
    project, answers, model_name = baked
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    assert config["repos"] == [
        {
            "repo": answers["gitlab_url"].rstrip("/") + "/ml-platform/snitch",
            "rev": answers["snitch_version"],
            "hooks": [{"id": "snitch", "args": ["-n", model_name]}],
        }
    ]


def test_openapi_is_valid_and_describes_the_project(baked):
    from openapi_spec_validator import validate

    project, answers, model_name = baked
    spec = yaml.safe_load((project / "openapi.yaml").read_text())
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == answers["project_name"]
    assert spec["info"]["description"] == answers["project_description"]
    assert {"/v1/models/{model_name}:predict", "/v2/models/{model_name}/infer", "/v2/health/live", "/v2/health/ready",
            "/v2/models/{model_name}/ready"} <= set(spec["paths"])
    assert spec["components"]["parameters"]["ModelName"]["schema"]["enum"] == [model_name]


def test_dockerfile_labels(baked):
    project, answers, model_name = baked
    dockerfile = (project / "Dockerfile").read_text()
    labels = dict(re.findall(r'([\w.-]+)="([^"]*)"', dockerfile.split("LABEL", 1)[1].split("\n\n", 1)[0]))
    assert labels["model"] == labels["org.label-schema.name"] == model_name
    assert labels["author"] == answers["author_email"]
    for build_arg, label in (("VERSION", "version"), ("VERSION", "org.label-schema.version"), ("BUILD_DATE", "org.label-schema.build-date"),
                             ("VCS_REF", "org.label-schema.vcs-ref"), ("VCS_URL", "org.label-schema.vcs-url")):
        assert labels[label] == "${%s}" % build_arg and f"ARG {build_arg}" in dockerfile
    assert labels["org.label-schema.schema-version"] == "1.0" and labels["org.label-schema.vendor"]


def test_requirements_are_strictly_pinned(baked):
    project, _, _ = baked
    for name in ("requirements.txt", "requirements-dev.txt"):
        lines = [l for l in (project / name).read_text().splitlines() if l.strip() and not l.startswith("#")]
        assert lines and all(re.fullmatch(r"[A-Za-z0-9_.\[\]-]+==[0-9][\w.]*", l) for l in lines), lines
    pins = dict(l.split("==") for l in (project / "requirements.txt").read_text().splitlines() if "==" in l)
    assert pins["kserve"] == "0.21.0" and pins["ddtrace"].startswith("4.")


def test_readme_links_and_no_placeholders(baked):
    project, answers, model_name = baked
    readme = (project / "README.md").read_text()
    links = re.findall(r"^- \[(.+)\]\((\S+)\)$", readme.split("## Links", 1)[1].split("\n## ", 1)[0], re.M)
    kinds = ["weights", "dataset", "image|registry", r"\bdev\b", r"\bstaging\b", r"\bprod(uction)?\b", r"\blogs?\b", r"\bapm\b", "jira", "confluence"]
    for kind in kinds:
        assert any(re.search(kind, f"[{text}]({url})", re.I) for text, url in links), kind
    assert all(re.match(r"(https://[^/\s]+/|s3://[a-z0-9.-]+/)\S*$", url) for _, url in links), links
    assert (answers["jira_url"], answers["confluence_url"]) == (links[-2][1], links[-1][1])
    assert not re.search(r"\{\{|\{%|<[A-Z_]+>|\bTODO\b|\bTBD\b|\bFIXME\b|\bCHANGEME\b", readme)
    assert "pip install -r requirements.txt -r requirements-dev.txt" in readme


def test_default_names_the_model_iris_classifier(rendered_project):
    assert rendered_project.name == DEFAULT_MODEL_NAME
    assert 'MODEL_NAME = "iris-classifier"' in (rendered_project / "model.py").read_text()


# --- the real CLI -----------------------------------------------------------------------------


def cookiecutter_cli(*args: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    config = cwd / "cc-config.yaml"
    config.write_text(f"cookiecutters_dir: {cwd / 'cc-clones'}\nreplay_dir: {cwd / 'cc-replay'}\n")
    return subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--config-file", str(config), *args],
        cwd=cwd, capture_output=True, text=True, input=stdin, timeout=120, check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


def test_cli_renders_from_a_local_path(tmp_path):
    result = cookiecutter_cli("--no-input", str(TEMPLATE_DIR), "project_name=Iris Classifier", "-o", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert project_files(tmp_path / "out" / "iris-classifier") == EXPECTED_FILES


def test_cli_renders_from_a_git_url(tmp_path):
    repo = tmp_path / "snitch-repo"
    shutil.copytree(TEMPLATE_DIR, repo / "model-project-template", ignore=shutil.ignore_patterns("__pycache__"))
    git_commit_all(repo)
    result = cookiecutter_cli("--no-input", f"file://{repo}", "--directory", "model-project-template",
                              "project_name=Iris Classifier", "-o", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    project = tmp_path / "out" / "iris-classifier"
    assert project_files(project) == EXPECTED_FILES
    assert (project / "serve.py").read_text() == (PROJECT_TEMPLATE_DIR / "serve.py").read_text()


def test_interactive_prompts_are_questions_for_every_answer(tmp_path):
    config = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    questions = config["__prompts__"]
    assert set(questions) == set(defaults())
    assert {"project_name", "project_description", "confluence_url", "jira_url", "author_email"} <= set(questions)
    # Accept every default by pressing Enter: the questions are shown and a project comes out.
    result = cookiecutter_cli(str(TEMPLATE_DIR), "-o", "out", cwd=tmp_path, stdin="\n" * len(questions))
    assert result.returncode == 0, result.stdout + result.stderr
    shown = re.sub(r"\s+", " ", result.stdout)
    for question in questions.values():
        assert re.sub(r"\s+", " ", question) in shown
    assert (tmp_path / "out" / "iris-classifier" / "serve.py").is_file()


@pytest.mark.parametrize(
    "answers, named",
    [
        ({"project_name": "!!! ???"}, "project_name='!!! ???' contains no letters or digits"),
        ({"project_name": "Model " + "y" * 60}, "at most 63"),
        ({"author_email": "owner-at-example.com"}, "author_email='owner-at-example.com' is not an email address"),
        ({"jira_url": "jira.example.com/browse/ML-1"}, "jira_url='jira.example.com/browse/ML-1' must be a full https:// URL"),
        ({"confluence_url": "https://"}, "confluence_url='https://' must be a full https:// URL"),
        ({"coverage_floor": "70"}, "coverage_floor='70' must be between 80 and 100"),
        ({"s3_bucket": "My_Bucket"}, "s3_bucket='My_Bucket' is 'My_Bucket', not an S3 bucket name"),
        ({"s3_bucket": "other-bucket"}, "s3_bucket='other-bucket' is not the organisation's bucket 'ml-platform-bucket' (parameter bucket"),
        ({"snitch_version": "main"}, "snitch_version='main' is the ref 'main', which is not a release tag"),
        ({"project_name": "123 Model"}, "project_name='123 Model' is refused: the model name '123-model' starts with a digit"),
        ({"max_replicas": "21"}, "max_replicas is 21, above the organisation's limit of 20 (replicas_limit)"),
        ({"cpu": "9"}, "cpu is 9, above the organisation's limit of 8 (cpu_limit)"),
        ({"organization": "Acme\nRUN curl evil"}, "organization='Acme\\nRUN curl evil' holds a control character"),
        ({"weights_timestamp": "29991231T000000Z"}, "is in the future"),
        ({"weights_timestamp": "20261399T996099Z"}, "weights_timestamp='20261399T996099Z' must be a UTC timestamp"),
        ({"serving_domain": "a" * 70 + ".example.com"}, "must be a DNS domain in lower case"),
        ({"serving_domain": "Models.Example.com"}, "serving_domain='Models.Example.com' must be a DNS domain in lower case"),
        # 239 characters, a domain name, but iris-classifier.staging.<it> is 263: no host
        ({"serving_domain": ".".join(["a" * 59] * 4)}, "263 characters long, more than a host name's 253; use a domain of at most 229"),
        ({"team": "Fraud Team"}, "team='Fraud Team' must be the team's short name in lower case with dashes"),
        ({"min_replicas": "0"}, "min_replicas is 0, so staging and production would scale to zero"),
        ({"min_replicas": "5", "max_replicas": "2"}, "min_replicas (5) is above max_replicas (2)"),
        ({"latency_slo_ms": "200ms"}, "latency_slo_ms='200ms' must be a whole number of at least 1"),
        ({"cpu": "half"}, "cpu='half' must be a Kubernetes CPU quantity above zero"),
        ({"memory": "512m"}, "memory='512m' must be a Kubernetes memory quantity above zero, like 512Mi"),
    ],
)
def test_bad_answers_stop_before_anything_is_written(tmp_path, answers, named):
    out = tmp_path / "out"
    out.mkdir()
    args = [f"{key}={value}" for key, value in answers.items()]
    result = cookiecutter_cli("--no-input", str(TEMPLATE_DIR), *args, "-o", str(out), cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert named in output and "please fix these answers" in output
    assert "Traceback" not in output
    assert list(out.iterdir()) == []


def test_all_bad_answers_are_reported_at_once(tmp_path):
    from cookiecutter.exceptions import FailedHookException

    with pytest.raises(FailedHookException) as error:
        render_project(tmp_path, project_name="...", author_email="x", datadog_url="http://app.datadoghq.com")
    message = str(error.value)
    assert message.count("\n  - ") == 3
    assert not (tmp_path / "iris-classifier").exists()
