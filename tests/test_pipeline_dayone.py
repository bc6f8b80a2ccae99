"""Day one, as a user follows docs/pipeline.md: a freshly rendered project, `python -m venv` and
activate, then `ci/run-local PROJECT snitch` and `ci/run-local PROJECT test`, each from its own
fresh venv. Nothing is pre-installed anywhere: run-local builds its own tool environment (in a
cache folder of this test's own), every job gets a fresh venv and installs what its script says
(pip's download cache is the only thing reused), and the project's work tree stays clean."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.pipeline import artifact, ci_project, run_local, tool_missing
from fixtures.template import git

pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(tool_missing("gitlab-ci-local", "rsync", "git")),
                                reason=str(tool_missing("gitlab-ci-local", "rsync", "git")))]

# What a user's shell does not have: this test suite's own Python settings.
NOT_IN_A_USERS_SHELL = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "SNITCH_RUN_LOCAL_SITE_PACKAGES")


def fresh_venv(folder: Path) -> dict:
    """`python -m venv FOLDER && . FOLDER/bin/activate`, as the environment a user's shell then has."""
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, capture_output=True, timeout=300)
    env = {key: value for key, value in os.environ.items() if key not in NOT_IN_A_USERS_SHELL}
    env.update(VIRTUAL_ENV=str(folder), PATH=f"{folder / 'bin'}{os.pathsep}{env['PATH']}")
    return env


def test_snitch_and_test_jobs_pass_on_a_fresh_project_each_from_a_fresh_venv(tmp_path):
    (tmp_path / "projects").mkdir()
    project = ci_project(tmp_path / "projects")
    # The session's own SNITCH_CACHE_DIR (tests/conftest.py) holds no run-local tool environment:
    # the first run-local builds it from nothing. PIP_NO_COMPILE only skips byte-compiling what the
    # jobs install (kserve and its ~750 MB of dependencies); what is installed is the same.
    for job, passed in (("snitch", r"PASS\s+snitch"), ("test", r"PASS\s+test \d+% coverage")):
        env = fresh_venv(tmp_path / f"venv-{job}")
        done = run_local(project, job, python=str(tmp_path / f"venv-{job}" / "bin" / "python3"), env=env,
                         variables={"PIP_NO_COMPILE": "1"})
        log = done.stdout + done.stderr
        assert done.returncode == 0, log[-6000:]
        assert re.search(passed, log), log[-3000:]
        assert "ModuleNotFoundError" not in log
        # the job ran in a venv of its own, made for this run
        venvs = list((project / ".gitlab-ci-local" / "run-local" / "venvs").iterdir())
        assert [venv.name.split("-")[0] for venv in venvs] == [job]
        assert git("status", "--porcelain", "--untracked-files=all", cwd=project) == ""
    assert "<testsuite" in artifact(project, "test", "junit.xml").read_text()
