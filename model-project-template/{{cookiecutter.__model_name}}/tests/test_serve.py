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
    assert output["datatype"] == "BYTES" and output["data"] == ["setosa"]


def test_health(client):
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").json() == {"ready": True}
    assert client.get(f"/v2/models/{MODEL_NAME}/ready").status_code == 200


@pytest.mark.parametrize(
    "body, message",
    [
        ({"rows": [[5.1, 3.5, 1.4, 0.2]]}, '"instances"'),
        ({"instances": [[5.1, 3.5, 1.4]]}, "got shape [1, 3]"),
        ({"instances": [[5.1, "tall", 1.4, 0.2]]}, "not a number"),
        ({"instances": []}, "got shape [0]"),
        ([[5.1, 3.5, 1.4, 0.2]], "must be a JSON object"),
    ],
)
def test_v1_bad_requests_are_400_with_a_reason(client, body, message):
    response = client.post(f"/v1/models/{MODEL_NAME}:predict", json=body)
    assert response.status_code == 400
    assert message in response.json()["error"]


def test_v2_wrong_shape_is_400(client):
    request = {"inputs": [{"name": "features", "shape": [1, 3], "datatype": "FP32", "data": [5.1, 3.5, 1.4]}]}
    response = client.post(f"/v2/models/{MODEL_NAME}/infer", json=request)
    assert response.status_code == 400
    assert "got shape [1, 3]" in response.json()["error"]


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
