#!/usr/bin/env python3
"""What the template's serve.py costs over a bare KServe model serving the same weights.
Method and results: docs/serving.md.

    python benchmarks/bench_serving.py [--seconds 8] [--connections 8] [--markdown]

Renders the template, trains it, then serves the weights with each server below, each in its own
`python` process with one uvicorn worker (KServe's default), HTTP only, on 127.0.0.1. A load
generator in this process keeps --connections keep-alive connections busy with the same v1
request for a warm-up second and then --seconds seconds, for a 1-row and a 100-row request.
The servers take turns for --rounds rounds (so a noisy neighbour hits them all alike) and each
cell reports the median round: the server's CPU time per request, requests per second and the
p50/p99 latency. Every request and run is bounded; the servers are stopped at the end.

A second table times, in one process and without a network, the only code the template runs per
request that the bare server does not (rest_contract, v1_features), against what the bare server
runs instead (np.asarray): small enough that the end-to-end numbers cannot resolve it."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from fixtures.template import DEFAULT_MODEL_NAME, ensure_model_env, render_project  # noqa: E402

# The bare server: what KServe's docs show, with no validation and no tracing (ddtrace.patch in
# the "patched" variants, placed where the template had it).
BARE = '''
import sys
{patch}
import joblib
import numpy as np
from kserve import Model, ModelServer

CLASSES = ["setosa", "versicolor", "virginica"]


class Bare(Model):
    def load(self):
        self.estimator = joblib.load(sys.argv[1] + "/model.joblib")
        self.ready = True

    def predict(self, payload, headers=None, response_headers=None):
        return {{"predictions": [CLASSES[i] for i in self.estimator.predict(np.asarray(payload["instances"]))]}}


model = Bare("{name}")
model.load()
ModelServer(http_port=int(sys.argv[2]), enable_grpc=False).start([model])
'''
PATCH = "import ddtrace\nddtrace.patch(fastapi=True)"
# Run with the template's serve.py importable; prints one JSON line of microseconds per call.
EXTRA_WORK = '''
import asyncio, json, sys, timeit
import numpy as np
import serve

ROW, CALLS = json.loads(sys.argv[1]), 2000
SCOPE = {"type": "http", "method": "POST", "path": "/v1/models/m:predict", "headers": [(b"content-type", b"application/json")]}


async def app(scope, receive, send):
    await receive()


def per_call(function):
    return min(timeit.repeat(function, number=CALLS, repeat=5)) / CALLS * 1e6


loop = asyncio.new_event_loop()
out = {}
for rows in (1, 100):
    instances = [ROW] * rows
    message = {"type": "http.request", "body": json.dumps({"instances": instances}).encode(), "more_body": False}

    async def receive():
        return message

    middleware = serve.rest_contract(app)
    out[rows] = {
        "np.asarray (bare)": per_call(lambda: np.asarray(instances)),
        "v1_features": per_call(lambda: serve.v1_features({"instances": instances})),
        # the middleware around a trivial app, less that app alone (the event loop's own cost)
        "rest_contract": per_call(lambda: loop.run_until_complete(middleware(SCOPE, receive, None)))
        - per_call(lambda: loop.run_until_complete(app(SCOPE, receive, None))),
    }
print(json.dumps(out))
'''
ROW = [6.7, 3.0, 5.2, 2.3]
ROWS = (1, 100)
SERVERS = {
    # label: (script, environment)
    "bare KServe model": ("bare.py", {"DD_TRACE_ENABLED": "false"}),
    "bare + ddtrace.patch, DD_TRACE_ENABLED=false": ("bare_patched.py", {"DD_TRACE_ENABLED": "false"}),
    "template serve.py, DD_TRACE_ENABLED=false": ("serve.py", {"DD_TRACE_ENABLED": "false"}),
    "bare + ddtrace.patch, tracing on": ("bare_patched.py", {"DD_TRACE_ENABLED": "true"}),
    "template serve.py, tracing on": ("serve.py", {"DD_TRACE_ENABLED": "true"}),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(python: Path, project: Path, weights: Path, script: str, env: dict, port: int) -> subprocess.Popen:
    args = [weights, port] if script != "serve.py" else ["--model_dir", weights, "--http_port", port, "--enable_grpc", "false"]
    environment = {**os.environ, "DD_TRACE_AGENT_URL": "http://127.0.0.1:9", "DD_INSTRUMENTATION_TELEMETRY_ENABLED": "false", **env}
    process = subprocess.Popen([str(python), script, *map(str, args)], cwd=project, env=environment,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"benchmark: {script} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/health/ready", timeout=2):
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    sys.exit(f"benchmark: {script} was not ready after 90 s")


def http_request(port: int, rows: int) -> bytes:
    body = json.dumps({"instances": [ROW] * rows}).encode()
    return (f"POST /v1/models/{DEFAULT_MODEL_NAME}:predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), all its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def one_connection(port: int, request: bytes, stop_at: float, record_from: float, latencies: list, done: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while (sent := time.perf_counter()) < stop_at:
            writer.write(request)
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=30)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"the server answered {head.splitlines()[0].decode()}")
            length = next(int(line.split(b":")[1]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length:"))
            await asyncio.wait_for(reader.readexactly(length), timeout=30)
            done.append(1)
            if sent >= record_from:
                latencies.append(time.perf_counter() - sent)
    finally:
        writer.close()


async def load(port: int, pid: int, rows: int, connections: int, seconds: float) -> dict:
    request, latencies, done = http_request(port, rows), [], []
    record_from = time.perf_counter() + 1.0  # one warm-up second
    stop_at = record_from + seconds
    cpu_before = cpu_seconds(pid)
    await asyncio.gather(*(one_connection(port, request, stop_at, record_from, latencies, done) for _ in range(connections)))
    cuts = statistics.quantiles(latencies, n=100)
    return {"rps": len(latencies) / seconds, "p50_ms": cuts[49] * 1000, "p99_ms": cuts[98] * 1000,
            "cpu_us": (cpu_seconds(pid) - cpu_before) / len(done) * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    options = parser.parse_args()
    python = ensure_model_env() / "python"
    with tempfile.TemporaryDirectory() as scratch:
        project = render_project(Path(scratch))
        subprocess.run([str(python), "train.py"], cwd=project, check=True, capture_output=True,
                       env={**os.environ, "DD_TRACE_ENABLED": "false"})
        (weights,) = (project / "weights").iterdir()
        (project / "bare.py").write_text(BARE.format(patch="", name=DEFAULT_MODEL_NAME))
        (project / "bare_patched.py").write_text(BARE.format(patch=PATCH, name=DEFAULT_MODEL_NAME))
        ports, processes = {}, {}
        try:
            for label, (script, env) in SERVERS.items():
                ports[label] = free_port()
                processes[label] = start(python, project, weights, script, env, ports[label])
            rounds = {(label, rows): [] for label in SERVERS for rows in ROWS}
            for _ in range(options.rounds):
                for (label, rows), cells in rounds.items():
                    cells.append(asyncio.run(load(ports[label], processes[label].pid, rows, options.connections, options.seconds)))
        finally:
            for process in processes.values():
                process.terminate()
                process.wait(timeout=30)
        extra = subprocess.run([str(python), "-c", EXTRA_WORK, json.dumps(ROW)], cwd=project, check=True,
                               capture_output=True, text=True, env={**os.environ, "DD_TRACE_ENABLED": "false"})
    results = {label: {rows: median_round(rounds[label, rows]) for rows in ROWS} for label in SERVERS}
    report(results, options)
    report_extra_work(json.loads(extra.stdout), results["bare KServe model"])


def median_round(cells: list[dict]) -> dict:
    """Each measure's median over the rounds."""
    return {key: statistics.median(cell[key] for cell in cells) for key in cells[0]}


def report(results: dict, options) -> None:
    bare = results["bare KServe model"]
    print(f"# {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"{options.connections} connections, median of {options.rounds} rounds of {options.seconds:g} s per cell")
    if options.markdown:
        print("| server | rows | server CPU µs/request | capacity vs bare | requests/s | p50 ms | p99 ms |\n"
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for label, by_rows in results.items():
        for rows, cell in by_rows.items():
            # One worker serves at most 1 / (CPU per request): the ratio that a busy machine's
            # neighbours disturb least.
            capacity = bare[rows]["cpu_us"] / cell["cpu_us"]
            if options.markdown:
                print(f"| {label} | {rows} | {cell['cpu_us']:.0f} | {capacity:.2f}× | {cell['rps']:.0f} | {cell['p50_ms']:.1f} | {cell['p99_ms']:.1f} |")
            else:
                print(f"{label:48} {rows:>4} rows {cell['cpu_us']:7.0f} us CPU/req {capacity:5.2f}x  {cell['rps']:6.0f} req/s"
                      f"  p50 {cell['p50_ms']:6.1f} ms  p99 {cell['p99_ms']:6.1f} ms")


def report_extra_work(extra: dict, bare: dict) -> None:
    print("\n| rows | np.asarray (bare) µs | v1_features µs | rest_contract µs | template's extra work, % of the bare server's CPU per request |\n"
          "| ---: | ---: | ---: | ---: | ---: |")
    for rows, parts in extra.items():
        added = parts["v1_features"] + parts["rest_contract"] - parts["np.asarray (bare)"]
        print(f"| {rows} | {parts['np.asarray (bare)']:.1f} | {parts['v1_features']:.1f} | {parts['rest_contract']:.1f} "
              f"| {100 * added / bare[int(rows)]['cpu_us']:.1f} % |")


if __name__ == "__main__":
    main()
