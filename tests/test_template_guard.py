"""The template's answer guard cannot be switched off into writing files (issue 18): a caller who
drops the extension that holds the guard (`_extensions` in extra_context, cruft's
--extra-context, a replay file) gets a refusal before anything is written, and answers never
make a file that cannot carry them (a newline in a Dockerfile LABEL, `\"\"\"` in a docstring)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.template import PROJECT_TEMPLATE_DIR, TEMPLATE_DIR, _cookiecutter_config

HANG_TIMEOUT_S = 120
# Every value cookiecutter.json derives with one of the extension's filters, given outright so the
# render gets past the questions without the extension (as a caller who drops it would).
WITHOUT_EXTENSION = {
    "_extensions": [], "snitch_version": "v1.0.0", "s3_bucket": "ml-platform-bucket", "coverage_floor": "80",
    "team": "ml-team", "extra_labels": "", "__answers": "ok", "__model_name": "../escaped",
}


def written(tmp_path: Path) -> list[str]:
    """Everything a render wrote, outside cookiecutter's own config and replay folders."""
    own = {".cookiecutter-config.yaml", ".cookiecutters", ".cookiecutter_replay"}
    return sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.parts[len(tmp_path.parts)] not in own)


def test_the_api_without_the_extension_writes_nothing(tmp_path):
    from cookiecutter.main import cookiecutter

    (tmp_path / "out").mkdir()
    with pytest.raises(Exception, match="model_folder"):
        cookiecutter(str(TEMPLATE_DIR), no_input=True, extra_context=WITHOUT_EXTENSION, output_dir=str(tmp_path / "out"),
                     config_file=str(_cookiecutter_config(tmp_path)))
    assert written(tmp_path) == ["out"]


def test_cruft_without_the_extension_writes_nothing(tmp_path):
    template = tmp_path / "template"
    subprocess.run(["git", "init", "-q", str(template)], check=True)
    subprocess.run(["cp", "-r", str(TEMPLATE_DIR), str(template)], check=True)
    subprocess.run(["git", "-C", str(template), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(template), "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "t"], check=True)
    (tmp_path / "out").mkdir()
    done = subprocess.run(
        ["cruft", "create", "--no-input", f"file://{template}", "--directory", TEMPLATE_DIR.name,
         "--output-dir", str(tmp_path / "out"), "--extra-context", json.dumps(WITHOUT_EXTENSION)],
        capture_output=True, text=True, timeout=HANG_TIMEOUT_S, cwd=tmp_path, env={**os.environ, "HOME": str(tmp_path)},
    )
    assert done.returncode != 0 and "model_folder" in done.stdout + done.stderr, done.stdout + done.stderr
    assert list((tmp_path / "out").iterdir()) == [] and not (tmp_path / "escaped").exists()


def test_a_replay_file_without_the_extension_writes_nothing(tmp_path):
    from cookiecutter.main import cookiecutter

    replay = tmp_path / "replay.json"
    context = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    context.update(WITHOUT_EXTENSION, project_name="Iris Classifier", weights_timestamp="20200101T000000Z")
    context.pop("__prompts__")
    replay.write_text(json.dumps({"cookiecutter": context, "_cookiecutter": context}))
    (tmp_path / "out").mkdir()
    with pytest.raises(Exception, match="model_folder"):
        cookiecutter(str(TEMPLATE_DIR), replay=str(replay), output_dir=str(tmp_path / "out"),
                     config_file=str(_cookiecutter_config(tmp_path)))
    assert written(tmp_path) == ["out", "replay.json"]


def test_a_replay_file_with_the_extension_and_a_path_escape_writes_nothing(tmp_path):
    from cookiecutter.exceptions import FailedHookException
    from cookiecutter.main import cookiecutter

    replay = tmp_path / "replay.json"
    context = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    context.update({key: value for key, value in WITHOUT_EXTENSION.items() if key != "_extensions"},
                   project_name="Iris Classifier", weights_timestamp="20200101T000000Z")
    replay.write_text(json.dumps({"cookiecutter": context, "_cookiecutter": context}))
    (tmp_path / "out").mkdir()
    with pytest.raises(FailedHookException, match="__model_name='../escaped' is worked out from the other answers"):
        cookiecutter(str(TEMPLATE_DIR), replay=str(replay), output_dir=str(tmp_path / "out"),
                     config_file=str(_cookiecutter_config(tmp_path)))
    assert written(tmp_path) == ["out", "replay.json"]


def test_the_cli_without_the_extension_says_so_without_a_traceback(tmp_path):
    """cookiecutter's CLI cannot drop `_extensions` (key=value answers are text), but a replay file
    can: the refusal is cookiecutter's one-line 'Unable to create project directory'."""
    replay = tmp_path / "replay.json"
    context = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    context.update(WITHOUT_EXTENSION, project_name="Iris Classifier", weights_timestamp="20200101T000000Z")
    replay.write_text(json.dumps({"cookiecutter": context, "_cookiecutter": context}))
    (tmp_path / "out").mkdir()
    done = subprocess.run(
        ["cookiecutter", str(TEMPLATE_DIR), "--replay-file", str(replay), "-o", str(tmp_path / "out"),
         "--config-file", str(_cookiecutter_config(tmp_path))],
        capture_output=True, text=True, timeout=HANG_TIMEOUT_S, cwd=tmp_path, env={**os.environ, "HOME": str(tmp_path)},
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1 and "'model_folder' is undefined" in output and "Traceback" not in output, output
    assert list((tmp_path / "out").iterdir()) == []
