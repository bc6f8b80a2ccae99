"""Run the standards' check modules on one project, in this process, and collect a Report.

Two ways, with the same outcomes (one Ledger decides them both): `run_checks` goes through a
pytest session and prints it (the `snitch` command); `run_in_process` calls the check functions
directly, without a session's start-up cost (`snitch fleet` over many projects, and
`snitch.testing`)."""

from __future__ import annotations

import importlib
import inspect
import os
from dataclasses import dataclass, field

import pytest

from snitch import gitlab_ci, waivers
from snitch import plugin as fixtures
from snitch.plugin import SnitchPlugin, checks_dir
from snitch.results import PASSED, SKIPPED, CheckResult, Report, ResultsPlugin
from snitch.standards import Standards
from snitch.violation import FileProblem, Violation


@dataclass
class Run:
    report: Report
    errors: list[str] = field(default_factory=list)  # why the run could not be done (exit status 2)


def declared_model_name(project) -> str | None:
    """The `model_name` the project gives the shared pipeline in .gitlab-ci.yml, if any."""
    try:
        declared = gitlab_ci.setting(project.yaml_mapping(".gitlab-ci.yml"), "model_name", "MODEL_NAME")
    except FileProblem:
        return None
    return declared.value if declared is not None and isinstance(declared.value, str) else None


# pytest's own plugins that a run of snitch's checks never uses; each costs setup time on every run.
_UNUSED_PYTEST_PLUGINS = (
    "cacheprovider", "doctest", "logging", "pastebin", "stepwise", "legacypath", "faulthandler",
    "setuponly", "setupplan", "debugging", "monkeypatch", "recwarn", "tmpdir", "python_path", "warnings",
    "junitxml",  # snitch writes its own JUnit report (snitch.reports), with waivers
    # These two call gc.collect() several times per session: a fifth of snitch's run time.
    "unraisableexception", "threadexception",
)


def _pytest_args(checks, terminal: bool) -> list[str]:
    args = [
        str(checks),
        "-c", str(checks / "pytest.ini"),
        "--rootdir", str(checks.parent),
        "--noconftest",
        "--import-mode=importlib",
        "--assert=plain",
        "--capture=no",  # checks print nothing; capturing only costs time
    ]
    for unused in _UNUSED_PYTEST_PLUGINS:
        args += ["-p", f"no:{unused}"]
    if not terminal:
        return args + ["-p", "no:terminal"]
    # The summary names every failure and says why each skipped check was skipped; only snitch's
    # own crashes get a traceback, and a native one is cheap to format.
    return args + ["-rfEs", "--tb=native"]


def run_checks(project, standards: Standards, *, selected=(), image=None, online=False, terminal=True) -> Run:
    """Every selected check on `project`, its waivers applied; `terminal` prints the pytest session."""
    # The checked project must not change how snitch runs: no plugins from the environment,
    # no options from PYTEST_ADDOPTS, no ini file or conftest.py from the project.
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    for variable in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS"):
        os.environ.pop(variable, None)
    checks = checks_dir()
    declared = _waivers(project, standards, selected)
    plugin = SnitchPlugin(project, standards, tuple(selected), image, online)
    results = ResultsPlugin(declared)
    # Run from snitch's own folder so the session lists checks/test_standard_N.py, not long relative paths.
    here = os.getcwd()
    os.chdir(checks.parent)
    try:
        code = pytest.main(_pytest_args(checks, terminal), plugins=[plugin, fixtures, results])
    finally:
        os.chdir(here)
    report = Report(
        project.model,
        str(project.root),
        standards.version,
        results.results(plugin.results),
        declared.declared,
    )
    errors = list(plugin.internal_errors)
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        errors.append("error: no checks were run")
    elif code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) and not errors:
        errors.append(f"error: pytest stopped with {code!r}")
    return Run(report, errors)


def _waivers(project, standards: Standards, selected) -> waivers.Waivers:
    declared = waivers.read(project, standards)
    if selected:  # `-s 6` judges standard 6 only, and so only the waivers of standard 6
        declared.problems = [problem for problem in declared.problems if problem.standard in selected]
    return declared


def run_in_process(
    project, standards: Standards, *, selected=(), only=None, image=None, online=False, raise_crashes=False
) -> Run:
    """The selected standards' checks (or only the check ids in `only`, e.g. "4.test_x"), called
    directly; a crash inside a check is recorded as an error, or raised with `raise_crashes`."""
    declared = _waivers(project, standards, selected)
    plugin = SnitchPlugin(project, standards, tuple(selected), image, online)
    for number in selected or standard_numbers():
        for function in checks(number):
            if only is None or f"{number}.{function.__name__}" in only:
                _call(plugin, number, function, raise_crashes)
    report = Report(project.model, str(project.root), standards.version, declared.apply(plugin.results), declared.declared)
    return Run(report, list(plugin.internal_errors))


def checks(number: int) -> list:
    """The check functions of standard `number`, in the order they are defined."""
    module = importlib.import_module(f"snitch.checks.test_standard_{number}")
    functions = [
        value for name, value in vars(module).items()
        if name.startswith("test_") and inspect.isfunction(value) and value.__module__ == module.__name__
    ]
    return sorted(functions, key=lambda function: function.__code__.co_firstlineno)


def standard_numbers() -> list[int]:
    return sorted(int(path.stem.rsplit("_", 1)[1]) for path in checks_dir().glob("test_standard_*.py"))


def _call(plugin, number: int, function, raise_crashes: bool) -> None:
    ledger, name, url = plugin.ledger, function.__name__, plugin.standards.url(number)
    blocked = ledger.blocked(number, name, function)
    if blocked:
        ledger.record(CheckResult(number, name, SKIPPED, blocked[0], url), blocked[1])
        return
    try:
        function(**{argument: plugin.fixture(argument) for argument in inspect.signature(function).parameters})
    except Violation as violation:
        ledger.violated(number, name, violation)
    except pytest.skip.Exception as skipped:
        ledger.record(CheckResult(number, name, SKIPPED, skipped.msg, url))
    except Exception as error:
        if raise_crashes:
            raise
        plugin.crashed(number, name, f"test_standard_{number}.py::{name}", error)
    else:
        ledger.record(CheckResult(number, name, PASSED, "", url))
