"""ci/run-local's set-up, without gitlab-ci-local: each job's own fresh venv (the BASH_ENV script
gitlab-ci-local's shell executor sources), the project left clean, run-local's own Python kept
out of the jobs. The slow tests run the real thing (test_pipeline_local.py, test_pipeline_dayone.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from snitch.pipeline import local

JOB = 'echo "$VIRTUAL_ENV"; command -v python3; bash -c \'echo "$VIRTUAL_ENV"\'; python3 -c "import sys; print(sys.path)"'


def start_job(state: Path, job_id: str, **extra: str) -> subprocess.Popen:
    """One job's bash as gitlab-ci-local starts it: the job's variables in the environment."""
    env = {**local.job_process_environment(state), "CI_JOB_ID": job_id, "CI_JOB_NAME_SLUG": "test", **extra}
    return subprocess.Popen(["bash"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_jobs_running_at_once_each_get_a_fresh_venv_of_their_own(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    state = local.prepare_state(project)
    shared = tmp_path / "shared-site"
    shared.mkdir()
    jobs = [start_job(state, "1"), start_job(state, "2", SNITCH_RUN_LOCAL_SITE_PACKAGES=str(shared))]
    outputs = []
    for job in jobs:
        out, err = job.communicate(JOB, timeout=300)
        assert job.returncode == 0, err
        outputs.append(out.splitlines())
    venvs = [Path(lines[0]) for lines in outputs]
    assert venvs == [state / "run-local" / "venvs" / "test-1", state / "run-local" / "venvs" / "test-2"]
    for venv, lines in zip(venvs, outputs):
        assert lines[1] == str(venv / "bin" / "python3")  # first on PATH
        assert lines[2] == str(venv)  # a nested bash of the job keeps its venv
    assert str(shared) not in outputs[0][3] and str(shared) in outputs[1][3]
    # a new run starts from nothing
    local.prepare_state(project)
    assert list((state / "run-local" / "venvs").iterdir()) == []


def test_run_locals_own_python_settings_never_reach_the_jobs(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/somewhere/src")
    monkeypatch.setenv("VIRTUAL_ENV", "/somewhere/venv")
    monkeypatch.setenv("PATH", os.pathsep.join(["/somewhere/venv/bin", "/usr/bin"]))
    env = local.job_process_environment(tmp_path)
    assert "PYTHONPATH" not in env and "VIRTUAL_ENV" not in env and env["PATH"] == "/usr/bin"
    assert env["BASH_ENV"] == str(tmp_path / "run-local" / "job-env.sh") and env["SNITCH_RUN_LOCAL_PYTHON"] == sys.executable


def test_the_projects_state_folder_ignores_itself(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    state = local.prepare_state(tmp_path)
    (state / "artifacts" / "snitch").mkdir(parents=True)
    (state / "artifacts" / "snitch" / "snitch.xml").write_text("<testsuite/>")
    status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=tmp_path,
                            capture_output=True, text=True, check=True, env={**os.environ, "GIT_CONFIG_NOSYSTEM": "1"})
    assert status.stdout == ""


def test_jobs_run_in_their_own_copy_and_keep_artifacts_out_of_the_project(tmp_path, monkeypatch):
    monkeypatch.setattr(local.shutil, "which", lambda name: f"/usr/bin/{name}")
    argv = local.command(tmp_path, ["snitch"], ["--variable", "X=1"], "model-snitch[pipeline] @ file:///w.whl")
    assert argv[:2] == ["/usr/bin/gitlab-ci-local", "snitch"]
    assert {"--force-shell-executor", "--shell-isolation", "--no-artifacts-to-source"} <= set(argv)
    assert "SNITCH_PIP_SPEC=model-snitch[pipeline] @ file:///w.whl" in argv
    assert argv[-2:] == ["--variable", "X=1"]  # the user's own come last and win
