#!/usr/bin/env python3
"""How long snitch's readers take on the hostile inputs of issues 7 and 18 (the inputs that used
to crash, hang or take minutes). Method and results: docs/standards.md, "Robustness guarantees".

    python benchmarks/bench_hostile.py [--runs 5]

Each reader runs in this process on the input --runs times; the median wall time is printed.
A reader that refuses its input counts as done: refusing quickly is the point."""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from snitch.engine import waivers  # noqa: E402
from snitch.facts import patterns, readme  # noqa: E402
from snitch.read import cache, files, git_index, safe_yaml  # noqa: E402
from snitch.read.project import Project  # noqa: E402
from snitch.standards import config  # noqa: E402
from snitch.violation import FileProblem  # noqa: E402

# The inputs that need files live here for the whole run (each case reads them, never writes).
_SCRATCH = Path(tempfile.mkdtemp(prefix="bench-hostile-"))


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
        with patterns.pattern_budget():
            re.search(r".*a.*b.*x", "ab" * 1000)
    except patterns.PatternTooSlow:
        pass


def _pyproject(name: str, text: str):
    """waivers.read of a project whose pyproject.toml is `text`."""
    root = _SCRATCH / name
    root.mkdir()
    (root / "pyproject.toml").write_text(text)
    standards = config.load_standards(None)
    return lambda: waivers.read(Project(root, "m"), standards)


def _invalid_waivers(count: int):
    return _pyproject(f"waivers-{count}", "[tool.snitch.waivers]\n" + "".join(f'"9{n}" = {{reason = "r", expires = 2030-01-01}}\n' for n in range(count)))


def _cache_entry(forged: bool):
    """cache.read of an 11 KB entry (an openapi.yaml's documents): authenticated, or forged."""
    os.environ["SNITCH_CACHE_DIR"] = str(_SCRATCH / "cache")
    os.environ.setdefault(cache.KEY_ENV, "k" * 64)
    entry_key, text = cache.key(b"forged" if forged else b"valid"), "[" + ", ".join(['"x" ' * 10] * 300) + "]"
    cache.store("bench", entry_key, text)
    if forged:
        (_SCRATCH / "cache" / "bench" / f"{entry_key}.json").write_text("[]")
    return lambda: cache.read("bench", entry_key)


def _folder_entry_index():
    git_dir = _SCRATCH / "repository" / ".git"
    git_dir.mkdir(parents=True)
    entries = b"".join(
        bytes(24) + (0o040000 if n == 0 else 0o100644).to_bytes(4, "big") + bytes(32) + len(name).to_bytes(2, "big") + name
        + bytes(8 - (62 + len(name)) % 8)
        for n, name in enumerate(f"datasets/{n:05}.csv".encode() for n in range(2000))
    )
    body = b"DIRC" + (2).to_bytes(4, "big") + (2000).to_bytes(4, "big") + entries
    (git_dir / "index").write_bytes(body + hashlib.sha1(body).digest())
    return lambda: git_index.has_folder_entries(git_dir)


CASES = {
    "README line of 40,000 `[` (was 17 s)": lambda: readme.links("[" * 40_000),
    "README line of 6,000 `[](x \"`": lambda: readme.links('[](x "' * 6_000),
    "YAML flow nesting 60,000 deep (was a segfault)": lambda: _yaml("x: " + "[" * 60_000 + "]" * 60_000),
    "YAML `- - - ...` 60,000 deep": lambda: _yaml("- " * 60_000 + "x"),
    "serve.py with `a.a.a...` 900 deep (was minutes)": lambda: _python("x = " + "a." * 900 + "b\n"),
    "JSON record 100,000 deep": lambda: files.json_too_deep("[" * 100_000 + "]" * 100_000),
    "a FIFO as a file (was a hang)": _fifo,
    "config pattern `(a+)+` refused at load": lambda: patterns.pattern_problem("^(a+)+$"),
    "config pattern `.*a.*b.*x` on 2,000 chars (budget)": _slow_pattern,
    "pyproject.toml value nested 1,000 deep (was an internal error)": _pyproject("deep", "[tool.snitch]\nx = " + "[" * 1000 + "]" * 1000 + "\n"),
    "6,000 invalid waivers (was 6.9 CPU-s)": _invalid_waivers(6_000),
    "24,000 invalid waivers, 1.1 MB (was 111 CPU-s)": _invalid_waivers(24_000),
    "YAML `!!bool abc` / `!!timestamp abc` (was an internal error)": lambda: (_yaml("a: !!bool abc"), _yaml("a: !!timestamp abc")),
    "cache entry of 11 KB, authenticated": _cache_entry(forged=False),
    "cache entry forged (refused)": _cache_entry(forged=True),
    ".git/index of 2,000 entries, a folder entry found": _folder_entry_index(),
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
