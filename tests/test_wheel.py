"""The installed wheel carries what snitch reads beside its code, at the places its modules look
first: the standards document (snitch/MODEL_STANDARDS.md, read by snitch.standards.document),
the model project template (snitch/model-project-template, rendered by `snitch new`) and the
fleet page's assets (snitch/fleet/fleet.html, .css, .js). Run from a venv that has the wheel and
nothing of this checkout on its path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.template import git_commit_all

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(snitch_wheel, tmp_path_factory) -> Path:
    """A venv with the wheel installed; its dependencies come from this interpreter's site-packages."""
    venv = tmp_path_factory.mktemp("wheel-venv")
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, capture_output=True, timeout=300)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index",
                    "--disable-pip-version-check", "-q", str(snitch_wheel)], check=True, capture_output=True, timeout=300)
    return venv


def run(venv: Path, *args: str, cwd: Path, **kwargs) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "SNITCH_CONFIG")}
    return subprocess.run([str(venv / "bin" / args[0]), *args[1:]], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=600, **kwargs)


def test_the_wheel_reads_its_own_document_template_and_page_assets(installed, tmp_path):
    where = run(installed, "python", "-c",
                "import json, snitch.cli.new as new, snitch.fleet.pages as pages, snitch.standards.document as document\n"
                "template = next(path for path in new.TEMPLATE_DIRS if path.is_dir())\n"
                "print(json.dumps([document.document_path().as_posix(), template.as_posix(), pages.__file__]))",
                cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    site = (installed / "lib").as_posix()
    document, template, page_module = json.loads(where.stdout)
    assert document.startswith(site) and document.endswith("/snitch/MODEL_STANDARDS.md")
    assert template.startswith(site) and template.endswith("/snitch/model-project-template")
    assert page_module.startswith(site)


def test_snitch_new_then_snitch_and_snitch_fleet_from_the_installed_wheel(installed, tmp_path):
    (tmp_path / "answers.json").write_text(json.dumps({"project_name": "Iris Classifier"}))
    created = run(installed, "snitch", "new", "--answers", "answers.json", "-o", "out", cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    project = tmp_path / "out" / "iris-classifier"
    assert (project / "serve.py").is_file()
    git_commit_all(project)
    checked = run(installed, "snitch", "-p", str(project), cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout[-3000:] + checked.stderr
    page = run(installed, "snitch", "fleet", str(project), "--format", "html", cwd=tmp_path)
    assert page.returncode == 0, page.stderr
    assert "<style" in page.stdout and "<script" in page.stdout and "iris-classifier" in page.stdout
