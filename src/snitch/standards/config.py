"""An organisation's overrides of the standards' parameters.

One YAML file, found in this order: `--config FILE`, `$SNITCH_CONFIG`, then the default place
`$XDG_CONFIG_HOME/snitch/config.yaml` (`~/.config/snitch/config.yaml`) when it exists. The
checker, the template's defaults and the pipeline's jobs all read it through `load_standards`."""

from __future__ import annotations

import math
import os
from pathlib import Path

from snitch.facts import names, release, service_settings
from snitch.facts.patterns import pattern_problem
from snitch.read import files
from snitch.read.safe_yaml import YamlProblem, load_documents
from snitch.standards.document import Standards, StandardsError, load
from snitch.violation import shown

CONFIG_ENV = "SNITCH_CONFIG"
# The config's key under which installed standards take their own parameters, by id.
INSTALLED_PARAMETERS = "standards"
_REGEX_PARAMETERS = ("pipeline_ref_pattern",)
# Kubernetes quantities (standard 11's limits); a plain number of cores is fine too.
_QUANTITY_PARAMETERS = {"cpu_limit": service_settings.parse_cpu, "memory_limit": service_settings.parse_memory}
_NUMBER_LISTS = ("mandatory",)  # lists of standard numbers, not of strings
_PERCENT_PARAMETERS = ("coverage_floor",)
MAX_COUNT = 100_000  # no organisation limit (replicas...) is larger; a huge integer is a typo


def default_config_path() -> Path:
    """Where the organisation's config is read from when neither --config nor $SNITCH_CONFIG is set."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "snitch" / "config.yaml"
# A config is a screenful of YAML; anything larger is the wrong file.
MAX_CONFIG_BYTES = 256 * 1024


def _read_overrides(path: Path) -> dict:
    try:
        text = files.read_text(path, MAX_CONFIG_BYTES)
    except files.Unreadable as problem:
        if str(problem) == "does not exist":
            raise StandardsError(f"config file {path} does not exist; pass an existing YAML file to --config") from None
        raise StandardsError(f"config file {path} {problem}; a config is a UTF-8 YAML file of parameter: value") from None
    try:
        documents = load_documents(text)
    except YamlProblem as problem:
        raise StandardsError(f"config file {path} {problem}") from None
    if len(documents) > 1:
        raise StandardsError(f"config file {path} holds {len(documents)} YAML documents; keep one mapping of parameter: value")
    data = documents[0] if documents else None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise StandardsError(f"config file {path} must be a YAML mapping of parameter: value")
    return data


def _validate(overrides: dict, defaults: dict, path: Path) -> None:
    for key, value in overrides.items():
        if key not in defaults:
            known = ", ".join(sorted(defaults))
            raise StandardsError(f"config file {path}: unknown parameter {key!r}; known parameters: {known}")
        default = defaults[key]
        if key in _QUANTITY_PARAMETERS:
            try:
                _QUANTITY_PARAMETERS[key](value, key)
            except service_settings.ServiceProblem as problem:
                raise StandardsError(f"config file {path}: {problem}") from None
            continue
        if isinstance(default, bool) != isinstance(value, bool) or not isinstance(value, type(default)):
            expected = _TYPE_NAMES.get(type(default), type(default).__name__)
            raise StandardsError(
                f"config file {path}: {key} must be {expected} like the default {default!r}, got {shown(value)}"
            )
        highest = 100 if key in _PERCENT_PARAMETERS else MAX_COUNT
        if isinstance(value, (int, float)) and not (math.isfinite(value) and 0 <= value <= highest):
            raise StandardsError(f"config file {path}: {key} must be a number from 0 to {highest}, got {shown(value)}")
        items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
        if key in _NUMBER_LISTS:
            continue
        if any(not isinstance(item, str) or not item for item in items):
            raise StandardsError(f"config file {path}: every entry of {key} must be a non-empty string")
        problem = _rule_problem(key, value)
        if problem:
            raise StandardsError(f"config file {path}: {problem}")
    patterns = {key: overrides[key] for key in _REGEX_PARAMETERS if key in overrides}
    patterns.update(overrides.get("readme_links", {}))
    for key, pattern in patterns.items():
        problem = pattern_problem(pattern)
        if problem:
            raise StandardsError(f"config file {path}: {key} {problem}")


# How a config names the type a parameter's default has.
_TYPE_NAMES = {str: "text", int: "a whole number", float: "a number", bool: "true or false", list: "a list", dict: "a mapping"}


def _rule_problem(key: str, value) -> str | None:
    """What breaks the rule a parameter's value shares with the template and the checks (the
    bucket and the team names they accept, the replica count a model can run with); None if fine."""
    if key == "bucket":
        problem = names.bucket_problem(value)
        return problem and f"bucket is {problem}"
    if key == "teams":
        problems = [names.team_problem(team) for team in value]
        return next((f"teams lists {problem}" for problem in problems if problem), None)
    if key == "replicas_limit":
        try:
            service_settings.parse_whole(value, key, 1)
        except service_settings.ServiceProblem as problem:
            return f"{problem} (a model needs at least one replica)"
    if key == "label_values":
        problems = [(label, names.label_value_problem(text)) for label, text in value.items()]
        return next((f"label_values gives {label} {problem}" for label, problem in problems if problem), None)
    return None


def _validate_merged(parameters: dict, path: Path) -> None:
    """Rules across parameters, on the merged values (an override may rely on a default)."""
    unknown = [label for label in parameters["label_values"] if label not in parameters["image_labels"]]
    if unknown:
        raise StandardsError(
            f"config file {path}: label_values gives {', '.join(map(repr, unknown))}, which image_labels does not "
            "list; add the label to image_labels or remove its value"
        )
    problem = release.configured_ref_problem(parameters)
    if problem:
        raise StandardsError(f"config file {path}: {problem}")


def _validate_standard_numbers(overrides: dict, standards: Standards, path: Path) -> None:
    for key in _NUMBER_LISTS:
        for number in overrides.get(key, []):
            if isinstance(number, bool) or not isinstance(number, (int, str)) or number not in standards.standards:
                raise StandardsError(
                    f"config file {path}: {key} lists {number!r}, which is not a standard number or installed id ({standards.ids()})"
                )


def _apply_installed_parameters(installed, standards: Standards, path: Path) -> None:
    """The `standards:` mapping: each installed standard's own parameters, under its id, checked
    against the defaults its section declares exactly as the organisation's parameters are."""
    if not isinstance(installed, dict):
        raise StandardsError(f"config file {path}: {INSTALLED_PARAMETERS} must map an installed standard's id to its parameters")
    for number, values in installed.items():
        standard = standards.standards.get(number)
        if standard is None or not standard.distribution:
            ids = ", ".join(str(known) for known, found in standards.standards.items() if found.distribution) or "none"
            raise StandardsError(f"config file {path}: {INSTALLED_PARAMETERS} names {number!r}, which is not an installed standard (installed: {ids})")
        if not isinstance(values, dict):
            raise StandardsError(f"config file {path}: {INSTALLED_PARAMETERS}.{number} must be a mapping of parameter: value")
        _validate(values, standard.parameters, f"{path} ({INSTALLED_PARAMETERS}.{number})")
        standard.parameters.update(values)


def _parameters_in_force(standards: Standards) -> dict:
    """Every parameter a run judges by, by the name a config gives it: the organisation's
    (`bucket`) and each installed standard's own (`standards.acme-1.model_card`)."""
    installed = {
        f"{INSTALLED_PARAMETERS}.{number}.{name}": value
        for number, standard in standards.standards.items() if standard.distribution
        for name, value in standard.parameters.items()
    }
    return {**standards.parameters, **installed}


def _organisation_config(config) -> tuple[Path | None, str]:
    """The organisation's own config file and how it was chosen: --config, $SNITCH_CONFIG, the
    default place; (None, "") when none is given."""
    if config:
        return Path(config), "--config"
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV]), f"${CONFIG_ENV}"
    default = default_config_path()
    if default.is_file():
        return default, "the default place"
    return None, ""


def project_config(project) -> tuple[str, Path] | None:
    """The config the project hands its own pipeline: (the path as .gitlab-ci.yml gives it, the
    file), from the include's `snitch_config` input (or a SNITCH_CONFIG variable), as CI reads
    it. None when the project names none or its .gitlab-ci.yml cannot be read (standard 9 and
    the checks report that file). The path must name a file inside the project."""
    from snitch.facts import gitlab_ci  # gitlab_ci's checks helpers import the violation module only
    from snitch.violation import FileProblem

    try:
        declared = gitlab_ci.setting(gitlab_ci.document(project), "snitch_config", CONFIG_ENV)
    except FileProblem:
        return None
    if declared is None or declared.value in (None, ""):
        return None
    where = f"{project.root}/.gitlab-ci.yml: the {declared.where}"
    relative = declared.value
    if not isinstance(relative, str):
        raise StandardsError(f"{where} is {shown(relative)}, not a path; give the config's path in the project, like {PROJECT_COPY}")
    try:
        path = project.locate(relative.strip())
    except FileProblem as problem:
        raise StandardsError(f"{where} names {relative!r}, which {problem.found}; {problem.fix}") from None
    if path is None:
        raise StandardsError(
            f"{where} names {relative!r}, which does not exist in the project; restore the organisation's "
            f"config there (the template wrote it to {PROJECT_COPY}) or remove the input"
        )
    return relative, path


# Where the template puts the copy of the config a project was rendered under.
PROJECT_COPY = ".snitch/config.yaml"


def _standards_from(path: Path) -> Standards:
    overrides = _read_overrides(path)
    standards = load()
    installed = overrides.pop(INSTALLED_PARAMETERS, {})
    _validate(overrides, standards.parameters, path)
    _validate_standard_numbers(overrides, standards, path)
    standards.parameters.update(overrides)
    _apply_installed_parameters(installed, standards, path)
    _validate_merged(standards.parameters, path)
    standards.config = path
    return standards


def load_standards(config: str | os.PathLike | None = None, project=None) -> Standards:
    """The standards with overrides from `config`, else $SNITCH_CONFIG, else the default place,
    else (given the `project` being checked) the config its .gitlab-ci.yml hands its pipeline.

    The organisation's own config wins over the project's copy, so a project cannot loosen a
    rule by editing its copy; `Standards.project_copy_note` says when the copy differs from it.
    A project copy that cannot be used is an error (StandardsError) only when it is the config
    in force; otherwise the note says why it could not be compared."""
    chosen, source = _organisation_config(config)
    copy = project_config(project) if project is not None and chosen is None else None
    if chosen is None and copy is None:
        return load()
    if chosen is None:
        standards = _standards_from(copy[1])
        standards.config_source = "the snitch_config input of the project's .gitlab-ci.yml"
        return standards
    standards = _standards_from(chosen)
    standards.config_source = source
    if project is not None:
        standards.project_copy_note = _copy_note(project, standards)
    return standards


def _copy_note(project, standards: Standards) -> str:
    """How the project's own config compares with the organisation's config in force."""
    try:
        copy = project_config(project)
        if copy is None:
            return ""
        theirs = _standards_from(copy[1])
    except StandardsError as error:
        return f"the project's own config cannot be used, so it was not compared ({error})"
    ours, copied = _parameters_in_force(standards), _parameters_in_force(theirs)
    changed = sorted(key for key in ours.keys() | copied.keys() if ours.get(key) != copied.get(key))
    if not changed:
        return ""
    return (
        f"the project's {copy[0]} differs from this config in {', '.join(changed)}; this run (and CI with the "
        f"organisation's config) uses {standards.config}: update the copy to match"
    )
