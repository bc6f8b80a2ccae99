"""Standard 7 — API contract."""

import re

import yaml

from fixtures.checker import MODEL, assert_only_failure, passed_on_compliant, run_checks, run_json

OPENAPI = "openapi.yaml"


def rewrite(project, change):
    path = project / OPENAPI
    document = yaml.safe_load(path.read_text())
    change(document)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def test_openapi_is_valid_openapi3(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_openapi_is_valid_openapi3")

    def break_it(document):
        document["paths"]["/v2/health/live"]["get"]["responses"] = {"200": {"summary": "no description"}}
        document["components"] = {**document.get("components", {}), "bogus": 1}

    rewrite(compliant, break_it)
    run = run_checks(compliant, 7)
    result = assert_only_failure(run, 7, "test_openapi_is_valid_openapi3", OPENAPI, "is not a valid OpenAPI 3 document")
    assert "paths//v2/health/live/get/responses/200" in result["message"]


def test_openapi_version_must_be_3(compliant):
    rewrite(compliant, lambda document: document.update(openapi="2.0"))
    run = run_checks(compliant, 7)
    assert "`openapi: 2.0` is not an OpenAPI 3.0.x or 3.1.x version" in run.check("test_openapi_is_valid_openapi3")["message"]


def test_openapi_dangling_ref(compliant):
    def break_it(document):
        document["paths"]["/v2/health/live"]["get"]["responses"]["200"] = {"$ref": "#/components/responses/Nope"}

    rewrite(compliant, break_it)
    message = run_checks(compliant, 7).check("test_openapi_is_valid_openapi3")["message"]
    assert "$ref #/components/responses/Nope points at nothing" in message


def test_openapi_validator_rules_beyond_the_schema(compliant):
    """openapi-spec-validator's verdict, with the line of each problem."""

    def break_it(document):
        document["paths"]["/v9/{undeclared}"] = {"get": {"responses": {"200": {"description": "ok"}}}}
        operations = [item[method] for item in document["paths"].values() for method in ("get", "post") if method in item]
        operations[0]["operationId"] = operations[1]["operationId"] = "same"

    rewrite(compliant, break_it)
    message = run_checks(compliant, 7).check("test_openapi_is_valid_openapi3")["message"]
    lines = (compliant / OPENAPI).read_text().splitlines()
    where = next(number for number, line in enumerate(lines, 1) if "/v9/{undeclared}" in line) + 1
    assert f"line {where}, at paths//v9/{{undeclared}}/get: Path parameter 'undeclared'" in message
    assert "Operation ID 'same'" in message and "is not unique" in message


def test_openapi_unquoted_status_codes_are_valid(compliant):
    """`200:` is how most people write responses; YAML reads it as a number, JSON as a string."""
    text = (compliant / OPENAPI).read_text()
    (compliant / OPENAPI).write_text(re.sub(r'"(\d{3})":', r"\1:", text))
    assert "\n        200:" in (compliant / OPENAPI).read_text()
    assert run_checks(compliant, 7).code == 0


def test_openapi_refs_outside_the_document_are_not_followed(compliant):
    def break_it(document):
        document["paths"]["/v2/health/live"]["get"]["responses"]["200"] = {"$ref": "file:///etc/passwd#/x"}

    rewrite(compliant, break_it)
    message = run_checks(compliant, 7).check("test_openapi_is_valid_openapi3")["message"]
    assert "$ref file:///etc/passwd#/x points outside the document; snitch does not follow it" in message


def test_openapi_info_is_filled(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_openapi_info_is_filled")
    rewrite(compliant, lambda document: document["info"].update(description="TODO", title=""))
    run = run_checks(compliant, 7)
    assert_only_failure(run, 7, "test_openapi_info_is_filled", OPENAPI,
                        "info.title is empty; info.description holds a placeholder (TODO)")


def test_openapi_describes_inference_endpoints(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_openapi_describes_inference_endpoints")

    def drop_inference(document):
        del document["paths"]["/v1/models/{model_name}:predict"]
        del document["paths"]["/v2/models/{model_name}/infer"]
        document["paths"]["/v1/models/other-model:predict"] = {"post": {"responses": {"200": {"description": "ok"}}}}

    rewrite(compliant, drop_inference)
    run = run_checks(compliant, 7)
    assert_only_failure(run, 7, "test_openapi_describes_inference_endpoints", OPENAPI,
                        f"for model '{MODEL}'", "/v1/models/other-model:predict")


def test_openapi_literal_model_name(compliant):
    def literal(document):
        paths = document["paths"]
        paths[f"/v2/models/{MODEL}/infer"] = paths.pop("/v2/models/{model_name}/infer")
        del paths["/v1/models/{model_name}:predict"]

    rewrite(compliant, literal)
    run = run_checks(compliant, 7)
    assert run.check("test_openapi_describes_inference_endpoints")["outcome"] == "passed", run.stdout


def test_openapi_describes_health_endpoints(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_openapi_describes_health_endpoints")
    rewrite(compliant, lambda document: document["paths"].pop("/v2/health/live"))
    run = run_checks(compliant, 7)
    assert_only_failure(run, 7, "test_openapi_describes_health_endpoints", OPENAPI, "no GET /v2/health/live")


def test_openapi_documents_inference_errors(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_openapi_documents_inference_errors")

    def break_it(document):
        paths = document["paths"]
        paths["/v1/models/{model_name}:predict"]["post"]["responses"]["400"] = {"description": "bad request, no body"}
        del paths["/v2/models/{model_name}/infer"]["post"]["responses"]["400"]

    rewrite(compliant, break_it)
    run = run_json(compliant, "-s", "7")
    assert_only_failure(run, 7, "test_openapi_documents_inference_errors", OPENAPI,
                        "POST /v1/models/{model_name}:predict, POST /v2/models/{model_name}/infer: no 400 response")


def test_openapi_inference_errors_accept_4xx_and_refs(compliant):
    def use_4xx_and_a_ref_chain(document):
        responses = document["components"]["responses"]
        responses["Alias"] = {"$ref": "#/components/responses/BadRequest"}
        for path in ("/v1/models/{model_name}:predict", "/v2/models/{model_name}/infer"):
            operation = document["paths"][path]["post"]
            del operation["responses"]["400"]
            operation["responses"]["4XX"] = {"$ref": "#/components/responses/Alias"}

    rewrite(compliant, use_4xx_and_a_ref_chain)
    run = run_json(compliant, "-s", "7")
    assert run.check("test_openapi_documents_inference_errors")["outcome"] == "passed", run.stdout


def test_openapi_inference_errors_ref_loop_is_a_failure(compliant):
    def loop(document):
        document["components"]["responses"]["BadRequest"] = {"$ref": "#/components/responses/BadRequest"}

    rewrite(compliant, loop)
    check = run_json(compliant, "-s", "7").check("test_openapi_documents_inference_errors")
    assert check["outcome"] == "failed" and "no 400 response" in check["message"]
