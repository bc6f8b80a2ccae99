"""Time the serving-class and tracing analysis (standards 4 and 10) on hostile shapes of serve.py.

    python benchmarks/bench_resolution.py [--repeat N]

Each shape is written to a temporary project and analysed in-process (`serve_analysis.analyse()`, which
the checks' facts come from when snitch's cache has none), best of N runs, in CPU seconds (process
time, so other load on the machine does not count); parsing serve.py (`Project.python`, which
every check of the file pays anyway) is timed apart from the analysis. The shapes: the template-like serve.py, inheritance
chains of 1,000 and 10,000 classes, a call chain of 5,000 functions with the patch at its end,
and a serve.py near snitch's 2 MiB file limit. Doubling a chain's length should about double its
time: the analysis is linear.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from snitch.facts import serve_analysis
from snitch.read.project import MAX_FILE_BYTES, Project

HEADER = "import ddtrace\nimport kserve\n\nddtrace.patch(fastapi=True)\n\n"
BASE = "class C0(kserve.Model):\n    def load(self):\n        self.ready = True\n\n    def predict(self, p):\n        return p\n\n"
START = "\nkserve.ModelServer().start([])\n"


def class_chain(length: int) -> str:
    return HEADER + BASE + "".join(f"class C{i}(C{i - 1}):\n    pass\n" for i in range(1, length)) + START


def call_chain(length: int) -> str:
    functions = "".join(f"def f{i}():\n    f{i + 1}()\n" for i in range(length))
    return "import ddtrace\nimport kserve\n" + functions + f"def f{length}():\n    ddtrace.patch(fastapi=True)\n" + BASE + "f0()" + START


def big_file() -> str:
    filler = "".join(f"def helper_{i}(x):\n    return [x, {i}, 'padding text for size']\n" for i in range(40_000))
    body = HEADER + BASE + filler
    return body[: MAX_FILE_BYTES - 4096].rsplit("\ndef ", 1)[0] + "\n" + START


SHAPES = {
    "template-like (one class, module-level patch)": lambda: HEADER + BASE + START,
    "inheritance chain, 1,000 classes": lambda: class_chain(1_000),
    "inheritance chain, 10,000 classes": lambda: class_chain(10_000),
    "call chain, 5,000 functions": lambda: call_chain(5_000),
    "call chain, 10,000 functions": lambda: call_chain(10_000),
    "serve.py near the 2 MiB limit": big_file,
}


def best_times(source: str, repeat: int) -> tuple[float, float]:
    """Best parse time and best analysis time, in CPU seconds."""
    parse, analyse = [], []
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "serve.py").write_text(source)
        for _ in range(repeat):
            project = Project(Path(folder), "bench")
            started = time.process_time()
            project.python("serve.py")
            parsed = time.process_time()
            analysis = serve_analysis.analyse(project)
            parse.append(parsed - started)
            analyse.append(time.process_time() - parsed)
    assert analysis.classes and analysis.tracing, "the shape must be a serving project"
    return min(parse), min(analyse)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"| serve.py shape | size | parse (best of {args.repeat}) | analysis (best of {args.repeat}) |")
    print("|---|---|---|---|")
    for name, make in SHAPES.items():
        source = make()
        parse, analyse = best_times(source, args.repeat)
        print(f"| {name} | {len(source.encode()) / 1024:.0f} KiB | {parse * 1000:.0f} ms | {analyse * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
