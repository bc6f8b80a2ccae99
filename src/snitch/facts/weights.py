"""Weights URIs of standard 1: s3://<bucket>/<project>/models/<UTC ISO-8601 timestamp>."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

_URI = re.compile(r"^s3://(?P<bucket>[^/\s]+)/(?P<project>[^/\s]+)/models/(?P<timestamp>[^/\s]+)/?\Z")
# Clocks of CI runners and laptops drift a little: a timestamp this far ahead still counts as now.
CLOCK_SKEW = timedelta(minutes=5)
_TIMESTAMP_FORMATS = ("%Y%m%dT%H%M%SZ", "%Y-%m-%dT%H:%M:%SZ", "%Y%m%dT%H%M%S.%fZ", "%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class WeightsUri:
    bucket: str
    project: str
    timestamp: str

    @property
    def prefix(self) -> str:
        """The S3 key prefix that holds the weights, with a trailing slash."""
        return f"{self.project}/models/{self.timestamp}/"

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.project}/models/{self.timestamp}"


def parse_uri(uri: str) -> WeightsUri | None:
    """The URI's parts, or None when it does not have the standard's shape."""
    match = _URI.match(uri.strip())
    return WeightsUri(**match.groupdict()) if match else None


def parse_timestamp(timestamp: str) -> datetime | None:
    """The UTC datetime of a basic or extended ISO-8601 timestamp ending in Z, else None."""
    if not timestamp.isascii():
        return None  # strptime would take other scripts' digits (e.g. Arabic-Indic) as numbers
    for layout in _TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(timestamp, layout).replace(tzinfo=timezone.utc)
        except ValueError:
            continue
    return None


def location_problems(uri: WeightsUri, bucket: str, model: str) -> list[str]:
    """What puts `uri` outside the organisation's bucket or the model's prefix (empty: nothing).
    The one rule the checker (standard 1) and the pipeline's jobs apply."""
    wrong = []
    if uri.bucket != bucket:
        wrong.append(f"bucket {uri.bucket!r} instead of {bucket!r}")
    if uri.project != model:
        wrong.append(f"project {uri.project!r} instead of the model name {model!r}")
    return wrong
