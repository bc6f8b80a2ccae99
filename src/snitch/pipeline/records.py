"""Promotion records: what was deployed where, by whom, and how to find the previous one.

A record is a JSON document written by every deploy and rollback job (and kept as the job's
artifact `promotion/promotion-record.json`); it carries the applied manifest, so rolling back is
re-applying an earlier record's manifest. Earlier records come from one of two sources:

* a records directory (`SNITCH_RECORDS_DIR`): every `*.json` record below it. Deploys also
  write their record there when it is set. `ci/run-local` uses this, and so can a runner with
  a persistent volume.
* the GitLab API (default in GitLab CI): the environment's successful deployments
  (`GET /projects/:id/deployments?environment=...&status=success`) and, for each, the artifact
  `promotion/promotion-record.json` of the job that made it. Needs a token with read_api in
  `SNITCH_API_TOKEN` (a project access token, masked); `CI_JOB_TOKEN` is tried otherwise.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from snitch.pipeline import settings
from snitch.pipeline.errors import PipelineError, writable
from snitch.read import files

RECORD_VERSION = 1
# The facts a rollback matches and reports: text when present.
_FACTS = ("action", "model", "environment", "version", "commit", "image", "image_digest", "weights_uri")
ARTIFACT_PATH = "promotion/promotion-record.json"
_DOTENV_SAFE = re.compile(r"^[^\n\r]*\Z")


def now_utc() -> str:
    """RFC 3339 UTC with microseconds, so records made in the same second still sort."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def load_metrics(path: str | Path | None) -> dict | None:
    """The evaluation metrics the project's evaluate step wrote, or None when there are none."""
    if not path:
        return None
    file = Path(path)
    if not file.exists():
        return None
    try:
        data = files.load_json(file)
    except files.Unreadable as problem:
        raise PipelineError(f"evaluation metrics {file} {problem}; fix or remove the file") from None
    if not isinstance(data, dict):
        raise PipelineError(f"evaluation metrics {file} must be a JSON object of metric: value")
    return data


def content_digest(manifest: dict, service: dict | None) -> str:
    """What a promotion puts live: the InferenceService spec (image, weights, scaling, resources,
    timeout) and the service metadata (team, latency objective). Two promotions with the same
    digest serve the same thing, whatever their commit or version."""
    payload = json.dumps({"spec": manifest.get("spec"), "service": service}, sort_keys=True)
    return "sha256:" + hashlib.sha256(payload.encode()).hexdigest()
def to_json(record: dict) -> str:
    """The record as strict JSON: NaN or Infinity (from a metric) would make it unreadable to
    every other JSON reader, so they are refused with the key that holds them."""
    try:
        return json.dumps(record, indent=2, allow_nan=False) + "\n"
    except ValueError:
        bad = [key for key, value in (record.get("metrics") or {}).items() if isinstance(value, float) and not math.isfinite(value)]
        where = f"metric(s) {', '.join(map(str, bad))}" if bad else "a value"
        raise PipelineError(
            f"the promotion record cannot be written: {where} is NaN or infinite, which JSON cannot hold; "
            "make the evaluation write finite numbers (or null)"
        ) from None


def make_record(*, action: str, manifest: dict, release: dict, metrics: dict | None, extra: dict | None = None) -> dict:
    record = {
        "record_version": RECORD_VERSION,
        "action": action,
        **release,
        "deployed_at": now_utc(),
        "metrics": metrics,
        "content_sha256": content_digest(manifest, release.get("service")),
        "manifest": manifest,
    }
    record.update(extra or {})
    return record


def dotenv(record: dict) -> str:
    """The record's scalar facts as a GitLab dotenv report (PROMOTION_* variables)."""
    keys = {
        "PROMOTION_ACTION": record.get("action"),
        "PROMOTION_ENVIRONMENT": record.get("environment"),
        "PROMOTION_MODEL": record.get("model"),
        "PROMOTION_VERSION": record.get("version"),
        "PROMOTION_COMMIT": record.get("commit"),
        "PROMOTION_IMAGE": record.get("image"),
        "PROMOTION_IMAGE_DIGEST": record.get("image_digest"),
        "PROMOTION_WEIGHTS_URI": record.get("weights_uri"),
        "PROMOTION_DEPLOYED_BY": record.get("deployed_by"),
        "PROMOTION_DEPLOYED_AT": record.get("deployed_at"),
    }
    lines = []
    for key, value in keys.items():
        text = "" if value is None else str(value)
        if not _DOTENV_SAFE.match(text):
            text = text.replace("\n", " ").replace("\r", " ")
        lines.append(f"{key}={text}")
    return "\n".join(lines) + "\n"


MANIFEST_FILE = "inferenceservice.yaml"


def write_manifest(output_dir: Path, manifest_text: str) -> Path:
    path = output_dir / MANIFEST_FILE
    _write(path, manifest_text)
    return path


def write(record: dict, output_dir: Path, manifest_text: str) -> dict[str, Path]:
    contents = {
        "manifest": (output_dir / MANIFEST_FILE, manifest_text),
        "record": (output_dir / "promotion-record.json", to_json(record)),
        "dotenv": (output_dir / "promotion.env", dotenv(record)),
    }
    for path, text in contents.values():
        _write(path, text)
    return {name: path for name, (path, _) in contents.items()}


def _write(path: Path, text: str) -> None:
    try:
        writable(path).write_text(text, encoding="utf-8")
    except OSError as error:
        raise PipelineError(f"cannot write {path}: {error.strerror}") from None


def store(record: dict, records_dir: Path) -> Path:
    """Keep `record` in a records directory, one file per promotion."""
    stamp = record["deployed_at"].replace("-", "").replace(":", "").replace(".", "")
    folder = records_dir / record["environment"]
    base = f"{stamp}-{record['action']}-{str(record.get('commit', ''))[:8]}"
    path = folder / f"{base}.json"
    counter = 1
    while path.exists():
        counter += 1
        path = folder / f"{base}-{counter}.json"
    _write(path, to_json(record))
    return path


def _is_record(data) -> bool:
    """A record this version wrote: the facts rollback sorts and compares by have their types."""
    if not (
        isinstance(data, dict)
        and data.get("record_version") == RECORD_VERSION
        and isinstance(data.get("manifest"), dict)
        and isinstance(data.get("deployed_at"), str)
        and all(isinstance(data.get(key), (str, type(None))) for key in _FACTS)
        and isinstance(data.get("rolled_back_from", {}), dict)
    ):
        return False
    metadata = data["manifest"].get("metadata", {})
    rolled_back_from = data.get("rolled_back_from", {})
    # rollback compares digests in sets and annotates the manifest it re-applies: each must have its type
    return (
        isinstance(metadata, dict)
        and isinstance(metadata.get("annotations", {}), dict)
        and isinstance(data.get("content_sha256"), (str, type(None)))
        and isinstance(rolled_back_from.get("content_sha256"), (str, type(None)))
        and isinstance(rolled_back_from.get("manifest", {}), dict)
    )


# store() keeps records at <records dir>/<environment>/; a few levels more are read (a copied
# folder of folders), never an unbounded tree nor through a symlink.
MAX_RECORDS_DEPTH = 4


def _record_files(records_dir: Path) -> list[Path]:
    found, level = [], [records_dir]
    for _ in range(MAX_RECORDS_DEPTH + 1):
        folders = []
        for folder in level:
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue  # unreadable: no records there
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(Path(entry.path))
                elif entry.name.endswith(".json"):
                    found.append(Path(entry.path))
        level = folders
    return sorted(found)


def from_directory(records_dir: Path, model: str, environment: str) -> list[dict]:
    if not records_dir.is_dir():
        return []
    found = []
    for path in _record_files(records_dir):
        try:
            data = files.load_json(path)
        except files.Unreadable:
            continue  # not a record (or a FIFO, a device, a broken file): never one to roll back to
        if _is_record(data) and data.get("model") == model and data.get("environment") == environment:
            found.append(data)
    return found


def _api_get(url: str, headers: dict):
    """The JSON document GitLab answers at `url`."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read(files.MAX_BYTES + 1)
    except urllib.error.HTTPError as error:
        raise PipelineError(f"GitLab API {url} answered {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError) as error:
        raise PipelineError(f"GitLab API {url} cannot be reached: {error}") from None
    if len(body) > files.MAX_BYTES:
        raise PipelineError(f"GitLab API {url} answered more than {files.MAX_BYTES // 1024 // 1024} MiB")
    try:
        return files.parse_json(files.decode(body))
    except files.Unreadable as problem:
        raise PipelineError(f"GitLab API {url} answer {problem}") from None


def from_gitlab(api_url: str, project_id: str, token_header: tuple[str, str], environment: str, model: str,
                limit: int = 20) -> list[dict]:
    """Records of the environment's successful deployments, read from their jobs' artifacts."""
    headers = {token_header[0]: token_header[1]}
    query = urllib.parse.urlencode(
        {"environment": environment, "status": "success", "order_by": "id", "sort": "desc", "per_page": limit}
    )
    base = f"{api_url.rstrip('/')}/projects/{urllib.parse.quote(str(project_id), safe='')}"
    deployments = _api_get(f"{base}/deployments?{query}", headers)
    records = []
    for deployment in deployments if isinstance(deployments, list) else []:
        job = deployment.get("deployable") if isinstance(deployment, dict) else None
        if not isinstance(job, dict) or not isinstance(job.get("id"), int):
            continue
        try:
            data = _api_get(f"{base}/jobs/{job['id']}/artifacts/{ARTIFACT_PATH}", headers)
        except PipelineError:
            continue  # an old job without a record, or expired artifacts
        if _is_record(data) and data.get("model") == model and data.get("environment") == environment:
            records.append(data)
    return records


def history(model: str, environment: str, records_dir: str | None = None, environ=None) -> tuple[list[dict], str]:
    """(records oldest first, description of the source) for the model's environment."""
    job = settings.Settings(environ)
    directory = records_dir or job.get("SNITCH_RECORDS_DIR")
    if directory:
        found = from_directory(Path(directory), model, environment)
        source = f"records directory {directory}"
    else:
        api_url = job.get("CI_API_V4_URL")
        project_id = job.get("CI_PROJECT_ID")
        token = job.get("SNITCH_API_TOKEN")
        header = ("PRIVATE-TOKEN", token) if token else ("JOB-TOKEN", job.get("CI_JOB_TOKEN"))
        if not api_url or not project_id or not header[1]:
            raise PipelineError(
                "no source of earlier promotion records: set SNITCH_RECORDS_DIR to a records directory, "
                "or run in GitLab CI with SNITCH_API_TOKEN (read_api) so the deployments API can be read"
            )
        found = from_gitlab(api_url, project_id, header, environment, model)
        source = f"GitLab deployments of environment {environment} ({api_url})"
    found.sort(key=lambda record: record.get("deployed_at", ""))
    return found, source


def content(record: dict) -> str:
    """The record's content digest (records written before it existed get it computed)."""
    if record.get("content_sha256"):
        return record["content_sha256"]
    return content_digest(record.get("manifest") or {}, record.get("service"))


def rollback_target(records: list[dict], to: str | None = None) -> tuple[dict, dict]:
    """(current record, record to roll back to) from `records` (oldest first).

    Without `to`, the target is the newest deploy before the current one that differs from what
    is live and was not itself rolled back. `to` selects a record by commit (prefix), version or
    image digest instead."""
    if not records:
        raise PipelineError("no earlier promotion records were found: nothing to roll back to")
    current = records[-1]
    if to:
        wanted = to.strip()
        for record in reversed(records[:-1]):
            if record.get("action") != "deploy":
                continue
            if wanted in (record.get("version"), record.get("image_digest"), record.get("image")) or (
                len(wanted) >= 7 and str(record.get("commit", "")).startswith(wanted)
            ):
                return current, record
        raise PipelineError(f"no earlier deploy matches {wanted!r} (give a commit SHA, version or image digest)")
    rolled_away = {content(r["rolled_back_from"]) for r in records if isinstance(r.get("rolled_back_from"), dict)}
    for record in reversed(records[:-1]):
        if record.get("action") != "deploy":
            continue
        if content(record) == content(current) or content(record) in rolled_away:
            continue
        return current, record
    raise PipelineError(
        f"no earlier promotion differs from what is live ({current.get('image')}, {current.get('weights_uri')}): "
        "nothing to roll back to"
    )
