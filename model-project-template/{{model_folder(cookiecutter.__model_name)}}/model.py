"""The {{ cookiecutter.project_name | python_docstring }} model: data loading, the estimator, and its weights on disk.

train.py, evaluate.py, serve.py and publish.py import from here, so the way data is
read and weights are written or loaded is defined exactly once.
"""

from __future__ import annotations

import csv
import hashlib
import re
from datetime import datetime, timezone
from pathlib import Path

import joblib
import numpy as np
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

MODEL_NAME = "{{ cookiecutter.__model_name }}"
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
# Measurements in centimetres; nothing outside this range is an iris (serve.py rejects it).
FEATURE_MIN, FEATURE_MAX = 0.0, 100.0
TARGET = "species"
CLASSES = ["setosa", "versicolor", "virginica"]
# Clipper's "default output": what serve.py answers for every row of a request whose prediction
# misses the latency SLO (LATENCY_SLO_MS), marked as a default in the response. Not a species, so
# a caller that ignores the marker still cannot mistake it for the model's answer.
DEFAULT_PREDICTION = "unknown"

PROJECT_DIR = Path(__file__).resolve().parent
WEIGHTS_ROOT = PROJECT_DIR / "weights"
MODEL_FILE = "model.joblib"
HASH_FILE = "model_hash.txt"
# Weights folders are named after the UTC training time in ISO 8601 basic form.
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
TIMESTAMP = re.compile(r"^\d{8}T\d{6}Z$")
SEED = 42


class ModelError(Exception):
    """A problem the user can fix (missing weights, bad CSV, ...); scripts print it without a traceback."""


def utc_timestamp(moment: datetime | None = None) -> str:
    return (moment or datetime.now(timezone.utc)).strftime(TIMESTAMP_FORMAT)


def load_dataset(csv_path: str | Path | None = None, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Features and labels, from a CSV with the columns FEATURES + TARGET, or from the iris
    data scikit-learn ships (no download) split 80/20 into "train" and "eval"."""
    if csv_path is not None:
        return _read_csv(Path(csv_path))
    iris = load_iris()
    x_train, x_eval, y_train, y_eval = train_test_split(
        iris.data, iris.target, test_size=0.2, random_state=SEED, stratify=iris.target
    )
    return (x_train, y_train) if split == "train" else (x_eval, y_eval)


def _read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise ModelError(f"dataset {path} does not exist (see README.md for how to fetch the datasets)")
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in FEATURES + [TARGET] if column not in (reader.fieldnames or [])]
        if missing:
            raise ModelError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(FEATURES + [TARGET])}")
        rows = list(reader)
    if not rows:
        raise ModelError(f"{path}: no data rows")
    features, labels = [], []
    for line, row in enumerate(rows, start=2):
        try:
            features.append([float(row[column]) for column in FEATURES])
        except (TypeError, ValueError):
            raise ModelError(f"{path}, line {line}: every feature must be a number, got {[row[c] for c in FEATURES]}") from None
        if row[TARGET] not in CLASSES:
            raise ModelError(f"{path}, line {line}: {TARGET} must be one of {', '.join(CLASSES)}, got {row[TARGET]!r}")
        labels.append(CLASSES.index(row[TARGET]))
    return np.array(features), np.array(labels)


def build_model() -> Pipeline:
    # Scaling keeps the solver well conditioned; a linear model is plenty for iris.
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=SEED))


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_weights(estimator: Pipeline, weights_root: Path = WEIGHTS_ROOT, timestamp: str | None = None) -> Path:
    """Write weights_root/<timestamp>/model.joblib and its sha256 in model_hash.txt."""
    folder = Path(weights_root) / (timestamp or utc_timestamp())
    folder.mkdir(parents=True, exist_ok=False)
    model_file = folder / MODEL_FILE
    joblib.dump(estimator, model_file)
    # sha256sum format, so `sha256sum -c model_hash.txt` works inside the folder.
    (folder / HASH_FILE).write_text(f"{sha256(model_file)}  {MODEL_FILE}\n")
    return folder


def newest_weights(weights_root: Path = WEIGHTS_ROOT) -> Path:
    root = Path(weights_root)
    runs = sorted(p for p in root.glob("*") if p.is_dir() and TIMESTAMP.match(p.name)) if root.is_dir() else []
    if not runs:
        raise ModelError(f"no trained weights under {root}/ (run `python train.py` or fetch them, see README.md)")
    return runs[-1]


def check_weights(model_dir: Path) -> Path:
    """The model file of a weights folder, after checking it against model_hash.txt."""
    model_dir = Path(model_dir)
    model_file, hash_file = model_dir / MODEL_FILE, model_dir / HASH_FILE
    if not model_dir.is_dir():
        raise ModelError(f"weights folder {model_dir} does not exist")
    for required in (model_file, hash_file):
        if not required.is_file():
            raise ModelError(f"{model_dir} has no {required.name}; is it a folder written by train.py?")
    recorded = hash_file.read_text().split()
    if not recorded or sha256(model_file) != recorded[0]:
        raise ModelError(f"{model_file} does not match {hash_file}; the weights are corrupt or were changed")
    return model_file


def load_weights(model_dir: Path) -> Pipeline:
    # joblib files are pickles: never load one whose hash does not match.
    return joblib.load(check_weights(model_dir))


def predict_species(estimator: Pipeline, features: np.ndarray) -> list[str]:
    # One numpy lookup for the whole batch (a Python loop costs ~10 µs per 100 rows).
    return np.asarray(CLASSES, dtype=object)[estimator.predict(features)].tolist()
