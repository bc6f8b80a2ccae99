"""One run's results as every output format sees them: the plugin's CheckResults, located at the
file and line the Violation named, with waivers applied.

Outcomes: passed, failed, skipped, error (a bug in snitch), waived (a failure a valid waiver
covers; it does not fail the run)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest

from snitch import __version__
from snitch.violation import Violation

OUTCOMES = ("passed", "failed", "skipped", "error", "waived")
_NODE = re.compile(r"test_standard_(\d+)\.py::(\w+)")


@dataclass
class Result:
    standard: int
    check: str
    outcome: str
    message: str
    url: str
    file: str | None = None
    line: int | None = None
    waiver: object | None = None  # the snitch.waivers.Waiver that covers a waived failure
    subject: str = ""  # what in the check a finding is about, when one check can report several

    def as_dict(self) -> dict:
        data = {key: getattr(self, key) for key in ("standard", "check", "outcome", "message", "url")}
        if self.outcome in ("failed", "waived") and self.file:
            data.update(file=self.file, line=self.line)
        if self.waiver is not None:
            data["waiver"] = self.waiver.as_dict()
        return data


@dataclass
class Report:
    """A single project's run."""

    model: str
    path: str
    standards_version: str
    results: list[Result]
    waivers_declared: int = 0

    @property
    def failed(self) -> bool:
        return any(result.outcome in ("failed", "error") for result in self.results)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(OUTCOMES, 0)
        for result in self.results:
            counts[result.outcome] += 1
        return counts

    def summary(self) -> dict:
        return {"total": len(self.results), **self.counts(), "waivers": self.waivers_declared}

    def as_dict(self) -> dict:
        return {
            "model": self.model,
            "path": self.path,
            "standards_version": self.standards_version,
            "snitch_version": __version__,
            "summary": self.summary(),
            "checks": [result.as_dict() for result in self.results],
        }


def check_of(nodeid: str) -> tuple[int, str] | None:
    """(standard, check) of a check module's test id, e.g. checks/test_standard_3.py::test_x."""
    match = _NODE.search(nodeid)
    return (int(match.group(1)), match.group(2)) if match else None


@dataclass(eq=False)  # pytest keeps plugins in sets: hash by identity
class ResultsPlugin:
    """Pytest plugin beside snitch's own: remembers where each Violation points, and shows a
    waived failure as WAIVED (not FAILED) in the text session."""

    waivers: object  # snitch.waivers.Waivers
    locations: dict[tuple[int, str], tuple[str, int | None]] = field(default_factory=dict)

    def pytest_runtest_makereport(self, item, call):
        raised = call.excinfo.value if call.excinfo is not None else None
        check = check_of(item.nodeid)
        if isinstance(raised, Violation) and check:
            self.locations[check] = (raised.file, raised.line)

    @pytest.hookimpl(tryfirst=True)
    def pytest_report_teststatus(self, report, config):
        check = check_of(report.nodeid)
        if report.failed and report.when == "call" and check and self.waivers.for_check(*check):
            return "waived", "w", ("WAIVED", {"yellow": True})
        return None

    def pytest_terminal_summary(self, terminalreporter):
        for waiver in self.waivers.valid:
            terminalreporter.write_line(f"waiver {waiver.key}: {waiver.reason} (expires {waiver.expires.isoformat()})")
        for problem in self.waivers.problems:
            terminalreporter.write_sep("_", f"invalid waiver {problem.subject}".strip(), red=True)
            terminalreporter.write_line(problem.message)

    def results(self, check_results) -> list[Result]:
        """The plugin's CheckResults located, with the waivers applied."""
        located = [
            Result(r.standard, r.check, r.outcome, r.message, r.url, *self.locations.get((r.standard, r.check), (None, None)))
            for r in check_results
        ]
        return self.waivers.apply(located)

