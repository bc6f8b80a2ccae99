"""The weights URI of Model Standard 1, as the pipeline needs it.

`s3://<bucket>/<model name>/models/<UTC ISO-8601 training timestamp>`; the timestamp is basic
(`20261122T093000Z`, recommended) or extended (`2026-11-22T09:30:00Z`) and not in the future.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from snitch.pipeline.errors import PipelineError
from snitch.weights import CLOCK_SKEW, parse_timestamp, parse_uri  # snitch's own parser (standard 1)

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\Z")
EXAMPLE = "s3://ml-platform-bucket/<model name>/models/20261122T093000Z"


@dataclass(frozen=True)
class WeightsUri:
    uri: str
    bucket: str
    model: str
    timestamp: datetime

    @property
    def basic_timestamp(self) -> str:
        """The timestamp in ISO 8601 basic form, usable as a Kubernetes label value."""
        return self.timestamp.strftime("%Y%m%dT%H%M%SZ")


def parse_weights_uri(uri: str, model_name: str | None = None, now: datetime | None = None) -> WeightsUri:
    """Parse and check `uri`; raise PipelineError saying what is wrong and what is expected."""
    text = (uri or "").strip()
    if not text:
        raise PipelineError(f"the weights URI is empty; set the `weights_uri` input to {EXAMPLE}")
    parts = parse_uri(text)
    if parts is None:
        raise PipelineError(
            f"malformed weights URI {text!r}: expected {EXAMPLE} (Model Standard 1); "
            "fix the `weights_uri` input in .gitlab-ci.yml"
        )
    bucket, model, stamp = parts.bucket, parts.project, parts.timestamp
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise PipelineError(f"weights URI {text!r}: {bucket!r} is not a valid S3 bucket name")
    if model_name is not None and model != model_name:
        raise PipelineError(
            f"weights URI {text!r} belongs to model {model!r}, not {model_name!r}; "
            f"weights of {model_name} live under s3://{bucket}/{model_name}/models/ (Model Standard 1)"
        )
    timestamp = parse_timestamp(stamp)
    if timestamp is None:
        raise PipelineError(
            f"weights URI {text!r}: {stamp!r} is not a UTC ISO 8601 timestamp; "
            "use the basic form like 20261122T093000Z (or 2026-11-22T09:30:00Z)"
        )
    current = now or datetime.now(timezone.utc)
    if timestamp > current + CLOCK_SKEW:
        raise PipelineError(
            f"weights URI {text!r}: the training timestamp {stamp} is in the future; "
            "it must be the UTC time the weights were trained"
        )
    return WeightsUri(uri=text.rstrip("/"), bucket=bucket, model=model, timestamp=timestamp)
