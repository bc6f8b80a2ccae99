#!/usr/bin/env python3
"""Measure `snitch fleet` on 1 project and on N (default 100) projects, each its own render of the
template with its own project and model name (as a real fleet is: one template, many models),
each a git repository, broken in five ways in turn. Method and results: docs/platform.md.

    python benchmarks/bench_fleet.py [--projects 100] [--runs 3]

Each fleet command runs --runs times in a fresh process after one warm-up round, the 1-project and
the N-project commands interleaved (so that the machine's changing speed falls on both alike;
the ratio reported is the median of each round's own ratio), first with snitch's
cache kept between runs (the warm-up run fills it, as the scheduled job's CI cache keeps it from
one night to the next), then with an empty cache on every run (every project new); the median wall
time is reported, with the ratio N projects / 1 project and the cost of each extra project, in
wall time and in CPU time (the command's, its workers' and their git processes': the machine's
other load slows the wall time, much less the CPU time)."""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_snitch import REPO_ROOT, cache_environment, run_once  # noqa: E402  (the single-project benchmark's method)

GIT = ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.com"]


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    if old not in text:  # the template changed: the breakage would silently do nothing
        raise SystemExit(f"{path} no longer holds {old!r}; update BREAKAGES")
    path.write_text(text.replace(old, new, 1))


BREAKAGES = {
    "compliant": lambda project: None,
    "no tracing (10)": lambda project: _replace(project / "serve.py", "ddtrace.patch(fastapi=True)", "pass"),
    "other bucket (1)": lambda project: _replace(project / ".gitlab-ci.yml", "s3://ml-platform-bucket/", "s3://elsewhere/"),
    "README placeholder (3)": lambda project: _replace(project / "README.md", "\n", "\nTODO: owner\n"),
    "loose pin (5)": lambda project: _replace(project / "requirements.txt", "scikit-learn==", "scikit-learn>="),
}


def render(into: Path, project_name: str) -> Path:
    from cookiecutter.main import cookiecutter

    template = str(REPO_ROOT / "model-project-template")
    answers = {"project_name": project_name}
    return Path(cookiecutter(template, no_input=True, output_dir=str(into), extra_context=answers))


def make_fleet(into: Path, count: int) -> list[Path]:
    """`count` renders, "Fleet Model 000" (model fleet-model-000) onwards, each committed in its
    own repository, then broken (uncommitted) in the five ways in turn."""
    breakages = list(BREAKAGES.values())
    projects = []
    for index in range(count):
        project = render(into, f"Fleet Model {index:03d}")
        for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "rendered"]):
            subprocess.run([*GIT, *command], cwd=project, check=True)
        breakages[index % len(breakages)](project)
        projects.append(project)
    return projects


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # every process waited for, and theirs
    return usage.ru_utime + usage.ru_stime


def measure(commands: list[list[str]], cwd: Path, runs: int, cache: str) -> list[list[tuple[float, int, float]]]:
    """(wall time, peak RSS in KiB, CPU time) of each command, round by round: --runs rounds after
    one warm-up round, the commands interleaved so that a change in the machine's speed falls on
    all of them alike; snitch's cache kept between runs or empty on each
    (bench_snitch.cache_environment)."""
    rounds = []
    for attempt in range(runs + 1):
        samples = []
        for command in commands:
            before = _children_cpu()
            elapsed, peak = run_once(command, cwd, cache_environment(cache, cwd))
            samples.append((elapsed, peak, _children_cpu() - before))
        if attempt:
            rounds.append(samples)
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--projects", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        projects = make_fleet(workdir / "fleet", args.projects)
        command = [sys.executable, "-m", "snitch", "fleet", "--format", "json"]
        print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; median of {args.runs} runs")
        for cache, label in (("kept", "cache kept between runs"), ("empty", "empty cache on every run")):
            rounds = measure([[*command, str(projects[0])], [*command, *map(str, projects)]], workdir, args.runs, cache)
            report(label, args.projects, rounds)


def report(label: str, count: int, rounds) -> None:
    """Medians, and the median of each round's own ratio (its two runs were made side by side)."""
    single, fleet = (statistics.median(sample[i][0] for sample in rounds) for i in (0, 1))
    single_cpu, fleet_cpu = (statistics.median(sample[i][2] for sample in rounds) for i in (0, 1))
    ratio = statistics.median(sample[1][0] / sample[0][0] for sample in rounds)
    peak = max(sample[1][1] for sample in rounds) / 1024
    extra = count - 1
    print(f"\n{label}:")
    print(f"1 project:            {single:.2f} s (CPU {single_cpu:.2f} s)")
    print(f"{count} projects:         {fleet:.2f} s (CPU {fleet_cpu:.2f} s, peak RSS {peak:.0f} MiB)")
    print(f"ratio:                {ratio:.1f}x (median of the rounds' ratios; target: 3x)")
    each, each_cpu = (fleet - single) / extra, (fleet_cpu - single_cpu) / extra
    print(f"each extra project:   {each * 1000:.0f} ms (CPU {each_cpu * 1000:.0f} ms)")

if __name__ == "__main__":
    main()
