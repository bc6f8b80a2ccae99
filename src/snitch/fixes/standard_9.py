"""Fixes for standard 9 — Shared pipeline: pin the include of the Model Promotion Pipeline at the
release the organisation's day-one contract names (snitch.facts.release.pipeline_ref).

Only the `ref:` of a block-style include entry is touched (its value replaced, or the key added
under `project:` at the same indentation); the edited document is parsed again and must pin
exactly that ref, or nothing is changed."""

from __future__ import annotations

import re

from snitch.facts import gitlab_ci
from snitch.facts.release import pipeline_ref
from snitch.fixes import CannotFix
from snitch.read.safe_yaml import YamlProblem, load_documents

FILE = gitlab_ci.CI
# A `project:` or `ref:` line of a block mapping (maybe its first key, after `- `), with what follows.
_KEY_LINE = r"^(?P<indent>[ \t]*(?:-[ \t]+)?){key}[ \t]*:[ \t]*(?P<value>[^#\n]*?)(?P<comment>[ \t]+#.*)?$"


def pin_shared_pipeline(text: str, project, parameters) -> str:
    wanted = pipeline_ref(parameters)
    lines = text.split("\n")
    first, end = _entry(lines, parameters["pipeline_project"])
    column = _key_column(lines[first])
    for index in range(first, end):
        match = re.match(_KEY_LINE.format(key="ref"), lines[index])
        if match and len(match.group("indent")) == column:
            lines[index] = f"{match.group('indent')}ref: {wanted}{match.group('comment') or ''}"
            break
    else:
        project_line = next(index for index in range(first, end) if re.match(_KEY_LINE.format(key="project"), lines[index]))
        lines.insert(project_line + 1, " " * column + f"ref: {wanted}")
    fixed = "\n".join(lines)
    _confirm(fixed, parameters, wanted)
    return fixed


def _entry(lines: list[str], pipeline_project: str) -> tuple[int, int]:
    """The first and past-the-last line of the block-style include entry of `pipeline_project`."""
    for start, line in enumerate(lines):
        match = re.match(_KEY_LINE.format(key="project"), line)
        if match and match.group("value").strip().strip("\"'") == pipeline_project:
            break
    else:
        raise CannotFix(f"the include of {pipeline_project} is not written in block style (`project:` on a line of its own)")
    column, first, end = _key_column(lines[start]), start, start + 1
    while not _starts_entry(lines[first]) and first > 0 and (not lines[first - 1].strip() or _key_column(lines[first - 1]) >= column):
        first -= 1  # up to the entry's `- ` line (or the mapping's first key)
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) >= column):
        end += 1
    return first, end


def _key_column(line: str) -> int:
    """Where a block mapping's key starts on `line` (after its indentation and a list's `- `)."""
    return len(re.match(r"[ \t]*(?:-[ \t]+)?", line).group())


def _starts_entry(line: str) -> bool:
    return bool(re.match(r"[ \t]*-[ \t]", line))


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _confirm(fixed: str, parameters: dict, wanted: str) -> None:
    try:
        documents = load_documents(fixed)
    except YamlProblem as problem:
        raise CannotFix(f"pinning the ref would leave {FILE} unreadable ({problem})") from None
    document = documents[0] if documents and isinstance(documents[0], dict) else {}
    include = gitlab_ci.pipeline_include(document, parameters["pipeline_project"], parameters["pipeline_file"])
    if include is None or include.get("ref") != wanted:
        raise CannotFix(f"the include of {parameters['pipeline_project']} is laid out in a way snitch cannot edit safely; "
                        f"set its `ref: {wanted}` by hand")


FIXES = {"test_shared_pipeline_ref_is_pinned_tag": pin_shared_pipeline}
