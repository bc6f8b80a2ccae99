"""Reading the CI/CD variables a job gets, with messages that name the variable and its source."""

from __future__ import annotations

import os

from snitch.config import CONFIG_ENV, load_standards
from snitch.pipeline.errors import PipelineError
from snitch.standards import StandardsError

# Where each variable normally comes from, so a missing one can be explained.
SOURCES = {
    "MODEL_NAME": "the `model_name` input of the include in .gitlab-ci.yml",
    "WEIGHTS_URI": "the `weights_uri` input of the include in .gitlab-ci.yml",
    "IMAGE_REPOSITORY": "the build job's dotenv report (build.env) or the `image_repository` input",
    "IMAGE_DIGEST": "the build job's dotenv report (build.env); the deploy job must `needs: [build]`",
    "CI_COMMIT_SHA": "GitLab (a predefined variable)",
    "GITLAB_USER_LOGIN": "GitLab (a predefined variable: who started the job)",
    "CI_PROJECT_URL": "GitLab (a predefined variable)",
}


def get(name: str, default: str | None = None, *, required: bool = False, environ=None) -> str:
    """The value of variable `name`; a missing or empty required one raises a PipelineError."""
    value = (environ if environ is not None else os.environ).get(name, "")
    value = value.strip() if isinstance(value, str) else ""
    if value:
        return value
    if required and default is None:
        source = SOURCES.get(name, "a CI/CD variable")
        raise PipelineError(f"variable {name} is not set; it comes from {source}")
    return default if default is not None else ""


def version_from_ci(environ=None) -> str:
    """The release version: the tag without a leading `v`, else the short commit SHA."""
    tag = get("CI_COMMIT_TAG", environ=environ)
    if tag:
        return tag[1:] if tag[:1] in "vV" and tag[1:2].isdigit() else tag
    short = get("CI_COMMIT_SHORT_SHA", environ=environ)
    if short:
        return short
    return get("CI_COMMIT_SHA", required=True, environ=environ)[:8]


def parameters() -> dict:
    """The organisation's standards parameters (bucket, labels...), read exactly as the checker
    reads them: the standards document overridden by $SNITCH_CONFIG (the `snitch_config` input)."""
    try:
        return load_standards().parameters
    except StandardsError as error:
        raise PipelineError(f"{error} (the organisation's config comes from ${CONFIG_ENV}, the `snitch_config` input)") from None
