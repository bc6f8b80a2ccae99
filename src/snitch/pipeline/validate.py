"""Check an InferenceService manifest before it goes anywhere near a cluster.

Three independent layers, each reported as plain sentences:

1. our rules (DNS-label name ≤ 63, labels, canary percent 0–100, replica bounds (production
   never scales to zero), weights URI per Model Standard 1, image pinned by digest, model label
   matches the weights' model),
2. KServe's own Python models (`kserve.models.V1beta1InferenceService`) when kserve is
   importable: the manifest must round-trip through them without losing a field,
3. the InferenceService CRD's OpenAPI schema when a schema file is given, made strict
   (`additionalProperties: false` on every object that lists its properties) so typos fail.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

from snitch.facts.names import is_dns_label, model_name_problem
from snitch.pipeline.errors import PipelineError
from snitch.pipeline.manifest import API_VERSION, KIND, LABEL_PREFIX
from snitch.pipeline.weights import parse_weights_uri
from snitch.read import files
from snitch.facts.patterns import pattern_problem  # the one rule for a pattern's cost

_PINNED_IMAGE = re.compile(r"^[^@\s]+@sha256:[0-9a-f]{64}\Z")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\Z")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
COMPONENTS = ("predictor", "transformer", "explainer")
# KServe's InferenceService CRD schema is ~0.7 MB; CRD schemas of other versions stay well under this.
MAX_SCHEMA_BYTES = 16 * 1024 * 1024


def _check_label_key(key: str) -> str | None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return f"label key {key!r}: prefix {prefix!r} is not a DNS subdomain"
    if len(name) > 63 or not _LABEL_NAME.match(name):
        return f"label key {key!r}: name part must be ≤ 63 alphanumerics, '-', '_' or '.'"
    return None


def _replica_problems(predictor: dict, environment) -> list[str]:
    low, high = predictor.get("minReplicas"), predictor.get("maxReplicas")
    if not all(isinstance(value, int) and not isinstance(value, bool) for value in (low, high)):
        return []  # absent (KServe's defaults apply) or mistyped (the schema layers say so)
    problems = []
    if high and low > high:
        problems.append(f"spec.predictor.minReplicas ({low}) is above maxReplicas ({high})")
    if environment == "production" and low == 0:
        problems.append("spec.predictor.minReplicas is 0 in production; production never scales to zero")
    return problems


def rule_problems(manifest: dict) -> list[str]:
    """Our own rules; an empty list means the manifest follows them."""
    problems: list[str] = []
    if not isinstance(manifest, dict):
        return ["the manifest is not a mapping"]
    if manifest.get("apiVersion") != API_VERSION:
        problems.append(f"apiVersion is {manifest.get('apiVersion')!r}, expected {API_VERSION!r}")
    if manifest.get("kind") != KIND:
        problems.append(f"kind is {manifest.get('kind')!r}, expected {KIND!r}")
    metadata = manifest.get("metadata") if isinstance(manifest.get("metadata"), dict) else {}
    name = metadata.get("name")
    name_problem = model_name_problem(name)
    if name_problem:
        problems.append(f"metadata.name: {name_problem}")
    namespace = metadata.get("namespace")
    if namespace is not None and not is_dns_label(namespace):
        problems.append(f"metadata.namespace {namespace!r} is not a Kubernetes DNS label")
    labels = metadata.get("labels") or {}
    if not isinstance(labels, dict):
        problems.append("metadata.labels must be a mapping")
        labels = {}
    for key, value in labels.items():
        problem = _check_label_key(str(key))
        if problem:
            problems.append(problem)
        if not isinstance(value, str) or len(value) > 63 or (value and not _LABEL_NAME.match(value)):
            problems.append(f"label {key}={value!r}: values are ≤ 63 alphanumerics, '-', '_' or '.'")
    annotations = metadata.get("annotations") or {}
    if not isinstance(annotations, dict) or any(not isinstance(v, str) for v in annotations.values()):
        problems.append("metadata.annotations must map strings to strings")
    spec = manifest.get("spec")
    if not isinstance(spec, dict) or not isinstance(spec.get("predictor"), dict):
        problems.append("spec.predictor is missing")
        return problems
    for component in COMPONENTS:
        part = spec.get(component)
        if not isinstance(part, dict) or "canaryTrafficPercent" not in part:
            continue
        percent = part["canaryTrafficPercent"]
        if isinstance(percent, bool) or not isinstance(percent, int) or not 0 <= percent <= 100:
            problems.append(f"spec.{component}.canaryTrafficPercent is {percent!r}; it must be an integer from 0 to 100")
    problems += _replica_problems(spec["predictor"], labels.get(f"{LABEL_PREFIX}/environment"))
    model = spec["predictor"].get("model")
    if not isinstance(model, dict):
        problems.append("spec.predictor.model is missing; the pipeline deploys the model image with its weights")
        return problems
    storage_uri = model.get("storageUri")
    model_label = labels.get(f"{LABEL_PREFIX}/model", name)
    try:
        parse_weights_uri(storage_uri if isinstance(storage_uri, str) else "", model_name=model_label)
    except PipelineError as error:
        problems.append(f"spec.predictor.model.storageUri: {error}")
    image = model.get("image")
    if not isinstance(image, str) or not _PINNED_IMAGE.match(image):
        problems.append(
            f"spec.predictor.model.image {image!r} is not pinned by digest; expected repository@sha256:<64 hex digits>"
        )
    return problems


def kserve_problems(manifest: dict) -> list[str] | None:
    """Build kserve's `V1beta1InferenceService` from `manifest`; None when kserve is not installed.

    Every key must be an attribute of kserve's (or, for Kubernetes types, the kubernetes
    client's) generated model, every value of the declared type, and each model's own
    constructor checks (required fields, enums) must pass."""
    try:
        from kserve import models as kserve_models
    except Exception:  # kserve missing or broken: this layer is skipped, the others still run
        return None
    try:
        from kubernetes.client import models as kubernetes_models
    except Exception:
        kubernetes_models = None
    problems: list[str] = []

    def model_class(name: str):
        for module in (kserve_models, kubernetes_models):
            if module is not None and hasattr(module, name):
                return getattr(module, name)
        return None

    def build(value, type_name: str, path: str):
        if value is None:
            return None
        if type_name.startswith("list["):
            if not isinstance(value, list):
                problems.append(f"{path}: expected a list, got {type(value).__name__}")
                return None
            return [build(item, type_name[5:-1], f"{path}[{index}]") for index, item in enumerate(value)]
        if type_name.startswith("dict("):
            if not isinstance(value, dict):
                problems.append(f"{path}: expected a mapping, got {type(value).__name__}")
                return None
            inner = type_name[5:-1].split(",", 1)[1].strip()
            return {key: build(item, inner, f"{path}.{key}") for key, item in value.items()}
        primitive = {"str": str, "int": int, "float": (int, float), "bool": bool}.get(type_name)
        if primitive is not None:
            if isinstance(value, bool) and type_name != "bool" or not isinstance(value, primitive):
                problems.append(f"{path}: expected {type_name}, got {value!r}")
            return value
        if type_name in ("object", "datetime", "date"):
            return value
        cls = model_class(type_name)
        if cls is None:
            return value
        if not isinstance(value, dict):
            problems.append(f"{path}: expected a {type_name} mapping, got {value!r}")
            return None
        by_key = {key: attribute for attribute, key in cls.attribute_map.items()}
        kwargs = {}
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            attribute = by_key.get(key)
            if attribute is None:
                problems.append(f"{where}: unknown field of kserve's {type_name} (a typo?)")
                continue
            kwargs[attribute] = build(item, cls.openapi_types[attribute], where)
        try:
            return cls(**kwargs)
        except (TypeError, ValueError) as error:
            problems.append(f"{path or '(top level)'}: kserve's {type_name} rejects it: {error}")
            return None

    build(manifest, "V1beta1InferenceService", "")
    return problems


def strict_schema(schema: dict) -> dict:
    """A copy of a CRD schema in which objects that list their properties accept no others."""
    result = copy.deepcopy(schema)

    def walk(node):
        if isinstance(node, dict):
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result


def _schema_problem(schema: dict) -> str | None:
    """Why the schema cannot be used: a `pattern` that is invalid or can backtrack for minutes
    (the organisation's patterns obey the same rule, snitch.facts.patterns), or a `$ref` to anything but
    the schema itself (nothing is ever fetched)."""
    pending = [(schema, "(top level)")]
    while pending:  # the JSON is already bounded in depth by files.load_json
        node, where = pending.pop()
        if isinstance(node, list):
            pending += [(item, f"{where}[{index}]") for index, item in enumerate(node)]
            continue
        if not isinstance(node, dict):
            continue
        patterns = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        if isinstance(node.get("patternProperties"), dict):
            patterns += list(node["patternProperties"])
        for pattern in patterns:
            problem = pattern_problem(pattern)
            if problem:
                return f"its pattern {pattern!r} at {where} {problem}"
        reference = node.get("$ref")
        if reference is not None and not (isinstance(reference, str) and reference.startswith("#")):
            return f"its $ref {reference!r} at {where} points outside the schema; give a self-contained schema (nothing is fetched)"
        pending += [(value, f"{where}.{key}") for key, value in node.items()]
    return None


def load_schema(path: str | Path) -> dict:
    try:
        schema = files.load_json(path, MAX_SCHEMA_BYTES)
    except files.Unreadable as problem:
        raise PipelineError(f"InferenceService schema {path} {problem}") from None
    if not isinstance(schema, dict):
        raise PipelineError(f"InferenceService schema {path} is not a JSON object (a CRD's openAPIV3Schema)")
    problem = _schema_problem(schema)
    if problem:
        raise PipelineError(f"InferenceService schema {path} cannot be used: {problem}")
    return schema


def schema_problems(manifest: dict, schema: dict) -> list[str]:
    """What `schema`, as load_schema returned it (it refuses a schema that is unsafe to run), says
    of the manifest."""
    try:
        import jsonschema
    except ImportError:
        raise PipelineError("validating against a schema file needs the jsonschema package (pip install jsonschema)") from None
    validator = jsonschema.Draft7Validator(strict_schema(schema))
    try:
        errors = sorted(validator.iter_errors(manifest), key=lambda e: [str(part) for part in e.absolute_path])
    except (jsonschema.exceptions.SchemaError, jsonschema.exceptions.RefResolutionError, LookupError, TypeError) as error:
        raise PipelineError(f"the InferenceService schema cannot be used: {error}") from None
    problems = []
    for error in errors:
        where = ".".join(str(part) for part in error.absolute_path) or "(top level)"
        problems.append(f"{where}: {error.message}")
    return problems


def validate(manifest: dict, schema: dict | None = None, use_kserve: bool = True) -> tuple[list[str], list[str]]:
    """(problems, layers checked) for `manifest`."""
    problems = rule_problems(manifest)
    layers = ["rules"]
    if use_kserve:
        found = kserve_problems(manifest)
        if found is not None:
            layers.append("kserve models")
            problems.extend(found)
    if schema is not None:
        layers.append("CRD schema")
        problems.extend(schema_problems(manifest, schema))
    return problems, layers
