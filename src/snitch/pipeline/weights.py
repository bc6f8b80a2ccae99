"""The weights URI of Model Standard 1, as the pipeline needs it.

`s3://<bucket>/<model name>/models/<UTC ISO-8601 training timestamp>`; the timestamp is basic
(`20261122T093000Z`, recommended) or extended (`2026-11-22T09:30:00Z`) and not in the future.
"""

from __future__ import annotations

from datetime import datetime, timezone

from snitch.facts.weights import WeightsUri, location_problems, parse_uri, trained_after  # snitch's own rules (standard 1)
from snitch.pipeline import settings
from snitch.pipeline.errors import PipelineError


def parse_weights_uri(uri: str, model_name: str | None = None, now: datetime | None = None,
                      environ=None) -> WeightsUri:
    """Parse and check `uri` against the organisation's bucket (as snitch's standard 1 does, from
    the config of the job's variables `environ`); raise PipelineError saying what is wrong and
    what is expected."""
    bucket = settings.parameters(environ)["bucket"]
    example = f"s3://{bucket}/<model name>/models/20261122T093000Z"
    text = (uri or "").strip()
    if not text:
        raise PipelineError(f"the weights URI is empty; set the `weights_uri` input to {example}")
    parts = parse_uri(text)
    if parts is None:
        raise PipelineError(
            f"malformed weights URI {text!r}: expected {example} (Model Standard 1); "
            "fix the `weights_uri` input in .gitlab-ci.yml"
        )
    model, stamp = parts.model, parts.timestamp_text
    wrong = location_problems(parts, bucket, model_name if model_name is not None else model)
    if wrong:
        raise PipelineError(
            f"weights URI {text!r} uses {' and '.join(wrong)}; weights of {model_name or model} live under "
            f"s3://{bucket}/{model_name or model}/models/ (Model Standard 1)"
        )
    timestamp = parts.timestamp
    if timestamp is None:
        raise PipelineError(
            f"weights URI {text!r}: {stamp!r} is not a UTC ISO 8601 timestamp; "
            "use the basic form like 20261122T093000Z (or 2026-11-22T09:30:00Z)"
        )
    if trained_after(timestamp, now or datetime.now(timezone.utc)):
        raise PipelineError(
            f"weights URI {text!r}: the training timestamp {stamp} is in the future; "
            "it must be the UTC time the weights were trained"
        )
    return parts
