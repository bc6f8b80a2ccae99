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

from snitch import service
from snitch import files
from snitch.safe_yaml import YamlProblem, load_documents
from snitch.standards import Standards, StandardsError, load
from snitch.violation import shown

CONFIG_ENV = "SNITCH_CONFIG"
# The config's key under which installed standards take their own parameters, by id.
INSTALLED_PARAMETERS = "standards"
_REGEX_PARAMETERS = ("pipeline_ref_pattern",)
# Kubernetes quantities (standard 11's limits); a plain number of cores is fine too.
_QUANTITY_PARAMETERS = {"cpu_limit": service.parse_cpu, "memory_limit": service.parse_memory}
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
        raise StandardsError(f"config file {path} {problem}; --config takes a UTF-8 YAML file") from None
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
            except service.ServiceProblem as problem:
                raise StandardsError(f"config file {path}: {problem}") from None
            continue
        if isinstance(default, bool) != isinstance(value, bool) or not isinstance(value, type(default)):
            expected = type(default).__name__
            raise StandardsError(
                f"config file {path}: {key} must be a {expected} like the default {default!r}, got {shown(value)}"
            )
        highest = 100 if key in _PERCENT_PARAMETERS else MAX_COUNT
        if isinstance(value, (int, float)) and not (math.isfinite(value) and 0 <= value <= highest):
            raise StandardsError(f"config file {path}: {key} must be a number from 0 to {highest}, got {shown(value)}")
        items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
        if key in _NUMBER_LISTS:
            continue
        if any(not isinstance(item, str) or not item for item in items):
            raise StandardsError(f"config file {path}: every entry of {key} must be a non-empty string")
    patterns = {key: overrides[key] for key in _REGEX_PARAMETERS if key in overrides}
    patterns.update(overrides.get("readme_links", {}))
    for key, pattern in patterns.items():
        problem = _pattern_problem(pattern)
        if problem:
            raise StandardsError(f"config file {path}: {key} {problem}")


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


def _pattern_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be an organisation's regular expression: invalid, or able to take
    exponential time (a repetition inside a repetition, or alternatives inside a repetition,
    such as `(a+)+` or `(a|ab)*`), which a hostile README or ref would exploit to hang snitch."""
    try:
        parsed = _regex_parser.parse(pattern)
    except (re.error, RecursionError, OverflowError) as error:
        return f"is not a valid regular expression: {error}"
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


def _ambiguous_loop(body) -> bool:
    """Can one pass of a repeated `body` be split into passes in more than one way? Safe when
    the body starts with a literal that nothing repeated inside it can match, like `(\\.\\d+)*`."""
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


def load_standards(config: str | os.PathLike | None = None) -> Standards:
    """The standards with overrides from `config`, else $SNITCH_CONFIG, else the default place."""
    chosen = config or os.environ.get(CONFIG_ENV)
    if not chosen:
        default = default_config_path()
        if not default.is_file():
            return load()
        chosen = default
    path = Path(chosen)
    overrides = _read_overrides(path)
    standards = load()
    installed = overrides.pop(INSTALLED_PARAMETERS, {})
    _validate(overrides, standards.parameters, path)
    _validate_standard_numbers(overrides, standards, path)
    standards.parameters.update(overrides)
    _apply_installed_parameters(installed, standards, path)
    standards.config = path
    return standards
