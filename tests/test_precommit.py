"""snitch as a pre-commit hook: real `pre-commit try-repo` against this repository."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from fixtures.checker import edit
from fixtures.template import git_commit_all

pytestmark = pytest.mark.slow  # renders, installs and runs whole projects

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def precommit_env(tmp_path_factory):
    if shutil.which("pre-commit") is None:
        pytest.skip("pre-commit is not installed (pip install -e '.[test]')")
    # Share pre-commit's hook environments across runs: building snitch's takes a while.
    home = Path(os.environ.get("SNITCH_TEST_CACHE", Path.home() / ".cache" / "model-snitch-tests")) / "pre-commit"
    return {**os.environ, "PRE_COMMIT_HOME": str(home)}


def try_repo(project, env):
    return subprocess.run(
        ["pre-commit", "try-repo", str(REPO_ROOT), "snitch", "--all-files", "--verbose"],
        cwd=project, env=env, capture_output=True, text=True, timeout=900,
    )


def test_pre_commit_try_repo(compliant, precommit_env):
    git_commit_all(compliant)
    passing = try_repo(compliant, precommit_env)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "snitch (Model Standards)" in passing.stdout and "Passed" in passing.stdout

    edit(compliant / "serve.py", "def predict(self", "def guess(self")
    git_commit_all(compliant, "break standard 4")
    failing = try_repo(compliant, precommit_env)
    assert failing.returncode == 1
    assert "Failed" in failing.stdout and "does not implement predict()" in failing.stdout
