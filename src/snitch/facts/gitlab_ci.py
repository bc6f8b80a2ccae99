"""The parts of a project's .gitlab-ci.yml the standards care about."""

from __future__ import annotations

import re
from dataclasses import dataclass

from snitch.violation import skip

CI = ".gitlab-ci.yml"

# Keys at the top of .gitlab-ci.yml that configure the pipeline rather than define a job.
GLOBAL_KEYWORDS = {
    "default", "include", "stages", "variables", "workflow", "image", "services", "cache",
    "before_script", "after_script", "spec", "pages",
}


@dataclass(frozen=True)
class Setting:
    value: object
    where: str  # how the project declared it, for messages


def document(project) -> dict:
    """The project's .gitlab-ci.yml as a mapping. An empty file (or one of comments only) includes
    nothing: an empty mapping, which standard 9 reports, not a file problem; a missing or
    unparsable file, or one holding a list or a scalar, is a FileProblem."""
    if project.yaml(CI) is None:
        return {}
    return project.yaml_mapping(CI)


def shared_include(project, parameters) -> dict | None:
    """The include of the organisation's shared pipeline in the project's .gitlab-ci.yml, if any."""
    return pipeline_include(document(project), parameters["pipeline_project"], parameters["pipeline_file"])


def require_shared_include(project, parameters) -> None:
    """Skip the running check when .gitlab-ci.yml does not include the shared pipeline: the inputs
    it reads mean nothing without it, and standard 9 reports the missing include (one cause, one
    failure)."""
    if shared_include(project, parameters) is None:
        skip(
            f"{CI} does not include the shared pipeline ({parameters['pipeline_project']}), so it has no inputs "
            "to judge; standard 9 (9.test_gitlab_ci_includes_shared_pipeline) reports that"
        )


def includes(document: dict) -> list:
    entries = document.get("include", [])
    return entries if isinstance(entries, list) else [entries]


def pipeline_include(document: dict, project: str, file: str) -> dict | None:
    """The include entry that brings in the shared pipeline, if any. GitLab reads `file:` from
    the project's root with or without a leading slash (its docs write `/templates/...`)."""
    for entry in includes(document):
        if isinstance(entry, dict) and entry.get("project") == project:
            files = entry.get("file")
            names = files if isinstance(files, list) else [files]
            if any(isinstance(name, str) and name.lstrip("/") == file.lstrip("/") for name in names):
                return entry
    return None


def setting(document: dict, input_name: str, variable: str) -> Setting | None:
    """A value given to the shared pipeline as an include input, or as a top-level variable."""
    for entry in includes(document):
        inputs = entry.get("inputs") if isinstance(entry, dict) else None
        if isinstance(inputs, dict) and input_name in inputs:
            return Setting(inputs[input_name], f"include input `{input_name}`")
    variables = document.get("variables")
    if isinstance(variables, dict) and variable in variables:
        value = variables[variable]
        if isinstance(value, dict):  # the long form {value: ..., description: ...}
            value = value.get("value")
        return Setting(value, f"variable `{variable}`")
    return None


def jobs(document: dict) -> list[str]:
    return [key for key in document if isinstance(key, str) and key not in GLOBAL_KEYWORDS and not key.startswith(".")]


def key_line(text: str, *keys: str) -> int | None:
    """The first line of `text` that sets one of `keys` (`key:` in block style), so a report can
    point at it; None when none is written that way."""
    for key in keys:
        match = re.search(rf"^[ \t-]*[\"']?{re.escape(key)}[\"']?[ \t]*:", text, re.MULTILINE)
        if match:
            return text.count("\n", 0, match.start()) + 1
    return None
