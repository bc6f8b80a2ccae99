"""Standard 4 — Serving class: every class serve.py serves subclasses kserve.Model (legacy KFModel
recognised), directly or through the project's own modules, and implements load() and predict()."""

from snitch.facts import serve_summary
from snitch.facts.serve_analysis import listing
from snitch.violation import Violation, requires

SERVE = "serve.py"


def serving_classes(project):
    analysis = serve_summary.of(project)
    if not analysis.classes:
        others = ", ".join(analysis.other_classes) or "none"
        unfollowed = [f"{path} could not be followed: it {why}" for path, why in analysis.problems.items()]
        unread = "\n".join(listing(unfollowed))
        raise Violation(SERVE, f"no class subclasses kserve.Model (classes found: {others})", detail=unread or None)
    return analysis.classes


def lacking(project, name: str) -> None:
    """A Violation naming every serving class without a `name` method."""
    missing = [cls for cls in serving_classes(project) if name in cls.missing]
    if missing:
        raise Violation(
            SERVE,
            f"{', '.join(listing([cls.declaration for cls in missing]))} does not implement {name}()",
            line=missing[0].line,
        )


def test_serve_py_defines_model_subclass(project):
    serving_classes(project)


@requires("test_serve_py_defines_model_subclass")
def test_model_subclass_implements_load(project):
    lacking(project, "load")


@requires("test_serve_py_defines_model_subclass")
def test_model_subclass_implements_predict(project):
    lacking(project, "predict")


@requires("test_model_subclass_implements_load")
def test_load_marks_model_ready(project):
    not_ready = [cls for cls in serving_classes(project) if not cls.load_sets_ready]
    if not_ready:
        described = [f"{cls.name}.load() ({cls.load})" for cls in not_ready]
        raise Violation(SERVE, f"{', '.join(listing(described))} never sets self.ready = True", line=not_ready[0].line)
