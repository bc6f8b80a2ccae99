"""Fixes for standard 6 — Image labels: add the required labels the Dockerfile's final stage
lacks, as the template's Dockerfile sets them: the model label to the model's name, the labels
the pipeline's build job fills to its build arguments (`${VCS_REF}`, `${BUILD_DATE}`,
`${VCS_URL}`, `${VERSION}`, each ARG declared in the stage), a `schema-version` to 1.0. A label
only the team can fill (an author, a vendor) is left, and said so.

The new LABEL goes after the stage's last LABEL or ARG (or its FROM), so every ARG it uses is
declared before it, as Docker requires; nothing else in the file moves."""

from __future__ import annotations

import re

from snitch.fixes import CannotFix
from snitch.read.dockerfile import DockerfileProblem, final_stage, instructions
from snitch.read.image_labels import build_argument_labels

FILE = "Dockerfile"


def add_required_labels(text: str, project, parameters) -> str:
    if re.search(r"^#\s*escape\s*=\s*`", text, re.IGNORECASE | re.MULTILINE):
        raise CannotFix(f"{FILE} continues lines with ` (escape directive); add the labels by hand")
    try:
        stage = final_stage(text)
    except DockerfileProblem as problem:
        raise CannotFix(f"{FILE} cannot be read ({problem})") from None
    missing = [label for label in parameters["image_labels"] if label not in stage.labels]
    if not missing:
        return text  # added for another check of this standard in the same run
    from_build = build_argument_labels(parameters)
    values, unknown = {}, []
    for label in missing:
        if label == parameters["model_label"]:
            values[label] = project.model
        elif label in from_build:
            values[label] = "${%s}" % from_build[label]
        elif label.rsplit(".", 1)[-1] == "schema-version":
            values[label] = "1.0"
        else:
            unknown.append(label)
    if not values:
        raise CannotFix(f"{', '.join(unknown)} need a value only the team knows: set them in the final stage's LABEL")
    lines = text.split("\n")
    after, declared = _insertion_point(text, stage.from_line)
    needed = sorted({from_build[label] for label in values if label in from_build} - declared)
    pairs = [f'{label}="{value}"' for label, value in values.items()]
    block = [f"ARG {name}" for name in needed] + ["LABEL " + " \\\n      ".join(pairs)]
    lines[after:after] = "\n".join(block).split("\n")
    # Labels only the team can fill stay missing: the check after the fix names them.
    return "\n".join(lines)


def _insertion_point(text: str, from_line: int) -> tuple[int, set[str]]:
    """The line index after the final stage's last LABEL or ARG (else its FROM), and the ARGs it
    declares before there."""
    last, declared = from_line, set()
    for line, keyword, arguments in instructions(text):
        if line < from_line or keyword not in ("ARG", "LABEL", "FROM"):
            continue
        last = line
        if keyword == "ARG":
            declared |= {word.split("=", 1)[0] for word in arguments.split()}
    lines = text.split("\n")
    end = last - 1  # follow the instruction's continuation lines to its last one
    while end < len(lines) - 1 and lines[end].rstrip().endswith("\\"):
        end += 1
    return end + 1, declared


def name_the_model(text: str, project, parameters) -> str:
    """A missing model label is added with the others; one that names something else is the
    team's to correct (the project may be the one misnamed)."""
    try:
        stage = final_stage(text)
    except DockerfileProblem as problem:
        raise CannotFix(f"{FILE} cannot be read ({problem})") from None
    label = stage.labels.get(parameters["model_label"])
    if label is not None and stage.static_value(label) == project.model:
        return text  # added with the other labels in this run
    if label is not None:
        raise CannotFix(f"the {parameters['model_label']} label names another model: set it to {project.model!r}, "
                        "or check the project with its own name")
    return add_required_labels(text, project, parameters)


FIXES = {
    "test_dockerfile_final_stage_sets_required_labels": add_required_labels,
    "test_model_label_is_model_name": name_the_model,
}
