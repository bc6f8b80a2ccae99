"""Render the KServe InferenceService of one environment."""

from __future__ import annotations

import re
from dataclasses import dataclass

from snitch.facts.service_settings import ServiceSpec
from snitch.facts.weights import WeightsUri
from snitch.pipeline.errors import PipelineError

API_VERSION = "serving.kserve.io/v1beta1"
KIND = "InferenceService"
LABEL_PREFIX = "ml-platform"
ENVIRONMENTS = {"dev": "development", "staging": "staging", "production": "production"}

DIGEST = re.compile(r"^sha256:[0-9a-f]{64}\Z")
# An image repository without tag or digest: [registry[:port]/]path/components
_REPOSITORY = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*\Z"
)
_LABEL_VALUE_CHARS = re.compile(r"[^A-Za-z0-9._-]+")
_COMMIT = re.compile(r"^[0-9a-f]{7,40}\Z")


@dataclass(frozen=True)
class Release:
    """Everything that identifies what is deployed where."""

    model: str
    environment: str
    namespace: str
    weights: WeightsUri
    image_repository: str
    image_digest: str
    version: str
    commit: str
    service: ServiceSpec
    deployed_by: str = ""
    pipeline_url: str = ""
    project_url: str = ""
    model_format: str = "custom"
    runtime: str = ""
    canary_traffic_percent: int | None = None

    @property
    def image(self) -> str:
        return f"{self.image_repository}@{self.image_digest}"


def check_digest(digest: str) -> str:
    value = (digest or "").strip()
    if not DIGEST.match(value):
        raise PipelineError(
            f"bad image digest {value!r}: expected sha256: followed by 64 lowercase hex digits "
            "(the build job writes it to IMAGE_DIGEST in build.env)"
        )
    return value


def check_repository(repository: str) -> str:
    value = (repository or "").strip()
    if not value:
        raise PipelineError("the image repository is empty; set the `image_repository` input (default $CI_REGISTRY_IMAGE)")
    if "@" in value or not _REPOSITORY.match(value):
        raise PipelineError(
            f"bad image repository {value!r}: expected registry/path without tag or digest, "
            "e.g. registry.example.com/ml-platform/iris-classifier"
        )
    return value


def check_commit(commit: str) -> str:
    value = (commit or "").strip()
    if not _COMMIT.match(value):
        raise PipelineError(f"bad commit SHA {value!r}: expected a git commit SHA (CI_COMMIT_SHA)")
    return value


def check_environment(environment: str) -> str:
    if environment not in ENVIRONMENTS:
        raise PipelineError(f"unknown environment {environment!r}; expected one of: {', '.join(ENVIRONMENTS)}")
    return environment


def label_value(text: str) -> str:
    """`text` made into a valid Kubernetes label value (≤ 63 chars, alphanumeric at both ends)."""
    value = _LABEL_VALUE_CHARS.sub("-", text)[:63].strip("-._")
    return value


def service_labels(service: ServiceSpec) -> dict:
    """Who owns the model and its latency objective, for dashboards and alerts to select on."""
    return {f"{LABEL_PREFIX}/team": service.team, f"{LABEL_PREFIX}/latency-slo-ms": str(service.latency_slo_ms)}


def _scaling(release: Release) -> dict:
    """Autoscaling on concurrent requests between the environment's replica bounds, and the
    request timeout derived from the latency objective."""
    service = release.service
    low, high = service.replicas(release.environment)
    return {
        "minReplicas": low,
        "maxReplicas": high,
        "scaleMetric": "concurrency",
        "scaleTarget": service.target_concurrency,
        "timeout": service.timeout_seconds,
    }


def _resources(service: ServiceSpec) -> dict:
    # Limits equal to requests: the pod gets the Guaranteed QoS class, so its latency does not
    # depend on what its neighbours burst to, and capacity planning can add requests up.
    amounts = {"cpu": str(service.cpu), "memory": str(service.memory)}
    return {"requests": dict(amounts), "limits": dict(amounts)}


def render(release: Release) -> dict:
    """The InferenceService manifest (a plain dict, ready for YAML/JSON) for `release`."""
    labels = {
        "app.kubernetes.io/name": release.model,
        "app.kubernetes.io/version": label_value(release.version),
        "app.kubernetes.io/managed-by": "model-promotion-pipeline",
        f"{LABEL_PREFIX}/model": release.model,
        f"{LABEL_PREFIX}/environment": release.environment,
        f"{LABEL_PREFIX}/commit": release.commit,
        f"{LABEL_PREFIX}/weights-timestamp": release.weights.basic_timestamp,
        **service_labels(release.service),
    }
    annotations = {
        f"{LABEL_PREFIX}/model": release.model,
        f"{LABEL_PREFIX}/version": release.version,
        f"{LABEL_PREFIX}/commit": release.commit,
        f"{LABEL_PREFIX}/weights-uri": release.weights.uri,
        f"{LABEL_PREFIX}/image": release.image,
        **service_labels(release.service),
    }
    for key, value in (
        ("deployed-by", release.deployed_by),
        ("pipeline-url", release.pipeline_url),
        ("project-url", release.project_url),
    ):
        if value:
            annotations[f"{LABEL_PREFIX}/{key}"] = value
    model: dict = {
        "modelFormat": {"name": release.model_format},
        "storageUri": release.weights.uri,
        "image": release.image,
        "resources": _resources(release.service),
        # serve.py answers a prediction that misses this objective with the model's default output
        "env": [{"name": "LATENCY_SLO_MS", "value": str(release.service.latency_slo_ms)}],
    }
    if release.runtime:
        model["runtime"] = release.runtime
    # the pods carry the service labels too: metrics and logs are tagged from pod labels
    predictor: dict = {**_scaling(release), "labels": service_labels(release.service), "model": model}
    if release.canary_traffic_percent is not None and release.canary_traffic_percent != 100:
        predictor["canaryTrafficPercent"] = release.canary_traffic_percent
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": release.model,
            "namespace": release.namespace,
            "labels": labels,
            "annotations": annotations,
        },
        "spec": {"predictor": predictor},
    }
