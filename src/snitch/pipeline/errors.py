"""Errors the pipeline reports as one clear line and a non-zero exit, never as a traceback."""

from __future__ import annotations

from pathlib import Path

from snitch.read import files

# Exit statuses of `python -m snitch.pipeline`, in line with snitch's own CLI.
EXIT_OK = 0
EXIT_FAILED = 1  # the work was done and found a problem (invalid manifest, kubectl failed, ...)
EXIT_UNUSABLE = 2  # the work could not be done (missing variable, malformed input, ...)


class PipelineError(Exception):
    """A problem the engineer can fix; `str(error)` says what was found and what to do."""

    exit_code = EXIT_UNUSABLE


class CheckFailed(PipelineError):
    """The inputs were usable but the result breaks a rule (e.g. the manifest is invalid)."""

    exit_code = EXIT_FAILED

    def __init__(self, summary: str, problems: list[str] | None = None):
        self.summary = summary
        self.problems = list(problems or [])
        lines = [summary, *(f"  - {problem}" for problem in self.problems)]
        super().__init__("\n".join(lines))


class CommandFailed(PipelineError):
    """An external tool (kubectl, buildah, skopeo, snitch) failed."""

    exit_code = EXIT_FAILED


def read_text(path: str | Path) -> str:
    """A file the job reads, through snitch's bounded reader; a PipelineError names what is wrong."""
    try:
        return files.read_text(path)
    except files.Unreadable as problem:
        raise PipelineError(files.describe(path, problem)) from None


def ci_document(project: Path) -> dict | None:
    """PROJECT/.gitlab-ci.yml through the safe reader snitch uses (`!reference` works, tags never
    run): its last document (a `spec:` header comes first), or None when that is no mapping."""
    # Imported here: run-local loads this module from a bare Python, before its tool environment
    # (with PyYAML) exists (pipeline/toolenv.py).
    from snitch.facts import gitlab_ci
    from snitch.read.safe_yaml import YamlProblem, load_documents

    ci_file = project / gitlab_ci.CI
    try:
        documents = load_documents(read_text(ci_file))
    except YamlProblem as problem:
        raise PipelineError(f"{ci_file} {problem}") from None
    document = documents[-1] if documents else None
    return document if isinstance(document, dict) else None


def writable(path: str | Path) -> Path:
    """`path`, checked writable (its folder created) before the work that fills it."""
    try:
        return files.prepare_output(path)
    except files.Unwritable as problem:
        raise PipelineError(f"cannot write {problem}") from None
