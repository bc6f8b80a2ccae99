"""The running server keeps the promises openapi.yaml makes, over REST and gRPC.

schemathesis generates requests from openapi.yaml (valid ones, which must be answered 2xx, and
invalid ones, which must get a documented 4xx) and runs all its checks on every answer of the
real `python serve.py`. Bounded and reproducible: CONTRACT_EXAMPLES examples per operation
(default 25), hypothesis seed CONTRACT_SEED (default 0).
"""

import asyncio
import json
import os
from pathlib import Path

import grpc
import httpx
import numpy as np
import pytest
import schemathesis
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from kserve import InferenceGRPCClient, InferenceRESTClient, InferInput, InferRequest, RESTConfig
from schemathesis.config import SchemathesisConfig

from model import FEATURE_MAX, FEATURE_MIN, MODEL_NAME
from serve import MAX_ROWS, SHAPE_RULE

PROJECT_DIR = Path(__file__).resolve().parents[1]
OPENAPI = PROJECT_DIR / "openapi.yaml"
EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "25"))
SEED = int(os.environ.get("CONTRACT_SEED", "0"))
# No example database: runs are reproducible from the seed, and nothing is written into the project.
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)


# The project's schemathesis.toml (what `st run` reads from this folder), wherever pytest runs from.
contract = schemathesis.openapi.from_path(OPENAPI, config=SchemathesisConfig.from_path(PROJECT_DIR / "schemathesis.toml"))
contract.config.generation.update(modes=list(schemathesis.GenerationMode))  # valid and invalid requests


@contract.parametrize()
@FUZZ
@seed(SEED)
def test_every_operation_keeps_the_contract(case, server):
    case.call_and_validate(base_url=server.http)  # every check schemathesis has


def test_sequences_of_calls_keep_the_contract(server):
    """openapi.yaml's operations chained (the stateful phase of `st run`)."""
    contract.config.update(base_url=server.http)
    seed(SEED)(contract.as_state_machine()).run(settings=settings(FUZZ, stateful_step_count=5))


# What OpenAPI cannot state, and schemathesis.toml therefore relaxes: a v2 tensor's shape must agree
# with the values sent. Agreeing batches get one species per row; disagreeing ones get 400.

ROW = st.lists(st.floats(FEATURE_MIN, FEATURE_MAX, width=32), min_size=4, max_size=4)


def v2_body(rows: list, shape: list, datatype: str, binary: bool) -> tuple[bytes, dict]:
    """The body and headers of a v2 request whose tensor says `shape` and holds `rows`."""
    tensor = {"name": "features", "shape": shape, "datatype": datatype}
    if not binary:
        return json.dumps({"inputs": [{**tensor, "data": sum(rows, [])}]}).encode(), {"Content-Type": "application/json"}
    values = np.array(rows, dtype={"FP32": "<f4", "FP64": "<f8"}[datatype]).tobytes()
    header = json.dumps({"inputs": [{**tensor, "parameters": {"binary_data_size": len(values)}}]}).encode()
    return header + values, {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(len(header))}


@FUZZ
@seed(SEED)
@given(rows=st.lists(ROW, min_size=1, max_size=MAX_ROWS), claimed=st.integers(1, MAX_ROWS), agree=st.booleans(),
       datatype=st.sampled_from(["FP32", "FP64"]), binary=st.booleans())
def test_v2_shape_must_agree_with_the_values(server, rows, claimed, agree, datatype, binary):
    # Half the examples agree: two sizes drawn apart almost never match.
    claimed = len(rows) if agree else claimed
    body, headers = v2_body(rows, [claimed, 4], datatype, binary)
    response = httpx.post(f"{server.http}/v2/models/{MODEL_NAME}/infer", content=body, headers=headers, timeout=30)
    if claimed == len(rows):
        assert response.status_code == 200, response.text
        assert len(response.json()["outputs"][0]["data"]) == len(rows)
    else:
        assert response.status_code == 400, response.text
        assert "inputs[0]" in response.json()["error"]


# KServe's own clients, at their defaults.

FEATURES = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]
SPECIES = ["setosa", "virginica", "versicolor"]
BATCHES = [1, 3, MAX_ROWS]


def batch(rows: int) -> tuple[list, list]:
    """`rows` rows of features and the species of each."""
    return (FEATURES * MAX_ROWS)[:rows], (SPECIES * MAX_ROWS)[:rows]


def v2_request(rows, datatype="FP32", binary_data=True):
    features = InferInput(name="features", shape=list(np.shape(rows)), datatype=datatype)
    features.set_data_from_numpy(np.array(rows, dtype={"FP32": np.float32, "FP64": np.float64, "INT32": np.int32}[datatype]),
                                 binary_data=binary_data)
    return InferRequest(model_name=MODEL_NAME, infer_inputs=[features])


def as_text(output) -> list[str]:
    return [species.decode() if isinstance(species, bytes) else species for species in output.as_numpy().tolist()]


async def rest_infer(server, protocol: str, request):
    async with InferenceRESTClient(RESTConfig(protocol=protocol, timeout=30)) as client:
        return await client.infer(server.http, request, model_name=MODEL_NAME)


@pytest.mark.parametrize("rows", BATCHES)
def test_rest_client_v1(server, rows):
    features, species = batch(rows)
    assert asyncio.run(rest_infer(server, "v1", {"instances": features})) == {"predictions": species}


@pytest.mark.parametrize("binary_data", [True, False], ids=["binary", "json"])  # True is set_data_from_numpy's default
@pytest.mark.parametrize("rows", BATCHES)
def test_rest_client_v2(server, rows, binary_data):
    features, species = batch(rows)
    response = asyncio.run(rest_infer(server, "v2", v2_request(features, "FP32", binary_data)))
    (output,) = response.outputs
    assert output.name == "species" and output.shape == [rows] and as_text(output) == species


def grpc_infer(server, request):
    async def infer():
        # The gRPC port opens a little after HTTP readiness: kserve's client retries (retries >= 2).
        client = InferenceGRPCClient(server.grpc, retries=5, timeout=30)
        try:
            return await client.infer(request)
        finally:
            await client.close()

    return asyncio.run(infer())


@pytest.mark.parametrize("datatype", ["FP32", "FP64"])
@pytest.mark.parametrize("rows", BATCHES)
def test_grpc_client(server, rows, datatype):
    features, species = batch(rows)
    (output,) = grpc_infer(server, v2_request(features, datatype)).outputs
    assert output.name == "species" and output.datatype == "BYTES" and as_text(output) == species


@pytest.mark.parametrize(
    "request_, message",
    [
        (v2_request([[5.1, 3.5, 1.4]]), f"{SHAPE_RULE}, got [1, 3]"),
        (v2_request([[5.1, 3.5, 1.4, 0.2]] * (MAX_ROWS + 1)), f"{SHAPE_RULE}, got [{MAX_ROWS + 1}, 4]"),
        (v2_request([[5, 3, 1, 0]], "INT32"), 'datatype must be FP32 or FP64, got "INT32"'),
        (v2_request([[5.1, 3.5, 1.4, 1e30]]), "every value must be from 0.0 to 100.0"),
        (v2_request([[5.1, 3.5, 1.4, float("nan")]]), "every value must be from 0.0 to 100.0"),
    ],
    ids=["short-row", "too-many-rows", "int-datatype", "out-of-range", "nan"],
)
def test_grpc_rejects_what_the_contract_forbids(server, request_, message):
    with pytest.raises(grpc.RpcError) as rejected:
        grpc_infer(server, request_)
    assert rejected.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in rejected.value.details()


# A client's mistake costs one log line (besides the access log); no traceback.

# Lines KServe writes for every request, good or bad: uvicorn's access log, KServe's timing lines
# and, for gRPC, its "grpc method" line.
ACCESS_LOG = ("uvicorn.access", "kserve.trace", "grpc method: ")
BAD_REST = [
    ("/v1/models/{name}:predict", {"instances": [[5.1, 3.5, 1.4]]}),
    ("/v1/models/{name}:predict", {"instances": [[5.1, 3.5, 1.4, 1e300]]}),
    ("/v1/models/{name}:predict", {"rows": []}),
    ("/v1/models/other:predict", {"instances": [[5.1, 3.5, 1.4, 0.2]]}),
    ("/v2/models/{name}/infer", {"inputs": [{"name": "f", "shape": [2, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}),
    ("/v2/models/{name}/infer", {"inputs": [{"name": "f", "shape": [1, 4], "datatype": "INT8", "data": [1, 2, 3, 4]}]}),
    ("/v2/models/{name}/infer", {"inputs": []}),
]


def test_good_requests_cost_only_the_access_log(server):
    """Nothing but KServe's access and timing lines, from the first request on: no warning on each
    answer (KServe answers with FastAPI's deprecated ORJSONResponse, and scikit-learn's predict resets
    Python's warning filters, so its deprecation warning would be printed again for every request)."""
    before = len(server.log.read_text().splitlines())
    binary, binary_headers = v2_body(FEATURES, [3, 4], "FP32", binary=True)
    v2_json, json_headers = v2_body(FEATURES, [3, 4], "FP32", binary=False)
    for _ in range(3):
        httpx.post(f"{server.http}/v1/models/{MODEL_NAME}:predict", json={"instances": FEATURES}, timeout=30).raise_for_status()
        for body, headers in ((v2_json, json_headers), (binary, binary_headers)):
            httpx.post(f"{server.http}/v2/models/{MODEL_NAME}/infer", content=body, headers=headers, timeout=30).raise_for_status()
        grpc_infer(server, v2_request(FEATURES))
    lines = server.log.read_text().splitlines()[before:]
    assert lines and all(any(marker in line for marker in ACCESS_LOG) for line in lines), "\n".join(lines)


def test_malformed_requests_cost_one_log_line_each(server):
    before = len(server.log.read_text().splitlines())
    sent = 0
    for _ in range(4):  # 9 malformed requests a pass
        for path, body in BAD_REST:
            response = httpx.post(server.http + path.format(name=MODEL_NAME), json=body, timeout=30)
            assert 400 <= response.status_code < 500, response.text
            sent += 1
        binary, headers = v2_body(FEATURES, [3, 4], "FP32", binary=True)
        response = httpx.post(f"{server.http}/v2/models/{MODEL_NAME}/infer", content=binary[:-4], headers=headers, timeout=30)
        assert response.status_code == 400, response.text
        with pytest.raises(grpc.RpcError):
            grpc_infer(server, v2_request([[5.1, 3.5, 1.4]]))
        sent += 2
    lines = server.log.read_text().splitlines()[before:]
    assert not [line for line in lines if "Traceback" in line or " ERROR " in line], "\n".join(lines)
    reasons = [line for line in lines if not any(marker in line for marker in ACCESS_LOG)]
    assert len(reasons) == sent, "\n".join(reasons)  # the reason, once for each
    assert all(" WARNING " in line for line in reasons), "\n".join(reasons)


def test_tracing_on_keeps_the_contract(weights_dir, tmp_path):
    """Deployed, the server traces (DD_TRACE_ENABLED unset): ddtrace's patch wraps KServe's app
    around the contract's middleware. KServe's clients get the same answers and a client's mistake
    still costs one WARNING line, no traceback. Spans go to an address where no agent listens."""
    from conftest import serving

    tracing = {"DD_TRACE_ENABLED": "true", "DD_TRACE_AGENT_URL": "http://127.0.0.1:9", "DD_INSTRUMENTATION_TELEMETRY_ENABLED": "false"}
    with serving(weights_dir, tmp_path / "serve.log", environ=tracing) as running:
        features, species = batch(3)
        assert asyncio.run(rest_infer(running, "v1", {"instances": features})) == {"predictions": species}
        for binary_data in (True, False):
            (output,) = asyncio.run(rest_infer(running, "v2", v2_request(features, "FP32", binary_data))).outputs
            assert as_text(output) == species
        (output,) = grpc_infer(running, v2_request(features)).outputs
        assert as_text(output) == species
        response = httpx.post(f"{running.http}/v2/models/{MODEL_NAME}/infer", json=BAD_REST[4][1], timeout=30)
        assert response.status_code == 400 and "inputs[0]" in response.json()["error"], response.text
        log = running.log.read_text()
    assert "Traceback" not in log and "rejected with 400" in log, log[-3000:]


def test_kserve_workers_keep_the_contract(weights_dir, tmp_path):
    """With KServe's --workers, spawned processes serve KServe's own app from a pickled copy of the
    model, its deadline included: each keeps the contract (405 with Allow: POST on a GET, a client's
    mistake in one WARNING line, no traceback) and answers in time."""
    from conftest import serving

    flags = ("--workers", "2", "--enable_grpc", "false")
    with serving(weights_dir, tmp_path / "serve.log", *flags, environ={"LATENCY_SLO_MS": "5000"}) as running:
        predict = f"{running.http}/v1/models/{MODEL_NAME}:predict"
        for _ in range(4):  # a new connection each time, accepted by either worker
            response = httpx.get(predict, timeout=30)
            assert response.status_code == 405 and response.headers["allow"] == "POST", response.text
            response = httpx.post(predict, json={"instances": [[5.1, 3.5]]}, timeout=30)
            assert response.status_code == 400 and "instances[0] must be a list of 4" in response.json()["error"]
        for _ in range(4):
            response = httpx.post(predict, json={"instances": FEATURES}, timeout=30)
            assert response.status_code == 200 and response.json() == {"predictions": SPECIES}, response.text
        log = running.log.read_text()
    assert "Traceback" not in log and log.count(" WARNING ") >= 4, log[-3000:]
