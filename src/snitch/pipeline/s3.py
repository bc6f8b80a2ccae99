"""The little of S3 the pipeline needs: copy a prefix down, read a small JSON object.

boto3 is imported only here and only when called, so jobs that never touch S3 do not need it.
Credentials and endpoint come from the usual AWS settings (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, ...), set as masked CI/CD variables.
Object keys come from a bucket others can write to, so they are treated as hostile: a key that
would land outside the destination folder is refused, and counts and sizes are bounded.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath

from snitch.facts.names import bucket_problem
from snitch.pipeline.errors import PipelineError

MAX_OBJECTS = 10_000
MAX_TOTAL_BYTES = 20 * 1024**3  # datasets larger than this belong in a streaming job, not a CI copy
MAX_JSON_BYTES = 1024 * 1024
_URI = re.compile(r"^s3://(?P<bucket>[^/\s]+)/(?P<key>\S*)$")


class Missing(PipelineError):
    """The object or prefix does not exist."""


def split_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of s3://bucket/key; the key may be a prefix."""
    match = _URI.match(uri)
    if not match or bucket_problem(match["bucket"]):
        raise PipelineError(f"{uri!r} is not an s3://bucket/prefix URI")
    return match["bucket"], match["key"]


def client():
    try:
        import boto3
    except ImportError:
        raise PipelineError("talking to S3 needs boto3 (pip install boto3, or model-snitch[pipeline])") from None
    return boto3.client("s3")


def _errors():
    from botocore.exceptions import BotoCoreError, ClientError

    return BotoCoreError, ClientError


def _relative_key(key: str, prefix: str) -> PurePosixPath:
    relative = PurePosixPath(key[len(prefix):])
    if relative.is_absolute() or not relative.parts or any(part in ("", ".", "..") for part in relative.parts):
        raise PipelineError(f"refusing S3 object {key!r}: its name would land outside the destination folder")
    return relative


def _refuse_file_and_folder(bucket: str, relative: dict[str, PurePosixPath]) -> None:
    """S3 may hold both `a` and `a/b`; a folder cannot: name the pair instead of failing half-way."""
    files = {path: key for key, path in relative.items()}
    for key, path in relative.items():
        for parent in path.parents:
            if parent in files:
                raise PipelineError(
                    f"s3://{bucket}/{files[parent]} is an object and also a folder of s3://{bucket}/{key}; "
                    "a copy on disk cannot hold both: rename or remove one of them"
                )


def download_prefix(bucket: str, prefix: str, destination: Path) -> list[Path]:
    """Copy every object under s3://bucket/prefix into destination (keeping sub-folders)."""
    s3 = client()
    objects, total = [], 0
    try:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                if item["Key"].endswith("/"):
                    continue  # a "folder" placeholder
                objects.append(item["Key"])
                total += item.get("Size", 0)
                if len(objects) > MAX_OBJECTS or total > MAX_TOTAL_BYTES:
                    raise PipelineError(
                        f"s3://{bucket}/{prefix} holds more than {MAX_OBJECTS} objects or "
                        f"{MAX_TOTAL_BYTES // 1024**3} GiB; keep only the training and evaluation data there"
                    )
        if not objects:
            raise Missing(f"nothing is stored under s3://{bucket}/{prefix}")
        relative = {key: _relative_key(key, prefix) for key in objects}
        _refuse_file_and_folder(bucket, relative)
        written = []
        for key in objects:
            target = destination.joinpath(*relative[key].parts)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise PipelineError(f"cannot copy s3://{bucket}/{key} to {target}: {error.strerror}") from None
            s3.download_file(bucket, key, str(target))
            written.append(target)
        return written
    except _errors() as error:
        raise PipelineError(f"S3 could not copy s3://{bucket}/{prefix}: {error}") from None


def read_json(bucket: str, key: str) -> dict:
    """A small JSON object stored at s3://bucket/key; Missing when there is none."""
    s3 = client()
    botocore_error, client_error = _errors()
    try:
        answer = s3.get_object(Bucket=bucket, Key=key)
        if answer.get("ContentLength", 0) > MAX_JSON_BYTES:
            raise PipelineError(f"s3://{bucket}/{key} is larger than {MAX_JSON_BYTES} bytes; it is not a metrics file")
        body = answer["Body"].read(MAX_JSON_BYTES + 1)
    except client_error as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            raise Missing(f"s3://{bucket}/{key} does not exist") from None
        raise PipelineError(f"S3 could not read s3://{bucket}/{key}: {error}") from None
    except botocore_error as error:
        raise PipelineError(f"S3 could not read s3://{bucket}/{key}: {error}") from None
    try:
        data = json.loads(body)
    except ValueError:
        raise PipelineError(f"s3://{bucket}/{key} is not valid JSON") from None
    if not isinstance(data, dict):
        raise PipelineError(f"s3://{bucket}/{key} must hold a JSON object")
    return data
