#!/usr/bin/env python3
"""snitch's wall time and peak memory on every kind of tree it meets, beside a peer checker
(repo-review with sp-repo-review) on the same trees. Method and results: docs/performance.md.

    python benchmarks/bench_snitch.py [--runs 15] [--markdown]

Trees: a freshly rendered compliant project in git; an empty folder; a folder holding only
serve.py; a project without .gitlab-ci.yml; one whose files are broken (syntax error, invalid
YAML, binary, non-UTF-8); one with a 1.9 MB serve.py; one with large git-ignored datasets/ and
weights/ folders; one with 2,000 commits of history.

snitch runs twice on each tree: with the benchmark's own cache folder, kept between runs (as on
a developer's machine and in CI, where the job cache keeps it), and with a new empty one for
every run (the first run after every file changed: nothing is known yet).

Every command runs once to warm the OS file cache (and snitch's kept cache), then --runs times.
Runs are interleaved (round-robin over all commands) so that load from elsewhere on the machine
falls on every command alike. Wall time is measured around the process; peak memory is the child's maximum
resident set size from wait4()."""

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
MODEL = "iris-classifier"
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}


def git(folder: Path, *args: str, stdin: bytes | None = None) -> None:
    subprocess.run(["git", *args], cwd=folder, input=stdin, check=True, capture_output=True, env={**os.environ, **GIT_ENV})


def commit_all(folder: Path) -> Path:
    git(folder, "init", "-q", "-b", "main")
    git(folder, "add", "-A")
    git(folder, "commit", "-q", "-m", "Initial commit")
    return folder


def render(into: Path) -> Path:
    from cookiecutter.main import cookiecutter

    return Path(cookiecutter(str(REPO_ROOT / "model-project-template"), no_input=True, output_dir=str(into)))


def build_trees(workdir: Path) -> dict[str, Path]:
    pristine = render(workdir / "rendered")

    def copy(name: str) -> Path:
        return Path(shutil.copytree(pristine, workdir / name / MODEL))

    trees = {"compliant project (in git)": commit_all(copy("compliant"))}

    empty = workdir / "empty"
    empty.mkdir()
    trees["empty folder"] = empty

    lonely = workdir / "only-serve"
    lonely.mkdir()
    shutil.copy(pristine / "serve.py", lonely / "serve.py")
    trees["only serve.py"] = lonely

    no_ci = copy("no-ci")
    (no_ci / ".gitlab-ci.yml").unlink()
    trees["no .gitlab-ci.yml"] = commit_all(no_ci)

    broken = copy("broken")
    (broken / "serve.py").write_text("import kserve\n\nclass Iris(kserve.Model)\n    pass\n")
    (broken / "openapi.yaml").write_text("openapi: 3.0.3\ninfo: {title: x\npaths:\n")
    (broken / "Dockerfile").write_bytes(b"\x7fELF\x02\x01\x01\0" * 64)
    (broken / "requirements.txt").write_bytes("kserve==0.21.0  # modèle\n".encode("latin-1"))
    trees["broken files"] = commit_all(broken)

    large = copy("large-source")
    source = (large / "serve.py").read_text()
    line = "CONSTANT_{} = {}  # a generated table, as some teams keep in serve.py\n"
    lines = (1_900_000 - len(source)) // len(line.format(10_000, 10_000))
    (large / "serve.py").write_text(source + "".join(line.format(n, n) for n in range(10_000, 10_000 + lines)))
    trees["1.9 MB serve.py"] = commit_all(large)

    data = copy("ignored-data")
    for folder in ("datasets", "weights"):
        for n in range(2_500):
            part = data / folder / f"part-{n // 100}" / f"shard-{n}.bin"
            part.parent.mkdir(parents=True, exist_ok=True)
            part.write_bytes(b"\0" * 512)
    with open(data / "weights" / "model.bin", "wb") as handle:
        handle.truncate(1024**3)  # a 1 GiB sparse file: large on paper, as real weights are
    trees["5,000 ignored data files + 1 GiB weights"] = commit_all(data)

    history = commit_all(copy("history"))
    stream = "".join(
        f"commit refs/heads/main\ncommitter bench <bench@example.com> {1_700_000_000 + n} +0000\n"
        f"data {len(f'change {n}')}\nchange {n}\n"
        + ("from refs/heads/main^0\n" if n == 0 else "")
        + f"M 100644 inline notes.txt\ndata {len(str(n)) + 1}\n{n}\n\n"
        for n in range(2_000)
    )
    git(history, "fast-import", "--quiet", stdin=stream.encode())
    git(history, "reset", "-q", "--hard", "main")
    trees["2,000 commits of history"] = history
    return trees


def run_once(command: list[str], cwd: Path, env: dict | None = None) -> tuple[float, int]:
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code < 0 or code == 2 and "snitch" in command[0]:
        sys.exit(f"benchmark: {' '.join(command)} exited with {code}")
    return elapsed, usage.ru_maxrss  # KiB on Linux


def cache_environment(cache: str | None, cwd: Path) -> dict | None:
    """snitch's cache for one run: the benchmark's own, kept between runs ("kept"), or a new empty
    one ("empty", a first run after every file changed); None for a command that has none."""
    if cache is None:
        return None
    folder = cwd / "snitch-cache" if cache == "kept" else Path(tempfile.mkdtemp(dir=cwd, prefix="empty-cache-"))
    return {**os.environ, "SNITCH_CACHE_DIR": str(folder)}


def measure(commands: dict[str, tuple[list[str], str | None]], cwd: Path, runs: int) -> dict[str, tuple[list[float], list[int]]]:
    results = {name: ([], []) for name in commands}
    for attempt in range(runs + 1):
        for name, (command, cache) in commands.items():
            elapsed, peak = run_once(command, cwd, cache_environment(cache, cwd))
            if attempt:  # the first round only warms caches
                results[name][0].append(elapsed)
                results[name][1].append(peak)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables for docs/performance.md")
    args = parser.parse_args()

    bin_dir = os.path.dirname(sys.executable)
    snitch = shutil.which("snitch", path=bin_dir) or shutil.which("snitch")
    repo_review = shutil.which("repo-review", path=bin_dir) or shutil.which("repo-review")
    if not repo_review:
        sys.exit("benchmark: repo-review is not installed: pip install 'repo-review[cli]' sp-repo-review")
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        trees = build_trees(workdir)
        commands = {"floor: python -c 'import yaml, ast'": ([sys.executable, "-c", "import yaml, ast"], None)}
        for name, tree in trees.items():
            commands[f"snitch: {name}"] = ([snitch, "-n", MODEL, "-p", str(tree)], "kept")
            commands[f"snitch, empty cache: {name}"] = ([snitch, "-n", MODEL, "-p", str(tree)], "empty")
            commands[f"repo-review: {name}"] = ([repo_review, str(tree)], None)
        results = measure(commands, workdir, args.runs)

    def row(name):
        times, peaks = results[name]
        return statistics.median(times), max(times), statistics.median(peaks) / 1024

    baseline = row("snitch: compliant project (in git)")[0]
    cold_baseline = row("snitch, empty cache: compliant project (in git)")[0]
    print(f"{platform.python_implementation()} {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} cores; {args.runs} interleaved runs each after one warm-up round")
    floor = row("floor: python -c 'import yaml, ast'")
    if args.markdown:
        print(f"\nFloor (`python -c 'import yaml, ast'`): {floor[0]:.3f} s, {floor[2]:.0f} MiB.\n")
        print("| tree | snitch median (s) | slowest (s) | × compliant | peak RSS (MiB) | repo-review median (s) "
              "| snitch ÷ repo-review | empty cache: snitch (s) | × compliant | peak RSS (MiB) |")
        print("|---|---|---|---|---|---|---|---|---|---|")
    for name in trees:
        median, slowest, peak = row(f"snitch: {name}")
        cold, _, cold_peak = row(f"snitch, empty cache: {name}")
        peer = row(f"repo-review: {name}")[0]
        if args.markdown:
            print(f"| {name} | {median:.3f} | {slowest:.3f} | {median / baseline:.2f} | {peak:.0f} | {peer:.3f} "
                  f"| {median / peer:.2f} | {cold:.3f} | {cold / cold_baseline:.2f} | {cold_peak:.0f} |")
        else:
            print(f"{name:<44} snitch {median:.3f}s (max {slowest:.3f}s, {median / baseline:.2f}x, {peak:.0f} MiB)"
                  f"   empty cache {cold:.3f}s ({cold / cold_baseline:.2f}x)   repo-review {peer:.3f}s")


if __name__ == "__main__":
    main()
