"""Standards 4 and 10 on real KServe model servers written outside this project (verbatim copies
from kserve/kserve's samples, see tests/data/kserve_samples/README.md). The expected verdicts
come from reading that code, not from snitch's output: a serving class imported from a sibling
module by a relative import, an async transformer with neither load() nor predict(), no tracing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from fixtures.checker import run_checks

SAMPLES = Path(__file__).parent / "data" / "kserve_samples"


@pytest.fixture
def sample(tmp_path):
    def copy(name: str) -> Path:
        return Path(shutil.copytree(SAMPLES / name, tmp_path / name))

    return copy


def outcomes(run) -> dict[str, str]:
    return {result.id: result.outcome for result in run.outcome.results}


def test_rfserver_serves_a_model_from_its_sibling_module(sample):
    # RFModel(kserve.Model) lives in model.py; load() sets self.ready = True; predict() is its own.
    run = run_checks(sample("rfserver"), 4, 10)
    assert {check: outcome for check, outcome in outcomes(run).items() if check.startswith("4.")} == {
        "4.test_serve_py_defines_model_subclass": "passed",
        "4.test_model_subclass_implements_load": "passed",
        "4.test_model_subclass_implements_predict": "passed",
        "4.test_load_marks_model_ready": "passed",
    }
    # Nothing in it mentions ddtrace.
    assert run.failed() == {"test_serve_py_enables_ddtrace"}


def test_image_transformer_lacks_load_and_predict(sample):
    # ImageTransformer(kserve.Model) only overrides preprocess/postprocess (async).
    run = run_checks(sample("image_transformer"), 4)
    assert run.failed() == {"test_model_subclass_implements_load", "test_model_subclass_implements_predict"}
    message = run.check("test_model_subclass_implements_load")["message"]
    assert message.startswith("serve.py: class ImageTransformer (image_transformer.py, line 41)")


def test_tracing_added_to_a_real_server_counts_only_before_the_server_starts(sample):
    project = sample("rfserver")
    serve = project / "serve.py"
    original = serve.read_text()
    start = "    kserve.ModelServer().start([model])\n"
    assert start in original
    (project / "requirements.txt").write_text("kserve==0.13.0\nddtrace==2.9.0\n")
    # Patched at module level, before anything runs.
    serve.write_text(original.replace("import kserve\n", "import ddtrace\nddtrace.patch(fastapi=True)\nimport kserve\n", 1))
    assert run_checks(project, 10).failed() == set()
    # Patched only after ModelServer().start() returns: too late for the server.
    serve.write_text(original.replace(start, start + "    import ddtrace\n    ddtrace.patch(fastapi=True)\n"))
    run = run_checks(project, 10)
    assert run.failed() == {"test_tracing_starts_before_server"}
    assert "runs after the server starts at line 35" in run.check("test_tracing_starts_before_server")["message"]
