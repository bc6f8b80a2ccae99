"""nox: the same checks the pipeline runs, locally.  `nox` runs both sessions."""

import nox

MODEL_NAME = "{{ cookiecutter.__model_name }}"
COVERAGE_FLOOR = "{{ cookiecutter.coverage_floor }}"
SNITCH = "git+{{ cookiecutter.gitlab_url.rstrip('/') }}/{{ 'pipeline_project' | org_parameter }}.git@{{ cookiecutter.snitch_version }}"

nox.options.sessions = ["tests", "snitch"]


@nox.session
def tests(session: nox.Session) -> None:
    session.install("-r", "requirements.txt", "-r", "requirements-dev.txt")
    session.run("pytest", "--cov", f"--cov-fail-under={COVERAGE_FLOOR}", *session.posargs)


@nox.session
def snitch(session: nox.Session) -> None:
    # Model Standards compliance, as checked in the pipeline.
    session.install(SNITCH)
    session.run("snitch", "-n", MODEL_NAME, "-p", ".")
