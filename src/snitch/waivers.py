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

from snitch.results import CheckResult
from snitch.standards import INSTALLED_ID, Standards, standard_id
from snitch.violation import FileProblem

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PYPROJECT = "pyproject.toml"
WAIVER_CHECK = "waiver"
_KEY = re.compile(rf"^(\d{{1,4}}|{INSTALLED_ID})(?:\.(\w+))?$")


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
    """The waivers declared in the project's pyproject.toml (none when it has no such file)."""
    if not project.exists(PYPROJECT):
        return Waivers([], [])
    try:
        text = project.text(PYPROJECT)  # bounded, symlink-safe, UTF-8 checked
    except FileProblem as problem:
        return Waivers([], [_problem(standards, 0, "", f"cannot be read for waivers: {problem.found}", None)])
    if "snitch" not in text and "\\u" not in text and "\\U" not in text:
        return Waivers([], [])  # a [tool.snitch] table is spelt out or escaped (\u0073nitch): neither is here
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        if "snitch" not in text:
            return Waivers([], [])  # not snitch's business: it declares no waiver either way
        return Waivers([], [_problem(standards, 0, "", f"is not valid TOML ({error}), so its waivers cannot be read", None)])
    table = document
    for name in ("tool", "snitch", "waivers"):
        table = table.get(name, {}) if isinstance(table, dict) else None
    if not isinstance(table, dict):
        return Waivers([], [_problem(standards, 0, "", "has a [tool.snitch.waivers] that is not a table", text)])
    today = today or date.today()
    valid, problems = [], []
    for key, entry in table.items():
        waiver, problem = _parse(key, entry, standards, today)
        if waiver:
            valid.append(waiver)
        else:
            standard = standard_id(_KEY.match(key).group(1)) if _KEY.match(key) else 0
            problems.append(_problem(standards, standard if standard in standards.standards else 0, key, problem, text))
    return Waivers(valid, problems)


def _parse(key: str, entry, standards: Standards, today: date) -> tuple[Waiver | None, str]:
    match = _KEY.match(key)
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
    if expires < today:
        return None, f"expired on {expires.isoformat()}"
    return Waiver(key, standard, check, _printable(reason.strip()), expires), ""


def _problem(standards: Standards, standard: int, key: str, problem: str, text: str | None) -> CheckResult:
    subject = f'the waiver "{_printable(key)}" ' if key else ""
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
    return CheckResult(standard, WAIVER_CHECK, "failed", message, url, PYPROJECT, _line_of(key, text), subject=_printable(key))


def _printable(text: str) -> str:
    """`text` without control characters: a reason or key is shown on terminals and in reports."""
    return "".join(character if character.isprintable() else "?" for character in text)


def waivers_url(standards: Standards) -> str:
    return f"{standards.parameters['docs_url']}#waivers"


def _line_of(key: str, text: str | None) -> int | None:
    """The line of pyproject.toml that declares waiver `key` (a header or a dotted key), if found."""
    if text is None or not key:
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        if f'"{key}"' in line or f"'{key}'" in line:
            return number
    return None
