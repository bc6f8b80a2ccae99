"""Proved by property: under any organisation config and any answers, the template either refuses
before writing anything, naming the answer or the config key at fault, or renders a project that
passes snitch with that config AND passes `snitch` run inside the project with no flag, no
SNITCH_CONFIG and no ~/.config/snitch (the project's own copy of the config decides).

Each example is a real cookiecutter render and two real `snitch` runs, so the examples are few."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml
from cookiecutter.exceptions import FailedHookException
from fixtures.template import render_project
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from snitch.standards.document import load

PARAMETERS = set(load().parameters)
COST_CENTER = "com.acme.cost-center"

def mostly(good: list, bad: list) -> st.SearchStrategy:
    """A value to give, or None to leave it out (as likely as any good value): each good value
    six times as likely as a bad one, so that renders succeed often enough to prove the second
    half of the property."""
    return st.sampled_from([None] * 6 + good * 6 + bad)


def given_only(values: dict) -> dict:
    return {key: value for key, value in values.items() if value is not None}


organisation_configs = st.fixed_dictionaries({
    "bucket": mostly(["acme-ml-models"], ["Not_A_Bucket"]),
    "coverage_floor": mostly([70, 85], [101]),
    "teams": mostly([["fraud", "vision"], []], [["Bad Team"]]),
    "replicas_limit": mostly([5, 20], [0]),
    "cpu_limit": mostly(["1", "2"], ["250m", "lots"]),
    "memory_limit": mostly(["2Gi", "32Gi"], ["512Mi"]),
    "image_labels": mostly([
        ["author", "version", "model", "org.label-schema.vcs-ref", "org.label-schema.build-date",
         "org.label-schema.vcs-url", "org.label-schema.vendor", COST_CENTER],
    ], [["model", "org.label-schema.vcs-ref", "org.label-schema.build-date", "org.label-schema.vcs-url", "version"]]),
    "label_values": mostly([{COST_CENTER: "CC-1234"}], [{COST_CENTER: "line\nbreak"}]),
    "pipeline_ref": mostly(["v2.3.4"], ["main"]),
}).map(given_only)

answer_sets = st.fixed_dictionaries({
    "project_name": mostly(["Fraud v2"], ["123 Model"]),
    "s3_bucket": mostly([], ["someone-else"]),
    "team": mostly(["fraud"], ["ml-team", "Bad Team"]),
    "min_replicas": mostly(["1", "2"], ["0", "4"]),
    "max_replicas": mostly(["3", "4"], ["14"]),
    "cpu": mostly(["100m", "500m"], ["4"]),
    "memory": mostly(["256Mi", "1Gi"], ["4Gi"]),
    "coverage_floor": mostly(["90"], ["60"]),
    "extra_labels": mostly([f"{COST_CENTER}=CC-9"], ["nonsense"]),
}).map(given_only)

# What a refusal may begin a problem with: an answer (`team='x' ...`) or a service field the rule
# names (`max_replicas is 9, above ...`, `team 'x' is not one of ...`).
ANSWER_KEYS = set(json.loads((Path(__file__).resolve().parents[1] / "model-project-template" / "cookiecutter.json")
                             .read_text())) - {"__prompts__", "_extensions"}


def _snitch(project: Path, *args: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snitch", *args], capture_output=True, text=True, timeout=120,
                          env=env, cwd=cwd)


def _assert_refusal_names_the_fault(message: str, config: Path) -> None:
    config_problem = re.search(rf"config file {re.escape(str(config))}: (\S+)", message)
    if config_problem:
        assert config_problem[1] in PARAMETERS, message
        return
    problems = message.split("please fix these answers and run again:")[1].split("\n  - ")[1:]
    assert problems, message
    for problem in problems:
        key = re.match(r"[a-z0-9_]+", problem)[0]
        assert key in ANSWER_KEYS, f"{problem!r} names no answer"


@pytest.mark.slow
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(organisation=organisation_configs, answers=answer_sets)
@example(  # the acceptance: a listed team, the limits, a required label and its value
    organisation={"bucket": "acme-ml-models", "coverage_floor": 85, "teams": ["fraud", "vision"], "replicas_limit": 5,
                  "cpu_limit": "2", "memory_limit": "4Gi", "label_values": {COST_CENTER: "CC-1234"},
                  "image_labels": ["author", "version", "model", "org.label-schema.vcs-ref", "org.label-schema.build-date",
                                   "org.label-schema.vcs-url", COST_CENTER]},
    answers={"team": "vision"},
)
@example(organisation={"image_labels": ["model", "version", "org.label-schema.vcs-ref", "org.label-schema.build-date",
                                        "org.label-schema.vcs-url", COST_CENTER]},
         answers={"extra_labels": f"{COST_CENTER}=CC-9"})  # a label only the person rendering can fill
def test_every_render_refuses_naming_the_fault_or_passes_snitch_with_and_without_flags(organisation, answers):
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        config = root / "org.yaml"
        config.write_text(yaml.safe_dump(organisation))
        empty_home = root / "home"
        empty_home.mkdir()
        out = root / "out"
        out.mkdir()
        saved = {key: os.environ.get(key) for key in ("SNITCH_CONFIG", "XDG_CONFIG_HOME")}
        os.environ.update(SNITCH_CONFIG=str(config), XDG_CONFIG_HOME=str(empty_home))
        try:
            project = render_project(out, **answers)
        except FailedHookException as refusal:
            _assert_refusal_names_the_fault(str(refusal), config)
            event("refused")
            assert not [path for path in out.iterdir() if not path.name.startswith(".cookie")], "written before refusing"
            return
        finally:
            for key, value in saved.items():
                os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
        clean = {key: value for key, value in os.environ.items() if key != "SNITCH_CONFIG"}
        clean.update(HOME=str(empty_home), XDG_CONFIG_HOME=str(empty_home))
        with_config = _snitch(project, "-p", str(project), "--config", str(config), env=clean, cwd=root)
        assert with_config.returncode == 0, with_config.stdout + with_config.stderr
        inside = _snitch(project, env=clean, cwd=project)
        assert inside.returncode == 0, inside.stdout + inside.stderr
        event("rendered and passed")
        assert f"with parameters from {project / '.snitch' / 'config.yaml'}" in inside.stdout
