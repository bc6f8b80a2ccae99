"""Serve the model with KServe (v1 and v2 REST protocols, v2 gRPC), keeping openapi.yaml's promises.

    python serve.py                                   # newest weights under weights/, port 8080
    python serve.py --model_dir /mnt/models --http_port 9000 --enable_grpc false

All of KServe's own flags (--http_port, --grpc_port, --workers, ...) work too.
Every request openapi.yaml allows is answered; every other one gets a 4xx with {"error": "..."}.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
from itertools import chain
from pathlib import Path

import ddtrace


def trace_requests() -> None:
    """Trace every request in Datadog APM. KServe serves with FastAPI, so FastAPI is patched
    before kserve (which imports it) is loaded."""
    ddtrace.patch(fastapi=True)


# The patch wraps every request even when DD_TRACE_ENABLED=false turns the tracer off (costing
# about a fifth of the server's capacity, see docs/serving.md), so patch only when tracing is on.
if os.environ.get("DD_TRACE_ENABLED", "true").strip().lower() not in ("false", "0"):
    trace_requests()

import kserve  # noqa: E402
import numpy as np  # noqa: E402
from fastapi import Request  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402
from kserve import InferOutput, InferRequest, InferResponse, model_server  # noqa: E402
from kserve.errors import InvalidInput  # noqa: E402

import model  # noqa: E402

# KServe parses its flags from sys.argv itself; inheriting its parser makes --help list them
# and keeps ours from being rejected.
parser = argparse.ArgumentParser(description=__doc__, parents=[model_server.parser],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--model_dir", type=Path, help="weights folder to serve (default: newest under weights/)")
parser.set_defaults(model_name=model.MODEL_NAME)

# The request limits openapi.yaml documents (tests/test_contract.py fuzzes the two against each other).
MAX_ROWS = 1000
MAX_BODY_BYTES = 1 << 20
V2_DATATYPES = ("FP32", "FP64")
V2_SHAPE = [1, len(model.FEATURES)]
V2_OUTPUT = "species"
INFERENCE_PATH = re.compile(r"^/v1/models/[^/]+:predict$|^/v2/models/(?P<v2_model>[^/]+)/infer$")
ROW = f"{len(model.FEATURES)} numbers from {model.FEATURE_MIN} to {model.FEATURE_MAX} ({', '.join(model.FEATURES)})"


class Classifier(kserve.Model):
    """Predicts species names for v1 requests ({"instances": [[sepal_length, sepal_width,
    petal_length, petal_width], ...]}) and v2 requests (one FP32/FP64 input of shape [1, 4])."""

    def __init__(self, name: str, model_dir: Path):
        super().__init__(name)
        self.model_dir = Path(model_dir)
        self.estimator = None

    def load(self) -> bool:
        self.estimator = model.load_weights(self.model_dir)
        self.ready = True
        return self.ready

    def get_input_types(self) -> list[dict]:
        return [{"name": "features", "datatype": V2_DATATYPES[0], "shape": V2_SHAPE}]

    def get_output_types(self) -> list[dict]:
        return [{"name": V2_OUTPUT, "datatype": "BYTES", "shape": [1]}]

    def predict(self, payload, headers=None, response_headers=None):
        if isinstance(payload, InferRequest):
            species = model.predict_species(self.estimator, v2_features(payload))
            output = InferOutput(name=V2_OUTPUT, shape=[len(species)], datatype="BYTES")
            output.set_data_from_numpy(np.array(species, dtype=np.object_), binary_data=False)
            # Always JSON data: openapi.yaml documents no binary outputs.
            return InferResponse(response_id=payload.id or "", model_name=self.name, infer_outputs=[output])
        return {"predictions": model.predict_species(self.estimator, v1_features(payload))}


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_row(row, where: str) -> None:
    """A row is a list of len(FEATURES) JSON numbers inside the documented range."""
    if not isinstance(row, list) or len(row) != len(model.FEATURES):
        raise InvalidInput(f"{where} must be a list of {ROW}; got {json.dumps(row)[:80]}")
    for name, value in zip(model.FEATURES, row):
        if not is_number(value):
            raise InvalidInput(f"{where}: {name} must be a number, got {json.dumps(value)[:40]}")
        if not model.FEATURE_MIN <= value <= model.FEATURE_MAX:  # also false for NaN
            raise InvalidInput(f"{where}: {name} must be from {model.FEATURE_MIN} to {model.FEATURE_MAX}, got {value}")


def v1_features(payload) -> np.ndarray:
    """The (n, 4) features of a v1 request {"instances": [row, ...]}, or InvalidInput (HTTP 400)."""
    if isinstance(payload, bytes):  # KServe parses only an exact `application/json` content type
        try:
            payload = json.loads(payload)
        except ValueError as err:
            raise InvalidInput(f"the request body is not JSON: {err}") from None
    if not isinstance(payload, dict) or set(payload) != {"instances"}:
        found = sorted(payload) if isinstance(payload, dict) else type(payload).__name__
        raise InvalidInput(f'the request must be a JSON object with exactly one key "instances"; got {found}')
    rows = payload["instances"]
    if not isinstance(rows, list) or not 1 <= len(rows) <= MAX_ROWS:
        raise InvalidInput(f'"instances" must be a list of 1 to {MAX_ROWS} rows of {ROW}')
    features = fast_features(rows)
    if features is not None:
        return features
    for index, row in enumerate(rows):  # find the first bad row, to say what is wrong with it
        check_row(row, f"instances[{index}]")
    raise InvalidInput(f'"instances" must be a list of rows of {ROW}')


def fast_features(rows: list) -> np.ndarray | None:
    """The rows as an (n, 4) array when they are all valid, else None; a few times faster than
    check_row on every row (the validation budget is a few percent of a request)."""
    try:
        value_types = set(map(type, chain.from_iterable(rows)))
        features = np.array(rows, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    valid = (
        value_types <= {int, float}  # bool is not int here; "5.1" is a string, not a number
        and set(map(type, rows)) == {list}
        and features.shape == (len(rows), len(model.FEATURES))
        and ((features >= model.FEATURE_MIN) & (features <= model.FEATURE_MAX)).all()  # false for NaN
    )
    return features if valid else None


def v2_features(request: InferRequest) -> np.ndarray:
    """The (1, 4) features of a v2 request (REST or gRPC), or InvalidInput (gRPC INVALID_ARGUMENT)."""
    if len(request.inputs) != 1:
        raise InvalidInput(f"expected exactly one input tensor, got {len(request.inputs)}")
    tensor = request.inputs[0]
    if tensor.datatype not in V2_DATATYPES:
        raise InvalidInput(f"input {tensor.name!r}: datatype must be {' or '.join(V2_DATATYPES)}, got {tensor.datatype}")
    if list(tensor.shape) != V2_SHAPE:
        raise InvalidInput(f"input {tensor.name!r}: shape must be {V2_SHAPE}, got {list(tensor.shape)}")
    try:
        features = tensor.as_numpy().astype(np.float64)
    except Exception as err:  # kserve raises several types for data not matching the shape or datatype
        raise InvalidInput(f"input {tensor.name!r} could not be read as {V2_SHAPE} {tensor.datatype}: {err}") from None
    if not ((features >= model.FEATURE_MIN) & (features <= model.FEATURE_MAX)).all():
        raise InvalidInput(f"input {tensor.name!r}: every value must be from {model.FEATURE_MIN} to {model.FEATURE_MAX}")
    return features


def check_v2_body(body: bytes, model_name: str) -> None:
    """Check a v2 REST request to `model_name` as sent, before FastAPI's model turns "4" or 4.0
    into 4 in shapes."""
    try:
        request = json.loads(body)
    except (ValueError, UnicodeDecodeError) as err:
        raise InvalidInput(f"the request body is not JSON: {err}") from None
    if not isinstance(request, dict) or "inputs" not in request:
        raise InvalidInput('the request must be a JSON object with "inputs"')
    check_keys(request, {"id", "model_name", "parameters", "inputs"}, "the request")
    if request.get("id") is not None and not isinstance(request["id"], str):
        raise InvalidInput('"id" must be a string')
    if request.get("model_name", model_name) != model_name:  # kserve's own client sends it
        raise InvalidInput(f'"model_name" must be {json.dumps(model_name)}, the model named in the path')
    check_parameters(request.get("parameters"), '"parameters"')
    inputs = request["inputs"]
    if not isinstance(inputs, list) or len(inputs) != 1:
        raise InvalidInput('"inputs" must be a list holding exactly one tensor')
    tensor = inputs[0]
    if not isinstance(tensor, dict) or not {"name", "shape", "datatype", "data"} <= set(tensor):
        raise InvalidInput('inputs[0] must be an object with "name", "shape", "datatype" and "data"')
    check_keys(tensor, {"name", "shape", "datatype", "data", "parameters"}, "inputs[0]")
    if not isinstance(tensor["name"], str):
        raise InvalidInput("inputs[0].name must be a string")
    if tensor["datatype"] not in V2_DATATYPES:
        raise InvalidInput(f"inputs[0].datatype must be {' or '.join(V2_DATATYPES)}")
    shape = tensor["shape"]
    if not (isinstance(shape, list) and all(type(n) is int for n in shape) and shape == V2_SHAPE):
        raise InvalidInput(f"inputs[0].shape must be {V2_SHAPE} (one row; send batches to the v1 endpoint)")
    check_parameters(tensor.get("parameters"), "inputs[0].parameters")
    check_row(tensor["data"], "inputs[0].data")


def check_keys(mapping: dict, allowed: set, where: str) -> None:
    unknown = sorted(set(mapping) - allowed)
    if unknown:
        raise InvalidInput(f"{where} has unknown field(s) {', '.join(map(json.dumps, unknown))}; allowed: {', '.join(sorted(allowed))}")


def check_parameters(parameters, where: str) -> None:
    """KServe accepts parameters whose values are strings, numbers or booleans (this model ignores them)."""
    if parameters is None:
        return
    if not isinstance(parameters, dict) or not all(
        isinstance(value, (str, bool)) or (is_number(value) and math.isfinite(value)) for value in parameters.values()
    ):
        raise InvalidInput(f"{where} must be an object whose values are strings, numbers or booleans")


def rest_contract(app):
    """ASGI middleware: v2 REST requests are checked as sent, and inference requests must be JSON.

    KServe would hand a non-JSON body to predict() as bytes (v1) or read it as the binary
    tensor extension (v2), which openapi.yaml does not offer."""

    async def middleware(scope, receive, send):
        inference = INFERENCE_PATH.match(scope.get("path", "")) if scope["type"] == "http" and scope["method"] == "POST" else None
        if not inference:
            return await app(scope, receive, send)
        content_type = dict(scope["headers"]).get(b"content-type", b"").split(b";")[0].strip().lower()
        if content_type != b"application/json":
            return await error(send, 415, "send the request as JSON with the header Content-Type: application/json")
        body = await read_body(receive)
        if body is None:
            return await error(send, 413, f"the request body is larger than {MAX_BODY_BYTES} bytes")
        if inference["v2_model"]:
            try:
                check_v2_body(body, inference["v2_model"])
            except InvalidInput as err:
                return await error(send, 400, str(err))
        await app(scope, replay(body, receive), send)

    return middleware


async def read_body(receive) -> bytes | None:
    """The whole request body, or None past MAX_BODY_BYTES."""
    chunks, size, more = [], 0, True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > MAX_BODY_BYTES:
            return None
        more = message.get("more_body", False)
    return b"".join(chunks)


def replay(body: bytes, receive):
    sent = False

    async def receive_again():
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive_again


async def error(send, status: int, message: str) -> None:
    response = JSONResponse({"error": message}, status_code=status)
    await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


async def validation_error(_request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's own request validation answers 422 {"detail": [...]}; keep one error shape: 400 {"error"}."""
    problems = [f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}" for problem in exc.errors()[:5]]
    return JSONResponse({"error": "; ".join(problems)}, status_code=400)


async def predict_method_not_allowed(request: Request, model_name: str) -> JSONResponse:
    return JSONResponse({"error": f"{request.method} is not allowed here; use POST"}, status_code=405, headers={"Allow": "POST"})


def keep_contract(app) -> None:
    """Make KServe's app answer what openapi.yaml promises; call before the server is created."""
    app.add_middleware(rest_contract)
    app.add_exception_handler(RequestValidationError, validation_error)
    # Without this, other methods on :predict fall through to GET /v1/models/{model_name}
    # and answer 405 with `Allow: GET`.
    app.add_api_route("/v1/models/{model_name}:predict", predict_method_not_allowed, include_in_schema=False,
                      methods=["GET", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"])


def build_model(args: argparse.Namespace) -> Classifier:
    """The loaded model, or exit with a readable message when the weights are missing or bad."""
    try:
        classifier = Classifier(args.model_name, args.model_dir or model.newest_weights())
        classifier.load()
    except model.ModelError as err:
        sys.exit(f"serve.py: error: {err}")
    return classifier


if __name__ == "__main__":
    classifier = build_model(parser.parse_args())
    keep_contract(model_server.app)
    kserve.ModelServer().start([classifier])
