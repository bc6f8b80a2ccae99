"""OpenAPI 3 validation with openapi-spec-validator's own verdict, kept fast by a cache.

openapi-spec-validator finds what a JSON-schema check alone cannot (undeclared path parameters,
duplicate operationIds, ...), but importing it costs about a third of a second, most of snitch's
budget for a whole run. The document rarely changes between commits, so its verdict is cached
under the user's cache folder, keyed by the document's content and the validator's version:
only a changed document pays for the import.

snitch never follows a `$ref` out of the document (a remote URL would be fetched, a `file:` one
read from disk), so such references are reported instead of resolved."""

from __future__ import annotations

import datetime
import functools
import json
import re
from dataclasses import dataclass
from importlib import metadata

import yaml

from snitch.read import cache

SUPPORTED = ("3.0", "3.1")


@dataclass(frozen=True)
class Problem:
    message: str
    path: tuple = ()  # where in the document, as keys from the top
    line: int | None = None

    def __str__(self) -> str:
        where = "/".join(str(part) for part in self.path) or "(top level)"
        return f"{f'line {self.line}, ' if self.line else ''}at {where}: {self.message}"


def problems(document: dict, text: str | None = None) -> list[Problem]:
    """Why `document` is not a valid OpenAPI 3.0/3.1 document, located at the line of `text`
    (the YAML it was read from) where each problem is; empty when it is valid. The verdict is
    cached (see the module's docstring): a document seen before costs a hash and a small read."""
    # The key covers everything the verdict depends on: the document (its text when there is one:
    # hashing it is cheaper than serialising the parsed document), the validator's version and
    # this module's own code.
    content = text.encode() if text is not None else json.dumps(document, sort_keys=True, default=str).encode()
    entry_key = cache.key(_code_version(), content)
    found = _cached(entry_key)
    if found is None:
        found = _problems(json_compatible(document))
        if found and text is not None:
            found = _locate(found, text)
        cache.store("openapi", entry_key, json.dumps([[p.message, list(p.path), p.line] for p in found]))
    return found


def _problems(document: dict) -> list[Problem]:
    version = str(document.get("openapi", ""))
    if ".".join(version.split(".")[:2]) not in SUPPORTED:
        return [Problem(f"`openapi: {version or '(missing)'}` is not an OpenAPI 3.0.x or 3.1.x version", ("openapi",))]
    # References first: the validator would follow what these point at.
    return _reference_problems(document) or _validate(document)


def json_compatible(node):
    """`node` as JSON sees it: YAML lets `200:` be an integer key and `2026-01-01` a date, but an
    OpenAPI document is JSON, where both are strings (the OpenAPI tools read YAML the same way)."""
    if isinstance(node, dict):
        return {_scalar_text(key): json_compatible(value) for key, value in node.items()}
    if isinstance(node, list):
        return [json_compatible(item) for item in node]
    if isinstance(node, (datetime.date, datetime.datetime)):
        return node.isoformat()
    return node


def _scalar_text(key) -> str:
    if isinstance(key, bool):
        return str(key).lower()
    if isinstance(key, (datetime.date, datetime.datetime)):
        return key.isoformat()
    return key if isinstance(key, str) else str(key)


def _walk_refs(document):
    """(path, reference) for every `$ref` string in the document."""
    stack = [((), document)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, dict):
            reference = node.get("$ref")
            if isinstance(reference, str):
                yield path, reference
            stack.extend((path + (key,), value) for key, value in node.items())
        elif isinstance(node, list):
            stack.extend((path + (index,), value) for index, value in enumerate(node))


def _reference_problems(document) -> list[Problem]:
    """References out of the document, then references to nothing in it (one walk for both)."""
    outside, dangling = [], []
    for path, reference in _walk_refs(document):
        if not reference.startswith("#"):
            outside.append(Problem(
                f"$ref {reference} points outside the document; snitch does not follow it (inline what it points at)",
                path,
            ))
        elif _resolve(document, reference) is None:
            dangling.append(Problem(f"$ref {reference} points at nothing in the document", path))
    return outside + dangling


def _resolve(document, pointer: str):
    node = document
    for part in pointer.removeprefix("#").removeprefix("/").split("/") if pointer not in ("#", "#/") else []:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


# openapi-spec-validator's own rules (unique operationIds, declared path parameters...) report no
# path, but name the operation: "... for 'get' operation in '/v1/{x}' ...".
_OPERATION_IN_MESSAGE = re.compile(r"for '(\w+)'(?: operation)? in '([^']+)'")


def _operation_named_in(message: str, document: dict) -> tuple:
    match = _OPERATION_IN_MESSAGE.search(message)
    if match and match.group(2) in (document.get("paths") or {}):
        return ("paths", match.group(2), match.group(1))
    return ()


# The cache of verdicts.


def _cached(entry_key: str) -> list[Problem] | None:
    """The verdict stored under the key; None when there is none, or it is not one snitch wrote."""
    try:
        stored = json.loads(cache.read("openapi", entry_key) or "null")
    except (ValueError, RecursionError):
        return None
    if not isinstance(stored, list):
        return None
    found = []
    for entry in stored:
        if not (isinstance(entry, list) and len(entry) == 3):
            return None
        message, path, line = entry
        if not (isinstance(message, str) and isinstance(path, list) and (line is None or type(line) is int)):
            return None
        found.append(Problem(message, tuple(path), line))
    return found


@functools.cache
def _code_version() -> bytes:
    return cache.code_version(__file__, metadata.version("openapi-spec-validator"))


def _validate(document: dict) -> list[Problem]:
    from openapi_spec_validator import OpenAPIV30SpecValidator, OpenAPIV31SpecValidator

    validator = OpenAPIV31SpecValidator if str(document["openapi"]).startswith("3.1") else OpenAPIV30SpecValidator
    found = []
    try:
        for error in validator(document).iter_errors():
            message = " ".join(str(error.message).split())
            path = tuple(getattr(error, "absolute_path", ()) or ()) or _operation_named_in(message, document)
            found.append(Problem(message, path))
    except RecursionError:
        found.append(Problem("nests too deeply to be validated"))
    except Exception as error:  # the validator gave up part-way: say so rather than pass the document
        found.append(Problem(f"openapi-spec-validator could not finish: {type(error).__name__}: {error}"))
    return sorted(found, key=lambda problem: [str(part) for part in problem.path])


# Lines, for messages and code-quality reports: only on failure, so a valid document is parsed once.


def _locate(found: list[Problem], text: str) -> list[Problem]:
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, RecursionError):
        return found
    return [Problem(problem.message, problem.path, _line_of(root, problem.path)) for problem in found]


def _line_of(node, path) -> int | None:
    """The line of the key (or list item) at `path`, or of the deepest part of it that exists."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            pair = next(((key, value) for key, value in node.value if _scalar_text(key.value) == str(part)), None)
            marked, node = pair if pair else (None, None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            marked = node = node.value[part]
        else:
            marked = node = None
        if marked is None:
            return line
        line = marked.start_mark.line + 1
    return line
