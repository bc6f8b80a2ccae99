"""Standard 3 — README: links to every resource an engineer needs, well formed, no placeholders."""

import re

from snitch.facts import readme
from snitch.facts.patterns import PATTERN_BUDGET_S, PatternTooSlow, pattern_budget
from snitch.violation import Violation

README = "README.md"


def test_readme_links_every_resource(project, parameters):
    links = [link for link in readme.links(project.text(README)) if readme.is_absolute(link.url)]
    try:
        with pattern_budget():
            missing = [
                resource
                for resource, pattern in parameters["readme_links"].items()
                if not any(re.search(pattern, link.context, re.IGNORECASE) for link in links)
            ]
    except PatternTooSlow:
        raise Violation(
            README,
            f"the organisation's readme_links patterns did not finish within {PATTERN_BUDGET_S:g} s on its lines",
            detail="a pattern such as `.*a.*b` backtracks for minutes on long lines: shorten the README's long "
            "link lines, or ask the platform team to simplify the pattern (docs/configuration.md)",
        ) from None
    if missing:
        raise Violation(
            README,
            f"no link to: {', '.join(missing)}",
            detail="each resource needs a line that names it and holds its link, e.g. "
            "`- Logs: [Datadog](https://app.datadoghq.com/logs?query=service:<model>)`",
        )


def test_readme_links_are_well_formed(project):
    broken = [
        (link.line, f"line {link.line}: {link.url} {reason}")
        for link in readme.links(project.text(README))
        if readme.is_absolute(link.url) and (reason := readme.malformed_reason(link.url))
    ]
    if broken:
        raise Violation(
            README,
            f"{len(broken)} malformed link(s)",
            detail="\n".join(text for _, text in broken),
            line=broken[0][0],
        )


def test_readme_has_no_placeholders(project):
    _fail_at_lines(readme.placeholders(project.text(README)), "unfilled placeholder(s)")


def test_readme_has_no_conflict_markers(project):
    _fail_at_lines(readme.conflict_markers(project.text(README)), "merge-conflict marker(s)")


def _fail_at_lines(found: list[tuple[int, str]], what: str) -> None:
    """Fail at the first of the (line, text) found, listing the first ten."""
    if found:
        raise Violation(
            README,
            f"{len(found)} {what}",
            detail="\n".join(f"line {line}: {text}" for line, text in found[:10]),
            line=found[0][0],
        )
