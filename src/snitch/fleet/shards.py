"""`snitch fleet --merge SHARD.json...`: the JSON reports of several `snitch fleet` runs (the shards
of ci/fleet.yml's matrix) made into one fleet, for one page and one history entry.

A shard is a file another job wrote, so it is read as untrusted data: bounded in size and count,
and every field the page or the history uses is checked for its type and range before it is used;
anything else is a FleetError naming the shard and the field (exit status 2)."""

from __future__ import annotations

import os
import re
from datetime import date, datetime

from snitch.engine.results import OUTCOMES, CheckResult, Report
from snitch.engine.waivers import Waiver
from snitch.facts.names import is_dns_label, model_name_problem
from snitch.fleet.check import Entry, Fleet, FleetError, parse_date, redact
from snitch.read import files
from snitch.standards.document import Standards

MAX_SHARD_BYTES = 64 * 1024 * 1024  # 300 projects with long messages are a few MiB
MAX_PROJECTS = 100_000
MAX_CHECKS = 10_000  # a project's checks; snitch has about fifty
MAX_TEXT = 1024 * 1024  # one message, path or reason
_CHECK_NAME = re.compile(r"^\w{1,200}\Z")


class _Bad(ValueError):
    """A field of a shard that cannot be used; the message says where and why."""


def merge(paths: list[str | os.PathLike], standards: Standards) -> Fleet:
    """One fleet of every shard's projects, in the shards' order, dated by the earliest shard
    (no project in it was checked before then)."""
    if not paths:
        raise FleetError("name the shards to merge: snitch fleet --merge SHARD.json...")
    fleet, dates = Fleet(standards), []
    for path in paths:
        try:
            generated, entries = _read(path, standards)
        except _Bad as problem:
            raise FleetError(f"shard {path}: {problem}; merge the JSON reports `snitch fleet --format json` wrote") from None
        dates.append(generated)
        fleet.entries += entries
        if len(fleet.entries) > MAX_PROJECTS:
            raise FleetError(f"the shards hold more than {MAX_PROJECTS} projects")
    fleet.generated = min(dates)
    return fleet


def _read(path, standards: Standards) -> tuple[datetime, list[Entry]]:
    try:
        data = files.load_json(path, MAX_SHARD_BYTES)
    except files.Unreadable as problem:
        raise _Bad(str(problem)) from None
    if not isinstance(data, dict):
        raise _Bad("is not a JSON object")
    generated = _text(data, "generated", 40)
    when = parse_date(generated)
    if when is None:
        raise _Bad(f"has `generated` {generated!r}, not a date like 2026-12-06T02:00:00Z")
    config = data.get("config")
    version = _text(config, "standards_version", 40) if isinstance(config, dict) else None
    if version != standards.version:
        raise _Bad(f"was checked against Model Standards version {version!r}, this snitch has {standards.version!r}")
    projects = data.get("projects")
    if not isinstance(projects, list) or len(projects) > MAX_PROJECTS:
        raise _Bad(f"has no `projects` list of at most {MAX_PROJECTS}")
    entries = []
    for index, project in enumerate(projects):
        try:
            entries.append(_entry(project))
        except _Bad as problem:
            raise _Bad(f"project {index + 1}: {problem}") from None
    return when, entries


def _entry(project: object) -> Entry:
    if not isinstance(project, dict):
        raise _Bad("is not a JSON object")
    source = redact(_text(project, "source"))
    team = project.get("team")
    if team is not None and not is_dns_label(team):
        raise _Bad("has a `team` that is not a team name")
    if project.get("model") is None:
        return Entry(source, problem=_text(project, "error"), team=team)
    model = project["model"]
    if model_name_problem(model):  # the rule `snitch fleet` holds a checked project's name to
        raise _Bad("has a `model` that is not a model name")
    checks = project.get("checks")
    if not isinstance(checks, list) or len(checks) > MAX_CHECKS:
        raise _Bad(f"has no `checks` list of at most {MAX_CHECKS}")
    summary = project.get("summary")
    declared = _count(summary, "waivers") if isinstance(summary, dict) else None
    if declared is None:
        raise _Bad("has no `summary` with the number of `waivers` declared")
    results = [_result(check, number) for number, check in enumerate(checks, 1)]
    report = Report(model, redact(_text(project, "path")), _text(project, "standards_version", 40), results, declared,
                    config=_config_facts(project.get("config")))
    return Entry(source, report, team=team)


def _config_facts(config: object) -> dict | None:
    """The config a shard's project was checked with (snitch.standards.document.Standards.config_facts);
    None from a shard written before reports carried it."""
    if config is None:
        return None
    if not isinstance(config, dict):
        raise _Bad("has a `config` that is not an object")
    facts = {}
    for key in ("path", "source", "project_copy_note"):
        facts[key] = None if config.get(key) is None else redact(_text(config, key))
    return facts


def _result(check: object, number: int) -> CheckResult:
    if not isinstance(check, dict):
        raise _Bad(f"check {number} is not a JSON object")
    standard = _count(check, "standard", 9999)
    name = _text(check, "check", 200)
    outcome = check.get("outcome")
    if not _CHECK_NAME.match(name) or outcome not in OUTCOMES or standard is None:
        raise _Bad(f"check {number} has no valid `standard`, `check` and `outcome`")
    file, line = check.get("file"), check.get("line")
    if not (file is None or isinstance(file, str) and len(file) <= MAX_TEXT) or not (line is None or _count(check, "line")):
        raise _Bad(f"check {number} has a `file` or `line` that is not a path and a line number")
    return CheckResult(standard, name, outcome, _text(check, "message"), _text(check, "url"), file, line,
                       _waiver(check.get("waiver"), standard, number))


def _waiver(data: object, standard: int, number: int) -> Waiver | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise _Bad(f"check {number} has a `waiver` that is not a JSON object")
    key, reason, expires = _text(data, "key", 300), _text(data, "reason"), _text(data, "expires", 10)
    try:
        until = date.fromisoformat(expires)
    except ValueError:
        raise _Bad(f"check {number} has a waiver that expires on {expires!r}, not a date") from None
    return Waiver(key, standard, key.partition(".")[2] or None, reason, until)


def _text(data: dict, key: str, most: int = MAX_TEXT) -> str:
    value = data.get(key)
    if not isinstance(value, str) or len(value) > most:
        raise _Bad(f"has no `{key}` text of at most {most} characters")
    return value


def _count(data: dict, key: str, most: int = 10**9) -> int | None:
    value = data.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= most else None
