"""Standard 4 — Serving class: serve.py subclasses kserve.Model (legacy KFModel recognised) and
implements load() and predict()."""

from snitch.serving import sets_ready
from snitch.violation import Violation

SERVE = "serve.py"


def serving_classes(project):
    analysis = project.serving()
    if not analysis.classes:
        others = ", ".join(analysis.other_classes) or "none"
        raise Violation(SERVE, f"no class subclasses kserve.Model (classes found: {others})")
    return analysis.classes


def method_everywhere(project, name: str):
    """Each serving class's `name` method; a Violation naming the classes that lack it."""
    classes = serving_classes(project)
    lacking = [cls.declaration for cls in classes if name not in cls.methods]
    if lacking:
        raise Violation(SERVE, f"{', '.join(lacking)} does not implement {name}()")
    return [cls.methods[name] for cls in classes]


def test_serve_py_defines_model_subclass(project):
    serving_classes(project)


def test_model_subclass_implements_load(project):
    method_everywhere(project, "load")


def test_model_subclass_implements_predict(project):
    method_everywhere(project, "predict")


def test_load_marks_model_ready(project):
    not_ready = [f"load() at line {method.lineno}" for method in method_everywhere(project, "load") if not sets_ready(method)]
    if not_ready:
        raise Violation(SERVE, f"{', '.join(not_ready)} never sets self.ready = True")
