#!/usr/bin/env python3
"""Instructions run per request by the template's serve.py and by a bare KServe model serving the
same weights: a count that does not move with the machine's load, where bench_serving.py's
requests/s move by a few per cent between runs, as much as the targets. Method and results:
docs/serving.md.

    python benchmarks/bench_serving_instructions.py [--requests 200] [--warmup 50] [--markdown]

Needs valgrind (`apt-get install valgrind`). Each server runs in its own `python` process under
callgrind, which counts the instructions the CPU runs. The process builds the server's KServe app
(the FastAPI app uvicorn would serve: KServe's routes, middlewares and exception handlers, and for
serve.py its contract) and sends it requests in-process over ASGI, so everything above the HTTP
server is counted and uvicorn and the network (the same for every server) are not. For each request
of bench_serving.py (v1 JSON, v2 JSON, v2 binary; 1 and 100 rows) it sends --warmup requests, then
--requests measured ones, with a callgrind dump (at time.sleep) before and after: the measured
dump's count divided by --requests is the cell. stderr goes to /dev/null, as in bench_serving.py;
BLAS runs one thread (its idle threads spin for as long as the scheduler lets them).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_serving import (DEFAULT_MODEL_NAME, NOWHERE_AGENT, REQUESTS, TRACING_OFF, TRACING_ON, ensure_model_env, request,
                           trained_project)

# Runs inside the model's environment under callgrind: python driver.py <plan.json>.
DRIVER = '''
import asyncio
import gc
import importlib
import json
import sys
import time
from pathlib import Path

plan = json.loads(Path(sys.argv[1]).read_text())
sys.argv[1:] = []  # kserve.model_server parses sys.argv when imported

# The server's module first, as when it runs: ddtrace patches FastAPI before kserve imports it.
if plan["server"] != "serve":
    bare = importlib.import_module(plan["server"])  # bare.py, or bare_patched.py with ddtrace's patch

    model = bare.Bare(plan["model_name"], plan["weights"])
    model.load()
else:
    import serve

    model = serve.build_model(serve.parser.parse_args(["--model_dir", plan["weights"]]))
    serve.prepare_process()

from kserve import ModelServer, model_server
from kserve.protocol.rest.server import RESTServer

server = ModelServer(http_port=8080, enable_grpc=False)  # never started: its app is called directly
server.register_model(model)
RESTServer("kserve.model_server:app", server.dataplane, server.model_repository_extension, 8080).create_application()


async def send(path, body, headers):
    """One request through KServe's app; exits unless it is answered 200."""
    answered, statuses = asyncio.Event(), []
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8080), "state": {}}
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive():
        if messages:
            return messages.pop()
        await answered.wait()
        return {"type": "http.disconnect"}

    async def reply(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])
        elif not message.get("more_body", False):
            answered.set()

    await model_server.app(scope, receive, reply)
    if statuses != [200]:
        sys.exit(f"{path} answered {statuses}")


async def send_many(count, path, body, headers):
    for _ in range(count):
        await send(path, body, list(headers))


for kind in plan["requests"]:
    headers = [(name.lower().encode(), value.encode()) for name, value in kind["headers"].items()]
    body = Path(kind["body"]).read_bytes()
    headers.append((b"content-length", str(len(body)).encode()))
    asyncio.run(send_many(plan["warmup"], kind["path"], body, headers))
    gc.collect()
    time.sleep(0)  # callgrind dumps here: start-up and warm-up
    asyncio.run(send_many(plan["count"], kind["path"], body, headers))
    time.sleep(0)  # and here: the measured requests
'''
# label: (server, environment)
SERVERS = {
    "bare KServe model": ("bare", TRACING_OFF),
    "template serve.py": ("serve", TRACING_OFF),
    # Under callgrind the code runs some 50 times slower, so the deadline is 60 s: neither it nor
    # half of it (which starts a slow spell) is reached, as bench_serving.py's 1 s is not natively.
    "template serve.py, LATENCY_SLO_MS=60000": ("serve", {**TRACING_OFF, "LATENCY_SLO_MS": "60000"}),
    "bare + ddtrace.patch, tracing on": ("bare_patched", TRACING_ON),
    "template serve.py, tracing on": ("serve", TRACING_ON),
}
COMPARISONS = {
    ("template serve.py", "bare KServe model"): "template vs bare, tracing off",
    ("template serve.py, tracing on", "bare + ddtrace.patch, tracing on"): "template vs bare, tracing on",
    ("template serve.py, LATENCY_SLO_MS=60000", "template serve.py"): "SLO machinery (deadline never reached)",
}
TOTAL = re.compile(r"^(?:summary|totals):\s+(\d+)", re.M)


def counted(python: Path, project: Path, plan: Path, environment: dict, out: Path) -> subprocess.Popen:
    """The driver running under callgrind, one dump file per phase (out.1, out.2, ...)."""
    command = ["valgrind", "--tool=callgrind", "--dump-before=time_sleep", f"--callgrind-out-file={out}",
               str(python), "driver.py", str(plan)]
    inherited = {key: value for key, value in os.environ.items() if key != "LATENCY_SLO_MS"}
    inherited.update(NOWHERE_AGENT)
    # One BLAS thread: idle BLAS threads spin for as long as the scheduler lets them, which a
    # count would include and which changes from run to run.
    single_blas = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(command, cwd=project, env={**inherited, **single_blas, **environment},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def per_request(out: Path, count: int) -> list[float]:
    """Instructions per measured request for each request kind, in plan order: the even dumps."""
    dumps = sorted(out.parent.glob(f"{out.name}.*"), key=lambda path: int(path.suffix[1:]))
    totals = [int(TOTAL.search(path.read_text()).group(1)) for path in dumps]
    if len(totals) != 2 * len(REQUESTS):
        sys.exit(f"benchmark: {out.name} has {len(totals)} dumps, expected {2 * len(REQUESTS)}")
    return [total / count for total in totals[1::2]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="measured requests per cell")
    parser.add_argument("--warmup", type=int, default=50, help="requests sent before each cell is measured")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    options = parser.parse_args()
    if not shutil.which("valgrind"):
        sys.exit("benchmark: valgrind is not installed; install it with `apt-get install valgrind`")
    python = ensure_model_env() / "python"
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        project, weights = trained_project(scratch, python)
        (project / "driver.py").write_text(DRIVER)
        kinds = []
        for protocol, rows in REQUESTS:
            path, body, headers = request(protocol, rows)
            body_file = scratch / f"{protocol.replace(' ', '-')}-{rows}.body"
            body_file.write_bytes(body)
            kinds.append({"path": path, "body": str(body_file), "headers": headers})
        runs = {}
        for label, (server, environment) in SERVERS.items():
            plan = scratch / f"{server}-{len(runs)}.json"
            plan.write_text(json.dumps({"server": server, "model_name": DEFAULT_MODEL_NAME, "weights": str(weights),
                                        "warmup": options.warmup, "count": options.requests, "requests": kinds}))
            out = scratch / f"callgrind-{len(runs)}"
            runs[label] = out, counted(python, project, plan, environment, out)
        results = {}
        for label, (out, process) in runs.items():
            if process.wait(timeout=3600) != 0:
                sys.exit(f"benchmark: the {label} driver exited with {process.returncode}")
            results.update({(label, kind): value for kind, value in zip(REQUESTS, per_request(out, options.requests))})
    print(f"# instructions per request (callgrind), {options.requests} measured after {options.warmup} warm-up requests per cell")
    report(results, options.markdown)


def report(results: dict, markdown: bool) -> None:
    if markdown:
        print("\n| server | request | rows | instructions/request |\n| --- | --- | ---: | ---: |")
    for (label, (protocol, rows)), value in results.items():
        print(f"| {label} | {protocol} | {rows} | {value / 1e6:.3f} M |" if markdown
              else f"{label:40} {protocol:9} {rows:>4} rows  {value / 1e6:7.3f} M instructions")
    if markdown:
        print("\n| comparison | request | rows | instructions |\n| --- | --- | ---: | ---: |")
    for (server, baseline), what in COMPARISONS.items():
        for kind in REQUESTS:
            ratio = results[server, kind] / results[baseline, kind]
            print(f"| {what} | {kind[0]} | {kind[1]} | {ratio:.3f}× |" if markdown
                  else f"{what:40} {kind[0]:9} {kind[1]:>4} rows  {ratio:.3f}x")


if __name__ == "__main__":
    main()
