"""Shared fixtures: one trained set of weights per test session, in a temporary folder."""

import csv
import os

import pytest

# No Datadog agent runs during tests; keep ddtrace from trying to reach one.
os.environ.setdefault("DD_TRACE_ENABLED", "false")

import model  # noqa: E402


@pytest.fixture(scope="session")
def weights_dir(tmp_path_factory):
    """A weights folder written by train.py's code path."""
    features, labels = model.load_dataset(split="train")
    estimator = model.build_model().fit(features, labels)
    return model.save_weights(estimator, tmp_path_factory.mktemp("weights"))


@pytest.fixture
def write_csv(tmp_path):
    """write_csv(rows, header=...) -> path of a dataset CSV."""

    def write(rows, header=model.FEATURES + [model.TARGET]):
        path = tmp_path / "data.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        return path

    return write


@pytest.fixture
def iris_rows():
    """The built-in evaluation split as CSV rows."""
    features, labels = model.load_dataset(split="eval")
    return [[*row, model.CLASSES[label]] for row, label in zip(features.tolist(), labels)]
