"""The one place the pipeline's jobs read their settings (CI/CD variables).

Every variable a job reads is declared in `VARIABLES` with where it comes from, so a missing one
is explained in one sentence; the include's inputs contribute theirs from snitch.pipeline.inputs.
Reading an undeclared name is a programming error (KeyError): a new setting is declared here
first. Nothing else in snitch.pipeline reads `os.environ` (run-local's process set-up aside).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from snitch.pipeline.errors import PipelineError, ci_document
from snitch.pipeline.inputs import INPUTS

# The checker's own modules (the standards, the .gitlab-ci.yml reader) are imported where they are
# used: most jobs never ask for them, and each job is a process of its own.

_GITLAB = "GitLab (a predefined variable)"
_CI_SETTINGS = "the project's CI/CD settings (docs/pipeline.md)"
_FROM_BUILD = "the build job's dotenv report (build.env); the deploy job must `needs: [build]`"

VARIABLES: dict[str, str] = {
    **{item.variable: f"the `{item.name}` input of the include in .gitlab-ci.yml" for item in INPUTS if item.variable},
    "IMAGE_REPOSITORY": "the build job's dotenv report (build.env) or the `image_repository` input",
    "IMAGE_DIGEST": _FROM_BUILD,
    "IMAGE_VERSION": _FROM_BUILD,
    "IMAGE_SOURCE": _FROM_BUILD,
    "KSERVE_NAMESPACE": _CI_SETTINGS,
    "SNITCH_ISVC_SCHEMA": _CI_SETTINGS,
    "SNITCH_METRICS_FILE": _CI_SETTINGS,
    "SNITCH_RECORDS_DIR": _CI_SETTINGS,
    "SNITCH_API_TOKEN": _CI_SETTINGS,
    "SNITCH_IMAGE_PUSH": _CI_SETTINGS,
    "SNITCH_BUILD_LABELS_ONLY": _CI_SETTINGS,
    "SNITCH_BUILDAH_ROOT": _CI_SETTINGS,
    "SNITCH_DEBUG": _CI_SETTINGS,
    "ROLLBACK_TO": "the variables of a manual rollback job (Run job)",
    "EXPERIMENT_FINE_TUNE": "the experiment job's variables (Run pipeline)",
    "EXPERIMENT_DATASETS_URI": _CI_SETTINGS,
    "KUBECTL": "the deploy image (the kubectl on PATH unless set)",
    "KUBE_CONTEXT": _CI_SETTINGS,
    "BUILDAH": "the build image (the buildah on PATH unless set)",
    "STORAGE_DRIVER": "the build job's variables",
    "BUILDAH_ISOLATION": "the build job's variables",
    "AWS_ACCESS_KEY_ID": _CI_SETTINGS,
    "AWS_PROFILE": _CI_SETTINGS,
    "AWS_WEB_IDENTITY_TOKEN_FILE": _CI_SETTINGS,
    "AWS_CONTAINER_CREDENTIALS_FULL_URI": "the runner (ECS task credentials)",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "the runner (ECS task credentials)",
    **{name: _GITLAB for name in (
        "CI_COMMIT_SHA", "CI_COMMIT_SHORT_SHA", "CI_COMMIT_TAG", "CI_PROJECT_URL", "CI_PROJECT_ID", "CI_PIPELINE_URL",
        "CI_PIPELINE_SOURCE", "CI_JOB_URL", "CI_JOB_TOKEN", "CI_API_V4_URL", "CI_ENVIRONMENT_NAME", "CI_REGISTRY",
        "CI_REGISTRY_USER", "CI_REGISTRY_PASSWORD")},
    "GITLAB_USER_LOGIN": "GitLab (a predefined variable: who started the job)",
}
_TRUE = ("1", "true", "yes", "on")


class Settings:
    """The CI/CD variables of one job (`environ`, default the process environment), read by name."""

    def __init__(self, environ: Mapping[str, str] | None = None):
        self._environ = os.environ if environ is None else environ

    def get(self, name: str, default: str | None = None, *, required: bool = False) -> str:
        """The value of `name` (stripped); a missing or empty required one raises a PipelineError."""
        if name not in VARIABLES:
            raise KeyError(f"{name} is not declared in snitch.pipeline.settings.VARIABLES")
        value = self._environ.get(name, "")
        value = value.strip() if isinstance(value, str) else ""
        if value:
            return value
        if required and default is None:
            raise PipelineError(f"variable {name} is not set; it comes from {VARIABLES[name]}")
        return default if default is not None else ""

    def flag(self, name: str) -> bool:
        return self.get(name).lower() in _TRUE

    def any_set(self, names: Iterable[str]) -> bool:
        return any(self.get(name) for name in names)

    def version(self) -> str:
        """The release version: the tag without a leading `v`, else the short commit SHA."""
        tag = self.get("CI_COMMIT_TAG")
        if tag:
            return tag[1:] if tag[:1] in "vV" and tag[1:2].isdigit() else tag
        return self.get("CI_COMMIT_SHORT_SHA") or self.get("CI_COMMIT_SHA", required=True)[:8]


def project_values(project: Path) -> dict[str, str]:
    """The variables PROJECT/.gitlab-ci.yml gives the shared pipeline, read as snitch reads them
    (each input of the include, or the top-level variable it maps to), so a command run by hand
    in a project needs only what CI alone knows (the image digest, the commit...). The config the
    `snitch_config` input names is a path in the project: it is given as the file it names, so
    the command reads it from any folder."""
    from snitch.facts import gitlab_ci
    from snitch.standards.config import CONFIG_ENV

    document = ci_document(project) if (project / gitlab_ci.CI).is_file() else None
    if document is None:
        return {}
    values = {}
    for item in INPUTS:
        if not item.variable:
            continue
        found = gitlab_ci.setting(document, item.name, item.variable)
        if found is not None and isinstance(found.value, (str, int, float)) and not isinstance(found.value, bool):
            values[item.variable] = str(found.value)
        elif not item.required and "$" not in str(item.default):  # GitLab gives an input left out its default
            values[item.variable] = str(item.default)
    if values.get(CONFIG_ENV):
        values[CONFIG_ENV] = str(_project_config_file(project) or values[CONFIG_ENV])
    return values


def _project_config_file(project: Path) -> Path | None:
    """The file the project's `snitch_config` input names, found as snitch finds it (inside the
    project, never through a symlink out of it); None when snitch's reader finds no input."""
    from snitch.read.project import Project
    from snitch.standards.config import project_config
    from snitch.standards.document import StandardsError

    try:
        found = project_config(Project(project, ""))
    except StandardsError as error:
        raise PipelineError(str(error)) from None
    return found[1] if found else None


def with_project(project: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The job's variables over the project's own values: a variable set by hand or by CI wins."""
    return {**project_values(project), **(os.environ if environ is None else environ)}


def get(name: str, default: str | None = None, *, required: bool = False, environ=None) -> str:
    return Settings(environ).get(name, default, required=required)


def flag(name: str, environ=None) -> bool:
    return Settings(environ).flag(name)


def parameters(environ: Mapping[str, str] | None = None) -> dict:
    """The organisation's standards parameters (bucket, labels...), read exactly as the checker
    reads them: the standards document overridden by $SNITCH_CONFIG of the job's variables
    (`environ`, default the process environment; the `snitch_config` input)."""
    from snitch.standards.config import CONFIG_ENV, load_standards
    from snitch.standards.document import StandardsError

    try:
        return load_standards(Settings(environ).get(CONFIG_ENV) or None).parameters
    except StandardsError as error:
        raise PipelineError(f"{error} (the organisation's config comes from ${CONFIG_ENV}, the `snitch_config` input)") from None
