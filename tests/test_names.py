"""The shared name and quantity rules: each pattern means the same to Python (fullmatch) and to
JavaScript (gitlab-ci-local evaluates `spec:inputs` regexes with it; GitLab uses RE2, which has no
construct these patterns avoid in JavaScript either: no lookarounds, no backreferences, no `\\Z`)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from snitch.facts import names, service_settings

PATTERNS = {
    "model name": names.MODEL_NAME_PATTERN,
    "DNS label": names.DNS_LABEL_PATTERN,
    "S3 bucket": names.S3_BUCKET_PATTERN,
    "quantity": service_settings.QUANTITY_PATTERN,
}
SAMPLES = [
    "iris-classifier", "123-model", "a", "a-", "-a", "A", "x" * 63, "x" * 64, "a" * 62 + "1", "ml.models-eu",
    "my_bucket", "ab", "500m", "2", "1.5", ".5", "512Mi", "1e9", "2E-3", "1K", "half", "iris\n", "", "a b",
]


@pytest.mark.parametrize("name", PATTERNS)
def test_javascript_and_python_agree_on_every_sample(name):
    node = shutil.which("node")
    assert node, "node is needed (gitlab-ci-local runs on it): scripts/setup installs it"
    pattern = PATTERNS[name]
    assert not re.search(r"\(\?[=!<P]|\\Z|\\[1-9]", pattern), "lookaround, named group, \\Z or backreference"
    script = "const p = new RegExp('^(?:' + process.argv[1] + ')$'); console.log(JSON.stringify(JSON.parse(process.argv[2]).map(s => p.test(s))))"
    done = subprocess.run([node, "-e", script, pattern, json.dumps(SAMPLES)], capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(done.stdout) == [re.fullmatch(pattern, sample) is not None for sample in SAMPLES]


@pytest.mark.parametrize("name, problem", [
    ("iris-classifier", None),
    ("a", None),
    ("123-model", "the model name '123-model' starts with a digit; start it with a letter"),
    ("x" * 64, "has 64 characters, more than 63"),
    ("iris-", "is not a KServe InferenceService name"),
    ("iris\n", "is not a KServe InferenceService name"),
    (7, "must be text, not 7"),
])
def test_model_name_problem_says_what_is_wrong(name, problem):
    found = names.model_name_problem(name)
    assert found is None if problem is None else problem in found


def test_the_rendered_projects_own_name_test_uses_the_checkers_rule():
    """The rendered project cannot import snitch, so its test_model.py carries a copy of KServe's
    naming rule: the copy must be snitch.facts.names.MODEL_NAME_PATTERN itself, not an older rule."""
    from fixtures.template import PROJECT_TEMPLATE_DIR

    source = (PROJECT_TEMPLATE_DIR / "tests" / "test_model.py").read_text()
    assert f're.fullmatch(r"{names.MODEL_NAME_PATTERN}", model.MODEL_NAME)' in source
