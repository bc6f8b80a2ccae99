#!/usr/bin/env python3
"""What the template's serve.py costs over a bare KServe model serving the same weights, measured
with an outside load generator (wrk). Method and results: docs/serving.md.

    python benchmarks/bench_serving.py [--seconds 3] [--rounds 3] [--connections 8] [--markdown]

Needs `wrk` on PATH (`apt-get install wrk`). Renders the template, trains it, then serves the
weights with each server below, each in its own `python` process with one uvicorn worker
(KServe's default), HTTP only, on 127.0.0.1. For every server and request (v1 JSON, v2 JSON, v2
with the binary tensor extension; 1 row and 100 rows) wrk keeps --connections keep-alive
connections busy for a warm-up second, then for --seconds. The servers take turns for --rounds
rounds (a noisy neighbour hits them all alike), each round with freshly started server processes,
and each cell is the median round: requests per
second, p50 and p99 latency (wrk's), and the server's CPU time per request (/proc). With two or
more CPUs the servers run on CPU 0 and wrk on the others (taskset), so the load generator does
not take the server's CPU. Every run is bounded; the servers are stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "tests"))

from fixtures.template import DEFAULT_MODEL_NAME, ensure_model_env, render_project  # noqa: E402

# The bare server: what KServe's docs show for v1 and v2, with no validation and no deadline
# (ddtrace.patch in the "patched" variant, placed where the template has it).
BARE = '''
import sys
{patch}
import joblib
import numpy as np
from kserve import InferOutput, InferRequest, InferResponse, Model, ModelServer

CLASSES = np.array(["setosa", "versicolor", "virginica"], dtype=np.object_)


class Bare(Model):
    def load(self):
        self.estimator = joblib.load(sys.argv[1] + "/model.joblib")
        self.ready = True

    def predict(self, payload, headers=None, response_headers=None):
        if isinstance(payload, InferRequest):
            species = CLASSES[self.estimator.predict(payload.inputs[0].as_numpy())]
            output = InferOutput(name="species", shape=[len(species)], datatype="BYTES")
            output.set_data_from_numpy(species, binary_data=False)
            return InferResponse(response_id=payload.id or "", model_name=self.name, infer_outputs=[output])
        return {{"predictions": CLASSES[self.estimator.predict(np.asarray(payload["instances"]))].tolist()}}


model = Bare("{name}")
model.load()
ModelServer(http_port=int(sys.argv[2]), enable_grpc=False).start([model])
'''
PATCH = "import ddtrace\nddtrace.patch(fastapi=True)"
TRACING_OFF, TRACING_ON = {"DD_TRACE_ENABLED": "false"}, {"DD_TRACE_ENABLED": "true"}
# Spans go to an agent address where nothing listens: tracing does all its work, nothing is sent.
NOWHERE_AGENT = {"DD_TRACE_AGENT_URL": "http://127.0.0.1:9", "DD_INSTRUMENTATION_TELEMETRY_ENABLED": "false"}
SLO_MS = "1000"  # far above any answer's time: the deadline machinery runs, the deadline is never reached
SERVERS = {
    # label: (script, environment)
    "bare KServe model": ("bare.py", TRACING_OFF),
    "template serve.py": ("serve.py", TRACING_OFF),
    "template serve.py, LATENCY_SLO_MS set": ("serve.py", {**TRACING_OFF, "LATENCY_SLO_MS": SLO_MS}),
    "bare + ddtrace.patch, tracing on": ("bare_patched.py", TRACING_ON),
    "template serve.py, tracing on": ("serve.py", TRACING_ON),
}
# What each server is compared against: (server, baseline) -> what the ratio measures.
COMPARISONS = {
    ("template serve.py", "bare KServe model"): "template vs bare, tracing off",
    ("template serve.py, tracing on", "bare + ddtrace.patch, tracing on"): "template vs bare, tracing on",
    ("template serve.py, LATENCY_SLO_MS set", "template serve.py"): "SLO machinery (deadline never reached)",
}
ROW = [6.7, 3.0, 5.2, 2.3]
REQUESTS = [(protocol, rows) for protocol in ("v1 JSON", "v2 JSON", "v2 binary") for rows in (1, 100)]
LUA = '''
local file = io.open("{body}", "rb")
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
{headers}
'''


def request(protocol: str, rows: int) -> tuple[str, bytes, dict]:
    """Path, body and headers of one benchmark request."""
    if protocol == "v1 JSON":
        body = json.dumps({"instances": [ROW] * rows}).encode()
        return f"/v1/models/{DEFAULT_MODEL_NAME}:predict", body, {"Content-Type": "application/json"}
    path = f"/v2/models/{DEFAULT_MODEL_NAME}/infer"
    tensor = {"name": "features", "shape": [rows, len(ROW)], "datatype": "FP32"}
    if protocol == "v2 JSON":
        return path, json.dumps({"inputs": [{**tensor, "data": ROW * rows}]}).encode(), {"Content-Type": "application/json"}
    values = np.array([ROW] * rows, dtype="<f4").tobytes()
    header = json.dumps({"inputs": [{**tensor, "parameters": {"binary_data_size": len(values)}}]}).encode()
    return path, header + values, {"Content-Type": "application/octet-stream", "Inference-Header-Content-Length": str(len(header))}


def wrk_script(folder: Path, protocol: str, rows: int) -> tuple[str, Path]:
    path, body, headers = request(protocol, rows)
    name = f"{protocol.replace(' ', '-')}-{rows}"
    (folder / f"{name}.body").write_bytes(body)
    script = folder / f"{name}.lua"
    script.write_text(LUA.format(body=folder / f"{name}.body",
                                 headers="\n".join(f'wrk.headers["{key}"] = "{value}"' for key, value in headers.items())))
    return path, script


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pinned(command: list[str], cpus: str | None) -> list[str]:
    return ["taskset", "-c", cpus, *command] if cpus else command


def start(python: Path, project: Path, weights: Path, script: str, env: dict, port: int, cpus: str | None,
          command_prefix: tuple[str, ...] = (), ready_within: float = 90) -> subprocess.Popen:
    """`script` (serve.py, bare.py or bare_patched.py) serving `weights` over HTTP only, run after
    command_prefix (valgrind, for one) and ready to answer."""
    args = [weights, port] if script != "serve.py" else ["--model_dir", weights, "--http_port", port, "--enable_grpc", "false"]
    # Only the servers that name a latency SLO get one, whatever this shell has set.
    inherited = {key: value for key, value in os.environ.items() if key != "LATENCY_SLO_MS"}
    process = subprocess.Popen(pinned([*command_prefix, str(python), script, *map(str, args)], cpus), cwd=project,
                               env={**inherited, **NOWHERE_AGENT, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + ready_within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"benchmark: {script} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/health/ready", timeout=2):
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    sys.exit(f"benchmark: {script} was not ready after {ready_within:g} s")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), all its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def milliseconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]


def wrk(url: str, script: Path, seconds: float, connections: int, cpus: str | None) -> str:
    command = pinned(["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "10s", "-s", str(script), url], cpus)
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=False)
    if result.returncode != 0 or "Non-2xx" in result.stdout or "Socket errors" in result.stdout:
        sys.exit(f"benchmark: wrk on {url} did not get only 2xx answers:\n{result.stdout}{result.stderr}")
    return result.stdout


def measure(url: str, script: Path, pid: int, options, cpus: str | None) -> dict:
    wrk(url, script, 1, options.connections, cpus)  # warm-up
    cpu_before = cpu_seconds(pid)
    output = wrk(url, script, options.seconds, options.connections, cpus)
    cpu = cpu_seconds(pid) - cpu_before
    done = int(re.search(r"(\d+) requests in", output).group(1))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": milliseconds(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1)),
        "p99_ms": milliseconds(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1)),
        "cpu_us": cpu / done * 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("benchmark: wrk is not installed; install it with `apt-get install wrk`")
    cpus = os.cpu_count() or 1
    server_cpus, load_cpus = ("0", f"1-{cpus - 1}") if cpus >= 2 and shutil.which("taskset") else (None, None)
    python = ensure_model_env() / "python"
    with tempfile.TemporaryDirectory() as scratch:
        project, weights = trained_project(Path(scratch), python)
        scripts = {kind: wrk_script(Path(scratch), *kind) for kind in REQUESTS}
        rounds = {(label, kind): [] for label in SERVERS for kind in REQUESTS}
        for _ in range(options.rounds):
            # Fresh server processes each round: two processes serving the same code differ by a few
            # per cent for as long as they live (memory layout, hash seed), as much as the targets;
            # the median over rounds evens that out instead of keeping one process's luck.
            with running_servers(python, project, weights, server_cpus) as servers:
                for (label, kind), cells in rounds.items():
                    path, script = scripts[kind]
                    port, process = servers[label]
                    cells.append(measure(f"http://127.0.0.1:{port}{path}", script, process.pid, options, load_cpus))
    results = {key: median_round(cells) for key, cells in rounds.items()}
    pinning = f"servers on CPU {server_cpus}, wrk on CPUs {load_cpus}" if server_cpus else "not pinned (one CPU)"
    print(f"# {platform.python_implementation()} {platform.python_version()}, {cpus} CPUs ({pinning}), wrk -t1 "
          f"-c{options.connections}, median of {options.rounds} rounds of {options.seconds:g} s per cell; the SLO "
          f"server's LATENCY_SLO_MS is {SLO_MS}")
    report(results, options.markdown)
    compare(results, options.markdown)


def trained_project(scratch: Path, python: Path) -> tuple[Path, Path]:
    """The template rendered into scratch and trained, with the bare servers beside serve.py:
    (project folder, weights folder)."""
    project = render_project(scratch)
    subprocess.run([str(python), "train.py"], cwd=project, check=True, capture_output=True, env={**os.environ, **TRACING_OFF})
    (weights,) = (project / "weights").iterdir()
    (project / "bare.py").write_text(BARE.format(patch="", name=DEFAULT_MODEL_NAME))
    (project / "bare_patched.py").write_text(BARE.format(patch=PATCH, name=DEFAULT_MODEL_NAME))
    return project, weights


@contextlib.contextmanager
def running_servers(python: Path, project: Path, weights: Path, cpus: str | None):
    """Every server of SERVERS started and ready: {label: (port, process)}; stopped on leaving."""
    servers = {}
    try:
        for label, (script, env) in SERVERS.items():
            port = free_port()
            servers[label] = port, start(python, project, weights, script, env, port, cpus)
        yield servers
    finally:
        for _, process in servers.values():
            process.terminate()
            process.wait(timeout=30)


def median_round(cells: list[dict]) -> dict:
    """Each measure's median over the rounds."""
    return {key: statistics.median(cell[key] for cell in cells) for key in cells[0]}


def report(results: dict, markdown: bool) -> None:
    if markdown:
        print("\n| server | request | rows | requests/s | p50 ms | p99 ms | server CPU µs/request |\n"
              "| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for (label, (protocol, rows)), cell in results.items():
        if markdown:
            print(f"| {label} | {protocol} | {rows} | {cell['rps']:.0f} | {cell['p50_ms']:.1f} | {cell['p99_ms']:.1f} | {cell['cpu_us']:.0f} |")
        else:
            print(f"{label:40} {protocol:9} {rows:>4} rows {cell['rps']:7.0f} req/s  p50 {cell['p50_ms']:6.1f} ms"
                  f"  p99 {cell['p99_ms']:6.1f} ms  {cell['cpu_us']:6.0f} us CPU/req")


def compare(results: dict, markdown: bool) -> None:
    """Throughput, p99 and CPU per request of each server relative to its baseline, per request kind."""
    if markdown:
        print("\n| comparison | request | rows | throughput | p99 | CPU per request |\n| --- | --- | ---: | ---: | ---: | ---: |")
    for (server, baseline), what in COMPARISONS.items():
        for kind in REQUESTS:
            cell, base = results[server, kind], results[baseline, kind]
            ratios = (cell["rps"] / base["rps"], cell["p99_ms"] / base["p99_ms"], cell["cpu_us"] / base["cpu_us"])
            if markdown:
                print(f"| {what} | {kind[0]} | {kind[1]} | " + " | ".join(f"{ratio:.2f}×" for ratio in ratios) + " |")
            else:
                print(f"{what:40} {kind[0]:9} {kind[1]:>4} rows  throughput {ratios[0]:.2f}x  p99 {ratios[1]:.2f}x  CPU {ratios[2]:.2f}x")


if __name__ == "__main__":
    main()
