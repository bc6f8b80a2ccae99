#!/usr/bin/env python3
"""Measure snitch's wall time and peak memory on a freshly rendered, compliant project, beside a
bare pytest run and the interpreter floor. Method and results: docs/performance.md.

    python benchmarks/bench_snitch.py [--runs 20] [--markdown]

Each command runs --runs times in a fresh process after one warm-up run (so the OS file cache is
warm, as on a developer's machine between commits); wall time is measured around the process,
peak memory is the child's maximum resident set size from wait4()."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def measure(command: list[str], cwd: Path, runs: int) -> tuple[list[float], list[int]]:
    times, peaks = [], []
    for attempt in range(runs + 1):
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) not in (0, 1):
            sys.exit(f"benchmark: {' '.join(command)} exited with {os.waitstatus_to_exitcode(status)}")
        if attempt:  # the first run only warms caches
            times.append(elapsed)
            peaks.append(usage.ru_maxrss)  # KiB on Linux
    return times, peaks


def render(into: Path) -> Path:
    from cookiecutter.main import cookiecutter

    return Path(cookiecutter(str(REPO_ROOT / "model-project-template"), no_input=True, output_dir=str(into)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table for docs/performance.md")
    args = parser.parse_args()

    snitch = shutil.which("snitch", path=os.path.dirname(sys.executable)) or shutil.which("snitch")
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        project = render(workdir)
        (workdir / "test_trivial.py").write_text("def test_trivial():\n    assert True\n")
        commands = {
            "floor: python -c 'import yaml, ast'": [sys.executable, "-c", "import yaml, ast"],
            "bare pytest (one trivial test)": [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_trivial.py"],
            f"snitch -n {project.name} (text)": [snitch, "-n", project.name, "-p", str(project)],
            f"snitch -n {project.name} --format json": [snitch, "-n", project.name, "-p", str(project), "--format", "json"],
        }
        rows = []
        for name, command in commands.items():
            times, peaks = measure(command, workdir, args.runs)
            rows.append((name, statistics.median(times), max(times), statistics.median(peaks) / 1024))

    print(f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} cores; {args.runs} runs each after one warm-up")
    if args.markdown:
        print("\n| command | median wall (s) | slowest (s) | peak RSS (MiB) |\n|---|---|---|---|")
        for name, median, slowest, peak in rows:
            print(f"| `{name}` | {median:.3f} | {slowest:.3f} | {peak:.0f} |")
    else:
        for name, median, slowest, peak in rows:
            print(f"{name:<48} median {median:.3f}s  slowest {slowest:.3f}s  peak {peak:.0f} MiB")


if __name__ == "__main__":
    main()
