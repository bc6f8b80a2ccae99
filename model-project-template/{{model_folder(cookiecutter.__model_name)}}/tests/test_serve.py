"""The model behind KServe's real FastAPI app, in-process (no port, no subprocess)."""

from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

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


def test_v2_infer(client):
    request = {"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}]}
    response = client.post(f"/v2/models/{MODEL_NAME}/infer", json=request)
    assert response.status_code == 200, response.text
    (output,) = response.json()["outputs"]
    assert output == {"name": "species", "shape": [1], "datatype": "BYTES", "parameters": None, "data": ["setosa"]}


def test_v2_metadata_describes_the_tensors(client):
    metadata = client.get(f"/v2/models/{MODEL_NAME}").json()
    assert metadata["inputs"] == [{"name": "features", "datatype": "FP32", "shape": [1, 4]}]
    assert metadata["outputs"] == [{"name": "species", "datatype": "BYTES", "shape": [1]}]


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


@pytest.mark.parametrize(
    "request_, message",
    [
        ({"inputs": [{**TENSOR, "shape": [1, 3], "data": [5.1, 3.5, 1.4]}]}, "shape must be [1, 4]"),
        ({"inputs": [{**TENSOR, "shape": ["1", "4"]}]}, "shape must be [1, 4]"),  # FastAPI would read it as [1, 4]
        ({"inputs": [{**TENSOR, "shape": [1.0, 4.0]}]}, "shape must be [1, 4]"),
        ({"inputs": [{**TENSOR, "datatype": "INT32"}]}, "datatype must be FP32 or FP64"),
        ({"inputs": [{**TENSOR, "data": [5.1, 3.5, 1.4, "0.2"]}]}, 'petal_width must be a number, got "0.2"'),
        ({"inputs": [TENSOR, TENSOR]}, "exactly one tensor"),
        ({"inputs": [{**TENSOR, "extra": 1}]}, 'unknown field(s) "extra"'),
        ({"inputs": [TENSOR], "outputs": [{"name": "species"}]}, 'unknown field(s) "outputs"'),
        ({"inputs": [TENSOR], "parameters": {"nested": {}}}, "values are strings, numbers or booleans"),
        ({"inputs": [TENSOR], "id": 7}, '"id" must be a string'),
        ({"inputs": [TENSOR], "model_name": "other"}, f'"model_name" must be "{MODEL_NAME}"'),
        ({"inputs": [{"name": "features"}]}, 'with "name", "shape", "datatype" and "data"'),
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
