"""The README's main-job command really renders, trains, evaluates and checks a project."""

import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # renders, installs and runs whole projects

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_main_job(tmp_path):
    result = subprocess.run(
        [str(REPO_ROOT / "scripts" / "main-job"), str(tmp_path), "Fraud Detector"],
        capture_output=True, text=True, timeout=1200,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    project = tmp_path / "fraud-detector"
    weights = [folder for folder in (project / "weights").iterdir() if folder.is_dir()]
    assert len(weights) == 1 and (weights[0] / "model_hash.txt").is_file()
    assert "Running snitch on the fraud-detector model" in result.stdout
    summary = result.stdout.splitlines()[-1]
    assert re.fullmatch(r"\d+ passed, \d+ skipped in [\d.]+s", summary), summary
