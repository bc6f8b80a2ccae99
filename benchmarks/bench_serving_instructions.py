#!/usr/bin/env python3
"""Instructions run per request by the template's serve.py and by a bare KServe model serving the
same weights, end to end: a count that does not move with the machine's load, where
bench_serving.py's requests/s move by a few per cent between runs, as much as the targets. Method
and results: docs/serving.md.

    python benchmarks/bench_serving_instructions.py [--requests 200] [--warmup 50] [--markdown]

Needs valgrind (`apt-get install valgrind`). bench_serving.py's servers (one uvicorn worker, HTTP
only, on 127.0.0.1) each run under callgrind, which counts the instructions the CPU runs in the
server process, every thread included: uvicorn reading the request, KServe, the template's code,
the answer written. For each request of bench_serving.py (v1 JSON, v2 JSON, v2 binary; 1 and 100
rows) one keep-alive connection sends --warmup requests, then --requests measured ones, one after
the other, and `callgrind_control --dump` closes each phase: the measured dump's count divided by
--requests is the cell. BLAS runs one thread (its idle threads spin for as long as the scheduler
lets them, which a count would include and which changes from run to run); the servers' stderr
goes to /dev/null, as in bench_serving.py.
"""

from __future__ import annotations

import argparse
import http.client
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import bench_serving
from bench_serving import COMPARISONS, REQUESTS, ensure_model_env, free_port, request, start, trained_project

SINGLE_BLAS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
# bench_serving.py's servers, but for the SLO server's deadline: under callgrind the code runs some
# 50 times slower, so it is 60 s; neither it nor half of it (which starts a slow spell) is reached,
# as bench_serving.py's 1 s is not natively.
SERVERS = {label: (script, {**env, "LATENCY_SLO_MS": "60000"} if "LATENCY_SLO_MS" in env else env)
           for label, (script, env) in bench_serving.SERVERS.items()}
TOTAL = re.compile(r"^(?:summary|totals):\s+(\d+)", re.M)


def count(python: Path, project: Path, weights: Path, script: str, env: dict, out: Path, options) -> list[float]:
    """Instructions per measured request of one server under callgrind, for each of REQUESTS."""
    port = free_port()
    valgrind = ("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}")
    server = start(python, project, weights, script, {**SINGLE_BLAS, **env}, port, None, valgrind, ready_within=900)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        for kind in REQUESTS:
            path, body, headers = request(*kind)
            for phase in (options.warmup, options.requests):
                for _ in range(phase):
                    connection.request("POST", path, body, headers)
                    response = connection.getresponse()
                    answer = response.read()
                    if response.status != 200:
                        sys.exit(f"benchmark: {script} answered {kind} with {response.status}: {answer[:300]!r}")
                # Each dump holds the instructions since the last one; the measured phases are the even ones.
                subprocess.run(["callgrind_control", "--dump", str(server.pid)], check=True, capture_output=True, timeout=300)
        connection.close()
    finally:
        server.terminate()
        server.wait(timeout=300)
    dumps = sorted(out.parent.glob(f"{out.name}.*"), key=lambda path: int(path.suffix[1:]))
    totals = [int(TOTAL.search(path.read_text()).group(1)) for path in dumps]
    if len(totals) < 2 * len(REQUESTS):
        sys.exit(f"benchmark: callgrind wrote {len(totals)} dumps for {script}, expected {2 * len(REQUESTS)}")
    return [total / options.requests for total in totals[1:2 * len(REQUESTS):2]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200, help="measured requests per cell")
    parser.add_argument("--warmup", type=int, default=50, help="requests sent before each cell is measured")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    options = parser.parse_args()
    for tool in ("valgrind", "callgrind_control"):
        if not shutil.which(tool):
            sys.exit(f"benchmark: {tool} is not installed; install valgrind with `apt-get install valgrind`")
    python = ensure_model_env() / "python"
    with tempfile.TemporaryDirectory() as scratch:
        project, weights = trained_project(Path(scratch), python)
        # The counts do not depend on how many run at once; the cores only set how long it takes.
        with ThreadPoolExecutor(len(SERVERS)) as pool:
            runs = {label: pool.submit(count, python, project, weights, script, env, Path(scratch) / f"callgrind-{index}", options)
                    for index, (label, (script, env)) in enumerate(SERVERS.items())}
            results = {(label, kind): value for label, run in runs.items() for kind, value in zip(REQUESTS, run.result())}
    print(f"# instructions per request (callgrind), end to end in the server process, {options.requests} measured "
          f"after {options.warmup} warm-up requests per cell, one keep-alive connection; the SLO server's "
          f"LATENCY_SLO_MS is 60000 here")
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
