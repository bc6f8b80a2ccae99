"""The pytest plugin that runs the standards' check modules against one project.

It provides the fixtures the checks use, orders checks by standard number, and hands every
outcome to a `Ledger` (snitch.results), which decides it: a Violation becomes a message that says
what was found, what was expected, how to fix it and where to read more, and a check whose
prerequisite failed is skipped with a reason naming it."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

from snitch import image
from snitch.project import Project
from snitch.results import ERROR, PASSED, SKIPPED, CheckResult, Ledger
from snitch.standards import Standards
from snitch.violation import Violation

_MODULE = re.compile(r"^test_standard_(\d+)$")
PLUGIN = pytest.StashKey["SnitchPlugin"]()
FIXTURES = ("project", "parameters", "online", "built_image")
_CAUSE = pytest.StashKey[str]()  # why a check was skipped for its prerequisite, passed on to its dependents


class SnitchPlugin:
    def __init__(self, target: Project, standards: Standards, selected=(), image_source=None, online=False):
        self.target = target
        self.standards = standards
        self.selected = tuple(selected)
        self.image_source = image_source
        self.online_mode = online
        self.ledger = Ledger(standards)
        self.internal_errors: list[str] = []

    @property
    def results(self) -> list[CheckResult]:
        return self.ledger.results

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

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        blocked = self.ledger.blocked(_standard_of(item), item.name, item.function)
        if blocked:
            item.stash[_CAUSE] = blocked[1]
            raise pytest.skip.Exception(blocked[0], _use_item_location=True)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item, call):
        number = _standard_of(item)
        raised = call.excinfo.value if call.excinfo is not None else None
        if isinstance(raised, Violation):
            # Built here rather than by pytest, which would format (and discard) a full traceback.
            result = self.ledger.violated(number, item.name, raised)
            outcome = "skipped" if result.outcome == SKIPPED else "failed"
            longrepr = (str(item.path), item.location[1] + 1, result.message) if outcome == "skipped" else result.message
            return pytest.TestReport(
                item.nodeid, item.location, {keyword: 1 for keyword in item.keywords}, outcome, longrepr,
                call.when, (), call.duration, call.start, call.stop, user_properties=item.user_properties,
            )
        report = pytest.TestReport.from_item_and_call(item, call)
        if report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            reason = reason.removeprefix("Skipped: ")
            self.ledger.record(self._result(number, item.name, SKIPPED, reason), item.stash.get(_CAUSE, None))
        elif report.failed:
            self.crashed(number, item.name, item.nodeid, raised)
        elif call.when == "call":
            self.ledger.record(self._result(number, item.name, PASSED, ""))
        return report

    def pytest_terminal_summary(self, terminalreporter):
        terminalreporter.write_line(
            "More about each standard, and how to pass it, is in the Model Standards document:"
        )
        terminalreporter.write_line(f"  {self.standards.parameters['docs_url']}")

    def fixture(self, name: str):
        """The value a check asks for by argument name (for pytest's fixtures and snitch.testing)."""
        if name == "project":
            return self.target
        if name == "parameters":
            return self.standards.parameters
        if name == "online":
            return self.online_mode
        if name == "built_image":
            if not self.image_source:
                pytest.skip("no built image given (pass --image to check a built image's labels)")
            return self._built_image
        raise LookupError(f"no check argument called {name!r}; checks may ask for {', '.join(FIXTURES)}")

    @functools.cached_property
    def _built_image(self) -> image.BuiltImage:
        return image.BuiltImage(self.image_source)

    def crashed(self, number: int, check: str, where: str, error: BaseException) -> None:
        """A check crashed: that is a bug in snitch, never a verdict on the project."""
        message = f"internal error in snitch: {type(error).__name__}: {error}"
        self.internal_errors.append(f"{where}: {message}")
        self.ledger.record(self._result(number, check, ERROR, message))

    def _result(self, number: int, check: str, outcome: str, message: str) -> CheckResult:
        return CheckResult(number, check, outcome, message, self.standards.url(number))


def _standard_of(item) -> int:
    match = _MODULE.match(Path(str(item.path)).stem)
    return int(match.group(1)) if match else 0


# Fixtures the check modules ask for (module level: pytest deprecates fixtures on plugin instances).


def _fixture(request, name: str):
    return request.config.stash[PLUGIN].fixture(name)


@pytest.fixture(scope="session")
def project(request) -> Project:
    return _fixture(request, "project")


@pytest.fixture(scope="session")
def parameters(request) -> dict:
    return _fixture(request, "parameters")


@pytest.fixture(scope="session")
def online(request) -> bool:
    return _fixture(request, "online")


@pytest.fixture(scope="session")
def built_image(request) -> image.BuiltImage:
    """The built image; the checks that need one are skipped without --image."""
    return _fixture(request, "built_image")


def checks_dir() -> Path:
    return Path(__file__).resolve().parent / "checks"
