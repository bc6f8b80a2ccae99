"""Standard acme-1 — Model card: the project has a model card that names the model's intended
use, its data and its evaluation.

snitch calls each `test_*` function with the arguments it names (`project`, the project as
snitch reads it; `parameters`, the organisation's parameters with this standard's own from its
section's **Parameters.** block and the organisation config's `standards: {acme-1: ...}`)."""

from __future__ import annotations

import re
from pathlib import Path

from snitch.violation import Violation, requires

# The document section snitch reads this standard's title, rationale, Expected and Fix from.
DOCUMENT = Path(__file__).with_name("standard.md")

_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")


def test_model_card_exists(project, parameters):
    card = parameters["model_card"]
    if not project.exists(card):
        raise Violation(card, "does not exist")
    project.text(card)  # a binary, oversized or unreadable card fails here, with snitch's own message


@requires("test_model_card_exists")
def test_model_card_names_intended_use_data_and_evaluation(project, parameters):
    card = parameters["model_card"]
    filled, empty = _sections(project.text(card))
    missing = [name for name in parameters["model_card_sections"] if name.casefold() not in filled]
    if missing:
        said = ", ".join(f"{name} (heading without text)" if name.casefold() in empty else name for name in missing)
        raise Violation(card, f"has no filled-in section for: {said}")


def _sections(text: str) -> tuple[set[str], set[str]]:
    """The card's headings (case-folded) followed by some text, and those followed by none."""
    filled, empty = set(), set()
    heading, has_text = None, False
    for line in [*text.splitlines(), "# (end of the card)"]:
        match = _HEADING.match(line)
        if not match:
            has_text = has_text or bool(line.strip())
            continue
        if heading is not None:
            (filled if has_text else empty).add(heading)
        heading, has_text = match.group(1).casefold(), False
    return filled, empty - filled
