"""An organisation's overrides of the standards' parameters (`--config FILE` or `SNITCH_CONFIG`)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

from snitch import service
from snitch.standards import Standards, StandardsError, load

CONFIG_ENV = "SNITCH_CONFIG"
_REGEX_PARAMETERS = ("pipeline_ref_pattern",)
# Kubernetes quantities (standard 11's limits); a plain number of cores is fine too.
_QUANTITY_PARAMETERS = {"cpu_limit": service.parse_cpu, "memory_limit": service.parse_memory}


def _read_overrides(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise StandardsError(f"config file {path} does not exist; pass an existing YAML file to --config") from None
    except (OSError, UnicodeDecodeError) as error:
        raise StandardsError(f"config file {path} cannot be read ({error}); it must be a UTF-8 YAML file") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise StandardsError(f"config file {path} is not valid YAML: {error}") from None
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
                f"config file {path}: {key} must be a {expected} like the default {default!r}, got {value!r}"
            )
        items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
        if any(not isinstance(item, str) or not item for item in items):
            raise StandardsError(f"config file {path}: every entry of {key} must be a non-empty string")
    patterns = {key: overrides[key] for key in _REGEX_PARAMETERS if key in overrides}
    patterns.update(overrides.get("readme_links", {}))
    for key, pattern in patterns.items():
        try:
            re.compile(pattern)
        except re.error as error:
            raise StandardsError(f"config file {path}: {key} is not a valid regular expression: {error}") from None


def load_standards(config: str | os.PathLike | None = None) -> Standards:
    """The standards with overrides from `config`, else from $SNITCH_CONFIG, else the defaults."""
    chosen = config or os.environ.get(CONFIG_ENV)
    if not chosen:
        return load()
    path = Path(chosen)
    overrides = _read_overrides(path)
    standards = load()
    _validate(overrides, standards.parameters, path)
    standards.parameters.update(overrides)
    standards.config = path
    return standards
