"""Serve the model with KServe (v1 and v2 REST protocols).

    python serve.py                                   # newest weights under weights/, port 8080
    python serve.py --model_dir /mnt/models --http_port 9000 --enable_grpc false

All of KServe's own flags (--http_port, --grpc_port, --workers, ...) work too.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import ddtrace

# Trace every request in Datadog APM. KServe serves with FastAPI, so patch FastAPI
# before kserve (which imports it) is loaded.
ddtrace.patch(fastapi=True)

import kserve  # noqa: E402
import numpy as np  # noqa: E402
from kserve import InferRequest, model_server  # noqa: E402
from kserve.errors import InvalidInput  # noqa: E402
from kserve.utils.utils import get_predict_response  # noqa: E402

import model  # noqa: E402

# KServe parses its flags from sys.argv itself; inheriting its parser makes --help list them
# and keeps ours from being rejected.
parser = argparse.ArgumentParser(description=__doc__, parents=[model_server.parser],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--model_dir", type=Path, help="weights folder to serve (default: newest under weights/)")
parser.set_defaults(model_name=model.MODEL_NAME)


class Classifier(kserve.Model):
    """Predicts species names for v1 requests ({"instances": [[sepal_length, sepal_width,
    petal_length, petal_width], ...]}) and v2 requests (one FP32/FP64 input of shape [n, 4])."""

    def __init__(self, name: str, model_dir: Path):
        super().__init__(name)
        self.model_dir = Path(model_dir)
        self.estimator = None

    def load(self) -> bool:
        self.estimator = model.load_weights(self.model_dir)
        self.ready = True
        return self.ready

    def predict(self, payload, headers=None, response_headers=None):
        features = to_features(payload)
        species = model.predict_species(self.estimator, features)
        return get_predict_response(payload, species, self.name)


def to_features(payload) -> np.ndarray:
    """Check a v1 dict or v2 InferRequest and return an (n, 4) float array.

    InvalidInput becomes HTTP 400 with the message in {"error": ...}."""
    expected = f"a list of rows of {len(model.FEATURES)} numbers ({', '.join(model.FEATURES)})"
    if isinstance(payload, dict):
        if "instances" not in payload:
            raise InvalidInput(f'the request needs "instances": {expected}')
        rows = payload["instances"]
    elif not isinstance(payload, InferRequest):
        raise InvalidInput(f'the request must be a JSON object with "instances": {expected}')
    else:
        if len(payload.inputs) != 1:
            raise InvalidInput(f"expected exactly one input tensor holding {expected}, got {len(payload.inputs)}")
        try:
            rows = payload.inputs[0].as_numpy()
        except Exception as err:  # kserve raises several types for data not matching the datatype
            raise InvalidInput(f"input {payload.inputs[0].name!r} could not be read: {err}") from None
    try:
        features = np.asarray(rows, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInput(f"instances must be {expected}; found a value that is not a number") from None
    if features.ndim != 2 or features.shape[1] != len(model.FEATURES) or features.shape[0] == 0:
        raise InvalidInput(f"instances must be {expected}; got shape {list(features.shape)}")
    if not np.isfinite(features).all():
        raise InvalidInput("instances must be finite numbers (no NaN or infinity)")
    return features


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
    kserve.ModelServer().start([classifier])
