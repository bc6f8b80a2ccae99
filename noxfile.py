"""Developer sessions: `nox -s tests`, `nox -s main_job`, `nox -s benchmark`.

Each session installs snitch into its own virtualenv; the system tools the tests need (git, rsync,
buildah, skopeo, gitlab-ci-local) come from scripts/setup."""

import nox

nox.options.sessions = ["tests"]


@nox.session(python="3.11")
def tests(session: nox.Session) -> None:
    """The whole test-suite (what CI runs after scripts/setup)."""
    session.install("-e", ".[test]")
    session.run("pytest", *session.posargs)


@nox.session(python="3.11")
def main_job(session: nox.Session) -> None:
    """Render a project from the template, train and evaluate it, and check it with snitch."""
    session.install("-e", ".[test]")
    session.run("scripts/main-job", *session.posargs, external=True)


@nox.session(python="3.11")
def benchmark(session: nox.Session) -> None:
    """snitch's wall time and peak memory (method and results in docs/performance.md)."""
    session.install("-e", ".[test]")
    session.run("python", "benchmarks/bench_snitch.py", "--markdown", *session.posargs)
