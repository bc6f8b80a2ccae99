"""Standard 6 — Image labels: the Dockerfile's final stage sets every required label, and a built
image (with --image) really carries them with sensible values."""

import re

from snitch.violation import Violation, requires

DOCKERFILE = "Dockerfile"
COMMIT_SHA = re.compile(r"^[0-9a-f]{7,40}\Z|^[0-9a-f]{64}\Z")
RFC3339 = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})\Z")


def test_dockerfile_final_stage_sets_required_labels(project, parameters):
    stage = project.dockerfile()
    missing = [label for label in parameters["image_labels"] if label not in stage.labels]
    if missing:
        raise Violation(
            DOCKERFILE,
            f"the final stage (FROM {stage.base}, line {stage.from_line}) does not set: {', '.join(missing)}",
            line=stage.from_line,
        )


def test_label_values_are_not_empty(project, parameters):
    stage = project.dockerfile()
    empty = []  # (line, problem)
    for key in parameters["image_labels"]:
        label = stage.labels.get(key)
        if label is None:
            continue  # reported by test_dockerfile_final_stage_sets_required_labels
        undeclared = [name for name in label.required_variables if name not in stage.args and name not in stage.env]
        if undeclared:
            empty.append((label.line, f"{key} (line {label.line}) uses ${{{undeclared[0]}}}, which no ARG or ENV of the final stage declares"))
        elif not label.value.strip():
            empty.append((label.line, f"{key} (line {label.line}) is empty"))
    if empty:
        raise Violation(
            DOCKERFILE,
            f"{len(empty)} label(s) would be empty",
            detail="\n".join(problem for _, problem in empty),
            line=empty[0][0],
        )


def test_model_label_is_model_name(project, parameters):
    stage = project.dockerfile()
    key = parameters["model_label"]
    label = stage.labels.get(key)
    if label is None:
        raise Violation(DOCKERFILE, f"the final stage sets no {key} label")
    value = stage.static_value(label)
    if value != project.model:
        shown = f"{label.value!r} (its value is only known at build time)" if value is None else repr(value)
        raise Violation(DOCKERFILE, f"the {key} label is {shown}, not the model name {project.model!r}", line=label.line)


def test_built_image_has_required_labels(built_image, parameters):
    labels = built_image.labels()
    missing = [key for key in parameters["image_labels"] if not labels.get(key, "").strip()]
    if missing:
        raise Violation(built_image.name, f"the image has no value for: {', '.join(missing)}")


@requires("test_built_image_has_required_labels")
def test_built_image_label_values(built_image, project, parameters):
    labels = built_image.labels()
    wrong = []
    model = labels.get(parameters["model_label"], "")
    if model != project.model:
        wrong.append(f"{parameters['model_label']}={model!r} is not the model name {project.model!r}")
    vcs_ref = labels.get(parameters["vcs_ref_label"], "")
    if not COMMIT_SHA.match(vcs_ref):
        wrong.append(f"{parameters['vcs_ref_label']}={vcs_ref!r} is not a git commit SHA")
    build_date = labels.get(parameters["build_date_label"], "")
    if not RFC3339.match(build_date):
        wrong.append(f"{parameters['build_date_label']}={build_date!r} is not an RFC 3339 date-time")
    if wrong:
        raise Violation(built_image.name, f"{len(wrong)} label value(s) are wrong", detail="\n".join(wrong))
