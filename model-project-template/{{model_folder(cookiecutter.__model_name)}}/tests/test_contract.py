"""The running server keeps the promises openapi.yaml makes, over REST and gRPC.

schemathesis generates requests from openapi.yaml (valid ones, which must be answered 2xx, and
invalid ones, which must get a documented 4xx) and runs all its checks on every answer of the
real `python serve.py`. Bounded and reproducible: CONTRACT_EXAMPLES examples per operation
(default 25), hypothesis seed CONTRACT_SEED (default 0).
"""

import asyncio
import os
from pathlib import Path

import grpc
import numpy as np
import pytest
import schemathesis
from hypothesis import HealthCheck, seed, settings
from kserve import InferenceGRPCClient, InferInput, InferRequest

from model import MODEL_NAME

OPENAPI = Path(__file__).resolve().parents[1] / "openapi.yaml"
EXAMPLES = int(os.environ.get("CONTRACT_EXAMPLES", "25"))
SEED = int(os.environ.get("CONTRACT_SEED", "0"))
# No example database: runs are reproducible from the seed, and nothing is written into the project.
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)


contract = schemathesis.openapi.from_path(OPENAPI)
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


def v2_request(rows, datatype="FP32"):
    features = InferInput(name="features", shape=list(np.shape(rows)), datatype=datatype)
    features.set_data_from_numpy(np.array(rows, dtype={"FP32": np.float32, "FP64": np.float64, "INT32": np.int32}[datatype]))
    return InferRequest(model_name=MODEL_NAME, infer_inputs=[features])


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
def test_grpc_predicts_species(server, datatype):
    response = grpc_infer(server, v2_request([[6.7, 3.0, 5.2, 2.3]], datatype))
    (output,) = response.outputs
    assert output.name == "species" and output.datatype == "BYTES"
    assert [species.decode() if isinstance(species, bytes) else species for species in output.as_numpy().tolist()] == ["virginica"]


@pytest.mark.parametrize(
    "request_, message",
    [
        (v2_request([[5.1, 3.5, 1.4]]), "shape must be [1, 4], got [1, 3]"),
        (v2_request([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]), "shape must be [1, 4], got [2, 4]"),
        (v2_request([[5, 3, 1, 0]], "INT32"), "datatype must be FP32 or FP64, got INT32"),
        (v2_request([[5.1, 3.5, 1.4, 1e30]]), "every value must be from 0.0 to 100.0"),
    ],
    ids=["short-row", "two-rows", "int-datatype", "out-of-range"],
)
def test_grpc_rejects_what_the_contract_forbids(server, request_, message):
    with pytest.raises(grpc.RpcError) as rejected:
        grpc_infer(server, request_)
    assert rejected.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in rejected.value.details()
