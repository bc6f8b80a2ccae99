#!/usr/bin/env python3
"""How long snitch's readers take on the hostile inputs of issue 7 (the inputs that used to
crash, hang or take minutes). Method and results: docs/standards.md, "Robustness guarantees".

    python benchmarks/bench_hostile.py [--runs 5]

Each reader runs in this process on the input --runs times; the median wall time is printed.
A reader that refuses its input counts as done: refusing quickly is the point."""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from snitch import config, files, readme, safe_yaml  # noqa: E402
from snitch.project import Project  # noqa: E402
from snitch.violation import FileProblem  # noqa: E402


def _yaml(text: str):
    try:
        safe_yaml.load_documents(text)
    except safe_yaml.YamlProblem:
        pass


def _python(source: str):
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "serve.py").write_text(source)
        try:
            Project(Path(folder), "m").python("serve.py")
        except FileProblem:
            pass


def _fifo():
    with tempfile.TemporaryDirectory() as folder:
        os.mkfifo(Path(folder, "fifo"))
        try:
            files.read_bytes(Path(folder, "fifo"))
        except files.Unreadable:
            pass


def _slow_pattern():
    try:
        with config.pattern_budget():
            re.search(r".*a.*b.*x", "ab" * 1000)
    except config.PatternTooSlow:
        pass


CASES = {
    "README line of 40,000 `[` (was 17 s)": lambda: readme.links("[" * 40_000),
    "README line of 6,000 `[](x \"`": lambda: readme.links('[](x "' * 6_000),
    "YAML flow nesting 60,000 deep (was a segfault)": lambda: _yaml("x: " + "[" * 60_000 + "]" * 60_000),
    "YAML `- - - ...` 60,000 deep": lambda: _yaml("- " * 60_000 + "x"),
    "serve.py with `a.a.a...` 900 deep (was minutes)": lambda: _python("x = " + "a." * 900 + "b\n"),
    "JSON record 100,000 deep": lambda: files.json_too_deep("[" * 100_000 + "]" * 100_000),
    "a FIFO as a file (was a hang)": _fifo,
    "config pattern `(a+)+` refused at load": lambda: config._pattern_problem("^(a+)+$"),
    "config pattern `.*a.*b.*x` on 2,000 chars (budget)": _slow_pattern,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    print("| input | median time |\n|---|---|")
    for name, case in CASES.items():
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            case()
            times.append(time.perf_counter() - start)
        print(f"| {name} | {statistics.median(times) * 1000:.1f} ms |")


if __name__ == "__main__":
    main()
