"""Unit tests for how serve.py's serving classes and tracing are resolved (snitch.facts.serve_analysis,
snitch.facts.modules, snitch.facts.tracing), in-process on small projects shaped like real KServe servers."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from snitch.facts import modules, serve_analysis
from snitch.read.project import Project
from snitch.read.requirements import conflicting_pins, parse

MODEL = "iris-classifier"
# A complete serving class body: load() that sets ready, and predict().
BODY = """
    def load(self):
        self.ready = True

    def predict(self, payload, headers=None):
        return payload
"""


def project(root: Path, files: dict[str, str]) -> Project:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return Project(root, MODEL)


def analyse(root: Path, files: dict[str, str]) -> serve_analysis.ServeAnalysis:
    return serve_analysis.analyse(project(root, files))


def served(analysis: serve_analysis.ServeAnalysis) -> dict[str, tuple[str, str]]:
    """name -> (api, where) of every class serve.py serves."""
    return {cls.name: (cls.api, cls.ref.path) for cls in analysis.classes}


# Serving classes: bases followed into the project's own modules.


def test_base_class_in_another_module_of_the_project(tmp_path):
    """The issue's case: `from src.models.llm.model import LLM; class NLLB(LLM)`, LLM(kserve.Model)."""
    analysis = analyse(tmp_path, {
        "src/models/llm/model.py": "import kserve\n\nclass LLM(kserve.Model):" + BODY,
        "src/models/llm/__init__.py": "",
        "serve.py": "from src.models.llm.model import LLM\n\nclass NLLB(LLM):\n    def preprocess(self, p):\n        return p\n",
    })
    assert served(analysis) == {"NLLB": ("kserve.Model", "serve.py")}
    nllb = analysis.classes[0]
    assert sorted(nllb.methods) == ["load", "predict", "preprocess"]
    assert nllb.method("load").path == "src/models/llm/model.py"
    assert serve_analysis.load_sets_ready(nllb)


@pytest.mark.parametrize("max_listed", [modules.MAX_LISTED, 3, 0])
def test_import_probes_answer_alike_from_listings_and_lstat(tmp_path, monkeypatch, max_listed):
    """Whether a module is there is read from its folder's listing (one scandir answers every probe
    in it); a folder of more than MAX_LISTED entries is probed with lstat instead. Same answers."""
    monkeypatch.setattr(modules, "MAX_LISTED", max_listed)
    analysis = analyse(tmp_path, {
        "app/__init__.py": "",
        "app/base.py": "import kserve\n\nclass Base(kserve.Model):" + BODY,
        "app/numpy.txt": "not a module",
        "src/helpers/tracing.py": "import ddtrace\n\ndef on():\n    ddtrace.patch(fastapi=True)\n",
        "serve.py": "import numpy\nfrom helpers.tracing import on\nfrom app.base import Base\nfrom app import missing\n\n"
                    "on()\n\nclass Iris(Base):\n    pass\n",
    })
    assert served(analysis) == {"Iris": ("kserve.Model", "serve.py")}
    assert [(way.where, way.runs_before_server) for way in analysis.tracing] == [("src/helpers/tracing.py, line 4", True)]


def test_src_layout_absolute_import(tmp_path):
    analysis = analyse(tmp_path, {
        "src/servers/base.py": "from kserve import Model\n\nclass Base(Model):" + BODY,
        "serve.py": "from servers.base import Base\n\nclass Iris(Base):\n    pass\n",
    })
    assert served(analysis) == {"Iris": ("kserve.Model", "serve.py")}


def test_package_relative_imports_any_depth(tmp_path):
    analysis = analyse(tmp_path, {
        "app/__init__.py": "",
        "app/common/__init__.py": "",
        "app/common/kserve_base.py": "import kserve as ks\n\nclass Base(ks.Model):\n    def load(self):\n        self.ready = True\n",
        "app/models/__init__.py": "",
        "app/models/mid.py": "from ..common.kserve_base import Base\n\nclass Mid(Base):\n    def predict(self, p):\n        return p\n",
        "app/models/leaf.py": "from .mid import Mid\n\nclass Leaf(Mid):\n    pass\n",
        "serve.py": "from app.models.leaf import Leaf\n\nclass Iris(Leaf):\n    pass\n",
    })
    iris = analysis.classes[0]
    assert served(analysis) == {"Iris": ("kserve.Model", "serve.py")}
    assert iris.method("predict").path == "app/models/mid.py"
    assert iris.method("load").path == "app/common/kserve_base.py"


def test_re_export_through_package_init(tmp_path):
    analysis = analyse(tmp_path, {
        "models/__init__.py": "from models.llm import LLM as BaseLLM\n\n__all__ = ['BaseLLM']\n",
        "models/llm.py": "import kserve\n\nclass LLM(kserve.Model):" + BODY,
        "serve.py": "from models import BaseLLM\n\nclass Translator(BaseLLM):\n    pass\n",
    })
    assert served(analysis) == {"Translator": ("kserve.Model", "serve.py")}


def test_star_re_export_and_module_alias(tmp_path):
    analysis = analyse(tmp_path, {
        "lib/__init__.py": "from .impl import *\n",
        "lib/impl.py": "from kserve import Model\n\nclass Base(Model):" + BODY,
        "serve.py": "import lib.impl as impl\nimport lib\n\nclass A(impl.Base):\n    pass\n\nclass B(lib.Base):\n    pass\n",
    })
    assert served(analysis) == {"A": ("kserve.Model", "serve.py"), "B": ("kserve.Model", "serve.py")}


def test_namespace_package_without_init(tmp_path):
    analysis = analyse(tmp_path, {
        "servers/kserve_base.py": "import kserve\n\nclass Base(kserve.Model):" + BODY,
        "serve.py": "from servers import kserve_base\n\nclass Iris(kserve_base.Base):\n    pass\n",
    })
    assert served(analysis) == {"Iris": ("kserve.Model", "serve.py")}


def test_class_defined_elsewhere_and_only_instantiated_in_serve_py(tmp_path):
    analysis = analyse(tmp_path, {
        "src/models/llm/__init__.py": "from src.models.llm.nllb import NLLB\n",
        "src/models/llm/nllb.py": "import kserve\n\nclass NLLB(kserve.Model):\n    def load(self):\n        self.ready = True\n",
        "serve.py": "import kserve\nfrom src.models.llm import NLLB\n\nif __name__ == '__main__':\n    kserve.ModelServer().start([NLLB('nllb')])\n",
    })
    assert served(analysis) == {"NLLB": ("kserve.Model", "src/models/llm/nllb.py")}
    nllb = analysis.classes[0]
    assert nllb.declaration == "class NLLB (src/models/llm/nllb.py, line 3)"
    assert nllb.method("predict") is None


def test_imported_but_unused_class_is_not_served(tmp_path):
    analysis = analyse(tmp_path, {
        "other.py": "import kserve\n\nclass Other(kserve.Model):" + BODY,
        "serve.py": "import kserve\nfrom other import Other  # noqa: F401\n\nclass Iris(kserve.Model):" + BODY,
    })
    assert served(analysis) == {"Iris": ("kserve.Model", "serve.py")}


@pytest.mark.parametrize(
    "header, base, api",
    [
        ("from kfserving.transformer import Transformer", "Transformer", "kfserving.KFModel"),
        ("import kfserving.transformer", "kfserving.transformer.Transformer", "kfserving.KFModel"),
        ("from kfserving import KFModel", "KFModel", "kfserving.KFModel"),
        ("from kfserving.kfmodel import KFModel", "KFModel", "kfserving.KFModel"),
        ("import kserve", "kserve.KFModel", "kserve.KFModel"),
        ("from kserve.model import Model", "Model", "kserve.Model"),
    ],
)
def test_legacy_and_current_bases(tmp_path, header, base, api):
    analysis = analyse(tmp_path, {"serve.py": f"{header}\n\nclass Server({base}):" + BODY})
    assert served(analysis) == {"Server": (api, "serve.py")}


def test_every_serving_class_is_judged(tmp_path):
    analysis = analyse(tmp_path, {
        "serve.py": (
            "import kserve\n\n"
            "class Pre(kserve.Model):\n    def load(self):\n        self.ready: bool\n\n"
            "class Predictor(kserve.Model):" + BODY + "\n"
            "class Post(kserve.Model):\n    def load(self):\n        self.ready: bool = True\n\n"
            "class Helper:\n    pass\n"
        ),
    })
    assert [cls.name for cls in analysis.classes] == ["Pre", "Predictor", "Post"]
    assert [cls.name for cls in analysis.classes if cls.method("predict") is None] == ["Pre", "Post"]
    # a bare annotation assigns nothing; an annotated assignment does
    assert [cls.name for cls in analysis.classes if not serve_analysis.load_sets_ready(cls)] == ["Pre"]
    assert analysis.other_classes == ["Helper(object)"]


def test_an_extended_base_in_serve_py_is_not_judged_itself(tmp_path):
    analysis = analyse(tmp_path, {
        "serve.py": "import kserve\n\nclass Base(kserve.Model):\n    def load(self):\n        self.ready = True\n\n"
                    "class Iris(Base):\n    def predict(self, p):\n        return p\n",
    })
    assert served(analysis) == {"Iris": ("kserve.Model", "serve.py")}


def test_first_definition_wins_left_to_right(tmp_path):
    analysis = analyse(tmp_path, {
        "mixins.py": "class Lazy:\n    def load(self):\n        self.loaded = False\n",
        "serve.py": (
            "import kserve\nfrom mixins import Lazy\n\n"
            "class Eager(kserve.Model):" + BODY + "\n"
            "class Iris(Lazy, Eager):\n    pass\n"
        ),
    })
    iris = analysis.classes[0]
    assert iris.name == "Iris" and iris.method("load").path == "mixins.py"
    assert iris.method("predict").path == "serve.py"
    assert not serve_analysis.load_sets_ready(iris)


def test_load_calling_super_load(tmp_path):
    analysis = analyse(tmp_path, {
        "base.py": "import kserve\n\nclass Base(kserve.Model):\n    def load(self):\n        self.ready = True\n",
        "serve.py": (
            "import kserve\nfrom base import Base\n\n"
            "class ViaBase(Base):\n    def load(self):\n        self.model = 1\n        super().load()\n\n"
            "class ViaLibrary(kserve.Model):\n    def load(self):\n        return super().load()\n\n"
            "class Forgets(kserve.Model):\n    def load(self):\n        self.model = 1\n"
        ),
    })
    verdicts = {cls.name: serve_analysis.load_sets_ready(cls) for cls in analysis.classes}
    assert verdicts == {"ViaBase": True, "ViaLibrary": True, "Forgets": False}


def test_try_import_fallback_takes_the_first_branch(tmp_path):
    analysis = analyse(tmp_path, {
        "serve.py": (
            "try:\n    from kserve import Model\nexcept ImportError:\n    from kfserving import KFModel as Model\n\n"
            "class Iris(Model):" + BODY
        ),
    })
    assert served(analysis) == {"Iris": ("kserve.Model", "serve.py")}


def test_project_folder_named_like_kserve_does_not_shadow_it(tmp_path):
    analysis = analyse(tmp_path, {
        "kserve/inference-service.yaml": "kind: InferenceService\n",
        "serve.py": "import kserve\n\nclass Iris(kserve.Model):" + BODY,
    })
    assert served(analysis) == {"Iris": ("kserve.Model", "serve.py")}


# Hostile and broken input: cycles, long chains, unreadable modules, bounds.


def test_import_and_base_cycles_end(tmp_path):
    analysis = analyse(tmp_path, {
        "a.py": "from b import Thing\n",
        "b.py": "from a import Thing\n",
        "serve.py": "from a import Thing\nAlias = Other\nOther = Alias\n\nclass X(Y):\n    pass\n\nclass Y(X):\n    pass\n\n"
                    "class Z(Thing, Alias):\n    pass\n",
    })
    assert analysis.classes == []
    assert analysis.other_classes == ["X(Y)", "Y(X)", "Z(Thing, Alias)"]


def test_10000_class_chain_is_resolved_in_linear_work(tmp_path, monkeypatch):
    count = 10_000
    chain = "".join(f"class C{i}(C{i - 1}):\n    pass\n" for i in range(1, count))
    root = project(tmp_path, {"serve.py": "import kserve\n\nclass C0(kserve.Model):" + BODY + chain})
    own_methods_calls = []
    original = serve_analysis._own_methods
    monkeypatch.setattr(serve_analysis, "_own_methods", lambda cls: own_methods_calls.append(cls) or original(cls))
    analysis = serve_analysis.analyse(root)
    last = analysis.classes[0]
    assert [cls.name for cls in analysis.classes] == [f"C{count - 1}"]
    assert last.method("load").node.lineno == 4 and serve_analysis.load_sets_ready(last)
    # each class's body is looked at a bounded number of times, not once per descendant
    assert len(own_methods_calls) <= 3 * count


def test_long_call_and_alias_chains_do_not_exhaust_the_stack(tmp_path):
    count = 5_000
    functions = "".join(f"def f{i}():\n    f{i + 1}()\n" for i in range(count))
    aliases = "".join(f"A{i + 1} = A{i}\n" for i in range(count))
    analysis = analyse(tmp_path, {
        "serve.py": (
            "import ddtrace\nimport kserve\nA0 = kserve.Model\n" + aliases + functions
            + f"def f{count}():\n    ddtrace.patch(fastapi=True)\n\n"
            + f"class Iris(A{count}):" + BODY + "\nf0()\nkserve.ModelServer().start([Iris('iris')])\n"
        ),
    })
    assert served(analysis) == {"Iris": ("kserve.Model", "serve.py")}
    assert [way.runs_before_server for way in analysis.tracing] == [True]


def test_unreadable_base_module_is_named(tmp_path):
    analysis = analyse(tmp_path, {
        "models/base.py": "class Base(kserve.Model:\n",
        "serve.py": "from models.base import Base\n\nclass Iris(Base):\n    pass\n",
    })
    assert analysis.classes == []
    assert "syntax error at line 1" in analysis.problems["models/base.py"]


def test_module_outside_the_project_is_not_read(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "base.py").write_text("import kserve\n\nclass Base(kserve.Model):" + BODY)
    root = tmp_path / "project"
    root.mkdir()
    os.symlink(outside / "base.py", root / "base.py")
    analysis = analyse(root, {"serve.py": "from base import Base\n\nclass Iris(Base):\n    pass\n"})
    assert analysis.classes == []
    assert "points outside the project" in analysis.problems["base.py"]


def test_number_of_modules_read_is_capped(tmp_path):
    count = modules.MAX_MODULES + 20
    files = {f"m{i}.py": f"from m{i + 1} import Base\n" for i in range(count)}
    files[f"m{count}.py"] = "import kserve\n\nclass Base(kserve.Model):" + BODY
    files["serve.py"] = "from m0 import Base\n\nclass Iris(Base):\n    pass\n"
    analysis = analyse(tmp_path, files)
    assert analysis.classes == []
    assert any(f"at most {modules.MAX_MODULES} modules" in why for why in analysis.problems.values())


# Tracing: does the patch run, when serve.py runs, before the server starts?


SERVER = "import kserve\n\nclass Iris(kserve.Model):" + BODY + "\n"


def tracing(tmp_path, serve: str, **files: str) -> list:
    return analyse(tmp_path, {"serve.py": SERVER + textwrap.dedent(serve), **files}).tracing


def line(serve: str, needle: str, occurrence: int = 1) -> str:
    """"line N" of the `occurrence`-th line holding `needle` in serve.py (SERVER + serve)."""
    lines = (SERVER + textwrap.dedent(serve)).splitlines()
    numbers = [number for number, text in enumerate(lines, start=1) if needle in text]
    return f"line {numbers[occurrence - 1]}"


def verdicts(ways) -> list:
    return [(way.where, way.runs_before_server, way.why_not) for way in ways]


def test_module_level_patch_under_try_and_if(tmp_path):
    serve = """
        import os
        try:
            import ddtrace
            if os.environ.get("DD_TRACE_ENABLED", "true") == "true":
                ddtrace.patch(fastapi=True)
        except ImportError:
            pass
        kserve.ModelServer().start([Iris("iris")])
    """
    assert verdicts(tracing(tmp_path, serve)) == [(line(serve, "patch("), True, "")]


def test_auto_import_under_with_and_main_guard(tmp_path):
    serve = """
        import contextlib

        if __name__ == "__main__":
            with contextlib.suppress(ImportError):
                import ddtrace.auto  # noqa: F401
            kserve.ModelServer().start([Iris("iris")])
    """
    assert verdicts(tracing(tmp_path, serve)) == [(line(serve, "ddtrace.auto"), True, "")]


def test_main_calls_a_helper_before_the_server_starts(tmp_path):
    serve = """
        import ddtrace

        def setup_tracing():
            ddtrace.patch(fastapi=True)

        def main():
            setup_tracing()
            server = kserve.ModelServer(http_port=8080)
            server.start([Iris("iris")])

        if __name__ == "__main__":
            main()
    """
    assert verdicts(tracing(tmp_path, serve)) == [(line(serve, "patch("), True, "")]


def test_helper_that_nothing_calls(tmp_path):
    serve = """
        from ddtrace import patch

        def setup_tracing():
            patch(fastapi=True)

        if __name__ == "__main__":
            kserve.ModelServer().start([Iris("iris")])
    """
    analysis = analyse(tmp_path, {"serve.py": SERVER + textwrap.dedent(serve)})
    start = line(serve, ".start(")
    assert analysis.server_start == start
    assert str(analysis.tracing[0]) == (
        f"`patch(fastapi=True)` ({line(serve, 'patch(fastapi')}) is inside setup_tracing(), which nothing calls "
        f"before the server starts at {start}"
    )


def test_helper_called_only_after_the_server_starts(tmp_path):
    serve = """
        import ddtrace

        def setup_tracing():
            ddtrace.patch(fastapi=True)

        def main():
            kserve.ModelServer().start([Iris("iris")])
            setup_tracing()

        main()
        ddtrace.patch(tornado=True)
    """
    start = line(serve, ".start(")
    assert verdicts(tracing(tmp_path, serve)) == [
        (line(serve, "patch("), False, f"is inside setup_tracing(), which runs only after the server starts at {start}"),
        (line(serve, "patch(", 2), False, f"runs after the server starts at {start}"),
    ]


def test_patch_in_a_test_function_and_in_a_method(tmp_path):
    serve = """
        class Traced(kserve.Model):
            def load(self):
                import ddtrace
                ddtrace.patch(fastapi=True)

        def test_tracing():
            import ddtrace.auto  # noqa: F401
    """
    assert verdicts(tracing(tmp_path, serve)) == [
        (line(serve, "patch("), False, "is inside the method Traced.load(): snitch cannot see it run when serve.py runs"),
        (line(serve, "ddtrace.auto"), False, "is inside test_tracing(), a test function: pytest runs it, not serve.py"),
    ]


def test_no_server_start_then_what_serve_py_runs_counts(tmp_path):
    serve = """
        import ddtrace
        ddtrace.patch(fastapi=True)

        def unused():
            ddtrace.patch(fastapi=True)
    """
    assert verdicts(tracing(tmp_path, serve)) == [
        (line(serve, "patch("), True, ""),
        (line(serve, "patch(", 2), False, "is inside unused(), which nothing calls when serve.py runs"),
    ]


def test_legacy_kfserver_start(tmp_path):
    serve = """
        import kfserving
        import ddtrace

        kfserving.KFServer(workers=1).start([Iris("iris")])
        ddtrace.patch(tornado=True)
    """
    start = line(serve, ".start(")
    assert verdicts(tracing(tmp_path, serve)) == [(line(serve, "patch("), False, f"runs after the server starts at {start}")]


def test_tracing_in_a_module_serve_py_imports(tmp_path):
    ways = tracing(
        tmp_path,
        "import observability.setup  # noqa: F401\nkserve.ModelServer().start([Iris('iris')])\n",
        **{"observability/__init__.py": "", "observability/setup.py": "import ddtrace\nddtrace.patch(fastapi=True)\n"},
    )
    assert verdicts(ways) == [("observability/setup.py, line 2", True, "")]


@pytest.mark.parametrize(
    "dockerfile, counts",
    [
        ('CMD ["ddtrace-run", "python", "serve.py"]', True),
        ('ENTRYPOINT ["ddtrace-run"]\nCMD ["python", "serve.py", "--http_port", "8080"]', True),
        ("CMD ddtrace-run python /app/serve.py", True),
        ('ENTRYPOINT ["sh", "-c", "exec ddtrace-run python serve.py"]', True),
        ('CMD ["ddtrace-run", "python", "train.py"]', False),
        ('CMD ["python", "serve.py"]', False),
        ("CMD " + "[" * 100_000, False),  # nested too deep for json: read as the shell form
    ],
)
def test_ddtrace_run_in_the_dockerfile(tmp_path, dockerfile, counts):
    ways = tracing(tmp_path, "kserve.ModelServer().start([Iris('iris')])\n", Dockerfile=f"FROM python:3.11\n{dockerfile}\n")
    assert verdicts(ways) == ([("Dockerfile, line 2", True, "")] if counts else [])


def test_conflicting_pins_respect_markers():
    lines = parse(
        "kserve==0.21.0\nkserve==0.7.0\nnumpy==2.0.0\nnumpy==2.0.0\n"
        "torch==2.3.0 ; python_version >= '3.10'\ntorch==1.13.1 ; python_version < '3.10'\n"
    )
    assert [[line.number for line in group] for group in conflicting_pins(lines)] == [[1, 2]]


def test_main_guard_of_an_imported_module_does_not_run(tmp_path):
    ways = tracing(
        tmp_path,
        "from server_main import run\nimport ddtrace\nddtrace.patch(fastapi=True)\nrun()\n",
        **{"server_main.py": "import kserve\n\ndef run():\n    kserve.ModelServer().start([])\n\n"
                             "if __name__ == '__main__':\n    kserve.ModelServer().start([])\n"},
    )
    assert [way.runs_before_server for way in ways] == [True]


def test_package_main_importing_its_own_package_absolutely(tmp_path):
    """kserve's own servers: `lgbserver/__main__.py` does `from lgbserver.model import ...`."""
    root = project(tmp_path, {
        "python/lgb/lgbserver/__init__.py": "",
        "python/lgb/lgbserver/model.py": "import kserve\n\nclass LightGBMModel(kserve.Model):" + BODY,
        "python/lgb/lgbserver/__main__.py": "import kserve\nfrom lgbserver.model import LightGBMModel\n\n"
                                            "kserve.ModelServer().start([LightGBMModel('m')])\n",
    })
    analysis = serve_analysis.analyse(root, "python/lgb/lgbserver/__main__.py")
    assert served(analysis) == {"LightGBMModel": ("kserve.Model", "python/lgb/lgbserver/model.py")}


def test_projects_with_the_same_serve_py_share_its_summary_not_their_answers(tmp_path):
    """A fleet's projects share the tree of an identical serve.py, and so its Summary (index and
    bindings); what its names resolve to is still each project's own."""
    serve = "from base import Base\n\nclass Iris(Base):\n    pass\n"
    serving_base = project(tmp_path / "a", {"serve.py": serve, "base.py": "import kserve\n\nclass Base(kserve.Model):" + BODY})
    plain_base = project(tmp_path / "b", {"serve.py": serve, "base.py": "class Base:" + BODY})
    first, second = (modules.Modules(root, "serve.py").module("serve.py") for root in (serving_base, plain_base))
    assert first.tree is second.tree and first.index is second.index and first.bindings is second.bindings
    assert served(serve_analysis.analyse(serving_base)) == {"Iris": ("kserve.Model", "serve.py")}
    assert served(serve_analysis.analyse(plain_base)) == {}
    assert served(serve_analysis.analyse(Project(serving_base.root, MODEL))) == {"Iris": ("kserve.Model", "serve.py")}  # unspoilt


def test_star_imports_searched_are_capped(tmp_path):
    stars = "".join(f"from missing_{i} import *\n" for i in range(modules.MAX_STAR_IMPORTS + 50))
    root = project(tmp_path, {"serve.py": stars + "import kserve\n\nclass Iris(kserve.Model):" + BODY})
    entry = modules.Modules(root, "serve.py").module("serve.py")
    assert len(entry.star_imports) == modules.MAX_STAR_IMPORTS
    assert serve_analysis.analyse(root).classes[0].name == "Iris"


# The analysis skips statements that cannot matter (constant assignments, statements without a call,
# names that cannot lead into the project, paths under missing folders); these fail if it skips more.

CONSTANTS = "".join(f"CONSTANT_{n} = {n}  # a generated table\n" for n in range(2_000))


@pytest.mark.parametrize("statement", [
    "PATCHED = ddtrace.patch(fastapi=True)",
    "PATCHED: object = ddtrace.patch(fastapi=True)",
    "A = B = [ddtrace.patch(fastapi=True)]",
    "enabled = \\\n    ddtrace.patch(fastapi=True)",
    "enabled = (\n    1,\n    ddtrace.patch(fastapi=True),\n)",
    "if ddtrace.patch(fastapi=True):\n    pass",
    "for _ in [ddtrace.patch(fastapi=True)]:\n    pass",
    "with contextlib.nullcontext(ddtrace.patch(fastapi=True)):\n    pass",
    "while not ddtrace.patch(fastapi=True):\n    break",
    "try:\n    x = 1\nexcept ImportError:\n    pass\nelse:\n    print(x, ddtrace.patch(fastapi=True))",
    "class Holder:\n    PATCHED = ddtrace.patch(fastapi=True)",
    "match 1:\n    case 1:\n        ddtrace.patch(fastapi=True)",
])
def test_a_patch_among_thousands_of_constants_is_found(tmp_path, statement):
    serve = CONSTANTS + "import contextlib\nimport ddtrace\n" + statement + "\n" + CONSTANTS
    ways = tracing(tmp_path, serve + "kserve.ModelServer().start([Iris('iris')])\n")
    assert [(way.frameworks, way.runs_before_server) for way in ways] == [(("fastapi",), True)]


def test_server_started_after_thousands_of_constants_is_found(tmp_path):
    serve = "import ddtrace\n" + CONSTANTS + "server = kserve.ModelServer()\n" + CONSTANTS + "server.start([Iris('iris')])\n"
    serve += "ddtrace.patch(fastapi=True)\n"
    ways = tracing(tmp_path, serve)
    assert verdicts(ways) == [(line(serve, "patch("), False, f"runs after the server starts at {line(serve, '.start(')}")]


@pytest.mark.parametrize("serve", [
    "import kserve\nfrom models import Iris as Served\n" + CONSTANTS + "kserve.ModelServer().start([Served('iris')])\n",
    "import kserve\nimport models\nServed = models.Iris\n" + CONSTANTS + "kserve.ModelServer().start([Served('iris')])\n",
    "import kserve\nimport models.iris\n" + CONSTANTS + "kserve.ModelServer().start([models.iris.Iris('iris')])\n",
    "import kserve\nfrom models import *\n" + CONSTANTS + "kserve.ModelServer().start([Iris('iris')])\n",
    "import kserve\n\ndef main():\n    from models import Iris\n    kserve.ModelServer().start([Iris('iris')])\n",
])
def test_class_of_another_module_used_in_every_way_is_served(tmp_path, serve):
    analysis = analyse(tmp_path, {
        "models/__init__.py": "from models.iris import Iris\n",
        "models/iris.py": "import kserve\n\nclass Iris(kserve.Model):" + BODY,
        "serve.py": serve,
    })
    assert served(analysis) == {"Iris": ("kserve.Model", "models/iris.py")}


def test_folder_symlinked_outside_the_project_is_named(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "base.py").write_text("import kserve\n\nclass Base(kserve.Model):" + BODY)
    root = tmp_path / "project"
    root.mkdir()
    os.symlink(outside, root / "models")
    analysis = analyse(root, {"serve.py": "from models.base import Base\n\nclass Iris(Base):\n    pass\n"})
    assert analysis.classes == []
    assert "points outside the project" in analysis.problems["models/base.py"]


def test_module_found_beside_missing_folders(tmp_path):
    """src/ missing, the entry's folder a package: the finder still finds app/models.py."""
    root = project(tmp_path, {
        "app/__init__.py": "",
        "app/models.py": "import kserve\n\nclass Iris(kserve.Model):" + BODY,
        "app/serve.py": "import kserve\nfrom missing.deeply.nested import thing\nfrom app.models import Iris\n"
                        "kserve.ModelServer().start([Iris('iris')])\n",
    })
    analysis = serve_analysis.analyse(root, "app/serve.py")
    assert served(analysis) == {"Iris": ("kserve.Model", "app/models.py")}
