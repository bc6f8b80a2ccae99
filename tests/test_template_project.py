"""A rendered project really works: its own tests, train -> evaluate -> serve -> publish, and snitch.

Everything runs with the python of the shared ``model_env`` venv (kserve, ddtrace, scikit-learn),
offline: the iris data ships with scikit-learn, S3 is moto's server on 127.0.0.1, and the model
server is the project's own ``python serve.py`` on a free port, asked by kserve's InferenceRESTClient.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml
from fixtures.s3 import free_port
from fixtures.template import DEFAULT_MODEL_NAME, git_commit_all, render_project, serve_py

pytestmark = pytest.mark.slow  # bakes projects, installs them and runs their servers

# Bakes whose own test-suites are run (the file-level checks of all variants are in test_template.py).
BAKES = {
    "default": {},
    "odd-name": {"project_name": "Ünïcode — Fraud/Detector v2!!", "project_description": 'Flags "odd" #things: yes/no'},
    "platform": {"project_name": "Churn Predictor", "coverage_floor": "95",
                 "accuracy_threshold": "0.8", "container_registry": "registry.internal:5000/ml/models"},
}
NO_TRACEBACK = "Traceback"


def run(python_bin: Path, *args: str, cwd: Path, env: dict | None = None, timeout: int = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(python_bin / "python"), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, "DD_TRACE_ENABLED": "false", **(env or {})},
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A default project for the workflow tests (they write weights/ and datasets/)."""
    return render_project(tmp_path_factory.mktemp("workflow"))


@pytest.fixture(scope="module")
def trained(project, model_env) -> Path:
    """The project after `python train.py`; returns the weights folder."""
    started = datetime.now(timezone.utc).replace(microsecond=0)
    result = run(model_env, "train.py", cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    (folder,) = (project / "weights").iterdir()
    stamp = datetime.strptime(folder.name, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
    assert started <= stamp <= datetime.now(timezone.utc) + timedelta(seconds=1)
    return folder


# The default project's own suite already runs in the pipeline's test job from a bare venv
# (test_pipeline_dayone.py) and after `snitch --fix` (test_fix.py): the other bakes run it here.
@pytest.mark.parametrize("bake", [bake for bake in BAKES if bake != "default"])
def test_baked_project_tests_pass(bake, tmp_path, model_env):
    """Includes the project's schemathesis and gRPC tests (tests/test_contract.py), with another seed per bake."""
    project = render_project(tmp_path, **BAKES[bake])
    contract_seed = str(list(BAKES).index(bake))
    result = run(model_env, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--cov", cwd=project, env={"CONTRACT_SEED": contract_seed})
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert re.search(r"\d+ passed", result.stdout) and "failed" not in result.stdout
    total = re.search(r"^TOTAL\s+\d+\s+\d+\s+(\d+)%", result.stdout, re.M)
    floor = float(BAKES[bake].get("coverage_floor", 80))
    assert total and int(total.group(1)) >= floor, result.stdout[-2000:]


def test_readme_install_command_is_satisfied_offline(project, model_env):
    """The one README command installs pins that resolve together (here: from the cache, no index)."""
    readme = (project / "README.md").read_text()
    command = re.search(r"pip install (-r requirements\.txt -r requirements-dev\.txt)", readme).group(1).split()
    result = run(model_env, "-m", "pip", "install", "--no-index", "--disable-pip-version-check", *command, cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Requirement already satisfied: kserve==0.21.0" in result.stdout


def test_train_writes_timestamped_weights_with_hash(trained):
    assert sorted(p.name for p in trained.iterdir()) == ["model.joblib", "model_hash.txt"]
    digest = hashlib.sha256((trained / "model.joblib").read_bytes()).hexdigest()
    assert (trained / "model_hash.txt").read_text().split()[0] == digest


def test_evaluate_reports_and_gates(project, trained, model_env):
    result = run(model_env, "evaluate.py", cwd=project)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["model_dir"] == str(trained) and metrics["accuracy"] >= 0.9 and metrics["passed"]
    assert f'"accuracy": {metrics["accuracy"]}' in result.stdout

    # Labels shifted by one class: the same weights now fall below the threshold.
    rows = ["sepal_length,sepal_width,petal_length,petal_width,species", "5.1,3.5,1.4,0.2,versicolor",
            "6.7,3.0,5.2,2.3,setosa", "5.9,3.0,4.2,1.5,virginica"]
    (project / "datasets" / "shifted.csv").write_text("\n".join(rows) + "\n")
    output = project / "datasets" / "shifted-metrics.json"
    result = run(model_env, "evaluate.py", "--eval_csv", "datasets/shifted.csv", "--output", str(output), cwd=project)
    assert result.returncode == 1
    assert "below the threshold" in result.stderr and json.loads(output.read_text())["passed"] is False


@pytest.mark.parametrize(
    "args, message",
    [
        (["evaluate.py", "--model_dir", "weights/19990101T000000Z"], "weights folder weights/19990101T000000Z does not exist"),
        (["serve.py", "--model_dir", "nowhere", "--http_port", "1"], "weights folder nowhere does not exist"),
        (["serve.py", "--model_dir", "datasets"], "datasets has no model.joblib"),
        (["train.py", "--train_csv", "datasets/missing.csv"], "does not exist"),
        (["train.py", "--train_csv", "README.md"], "missing column(s)"),
    ],
)
def test_bad_inputs_get_a_message_not_a_traceback(project, model_env, args, message):
    result = run(model_env, *args, cwd=project)
    assert result.returncode != 0
    assert message in result.stderr and NO_TRACEBACK not in result.stderr + result.stdout


def test_scripts_without_any_weights_explain_what_to_do(tmp_path, model_env):
    project = render_project(tmp_path)
    for script in ("evaluate.py", "serve.py", "publish.py"):
        result = run(model_env, script, cwd=project)
        assert result.returncode != 0, script
        assert "no trained weights under" in result.stderr and "python train.py" in result.stderr, script
        assert NO_TRACEBACK not in result.stderr, script


CLIENT = r'''
"""Talk to the running server with kserve's own REST client; print what came back as JSON."""
import asyncio, json, sys

import httpx
import numpy as np
from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig

BASE, NAME = sys.argv[1], sys.argv[2]
BAD_V1 = {
    "missing_instances": {"rows": [[5.1, 3.5, 1.4, 0.2]]},
    "wrong_shape": {"instances": [[5.1, 3.5, 1.4]]},
    "not_numeric": {"instances": [[5.1, "wide", 1.4, 0.2]]},
}


async def status_of(call):
    try:
        await call
    except httpx.HTTPStatusError as err:
        return [err.response.status_code, err.response.json()["error"]]
    return [200, None]


async def main():
    out = {}
    async with InferenceRESTClient(RESTConfig(protocol="v1", timeout=30)) as v1:
        out["v1_model_ready"] = await v1.is_model_ready(BASE, NAME)
        out["v1"] = await v1.infer(BASE, {"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}, model_name=NAME)
        out["v1_bad"] = {label: await status_of(v1.infer(BASE, body, model_name=NAME)) for label, body in BAD_V1.items()}
    async with InferenceRESTClient(RESTConfig(protocol="v2", timeout=30)) as v2:
        out["v2_live"] = await v2.is_server_live(BASE)
        out["v2_ready"] = await v2.is_server_ready(BASE)
        out["v2_model_ready"] = await v2.is_model_ready(BASE, NAME)
        features = InferInput(name="features", shape=[3, 4], datatype="FP32")
        # set_data_from_numpy's default: the binary tensor extension
        features.set_data_from_numpy(np.array([[6.7, 3.0, 5.2, 2.3], [5.1, 3.5, 1.4, 0.2], [5.9, 3.0, 4.2, 1.5]], dtype=np.float32))
        response = await v2.infer(BASE, InferRequest(model_name=NAME, infer_inputs=[features]), model_name=NAME)
        out["v2"] = [{"name": o.name, "datatype": o.datatype, "data": [str(x) for x in o.as_numpy().tolist()]} for o in response.outputs]
        short = InferInput(name="features", shape=[1, 3], datatype="FP32")
        short.set_data_from_numpy(np.array([[5.1, 3.5, 1.4]], dtype=np.float32), binary_data=False)
        out["v2_bad_shape"] = await status_of(v2.infer(BASE, InferRequest(model_name=NAME, infer_inputs=[short]), model_name=NAME))
    print(json.dumps(out))


asyncio.run(main())
'''


@pytest.fixture(scope="module")
def server(project, trained, model_env):
    """`python serve.py` with kserve's own port flags, serving the newest weights by default."""
    with serve_py(project, model_env, "--grpc_port", str(free_port())) as base:
        yield base


def test_running_server_answers_kserve_v1_and_v2(server, project, model_env, tmp_path):
    client = tmp_path / "client.py"
    client.write_text(CLIENT)
    result = run(model_env, str(client), server, DEFAULT_MODEL_NAME, cwd=project, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    out = json.loads(result.stdout)
    assert out["v1_model_ready"] is True
    assert out["v1"] == {"predictions": ["setosa", "virginica"]}
    assert out["v2_live"] is True and out["v2_ready"] is True and out["v2_model_ready"] is True
    assert out["v2"] == [{"name": "species", "datatype": "BYTES", "data": ["virginica", "setosa", "versicolor"]}]
    bad = out["v1_bad"]
    assert bad["missing_instances"][0] == 400 and '"instances"' in bad["missing_instances"][1]
    assert bad["wrong_shape"][0] == 400 and "instances[0] must be a list of 4 numbers" in bad["wrong_shape"][1]
    assert bad["not_numeric"][0] == 400 and 'sepal_width must be a number, got "wide"' in bad["not_numeric"][1]
    assert out["v2_bad_shape"][0] == 400 and "shape must be [N, 4] with N from 1 to 1000, got [1, 3]" in out["v2_bad_shape"][1]


def test_openapi_yaml_matches_the_running_app(server, project):
    import urllib.request

    with urllib.request.urlopen(f"{server}/openapi.json", timeout=10) as response:
        served = json.load(response)["paths"]
    documented = yaml.safe_load((project / "openapi.yaml").read_text())["paths"]
    for path, operations in documented.items():
        assert path in served, f"openapi.yaml documents {path}, the app does not serve it"
        assert set(operations) <= set(served[path]), path
    # KServe answers 501 on its versioned paths (model versions are not supported): not part of the contract.
    inference_or_health = [p for p in served if re.search(r":predict$|/infer$|/health/|/ready$", p) and "/versions/" not in p]
    assert inference_or_health and set(inference_or_health) <= set(documented)


def test_publish_uploads_to_s3_and_never_overwrites(project, trained, model_env, s3_endpoint):
    import boto3

    credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    s3.create_bucket(Bucket="ml-platform-bucket")
    env = {**credentials, "AWS_ENDPOINT_URL": s3_endpoint}

    result = run(model_env, "publish.py", cwd=project, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    uri = f"s3://ml-platform-bucket/{DEFAULT_MODEL_NAME}/models/{trained.name}"
    assert f"published {uri}" in result.stdout
    prefix = f"{DEFAULT_MODEL_NAME}/models/{trained.name}/"
    objects = {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket="ml-platform-bucket", Prefix=prefix)["Contents"]}
    assert {k[len(prefix):] for k in objects} >= {"model.joblib", "model_hash.txt"}
    assert s3.get_object(Bucket="ml-platform-bucket", Key=prefix + "model.joblib")["Body"].read() == (trained / "model.joblib").read_bytes()

    again = run(model_env, "publish.py", "--model_dir", str(trained), cwd=project, env=env)
    assert again.returncode != 0
    assert f"{uri} already exists" in again.stderr and NO_TRACEBACK not in again.stderr


# --- compliance: snitch passes on every rendered variant, inside and outside a git repo ---------


@pytest.mark.parametrize("in_git", [False, True], ids=["plain-folder", "git-repo"])
@pytest.mark.parametrize("bake", ["default", "odd-name", "longest-name", "yaml-keyword-name", "platform"])
def test_snitch_passes_on_rendered_project(bake, in_git, tmp_path):
    from test_template import VARIANTS

    answers, model_name = VARIANTS[bake]
    project = render_project(tmp_path, **answers)
    if in_git:
        git_commit_all(project)
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from snitch.cli.main import main; sys.exit(main())", "-n", model_name, "-p", str(project)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " failed" not in result.stdout


def test_snitch_passes_with_trained_weights_present(project, trained, tmp_path):
    """Local weights and datasets must not make the project non-compliant (they are git-ignored)."""
    copy = tmp_path / project.name
    shutil.copytree(project, copy)
    git_commit_all(copy)
    tracked = subprocess.run(["git", "ls-files"], cwd=copy, capture_output=True, text=True, check=True).stdout.split()
    assert not [f for f in tracked if f.startswith(("weights/", "datasets/"))]
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from snitch.cli.main import main; sys.exit(main())", "-n", DEFAULT_MODEL_NAME, "-p", str(copy)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
