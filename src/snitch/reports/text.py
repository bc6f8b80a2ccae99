"""The text report of one run, written as the run goes: a line per standard with a mark per check,
then every failure with its whole message, why each check was skipped, the project's waivers and a
one-line summary. Colours only on a terminal (click leaves them out elsewhere)."""

from __future__ import annotations

import time

import click

from snitch.engine.results import ERROR, FAILED, PASSED, SKIPPED, WAIVED, CheckResult, Report
from snitch.engine.waivers import WAIVER_CHECK
from snitch.standards.document import Standards

_MARKS = {PASSED: ".", FAILED: "F", SKIPPED: "s", WAIVED: "w", ERROR: "E"}
_COLOURS = {FAILED: "red", ERROR: "red", SKIPPED: "yellow", WAIVED: "yellow", PASSED: "green"}
_LABELS = {FAILED: "FAILED", ERROR: "ERROR", WAIVED: "WAIVED", SKIPPED: "SKIPPED"}
_SUMMARY_ORDER = (FAILED, ERROR, PASSED, SKIPPED, WAIVED)


class TextSession:
    def __init__(self, standards: Standards, selected=()):
        self.standards = standards
        shown = selected or standards.standards
        self._title_width = max(len(standards[number].title) for number in shown)
        self._started = time.perf_counter()

    def header(self, model: str, root) -> None:
        source = f"Model Standards version {self.standards.version} from {self.standards.source}"
        if self.standards.config:
            source += f" with parameters from {self.standards.config} ({self.standards.config_source})"
        click.echo(f"Running snitch on the {model} model at {root}, using {source}")
        if self.standards.project_copy_note:
            click.echo(f"Note: {self.standards.project_copy_note}")
        click.echo()

    def standard_done(self, number, results: list[CheckResult]) -> None:
        """One line for standard `number`: its title and a mark per check, as soon as it is done."""
        marks = "".join(click.style(_MARKS[result.outcome], fg=_COLOURS[result.outcome]) for result in results)
        title = self.standards[number].title.ljust(self._title_width)
        click.echo(f"{number:>3}. {title}  {marks}")

    def summary(self, report: Report, waivers) -> None:
        findings = [result for result in report.results if result.outcome in (FAILED, ERROR)]
        for result in findings:
            click.echo()
            click.secho(f"{_LABELS[result.outcome]} {_name(result)}", fg="red", bold=True)
            click.echo(result.message)
        # A skip inherited from a check that did not pass says nothing new: counted, not listed.
        notes = [result for result in report.results if result.outcome in (WAIVED, SKIPPED) and not result.inherited]
        inherited = [result for result in report.results if result.inherited]
        if notes or inherited:
            click.echo()
        for result in notes:
            reason = f"{result.waiver.reason} (expires {result.waiver.expires.isoformat()})" if result.waiver else result.message
            click.echo(f"{click.style(_LABELS[result.outcome], fg='yellow')} {_name(result)}: {reason}")
        if inherited:  # named with what became of each check they need: failed, or itself skipped
            outcomes = {result.id: result.outcome for result in report.results}
            needed = ", ".join(
                f"{prerequisite}, which {_BECAME[outcomes[prerequisite]]}"
                for prerequisite in dict.fromkeys(result.prerequisite for result in inherited)
            )
            many = len(inherited) > 1
            click.echo(f"{len(inherited)} more {'checks were' if many else 'check was'} skipped: "
                       f"{'they need' if many else 'it needs'} {needed} (`--format json` gives each one's reason)")
        if waivers.valid:
            click.echo()
        for waiver in waivers.valid:
            click.echo(f"waiver {waiver.key}: {waiver.reason} (expires {waiver.expires.isoformat()})")
        for waiver in report.stale_waivers:
            waived = f"standard {waiver.standard}" if waiver.check is None else f"check {waiver.key}"
            click.secho(
                f"warning: waiver {waiver.key} waives nothing: {waived} passed; remove it from "
                "[tool.snitch.waivers] in pyproject.toml", fg="yellow",
            )
        click.echo(f"\nMore about each standard, and how to pass it: {self.standards.parameters['docs_url']}")
        counts = report.counts()
        said = ", ".join(f"{counts[outcome]} {outcome}" for outcome in _SUMMARY_ORDER if counts[outcome])
        colour = "red" if report.failed else "green"
        click.secho(f"{said or 'no checks run'} in {time.perf_counter() - self._started:.2f}s", fg=colour, bold=True)


# What became of a check that did not pass, completing "<check>, which ...".
_BECAME = {FAILED: "failed", SKIPPED: "was skipped", WAIVED: "was waived", ERROR: "stopped on an internal error"}


def _name(result: CheckResult) -> str:
    """A check's id, e.g. 4.test_model_subclass_implements_predict; an invalid waiver by its key."""
    if result.check == WAIVER_CHECK:
        return f"waiver {result.subject}" if result.subject else "waivers"
    return result.id
