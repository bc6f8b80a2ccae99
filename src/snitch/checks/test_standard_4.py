"""Standard 4 — Serving class: every class serve.py serves subclasses kserve.Model (legacy KFModel
recognised), directly or through the project's own modules, and implements load() and predict()."""

from snitch.serving import listing, load_sets_ready
from snitch.violation import Violation

SERVE = "serve.py"


def serving_classes(project):
    analysis = project.serving()
    if not analysis.classes:
        others = ", ".join(analysis.other_classes) or "none"
        unfollowed = [f"{path} could not be followed: it {why}" for path, why in analysis.problems.items()]
        unread = "\n".join(listing(unfollowed))
        raise Violation(SERVE, f"no class subclasses kserve.Model (classes found: {others})", detail=unread or None)
    return analysis.classes


def lacking(project, name: str) -> None:
    """A Violation naming every serving class without a `name` method."""
    missing = [cls.declaration for cls in serving_classes(project) if cls.method(name) is None]
    if missing:
        raise Violation(SERVE, f"{', '.join(listing(missing))} does not implement {name}()")


def test_serve_py_defines_model_subclass(project):
    serving_classes(project)


def test_model_subclass_implements_load(project):
    lacking(project, "load")


def test_model_subclass_implements_predict(project):
    lacking(project, "predict")


def test_load_marks_model_ready(project):
    lacking(project, "load")
    not_ready = [
        f"{cls.name}.load() ({cls.place(cls.method('load'))})"
        for cls in serving_classes(project)
        if not load_sets_ready(cls)
    ]
    if not_ready:
        raise Violation(SERVE, f"{', '.join(listing(not_ready))} never sets self.ready = True")
