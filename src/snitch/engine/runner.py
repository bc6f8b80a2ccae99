"""Run the standards' check modules on one project, in this process, and collect a Report.

Every check is a function `test_<what>` in its standard's module (snitch.standards.registry),
called with the arguments it names (snitch.engine.context); its outcome is decided by one Ledger
(snitch.engine.results), so the command, `snitch fleet` and `snitch.testing` report exactly the
same thing. Nothing of the checked project is imported or run."""

from __future__ import annotations

from dataclasses import dataclass, field

from snitch.engine import waivers
from snitch.engine.context import CheckContext
from snitch.engine.results import PASSED, SKIPPED, CheckResult, Report
from snitch.facts import gitlab_ci
from snitch.standards.document import Standards
from snitch.standards.registry import checks
from snitch.violation import FileProblem, Skipped, Violation


@dataclass
class Run:
    report: Report
    waivers: waivers.Waivers
    errors: list[str] = field(default_factory=list)  # why the run could not be done (exit status 2)


def declared_model_name(project) -> str | None:
    """The `model_name` the project gives the shared pipeline in .gitlab-ci.yml, if any. It may
    break the naming rule: standard 9 reports that (snitch.facts.names)."""
    try:
        declared = gitlab_ci.setting(gitlab_ci.document(project), "model_name", "MODEL_NAME")
    except FileProblem:
        return None
    return declared.value if declared is not None and isinstance(declared.value, str) else None


def no_model_name_reason(project) -> str:
    """Why `project` gives no model name to fall back on, for a message: a missing
    .gitlab-ci.yml, one that cannot be used, and one without the input are told apart."""
    try:
        gitlab_ci.document(project)
    except FileProblem as problem:
        if problem.found == "does not exist":
            return "it has no .gitlab-ci.yml to read a model_name input from"
        return f"its .gitlab-ci.yml cannot be used ({problem.found})"
    return "its .gitlab-ci.yml declares no valid model_name input"


def run_checks(
    project, standards: Standards, *, selected=(), only=None, image=None, online=False, raise_crashes=False,
    progress=None,
) -> Run:
    """The selected standards' checks (all by default; or only the check ids in `only`, e.g.
    "4.test_x"), their waivers applied. `progress(number, results)` is called after each standard.
    A crash inside a check is recorded as an error, or raised with `raise_crashes`."""
    declared = _waivers(project, standards, selected)
    context = CheckContext(project, standards, image, online)
    results = []
    for number in [number for number in standards.standards if not selected or number in selected]:
        done = len(context.results)
        for function in checks(number):
            if only is None or f"{number}.{function.__name__}" in only:
                _call(context, number, function, raise_crashes)
        judged = declared.apply(context.results[done:])
        results += judged
        if progress:
            progress(number, judged)
    report = Report(
        project.model, str(project.root), standards.version, results + declared.problems, declared.declared,
        declared.stale(results),
        config=standards.config_facts(),
    )
    return Run(report, declared, list(context.internal_errors))


def _waivers(project, standards: Standards, selected) -> waivers.Waivers:
    declared = waivers.read(project, standards)
    if selected:  # `-s 6` judges standard 6 only, and so only the waivers of standard 6
        declared.problems = [problem for problem in declared.problems if problem.standard in selected]
    return declared


def _call(context: CheckContext, number: int, function, raise_crashes: bool) -> None:
    ledger, name, url = context.ledger, function.__name__, context.standards.url(number)
    blocked = ledger.blocked(number, name, function)
    if blocked:
        reason, cause, prerequisite = blocked
        ledger.record(CheckResult(number, name, SKIPPED, reason, url, prerequisite=prerequisite), cause)
        return
    try:
        code = function.__code__
        function(**{argument: context.argument(argument, number) for argument in code.co_varnames[: code.co_argcount]})
    except Violation as violation:
        ledger.violated(number, name, violation)
    except Skipped as skipped:
        ledger.record(CheckResult(number, name, SKIPPED, str(skipped), url))
    except Exception as error:
        if raise_crashes:
            raise
        context.crashed(number, name, error)
    else:
        ledger.record(CheckResult(number, name, PASSED, "", url))
