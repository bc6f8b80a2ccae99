"""`snitch fleet`: check many model projects in one process and report which break which standard.

Each project is checked with the model name its .gitlab-ci.yml declares and with its own waivers;
a project that declares none, cannot be reached, or makes snitch fail, is reported as not
checkable with the reason, and the rest of the fleet is still checked. Git URLs are cloned
shallowly into a temporary folder with hooks and fsmonitor off and a timeout; the credentials a
URL may carry are never shown (redact)."""

from __future__ import annotations

import functools
import gc
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from snitch.engine.results import Report
from snitch.facts import gitlab_ci, service_settings
from snitch.facts.names import model_name_problem
from snitch.standards.document import Standards
from snitch.violation import FileProblem

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


# The user-information part of a URL (`https://user:token@host/...`): git accepts a password or a
# token there, and none of it may reach a report, a log or an error message.
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s]*@")
# The organisation's parameters a fleet report shows with the config file it was checked with.
SHOWN_PARAMETERS = ("bucket", "docs_url", "mandatory", "teams", "coverage_floor")
DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
NO_TEAM = "(no team)"  # not a DNS label, so no team standard 11 accepts is called that


class FleetError(Exception):
    """The list of projects cannot be used (exit status 2)."""


def redact(text: str) -> str:
    """`text` with the credentials of every URL in it removed (`https://host/...`)."""
    return _URL_CREDENTIALS.sub(r"\1", text)


def repository_link(source: str) -> str | None:
    """Where a reader can open the project: its http(s) git URL without credentials; None for a
    local folder or a URL a browser cannot open (ssh, scp-like `git@`, file)."""
    shown = redact(source)
    return shown if shown.lower().startswith(("https://", "http://")) else None


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def date_text(moment: datetime) -> str:
    """How the reports and the history write when a fleet was checked: 2026-12-06T02:00:00Z."""
    return moment.strftime(DATE_FORMAT)


def parse_date(text: object) -> datetime | None:
    """The moment date_text wrote, in UTC; None for anything else."""
    if not isinstance(text, str) or len(text) != len("2026-12-06T02:00:00Z"):
        return None
    try:
        return datetime.strptime(text, DATE_FORMAT).replace(tzinfo=timezone.utc)
    except ValueError:
        return None


def team_of(project) -> str | None:
    """The team the project declares for standard 11 (include input or variable, as standard 11
    reads it), when it is a valid team name."""
    team = service_settings.FIELDS_BY_NAME["team"]
    try:
        declared = gitlab_ci.setting(gitlab_ci.document(project), team.name, team.variable)
        return service_settings.parse_field(team, declared.value) if declared is not None else None
    except (FileProblem, service_settings.ServiceProblem):
        return None


@dataclass
class Entry:
    """One project of the fleet: its report, or why it could not be checked."""

    source: str  # as listed, credentials removed
    report: Report | None = None
    problem: str | None = None
    team: str | None = None  # standard 11's team, when the project declares a valid one
    encoded: str | None = None  # as_dict() as indented JSON, when the worker that checked it was asked (Fleet.json)

    @property
    def repository(self) -> str | None:
        return repository_link(self.source)

    @property
    def label(self) -> str:
        """How reports name the project: its model and where it is, so copies of one model differ."""
        return f"{self.report.model} ({self.source})" if self.report else self.source

    @property
    def state(self) -> str:
        if self.report is None:
            return "not checkable"
        return "failed" if self.report.failed else "passed"

    def as_dict(self) -> dict:
        where = {"source": self.source, "repository": self.repository, "team": self.team}
        if self.report is not None:
            return {**where, **self.report.as_dict()}
        return {**where, "path": self.source, "model": None, "error": self.problem, "summary": None, "checks": []}


@dataclass
class Fleet:
    standards: Standards
    entries: list[Entry] = field(default_factory=list)
    generated: datetime = field(default_factory=utc_now)  # when the projects were checked (UTC)

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
        """failed, error, waived, passed or skipped: the worst outcome of the standard's checks;
        unknown for a project that could not be checked."""
        if entry.report is None:
            return "unknown"
        outcomes = {r.outcome for r in entry.report.results if r.standard == standard}
        for outcome in ("error", "failed", "waived", "passed"):
            if outcome in outcomes:
                return outcome
        return "skipped"

    def compliant(self, standard: int) -> int:
        """Projects with no failed check of the standard (a waived one complies); a project that
        could not be checked is not known to comply, so it does not."""
        return sum(self.cell(entry, standard) not in ("failed", "error", "unknown") for entry in self.entries)

    def compliance(self, standard: int) -> float | None:
        """Share of all the projects that comply with the standard (None: no projects)."""
        return self._share(self.compliant(standard))

    def overall_compliance(self) -> float | None:
        """Share of all the projects that pass every standard (None: no projects)."""
        return self._share(sum(entry.state == "passed" for entry in self.entries))

    def _share(self, count: int) -> float | None:
        return count / len(self.entries) if self.entries else None

    def teams(self) -> dict[str, dict[str, int]]:
        """Per team (NO_TEAM for the projects that declare none): how many projects, and in which state."""
        teams: dict[str, dict[str, int]] = {}
        for entry in sorted(self.entries, key=lambda entry: entry.team or NO_TEAM):
            counts = teams.setdefault(entry.team or NO_TEAM, {"projects": 0, "passed": 0, "failed": 0, "not_checkable": 0})
            counts["projects"] += 1
            counts[entry.state.replace(" ", "_")] += 1
        return teams

    def summary(self) -> dict:
        states = [entry.state for entry in self.entries]
        return {
            "projects": len(self.entries),
            "passed": states.count("passed"),
            "failed": states.count("failed"),
            "not_checkable": states.count("not checkable"),
            "compliance": self.overall_compliance(),
            "waived": sum(entry.report.counts()["waived"] for entry in self.entries if entry.report),
            "standards": {
                str(number): {"title": self.title(number), "compliance": self._share(compliant), "compliant": compliant}
                for number, compliant in ((number, self.compliant(number)) for number in self.columns())
            },
            "teams": self.teams(),
        }

    def title(self, standard: int) -> str:
        return self.standards[standard].title if standard in self.standards.standards else "Waivers"

    def config(self) -> dict:
        """The configuration the fleet was checked with: its file and the values a reader asks about."""
        parameters = self.standards.parameters
        return {
            "file": str(self.standards.config) if self.standards.config else None,
            "standards_version": self.standards.version,
            **{key: parameters.get(key) for key in SHOWN_PARAMETERS},
        }

    def heading(self) -> dict:
        """What the JSON report says before the projects."""
        return {"generated": date_text(self.generated), "config": self.config()}

    def as_dict(self) -> dict:
        return {**self.heading(), "projects": [entry.as_dict() for entry in self.entries], "summary": self.summary()}

    def json(self) -> str:
        """as_dict() as `json.dumps(..., indent=2)` writes it, from each entry's own encoding where
        its worker made one: the workers encode in parallel what this process would otherwise
        encode alone at the end (Python's encoder is slow with indent: ~30 ms for 100 projects)."""
        if not self.entries:
            return json.dumps(self.as_dict(), indent=2)
        heading = "".join(f'  "{key}": ' + json.dumps(value, indent=2).replace("\n", "\n  ") + ",\n"
                          for key, value in self.heading().items())
        encoded = [entry.encoded or json.dumps(entry.as_dict(), indent=2) for entry in self.entries]
        projects = ",\n".join("    " + text.replace("\n", "\n    ") for text in encoded)  # JSON escapes newlines in strings
        summary = json.dumps(self.summary(), indent=2).replace("\n", "\n  ")
        return f'{{\n{heading}  "projects": [\n{projects}\n  ],\n  "summary": {summary}\n}}'


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
    """A shallow clone of `url`'s default branch inside `workdir`; raises FleetError on failure
    (its message never holds the URL's credentials, nor git's, which may repeat them)."""
    if url.startswith("-"):
        raise FleetError(f"{redact(url)!r} is not a git URL")
    target = Path(tempfile.mkdtemp(prefix="project-", dir=workdir)) / "checkout"
    environment = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_CONFIG_NOSYSTEM": "1"}
    command = ["git", *_SAFE_GIT, "clone", "--quiet", "--depth", "1", "--single-branch", "--no-tags",
               "--template=", "--", url, str(target)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=CLONE_TIMEOUT_S, env=environment)
    except subprocess.TimeoutExpired:
        raise FleetError(f"git clone {redact(url)} took longer than {CLONE_TIMEOUT_S} s") from None
    except OSError as error:
        raise FleetError(f"git could not run: {error}") from None
    if done.returncode != 0:
        raise FleetError(redact(f"git clone {url} failed: {done.stderr.strip()[-500:]}"))
    return target


def check_project(source: str, standards: Standards, workdir: Path) -> Entry:
    """The project's entry; whatever goes wrong makes it a not-checkable entry with the reason,
    never an exception that would end the whole fleet's run."""
    shown = redact(source)
    clone_dir = None
    try:
        if is_git_url(source):
            folder = clone_dir = clone(source, workdir)
        else:
            folder = Path(source)
        return _check_folder(folder, shown, standards, cloned=clone_dir is not None)
    except FleetError as error:
        return Entry(shown, problem=str(error))
    except Exception as error:  # a bug in snitch, met on this project only: the others are still checked
        return Entry(shown, problem=redact(f"snitch internal error: {type(error).__name__}: {str(error)[:500]}"))
    finally:
        if clone_dir is not None:  # 300 clones must not pile up until the end of the run
            shutil.rmtree(clone_dir.parent, ignore_errors=True)


def _check_folder(folder: Path, shown: str, standards: Standards, cloned: bool) -> Entry:
    from snitch.engine.runner import declared_model_name, no_model_name_reason, run_checks
    from snitch.read.project import Project

    if not folder.is_dir():
        return Entry(shown, problem="no such folder")
    project = Project(folder, "")
    try:
        model = declared_model_name(project)
        if model is None:
            return Entry(shown, problem=f"{no_model_name_reason(project)}, so snitch cannot tell which model it is")
        naming = model_name_problem(model)
        if naming:  # `snitch` in the project fails standard 9 for it; the fleet cannot name a row by it
            return Entry(shown, problem=f"its .gitlab-ci.yml's model_name breaks the naming rule: {naming}")
        project.model = model
        run = run_checks(project, standards)
        if run.errors:
            return Entry(shown, problem=redact("; ".join(run.errors)))
        report = run.report
        if cloned:
            report.path = shown  # the temporary clone's path means nothing to a reader
        return Entry(shown, report, team=team_of(project))
    finally:
        project.forget()  # so the collection after each project has little to walk (_check_then_collect)


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
            # handed out one at a time: no worker idles at the end while another finishes a batch
            try:
                with _pool(min(jobs, len(sources)), check) as pool:
                    _collect(fleet, pool.map(_check_in_worker, sources), progress)
            except BrokenProcessPool:
                # A worker died (killed for memory, a crash in a C parser): the projects not
                # yet collected are checked again one by one, each in a worker of its own, so
                # only the one that kills its worker again is reported, not the whole run.
                _collect(fleet, (_check_alone(source, check) for source in sources[len(fleet.entries):]), progress)
        else:
            _collect(fleet, map(check, sources), progress)


def _pool(workers: int, check) -> ProcessPoolExecutor:
    """Forked workers that start with snitch, the check modules and `check` (with the standards)
    already in memory, so a task is only a source."""
    context = multiprocessing.get_context("fork")
    return ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(check,))


def _check_alone(source: str, check) -> Entry:
    try:
        with _pool(1, check) as pool:
            return pool.submit(_check_in_worker, source).result()
    except BrokenProcessPool:
        return Entry(redact(source), problem="snitch's worker process died while checking it (out of memory, or a crash in a parser)")


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
