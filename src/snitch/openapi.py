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
import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import yaml

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
    (the YAML it was read from) where each problem is; empty when it is valid."""
    document = json_compatible(document)
    version = str(document.get("openapi", ""))
    if ".".join(version.split(".")[:2]) not in SUPPORTED:
        found = [Problem(f"`openapi: {version or '(missing)'}` is not an OpenAPI 3.0.x or 3.1.x version", ("openapi",))]
    else:
        found = _reference_problems(document)
        if not found:  # the validator would follow what these point at
            found = _cached_verdict(document, text)
    return _locate(found, text) if found and text is not None else found


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


def cache_dir() -> Path:
    chosen = os.environ.get("SNITCH_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    base = Path(chosen) if chosen else Path.home() / ".cache"
    return base if os.environ.get("SNITCH_CACHE_DIR") else base / "snitch"


def _cached_verdict(document: dict, text: str | None) -> list[Problem]:
    # The key covers everything the verdict depends on: the document (its text when there is one:
    # hashing it is cheaper than serialising the parsed document), the validator's version and
    # this module's own code (so a new snitch never reads an older snitch's verdicts).
    key = hashlib.sha256(_code_version())
    key.update(text.encode() if text is not None else json.dumps(document, sort_keys=True, default=str).encode())
    entry = cache_dir() / "openapi" / f"{key.hexdigest()}.json"
    try:
        return [Problem(message, tuple(path)) for message, path in json.loads(entry.read_text(encoding="utf-8"))]
    except (OSError, ValueError, TypeError):
        pass  # not cached yet, or an entry that is not ours: validate again
    found = _validate(document)
    _store(entry, json.dumps([[problem.message, list(problem.path)] for problem in found]))
    return found


@functools.cache
def _code_version() -> bytes:
    return Path(__file__).read_bytes() + metadata.version("openapi-spec-validator").encode()


def _store(entry: Path, text: str) -> None:
    """Write atomically; a cache that cannot be written is only slower, never an error."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=entry.parent, delete=False, encoding="utf-8") as handle:
            handle.write(text)
        os.replace(handle.name, entry)
    except OSError:
        pass


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
