"""Jinja filters that derive the model name, read the organisation's parameters and validate the answers.

The organisation's parameters (bucket, coverage floor, image labels, pipeline project...) come
from snitch's own config reader, the one the checker and the pipeline use: the standards
document's defaults, overridden by $SNITCH_CONFIG or ~/.config/snitch/config.yaml. A Jinja
extension (not a pre_prompt hook) reads them because cruft renders templates without running
pre_prompt hooks; the extension runs for cookiecutter and cruft alike.

Validation runs while cookiecutter renders the private ``__answers`` variable, i.e.
right after the questions and before any file or folder exists. It is not a
pre_gen_project hook on purpose: cookiecutter deletes the folder when such a hook
fails but also logs a Python traceback, which buries the one line that matters.
``InvalidAnswers`` subclasses the exception cookiecutter's CLI turns into a plain
message and exit status 1.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import unicodedata
from datetime import datetime, timezone
from urllib.parse import urlsplit

from pathlib import Path

from cookiecutter.exceptions import FailedHookException
from jinja2.ext import Extension

# RFC 1123 label, the form Kubernetes requires for object names.
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_LABEL_MAX = 63
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$")
S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
REGISTRY = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$")
RELEASE_TAG = re.compile(r"^v\d+\.\d+\.\d+$")
TIMESTAMP = re.compile(r"^\d{8}T\d{6}Z$")
WHOLE_NUMBER = re.compile(r"^[0-9]{1,9}$")
# A Kubernetes quantity (KServe's CRD pattern, unsigned). snitch.service parses them fully; the
# template cannot import snitch, which the person rendering it may not have installed.
QUANTITY = re.compile(r"^([0-9]+(\.[0-9]*)?|\.[0-9]+)([KMGTPE]i|[numkMGTPE]|[eE][+-]?[0-9]+)?$")


class InvalidAnswers(FailedHookException):
    """One or more answers cannot produce a working project."""


def _load_standards():
    return _standards_for(os.environ.get("SNITCH_CONFIG", ""), os.environ.get("XDG_CONFIG_HOME", ""))


@functools.lru_cache(maxsize=8)
def _standards_for(config: str, config_home: str):
    """snitch's standards with the organisation's config: from the installed snitch, else from the
    checkout this template sits in (cookiecutter clones the whole repository). Read once per
    config: cookiecutter changes the working folder while rendering, and the config path may be relative."""
    try:
        from snitch.config import load_standards
    except ImportError:
        checkout = Path(__file__).resolve().parent.parent / "src"
        if not (checkout / "snitch" / "config.py").is_file():
            raise InvalidAnswers(
                "this template reads the organisation's parameters with snitch: install it first "
                "(pip install model-snitch) or render from a checkout of the snitch repository"
            ) from None
        sys.path.insert(0, str(checkout))
        from snitch.config import load_standards
    from snitch.standards import StandardsError

    try:
        return load_standards()
    except StandardsError as error:
        raise InvalidAnswers(f"Cannot read the organisation's parameters: {error}") from None


def org_parameter(name: str):
    """The organisation's value of a standards parameter, e.g. {{ 'bucket' | org_parameter }}."""
    return _load_standards().parameters[name]


def _quoted(text: str) -> str:
    """A value for a double-quoted Dockerfile LABEL: no quote, backslash or variable from answers."""
    return str(text).replace("\\", "/").replace('"', "'").replace("$", "")


def image_labels(answers: dict) -> list[tuple[str, str]]:
    """(label, Dockerfile value) for every label the organisation requires (standard 6).

    Labels the pipeline fills from CI facts take their build argument; the rest are known
    by their name in the label-schema and OCI vocabularies."""
    parameters = _load_standards().parameters
    model = model_name(answers["project_name"])
    from_build = {
        parameters["vcs_ref_label"]: "${VCS_REF}",
        parameters["build_date_label"]: "${BUILD_DATE}",
        parameters["vcs_url_label"]: "${VCS_URL}",
        **{label: "${VERSION}" for label in parameters["version_labels"]},
        parameters["model_label"]: model,
    }
    by_name = {
        "author": answers["author_email"],
        "authors": answers["author_email"],
        "maintainer": answers["author_email"],
        "name": model,
        "title": model,
        "vendor": answers["organization"],
        "description": answers["project_description"],
        "schema-version": "1.0",
    }
    labels = []
    for label in parameters["image_labels"]:
        if label in from_build:
            labels.append((label, from_build[label]))
        elif label.rsplit(".", 1)[-1] in by_name:
            labels.append((label, _quoted(by_name[label.rsplit(".", 1)[-1]])))
        else:
            raise InvalidAnswers(
                f"The organisation's image_labels include {label!r}, which this template cannot fill: "
                f"name it in the config as one of model_label, vcs_ref_label, build_date_label, vcs_url_label or "
                f"version_labels, or use a label ending in one of: {', '.join(by_name)}"
            )
    return labels


def model_name(project_name: str) -> str:
    """'Iris Classifier' -> 'iris-classifier' (lower case, ASCII, dashes)."""
    ascii_name = unicodedata.normalize("NFKD", str(project_name)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def _https_url_problem(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme != "https" or not HOSTNAME.match(parts.hostname or "") or " " in value:
        return "must be a full https:// URL, like https://host.example.com/path"
    return None


def _number_problem(value: str, low: float, high: float) -> str | None:
    try:
        number = float(value)
    except ValueError:
        return f"must be a number between {low:g} and {high:g}"
    if not low <= number <= high:
        return f"must be between {low:g} and {high:g}"
    return None


def answer_problems(answers: dict) -> list[str]:
    """Every problem with the answers, phrased as 'question: what is wrong and how to fix it'."""
    problems = []

    def complain(key: str, message: str) -> None:
        problems.append(f"{key}={answers.get(key)!r} {message}")

    name = model_name(answers["project_name"])
    if not name:
        complain("project_name", "contains no letters or digits, so no model name can be derived from it; use words like 'Iris Classifier'")
    elif len(name) > DNS_LABEL_MAX:
        complain("project_name", f"gives the model name '{name}' ({len(name)} characters), but Kubernetes names are at most {DNS_LABEL_MAX}; use a shorter name")
    elif not DNS_LABEL.match(name):  # pragma: no cover - model_name() only emits [a-z0-9-]
        complain("project_name", f"gives '{name}', which is not a Kubernetes DNS label")
    if not str(answers["project_description"]).strip():
        complain("project_description", "is empty; describe the model in one sentence")
    for key in ("confluence_url", "jira_url", "gitlab_url", "datadog_url"):
        problem = _https_url_problem(str(answers[key]))
        if problem:
            complain(key, problem)
    if not EMAIL.match(str(answers["author_email"])):
        complain("author_email", "is not an email address; use the form name@example.com")
    if not str(answers["organization"]).strip():
        complain("organization", "is empty; name the team or company that owns the model")
    if not RELEASE_TAG.match(str(answers["snitch_version"])):
        complain("snitch_version", "must be a release tag like v1.0.0 (never a branch)")
    bucket = str(answers["s3_bucket"])
    if not S3_BUCKET.match(bucket) or ".." in bucket:
        complain("s3_bucket", "is not a valid S3 bucket name; use 3-63 lower-case letters, digits, dots or dashes")
    if not REGISTRY.match(str(answers["container_registry"])):
        complain("container_registry", "must look like registry.example.com/team (host[:port]/path, no https://)")
    if not HOSTNAME.match(str(answers["serving_domain"])) or "." not in str(answers["serving_domain"]):
        complain("serving_domain", "must be a DNS domain such as models.example.com")
    floor = org_parameter("coverage_floor")
    problem = _number_problem(str(answers["coverage_floor"]), floor, 100)
    if problem:
        complain("coverage_floor", problem + f" (the organisation's minimum is {floor})")
    problem = _number_problem(str(answers["accuracy_threshold"]), 0, 1)
    if problem:
        complain("accuracy_threshold", problem + ", e.g. 0.9")
    stamp = str(answers["weights_timestamp"])
    if not TIMESTAMP.match(stamp):
        complain("weights_timestamp", "must be a UTC timestamp in ISO 8601 basic form like 20261122T093000Z")
    elif stamp > datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"):
        complain("weights_timestamp", "is in the future; weights can only come from a training run that happened")
    _service_problems(answers, complain)
    return problems


def _service_problems(answers: dict, complain) -> None:
    """How the model runs (Model Standard 11): team, latency objective, replicas, CPU, memory."""
    team = str(answers["team"])
    if not DNS_LABEL.match(team) or len(team) > DNS_LABEL_MAX:
        complain("team", "must be the team's short name in lower case with dashes, like fraud-detection")
    numbers = {}
    for key in ("latency_slo_ms", "min_replicas", "max_replicas", "target_concurrency"):
        value = str(answers[key]).strip()
        if WHOLE_NUMBER.match(value) and int(value) >= 1:
            numbers[key] = int(value)
        else:
            complain(key, "must be a whole number of at least 1 (production never scales to zero)"
                     if key == "min_replicas" else "must be a whole number of at least 1")
    if numbers.get("min_replicas", 0) > numbers.get("max_replicas", float("inf")):
        complain("max_replicas", f"is below min_replicas={numbers['min_replicas']}; raise it or lower min_replicas")
    cpu, memory = str(answers["cpu"]).strip(), str(answers["memory"]).strip()
    if not QUANTITY.match(cpu) or float(re.match(r"[0-9.]*", cpu)[0] or 0) == 0:
        complain("cpu", "must be a Kubernetes CPU quantity above zero, like 500m (half a core) or 2")
    if not QUANTITY.match(memory) or memory.endswith(("m", "u", "n")) or float(re.match(r"[0-9.]*", memory)[0] or 0) == 0:
        complain("memory", "must be a Kubernetes memory quantity above zero, like 512Mi or 2Gi")


def check_answers(answers: dict) -> str:
    problems = answer_problems(answers)
    if problems:
        raise InvalidAnswers(
            "Cannot create the project, please fix these answers and run again:\n  - "
            + "\n  - ".join(problems)
        )
    return "ok"


class AnswersExtension(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["model_name"] = model_name
        environment.filters["check_answers"] = check_answers
        environment.filters["org_parameter"] = org_parameter
        environment.filters["image_labels"] = image_labels
