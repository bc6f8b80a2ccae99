"""How a model runs (Model Standard 11): team, latency SLO, replicas, concurrency, CPU and memory.

A project declares these once, as inputs of the shared pipeline's include in `.gitlab-ci.yml`;
snitch's standard 11 checks them and the pipeline's deploy jobs put them on the InferenceService.
Both read them through this module, so a value means the same thing to both.

Values arrive as YAML scalars (from `.gitlab-ci.yml`) or as strings (CI/CD variables), so every
parser accepts either and says what it found when it cannot use it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Mapping

from snitch.facts.names import team_problem
from snitch.violation import shown


@dataclass(frozen=True)
class Field:
    name: str  # the include input
    variable: str  # the CI/CD variable the pipeline maps the input to
    kind: str  # team | whole | positive | cpu | memory
    required: bool  # standard 11 requires the project to declare it (others take the default)
    default: object  # the shared pipeline's input default: what a project that leaves it out gets


FIELDS = (
    Field("team", "SERVICE_TEAM", "team", True, None),
    Field("latency_slo_ms", "LATENCY_SLO_MS", "positive", True, 1000),
    Field("min_replicas", "MIN_REPLICAS", "whole", True, 1),
    Field("max_replicas", "MAX_REPLICAS", "positive", True, 3),
    Field("target_concurrency", "TARGET_CONCURRENCY", "positive", True, 10),
    Field("cpu", "SERVICE_CPU", "cpu", True, "1"),
    Field("memory", "SERVICE_MEMORY", "memory", True, "2Gi"),
    # dev scales to zero when idle unless the project says otherwise
    Field("dev_min_replicas", "DEV_MIN_REPLICAS", "whole", False, 0),
    Field("dev_max_replicas", "DEV_MAX_REPLICAS", "positive", False, 1),
)
FIELDS_BY_NAME = {field.name: field for field in FIELDS}
QUANTITY_KINDS = ("cpu", "memory")

# A request may take this many times the latency objective before KServe cuts it off: long enough
# for the slow tail, short enough that a stuck request frees its slot.
TIMEOUT_SLO_MULTIPLE = 10
MIN_TIMEOUT_SECONDS = 1

# Kubernetes resource quantities (k8s.io/apimachinery resource.Quantity), unsigned: a number, then a
# binary suffix, a decimal suffix or an exponent. Written to mean the same to Python (fullmatch),
# RE2 (GitLab's spec:inputs) and JavaScript (gitlab-ci-local): plain groups, no named ones.
QUANTITY_PATTERN = r"([0-9]+(\.[0-9]*)?|\.[0-9]+)(([KMGTPE]i)|([numkMGTPE])|[eE]([+-]?[0-9]+))?"
_QUANTITY = re.compile(QUANTITY_PATTERN)
_NUMBER, _BINARY_SUFFIX, _DECIMAL_SUFFIX, _EXPONENT = 1, 4, 5, 6  # the pattern's groups
_MAX_QUANTITY_CHARS = 40
_MAX_EXPONENT = 30  # 1e30 bytes is far beyond any machine; bounding it keeps 10**e cheap
_BINARY = {suffix: 1024 ** power for power, suffix in enumerate(("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")) if suffix}
_DECIMAL = {"n": Fraction(1, 10**9), "u": Fraction(1, 10**6), "m": Fraction(1, 1000), "k": 10**3, "M": 10**6,
            "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_MILLICORE = Fraction(1, 1000)


class ServiceProblem(ValueError):
    """A declared value that cannot be used; the message names it and says why."""


@dataclass(frozen=True)
class Quantity:
    text: str  # as declared, normalised to a string (Kubernetes accepts it as written)
    value: Fraction  # cores for cpu, bytes for memory

    def __str__(self) -> str:
        return self.text


def parse_quantity(value: object, name: str = "quantity") -> Quantity:
    """A Kubernetes quantity such as `500m`, `2`, `1.5`, `512Mi`, `1G`, `129e6`."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ServiceProblem(f"{name} is {shown(value)}, not a Kubernetes quantity")
    text = str(value).strip()
    match = _QUANTITY.fullmatch(text) if len(text) <= _MAX_QUANTITY_CHARS else None
    if not match:
        raise ServiceProblem(
            f"{name} is {shown(text)}, not a Kubernetes quantity "
            "(a number with an optional suffix: m, k, M, G, Ki, Mi, Gi, ... or an exponent like 1e9)"
        )
    number = Fraction(match[_NUMBER])
    if match[_BINARY_SUFFIX]:
        number *= _BINARY[match[_BINARY_SUFFIX]]
    elif match[_DECIMAL_SUFFIX]:
        number *= _DECIMAL[match[_DECIMAL_SUFFIX]]
    elif match[_EXPONENT]:
        exponent = int(match[_EXPONENT])
        if abs(exponent) > _MAX_EXPONENT:
            raise ServiceProblem(f"{name} is {text!r}, whose exponent is out of any sensible range")
        number *= Fraction(10) ** exponent
    if number <= 0:
        raise ServiceProblem(f"{name} is {text!r}; it must be more than zero")
    return Quantity(text, number)


def parse_cpu(value: object, name: str = "cpu") -> Quantity:
    quantity = parse_quantity(value, name)
    if quantity.value < _MILLICORE:
        raise ServiceProblem(f"{name} is {quantity.text!r}, below Kubernetes' smallest CPU unit 1m")
    return quantity


def parse_memory(value: object, name: str = "memory") -> Quantity:
    quantity = parse_quantity(value, name)
    if quantity.value.denominator != 1:
        hint = f"; did you mean {quantity.text[:-1]}Mi?" if quantity.text.endswith("m") else ""
        raise ServiceProblem(f"{name} is {quantity.text!r}, a fraction of a byte{hint}")
    return quantity


def parse_whole(value: object, name: str, minimum: int = 0) -> int:
    """A whole number ≥ minimum, from an int, an integral float or a string of digits."""
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*[0-9]{1,9}(\.0*)?\s*", value):
        number = int(float(value))
    if number is None:
        raise ServiceProblem(f"{name} is {shown(value)}, not a whole number")
    if number < minimum:
        raise ServiceProblem(f"{name} is {number}; it must be at least {minimum}")
    return number


def parse_team(value: object, name: str = "team") -> str:
    problem = team_problem(value)
    if problem:
        raise ServiceProblem(f"{name} is {problem}")
    return value


def team_membership_problem(team: str, teams: list) -> str | None:
    """Why `team` may not own a model under the organisation's `teams` (an empty list accepts any)."""
    if teams and team not in teams:
        return f"team {team!r} is not one of the organisation's teams ({', '.join(teams)}; parameter `teams`)"
    return None


_PARSERS = {
    "team": parse_team,
    "whole": lambda value, name: parse_whole(value, name, 0),
    "positive": lambda value, name: parse_whole(value, name, 1),
    "cpu": parse_cpu,
    "memory": parse_memory,
}


def parse_field(field: Field, value: object):
    return _PARSERS[field.kind](value, field.name)


def parse_declared(declared: Mapping[str, object], kinds=None) -> tuple[dict, list[str]]:
    """(parsed values, problems) for the declared fields, optionally only those of `kinds`."""
    parsed, problems = {}, []
    for field in FIELDS:
        if field.name not in declared or (kinds is not None and field.kind not in kinds):
            continue
        try:
            parsed[field.name] = parse_field(field, declared[field.name])
        except ServiceProblem as problem:
            problems.append(str(problem))
    return parsed, problems


def range_problems(values: Mapping[str, object]) -> list[str]:
    """Replica ranges that cannot work, among the (parsed) values given. An optional field left
    out has the pipeline's default, as every deploy sees it: `dev_min_replicas: 2` alone is above
    the default `dev_max_replicas` of 1."""
    problems = []
    optional = {field.name: field.default for field in FIELDS if not field.required}

    def value(name):  # (value, how it was set) or (None, "") when neither declared nor defaulted
        return (values[name], "") if name in values else (optional.get(name), " by default")

    for low, high in (("min_replicas", "max_replicas"), ("dev_min_replicas", "dev_max_replicas")):
        (low_value, low_note), (high_value, high_note) = value(low), value(high)
        if low_value is not None and high_value is not None and low_value > high_value:
            problems.append(f"{low} ({low_value}{low_note}) is above {high} ({high_value}{high_note})")
    if values.get("min_replicas") == 0:
        problems.append("min_replicas is 0, so staging and production would scale to zero; "
                        "only dev may (dev_min_replicas)")
    return problems


def limit_problems(values: Mapping[str, object], limits: Mapping[str, object]) -> list[str]:
    """Values (parsed) above the organisation's limits (`replicas_limit`, `cpu_limit`, `memory_limit`)."""
    problems = []
    for name in ("max_replicas", "dev_max_replicas"):
        if name in values and values[name] > limits["replicas_limit"]:
            problems.append(
                f"{name} is {values[name]}, above the organisation's limit of {limits['replicas_limit']} (replicas_limit)"
            )
    for name, limit_key, parse in (("cpu", "cpu_limit", parse_cpu), ("memory", "memory_limit", parse_memory)):
        if name in values:
            limit = parse(limits[limit_key], limit_key)
            if values[name].value > limit.value:
                problems.append(f"{name} is {values[name]}, above the organisation's limit of {limit} ({limit_key})")
    return problems


def timeout_seconds(latency_slo_ms: int) -> int:
    """KServe's request timeout for a latency objective (see TIMEOUT_SLO_MULTIPLE)."""
    return max(MIN_TIMEOUT_SECONDS, math.ceil(latency_slo_ms * TIMEOUT_SLO_MULTIPLE / 1000))


@dataclass(frozen=True)
class ServiceSpec:
    team: str
    latency_slo_ms: int
    min_replicas: int
    max_replicas: int
    target_concurrency: int
    cpu: Quantity
    memory: Quantity
    dev_min_replicas: int
    dev_max_replicas: int

    @classmethod
    def from_values(cls, declared: Mapping[str, object]) -> "ServiceSpec":
        """Every field parsed and the ranges checked; one ServiceProblem lists all that is wrong."""
        parsed, problems = parse_declared(declared)
        problems += [f"{field.name} is not set" for field in FIELDS if field.name not in declared]
        problems += range_problems(parsed)
        if problems:
            raise ServiceProblem("; ".join(problems))
        return cls(**parsed)

    def replicas(self, environment: str) -> tuple[int, int]:
        """(minimum, maximum) replicas in `environment`: dev has its own range, which may reach zero."""
        if environment == "dev":
            return self.dev_min_replicas, self.dev_max_replicas
        return self.min_replicas, self.max_replicas

    @property
    def timeout_seconds(self) -> int:
        return timeout_seconds(self.latency_slo_ms)

    def facts(self, environment: str) -> dict:
        """What a promotion record keeps about how the model runs in `environment`."""
        low, high = self.replicas(environment)
        return {
            "team": self.team,
            "latency_slo_ms": self.latency_slo_ms,
            "min_replicas": low,
            "max_replicas": high,
            "target_concurrency": self.target_concurrency,
            "cpu": str(self.cpu),
            "memory": str(self.memory),
            "timeout_seconds": self.timeout_seconds,
        }
