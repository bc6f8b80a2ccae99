"""The release of the shared pipeline and snitch that a model project pins.

One value serves the include's `ref`, the pre-commit hook's `rev` and the nox session's pin of
`model-snitch`: the template writes it and standard 9 checks it. It is the organisation config's
`pipeline_ref` when the config names one, else the tag of this snitch release (`v` + the package
version); either way it must match the organisation's `pipeline_ref_pattern`."""

from __future__ import annotations

import re

from snitch import __version__
from snitch.facts.patterns import PATTERN_BUDGET_S, PatternTooSlow, pattern_budget
from snitch.violation import shown


def release_tag() -> str:
    """This snitch's own release tag: version 1.0.0 is tagged v1.0.0 (docs/pipeline.md, releases)."""
    return f"v{__version__}"


def pipeline_ref(parameters: dict) -> str:
    """The ref a project pins the shared pipeline at, under the organisation's parameters."""
    return parameters.get("pipeline_ref") or release_tag()


def ref_problem(ref: object, parameters: dict) -> str | None:
    """Why `ref` is not a release tag the organisation allows, to follow "included at "; None if
    it is. The whole ref must match, in ASCII: `$` alone would accept a trailing newline, `\\d`
    other scripts' digits."""
    pattern = parameters["pipeline_ref_pattern"]
    if not isinstance(ref, str):
        return f"ref {shown(ref)}, which is not text, so not a release tag"
    try:
        with pattern_budget():
            tag = re.fullmatch(pattern, ref, re.ASCII)
    except PatternTooSlow:
        return (f"ref {shown(ref, 60)}, too long for the organisation's pipeline_ref_pattern to judge "
                f"within {PATTERN_BUDGET_S:g} s")
    if not tag:
        return f"ref {shown(ref)}, which is not a release tag (pipeline_ref_pattern {pattern!r})"
    return None


def configured_ref_problem(parameters: dict) -> str | None:
    """Why the config's own `pipeline_ref` breaks its `pipeline_ref_pattern`: every project
    rendered under it would fail standard 9. (Without a pipeline_ref, the template judges this
    snitch's release tag when it renders, and refuses naming the config.)"""
    if not parameters.get("pipeline_ref"):
        return None
    problem = ref_problem(parameters["pipeline_ref"], parameters)
    return problem and f"pipeline_ref gives the {problem}; set it to a tag that pipeline_ref_pattern accepts"
