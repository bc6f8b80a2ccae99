"""Standard 4 — Serving class, recognised by AST in every import form."""

import pytest

from fixtures.checker import assert_only_failure, edit, passed_on_compliant, run_checks

SERVE = "serve.py"


def serving_module(header: str, base: str, *, load: str = "def", predict: str | None = "def") -> str:
    predict_method = (
        f"    {predict} predict(self, payload, headers=None, response_headers=None):\n"
        "        return {'predictions': []}\n"
        if predict
        else ""
    )
    return (
        f"import ddtrace\nddtrace.patch(fastapi=True)\n{header}\n\n\n"
        f"class Iris({base}):\n"
        f"    {load} load(self):\n        self.ready = True\n        return self.ready\n\n"
        f"{predict_method}"
    )


@pytest.mark.parametrize(
    "header, base",
    [
        ("import kserve", "kserve.Model"),
        ("from kserve import Model", "Model"),
        ("from kserve import Model as Base", "Base"),
        ("import kserve as ks", "ks.Model"),
        ("from kserve.model import Model", "Model"),
        ("import kserve.model", "kserve.model.Model"),
    ],
)
def test_every_import_form_is_recognised(compliant, header, base):
    (compliant / SERVE).write_text(serving_module(header, base, load="async def", predict="async def"))
    run = run_checks(compliant, 4)
    assert run.code == 0, run.stdout


@pytest.mark.parametrize(
    "header, base, pin",
    [("import kfserving", "kfserving.KFModel", "kfserving==0.6.1"), ("from kserve import KFModel", "KFModel", "kserve==0.7.0")],
)
def test_legacy_kfmodel_is_recognised(compliant, header, base, pin):
    (compliant / SERVE).write_text(serving_module(header, base).replace("fastapi=True", "tornado=True"))
    requirements = compliant / "requirements.txt"
    requirements.write_text(requirements.read_text().replace("kserve==0.21.0", pin))
    run = run_checks(compliant, 4, 5, 10)
    assert run.code == 0, run.stdout


def test_subclass_through_an_intermediate_class(compliant):
    (compliant / SERVE).write_text(
        "import ddtrace\nddtrace.patch(fastapi=True)\nimport kserve\n\n"
        "class Base(kserve.Model):\n    def load(self):\n        self.ready = True\n\n"
        "class Iris(Base):\n    def predict(self, payload, headers=None):\n        return payload\n"
    )
    assert run_checks(compliant, 4).code == 0


def test_base_class_in_a_project_module(compliant):
    """The serving class's base lives in the project's own package (the issue's NLLB(LLM) shape)."""
    package = compliant / "src" / "models" / "llm"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from src.models.llm.model import LLM\n")
    (package / "model.py").write_text(
        "import kserve\n\n\nclass LLM(kserve.Model):\n    def load(self):\n        self.ready = True\n"
    )
    (compliant / SERVE).write_text(
        "import ddtrace\nddtrace.patch(fastapi=True)\nfrom src.models.llm import LLM\n\n\n"
        "class NLLB(LLM):\n    def predict(self, payload, headers=None):\n        return payload\n"
    )
    assert run_checks(compliant, 4, 5).code == 0
    (package / "model.py").write_text("class LLM:\n    pass\n")
    message = run_checks(compliant, 4).check("test_serve_py_defines_model_subclass")["message"]
    assert "no class subclasses kserve.Model (classes found: NLLB(LLM))" in message


def test_every_serving_class_is_judged(compliant):
    (compliant / SERVE).write_text(
        (compliant / SERVE).read_text()
        + "\n\nclass Explainer(kserve.Model):\n    def load(self):\n        self.ready: bool\n"
    )
    run = run_checks(compliant, 4)
    assert run.failed() == {"test_model_subclass_implements_predict", "test_load_marks_model_ready"}
    predict = run.check("test_model_subclass_implements_predict")["message"]
    assert "class Explainer (line" in predict and "Classifier" not in predict.splitlines()[0]
    assert "Explainer.load() (line" in run.check("test_load_marks_model_ready")["message"]


def test_serve_py_defines_model_subclass(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_serve_py_defines_model_subclass")
    edit(compliant / SERVE, "class Classifier(kserve.Model):", "class Classifier(object):")
    run = run_checks(compliant, 4)
    assert run.code == 1
    result = run.check("test_serve_py_defines_model_subclass")
    assert ("no class subclasses kserve.Model (classes found: PredictionLate(BaseException), Deadline(object), "
            "Classifier(object), ClientMistakesInOneLine(logging.Filter)") in result["message"]
    # the method checks depend on the class: skipped naming it, neither passed vacuously nor failed again
    assert run.failed() == {"test_serve_py_defines_model_subclass"}
    for check in ("test_model_subclass_implements_load", "test_model_subclass_implements_predict"):
        assert run.check(check)["outcome"] == "skipped"
        assert run.check(check)["message"].startswith("requires 4.test_serve_py_defines_model_subclass, which failed (")
    assert "because 4.test_serve_py_defines_model_subclass failed" in run.check("test_load_marks_model_ready")["message"]


def test_model_subclass_implements_load(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_model_subclass_implements_load")
    edit(compliant / SERVE, "def load(self)", "def load_weights(self)")
    run = run_checks(compliant, 4)
    assert run.failed() == {"test_model_subclass_implements_load"}
    assert run.check("test_load_marks_model_ready")["outcome"] == "skipped"
    result = run.check("test_model_subclass_implements_load")
    assert "class Classifier (line" in result["message"]
    assert result["line"] == next(n for n, line in enumerate((compliant / SERVE).read_text().splitlines(), 1)
                                  if line.startswith("class Classifier"))
    assert "does not implement load()" in run.check("test_model_subclass_implements_load")["message"]


def test_model_subclass_implements_predict(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_model_subclass_implements_predict")
    edit(compliant / SERVE, "def predict(self", "def infer(self")
    run = run_checks(compliant, 4)
    assert_only_failure(run, 4, "test_model_subclass_implements_predict", SERVE, "does not implement predict()")


def test_load_marks_model_ready(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_load_marks_model_ready")
    edit(compliant / SERVE, "        self.ready = True\n", "")
    run = run_checks(compliant, 4)
    assert_only_failure(run, 4, "test_load_marks_model_ready", SERVE, "never sets self.ready = True")


def test_many_failing_classes_are_listed_briefly(compliant):
    """A file with 25 serving classes lacking predict() names ten of them and counts the rest."""
    classes = "".join(f"\n\nclass Part{i}(kserve.Model):\n    def load(self):\n        self.ready = True\n" for i in range(25))
    (compliant / SERVE).write_text((compliant / SERVE).read_text() + classes)
    message = run_checks(compliant, 4).check("test_model_subclass_implements_predict")["message"]
    first_line = message.splitlines()[0]
    assert "class Part9 (line" in first_line and "and 15 more does not implement predict()" in first_line
    assert "Part10 " not in first_line


def test_the_later_import_of_a_name_is_the_binding_that_counts(compliant):
    """`Model` from keras, then from kserve: Python binds the second, so the class serves."""
    (compliant / SERVE).write_text(serving_module("from keras.models import Model\nfrom kserve import Model", "Model"))
    run = run_checks(compliant, 4)
    assert run.code == 0, run.stdout
    (compliant / SERVE).write_text(serving_module("from kserve import Model\nfrom keras.models import Model", "Model"))
    assert "test_serve_py_defines_model_subclass" in run_checks(compliant, 4).failed()


def test_a_fallback_import_does_not_replace_the_one_that_runs(compliant):
    header = "try:\n    from kserve import Model\nexcept ImportError:\n    from keras.models import Model"
    (compliant / SERVE).write_text(serving_module(header, "Model"))
    assert run_checks(compliant, 4).code == 0
