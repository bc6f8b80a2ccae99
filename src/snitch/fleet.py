"""`snitch fleet`: check many model projects in one process and report which break which standard.

Each project is checked with the model name its .gitlab-ci.yml declares and with its own waivers;
a project that declares none, or cannot be reached, is reported as not checkable. Git URLs are
cloned shallowly into a temporary folder with hooks and fsmonitor off and a timeout."""

from __future__ import annotations

import functools
import gc
import json
import multiprocessing
import os
import subprocess
import tempfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from snitch.names import is_dns_label
from snitch.results import Report
from snitch.standards import Standards

MAX_LIST_BYTES = 1024 * 1024
CLONE_TIMEOUT_S = 120
_URL_PREFIXES = ("https://", "http://", "ssh://", "git@", "file://")
# Nothing from the cloned repository or the machine's git templates may run during the clone.
_SAFE_GIT = (
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.fsmonitor=false",
    "-c", "protocol.ext.allow=never",
    "-c", "submodule.recurse=false",
)


class FleetError(Exception):
    """The list of projects cannot be used (exit status 2)."""


@dataclass
class Entry:
    """One project of the fleet: its report, or why it could not be checked."""

    source: str
    report: Report | None = None
    problem: str | None = None
    encoded: str | None = None  # as_dict() as indented JSON, when the worker that checked it was asked (Fleet.json)

    @property
    def state(self) -> str:
        if self.report is None:
            return "not checkable"
        return "failed" if self.report.failed else "passed"

    def as_dict(self) -> dict:
        if self.report is not None:
            return {"source": self.source, **self.report.as_dict()}
        return {"source": self.source, "path": self.source, "model": None, "error": self.problem, "summary": None, "checks": []}


@dataclass
class Fleet:
    standards: Standards
    entries: list[Entry] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(entry.state != "passed" for entry in self.entries)

    def columns(self) -> list[int]:
        """The standards, plus 0 (waivers naming no standard) when some project has such a finding."""
        numbers = list(self.standards.standards)
        if any(r.standard == 0 for entry in self.entries if entry.report for r in entry.report.results):
            numbers.insert(0, 0)
        return numbers

    def cell(self, entry: Entry, standard: int) -> str:
        """failed, error, waived, passed or skipped: the worst outcome of the standard's checks."""
        outcomes = {r.outcome for r in entry.report.results if r.standard == standard} if entry.report else set()
        for outcome in ("error", "failed", "waived", "passed"):
            if outcome in outcomes:
                return outcome
        return "skipped"

    def compliance(self, standard: int) -> float | None:
        """Share of checked projects with no failed check of the standard (a waived one complies)."""
        cells = [self.cell(entry, standard) for entry in self.entries if entry.report]
        return None if not cells else sum(cell not in ("failed", "error") for cell in cells) / len(cells)

    def summary(self) -> dict:
        states = [entry.state for entry in self.entries]
        return {
            "projects": len(self.entries),
            "passed": states.count("passed"),
            "failed": states.count("failed"),
            "not_checkable": states.count("not checkable"),
            "waived": sum(entry.report.counts()["waived"] for entry in self.entries if entry.report),
            "standards": {
                str(number): {"title": self.title(number), "compliance": self.compliance(number)} for number in self.columns()
            },
        }

    def title(self, standard: int) -> str:
        return self.standards[standard].title if standard in self.standards.standards else "Waivers"

    def as_dict(self) -> dict:
        return {"projects": [entry.as_dict() for entry in self.entries], "summary": self.summary()}

    def json(self) -> str:
        """as_dict() as `json.dumps(..., indent=2)` writes it, from each entry's own encoding where
        its worker made one: the workers encode in parallel what this process would otherwise
        encode alone at the end (Python's encoder is slow with indent: ~30 ms for 100 projects)."""
        if not self.entries:
            return json.dumps(self.as_dict(), indent=2)
        encoded = [entry.encoded or json.dumps(entry.as_dict(), indent=2) for entry in self.entries]
        projects = ",\n".join("    " + text.replace("\n", "\n    ") for text in encoded)  # JSON escapes newlines in strings
        summary = json.dumps(self.summary(), indent=2).replace("\n", "\n  ")
        return f'{{\n  "projects": [\n{projects}\n  ],\n  "summary": {summary}\n}}'


def read_list(path: str | os.PathLike) -> list[str]:
    """Paths or git URLs, one a line; blank lines and `#` comments are ignored."""
    file = Path(path)
    try:
        if not file.is_file():
            raise FleetError(f"{file} is not a file; --from takes a text file listing one path or git URL a line")
        with file.open("rb") as handle:
            data = handle.read(MAX_LIST_BYTES + 1)
    except OSError as error:
        raise FleetError(f"cannot read {file}: {error.strerror or error}") from None
    if len(data) > MAX_LIST_BYTES:
        raise FleetError(f"{file} is larger than {MAX_LIST_BYTES // 1024} KiB; list one path or git URL a line")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise FleetError(f"{file} is not UTF-8 text; list one path or git URL a line") from None
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def is_git_url(source: str) -> bool:
    return source.startswith(_URL_PREFIXES)


def clone(url: str, workdir: Path) -> Path:
    """A shallow clone of `url`'s default branch inside `workdir`; raises FleetError on failure."""
    if url.startswith("-"):
        raise FleetError(f"{url!r} is not a git URL")
    target = Path(tempfile.mkdtemp(prefix="project-", dir=workdir)) / "checkout"
    environment = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}
    command = ["git", *_SAFE_GIT, "clone", "--quiet", "--depth", "1", "--single-branch", "--no-tags",
               "--template=", "--", url, str(target)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=CLONE_TIMEOUT_S, env=environment)
    except subprocess.TimeoutExpired:
        raise FleetError(f"git clone {url} took longer than {CLONE_TIMEOUT_S} s") from None
    except OSError as error:
        raise FleetError(f"git could not run: {error}") from None
    if done.returncode != 0:
        raise FleetError(f"git clone {url} failed: {done.stderr.strip()[-500:]}")
    return target


def check_project(source: str, standards: Standards, workdir: Path) -> Entry:
    from snitch.project import Project
    from snitch.runner import declared_model_name, run_checks

    try:
        folder = clone(source, workdir) if is_git_url(source) else Path(source)
    except FleetError as error:
        return Entry(source, problem=str(error))
    if not folder.is_dir():
        return Entry(source, problem="no such folder")
    project = Project(folder, "")
    model = declared_model_name(project)
    if model is None or not is_dns_label(model):
        return Entry(source, problem="its .gitlab-ci.yml declares no valid model_name input, so snitch cannot tell which model it is")
    project.model = model
    run = run_checks(project, standards)
    project.forget()  # so the collection after each project has little to walk (_check_then_collect)
    if run.errors:
        return Entry(source, problem="; ".join(run.errors))
    report = run.report
    if is_git_url(source):
        report.path = source  # the temporary clone's path means nothing to a reader
    return Entry(source, report)


def _check_then_collect(source: str, standards: Standards, workdir: Path, encode: bool = False) -> Entry:
    """check_project with Python's cyclic garbage collector paused, then one collection of what
    the project left. Left on, the collector runs some 20 times a project, a few of them over
    everything alive, for about an eighth of the CPU (docs/platform.md). What survives (modules
    imported on the way, their caches) is frozen, so the next collection skips it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        entry = check_project(source, standards, workdir)
        if encode:
            entry.encoded = json.dumps(entry.as_dict(), indent=2)
        return entry
    finally:
        if enabled:
            gc.enable()
        gc.collect()
        gc.freeze()


def check_fleet(sources: list[str], standards: Standards, progress=None, jobs: int = 1, encode: bool = False) -> Fleet:
    """Every source checked, in `jobs` worker processes (1: in this process); the entries keep the
    sources' order, and `progress(entry)` is called as each one is done. With `encode`, each entry
    is also encoded as JSON where it was checked (see Fleet.json)."""
    fleet = Fleet(standards)
    # Everything loaded so far (snitch, the standards) lives as long as the run: frozen, the
    # collection after each project only looks at that project's objects, in forked workers too;
    # thawed at the end, for a caller that goes on.
    gc.freeze()
    try:
        _check_all(fleet, sources, progress, jobs, encode)
    finally:
        gc.unfreeze()
    return fleet


def _check_all(fleet: Fleet, sources: list[str], progress, jobs: int, encode: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="snitch-fleet-") as workdir:
        check = functools.partial(_check_then_collect, standards=fleet.standards, workdir=Path(workdir), encode=encode)
        if jobs > 1 and len(sources) > 1:
            # fork: the workers start with snitch, the check modules and `check` (with the
            # standards) already in memory, so a task is only a source: handed out one at a
            # time, no worker idles at the end while another finishes a batch
            context = multiprocessing.get_context("fork")
            workers = min(jobs, len(sources))
            with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(check,)) as pool:
                _collect(fleet, pool.map(_check_in_worker, sources), progress)
        else:
            _collect(fleet, map(check, sources), progress)


_worker_check = None  # a forked worker's `check`, set once by _start_worker


def _start_worker(check) -> None:
    global _worker_check
    _worker_check = check


def _check_in_worker(source: str) -> Entry:
    return _worker_check(source)


def _collect(fleet: Fleet, entries, progress) -> None:
    for entry in entries:
        fleet.entries.append(entry)
        if progress:
            progress(entry)
