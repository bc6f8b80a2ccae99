"""An organisation's overrides of the standards' parameters.

One YAML file, found in this order: `--config FILE`, `$SNITCH_CONFIG`, then the default place
`$XDG_CONFIG_HOME/snitch/config.yaml` (`~/.config/snitch/config.yaml`) when it exists. The
checker, the template's defaults and the pipeline's jobs all read it through `load_standards`."""

from __future__ import annotations

import contextlib
import math
import os
import re
import signal
import threading
from pathlib import Path

try:  # the parser of the `re` module, to read a pattern's structure (sre_parse before Python 3.11)
    from re import _constants, _parser as _regex_parser
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _constants
    import sre_parse as _regex_parser

from snitch.facts import names, service_settings
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
_POSSESSIVE_REPEAT = getattr(_constants, "POSSESSIVE_REPEAT", None)
# What all of a check's organisation patterns together may spend on one project (see pattern_budget).
PATTERN_BUDGET_S = 2.0
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
    from snitch.facts import release  # release reads the merged parameters; it imports this module's budget

    problem = release.configured_ref_problem(parameters)
    if problem:
        raise StandardsError(f"config file {path}: {problem}")


class PatternTooSlow(Exception):
    """An organisation's pattern ran past its time budget on the project's text."""


@contextlib.contextmanager
def pattern_budget(seconds: float = PATTERN_BUDGET_S):
    """Bound the time the organisation's patterns may spend on a project's text.

    Patterns that backtrack exponentially are refused when the config loads, but a polynomial
    one (`.*a.*b.*x` needs minutes on a 1,000-character line) is only caught by running it: the
    regular-expression engine checks for signals as it goes, so a timer interrupts it with
    PatternTooSlow. Outside the main thread (where no timer can be set) patterns run unbounded."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum, frame):
        raise PatternTooSlow()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be an organisation's regular expression: invalid, or able to take
    exponential time (a repetition inside a repetition, or alternatives inside a repetition,
    such as `(a+)+` or `(a|ab)*`), which a hostile README or ref would exploit to hang snitch."""
    try:
        parsed = _regex_parser.parse(pattern)
    except (re.error, RecursionError, OverflowError) as error:
        return f"is not a valid regular expression: {error}"
    if _uses(parsed, _constants.GROUPREF_EXISTS):
        return (
            "uses a conditional group `(?(1)...)`, which RE2 and JavaScript do not know and which can "
            "backtrack without bound; write the alternatives out"
        )
    if _nested_repetition(parsed):
        return (
            "repeats a group that itself repeats or has alternatives (like `(a+)+` or `(a|b)*`), "
            "which can take exponential time on some inputs; write it without the nested repetition"
        )
    return None


_REPEATS = {_constants.MAX_REPEAT, _constants.MIN_REPEAT} | ({_POSSESSIVE_REPEAT} - {None})
_CATEGORIES = {
    _constants.CATEGORY_DIGIT: str.isdigit,
    _constants.CATEGORY_WORD: lambda c: c.isalnum() or c == "_",
    _constants.CATEGORY_SPACE: str.isspace,
}


def _can_match(opcode, argument, character: str) -> bool:
    """Can this one-character item match `character`? True when unsure."""
    if opcode is _constants.LITERAL:
        return chr(argument) == character
    if opcode is _constants.NOT_LITERAL:
        return chr(argument) != character
    if opcode is _constants.IN:
        hit, negated = False, False
        for kind, value in argument:
            if kind is _constants.NEGATE:
                negated = True
            elif kind is _constants.LITERAL:
                hit |= chr(value) == character
            elif kind is _constants.RANGE:
                hit |= value[0] <= ord(character) <= value[1]
            elif kind is _constants.CATEGORY and value in _CATEGORIES:
                hit |= _CATEGORIES[value](character)
            else:
                return True
        return hit != negated
    return True  # ANY, and anything this reader does not model


def _characters(items):
    """Every one-character item inside `items`, at any depth."""
    for opcode, argument in items:
        if opcode in _REPEATS:
            yield from _characters(argument[2])
        elif opcode is _constants.SUBPATTERN:
            yield from _characters(argument[-1])
        elif opcode is _constants.BRANCH:
            for branch in argument[1]:
                yield from _characters(branch)
        elif opcode in (_constants.ASSERT, _constants.ASSERT_NOT):
            yield from _characters(argument[1])
        else:
            yield opcode, argument


def _uses(items, opcode) -> bool:
    """Does `opcode` occur anywhere in the parsed pattern `items`?"""
    for item_opcode, argument in items:
        if item_opcode is opcode:
            return True
        if item_opcode in _REPEATS:
            nested = [argument[2]]
        elif item_opcode is _constants.SUBPATTERN:
            nested = [argument[-1]]
        elif item_opcode is _constants.BRANCH:
            nested = argument[1]
        elif item_opcode in (_constants.ASSERT, _constants.ASSERT_NOT):
            nested = [argument[1]]
        else:
            nested = []
        if any(_uses(inner, opcode) for inner in nested):
            return True
    return False


def _alternatives_overlap(body) -> bool:
    """Does a choice in `body` offer the same text twice? The parser turns `a|a` into `a` then a
    choice between two empty alternatives, and `a|` into a choice with one empty alternative:
    inside a repetition either lets one input be split in exponentially many ways."""
    for opcode, argument in body:
        if opcode is _constants.BRANCH:
            alternatives = [list(branch) for branch in argument[1]]
            if any(not branch for branch in alternatives) or any(
                branch in alternatives[:index] for index, branch in enumerate(alternatives)
            ):
                return True
    return False


def _ambiguous_loop(body) -> bool:
    """Can one pass of a repeated `body` be split into passes in more than one way? Safe when
    the body starts with a literal that nothing repeated inside it can match, like `(\\.\\d+)*`."""
    if _alternatives_overlap(body):
        return True
    inner = [item for item in body if item[0] in _REPEATS or item[0] is _constants.BRANCH]
    if not inner and not any(item[0] is _constants.SUBPATTERN for item in body):
        return False
    if not body or body[0][0] is not _constants.LITERAL:
        return True
    first = chr(body[0][1])
    return any(_can_match(opcode, argument, first) for opcode, argument in _characters(body[1:]))


def _nested_repetition(items) -> bool:
    for opcode, argument in items:
        if opcode in _REPEATS:
            high, body = argument[1], argument[2]
            if (high is _constants.MAXREPEAT or high > 1) and _ambiguous_loop(_flatten(body)):
                return True
            if _nested_repetition(body):
                return True
        elif opcode is _constants.SUBPATTERN and _nested_repetition(argument[-1]):
            return True
        elif opcode is _constants.BRANCH and any(_nested_repetition(branch) for branch in argument[1]):
            return True
        elif opcode in (_constants.ASSERT, _constants.ASSERT_NOT) and _nested_repetition(argument[1]):
            return True
    return False


def _flatten(body) -> list:
    """A repeated group's items, without the group around them."""
    items = list(body)
    while len(items) == 1 and items[0][0] is _constants.SUBPATTERN:
        items = list(items[0][1][-1])
    return items


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
    if theirs.parameters == standards.parameters:
        return ""
    changed = sorted(key for key in standards.parameters if theirs.parameters.get(key) != standards.parameters[key])
    return (
        f"the project's {copy[0]} differs from this config in {', '.join(changed)}; this run (and CI with the "
        f"organisation's config) uses {standards.config}: update the copy to match"
    )
