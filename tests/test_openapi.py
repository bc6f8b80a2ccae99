"""snitch.facts.openapi: openapi-spec-validator's verdict, cached by content, located by line."""

import copy
import json
import subprocess
import sys

import pytest
import yaml
from openapi_spec_validator import OpenAPIV30SpecValidator

from snitch.facts import openapi


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("SNITCH_CACHE_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def valid(rendered_project) -> dict:
    return yaml.safe_load((rendered_project / "openapi.yaml").read_text())


def mutations(document: dict):
    """Ways real documents go wrong, each one independently."""

    def undeclared_parameter(d):
        d["paths"]["/v9/{x}"] = {"get": {"responses": {"200": {"description": "ok"}}}}

    def duplicate_operation_id(d):
        operations = [item[m] for item in d["paths"].values() for m in ("get", "post") if m in item]
        operations[0]["operationId"] = operations[1]["operationId"] = "twice"

    def response_without_description(d):
        d["paths"]["/v2/health/live"]["get"]["responses"]["200"] = {"content": {}}

    def unknown_top_level_key(d):
        d["servers_"] = []

    def info_missing(d):
        del d["info"]

    def parameter_in_nowhere(d):
        d["paths"]["/v2/health/live"]["get"]["parameters"] = [{"name": "x", "in": "nowhere"}]

    for change in (undeclared_parameter, duplicate_operation_id, response_without_description,
                   unknown_top_level_key, info_missing, parameter_in_nowhere):
        broken = copy.deepcopy(document)
        change(broken)
        yield change.__name__, broken


def test_verdict_agrees_with_openapi_spec_validator(valid, cache):
    assert openapi.problems(valid) == [] and list(OpenAPIV30SpecValidator(valid).iter_errors()) == []
    for name, broken in mutations(valid):
        theirs = [" ".join(error.message.split()) for error in OpenAPIV30SpecValidator(broken).iter_errors()]
        ours = [problem.message for problem in openapi.problems(broken)]
        assert theirs, name
        assert sorted(ours) == sorted(theirs), name


def test_a_cached_verdict_needs_no_validator_import(valid, cache, tmp_path):
    broken = dict(mutations(valid))["undeclared_parameter"]
    first = openapi.problems(broken)
    assert len(list((cache / "openapi").iterdir())) == 1
    script = (
        "import json, sys; from snitch.facts import openapi\n"
        f"found = openapi.problems(json.loads({json.dumps(json.dumps(broken))}))\n"
        "print(json.dumps([[p.message, list(p.path)] for p in found]))\n"
        "print('openapi_spec_validator' in sys.modules)\n"
    )
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.splitlines()
    assert json.loads(output[0]) == [[p.message, list(p.path)] for p in first]
    assert output[1] == "False"


def test_a_corrupt_cache_entry_is_validated_again(valid, cache):
    broken = dict(mutations(valid))["duplicate_operation_id"]
    expected = openapi.problems(broken)
    (entry,) = (cache / "openapi").iterdir()
    entry.write_text("[[1, 2, 3]]")
    assert openapi.problems(broken) == expected
    entry.write_text("not json")
    assert openapi.problems(broken) == expected


def test_an_unwritable_cache_only_costs_time(valid, tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("SNITCH_CACHE_DIR", str(blocker / "below-a-file"))
    broken = dict(mutations(valid))["undeclared_parameter"]
    assert "Path parameter 'x'" in openapi.problems(broken)[0].message


def test_yaml_scalars_read_as_json_sees_them():
    document = yaml.safe_load("responses:\n  200: {description: ok}\n  true: x\nexample: 2026-01-31\n")
    assert openapi.json_compatible(document) == {
        "responses": {"200": {"description": "ok"}, "true": "x"}, "example": "2026-01-31"
    }


def test_problems_are_located_at_their_key(valid, cache):
    text = yaml.safe_dump(dict(mutations(valid))["undeclared_parameter"], sort_keys=False)
    (problem,) = openapi.problems(yaml.safe_load(text), text)
    lines = text.splitlines()
    assert lines[problem.line - 1].strip() == "get:" and "/v9/{x}" in lines[problem.line - 2]
    assert str(problem).startswith(f"line {problem.line}, at paths//v9/{{x}}/get: Path parameter 'x'")


def test_version_must_be_3():
    (problem,) = openapi.problems({"openapi": "2.0", "info": {}, "paths": {}})
    assert problem.message == "`openapi: 2.0` is not an OpenAPI 3.0.x or 3.1.x version"

