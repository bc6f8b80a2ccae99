"""The fleet's human reports: a Markdown summary and a self-contained HTML page (a projects ×
standards matrix whose failed cells link to their messages, with each standard's compliance rate)."""

from __future__ import annotations

import string
from html import escape
from importlib import resources

from snitch import __version__
from snitch.fleet import Entry, Fleet

SYMBOLS = {"passed": "✓", "failed": "✗", "error": "!", "waived": "W", "skipped": "–"}
_STATE_SYMBOLS = {"passed": "✓ passed", "failed": "✗ failed", "not checkable": "? not checkable"}


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _name(entry: Entry) -> str:
    return entry.report.model if entry.report else entry.source


def markdown(fleet: Fleet) -> str:
    columns = fleet.columns()
    summary = fleet.summary()
    lines = [
        f"# Model Standards compliance: {summary['projects']} project(s)",
        "",
        f"{summary['passed']} passed, {summary['failed']} failed, {summary['not_checkable']} not checkable, "
        f"{summary['waived']} waived check(s). Legend: ✓ passed, ✗ failed, W waived, – skipped, ! snitch error.",
        "",
        "| project | " + " | ".join(str(number) for number in columns) + " |",
        "|---|" + "---|" * len(columns),
    ]
    for entry in fleet.entries:
        cells = [SYMBOLS[fleet.cell(entry, number)] for number in columns] if entry.report else ["?"] * len(columns)
        label = _name(entry) if entry.report is None else f"{entry.report.model} ({entry.source})"
        lines.append(f"| {_md(label)} | " + " | ".join(cells) + " |")
    lines.append("| **compliance** | " + " | ".join(_rate(fleet.compliance(number)) for number in columns) + " |")
    lines += ["", "## Standards", ""] + [f"{number}. {fleet.title(number)}" for number in columns]
    findings = [(entry, result) for entry in fleet.entries if entry.report for result in entry.report.results
                if result.outcome in ("failed", "waived", "error")]
    problems = [entry for entry in fleet.entries if entry.report is None]
    if findings or problems:
        lines += ["", "## Findings", ""]
    for entry in problems:
        lines.append(f"- **{_md(entry.source)}**: not checkable: {_md(entry.problem or '')}")
    for entry, result in findings:
        note = f" (waived until {result.waiver.expires}: {_md(result.waiver.reason)})" if result.waiver else ""
        headline = result.message.splitlines()[0] if result.message else result.check
        lines.append(f"- **{_md(_name(entry))}** {result.outcome} {result.standard}.{result.check}{note}: {_md(headline)}")
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def html(fleet: Fleet) -> str:
    page = string.Template(resources.files("snitch").joinpath("fleet.html").read_text(encoding="utf-8"))
    summary = fleet.summary()
    return page.substitute(
        title=f"Model Standards compliance: {summary['projects']} project(s)",
        summary=escape(
            f"{summary['passed']} passed, {summary['failed']} failed, {summary['not_checkable']} not checkable, "
            f"{summary['waived']} waived check(s)"
        ),
        matrix=_matrix(fleet),
        details=_details(fleet),
        docs_url=escape(fleet.standards.parameters["docs_url"], quote=True),
        version=escape(__version__),
    )


def _anchor(index: int, standard: int) -> str:
    return f"p{index}-s{standard}"


def _matrix(fleet: Fleet) -> str:
    columns = fleet.columns()
    head = "".join(
        f'<th scope="col" title="{escape(fleet.title(n), quote=True)}">{n}<br><span class="t">{escape(fleet.title(n))}</span></th>'
        for n in columns
    )
    rows = []
    for index, entry in enumerate(fleet.entries):
        name = f'<th scope="row">{escape(_name(entry))}<br><span class="src">{escape(entry.source)}</span></th>'
        if entry.report is None:
            cells = f'<td colspan="{len(columns)}" class="unknown"><a href="#p{index}">not checkable</a></td>'
        else:
            cells = "".join(_cell(fleet.cell(entry, n), _anchor(index, n)) for n in columns)
        rows.append(f'<tr class="{entry.state.replace(" ", "-")}">{name}{cells}</tr>')
    rates = "".join(f'<td class="rate">{_rate(fleet.compliance(n))}</td>' for n in columns)
    return (
        f'<table class="matrix"><thead><tr><th scope="col">project</th>{head}</tr></thead>'
        f'<tbody>{"".join(rows)}</tbody>'
        f'<tfoot><tr><th scope="row">compliance</th>{rates}</tr></tfoot></table>'
    )


def _cell(outcome: str, anchor: str) -> str:
    symbol = SYMBOLS[outcome]
    if outcome in ("failed", "waived", "error"):
        return f'<td class="{outcome}"><a href="#{anchor}" title="{outcome}">{symbol}</a></td>'
    return f'<td class="{outcome}" title="{outcome}">{symbol}</td>'


def _details(fleet: Fleet) -> str:
    parts = []
    for index, entry in enumerate(fleet.entries):
        if entry.report is None:
            parts.append(f'<section id="p{index}"><h3>{escape(entry.source)}: not checkable</h3><p>{escape(entry.problem or "")}</p></section>')
            continue
        by_standard: dict[int, list] = {}
        for result in entry.report.results:
            if result.outcome in ("failed", "waived", "error"):
                by_standard.setdefault(result.standard, []).append(result)
        for standard, results in by_standard.items():
            items = "".join(
                f'<li class="{r.outcome}"><b>{escape(r.check)}</b> {r.outcome}'
                + (f" until {r.waiver.expires}: {escape(r.waiver.reason)}" if r.waiver else "")
                + f"<pre>{escape(r.message)}</pre></li>"
                for r in results
            )
            parts.append(
                f'<section id="{_anchor(index, standard)}"><h3>{escape(_name(entry))} — '
                f'{standard}. {escape(fleet.title(standard))}</h3><ul>{items}</ul></section>'
            )
    return "".join(parts) or "<p>No findings: every project follows every standard.</p>"
