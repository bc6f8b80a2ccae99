"""Serve the model with KServe (v1 and v2 REST protocols, v2 gRPC), keeping openapi.yaml's promises.

    python serve.py                                   # newest weights under weights/, port 8080
    python serve.py --model_dir /mnt/models --http_port 9000 --enable_grpc false
    LATENCY_SLO_MS=300 python serve.py                # answer within 300 ms, with a default if need be

All of KServe's own flags (--http_port, --grpc_port, --workers, ...) work too.
Every request openapi.yaml allows is answered; every other one gets a 4xx with {"error": "..."}.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import math
import os
import re
import signal
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from pathlib import Path


def trace_requests() -> None:
    """Trace every request in Datadog APM. KServe serves with FastAPI, so FastAPI is patched
    before kserve (which imports it) is loaded."""
    # Imported here: importing ddtrace starts its background threads even with tracing off.
    import ddtrace

    ddtrace.patch(fastapi=True)


# The patch wraps every request even when DD_TRACE_ENABLED=false turns the tracer off (costing
# about a fifth of the server's capacity, see docs/serving.md), so patch only when tracing is on.
if os.environ.get("DD_TRACE_ENABLED", "true").strip().lower() not in ("false", "0"):
    trace_requests()

import kserve  # noqa: E402
import numpy as np  # noqa: E402
import orjson  # noqa: E402
from fastapi import Request  # noqa: E402
from fastapi.exceptions import RequestValidationError  # noqa: E402
from fastapi.responses import JSONResponse  # noqa: E402
from kserve import InferOutput, InferRequest, InferResponse, model_server  # noqa: E402
from kserve.errors import InvalidInput, ModelNotFound  # noqa: E402
from kserve.logging import logger  # noqa: E402
from prometheus_client import Counter  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import model  # noqa: E402

# KServe parses its flags from sys.argv itself; inheriting its parser makes --help list them
# and keeps ours from being rejected.
parser = argparse.ArgumentParser(description=__doc__, parents=[model_server.parser],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--model_dir", type=Path, help="weights folder to serve (default: newest under weights/)")
parser.set_defaults(model_name=model.MODEL_NAME)

# The request limits openapi.yaml documents (tests/test_contract.py fuzzes the two against each other).
# A v2 tensor has the same row limit as a v1 request; 1000 rows fit the body limit in every encoding.
MAX_ROWS = 1000
MAX_BODY_BYTES = 1 << 20
V2_DATATYPES = {"FP32": np.dtype("<f4"), "FP64": np.dtype("<f8")}  # the binary extension is little-endian
V2_OUTPUT = "species"
JSON, BINARY = b"application/json", b"application/octet-stream"
BINARY_HEADER_LENGTH = "inference-header-content-length"  # the Open Inference Protocol's binary tensor extension
INFERENCE_PATH = re.compile(r"^/v1/models/[^/]+:predict$|^/v2/models/(?P<v2_model>[^/]+)/infer$")
ROW = f"{len(model.FEATURES)} numbers from {model.FEATURE_MIN} to {model.FEATURE_MAX} ({', '.join(model.FEATURES)})"
SHAPE_RULE = f"shape must be [N, {len(model.FEATURES)}] with N from 1 to {MAX_ROWS}"
# The marker of a default output: a key of the v1 response, a parameter of the v2 response (REST and gRPC).
DEFAULT_OUTPUT = "default_output"
# After a missed deadline (or a prediction that used over half of it), predictions run in this
# many threads until SLOW_SPELL_S seconds after the last such one (see Deadline). One running past
# its deadline keeps its thread until it finishes (Python cannot stop a thread), so the fixed pool
# bounds that late work, and a queued prediction whose deadline has passed is dropped before it starts.
PREDICT_THREADS = 4
SLOW_SPELL_S = 30.0

default_outputs = Counter("default_outputs", "Requests answered with the model's default output because the "
                          "prediction missed the latency SLO (LATENCY_SLO_MS)", ["model_name"])


class PredictionLate(BaseException):
    """Raised inside a prediction running in the server's thread when its deadline passes. A
    BaseException, like KeyboardInterrupt, so that a predict catching Exception cannot swallow it."""


# Is a prediction running in the server's thread under the timer? One process has one timer and one
# server thread, so this is the process's, whatever number of models it serves.
_timing = False


def _expired(_signum, _frame) -> None:
    """SIGALRM's handler: stop the timed prediction (a signal handled after it ended stops nothing)."""
    global _timing
    if _timing:
        _timing = False
        raise PredictionLate()


class Deadline:
    """Holds each prediction to the latency SLO; a prediction that misses it gives None.

    A prediction runs in the server's own thread, as KServe runs a model's predict, and a timer
    (SIGALRM) raises PredictionLate inside it when its deadline passes: two system calls per
    request, where handing every prediction to a thread costs 10-15% of the throughput
    (docs/serving.md). A prediction so stopped is abandoned, like a timed-out pytest test: its
    Python code is interrupted where it is, so predict must not leave shared state half-changed
    (nor hold a lock it takes outside a `with`). The timer interrupts Python code and sleeps, not a
    single long C call (one huge BLAS product): such a prediction is answered when that call
    returns, with the default output.

    While the model is slow (SLOW_SPELL_S seconds after the last prediction that missed or used
    over half its deadline), predictions run in a small pool of threads instead, so the server keeps
    reading requests and answers each in time rather than queueing them behind slow ones. The pool
    is used all the time when the timer cannot be: the server not in the main thread (KServe's test
    client), or SIGALRM handled by someone else (a profiler, pytest-timeout), which is left alone.
    The pool is made in the process that serves (KServe's --workers start theirs by pickling the model)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.slow_until = 0.0  # time.monotonic() until which predictions run in the pool
        self.threads: ThreadPoolExecutor | None = None

    def __getstate__(self) -> dict:
        return {**vars(self), "threads": None}  # a thread pool cannot be pickled, nor shared

    async def run(self, predict, *args):
        """predict(*args), or None when it misses the deadline. Errors of predict's own propagate."""
        began = time.monotonic()
        if began >= self.slow_until and timer_is_ours():
            try:
                answer, stopped = self.timed(predict, *args), False
            except PredictionLate:
                answer, stopped = None, True
            # PredictionLate can be lost (raised in a finaliser the collector ran, or caught by a bare
            # except): the clock decides, not the exception.
            took = time.monotonic() - began
            if stopped or took > self.seconds / 2:
                self.slow_until = time.monotonic() + SLOW_SPELL_S
            return None if stopped or took >= self.seconds else answer
        running = asyncio.get_running_loop().run_in_executor(self.pool(), predict, *args)
        done, _ = await asyncio.wait({running}, timeout=self.seconds)
        if not done:
            running.cancel()  # a prediction still queued never starts
            self.slow_until = time.monotonic() + SLOW_SPELL_S
            return None
        return running.result()

    def timed(self, predict, *args):
        global _timing
        _timing = True
        signal.setitimer(signal.ITIMER_REAL, self.seconds)
        try:
            return predict(*args)
        finally:
            _timing = False
            signal.setitimer(signal.ITIMER_REAL, 0)

    def pool(self) -> ThreadPoolExecutor:
        if self.threads is None:
            self.threads = ThreadPoolExecutor(PREDICT_THREADS, thread_name_prefix="predict")
            # Each pooled prediction would otherwise fan out to a full set of BLAS threads: the
            # pool's threads times the cores' fighting for the CPU put v1's p99 at 143 ms against
            # 16 ms with one BLAS thread each (a prediction of at most 1,000 rows gains nothing more).
            threadpool_limits(limits=1, user_api="blas")
        return self.threads


def timer_is_ours() -> bool:
    """Can this prediction run under the timer? Only in the main thread (where Python runs signal
    handlers), with SIGALRM unhandled or handled by _expired; taken on first use, checked on each."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        return False
    handler = signal.getsignal(signal.SIGALRM)
    if handler in (signal.SIG_DFL, signal.SIG_IGN):
        signal.signal(signal.SIGALRM, _expired)
        return True
    return handler is _expired


class Classifier(kserve.Model):
    """Predicts species names for v1 requests ({"instances": [[sepal_length, sepal_width,
    petal_length, petal_width], ...]}) and v2 requests (one FP32/FP64 input of shape [N, 4]).

    With a latency SLO, a prediction that does not finish in time is answered with
    model.DEFAULT_PREDICTION for every row, marked as a default output and counted."""

    def __init__(self, name: str, model_dir: Path, latency_slo_ms: float | None = None):
        super().__init__(name)
        self.model_dir = Path(model_dir)
        self.estimator = None
        # The deadline counts from the start of the prediction (after the request was read and checked).
        self.deadline = Deadline(latency_slo_ms / 1000) if latency_slo_ms else None

    def load(self) -> bool:
        self.estimator = model.load_weights(self.model_dir)
        self.ready = True
        return self.ready

    def get_input_types(self) -> list[dict]:
        return [{"name": "features", "datatype": "FP32", "shape": [-1, len(model.FEATURES)]}]

    def get_output_types(self) -> list[dict]:
        return [{"name": V2_OUTPUT, "datatype": "BYTES", "shape": [-1]}]

    async def predict(self, payload, headers=None, response_headers=None):
        v2 = isinstance(payload, InferRequest)
        features = v2_features(payload) if v2 else v1_features(payload)
        species = await self.species_in_time(features)
        is_default = species is None
        if is_default:
            species = [model.DEFAULT_PREDICTION] * len(features)
        if not v2:
            return {"predictions": species, DEFAULT_OUTPUT: True} if is_default else {"predictions": species}
        output = InferOutput(name=V2_OUTPUT, shape=[len(species)], datatype="BYTES")
        # Always JSON data: openapi.yaml documents no binary outputs.
        output.set_data_from_numpy(np.array(species, dtype=np.object_), binary_data=False)
        return InferResponse(response_id=payload.id or "", model_name=self.name, infer_outputs=[output],
                             parameters={DEFAULT_OUTPUT: True} if is_default else None)

    async def species_in_time(self, features: np.ndarray) -> list[str] | None:
        """The predicted species, or None when the prediction misses the latency SLO."""
        if self.deadline is None:
            return model.predict_species(self.estimator, features)
        species = await self.deadline.run(model.predict_species, self.estimator, features)
        if species is None:
            default_outputs.labels(model_name=self.name).inc()
        return species


def latency_slo_ms(environ=os.environ) -> float | None:
    """LATENCY_SLO_MS (set by the deploy job from latency_slo_ms), or None (no deadline) when unset."""
    text = environ.get("LATENCY_SLO_MS", "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise model.ModelError(f"LATENCY_SLO_MS must be a positive number of milliseconds, got {text!r}; unset it for no deadline")
    return value


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


def in_range(features: np.ndarray) -> bool:
    """Every value inside the documented feature range (false for NaN and infinities)."""
    return bool(((features >= model.FEATURE_MIN) & (features <= model.FEATURE_MAX)).all())


def v1_features(payload) -> np.ndarray:
    """The (n, 4) features of a v1 request {"instances": [row, ...]}, or InvalidInput (HTTP 400)."""
    if isinstance(payload, bytes):  # KServe parses only an exact `application/json` content type
        payload = parse_json(payload, "the request body")
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
    # A row that is not a list of numbers (a string, an object, a list of lists) either yields
    # values of another type or gives another shape.
    valid = (
        value_types <= {int, float}  # bool is not int here; "5.1" is a string, not a number
        and features.shape == (len(rows), len(model.FEATURES))
        and in_range(features)
    )
    return features if valid else None


def check_shape(shape, where: str) -> int:
    """The number of rows N of a tensor shape [N, 4] (ints as sent, not "4" or 4.0), or InvalidInput."""
    if not (isinstance(shape, (list, tuple)) and len(shape) == 2 and all(type(n) is int for n in shape)
            and 1 <= shape[0] <= MAX_ROWS and shape[1] == len(model.FEATURES)):
        raise InvalidInput(f"{where}: {SHAPE_RULE}, got {json.dumps(list(shape) if isinstance(shape, tuple) else shape)[:80]}")
    return shape[0]


def check_datatype(datatype, where: str) -> np.dtype:
    if datatype not in V2_DATATYPES:
        raise InvalidInput(f"{where}: datatype must be {' or '.join(V2_DATATYPES)}, got {json.dumps(datatype)[:40]}")
    return V2_DATATYPES[datatype]


def check_features(features: np.ndarray, where: str) -> np.ndarray:
    if not in_range(features):
        raise InvalidInput(f"{where}: every value must be from {model.FEATURE_MIN} to {model.FEATURE_MAX} (cm)")
    return features


def v2_features(request: InferRequest) -> np.ndarray:
    """The (N, 4) features of a v2 request (REST or gRPC), or InvalidInput (HTTP 400, gRPC INVALID_ARGUMENT)."""
    if len(request.inputs) != 1:
        raise InvalidInput(f"expected exactly one input tensor, got {len(request.inputs)}")
    tensor = request.inputs[0]
    where = f"input {tensor.name!r}"
    check_datatype(tensor.datatype, where)
    check_shape(list(tensor.shape), where)
    try:
        features = tensor.as_numpy().astype(np.float64)
    except Exception as err:  # kserve raises several types for data not matching the shape or datatype
        raise InvalidInput(f"{where} could not be read as {list(tensor.shape)} {tensor.datatype}: {err}") from None
    return check_features(features, where)


def check_v2_body(body: bytes, content_type: bytes, header_length: bytes | None, model_name: str) -> None:
    """Check a v2 REST request to `model_name` as sent, before FastAPI's model turns "4" or 4.0
    into 4 in shapes (JSON), or KServe reshapes binary data its header does not describe. The
    values' range is checked once, for every encoding and gRPC alike, by v2_features."""
    if content_type == JSON:
        if header_length is not None:
            raise InvalidInput(f"the {BINARY_HEADER_LENGTH} header goes with binary tensors: send them as {BINARY.decode()}")
        tensor, rows, _dtype = check_v2_request(parse_json(body, "the request body"), model_name, binary=False)
        data = tensor["data"]
        size = rows * len(model.FEATURES)
        if not (isinstance(data, list) and len(data) == size and set(map(type, data)) <= {int, float}):
            raise InvalidInput(f"inputs[0].data must be a flat list of {size} numbers (shape {tensor['shape']}, row by row)")
        return
    if header_length is None or not header_length.isdigit() or not 0 < int(header_length) <= len(body):
        raise InvalidInput(f"a binary request needs the {BINARY_HEADER_LENGTH} header: the length in bytes of the JSON "
                           f"header at the start of the body ({len(body)} bytes), got {header_length!r}")
    json_length = int(header_length)
    request = parse_json(body[:json_length], f"the first {json_length} bytes (the {BINARY_HEADER_LENGTH})")
    tensor, rows, dtype = check_v2_request(request, model_name, binary=True)
    size = rows * len(model.FEATURES) * dtype.itemsize
    declared = tensor["parameters"]["binary_data_size"]
    if declared != size or len(body) - json_length != size:
        raise InvalidInput(f"inputs[0]: shape {tensor['shape']} {tensor['datatype']} is {size} bytes; binary_data_size says "
                           f"{declared} and the body has {len(body) - json_length} bytes after the JSON header")


def parse_json(text: bytes, what: str):
    # orjson (KServe's own JSON library) reads a 100-row tensor in 13 µs where json takes 85 µs;
    # it also refuses NaN and numbers that overflow to infinity, which JSON does not allow.
    try:
        return orjson.loads(text)
    except (ValueError, UnicodeDecodeError) as err:
        raise InvalidInput(f"{what} is not JSON: {err}") from None


def check_v2_request(request, model_name: str, binary: bool) -> tuple[dict, int, np.dtype]:
    """The JSON of a v2 request (the whole body, or the header of a binary one): one tensor, no
    unknown fields; `data` in JSON, parameters.binary_data_size instead when binary.
    Returns the tensor, its number of rows and its numpy dtype."""
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
    needed = {"name", "shape", "datatype"} | (set() if binary else {"data"})
    if not isinstance(tensor, dict) or not needed <= set(tensor):
        raise InvalidInput(f"inputs[0] must be an object with {', '.join(map(json.dumps, sorted(needed)))}")
    check_keys(tensor, needed | {"parameters"}, "inputs[0]")
    if not isinstance(tensor["name"], str):
        raise InvalidInput("inputs[0].name must be a string")
    dtype = check_datatype(tensor["datatype"], "inputs[0]")
    rows = check_shape(tensor["shape"], "inputs[0]")
    check_parameters(tensor.get("parameters"), "inputs[0].parameters")
    if binary and type((tensor.get("parameters") or {}).get("binary_data_size")) is not int:
        raise InvalidInput("inputs[0].parameters.binary_data_size must be the tensor's size in bytes (binary tensor extension)")
    return tensor, rows, dtype


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
    """ASGI middleware: v2 REST requests are checked as sent (JSON, or the binary tensor extension),
    and v1 requests must be JSON.

    KServe would hand a non-JSON v1 body to predict() as bytes, and answer 500 when binary data
    disagrees with its header."""

    async def middleware(scope, receive, send):
        inference = INFERENCE_PATH.match(scope.get("path", "")) if scope["type"] == "http" and scope["method"] == "POST" else None
        if not inference:
            return await app(scope, receive, send)
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        v2_model = inference["v2_model"]
        if content_type != JSON and not (v2_model and content_type == BINARY):
            accepted = f"JSON (Content-Type: {JSON.decode()})" + (f" or binary tensors ({BINARY.decode()})" if v2_model else "")
            return await reject(scope, send, 415, f"send the request as {accepted}")
        body = await read_body(receive)
        if body is None:
            return await reject(scope, send, 413, f"the request body is larger than {MAX_BODY_BYTES} bytes")
        if v2_model:
            try:
                check_v2_body(body, content_type, headers.get(BINARY_HEADER_LENGTH.encode()), v2_model)
            except InvalidInput as err:
                return await reject(scope, send, 400, str(err))
            if content_type == JSON:
                scope = as_json_header_only(scope, len(body))
        await app(scope, replay(body, receive), send)

    return middleware


def as_json_header_only(scope: dict, body_length: int) -> dict:
    """The scope of a checked v2 JSON request, labelled as what it also is in the binary tensor
    extension: a JSON header with no binary data after it (its tensor's values in "data").

    Labelled as JSON, the body would be parsed a second time by KServe with the standard library's
    json and then validated by pydantic; labelled so, KServe reads it with orjson, as it reads every
    binary request: a 100-row request runs about 6% fewer instructions (docs/serving.md)."""
    headers = [(name, value) for name, value in scope["headers"] if name != b"content-type"]
    headers += [(b"content-type", BINARY), (BINARY_HEADER_LENGTH.encode(), str(body_length).encode())]
    return {**scope, "headers": headers}


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


async def reject(scope, send, status: int, message: str) -> None:
    """Answer a client's mistake with {"error": message}, logged as one line."""
    logger.warning("%s %s rejected with %d: %s", scope["method"], scope["path"], status, message)
    response = JSONResponse({"error": message}, status_code=status)
    await send({"type": "http.response.start", "status": status, "headers": response.raw_headers})
    await send({"type": "http.response.body", "body": response.body})


class ClientMistakesInOneLine(logging.Filter):
    """KServe logs every refused request (InvalidInput, an unknown model) at ERROR with a traceback,
    REST and gRPC alike; a client's mistake becomes one WARNING line with the reason instead.
    Server errors keep their traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, (InvalidInput, ModelNotFound)):
            record.msg, record.args = "%s: %s", (type(error).__name__, error)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = record.exc_text = None
        return True


async def validation_error(_request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's own request validation answers 422 {"detail": [...]}; keep one error shape: 400 {"error"}."""
    problems = [f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}" for problem in exc.errors()[:5]]
    logger.warning("request refused with 400: %s", "; ".join(problems))
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
    logger.addFilter(ClientMistakesInOneLine())


def build_model(args: argparse.Namespace) -> Classifier:
    """The loaded model, or exit with a readable message when the weights are missing or bad."""
    try:
        classifier = Classifier(args.model_name, args.model_dir or model.newest_weights(), latency_slo_ms())
        classifier.load()
    except model.ModelError as err:
        sys.exit(f"serve.py: error: {err}")
    return classifier


def prepare_process() -> None:
    """What a serving process does before it answers: KServe's app keeps the contract, KServe's
    deprecation warning is not printed on every answer, and what is loaded by now (kserve, FastAPI,
    scikit-learn, ddtrace) is frozen: it lives as long as the server, and left to the garbage
    collector each full pass would walk some 240,000 objects (a ~70 ms pause every few seconds under
    load with tracing on: p99 54 ms instead of 14, docs/serving.md)."""
    keep_contract(model_server.app)
    # KServe answers through FastAPI's deprecated ORJSONResponse. Python prints a warning once per
    # place, but scikit-learn's predict resets the warning filters on every call, so this one would
    # add two lines to the log for every request answered. It is KServe's to change, not the project's.
    warnings.filterwarnings("ignore", message="ORJSONResponse is deprecated")
    gc.collect()
    gc.freeze()


if __name__ == "__mp_main__":
    # KServe's --workers spawn a process each, which imports this file under this name (never
    # "__main__") and then serves KServe's app: each worker's app must keep the contract too.
    prepare_process()

if __name__ == "__main__":
    classifier = build_model(parser.parse_args())
    prepare_process()
    kserve.ModelServer().start([classifier])
