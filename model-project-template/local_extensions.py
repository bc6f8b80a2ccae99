"""Jinja filters that derive the model name, read the organisation's parameters and validate the
answers, and the guard that keeps answers data.

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

Answers given with ``--no-input key=value`` (or ``extra_context``) reach cookiecutter's
Jinja environment as template source, and may even replace the private, derived
variables. So the extension (1) refuses to compile any text with template markup that
is not the template's own, and (2) checks the complete context before the project
folder is named: every answer valid, every derived variable equal to what it derives from.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import unicodedata
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from cookiecutter.exceptions import FailedHookException
from jinja2.ext import Extension

# RFC 1123 label, the form Kubernetes requires for object names.
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
DNS_LABEL_MAX = 63
EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\Z")
HOSTNAME = re.compile(r"^(?=.{1,253}\Z)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\Z")
S3_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")
REGISTRY = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*\Z")
RELEASE_TAG = re.compile(r"^v[0-9]+\.[0-9]+\.[0-9]+\Z")
TIMESTAMP = re.compile(r"^[0-9]{8}T[0-9]{6}Z\Z")


class InvalidAnswers(FailedHookException):
    """One or more answers cannot produce a working project."""


def _load_standards():
    return _standards_for(os.environ.get("SNITCH_CONFIG", ""), os.environ.get("XDG_CONFIG_HOME", ""))


def _snitch():
    """The installed snitch, else the one in the checkout this template sits in (cookiecutter
    clones the whole repository): the template reads the organisation's parameters and validates
    service metadata with snitch's own code, the code the checker and the pipeline run."""
    try:
        import snitch.config  # noqa: F401
    except ImportError:
        checkout = Path(__file__).resolve().parent.parent / "src"
        if not (checkout / "snitch" / "config.py").is_file():
            raise InvalidAnswers(
                "this template reads the organisation's parameters with snitch: install it first "
                "(pip install model-snitch) or render from a checkout of the snitch repository"
            ) from None
        sys.path.insert(0, str(checkout))
    import snitch.config
    import snitch.service

    return snitch


@functools.lru_cache(maxsize=8)
def _standards_for(config: str, config_home: str):
    """snitch's standards with the organisation's config. Read once per config: cookiecutter changes
    the working folder while rendering, and the config path may be relative."""
    snitch = _snitch()
    from snitch.standards import StandardsError

    try:
        return snitch.config.load_standards()
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
    """How the model runs (Model Standard 11): team, latency objective, replicas, CPU, memory,
    parsed by snitch.service, as standard 11 and the deploy jobs parse them."""
    service = _snitch().service

    def parsed(key, parse, message):
        try:
            return parse(answers[key])
        except service.ServiceProblem:
            complain(key, message)
            return None

    parsed("team", service.parse_team, "must be the team's short name in lower case with dashes, like fraud-detection")
    numbers = {
        key: parsed(key, lambda value, key=key: service.parse_whole(str(value).strip(), key, 1),
                    "must be a whole number of at least 1 (production never scales to zero)"
                    if key == "min_replicas" else "must be a whole number of at least 1")
        for key in ("latency_slo_ms", "min_replicas", "max_replicas", "target_concurrency")
    }
    if None not in (numbers["min_replicas"], numbers["max_replicas"]) and numbers["min_replicas"] > numbers["max_replicas"]:
        complain("max_replicas", f"is below min_replicas={numbers['min_replicas']}; raise it or lower min_replicas")
    parsed("cpu", service.parse_cpu, "must be a Kubernetes CPU quantity above zero, like 500m (half a core) or 2")
    parsed("memory", service.parse_memory, "must be a Kubernetes memory quantity above zero, like 512Mi or 2Gi")


def _stop_on(problems: list[str]) -> None:
    if problems:
        raise InvalidAnswers(
            "Cannot create the project, please fix these answers and run again:\n  - "
            + "\n  - ".join(problems)
        )


def check_answers(answers: dict) -> str:
    _stop_on(answer_problems(answers))
    return "ok"


TEMPLATE_DIR = Path(__file__).resolve().parent
_MARKUP = re.compile(r"\{\{|\{%|\{#")
# The only markup in the template's folder and file names: a private variable, e.g. the
# project folder `{{cookiecutter.__model_name}}`.
_NAME_REFERENCE = re.compile(r"\{\{\s*cookiecutter\.__\w+\s*\}\}")
# Private variables the template works out from the answers; nobody may set them.
DERIVED = {
    "__answers": lambda answers: "ok",
    "__model_name": lambda answers: model_name(answers["project_name"]),
}


def _template_strings(context: dict) -> set[str]:
    """Every text the template itself hands to Jinja: cookiecutter.json's values and the hooks."""
    found: set[str] = set()

    def collect(value) -> None:
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                collect(key)
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    collect(context)
    found.update(hook.read_text(encoding="utf-8") for hook in (TEMPLATE_DIR / "hooks").glob("*.py"))
    return found


def check_complete_context(answers: dict) -> None:
    """The final answers, as the files will be rendered with them: derived values untouched,
    every answer valid (even when `__answers` itself was overridden)."""
    overridden = [
        f"{key}={answers[key]!r} is worked out from the other answers and cannot be given; leave it out"
        for key, derive in DERIVED.items()
        if answers[key] != derive(answers)
    ]
    _stop_on(overridden + answer_problems(answers))


def _guarded(environment, own_strings: set[str], questions: set[str]):
    """`environment.from_string` that compiles the template's own text only, and validates the
    context whenever a template is rendered with the complete one (the first time is the project
    folder's name, before anything is written)."""
    compile_source = environment.from_string

    def from_string(source, *args, **kwargs):
        if isinstance(source, str) and source not in own_strings and _MARKUP.search(_NAME_REFERENCE.sub("", source)):
            raise InvalidAnswers(
                f"Cannot create the project: the answer {source[:80]!r} contains template markup "
                "({{ }}, {% %} or {# #}); answers are plain text, never templates. Remove the markup."
            )
        template = compile_source(source, *args, **kwargs)
        render = template.render

        def checked_render(*render_args, **context):
            answers = context.get("cookiecutter")
            if isinstance(answers, dict) and questions <= answers.keys():
                check_complete_context(answers)
            return render(*render_args, **context)

        template.render = checked_render
        return template

    return from_string


class AnswersExtension(Extension):
    def __init__(self, environment):
        super().__init__(environment)
        environment.filters["model_name"] = model_name
        environment.filters["check_answers"] = check_answers
        environment.filters["org_parameter"] = org_parameter
        environment.filters["image_labels"] = image_labels
        context = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text(encoding="utf-8"))
        questions = {key for key in context if not key.startswith("_")} | set(DERIVED)
        environment.from_string = _guarded(environment, _template_strings(context), questions)
