"""Run snitch's checks in-process: for snitch's own tests, a model project's tests, and an
organisation's own standards.

    from snitch.testing import run, run_check

    report = run("path/to/project", standards=[4, 10])     # every check of standards 4 and 10
    assert report.failed() == set()
    result = run_check("path/to/project", "4.test_model_subclass_implements_predict")
    assert result.outcome == "passed", result.message

Outcomes and messages are exactly those of `snitch -n NAME` (the same Ledger decides them): a
check whose prerequisite did not pass is skipped naming it, and a failure says what was found,
what was expected and how to fix it. Unlike the command, a crash inside a check is raised, so a
test shows its traceback. Nothing here imports or runs the checked project's code."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from snitch.engine import runner
from snitch.engine.results import FAILED, CheckResult
from snitch.engine.runner import declared_model_name
from snitch.read.project import Project
from snitch.standards.config import load_standards
from snitch.standards.document import standard_id
from snitch.standards.registry import checks


@dataclass
class Report:
    model: str
    path: Path
    results: list[CheckResult]

    @property
    def code(self) -> int:
        """What `snitch` would exit with: 1 when a check failed, else 0."""
        return 1 if self.failed() else 0

    def failed(self) -> set[str]:
        return {result.check for result in self.results if result.outcome == FAILED}

    def check(self, name: str) -> CheckResult:
        """The result of one check, by its name (`test_x`) or id (`4.test_x`)."""
        found = [result for result in self.results if name in (result.check, result.id)]
        if len(found) != 1:
            raise LookupError(f"{name} was {'not run' if not found else 'run more than once'} in this report")
        return found[0]


def run(
    path: str | os.PathLike,
    model: str = "",
    *,
    standards=None,
    only=None,
    config: str | os.PathLike | None = None,
    image: str | None = None,
    online: bool = False,
) -> Report:
    """Run the checks of `standards` (ids: 4, "acme-1"; default all), or only the checks named in `only`
    (ids like "4.test_x") together with the checks they require, on the project at `path`."""
    project = Project(Path(path), model)
    if not project.model:
        project.model = declared_model_name(project) or ""
        if not project.model:
            raise LookupError(f"give the model's name: {project.root}/.gitlab-ci.yml declares no model_name")
    loaded = load_standards(config, project)
    unknown = [str(number) for number in standards or () if number not in loaded.standards]
    if unknown:  # an id typed wrong, or a standard not installed here, would run nothing and pass
        raise LookupError(f"no standard {', '.join(unknown)}; the standards are {loaded.ids()}")
    wanted = _closure(only) if only is not None else None
    done = runner.run_checks(
        project, loaded, selected=tuple(standards or ()), only=wanted, image=image, online=online, raise_crashes=True,
    )
    return Report(project.model, project.root, done.report.results)


def run_check(path: str | os.PathLike, check: str, model: str = "", **options) -> CheckResult:
    """One check (`N.test_x`) on the project at `path`, after the checks it requires."""
    needed = _closure([check])
    numbers = {standard_id(id_.split(".", 1)[0]) for id_ in needed}
    return run(path, model, standards=numbers, only=needed, **options).check(check)


def _requirements(check: str) -> list[str]:
    number, name = check.split(".", 1)
    function = next((f for f in checks(standard_id(number)) if f.__name__ == name), None)
    if function is None:
        raise LookupError(f"standard {number} has no check {name}")
    return [required if "." in required else f"{number}.{required}" for required in getattr(function, "snitch_requires", ())]


def _closure(only) -> set[str]:
    wanted, pending = set(), list(only)
    while pending:
        check = pending.pop()
        if check not in wanted:
            wanted.add(check)
            pending.extend(_requirements(check))
    return wanted
