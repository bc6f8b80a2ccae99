"""An organisation's overrides of the standards' parameters.

One YAML file, found in this order: `--config FILE`, `$SNITCH_CONFIG`, then the default place
`$XDG_CONFIG_HOME/snitch/config.yaml` (`~/.config/snitch/config.yaml`) when it exists. The
checker, the template's defaults and the pipeline's jobs all read it through `load_standards`."""

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
_NUMBER_LISTS = ("mandatory",)  # lists of standard numbers, not of strings


def default_config_path() -> Path:
    """Where the organisation's config is read from when neither --config nor $SNITCH_CONFIG is set."""
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base) / "snitch" / "config.yaml"


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
        if key in _NUMBER_LISTS:
            continue
        if any(not isinstance(item, str) or not item for item in items):
            raise StandardsError(f"config file {path}: every entry of {key} must be a non-empty string")
    patterns = {key: overrides[key] for key in _REGEX_PARAMETERS if key in overrides}
    patterns.update(overrides.get("readme_links", {}))
    for key, pattern in patterns.items():
        try:
            re.compile(pattern)
        except re.error as error:
            raise StandardsError(f"config file {path}: {key} is not a valid regular expression: {error}") from None


def _validate_standard_numbers(overrides: dict, standards: Standards, path: Path) -> None:
    for key in _NUMBER_LISTS:
        for number in overrides.get(key, []):
            if isinstance(number, bool) or not isinstance(number, int) or number not in standards.standards:
                known = ", ".join(str(known) for known in sorted(standards.standards))
                raise StandardsError(f"config file {path}: {key} lists {number!r}, which is not a standard number ({known})")


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
    _validate(overrides, standards.parameters, path)
    _validate_standard_numbers(overrides, standards, path)
    standards.parameters.update(overrides)
    standards.config = path
    return standards
