"""Standard 7 — API contract: openapi.yaml is valid OpenAPI 3 and describes the inference and
health endpoints the KServe server really exposes for this model."""

import functools
import re

from snitch.facts import openapi, readme
from snitch.violation import Violation

OPENAPI = "openapi.yaml"
# KServe's routes; {name} is a path parameter or the literal model name.
INFERENCE_ROUTES = (r"/v1/models/{name}:predict", r"/v2/models/{name}/infer")
LIVENESS_ROUTES = (r"/v2/health/live",)
READINESS_ROUTES = (r"/v2/health/ready", r"/v2/models/{name}/ready")


def document(project) -> dict:
    return project.yaml_mapping(OPENAPI)


def operations(project) -> dict[str, set[str]]:
    paths = document(project).get("paths")
    if not isinstance(paths, dict):
        raise Violation(OPENAPI, "has no `paths` mapping")
    return {
        str(path): {str(method).lower() for method in (item or {})} if isinstance(item, dict) else set()
        for path, item in paths.items()
    }


PATH_PARAMETER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")


@functools.cache
def route_pattern(route: str) -> re.Pattern:
    """The route with its {name} segment captured (compiled once, whatever the model)."""
    return re.compile("^" + re.escape(route).replace(re.escape("{name}"), "(?P<name>[^/]*)") + "$")


def serves_route(path: str, route: str, model: str) -> bool:
    """Is `path` the route, its {name} a path parameter or the model's own name?"""
    match = route_pattern(route).match(path)
    if match is None:
        return False
    name = match.groupdict().get("name")
    return name is None or name == model or PATH_PARAMETER.fullmatch(name) is not None


def served(project, routes, method: str) -> list[str]:
    return [
        path
        for path, methods in operations(project).items()
        if method in methods and any(serves_route(path, route, project.model) for route in routes)
    ]


def test_openapi_is_valid_openapi3(project):
    found = openapi.problems(document(project), project.text(OPENAPI))
    if found:
        raise Violation(
            OPENAPI,
            f"is not a valid OpenAPI 3 document ({len(found)} problem(s))",
            detail="\n".join(map(str, found[:10])) + (f"\n... and {len(found) - 10} more" if len(found) > 10 else ""),
            line=found[0].line,
        )


def test_openapi_info_is_filled(project):
    info = document(project).get("info")
    info = info if isinstance(info, dict) else {}
    unfilled = []
    for key in ("title", "description"):
        value = info.get(key)
        if not isinstance(value, str) or not value.strip():
            unfilled.append(f"info.{key} is empty")
        elif readme.placeholders(value):
            unfilled.append(f"info.{key} holds a placeholder ({readme.placeholders(value)[0][1]})")
    if unfilled:
        raise Violation(OPENAPI, "; ".join(unfilled))


def test_openapi_describes_inference_endpoints(project):
    if not served(project, INFERENCE_ROUTES, "post"):
        elsewhere = [path for path in operations(project) if path.endswith((":predict", "/infer"))]
        hint = f" (inference paths present: {', '.join(elsewhere[:4])})" if elsewhere else ""
        raise Violation(
            OPENAPI,
            f"no POST /v1/models/<name>:predict or /v2/models/<name>/infer for model {project.model!r}{hint}",
        )


def test_openapi_describes_health_endpoints(project):
    missing = []
    if not served(project, LIVENESS_ROUTES, "get"):
        missing.append("GET /v2/health/live")
    if not served(project, READINESS_ROUTES, "get"):
        missing.append("GET /v2/health/ready (or /v2/models/<name>/ready)")
    if missing:
        raise Violation(OPENAPI, f"no {' and no '.join(missing)}")


CLIENT_ERROR_STATUSES = ("400", "4XX")
MAX_REF_HOPS = 20  # a $ref chain longer than this is treated as unresolved (and never loops)


def follow(document: dict, node):
    """`node`, or what its local `$ref` chain points at; None when the chain is broken."""
    for _ in range(MAX_REF_HOPS):
        reference = node.get("$ref") if isinstance(node, dict) else None
        if not isinstance(reference, str):
            return node
        if not reference.startswith("#/"):
            return None
        node = document
        for part in reference[2:].split("/"):
            node = node.get(part.replace("~1", "/").replace("~0", "~")) if isinstance(node, dict) else None
    return None


def documents_json_error(document: dict, operation) -> bool:
    responses = follow(document, operation.get("responses")) if isinstance(operation, dict) else None
    if not isinstance(responses, dict):
        return False
    by_status = {str(status).upper(): response for status, response in responses.items()}
    for status in CLIENT_ERROR_STATUSES:
        response = follow(document, by_status.get(status))
        content = response.get("content") if isinstance(response, dict) else None
        if isinstance(content, dict) and any(
            str(media).split(";")[0].strip().lower() == "application/json" and isinstance(body, dict) and body.get("schema")
            for media, body in content.items()
        ):
            return True
    return False


def post_operation(item: dict):
    return next((operation for method, operation in item.items() if str(method).lower() == "post"), None)


def test_openapi_documents_inference_errors(project):
    spec = document(project)
    undocumented = [
        f"POST {path}"
        for path in served(project, INFERENCE_ROUTES, "post")
        if not documents_json_error(spec, post_operation(spec["paths"][path]))
    ]
    if undocumented:
        raise Violation(OPENAPI, f"{', '.join(undocumented)}: no 400 response with an application/json schema")
