"""Run snitch's serving-class and tracing analysis (standards 4 and 10) over real KServe code.

    python benchmarks/real_world.py CHECKOUT [CHECKOUT ...]

Each CHECKOUT is a folder holding a snapshot of a repository. Every Python file in it that
mentions kserve or kfserving (tests aside) is analysed as if it were the project's serve.py,
with the checkout as the project root. Prints one row per file:
the classes it serves (and where their serving base was found), the standard-4 verdict of each,
how tracing is enabled and where the server starts; then totals and timings. Nothing in the
checkouts is imported or run.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from snitch.facts.serve_analysis import analyse, load_sets_ready
from snitch.read.project import Project
from snitch.violation import FileProblem

LIBRARY = re.compile(r"\b(kserve|kfserving)\b")
SKIPPED_PARTS = {"test", "tests", "e2e", "node_modules", ".git"}


def serve_like_files(root: Path):
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if SKIPPED_PARTS & set(relative.parts) or path.name.startswith("test_") or not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if LIBRARY.search(text):
            yield relative.as_posix()


def class_verdict(cls) -> str:
    problems = [f"no {name}()" for name in ("load", "predict") if cls.method(name) is None]
    if cls.method("load") is not None and not load_sets_ready(cls):
        problems.append("load() never sets ready")
    return "ok" if not problems else ", ".join(problems)


def via(cls, entry: str) -> str:
    """Where the class (or the ancestor that made it a serving class) lives, when not in the file."""
    outside = [ancestor.path for ancestor in cls.hierarchy.ancestry(cls.ref) if ancestor.path != entry]
    return f" via {outside[-1]}" if outside else ""


def row(project: Project, entry: str) -> tuple[dict, float]:
    started = time.perf_counter()
    try:
        analysis = analyse(project, entry)
    except FileProblem as problem:
        return {"file": entry, "error": problem.found}, time.perf_counter() - started
    elapsed = time.perf_counter() - started
    return {
        "file": entry,
        "classes": [(f"{cls.name}[{cls.api}]{via(cls, entry)}", class_verdict(cls)) for cls in analysis.classes],
        "tracing": [("ok" if way.runs_before_server else "late") + f" {way.source}" for way in analysis.tracing],
        "start": analysis.server_start or "-",
        "problems": analysis.problems,
    }, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkouts", nargs="+", type=Path)
    args = parser.parse_args()
    rows, timings = [], []
    for checkout in args.checkouts:
        project = Project(checkout, "real-world")
        for entry in serve_like_files(project.root):
            result, elapsed = row(project, entry)
            result["file"] = f"{checkout.name}/{entry}"
            rows.append(result)
            timings.append((elapsed, result["file"]))
    print("| file | served classes (API, where the base was found) | standard 4 | tracing | server starts |")
    print("|---|---|---|---|---|")
    for result in rows:
        if "error" in result:
            print(f"| {result['file']} | (not analysed: {result['error']}) | | | |")
            continue
        classes = "<br>".join(name for name, _ in result["classes"]) or "—"
        verdicts = "<br>".join(verdict for _, verdict in result["classes"]) or "—"
        print(f"| {result['file']} | {classes} | {verdicts} | {'<br>'.join(result['tracing']) or '—'} | {result['start']} |")
    analysed = [result for result in rows if "error" not in result]
    classes = [item for result in analysed for item in result["classes"]]
    print()
    print(f"files: {len(rows)} serve-like, {len(rows) - len(analysed)} unparsable")
    print(f"files serving at least one class: {sum(1 for result in analysed if result['classes'])}")
    print(f"files serving several classes: {sum(1 for result in analysed if len(result['classes']) > 1)}")
    print(f"served classes: {len(classes)}, found through another module: {sum(' via ' in name for name, _ in classes)}")
    print(f"legacy API (KFModel / kfserving): {sum('KFModel' in name for name, _ in classes)}")
    print(f"classes passing standard 4: {sum(verdict == 'ok' for _, verdict in classes)}")
    print(f"files with modules snitch could not follow: {sum(1 for result in analysed if result['problems'])}")
    total = sum(elapsed for elapsed, _ in timings)
    slowest = max(timings, default=(0.0, "-"))
    print(f"analysis time: {total:.2f} s in total, slowest {slowest[0] * 1000:.0f} ms ({slowest[1]})")


if __name__ == "__main__":
    main()
