"""Shared fixtures: one trained set of weights per test session, in a temporary folder, and
`python serve.py` serving them on free loopback ports."""

import contextlib
import csv
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

# No Datadog agent runs during tests; keep ddtrace from trying to reach one.
os.environ.setdefault("DD_TRACE_ENABLED", "false")
# The shared pipeline's jobs carry LATENCY_SLO_MS (what the deploy sets on the model): the tests
# choose their own deadlines, so everything here, the real server included, starts without one.
os.environ.pop("LATENCY_SLO_MS", None)

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def server(weights_dir, tmp_path_factory):
    """The real `python serve.py` process (HTTP and gRPC) on the session's weights.

    Yields .http (base URL) and .grpc (host:port); .log holds what the server printed."""
    with serving(weights_dir, tmp_path_factory.mktemp("server") / "serve.log") as running:
        yield running


@contextlib.contextmanager
def serving(weights_dir: Path, log: Path, *flags: str, environ: dict | None = None):
    """`python serve.py` with KServe's `flags` (and `environ` added to its environment) on free
    ports, stopped on leaving."""
    http_port, grpc_port = free_port(), free_port()
    project = Path(__file__).resolve().parents[1]
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "serve.py", "--model_dir", str(weights_dir),
             "--http_port", str(http_port), "--grpc_port", str(grpc_port), *flags],
            cwd=project, stdout=output, stderr=subprocess.STDOUT, env={**os.environ, "DD_TRACE_ENABLED": "false", "PYTHONUNBUFFERED": "1", **(environ or {})},  # the log is read while it runs
        )
        running = SimpleNamespace(http=f"http://127.0.0.1:{http_port}", grpc=f"127.0.0.1:{grpc_port}", log=log)
        try:
            wait_until_ready(running, process)
            yield running
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_ready(running, process, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"serve.py exited with {process.returncode}:\n{running.log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{running.http}/v2/health/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    pytest.fail(f"serve.py was not ready after {timeout}s:\n{running.log.read_text()[-3000:]}")
