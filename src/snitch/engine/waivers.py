"""Waivers: a project's temporary, reasoned exceptions to a check or a whole standard.

Declared in the project's `pyproject.toml`:

    [tool.snitch.waivers."3"]                              # all of standard 3
    reason = "moving the docs to the new wiki (ML-42)"
    expires = 2027-01-31                                   # a TOML date, or "2027-01-31"

    [tool.snitch.waivers."6.test_model_label_is_model_name"]   # one check

A valid waiver turns a failure of what it names into the outcome "waived". A waiver that has
expired, lacks a reason or an expiry, names no existing standard or check, or waives a standard
the organisation lists under `mandatory` is itself reported as a failure (check `waiver`)."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, replace
from datetime import date

from snitch.engine.results import CheckResult
from snitch.read import files
from snitch.standards.document import INSTALLED_ID, Standards, standard_id
from snitch.violation import FileProblem, printable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PYPROJECT = "pyproject.toml"
WAIVER_CHECK = "waiver"
# ASCII numbers, installed ids and names only, matched whole (fullmatch): a key "٣" or "3\n"
# is not standard 3.
_KEY = re.compile(rf"([0-9]{{1,4}}|{INSTALLED_ID})(?:\.([A-Za-z0-9_]+))?", re.ASCII)
# Only a file holding one of these can declare a waiver: a [tool.snitch] table, spelt out or
# escaped (\u0073nitch).
_MAY_DECLARE = re.compile(rb"snitch|\\[uU]")
# A pyproject.toml snitch cannot read (over files.MAX_BYTES) is still searched this far for a
# declaration: past it, it may declare one.
MAX_SEARCHED_BYTES = 64 * 1024 * 1024
# The quoted keys of a line, where a waiver's key is written ("3" or '3.test_x').
_QUOTED = re.compile(r""""([^"\n]*)"|'([^'\n]*)'""")


@dataclass(frozen=True)
class Waiver:
    key: str  # "3" or "3.test_readme_links_every_resource", as written
    standard: int
    check: str | None  # None: the whole standard
    reason: str
    expires: date

    def as_dict(self) -> dict:
        return {"key": self.key, "reason": self.reason, "expires": self.expires.isoformat()}


@dataclass
class Waivers:
    """The valid waivers of a project, and a failure for each invalid one."""

    valid: list[Waiver]
    problems: list[CheckResult]

    @property
    def declared(self) -> int:
        return len(self.valid) + len(self.problems)

    def for_check(self, standard: int, check: str) -> Waiver | None:
        return next((waiver for waiver in self.valid if waiver.standard == standard and waiver.check in (None, check)), None)

    def stale(self, results: list[CheckResult]) -> list[Waiver]:
        """The valid waivers that waive nothing: every check they cover ran and passed. A covered
        check that was skipped or not run (`-s`) might fail another time, so it keeps its waiver."""
        stale = []
        for waiver in self.valid:
            covered = [result for result in results if result.standard == waiver.standard and waiver.check in (None, result.check)]
            if covered and all(result.outcome == "passed" for result in covered):
                stale.append(waiver)
        return stale

    def apply(self, results: list[CheckResult]) -> list[CheckResult]:
        """`results` with each covered failure marked waived (an invalid waiver is a failure of its
        own, in `problems`)."""
        applied = []
        for result in results:
            waiver = self.for_check(result.standard, result.check) if result.outcome == "failed" else None
            applied.append(replace(result, outcome="waived", waiver=waiver) if waiver else result)
        return applied


def read(project, standards: Standards, today: date | None = None) -> Waivers:
    """The waivers declared in the project's pyproject.toml (none when it has no such file, or
    one that cannot declare any)."""
    if not project.exists(PYPROJECT):
        return Waivers([], [])
    try:
        data = project.data(PYPROJECT)  # bounded, symlink-safe
    except FileProblem as problem:
        if not _may_declare(project):
            return Waivers([], [])
        return Waivers([], [_problem(standards, 0, "", f"cannot be read for waivers: {problem.found}", None)])
    if not _MAY_DECLARE.search(data):
        return Waivers([], [])
    try:
        text = project.text(PYPROJECT)
        document = tomllib.loads(text)
    except FileProblem as problem:  # not UTF-8
        return Waivers([], [_problem(standards, 0, "", f"cannot be read for waivers: {problem.found}", None)])
    except tomllib.TOMLDecodeError as error:
        if b"snitch" not in data:
            return Waivers([], [])  # not snitch's business: it declares no waiver either way
        return Waivers([], [_problem(standards, 0, "", f"is not valid TOML ({error}), so its waivers cannot be read", None)])
    except RecursionError:  # tomllib recurses once per nested array or inline table
        found = "nests too deeply to be read (arrays or tables inside one another), so its waivers cannot be read"
        return Waivers([], [_problem(standards, 0, "", found, None)])
    table = document
    for name in ("tool", "snitch", "waivers"):
        table = table.get(name, {}) if isinstance(table, dict) else None
    lines = _key_lines(text)
    if not isinstance(table, dict):
        return Waivers([], [_problem(standards, 0, "", "has a [tool.snitch.waivers] that is not a table", None)])
    today = today or date.today()
    valid, problems = [], []
    for key, entry in table.items():
        waiver, problem = _parse(key, entry, standards, today)
        if waiver:
            valid.append(waiver)
        else:
            match = _KEY.fullmatch(key)
            standard = standard_id(match.group(1)) if match else 0
            problems.append(_problem(standards, standard if standard in standards.standards else 0, key, problem, lines.get(key)))
    return Waivers(valid, problems)


def _may_declare(project) -> bool:
    """Could a pyproject.toml snitch cannot use (too large, not UTF-8) declare waivers? Not when
    it is a symlink out of the project (not the project's file, so not its waivers) nor when it
    never mentions snitch; it may when it cannot be searched."""
    try:
        path = project.locate(PYPROJECT)
    except FileProblem:
        return False
    try:
        return bool(_MAY_DECLARE.search(files.read_bytes(path, MAX_SEARCHED_BYTES)))
    except files.Unreadable:
        return True


def _parse(key: str, entry, standards: Standards, today: date) -> tuple[Waiver | None, str]:
    match = _KEY.fullmatch(key)
    if not match:
        return None, 'is not "N" (a standard) or "N.check_name" (one check of standard N), N a number or an installed standard\'s id like "acme-1"'
    standard, check = standard_id(match.group(1)), match.group(2)
    if standard not in standards.standards:
        return None, f"names standard {standard}, which does not exist (the standards are {standards.ids()})"
    if check is not None and check not in standards[standard].checks:
        return None, f"names {check}, which is not a check of standard {standard} (its checks: {', '.join(standards[standard].checks)})"
    if standard in standards.parameters.get("mandatory", []):
        return None, f"waives standard {standard}, which the organisation makes mandatory: it cannot be waived"
    if not isinstance(entry, dict):
        return None, "must be a table with `reason` and `expires`"
    reason, expires = entry.get("reason"), entry.get("expires")
    if not isinstance(reason, str) or not reason.strip():
        return None, "has no `reason`: say why the exception is needed and where it is tracked"
    if isinstance(expires, str):
        try:
            expires = date.fromisoformat(expires)
        except ValueError:
            return None, f"has `expires = {expires!r}`, which is not a date like 2027-01-31"
    if not isinstance(expires, date) or hasattr(expires, "hour"):
        return None, "has no `expires` date (like 2027-01-31): every waiver ends"
    if expires < today:  # its reason said why the failure was accepted: the failure is back, and so is why
        return None, f"expired on {expires.isoformat()} (it was given for: {printable(reason.strip())})"
    return Waiver(key, standard, check, printable(reason.strip()), expires), ""


def _problem(standards: Standards, standard: int, key: str, problem: str, line: int | None) -> CheckResult:
    subject = f'the waiver "{printable(key)}" ' if key else ""
    message = "\n".join(
        [
            f"{PYPROJECT}: {subject}{problem}",
            "  expected:   a waiver names an existing standard (N) or check (N.check_name), has a `reason`",
            "              and an `expires` date not in the past, and does not waive a mandatory standard",
            "  how to fix: fix the standard or check it waives, or remove the waiver from [tool.snitch.waivers]",
            f"  see:        {waivers_url(standards)}",
        ]
    )
    url = waivers_url(standards)
    return CheckResult(standard, WAIVER_CHECK, "failed", message, url, PYPROJECT, line, subject=printable(key))


def waivers_url(standards: Standards) -> str:
    return f"{standards.parameters['docs_url']}#waivers"


def _key_lines(text: str) -> dict[str, int]:
    """The first line of pyproject.toml on which each quoted key is written (a header or a dotted
    key): the file is scanned once, however many waivers it declares."""
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if "'" in line or '"' in line:
            for match in _QUOTED.finditer(line):
                lines.setdefault(match.group(1) if match.group(1) is not None else match.group(2), number)
    return lines
