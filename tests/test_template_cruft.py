"""Projects created with `cruft create` pick up later template changes with `cruft update`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.template import GIT_ENV, PROJECT_TEMPLATE_DIR, TEMPLATE_DIR, git, git_commit_all

pytestmark = pytest.mark.slow  # renders, installs and runs whole projects


def cruft(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    import os

    result = subprocess.run(
        [sys.executable, "-m", "cruft", *args], cwd=cwd, capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, **GIT_ENV, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert result.returncode == 0, f"cruft {' '.join(args)}:\n{result.stdout}{result.stderr}"
    return result


@pytest.fixture
def template_repo(tmp_path) -> Path:
    """A git repository laid out like this one: the template in model-project-template/."""
    repo = tmp_path / "snitch"
    shutil.copytree(TEMPLATE_DIR, repo / "model-project-template", ignore=shutil.ignore_patterns("__pycache__"))
    return git_commit_all(repo)


def test_cruft_update_brings_a_template_change_and_keeps_local_work(template_repo, tmp_path):
    out = tmp_path / "projects"
    out.mkdir()
    cruft("create", f"file://{template_repo}", "--directory", "model-project-template", "--no-input",
          "--output-dir", str(out), "--extra-context", json.dumps({"project_name": "Iris Classifier"}), cwd=tmp_path)
    project = out / "iris-classifier"
    state = json.loads((project / ".cruft.json").read_text())
    assert state["directory"] == "model-project-template"
    assert state["commit"] == git("rev-parse", "HEAD", cwd=template_repo).strip()
    assert state["context"]["cookiecutter"]["project_name"] == "Iris Classifier"
    assert (project / "datasets").is_dir() and (project / "weights").is_dir()
    ci_before = (project / ".gitlab-ci.yml").read_text()
    git_commit_all(project)

    # The platform team changes the template...
    readme = template_repo / "model-project-template" / PROJECT_TEMPLATE_DIR.name / "README.md"
    readme.write_text(readme.read_text() + "\n## Support\n\nAsk #ml-platform about {{ cookiecutter.__model_name }}.\n")
    git_commit_all(template_repo, "Add a support section")
    # ...while the model team changed their own code.
    evaluate = project / "evaluate.py"
    evaluate.write_text(evaluate.read_text().replace("DEFAULT_THRESHOLD = 0.9", "DEFAULT_THRESHOLD = 0.95"))
    git_commit_all(project, "Raise the bar")

    cruft("update", "-y", cwd=project)

    assert (project / "README.md").read_text().endswith("## Support\n\nAsk #ml-platform about iris-classifier.\n")
    assert "DEFAULT_THRESHOLD = 0.95" in evaluate.read_text()
    # Answers (including the weights timestamp) come from .cruft.json, so nothing else moves.
    assert (project / ".gitlab-ci.yml").read_text() == ci_before
    assert json.loads((project / ".cruft.json").read_text())["commit"] == git("rev-parse", "HEAD", cwd=template_repo).strip()
    assert "up to date" in cruft("check", cwd=project).stdout.lower()
    snitch = subprocess.run(
        [sys.executable, "-c", "import sys; from snitch.cli.main import main; sys.exit(main())", "-n", "iris-classifier", "-p", str(project)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    if "No module named 'snitch" not in snitch.stderr:  # snitch's own area may not be installed yet
        assert snitch.returncode == 0, snitch.stdout[-3000:]
