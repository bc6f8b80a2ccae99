"""The pytest plugin that runs the standards' check modules against one project.

It provides the fixtures the checks use, orders checks by standard number, turns a Violation
into a message that says what was found, what was expected, how to fix it and where to read
more (from the standards document), and records every outcome for JSON output."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from snitch import image
from snitch.project import Project
from snitch.standards import Standards
from snitch.violation import FileProblem, Violation

_MODULE = re.compile(r"^test_standard_(\d+)$")
PLUGIN = pytest.StashKey["SnitchPlugin"]()


@dataclass
class CheckResult:
    standard: int
    check: str
    outcome: str  # passed, failed, skipped or error
    message: str
    url: str

    def as_dict(self) -> dict:
        return self.__dict__.copy()


class SnitchPlugin:
    def __init__(self, target: Project, standards: Standards, selected=(), image_source=None, online=False):
        self.target = target
        self.standards = standards
        self.selected = tuple(selected)
        self.image_source = image_source
        self.online_mode = online
        self.results: list[CheckResult] = []
        self.internal_errors: list[str] = []

    def pytest_configure(self, config):
        config.stash[PLUGIN] = self

    # Hooks.

    def pytest_collection_modifyitems(self, session, config, items):
        keep, drop = [], []
        for item in items:
            (keep if not self.selected or _standard_of(item) in self.selected else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
        # Numeric order (1, 2, ... 10), not the file system's (1, 10, 2, ...); definition order within a file.
        keep.sort(key=lambda item: (_standard_of(item), item.reportinfo()[1] or 0))
        items[:] = keep

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        raised = call.excinfo.value if call.excinfo is not None else None
        number = _standard_of(item)
        if isinstance(raised, Violation):
            report.outcome = "failed"
            report.longrepr = self._message(number, item.name, raised)
        if report.passed and report.when != "call":
            return  # setup and teardown that went fine say nothing about the check
        if report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            result, message = "skipped", reason.removeprefix("Skipped: ")
        elif isinstance(raised, Violation):
            result, message = "failed", report.longrepr
        elif report.failed:
            # A check crashed: that is a bug in snitch, never a verdict on the project.
            result, message = "error", f"internal error in snitch: {call.excinfo.typename}: {raised}"
            self.internal_errors.append(f"{item.nodeid}: {message}")
        else:
            result, message = "passed", ""
        self.results.append(CheckResult(number, item.name, result, message, self.standards.url(number)))

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_line(
            "More about each standard, and how to pass it, is in the Model Standards document:"
        )
        terminalreporter.write_line(f"  {self.standards.parameters['docs_url']}")

    def _message(self, number: int, check: str, violation: Violation) -> str:
        title = self.standards[number].title
        if isinstance(violation, FileProblem):
            expected, fix = violation.expected, violation.fix
        else:
            doc = self.standards.check_doc(number, check)
            expected, fix = doc.expected, doc.fix
        lines = [
            f"{violation.file}: {violation.found}",
            f"  standard:   {number}. {title}",
            f"  expected:   {expected}",
            f"  how to fix: {fix}",
        ]
        if violation.detail:
            lines += [f"              {line}" for line in violation.detail.splitlines()]
        lines.append(f"  see:        {self.standards.url(number)}")
        return "\n".join(lines)


def _standard_of(item) -> int:
    match = _MODULE.match(Path(str(item.path)).stem)
    return int(match.group(1)) if match else 0


# Fixtures the check modules ask for (module level: pytest deprecates fixtures on plugin instances).


def _plugin(request) -> SnitchPlugin:
    return request.config.stash[PLUGIN]


@pytest.fixture(scope="session")
def project(request) -> Project:
    return _plugin(request).target


@pytest.fixture(scope="session")
def parameters(request) -> dict:
    return _plugin(request).standards.parameters


@pytest.fixture(scope="session")
def online(request) -> bool:
    return _plugin(request).online_mode


@pytest.fixture(scope="session")
def built_image(request) -> image.BuiltImage:
    """The built image; the checks that need one are skipped without --image."""
    source = _plugin(request).image_source
    if not source:
        pytest.skip("no built image given (pass --image to check a built image's labels)")
    return image.BuiltImage(source)


def checks_dir() -> Path:
    return Path(__file__).resolve().parent / "checks"
