"""OpenAPI 3 validation against the official OAS schemas that openapi-spec-validator ships.

Importing openapi-spec-validator itself costs about a quarter of a second (pydantic, requests),
half of snitch's budget for a whole run, so snitch validates with jsonschema against the very
schema files that package bundles, plus a check that every local `$ref` resolves."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

_SCHEMAS = {"3.0": ("v3.0", "Draft4Validator"), "3.1": ("v3.1", "Draft202012Validator")}


def _schema_dir() -> Path:
    spec = importlib.util.find_spec("openapi_spec_validator")  # locates the package without importing it
    return Path(spec.submodule_search_locations[0]) / "resources" / "schemas"


def problems(document: dict) -> list[str]:
    """Why `document` is not a valid OpenAPI 3.0/3.1 document; empty when it is."""
    version = str(document.get("openapi", ""))
    family = ".".join(version.split(".")[:2])
    if family not in _SCHEMAS:
        return [f"`openapi: {version or '(missing)'}` is not an OpenAPI 3.0.x or 3.1.x version"]
    import jsonschema  # deferred: only this check needs it

    folder, validator_name = _SCHEMAS[family]
    schema = json.loads((_schema_dir() / folder / "schema.json").read_text(encoding="utf-8"))
    validator = getattr(jsonschema, validator_name)(schema)
    found = [
        f"at {'/'.join(str(part) for part in error.absolute_path) or '(top level)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda error: list(map(str, error.path)))
    ]
    return found + _unresolved_refs(document)


def _unresolved_refs(document: dict) -> list[str]:
    missing = []
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str) and reference.startswith("#/") and _resolve(document, reference) is None:
                missing.append(f"$ref {reference} points at nothing in the document")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return missing


def _resolve(document, pointer: str):
    node = document
    for part in pointer[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node
