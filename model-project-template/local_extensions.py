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
A caller can also replace `_extensions` and so drop this extension: (3) the project folder
is named by `model_folder`, which only this extension defines, so such a render stops before
it writes anything (the answers were already rendered as Jinja by then: untrusted answers go
through `snitch new`, see docs/template.md).
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

EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\Z")
HOSTNAME = re.compile(r"^(?=.{1,253}\Z)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\Z")
REGISTRY = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*\Z")
TIMESTAMP = re.compile(r"^[0-9]{8}T[0-9]{6}Z\Z")
# The team a project gets when the organisation lists no teams (any team name is accepted then).
FALLBACK_TEAM = "ml-team"
# extra_labels holds `label=value` pairs separated by this (label values often hold commas).
LABEL_SEPARATOR = ";"


class InvalidAnswers(FailedHookException):
    """One or more answers cannot produce a working project."""


def _load_standards():
    return _standards_for(os.environ.get("SNITCH_CONFIG", ""), os.environ.get("XDG_CONFIG_HOME", ""))


def _snitch():
    """The installed snitch, else the one in the checkout this template sits in (cookiecutter
    clones the whole repository): the template reads the organisation's parameters and validates
    every answer with snitch's own code, the code the checker and the pipeline run."""
    try:
        import snitch.standards.config  # noqa: F401
    except ImportError:
        checkout = Path(__file__).resolve().parent.parent / "src"
        if not (checkout / "snitch" / "standards" / "config.py").is_file():
            raise InvalidAnswers(
                "this template reads the organisation's parameters with snitch: install it first "
                "(pip install model-snitch) or render from a checkout of the snitch repository"
            ) from None
        sys.path.insert(0, str(checkout))
    import snitch.facts.names
    import snitch.facts.release
    import snitch.facts.service_settings
    import snitch.facts.weights
    import snitch.read.files
    import snitch.read.image_labels
    import snitch.standards.config

    return snitch


@functools.lru_cache(maxsize=8)
def _standards_for(config: str, config_home: str):
    """snitch's standards with the organisation's config. Read once per config: cookiecutter changes
    the working folder while rendering, and the config path may be relative."""
    snitch = _snitch()
    from snitch.standards.document import StandardsError

    try:
        return snitch.standards.config.load_standards()
    except StandardsError as error:
        raise InvalidAnswers(f"Cannot read the organisation's parameters: {error}") from None


def org_parameter(name: str):
    """The organisation's value of a standards parameter, e.g. {{ 'bucket' | org_parameter }}."""
    return _load_standards().parameters[name]


def _config_named() -> str:
    """Where the organisation's parameters come from, for messages that send the reader there."""
    standards = _load_standards()
    return f"the organisation's config {standards.config}" if standards.config else "the Model Standards' defaults"


def org_default(answer: str) -> str:
    """The default of an answer that depends on the organisation's config: the team (the first
    team the organisation lists) and snitch_version (the ref every pin uses, snitch.facts.release)."""
    parameters = _load_standards().parameters
    if answer == "team":
        return parameters["teams"][0] if parameters["teams"] else FALLBACK_TEAM
    return _snitch().facts.release.pipeline_ref(parameters)


def service_default(field: str):
    """The shared pipeline's default for a service input (snitch.facts.service_settings.FIELDS), for comments."""
    return _snitch().facts.service_settings.FIELDS_BY_NAME[field].default


def org_config_text(_) -> str:
    """The organisation's config this project is rendered under, for the project's copy
    (.snitch/config.yaml); empty when the render uses the standards' defaults."""
    standards = _load_standards()
    if not standards.config:
        return ""
    snitch = _snitch()
    text = snitch.read.files.read_text(standards.config, snitch.standards.config.MAX_CONFIG_BYTES)
    return text if text.strip() else ""


def _quoted(text: str) -> str:
    """A value for a double-quoted Dockerfile LABEL: no quote, backslash or variable from answers."""
    return str(text).replace("\\", "/").replace('"', "'").replace("$", "")


def python_docstring(text: str) -> str:
    """An answer inside a \"\"\"docstring\"\"\": backslashes and double quotes escaped, so the
    docstring keeps the answer's text and ends where the template ends it."""
    return str(text).replace("\\", "\\\\").replace('"', '\\"')


def image_labels(answers: dict) -> list[tuple[str, str | None]]:
    """(label, Dockerfile value or None) for every label the organisation requires (standard 6);
    the Dockerfile is rendered after answer_problems made sure each has a value.

    Labels the pipeline fills from CI facts take their build argument; then the config's
    label_values; then labels known by their name in the label-schema and OCI vocabularies
    take an answer; last, the extra_labels answer. None: nothing fills it yet."""
    parameters = _load_standards().parameters
    model = model_name(answers["project_name"])
    # The labels the build job fills, as snitch --fix writes them.
    build_arguments = _snitch().read.image_labels.build_argument_labels(parameters)
    from_build = {label: "${%s}" % argument for label, argument in build_arguments.items()}
    from_build[parameters["model_label"]] = model
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
    extra = _extra_labels(answers)[0]
    labels = []
    for label in parameters["image_labels"]:
        suffix = label.rsplit(".", 1)[-1]
        if label in from_build:
            labels.append((label, from_build[label]))
        elif label in parameters["label_values"]:
            labels.append((label, _quoted(parameters["label_values"][label])))
        elif suffix in by_name:
            labels.append((label, _quoted(by_name[suffix])))
        else:
            labels.append((label, _quoted(extra[label]) if label in extra else None))
    return labels


def labels_to_ask(answers: dict) -> str:
    """The default of extra_labels: `label=` for each required label nothing else fills, for the
    person rendering to complete (with --no-input, the refusal says which to give)."""
    unfilled = [label for label, value in image_labels({**answers, "extra_labels": ""}) if value is None]
    return f"{LABEL_SEPARATOR} ".join(f"{label}=" for label in unfilled)


def _extra_labels(answers: dict) -> tuple[dict[str, str], list[str]]:
    """The extra_labels answer as {label: value}, and what is wrong with its form."""
    values, problems = {}, []
    for pair in str(answers.get("extra_labels", "")).split(LABEL_SEPARATOR):
        if not pair.strip():
            continue
        label, equals, value = pair.partition("=")
        label, value = label.strip(), value.strip()
        if not equals or not label:
            problems.append(f"holds {pair.strip()!r}, not label=value")
        elif value:
            values[label] = value
    return values, problems


def _label_problems(answers: dict, complain, not_text: set[str]) -> None:
    snitch = _snitch()
    for key in ("organization", "project_description", "author_email"):
        problem = snitch.facts.names.label_value_problem(str(answers[key]))
        if problem and key not in not_text:  # already refused, for the same reason
            complain(key, f"goes into an image label and is {problem}")
    extra, problems = _extra_labels(answers)
    for problem in problems:
        complain("extra_labels", f"{problem}; write label=value pairs separated by '{LABEL_SEPARATOR}'")
    needed = {label for label, value in image_labels({**answers, "extra_labels": ""}) if value is None}
    for label, value in extra.items():
        problem = snitch.facts.names.label_value_problem(value)
        if label not in needed:
            complain("extra_labels", f"gives {label!r}, which is not a required label the template cannot fill "
                     f"(those are: {', '.join(sorted(needed)) or 'none'})")
        elif problem:
            complain("extra_labels", f"gives {label} {problem}")
    for label in sorted(needed - set(extra)):
        complain("extra_labels", f"gives no value for {label!r}, which the organisation's image_labels require and "
                 f"nothing else fills: answer {label}=<value>, or set label_values in {_config_named()}")


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
        if not value.isascii():  # float() also reads other scripts' digits, which Python and YAML do not
            raise ValueError(value)
        number = float(value)
    except ValueError:
        return f"must be a number between {low:g} and {high:g}"
    if not low <= number <= high:
        return f"must be between {low:g} and {high:g}"
    return None


def answer_problems(answers: dict) -> list[str]:
    """Every problem with the answers, phrased as 'question: what is wrong and how to fix it'.
    Each organisation rule is snitch's own function (names, service, release) on the
    organisation's parameters, so a project the template renders passes the checker."""
    problems = []
    snitch = _snitch()
    parameters = _load_standards().parameters

    def complain(key: str, message: str) -> None:
        problems.append(f"{key}={answers.get(key)!r} {message}")

    # Markup typed at a prompt reaches here verbatim (the guard refuses it in --no-input answers).
    not_text = set()
    for key, value in answers.items():
        if key.startswith("_") or not isinstance(value, str):
            continue  # cookiecutter's own variables and the derived ones (check_complete_context)
        problem = snitch.facts.names.answer_text_problem(value)
        if problem:
            complain(key, problem)
            not_text.add(key)
    name = model_name(answers["project_name"])
    if not name:
        complain("project_name", "contains no letters or digits, so no model name can be derived from it; use words like 'Iris Classifier'")
    else:
        problem = snitch.facts.names.model_name_problem(name)
        if problem:
            complain("project_name", f"is refused: {problem}")
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
    problem = snitch.facts.release.ref_problem(answers["snitch_version"], parameters)
    if problem:
        complain("snitch_version", f"is the {problem}; use a release tag the organisation allows (see {_config_named()}), "
                 f"like {snitch.facts.release.pipeline_ref(parameters)}")
    bucket = answers["s3_bucket"]
    problem = snitch.facts.names.bucket_problem(bucket)
    if problem:
        complain("s3_bucket", f"is {problem}")
    elif bucket != parameters["bucket"]:
        complain("s3_bucket", f"is not the organisation's bucket {parameters['bucket']!r} (parameter bucket, "
                 f"{_config_named()}); Model Standard 1 requires every model's weights there")
    if not REGISTRY.match(str(answers["container_registry"])):
        complain("container_registry", "must look like registry.example.com/team (host[:port]/path, no https://)")
    problem = snitch.facts.names.serving_domain_problem(str(answers["serving_domain"]), name or "")
    if problem:
        complain("serving_domain", problem)
    floor = parameters["coverage_floor"]
    problem = _number_problem(str(answers["coverage_floor"]), floor, 100)
    if problem:
        complain("coverage_floor", problem + f" (the organisation's minimum is {floor})")
    problem = _number_problem(str(answers["accuracy_threshold"]), 0, 1)
    if problem:
        complain("accuracy_threshold", problem + ", e.g. 0.9")
    weights = _snitch().facts.weights  # standard 1's own reading of a timestamp and of "the future"
    stamp = str(answers["weights_timestamp"])
    moment = weights.parse_timestamp(stamp) if TIMESTAMP.match(stamp) else None  # the basic form only
    if moment is None:
        complain("weights_timestamp", "must be a UTC timestamp in ISO 8601 basic form like 20261122T093000Z")
    elif weights.trained_after(moment, datetime.now(timezone.utc)):
        complain("weights_timestamp", "is in the future; weights can only come from a training run that happened")
    problems += _service_problems(answers, parameters, complain)
    _label_problems(answers, complain, not_text)
    return problems


# What to say when an answer about how the model runs does not parse (the rule is snitch.facts.service_settings's).
_SERVICE_HINTS = {
    "team": "must be the team's short name in lower case with dashes, like fraud-detection",
    "latency_slo_ms": "must be a whole number of at least 1",
    "min_replicas": "must be a whole number of at least 1 (production never scales to zero)",
    "max_replicas": "must be a whole number of at least 1",
    "target_concurrency": "must be a whole number of at least 1",
    "cpu": "must be a Kubernetes CPU quantity above zero, like 500m (half a core) or 2",
    "memory": "must be a Kubernetes memory quantity above zero, like 512Mi or 2Gi",
}


def _service_problems(answers: dict, parameters: dict, complain) -> list[str]:
    """How the model runs (Model Standard 11): parsed and judged by snitch.facts.service_settings with the
    organisation's limits and teams, exactly as standard 11 and the deploy jobs judge them. An
    answer that does not parse is complained about; the rules' problems are returned."""
    service = _snitch().facts.service_settings
    parsed = {}
    for key in _SERVICE_HINTS:
        try:
            parsed[key] = service.parse_field(service.FIELDS_BY_NAME[key], str(answers[key]).strip())
        except service.ServiceProblem:
            complain(key, _SERVICE_HINTS[key])
    rules = service.range_problems(parsed)
    organisation_rules = service.limit_problems(parsed, parameters)
    if "team" in parsed:
        organisation_rules.append(service.team_membership_problem(parsed["team"], parameters["teams"]))
    # The rules' own messages name the answers they are about.
    return rules + [f"{problem} (see {_config_named()})" for problem in organisation_rules if problem]


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
# The project folder's name, the first thing cookiecutter renders after the questions and the
# only markup in the template's folder and file names. It calls a function only this extension
# defines, so a render without the extension (`_extensions` overridden) fails before writing.
PROJECT_FOLDER = "{{model_folder(cookiecutter.__model_name)}}"
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


def model_folder(name: str) -> str:
    """The project folder's name: the model name, which the complete-context check has just
    compared with the one derived from project_name (so never a path)."""
    problem = _snitch().facts.names.model_name_problem(name)
    if problem:
        raise InvalidAnswers(f"Cannot create the project folder {name!r}: {problem}")
    return name


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
    names = _snitch().facts.names

    def from_string(source, *args, **kwargs):
        if isinstance(source, str) and source not in own_strings and names.template_markup(source.replace(PROJECT_FOLDER, "")):
            raise InvalidAnswers(f"Cannot create the project: the answer {source[:80]!r} {names.TEMPLATE_MARKUP_PROBLEM}")
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
        environment.filters["labels_to_ask"] = labels_to_ask
        environment.filters["org_default"] = org_default
        environment.filters["org_config_text"] = org_config_text
        environment.filters["service_default"] = service_default
        environment.filters["python_docstring"] = python_docstring
        environment.globals["model_folder"] = model_folder
        context = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text(encoding="utf-8"))
        questions = {key for key in context if not key.startswith("_")} | set(DERIVED)
        environment.from_string = _guarded(environment, _template_strings(context), questions)
