"""`ci/run-local PROJECT [JOB...] [-- GITLAB-CI-LOCAL-ARGS]`: the shared pipeline on your machine.

Runs a model project's `.gitlab-ci.yml` with gitlab-ci-local (shell executor), with the
`include: project` of the shared pipeline served from this checkout instead of the GitLab
server: the file is seeded into gitlab-ci-local's include cache,
`PROJECT/.gitlab-ci-local/includes/<host>/<project>/<ref>/<file>`, where `<host>` comes from the
project's `origin` remote.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from snitch.facts import gitlab_ci
from snitch.facts.names import control_character
from snitch.pipeline import toolenv
from snitch.pipeline.errors import PipelineError, ci_document
from snitch.read.git import GitUnavailable, run_git

PIPELINE_FILE = "ci/model-promotion-pipeline.yml"
GITLAB_CI_LOCAL_VERSION = "4.73.0"
CHECKOUT = Path(__file__).resolve().parents[3]

_REMOTE_PATTERNS = (
    re.compile(r"^(?:https?)://(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?/"),
    re.compile(r"^ssh://(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?/"),
    re.compile(r"^(?:[^@/]+@)?(?P<host>[^/:]+):"),
)


def remote_host(project: Path) -> str:
    """The host gitlab-ci-local derives from the `origin` remote (gitlab.com without one)."""
    try:
        url = run_git(project, "remote", "get-url", "origin").stdout.decode("utf-8", "replace").strip()
    except GitUnavailable:
        return "gitlab.com"
    for pattern in _REMOTE_PATTERNS:
        match = pattern.match(url)
        if match:
            return match["host"]
    raise PipelineError(f"cannot tell the GitLab host from the origin remote {url!r}")


def pipeline_includes(project: Path) -> list[dict]:
    """The `include: project` entries of PROJECT/.gitlab-ci.yml that pull in the shared pipeline."""
    data = ci_document(project)
    found = []
    for entry in gitlab_ci.includes(data) if data is not None else []:
        if not isinstance(entry, dict) or "project" not in entry:
            continue
        names = entry.get("file")
        names = names if isinstance(names, list) else [names]
        if any(str(name).lstrip("/") == PIPELINE_FILE for name in names):
            found.append(entry)
    if not found:
        raise PipelineError(
            f"{project / gitlab_ci.CI} does not include the shared pipeline ({PIPELINE_FILE} with `include: project`); "
            "see docs/pipeline.md"
        )
    return found


def seed_includes(project: Path, checkout: Path = CHECKOUT) -> list[Path]:
    """Copy this checkout's pipeline file into gitlab-ci-local's include cache of PROJECT."""
    source = checkout / PIPELINE_FILE
    if not source.is_file():
        raise PipelineError(f"{source} is missing: run-local must run from a snitch checkout")
    host = remote_host(project)
    seeded = []
    for entry in pipeline_includes(project):
        ref = str(entry.get("ref") or "HEAD")
        cache = project / ".gitlab-ci-local" / "includes"
        # a NUL or a control character can name no file (and no GitLab project or ref)
        unusable = control_character(f"{entry['project']}{ref}")
        target = cache / host / str(entry["project"]) / ref / PIPELINE_FILE
        if unusable or not target.resolve().is_relative_to(cache.resolve()):  # `ref: ../../..` must not write elsewhere
            raise PipelineError(f"the include's project {entry['project']!r} or ref {ref!r} is not a GitLab project path and ref")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        seeded.append(target)
    return seeded


# Sourced (BASH_ENV) by every bash gitlab-ci-local's shell executor starts for a job: the job gets a
# virtualenv of its own, made fresh from the Python that runs run-local, first on PATH, as a job
# on GitLab gets a clean `python_image`. Keyed by the job's id, so jobs running in parallel never
# share an installed environment; a nested bash of the same job finds its venv already active.
# SNITCH_RUN_LOCAL_SITE_PACKAGES (opt-in) names a site-packages folder every job venv also sees,
# so a test suite need not reinstall kserve for every job; the jobs still install into their own.
JOB_ENV_SCRIPT = """\
if [ -n "${CI_JOB_ID:-}" ] && [ -n "${SNITCH_RUN_LOCAL_VENVS:-}" ]; then
  snitch_run_local_venv="$SNITCH_RUN_LOCAL_VENVS/${CI_JOB_NAME_SLUG:-job}-$CI_JOB_ID"
  if [ "${VIRTUAL_ENV:-}" != "$snitch_run_local_venv" ]; then
    if [ ! -x "$snitch_run_local_venv/bin/python3" ]; then
      "$SNITCH_RUN_LOCAL_PYTHON" -m venv "$snitch_run_local_venv" \\
        || { echo "run-local: cannot create the job's virtualenv $snitch_run_local_venv" >&2; exit 1; }
      if [ -n "${SNITCH_RUN_LOCAL_SITE_PACKAGES:-}" ]; then
        "$snitch_run_local_venv/bin/python3" -c 'import pathlib, sys, sysconfig
pathlib.Path(sysconfig.get_paths()["purelib"], "run-local-site-packages.pth").write_text(sys.argv[1] + "\\n")' \\
          "$SNITCH_RUN_LOCAL_SITE_PACKAGES"
      fi
    fi
    export VIRTUAL_ENV="$snitch_run_local_venv"
    export PATH="$snitch_run_local_venv/bin:$PATH"
  fi
  unset snitch_run_local_venv
fi
"""
# The Python run-local itself runs with must not leak into the jobs (a clean runner has none).
RUN_LOCAL_ONLY = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "SNITCH_RUN_LOCAL_TOOL_PYTHON")


def prepare_state(project: Path) -> Path:
    """PROJECT/.gitlab-ci-local, ignored by git whatever the project's .gitignore says, with
    run-local's own folder emptied of the previous run's job environments."""
    state = project / ".gitlab-ci-local"
    state.mkdir(exist_ok=True)
    ignore = state / ".gitignore"
    if not ignore.is_file():
        ignore.write_text("# everything gitlab-ci-local and ci/run-local keep here is local state\n*\n", encoding="utf-8")
    own = state / "run-local"
    shutil.rmtree(own / "venvs", ignore_errors=True)
    (own / "venvs").mkdir(parents=True)
    (own / "job-env.sh").write_text(JOB_ENV_SCRIPT, encoding="utf-8")
    return state


def command(project: Path, jobs: list[str], passthrough: list[str], snitch_spec: str) -> list[str]:
    executable = shutil.which("gitlab-ci-local")
    if not executable:
        raise PipelineError(
            f"gitlab-ci-local is not installed: npm install -g gitlab-ci-local@{GITLAB_CI_LOCAL_VERSION} "
            "(4.74 and later need Node 22) and apt-get install rsync"
        )
    state = project / ".gitlab-ci-local"
    defaults = {
        # the jobs install snitch built from this checkout, not the release from the package index
        "SNITCH_PIP_SPEC": snitch_spec,
        # no pushing to the real registry from a laptop: the image goes to an OCI layout
        "SNITCH_IMAGE_PUSH": f"oci:{state / 'image-oci'}",
        # promotion records stay on disk so rollback jobs find the earlier deploys
        "SNITCH_RECORDS_DIR": str(state / "promotion-records"),
    }
    # Each job runs in its own copy of the project's tracked files (.gitlab-ci-local/builds/JOB),
    # as on a runner, and its artifacts stay in .gitlab-ci-local/artifacts/JOB: the project's
    # work tree is left as it was.
    result = [executable, *jobs, "--force-shell-executor", "--shell-isolation", "--no-artifacts-to-source"]
    for key, value in defaults.items():
        result += ["--variable", f"{key}={value}"]
    return result + passthrough  # given after ours, the user's --variable values win


def job_process_environment(state: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in RUN_LOCAL_ONLY}
    active = os.environ.get("VIRTUAL_ENV")
    if active:  # the venv run-local was started from is not on a runner either
        env["PATH"] = os.pathsep.join(part for part in env.get("PATH", "").split(os.pathsep)
                                      if Path(part) != Path(active) / "bin")
    env.update(BASH_ENV=str(state / "run-local" / "job-env.sh"),
               SNITCH_RUN_LOCAL_VENVS=str(state / "run-local" / "venvs"),
               SNITCH_RUN_LOCAL_PYTHON=sys.executable)
    return env


def run(project_arg: str, jobs: list[str], passthrough: list[str]) -> int:
    project = Path(project_arg).resolve()
    if not project.is_dir():
        raise PipelineError(f"{project_arg} is not a folder; give the path of a model project")
    for target in seed_includes(project):
        print(f"run-local: serving {PIPELINE_FILE} from {CHECKOUT} as {target.relative_to(project)}", file=sys.stderr, flush=True)
    wheel = toolenv.checkout_wheel(CHECKOUT)
    argv = command(project, jobs, passthrough, f"model-snitch[pipeline] @ {wheel.as_uri()}")
    state = prepare_state(project)
    print("run-local: " + " ".join(argv), file=sys.stderr, flush=True)
    print(f"run-local: each job runs in its own venv and copy of the project; its outputs go to {state / 'artifacts'}/JOB/",
          file=sys.stderr, flush=True)
    return subprocess.run(argv, cwd=project, env=job_process_environment(state)).returncode
