"""Promotion: render → validate → kubectl apply → promotion record; and rollback."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from snitch.facts import service_settings
from snitch.pipeline import experiment, kube, records, s3, settings
from snitch.pipeline.errors import CheckFailed, PipelineError
from snitch.pipeline.manifest import (
    LABEL_PREFIX,
    Release,
    check_commit,
    check_digest,
    check_environment,
    check_repository,
    render,
)
from snitch.facts.weights import WeightsUri
from snitch.pipeline.validate import load_schema, validate
from snitch.pipeline.weights import parse_weights_uri

DEFAULT_METRICS_FILES = ("metrics.json", "evaluation.json", "reports/metrics.json")
# Any of these means the job has AWS credentials, so S3 may be asked for the weights' metrics.
_AWS_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
                             "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")


def _canary(value: str) -> int | None:
    if not value:
        return None
    try:
        percent = int(value)
    except ValueError:
        raise PipelineError(f"canary traffic percent {value!r} is not a whole number from 0 to 100") from None
    if not 0 <= percent <= 100:
        raise PipelineError(f"canary traffic percent {percent} is outside 0–100")
    return percent


def service_from_environment(environ) -> service_settings.ServiceSpec:
    """How the model runs, from the variables the pipeline maps its service inputs to."""
    declared = {}
    for field in service_settings.FIELDS:
        value = settings.get(field.variable, environ=environ)
        if value:
            declared[field.name] = value
    try:
        return service_settings.ServiceSpec.from_values(declared)
    except service_settings.ServiceProblem as problem:
        raise PipelineError(
            f"the service metadata cannot be deployed: {problem}. Set these inputs of the shared pipeline "
            "include in .gitlab-ci.yml (Model Standard 11; `snitch -n <model>` checks them)"
        ) from None


def release_from_environment(environment: str, environ=None) -> Release:
    """The Release a deploy job is about, read from its CI/CD variables."""
    job = settings.Settings(environ)
    get = job.get

    check_environment(environment)
    model = get("MODEL_NAME", required=True)
    weights = parse_weights_uri(get("WEIGHTS_URI", required=True), model_name=model, environ=environ)
    prefix = get("SNITCH_NAMESPACE_PREFIX", "ml-models")
    namespace = get("KSERVE_NAMESPACE", f"{prefix}-{environment}")
    return Release(
        model=model,
        environment=environment,
        namespace=namespace,
        weights=weights,
        image_repository=check_repository(get("IMAGE_REPOSITORY", required=True)),
        image_digest=check_digest(get("IMAGE_DIGEST", required=True)),
        version=get("IMAGE_VERSION") or job.version(),
        commit=check_commit(get("CI_COMMIT_SHA", required=True)),
        service=service_from_environment(environ),
        deployed_by=get("GITLAB_USER_LOGIN", required=True),
        pipeline_url=get("CI_PIPELINE_URL"),
        project_url=get("CI_PROJECT_URL"),
        model_format=get("MODEL_FORMAT", "custom"),
        runtime=get("SERVING_RUNTIME"),
        canary_traffic_percent=_canary(get("CANARY_TRAFFIC_PERCENT")),
    )


def release_facts(release: Release) -> dict:
    return {
        "model": release.model,
        "environment": release.environment,
        "namespace": release.namespace,
        "version": release.version,
        "commit": release.commit,
        "image": release.image,
        "image_digest": release.image_digest,
        "weights_uri": release.weights.uri,
        "service": release.service.facts(release.environment),
        "deployed_by": release.deployed_by,
        "pipeline_url": release.pipeline_url,
        "job_url": settings.get("CI_JOB_URL"),
    }


def dump(manifest: dict) -> str:
    return yaml.safe_dump(manifest, sort_keys=False, default_flow_style=False)


def check(manifest: dict, schema_path: str | None = None, use_kserve: bool = True) -> list[str]:
    """Validate `manifest`; raise CheckFailed listing every problem; return the layers checked."""
    schema = load_schema(schema_path) if schema_path else None
    problems, layers = validate(manifest, schema=schema, use_kserve=use_kserve)
    if problems:
        metadata = manifest.get("metadata") if isinstance(manifest, dict) else None
        name = metadata.get("name") if isinstance(metadata, dict) else None
        raise CheckFailed(
            f"the InferenceService {name!r} is invalid "
            f"(checked: {', '.join(layers)}):",
            problems,
        )
    return layers


def find_metrics(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    for candidate in DEFAULT_METRICS_FILES:
        if Path(candidate).is_file():
            return candidate
    return None


def weights_metrics(weights: WeightsUri, log=print) -> dict | None:
    """The evaluation published beside the weights (by the experiment job), if S3 can be asked."""
    if not settings.Settings().any_set(_AWS_CREDENTIAL_VARIABLES):
        log("no AWS credentials in this job: the promotion record carries no metrics from S3")
        return None
    uri = f"{weights.uri}/{experiment.METRICS_FILE}"
    try:
        metrics = s3.read_json(*s3.split_uri(uri))
    except PipelineError as error:  # old weights have no metrics; S3 trouble must not block a deploy
        log(f"the promotion record carries no metrics: {error}")
        return None
    log(f"metrics of the weights read from {uri}")
    return metrics


def deploy_metrics(explicit: str | None, weights: WeightsUri, log=print) -> dict | None:
    """A metrics file given or found in the job's folder, else the metrics published with the weights."""
    path = find_metrics(explicit)
    return records.load_metrics(path) if path else weights_metrics(weights, log)


def deploy(environment: str, output_dir: Path, schema_path: str | None, metrics_path: str | None,
           dry_run: bool = False, log=print) -> dict:
    release = release_from_environment(environment)
    manifest = render(release)
    layers = check(manifest, schema_path)
    log(f"InferenceService {release.model} in {release.namespace} is valid (checked: {', '.join(layers)})")
    record = records.make_record(
        action="deploy",
        manifest=manifest,
        release=release_facts(release),
        metrics=deploy_metrics(metrics_path, release.weights, log),
    )
    if dry_run:  # nothing was promoted: no record, no dotenv, only the manifest to look at
        path = records.write_manifest(output_dir, dump(manifest))
        log(f"dry run: {release.model} {release.version} was NOT promoted to {environment} and no promotion record "
            f"was written; the manifest a deploy would apply is {path}")
        return record
    paths = records.write(record, output_dir, dump(manifest))
    log(kube.apply(paths["manifest"]))
    records_dir = settings.get("SNITCH_RECORDS_DIR")
    if records_dir:
        log(f"kept the record in {records.store(record, Path(records_dir))}")
    log(
        f"promoted {release.model} {release.version} to {environment}: image {release.image}, "
        f"weights {release.weights.uri}; record {paths['record']}"
    )
    return record


def rollback(environment: str, output_dir: Path, schema_path: str | None, to: str | None,
             records_dir: str | None = None, dry_run: bool = False, log=print) -> dict:
    check_environment(environment)
    model = settings.get("MODEL_NAME", required=True)
    who = settings.get("GITLAB_USER_LOGIN", required=True)
    history, source = records.history(model, environment, records_dir)
    log(f"{len(history)} promotion record(s) of {model} in {environment} from {source}")
    current, target = records.rollback_target(history, to)
    manifest = copy.deepcopy(target["manifest"])
    annotations = manifest.setdefault("metadata", {}).setdefault("annotations", {})
    annotations[f"{LABEL_PREFIX}/rolled-back-by"] = who
    annotations[f"{LABEL_PREFIX}/rolled-back-from"] = str(current.get("image", ""))
    layers = check(manifest, schema_path)
    log(f"re-applying the {target['deployed_at']} promotion ({target.get('version')}, commit {target.get('commit')}); "
        f"valid (checked: {', '.join(layers)})")
    facts = {key: target.get(key) for key in (
        "model", "environment", "namespace", "version", "commit", "image", "image_digest", "weights_uri", "service")}
    facts.update({"deployed_by": who, "pipeline_url": settings.get("CI_PIPELINE_URL"),
                  "job_url": settings.get("CI_JOB_URL")})
    record = records.make_record(
        action="rollback",
        manifest=manifest,
        release=facts,
        metrics=target.get("metrics"),
        extra={
            "rolled_back_from": {key: current.get(key) for key in (
                "version", "commit", "image", "weights_uri", "service", "deployed_at")} | {
                "content_sha256": records.content(current)},
            "rolled_back_to": target.get("deployed_at"),
        },
    )
    if dry_run:  # nothing was rolled back: no record, no dotenv, only the manifest to look at
        path = records.write_manifest(output_dir, dump(manifest))
        log(f"dry run: {model} in {environment} was NOT rolled back and no promotion record was written; "
            f"the manifest a rollback would apply ({target.get('image')}) is {path}")
        return record
    paths = records.write(record, output_dir, dump(manifest))
    log(kube.apply(paths["manifest"]))
    directory = records_dir or settings.get("SNITCH_RECORDS_DIR")
    if directory:
        log(f"kept the record in {records.store(record, Path(directory))}")
    log(f"rolled {model} in {environment} back from {current.get('image')} to {target.get('image')}")
    return record
