"""CPU time of snitch's static analysis of Python, stage by stage, in-process.

    python benchmarks/bench_analysis.py [RUNS]

Renders the template twice: as is, and with serve.py followed by 25,000 generated constant
assignments (1.9 MB, the tree bench_snitch.py calls "1.9 MB serve.py"). For each, it times the
best of RUNS (default 20) of: parsing serve.py, the nesting-depth guard on every .py file of the
project, and `serve_analysis.analyse` (standards 4 and 10's analysis) with the parse cached. CPU time
(time.process_time), so other work on the machine does not count.
"""

from __future__ import annotations

import ast
import sys
import tempfile
import time
from pathlib import Path

from bench_snitch import MODEL, render

from snitch.facts import serve_analysis
from snitch.read.project import Project, nests_deeper_than

CONSTANT = "CONSTANT_{0} = {0}  # a generated table, as some teams keep in serve.py\n"


def best(runs: int, work) -> float:
    """The fastest of `runs` calls, in milliseconds of CPU time."""
    times = []
    for _ in range(runs):
        start = time.process_time()
        work()
        times.append(time.process_time() - start)
    return min(times) * 1000


def stages(root: Path, runs: int) -> dict[str, float]:
    sources = {path: path.read_text() for path in root.rglob("*.py")}
    trees = {path: ast.parse(source) for path, source in sources.items()}

    project = Project(root, MODEL)
    for path in trees:
        project.python(str(path.relative_to(root)))  # parsed once, as in a run: analyse() reads the cache
    return {
        "parse serve.py": best(runs, lambda: ast.parse(sources[root / "serve.py"])),
        "nesting guard, every .py": best(runs, lambda: [nests_deeper_than(tree) for tree in trees.values()]),
        "serve_analysis.analyse": best(runs, lambda: serve_analysis.analyse(project)),
    }


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    with tempfile.TemporaryDirectory() as workdir:
        compliant = render(Path(workdir) / "compliant")
        large = render(Path(workdir) / "large")
        serve = large / "serve.py"
        lines = (1_900_000 - len(serve.read_text())) // len(CONSTANT.format(10_000))
        serve.write_text(serve.read_text() + "".join(CONSTANT.format(n) for n in range(10_000, 10_000 + lines)))
        for name, root in (("template project", compliant), ("1.9 MB serve.py", large)):
            for stage, milliseconds in stages(root, runs).items():
                print(f"{name:17} {stage:26} {milliseconds:8.2f} ms")


if __name__ == "__main__":
    main()
