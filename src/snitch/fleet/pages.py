"""The fleet's human reports: a Markdown summary and a self-contained HTML page (a projects ×
standards matrix whose failed cells link to their messages, with each standard's compliance rate)."""

from __future__ import annotations

import base64
import hashlib
import re
import string
from html import escape
from importlib import resources

from snitch import __version__
from snitch.fleet.check import NO_TEAM, SHOWN_PARAMETERS, Entry, Fleet, date_text

SYMBOLS = {"passed": "✓", "failed": "✗", "error": "!", "waived": "W", "skipped": "–", "unknown": "?"}
MEANINGS = {
    "passed": "passed", "failed": "failed", "waived": "waived", "skipped": "skipped", "error": "snitch error",
    "unknown": "not checked (the project could not be checked: see its reason)",
}
LEGEND = ", ".join(f"{SYMBOLS[outcome]} {meaning}" for outcome, meaning in MEANINGS.items())
# Characters Markdown (CommonMark, GitLab's flavour) gives a meaning to inside a table cell:
# emphasis, code, links, autolinks and inline HTML, entities, tables, strikethrough, math.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|&~$!{}])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _when(fleet: Fleet) -> str:
    return fleet.generated.strftime("%Y-%m-%d %H:%M UTC")


def headline(fleet: Fleet) -> str:
    """The sentence a reader trusts first: projects that could not be checked are counted, never hidden."""
    summary = fleet.summary()
    return (
        f"{summary['passed']} of {summary['projects']} project(s) pass every standard ({_rate(summary['compliance'])}); "
        f"{summary['failed']} fail, {summary['not_checkable']} could not be checked (counted as not compliant); "
        f"{summary['waived']} waived check(s)"
    )


def config_line(fleet: Fleet) -> str:
    config = fleet.config()
    values = ", ".join(f"{key} {_shown(config[key])}" for key in SHOWN_PARAMETERS)
    return f"Model Standards version {config['standards_version']}, config {config['file'] or 'none (snitch defaults)'}: {values}"


def _shown(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(str(item) for item in value) + "]"
    return str(value)


def markdown(fleet: Fleet) -> str:
    columns = fleet.columns()
    lines = [
        f"# Model Standards compliance: {len(fleet.entries)} project(s)",
        "",
        f"Checked {_when(fleet)}. {md(config_line(fleet))}.",
        "",
        f"**{md(headline(fleet))}.** Legend: {md(LEGEND)}.",
        "",
        "| project | team | " + " | ".join(str(number) for number in columns) + " |",
        "|---|---|" + "---|" * len(columns),
    ]
    for entry in fleet.entries:
        cells = [SYMBOLS[fleet.cell(entry, number)] for number in columns]
        lines.append(f"| {md(entry.label)} | {md(entry.team or NO_TEAM)} | " + " | ".join(cells) + " |")
    lines.append("| **compliance** | | " + " | ".join(_rate(fleet.compliance(number)) for number in columns) + " |")
    lines += ["", "## By team", "", "| team | projects | pass every standard | fail | could not be checked | compliance |",
              "|---|---|---|---|---|---|"]
    lines += [f"| {md(team)} | {counts['projects']} | {counts['passed']} | {counts['failed']} | {counts['not_checkable']} | "
              f"{_rate(counts['passed'] / counts['projects'])} |" for team, counts in fleet.teams().items()]
    lines += ["", "## Standards", ""] + [f"{number}. {md(fleet.title(number))}" for number in columns]
    findings = [(entry, result) for entry in fleet.entries if entry.report for result in entry.report.results
                if result.outcome in ("failed", "waived", "error")]
    problems = [entry for entry in fleet.entries if entry.report is None]
    if findings or problems:
        lines += ["", "## Findings", ""]
    for entry in problems:
        lines.append(f"- **{md(entry.label)}**: not checkable: {md(entry.problem or '')}")
    for entry, result in findings:
        note = f" (waived until {result.waiver.expires}: {md(result.waiver.reason)})" if result.waiver else ""
        first_line = result.message.splitlines()[0] if result.message else result.check
        lines.append(f"- **{md(entry.label)}** {result.outcome} {result.standard}.{md(result.check)}{note}: {md(first_line)}")
    return "\n".join(lines) + "\n"


def md(text: str) -> str:
    """`text` as plain text in a Markdown table cell or list item: control characters (a carriage
    return, a newline) become one space, and every character Markdown reads as markup is escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _CONTROL.sub(" ", text))


def html(fleet: Fleet, history: str = "") -> str:
    """The page: self-contained (its own style sheet and script inline, allowed by their hashes and
    nothing else; inline SVG), complete without the script, which only adds sorting and the team
    filter. `history` is the compliance-over-time section (snitch.fleet.history), when there is one."""
    package = resources.files("snitch.fleet")  # fleet.html, .css and .js sit beside this module
    page = string.Template(package.joinpath("fleet.html").read_text(encoding="utf-8"))
    style, script = (package.joinpath(name).read_text(encoding="utf-8") for name in ("fleet.css", "fleet.js"))
    return page.substitute(
        title=f"Model Standards compliance: {len(fleet.entries)} project(s)",
        style_hash=_hash(style),
        style=style,
        script_hash=_hash(script),
        script=script,
        generated_iso=date_text(fleet.generated),
        generated=_when(fleet),
        config=_config(fleet),
        headline=escape(headline(fleet)),
        legend=escape(LEGEND),
        teams=_teams(fleet),
        matrix=_matrix(fleet),
        history=history,
        details=_details(fleet),
        version=escape(__version__),
    )


def _hash(source: str) -> str:
    """A Content-Security-Policy source that allows exactly this inline style sheet or script."""
    return "sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii")


def link(url: object, text: str) -> str:
    """`text` (already escaped) as a link to `url` when that is an http(s) URL, else as plain text:
    a `javascript:` or `data:` URL from a config or a project never becomes something to click."""
    if isinstance(url, str) and _LIVE_URL.match(url):
        return f'<a href="{escape(url, quote=True)}" rel="noreferrer">{text}</a>'
    return text


_LIVE_URL = re.compile(r"(?i)^https?://[^\x00-\x20\x7f\\]+\Z")


def _config(fleet: Fleet) -> str:
    config = fleet.config()
    rows = [("config file", escape(config["file"] or "none (snitch defaults)")),
            ("standards version", escape(config["standards_version"]))]
    for key in SHOWN_PARAMETERS:
        shown = escape(_shown(config[key]))
        rows.append((key, link(config[key], shown) if key == "docs_url" else shown))
    return "".join(f"<dt>{escape(name)}</dt><dd>{value}</dd>" for name, value in rows)


def _teams(fleet: Fleet) -> str:
    rows = "".join(
        f'<tr><th scope="row">{escape(team)}</th><td>{counts["projects"]}</td><td>{counts["passed"]}</td>'
        f'<td>{counts["failed"]}</td><td>{counts["not_checkable"]}</td>'
        f'<td>{_rate(counts["passed"] / counts["projects"])}</td></tr>'
        for team, counts in fleet.teams().items()
    )
    return (
        '<table class="teams"><thead><tr><th scope="col">team</th><th scope="col">projects</th>'
        '<th scope="col">pass every standard</th><th scope="col">fail</th><th scope="col">could not be checked</th>'
        f'<th scope="col">compliance</th></tr></thead><tbody>{rows}</tbody></table>'
    )


# Sort keys: the worst outcome first when a column is sorted ascending.
_OUTCOME_RANK = {"failed": 0, "error": 1, "unknown": 2, "waived": 3, "skipped": 4, "passed": 5}
_STATE_RANK = {"failed": 0, "not checkable": 1, "passed": 2}


def _anchor(index: int, standard: int) -> str:
    return f"p{index}-s{standard}"


def _matrix(fleet: Fleet) -> str:
    columns = fleet.columns()
    head = "".join(
        f'<th scope="col" title="{escape(fleet.title(n), quote=True)}">{n}<span class="t">{escape(fleet.title(n))}</span></th>'
        for n in columns
    )
    rows = []
    for index, entry in enumerate(fleet.entries):
        team = entry.team or NO_TEAM
        model = escape(entry.report.model if entry.report else "not checkable")
        name = (f'<th scope="row" data-sort="{escape(entry.label, quote=True)}">{link(entry.repository, model)}'
                f'<span class="src">{escape(entry.source)}</span></th>')
        state = f'<td class="state" data-sort="{_STATE_RANK[entry.state]}">{escape(entry.state)}</td>'
        cells = "".join(_cell(fleet, entry, index, n) for n in columns)
        rows.append(f'<tr class="{entry.state.replace(" ", "-")}" data-team="{escape(team, quote=True)}">{name}'
                    f'<td data-sort="{escape(team, quote=True)}">{escape(team)}</td>{state}{cells}</tr>')
    rates = "".join(f'<td class="rate">{_rate(fleet.compliance(n))}</td>' for n in columns)
    return (
        '<table class="matrix" id="matrix"><thead><tr><th scope="col">project</th><th scope="col">team</th>'
        f'<th scope="col">state</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
        f'<tfoot><tr><th scope="row">compliance</th><td></td><td class="rate">{_rate(fleet.overall_compliance())}</td>'
        f"{rates}</tr></tfoot></table>"
    )


def _cell(fleet: Fleet, entry: Entry, index: int, standard: int) -> str:
    outcome = fleet.cell(entry, standard)
    symbol, rank = SYMBOLS[outcome], _OUTCOME_RANK[outcome]
    target = {"failed": _anchor(index, standard), "waived": _anchor(index, standard),
              "error": _anchor(index, standard), "unknown": f"p{index}"}.get(outcome)
    if target is None:
        return f'<td class="{outcome}" data-sort="{rank}" title="{outcome}">{symbol}</td>'
    title = f"{standard}. {fleet.title(standard)}: {MEANINGS[outcome]}"
    return (f'<td class="{outcome}" data-sort="{rank}"><a href="#{target}" title="{escape(title, quote=True)}">'
            f'{symbol}<span class="sr"> {escape(outcome)}</span></a></td>')


def _details(fleet: Fleet) -> str:
    parts = []
    for index, entry in enumerate(fleet.entries):
        if entry.report is None:
            parts.append(f'<section id="p{index}"><h3>{escape(entry.label)}: not checkable</h3>'
                         f"<p>{escape(entry.problem or '')}</p></section>")
            continue
        by_standard: dict[int, list] = {}
        for result in entry.report.results:
            if result.outcome in ("failed", "waived", "error"):
                by_standard.setdefault(result.standard, []).append(result)
        for standard, results in by_standard.items():
            items = "".join(
                f'<li class="{r.outcome}"><b>{escape(r.check)}</b> {r.outcome}'
                + (f" until {escape(str(r.waiver.expires))}: {escape(r.waiver.reason)}" if r.waiver else "")
                + f"<pre>{escape(r.message)}</pre>"
                + (f"<p>How to pass it: {link(r.url, escape(f'{standard}. {fleet.title(standard)}'))} in the Model Standards</p>"
                   if standard in fleet.standards.standards else "")
                + "</li>"
                for r in results
            )
            parts.append(
                f'<section id="{_anchor(index, standard)}"><h3>{escape(entry.label)} — '
                f"{standard}. {escape(fleet.title(standard))}</h3><ul>{items}</ul></section>"
            )
    return "".join(parts) or "<p>No findings: every project follows every standard.</p>"
