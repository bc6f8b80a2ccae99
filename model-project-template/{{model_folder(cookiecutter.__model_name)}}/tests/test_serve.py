"""The model behind KServe's real FastAPI app, in-process (no port, no subprocess)."""

import asyncio
import json
import logging
import pickle
import signal
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import yaml
from fastapi.testclient import TestClient
from kserve import InferInput, InferRequest
from kserve.errors import InvalidInput

import model
import serve
from model import MODEL_NAME

PROJECT_DIR = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def client(weights_dir):
    from kserve import ModelServer
    from kserve.model_server import app
    from kserve.protocol.rest.server import RESTServer

    server = ModelServer(enable_grpc=False)
    server.register_model(serve.build_model(serve.parser.parse_args(["--model_dir", str(weights_dir)])))
    serve.keep_contract(app)
    # What ModelServer.start() does before uvicorn runs: routes + exception handlers on the app.
    RESTServer(app, server.dataplane, server.model_repository_extension, http_port=0).create_application()
    with TestClient(app) as test_client:
        yield test_client


def test_v1_predict(client):
    response = client.post(f"/v1/models/{MODEL_NAME}:predict", json={"instances": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]})
    assert response.status_code == 200, response.text
    assert response.json() == {"predictions": ["setosa", "virginica"]}


ROWS = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]
SPECIES = ["setosa", "virginica", "versicolor"]


@pytest.mark.parametrize("datatype", ["FP32", "FP64"])
def test_v2_infer_answers_a_batch_in_order(client, datatype):
    request = {"inputs": [{"name": "features", "shape": [3, 4], "datatype": datatype, "data": sum(ROWS, [])}]}
    response = client.post(f"/v2/models/{MODEL_NAME}/infer", json=request)
    assert response.status_code == 200, response.text
    (output,) = response.json()["outputs"]
    assert output == {"name": "species", "shape": [3], "datatype": "BYTES", "parameters": None, "data": SPECIES}
    assert response.json()["parameters"] is None  # no default output without a latency SLO


def binary_request(rows, datatype="FP32"):
    """A v2 request as kserve's InferInput encodes it by default: the binary tensor extension."""
    features = InferInput(name="features", shape=list(np.shape(rows)), datatype=datatype)
    features.set_data_from_numpy(np.array(rows, dtype=serve.V2_DATATYPES[datatype]))
    body, json_length = InferRequest(model_name=MODEL_NAME, infer_inputs=[features]).to_rest()
    return body, json_length


def post_binary(client, body: bytes, json_length):
    headers = {"Content-Type": "application/octet-stream"}
    if json_length is not None:
        headers["Inference-Header-Content-Length"] = str(json_length)
    return client.post(f"/v2/models/{MODEL_NAME}/infer", content=body, headers=headers)


@pytest.mark.parametrize("datatype", ["FP32", "FP64"])
@pytest.mark.parametrize("rows", [1, 3, serve.MAX_ROWS])
def test_v2_infer_reads_the_binary_tensor_extension(client, datatype, rows):
    response = post_binary(client, *binary_request((ROWS * serve.MAX_ROWS)[:rows], datatype))
    assert response.status_code == 200, response.text
    assert response.json()["outputs"][0]["data"] == (SPECIES * serve.MAX_ROWS)[:rows]


def with_header(body: bytes, json_length: int, change) -> tuple[bytes, int]:
    """The binary request with its JSON header changed by change(header_dict)."""
    header = json.loads(body[:json_length])
    change(header)
    text = json.dumps(header).encode()
    return text + body[json_length:], len(text)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda body, n: (body[:-4], n), "is 48 bytes; binary_data_size says 48 and the body has 44 bytes"),
        (lambda body, n: (body + b"\0" * 16, n), "the body has 64 bytes after the JSON header"),
        (lambda body, n: with_header(body, n, lambda h: h["inputs"][0]["parameters"].update(binary_data_size=32)), "binary_data_size says 32"),
        (lambda body, n: with_header(body, n, lambda h: h["inputs"][0].update(shape=[4, 4])), "shape [4, 4] FP32 is 64 bytes"),
        (lambda body, n: with_header(body, n, lambda h: h["inputs"][0].update(datatype="FP64")), "FP64 is 96 bytes"),
        (lambda body, n: with_header(body, n, lambda h: h["inputs"][0].pop("parameters")), "binary_data_size must be the tensor's size"),
        (lambda body, n: with_header(body, n, lambda h: h["inputs"][0].update(datatype="INT32")), "datatype must be FP32 or FP64"),
        (lambda body, n: (body, None), "needs the inference-header-content-length header"),
        (lambda body, n: (body, len(body) + 1), "needs the inference-header-content-length header"),
        (lambda body, n: (body, "x"), "needs the inference-header-content-length header"),
        (lambda body, n: (body, n - 1), "is not JSON"),
        (lambda body, n: (body[:n] + np.array([[5.1, 3.5, np.nan, 0.2]] * 3, "<f4").tobytes(), n), "every value must be from 0.0 to 100.0"),
        (lambda body, n: (body[:n] + np.array([[5.1, 3.5, np.inf, 0.2]] * 3, "<f4").tobytes(), n), "every value must be from 0.0 to 100.0"),
    ],
    ids=["body-short", "body-long", "size-disagrees", "shape-disagrees", "datatype-disagrees", "no-size", "int32",
         "no-header", "header-past-body", "header-not-a-number", "header-cuts-the-json", "nan", "infinity"],
)
def test_binary_requests_that_disagree_with_their_header_are_400(client, make, message):
    response = post_binary(client, *make(*binary_request(ROWS)))
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]


def test_the_binary_header_does_not_go_with_json(client):
    request = {"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32", "data": ROWS[0]}]}
    response = client.post(f"/v2/models/{MODEL_NAME}/infer", json=request, headers={"Inference-Header-Content-Length": "10"})
    assert response.status_code == 400 and "send them as application/octet-stream" in response.json()["error"]


def test_v2_metadata_describes_the_tensors(client):
    metadata = client.get(f"/v2/models/{MODEL_NAME}").json()
    assert metadata["inputs"] == [{"name": "features", "datatype": "FP32", "shape": [-1, 4]}]
    assert metadata["outputs"] == [{"name": "species", "datatype": "BYTES", "shape": [-1]}]


def test_health(client):
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").json() == {"ready": True}
    assert client.get(f"/v2/models/{MODEL_NAME}/ready").status_code == 200


@pytest.mark.parametrize(
    "body, message",
    [
        ({"rows": [[5.1, 3.5, 1.4, 0.2]]}, 'exactly one key "instances"'),
        ({"instances": [[5.1, 3.5, 1.4, 0.2]], "extra": 1}, "got ['extra', 'instances']"),
        ({"instances": [[5.1, 3.5, 1.4]]}, "instances[0] must be a list of 4 numbers"),
        ({"instances": [[5.1, "tall", 1.4, 0.2]]}, 'sepal_width must be a number, got "tall"'),
        ({"instances": [[5.1, 3.5, True, 0.2]]}, "petal_length must be a number, got true"),
        ({"instances": [[5.1, 3.5, 1.4, 1.79e308]]}, "petal_width must be from 0.0 to 100.0"),
        ({"instances": [[-1, 3.5, 1.4, 0.2]]}, "sepal_length must be from 0.0 to 100.0"),
        ({"instances": []}, '"instances" must be a list of 1 to 1000 rows'),
        ({"instances": [[1, 1, 1, 1]] * 1001}, '"instances" must be a list of 1 to 1000 rows'),
        ([[5.1, 3.5, 1.4, 0.2]], "got list"),
    ],
)
def test_v1_bad_requests_are_400_with_a_reason(client, body, message):
    response = client.post(f"/v1/models/{MODEL_NAME}:predict", json=body)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_v1_accepts_json_with_a_charset(client):
    response = client.post(f"/v1/models/{MODEL_NAME}:predict", content=b'{"instances": [[5.1, 3.5, 1.4, 0.2]]}',
                           headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 200 and response.json() == {"predictions": ["setosa"]}


TENSOR = {"name": "features", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}
SHAPE_RULE = "shape must be [N, 4] with N from 1 to 1000"


@pytest.mark.parametrize(
    "request_, message",
    [
        ({"inputs": [{**TENSOR, "shape": [1, 3], "data": [5.1, 3.5, 1.4]}]}, SHAPE_RULE),
        ({"inputs": [{**TENSOR, "shape": ["1", "4"]}]}, SHAPE_RULE),  # FastAPI would read it as [1, 4]
        ({"inputs": [{**TENSOR, "shape": [1.0, 4.0]}]}, SHAPE_RULE),
        ({"inputs": [{**TENSOR, "shape": [4]}]}, SHAPE_RULE),
        ({"inputs": [{**TENSOR, "shape": [0, 4], "data": []}]}, SHAPE_RULE),
        ({"inputs": [{**TENSOR, "shape": [1001, 4], "data": [1.0] * 4004}]}, SHAPE_RULE),
        ({"inputs": [{**TENSOR, "shape": [2, 4]}]}, "data must be a flat list of 8 numbers"),
        ({"inputs": [{**TENSOR, "data": [[5.1, 3.5, 1.4, 0.2]]}]}, "data must be a flat list of 4 numbers"),
        ({"inputs": [{**TENSOR, "datatype": "INT32"}]}, "datatype must be FP32 or FP64"),
        ({"inputs": [{**TENSOR, "data": [5.1, 3.5, 1.4, "0.2"]}]}, "data must be a flat list of 4 numbers"),
        ({"inputs": [{**TENSOR, "data": [5.1, 3.5, 1.4, True]}]}, "data must be a flat list of 4 numbers"),
        ({"inputs": [{**TENSOR, "data": [5.1, 3.5, 1.4, 1e300]}]}, "every value must be from 0.0 to 100.0"),
        ({"inputs": [TENSOR, TENSOR]}, "exactly one tensor"),
        ({"inputs": [{**TENSOR, "extra": 1}]}, 'unknown field(s) "extra"'),
        ({"inputs": [TENSOR], "outputs": [{"name": "species"}]}, 'unknown field(s) "outputs"'),
        ({"inputs": [TENSOR], "parameters": {"nested": {}}}, "values are strings, numbers or booleans"),
        ({"inputs": [TENSOR], "id": 7}, '"id" must be a string'),
        ({"inputs": [TENSOR], "model_name": "other"}, f'"model_name" must be "{MODEL_NAME}"'),
        ({"inputs": [{"name": "features"}]}, 'an object with "data", "datatype", "name", "shape"'),
        ({"inputs": [{**TENSOR, "name": 1}]}, "name must be a string"),
        ({"id": "x"}, 'JSON object with "inputs"'),
    ],
)
def test_v2_bad_requests_are_400_with_a_reason(client, request_, message):
    response = client.post(f"/v2/models/{MODEL_NAME}/infer", json=request_)
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]


def test_v2_accepts_parameters_and_an_id(client):
    request = {"id": "r1", "model_name": MODEL_NAME, "parameters": {"binary_data_output": True, "priority": 2}, "inputs": [{**TENSOR, "parameters": {"unit": "cm"}}]}
    response = client.post(f"/v2/models/{MODEL_NAME}/infer", json=request)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == "r1" and response.json()["outputs"][0]["data"] == ["setosa"]


@pytest.mark.parametrize(
    "path, message",
    [(f"/v1/models/{MODEL_NAME}:predict", "Unrecognized request format"), (f"/v2/models/{MODEL_NAME}/infer", "not JSON")],
)
def test_inference_needs_json(client, path, message):
    response = client.post(path, content=b"5.1,3.5,1.4,0.2", headers={"Content-Type": "text/csv"})
    assert response.status_code == 415 and "Content-Type: application/json" in response.json()["error"]
    assert ("application/octet-stream" in response.json()["error"]) == ("/v2/" in path)
    not_json = client.post(path, content=b"{not json", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400 and message in not_json.json()["error"]


def test_huge_bodies_are_refused(client):
    response = client.post(f"/v2/models/{MODEL_NAME}/infer", content=b" " * (serve.MAX_BODY_BYTES + 1),
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413 and str(serve.MAX_BODY_BYTES) in response.json()["error"]


def test_fastapi_validation_errors_are_400_with_a_reason(client):
    response = client.post(f"/v2/models/{MODEL_NAME}/infer", content=b"", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "not JSON" in response.json()["error"]


def test_other_methods_on_predict_name_post(client):
    response = client.request("OPTIONS", f"/v1/models/{MODEL_NAME}:predict")
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert "use POST" in response.json()["error"]


def test_unknown_model_is_404(client):
    assert client.post("/v1/models/other:predict", json={"instances": [[1, 2, 3, 4]]}).status_code == 404


def test_openapi_yaml_describes_the_served_app(client):
    documented = yaml.safe_load((PROJECT_DIR / "openapi.yaml").read_text())["paths"]
    served = client.get("/openapi.json").json()["paths"]
    for path, operations in documented.items():
        assert path in served, f"{path} is in openapi.yaml but not served"
        assert set(operations) <= set(served[path]), f"{path}: {set(operations) - set(served[path])} not served"


def test_missing_weights_exit_with_a_message(tmp_path):
    with pytest.raises(SystemExit, match="does not exist"):
        serve.build_model(serve.parser.parse_args(["--model_dir", str(tmp_path / "none")]))


def test_kserve_flags_are_accepted():
    args = serve.parser.parse_args(["--http_port", "9000", "--model_dir", "w"])
    assert args.http_port == 9000 and args.model_name == MODEL_NAME


# Clipper's default output: a prediction that misses the latency SLO is answered with model.DEFAULT_PREDICTION.


@pytest.fixture
def slow_predictions(monkeypatch):
    """model.predict_species taking a second, far past the 50 ms SLO the tests set."""
    predict = model.predict_species

    def slow(estimator, features):
        time.sleep(1)
        return predict(estimator, features)

    monkeypatch.setattr(model, "predict_species", slow)


@pytest.fixture
def classifier_with_slo(weights_dir, monkeypatch):
    monkeypatch.setenv("LATENCY_SLO_MS", "50")
    return serve.build_model(serve.parser.parse_args(["--model_dir", str(weights_dir)]))


def default_outputs_counted() -> float:
    return serve.default_outputs.labels(model_name=MODEL_NAME)._value.get()


def test_a_late_v1_prediction_is_answered_with_the_default_output(classifier_with_slo, slow_predictions, client):
    counted = default_outputs_counted()
    answer = asyncio.run(classifier_with_slo.predict({"instances": ROWS[:2]}))
    assert answer == {"predictions": [model.DEFAULT_PREDICTION] * 2, "default_output": True}
    assert default_outputs_counted() == counted + 1
    client.post(f"/v1/models/{MODEL_NAME}:predict", json={"instances": ROWS})  # a request KServe's histogram times
    metrics = client.get("/metrics").text
    assert 'default_outputs_total{model_name="%s"} %s' % (MODEL_NAME, counted + 1) in metrics
    assert "request_predict_seconds_bucket" in metrics  # KServe's own latency histogram stays


def test_a_late_v2_prediction_is_answered_with_the_default_output(classifier_with_slo, slow_predictions):
    features = InferInput(name="features", shape=[3, 4], datatype="FP32")
    features.set_data_from_numpy(np.array(ROWS, dtype=np.float32), binary_data=False)
    answer = asyncio.run(classifier_with_slo.predict(InferRequest(model_name=MODEL_NAME, infer_inputs=[features])))
    assert answer.parameters == {"default_output": True}
    assert answer.outputs[0].data == [model.DEFAULT_PREDICTION] * 3
    assert answer.to_grpc().parameters["default_output"].bool_param is True  # the marker over gRPC


def test_a_prediction_in_time_is_the_model_s_own(classifier_with_slo):
    assert asyncio.run(classifier_with_slo.predict({"instances": ROWS})) == {"predictions": SPECIES}


def test_late_predictions_are_bounded(classifier_with_slo, slow_predictions):
    """Twenty requests at once: each answered with the default. The first runs in the server's
    thread and is stopped at its deadline; the model is then slow, the others go to the pool, and
    only PREDICT_THREADS of them ever start (the rest are dropped from the queue when their deadline
    passes)."""
    started = []
    slow = model.predict_species

    def counted(estimator, features):
        started.append(threading.current_thread())
        return slow(estimator, features)

    model.predict_species = counted  # restored by slow_predictions' monkeypatch

    async def burst():
        return await asyncio.gather(*(classifier_with_slo.predict({"instances": ROWS[:1]}) for _ in range(20)))

    answers = asyncio.run(burst())
    assert all(answer.get("default_output") for answer in answers)
    classifier_with_slo.deadline.threads.shutdown(wait=True)
    assert started[0] is threading.main_thread()
    assert len(started) == 1 + serve.PREDICT_THREADS
    assert all(thread is not threading.main_thread() for thread in started[1:])


def test_a_late_prediction_in_the_server_thread_is_stopped_at_its_deadline(classifier_with_slo, slow_predictions):
    """The timer interrupts the one-second prediction: the answer comes long before it would have ended."""
    began = time.monotonic()
    answer = asyncio.run(classifier_with_slo.predict({"instances": ROWS[:1]}))
    assert answer["default_output"] is True
    assert time.monotonic() - began < 0.9  # the slow prediction alone takes 1 s


def test_a_predict_that_catches_every_exception_is_still_stopped(classifier_with_slo, monkeypatch):
    def stubborn(estimator, features):
        try:
            time.sleep(1)
        except Exception:  # the timer's PredictionLate is not an Exception: it is not swallowed here
            pass
        return ["setosa"] * len(features)

    monkeypatch.setattr(model, "predict_species", stubborn)
    began = time.monotonic()
    assert asyncio.run(classifier_with_slo.predict({"instances": ROWS[:1]}))["default_output"] is True
    assert time.monotonic() - began < 0.9


def test_after_a_miss_predictions_run_in_threads_until_the_model_is_fast_again(classifier_with_slo, monkeypatch):
    threads, delays = [], [0.0, 0.2, 0.0, 0.0]  # the second one misses the 50 ms deadline
    predict = model.predict_species

    def recorded(estimator, features):
        threads.append(threading.current_thread())
        time.sleep(delays[len(threads) - 1])
        return predict(estimator, features)

    monkeypatch.setattr(model, "predict_species", recorded)
    answers = [asyncio.run(classifier_with_slo.predict({"instances": ROWS})) for _ in range(3)]
    assert answers == [{"predictions": SPECIES}, {"predictions": ["unknown"] * 3, "default_output": True},
                       {"predictions": SPECIES}]
    classifier_with_slo.deadline.slow_until = time.monotonic() - 1  # the spell is over
    assert asyncio.run(classifier_with_slo.predict({"instances": ROWS})) == {"predictions": SPECIES}
    assert [thread is threading.main_thread() for thread in threads] == [True, True, False, True]


def test_a_prediction_using_over_half_its_deadline_starts_the_spell(classifier_with_slo, monkeypatch):
    """Predictions that each just make it would queue requests behind one another in the server's thread."""
    predict = model.predict_species
    monkeypatch.setattr(model, "predict_species", lambda estimator, features: time.sleep(0.035) or predict(estimator, features))
    assert asyncio.run(classifier_with_slo.predict({"instances": ROWS})) == {"predictions": SPECIES}
    assert classifier_with_slo.deadline.slow_until > time.monotonic()


def test_a_lost_timer_exception_still_gives_the_default(classifier_with_slo, monkeypatch):
    """PredictionLate swallowed by a bare except (or raised in a finaliser): the clock decides."""
    def swallowing(estimator, features):
        try:
            time.sleep(0.2)
        except BaseException:  # noqa: BLE001 - the point of the test
            time.sleep(0.1)
        return ["setosa"] * len(features)

    monkeypatch.setattr(model, "predict_species", swallowing)
    assert asyncio.run(classifier_with_slo.predict({"instances": ROWS[:1]})) == {"predictions": ["unknown"], "default_output": True}


@pytest.mark.parametrize("in_pool", [False, True])
def test_predict_s_own_timeout_error_is_a_server_error_not_a_late_prediction(classifier_with_slo, monkeypatch, in_pool):
    def failing(estimator, features):
        raise TimeoutError("the feature store did not answer")

    monkeypatch.setattr(model, "predict_species", failing)
    if in_pool:
        classifier_with_slo.deadline.slow_until = time.monotonic() + serve.SLOW_SPELL_S
    counted = default_outputs_counted()
    with pytest.raises(TimeoutError, match="feature store"):
        asyncio.run(classifier_with_slo.predict({"instances": ROWS}))
    assert default_outputs_counted() == counted


def test_every_model_the_process_serves_is_held_to_its_deadline(weights_dir, monkeypatch, slow_predictions):
    monkeypatch.setenv("LATENCY_SLO_MS", "50")
    first, second = (serve.build_model(serve.parser.parse_args(["--model_dir", str(weights_dir)])) for _ in range(2))
    for classifier in (first, second):
        began = time.monotonic()
        assert asyncio.run(classifier.predict({"instances": ROWS[:1]}))["default_output"] is True
        assert time.monotonic() - began < 0.9


def test_a_timer_signal_after_the_prediction_ended_interrupts_nothing():
    serve._expired(signal.SIGALRM, None)  # no prediction is running: no exception


def test_a_sigalrm_taken_by_someone_else_is_left_alone(classifier_with_slo, slow_predictions):
    """A handler the process has (a profiler, pytest-timeout) keeps SIGALRM; the pool keeps the deadline."""
    def theirs(_signum, _frame):
        pass

    previous = signal.signal(signal.SIGALRM, theirs)
    try:
        began = time.monotonic()
        answer = asyncio.run(classifier_with_slo.predict({"instances": ROWS[:1]}))
        assert answer["default_output"] is True and time.monotonic() - began < 0.9
        assert signal.getsignal(signal.SIGALRM) is theirs
    finally:
        signal.signal(signal.SIGALRM, previous)


def test_a_model_with_a_deadline_can_be_sent_to_kserve_s_workers(classifier_with_slo, slow_predictions):
    """KServe's --workers start each worker from a pickled copy of the model: the pool stays behind."""
    asyncio.run(classifier_with_slo.predict({"instances": ROWS[:1]}))
    classifier_with_slo.deadline.slow_until = time.monotonic() + serve.SLOW_SPELL_S
    asyncio.run(classifier_with_slo.predict({"instances": ROWS[:1]}))  # the pool now exists
    copy = pickle.loads(pickle.dumps(classifier_with_slo))
    assert copy.deadline.threads is None and copy.deadline.seconds == 0.05


@pytest.mark.parametrize("value, slo", [("", None), ("300", 300.0), (" 12.5 ", 12.5)])
def test_latency_slo_ms_is_read_from_the_environment(value, slo):
    assert serve.latency_slo_ms({"LATENCY_SLO_MS": value}) == slo
    assert serve.latency_slo_ms({}) is None


@pytest.mark.parametrize("value", ["soon", "0", "-5", "nan", "inf"])
def test_a_bad_latency_slo_exits_with_a_message(weights_dir, monkeypatch, value):
    monkeypatch.setenv("LATENCY_SLO_MS", value)
    with pytest.raises(SystemExit, match="LATENCY_SLO_MS must be a positive number of milliseconds"):
        serve.build_model(serve.parser.parse_args(["--model_dir", str(weights_dir)]))


# A client's mistake costs one log line; a server error keeps its traceback.


def logged(error: Exception) -> logging.LogRecord:
    try:
        raise error
    except Exception:
        record = logging.LogRecord("kserve", logging.ERROR, __file__, 1, "Exception:", None, exc_info=sys.exc_info())
    assert serve.ClientMistakesInOneLine().filter(record)
    return record


def test_a_refused_request_is_one_warning_line():
    record = logged(InvalidInput("shape must be [N, 4]"))
    assert record.levelno == logging.WARNING and record.exc_info is None
    assert record.getMessage() == "InvalidInput: shape must be [N, 4]"


def test_a_server_error_keeps_its_traceback():
    record = logged(RuntimeError("broken"))
    assert record.levelno == logging.ERROR and record.exc_info[0] is RuntimeError
