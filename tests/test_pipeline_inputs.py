"""The pipeline's inputs, declared once in snitch.pipeline.inputs: the generated spec:inputs header
and docs table are current, every pattern means the same to Python, RE2 (GitLab) and JavaScript
(gitlab-ci-local), and the pipeline body maps each input the way the declaration says."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import re2  # google-re2: the regex engine GitLab evaluates spec:inputs with
import yaml

from fixtures.pipeline import PIPELINE_FILE, REPO_ROOT
from snitch.facts.service_settings import FIELDS_BY_NAME
from snitch.pipeline import inputs

# Values each pattern must treat alike in the three engines: good ones, and the places where
# engines are known to differ (a trailing newline before `$`, Unicode digits and spaces, case).
SAMPLES = [
    "", "a", "iris-classifier", "123-model", "-a", "a-", "A", "a_b", "a\n", "\na", "a" * 63, "a" * 64,
    "500m", "2", "1.5", ".5", "5.", "2Gi", "1e3", "1E+3", "2gi", "१२", "٣", "1\u00a0", " 1", "1 ",
    "s3://ml-platform-bucket/iris-classifier/models/20240102T030405Z",
    "s3://ml-platform-bucket/iris-classifier/models/20240102T030405Z/", "s3://b/m/models/t\n",
    "s3://b/m/other/t", "s3://b\u00a0/m/models/t", "fraud-detection", "Team", "ml_team",
]
PATTERNS = {item.name: item.regex for item in inputs.INPUTS if item.regex}


def test_generated_header_and_docs_table_are_current():
    for path, wanted in inputs.generated(REPO_ROOT).items():
        assert path.read_text(encoding="utf-8") == wanted, f"{path} is stale: run python -m snitch.pipeline.inputs --write"


def test_stale_files_are_reported_and_rewritten(tmp_path):
    for relative in (inputs.PIPELINE_PATH, inputs.DOCS_PATH):
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / relative, tmp_path / relative)
    pipeline = tmp_path / inputs.PIPELINE_PATH
    pipeline.write_text(pipeline.read_text().replace("default: 80", "default: 70"))
    assert inputs.main(["--checkout", str(tmp_path)]) == 1
    assert inputs.main(["--checkout", str(tmp_path), "--write"]) == 0
    assert inputs.main(["--checkout", str(tmp_path)]) == 0
    assert pipeline.read_text() == PIPELINE_FILE.read_text()


def test_spec_header_declares_exactly_the_inputs():
    header = next(yaml.safe_load_all(PIPELINE_FILE.read_text()))
    declared = header["spec"]["inputs"]
    assert list(declared) == [item.name for item in inputs.INPUTS]
    for item in inputs.INPUTS:
        spec = declared[item.name]
        assert ("default" not in spec) == item.required, item.name
        if not item.required:
            assert str(spec["default"]) == str(item.default), item.name
        assert spec.get("regex") == (inputs.anchored(item.regex) if item.regex else None), item.name


def test_defaults_follow_their_own_pattern():
    for item in inputs.INPUTS:
        if item.regex and not item.required:
            assert re.fullmatch(item.regex, str(item.default)), item.name


def test_service_inputs_map_to_the_variables_standard_11_reads():
    for name, field in FIELDS_BY_NAME.items():
        assert inputs.BY_NAME[name].variable == field.variable


def test_pipeline_body_maps_every_input_as_declared():
    _, body = yaml.safe_load_all(PIPELINE_FILE.read_text())
    text = PIPELINE_FILE.read_text().split("\n---\n", 1)[1]
    used = set(re.findall(r"\$\[\[\s*inputs\.(\w+)\s*\]\]", text))
    assert used == set(inputs.BY_NAME), "every input is used, and only declared ones"
    mappings = dict(body["variables"])
    for job in body.values():
        if isinstance(job, dict) and isinstance(job.get("variables"), dict):
            mappings.update(job["variables"])
    for item in inputs.INPUTS:
        if item.variable:
            assert mappings.get(item.variable) == f"$[[ inputs.{item.name} ]]", item.name


@pytest.mark.parametrize("pattern", [
    r"(?=a)b", r"(?<!a)b", r"(a)\1", r"a*+", r"(?>a)", r"(?P<x>a)", r"(?i)a", r"a\Z", r"\d+", r"a\sb", r"a^b", r"a$",
])
def test_patterns_the_engines_read_differently_are_refused(pattern):
    with pytest.raises(inputs.NotPortable):
        inputs.portable(pattern)


def test_negated_classes_and_escaped_dots_are_portable():
    assert inputs.portable(r"[^/]+\.[0-9]") == r"[^/]+\.[0-9]"


def _python(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value) is not None


def _re2(pattern: str, value: str) -> bool:
    return re2.search(inputs.anchored(pattern), value) is not None


def _javascript(patterns: dict[str, str]) -> dict[str, list[bool]]:
    node = shutil.which("node")
    assert node, "node is needed (gitlab-ci-local runs on it): see scripts/setup"
    program = ("const {patterns, samples} = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
               "const out = {}; for (const [name, p] of Object.entries(patterns)) {"
               "  const re = new RegExp(p); out[name] = samples.map(s => re.test(s)); }"
               "process.stdout.write(JSON.stringify(out));")
    anchored = {name: inputs.anchored(pattern) for name, pattern in patterns.items()}
    done = subprocess.run([node, "-e", program], input=json.dumps({"patterns": anchored, "samples": SAMPLES}),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_pattern_means_the_same_to_python_re2_and_javascript():
    javascript = _javascript(PATTERNS)
    for name, pattern in PATTERNS.items():
        for value, in_javascript in zip(SAMPLES, javascript[name]):
            expected = _python(pattern, value)
            assert _re2(pattern, value) == expected, (name, value)
            assert in_javascript == expected, (name, value)
    # the samples tell the patterns apart from nothing: each accepts some and refuses some
    for name, pattern in PATTERNS.items():
        verdicts = {_python(pattern, value) for value in SAMPLES}
        assert verdicts == {True, False}, name


def test_jobs_read_their_settings_through_one_module():
    """Only snitch.pipeline.settings reads the job's variables (run-local, which prepares processes
    rather than reading settings, aside)."""
    readers = {path.name for path in (REPO_ROOT / "src" / "snitch" / "pipeline").glob("*.py")
               if re.search(r"os\.environ|os\.getenv", path.read_text())}
    assert readers == {"settings.py", "local.py", "toolenv.py"}


def test_an_undeclared_setting_is_a_programming_error_and_a_missing_one_is_explained():
    from snitch.pipeline import settings
    from snitch.pipeline.errors import PipelineError

    with pytest.raises(KeyError, match="NOT_A_SETTING is not declared"):
        settings.Settings({}).get("NOT_A_SETTING")
    with pytest.raises(PipelineError, match="variable MODEL_NAME is not set; it comes from the `model_name` input"):
        settings.Settings({}).get("MODEL_NAME", required=True)
    assert settings.Settings({"SNITCH_BUILD_LABELS_ONLY": " True "}).flag("SNITCH_BUILD_LABELS_ONLY")
    assert settings.Settings({"CI_COMMIT_TAG": "v1.2.0"}).version() == "1.2.0"
