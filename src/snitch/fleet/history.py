"""`snitch fleet --history DIR`: each run's summary kept as one small JSON file in DIR, and the
page's charts of compliance over time, per standard and per team (inline SVG, drawn here).

DIR is shared between scheduled runs (ci/fleet.yml keeps it in the CI cache), so whatever is in it
is read as untrusted data: only files named like the ones written here, regular files (no
symlink is followed), bounded in size and number, schema-checked field by field; nothing in them
is ever run or rendered as markup. A file that does not pass is renamed `*.corrupt` with a
warning, so the next run does not trip over it again; the newest MAX_RUNS runs are kept."""

from __future__ import annotations

import json
import os
import re
from html import escape
from pathlib import Path
from typing import Callable

from snitch.facts.names import is_dns_label
from snitch.fleet.check import NO_TEAM, Fleet, date_text, parse_date
from snitch.read import files

SCHEMA = "snitch-fleet-history/1"
MAX_RUNS = 400  # more than a year of nightly runs
MAX_ENTRY_BYTES = 256 * 1024  # a summary of 100 standards and 1,000 teams is under 100 KiB
MAX_LISTED = 100_000  # directory entries looked at; DIR holds MAX_RUNS files and a few set aside
MAX_COUNT = 1_000_000  # projects in one fleet
_MAX_STANDARDS, _MAX_TEAMS, _MAX_VERSION_CHARS = 200, 2_000, 40
_NAME = re.compile(r"^run-(\d{8}T\d{6}Z)(?:-(\d{1,3}))?\.json\Z")
_STANDARD_KEY = re.compile(r"^\d{1,4}\Z")
_STATES = ("passed", "failed", "not_checkable")

Warn = Callable[[str], None]


class HistoryError(Exception):
    """DIR cannot be used for the history (exit status 2)."""


class _Invalid(ValueError):
    """What is wrong with one history file."""


def summary_of(fleet: Fleet) -> dict:
    """What a run keeps: its date, the standards version, and the compliance counts per standard
    and per team."""
    summary = fleet.summary()
    return {
        "schema": SCHEMA,
        "generated": date_text(fleet.generated),
        "standards_version": fleet.standards.version,
        "projects": summary["projects"],
        **{state: summary[state] for state in _STATES},
        "standards": {key: {"compliant": value["compliant"]} for key, value in summary["standards"].items()},
        "teams": {team: {"projects": counts["projects"], "passed": counts["passed"]}
                  for team, counts in summary["teams"].items()},
    }


def prepare(directory: str | os.PathLike) -> Path:
    """DIR, created if needed; HistoryError when it is not a folder snitch can write."""
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise HistoryError(f"cannot create the history folder {folder}: {error.strerror or error}") from None
    if not folder.is_dir():
        raise HistoryError(f"{folder} is not a folder; --history takes a folder that keeps one file a run")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise HistoryError(f"cannot write in the history folder {folder} (permission denied)")
    return folder


def record(directory: Path, fleet: Fleet, warn: Warn) -> list[dict]:
    """Add this run's summary to DIR and return every kept run's summary, oldest first."""
    runs = read(directory, warn)
    summary = summary_of(fleet)
    _write(directory, summary)
    runs.append(summary)
    runs.sort(key=lambda run: run["generated"])
    _prune(directory, warn)
    return runs[-MAX_RUNS:]


def read(directory: Path, warn: Warn) -> list[dict]:
    """The valid summaries in DIR, oldest first; every other file named like one is set aside."""
    runs = []
    for name in _names(directory, warn)[-MAX_RUNS:]:
        path = directory / name
        try:
            runs.append(_load(path))
        except _Invalid as problem:
            _set_aside(path, str(problem), warn)
    return sorted(runs, key=lambda run: run["generated"])


def _names(directory: Path, warn: Warn) -> list[str]:
    """The history files' names in DIR, oldest first (their names sort by date)."""
    names = []
    try:
        with os.scandir(directory) as listing:
            for seen, item in enumerate(listing):
                if seen >= MAX_LISTED:
                    warn(f"history folder {directory} holds more than {MAX_LISTED} entries; the rest are ignored")
                    break
                if _NAME.match(item.name):
                    names.append(item.name)
    except OSError as error:
        raise HistoryError(f"cannot list the history folder {directory}: {error.strerror or error}") from None
    return sorted(names)


def _load(path: Path) -> dict:
    if path.is_symlink():
        raise _Invalid("is a symbolic link")
    try:
        data = files.load_json(path, MAX_ENTRY_BYTES)
    except files.Unreadable as problem:
        raise _Invalid(str(problem)) from None
    return validate(data)


def validate(data: object) -> dict:
    """A run's summary with exactly the fields SCHEMA defines, each checked; _Invalid otherwise."""
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        raise _Invalid(f"is not a {SCHEMA} summary")
    generated = data.get("generated")
    if parse_date(generated) is None:
        raise _Invalid(f"has `generated` {str(generated)[:40]!r}, not a date like 2026-12-06T02:00:00Z")
    version = data.get("standards_version")
    if not isinstance(version, str) or not 0 < len(version) <= _MAX_VERSION_CHARS or not version.isprintable():
        raise _Invalid("has no usable `standards_version`")
    projects = _count(data, "projects")
    states = {state: _count(data, state) for state in _STATES}
    if sum(states.values()) != projects:
        raise _Invalid("has passed + failed + not_checkable different from projects")
    standards = _mapping(data, "standards", _MAX_STANDARDS)
    teams = _mapping(data, "teams", _MAX_TEAMS)
    clean_standards = {}
    for key, value in standards.items():
        if not _STANDARD_KEY.match(key) or not isinstance(value, dict):
            raise _Invalid(f"has a standard {key!r} that is not a standard number with its counts")
        clean_standards[key] = {"compliant": _count(value, "compliant", projects)}
    clean_teams = {}
    for team, value in teams.items():
        if not (is_dns_label(team) or team == NO_TEAM) or not isinstance(value, dict):
            raise _Invalid(f"has a team {team[:80]!r} that is not a team name with its counts")
        team_projects = _count(value, "projects", projects)
        clean_teams[team] = {"projects": team_projects, "passed": _count(value, "passed", team_projects)}
    return {"schema": SCHEMA, "generated": generated, "standards_version": version, "projects": projects, **states,
            "standards": clean_standards, "teams": clean_teams}


def _count(data: dict, key: str, most: int = MAX_COUNT) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= most:
        raise _Invalid(f"has `{key}` {str(value)[:40]!r}, not a count from 0 to {most}")
    return value


def _mapping(data: dict, key: str, most: int) -> dict:
    value = data.get(key)
    if not isinstance(value, dict) or len(value) > most:
        raise _Invalid(f"has no `{key}` mapping of at most {most} entries")
    return value


def _set_aside(path: Path, problem: str, warn: Warn) -> None:
    aside = path.with_name(path.name + ".corrupt")
    try:
        os.replace(path, aside)  # renames a symlink itself, never its target
    except OSError as error:
        warn(f"history file {path} {problem}; ignored (could not rename it: {error.strerror or error})")
        return
    warn(f"history file {path} {problem}; ignored and renamed {aside.name}")


def _write(directory: Path, summary: dict) -> Path:
    """The summary in a new file named after its date; never over an existing file or through a symlink."""
    stamp = summary["generated"].replace("-", "").replace(":", "")
    data = json.dumps(summary, indent=1).encode("utf-8")
    for attempt in range(1000):
        path = directory / (f"run-{stamp}.json" if attempt == 0 else f"run-{stamp}-{attempt}.json")
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except FileExistsError:
            continue
        except OSError as error:
            raise HistoryError(f"cannot write {path}: {error.strerror or error}") from None
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        return path
    raise HistoryError(f"the history folder {directory} already holds 1,000 runs of {summary['generated']}")


def _prune(directory: Path, warn: Warn) -> None:
    """Keep the newest MAX_RUNS runs (and as many set-aside files)."""
    names = _names(directory, warn)
    try:
        corrupt = sorted(name for name in os.listdir(directory) if name.endswith(".corrupt") and _NAME.match(name[:-8]))
    except OSError as error:
        raise HistoryError(f"cannot list the history folder {directory}: {error.strerror or error}") from None
    for name in names[:-MAX_RUNS] + corrupt[:-MAX_RUNS]:
        try:
            (directory / name).unlink()  # a symlink is removed itself, its target left alone
        except OSError as error:
            warn(f"cannot remove the old history file {directory / name}: {error.strerror or error}")


# The charts: one small line chart a standard and a team, compliance (0-100 %) against the runs.
_WIDTH, _HEIGHT, _LEFT, _TOP, _BOTTOM = 260, 110, 36, 10, 24
_MAX_MARKERS = 60  # beyond this a point a run is noise: the line alone


def section(runs: list[dict], fleet: Fleet) -> str:
    """The page's "Compliance over time" section: charts per standard and per team."""
    if not runs:
        return ""
    numbers = sorted({int(key) for run in runs for key in run["standards"]})
    teams = sorted({team for run in runs for team in run["teams"]})
    standard_charts = "".join(
        _chart(f"{number}. {_title(fleet, number)}",
               [(run["generated"], run["standards"][str(number)]["compliant"], run["projects"])
                if str(number) in run["standards"] else (run["generated"], None, None) for run in runs])
        for number in numbers
    )
    team_charts = "".join(
        _chart(f"team {team}", [(run["generated"], run["teams"][team]["passed"], run["teams"][team]["projects"])
                                if team in run["teams"] else (run["generated"], None, None) for run in runs])
        for team in teams
    )
    first, last = runs[0]["generated"][:10], runs[-1]["generated"][:10]
    return (
        f'<h2 id="history">Compliance over time</h2><p>{len(runs)} run(s) from {first} to {last}: the share of '
        "projects that comply with each standard, and of each team's projects that pass every standard.</p>"
        f'<h3>Per standard</h3><div class="charts">{standard_charts}</div>'
        f'<h3>Per team</h3><div class="charts">{team_charts}</div>'
    )


def _title(fleet: Fleet, number: int) -> str:
    """A standard's title; a number an older run kept and today's document no longer has is said so."""
    return fleet.title(number) if number in fleet.standards.standards or number == 0 else "(not in this standards version)"


def _now(points: list[tuple[str, int | None, int | None]]) -> str:
    """The latest value, and how it moved since the run before it ("75% now, +25 points")."""
    shares = [compliant / total for _, compliant, total in points if compliant is not None and total]
    if not shares:
        return "no value in the kept runs"
    if len(shares) == 1:
        return f"{shares[-1]:.0%} now"
    change = round(shares[-1] * 100) - round(shares[-2] * 100)
    return f"{shares[-1]:.0%} now, {change:+d} points since the run before" if change else f"{shares[-1]:.0%} now, unchanged"


def _chart(title: str, points: list[tuple[str, int | None, int | None]]) -> str:
    """An SVG line chart of (date, compliant, of) points, evenly spaced; a gap where a run had no value."""
    plot_width, plot_height = _WIDTH - _LEFT - 8, _HEIGHT - _TOP - _BOTTOM
    step = plot_width / max(len(points) - 1, 1)
    segments, current, markers = [], [], []
    for index, (when, compliant, total) in enumerate(points):
        if compliant is None or not total:
            if current:
                segments.append(current)
            current = []
            continue
        share = compliant / total
        x, y = _LEFT + index * step, _TOP + (1 - share) * plot_height
        current.append(f"{x:.1f},{y:.1f}")
        if len(points) <= _MAX_MARKERS or index == len(points) - 1:
            markers.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5"><title>{escape(when[:10])}: '
                           f"{share:.0%} ({compliant} of {total})</title></circle>")
    if current:
        segments.append(current)
    lines = "".join(f'<polyline points="{" ".join(segment)}"/>' for segment in segments)
    grid = "".join(
        f'<line x1="{_LEFT}" x2="{_WIDTH - 8}" y1="{_TOP + (1 - level) * plot_height:.1f}" y2="{_TOP + (1 - level) * plot_height:.1f}"/>'
        f'<text x="{_LEFT - 4}" y="{_TOP + (1 - level) * plot_height + 4:.1f}" text-anchor="end">{level:.0%}</text>'
        for level in (0, 0.5, 1)
    )
    now = _now(points)
    label = escape(f"{title}: compliance over {len(points)} run(s), {now}", quote=True)
    dates = (f'<text x="{_LEFT}" y="{_HEIGHT - 6}">{escape(points[0][0][:10])}</text>'
             f'<text x="{_WIDTH - 8}" y="{_HEIGHT - 6}" text-anchor="end">{escape(points[-1][0][:10])}</text>')
    return (
        f'<figure><svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{_WIDTH}" height="{_HEIGHT}" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" role="img" aria-label="{label}">'
        f'<g class="grid">{grid}</g>{dates}<g class="line">{lines}{"".join(markers)}</g></svg>'
        f"<figcaption>{escape(title)}: {escape(now)}</figcaption></figure>"
    )
