"""Weights URIs of standard 1: s3://<bucket>/<project>/models/<UTC ISO-8601 timestamp>.

One reading for the checker (standard 1) and the pipeline's jobs (snitch.pipeline.weights, which
adds the organisation's bucket and the clock to it)."""

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
    model: str  # the URI's project folder, which must be the model's name
    timestamp_text: str  # the training timestamp as the URI writes it
    timestamp: datetime | None  # that timestamp in UTC; None when it is not a UTC ISO-8601 timestamp

    @property
    def prefix(self) -> str:
        """The S3 key prefix that holds the weights, with a trailing slash."""
        return f"{self.model}/models/{self.timestamp_text}/"

    @property
    def uri(self) -> str:
        """The URI itself, without a trailing slash."""
        return str(self)

    @property
    def basic_timestamp(self) -> str:
        """The timestamp in ISO 8601 basic form, usable as a Kubernetes label value."""
        if self.timestamp is None:
            raise ValueError(f"{self.timestamp_text!r} is not a UTC ISO-8601 timestamp")
        return self.timestamp.strftime("%Y%m%dT%H%M%SZ")

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.model}/models/{self.timestamp_text}"


def parse_uri(uri: str) -> WeightsUri | None:
    """The URI's parts, or None when it does not have the standard's shape (a timestamp that is
    not one leaves `timestamp` None: the standard's shape holds, its timestamp rule does not)."""
    match = _URI.match(uri.strip())
    if not match:
        return None
    return WeightsUri(match["bucket"], match["project"], match["timestamp"], parse_timestamp(match["timestamp"]))


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
    if uri.model != model:
        wrong.append(f"project {uri.model!r} instead of the model name {model!r}")
    return wrong


def trained_after(moment: datetime, now: datetime) -> bool:
    """Is the training time `moment` later than `now` (beyond CLOCK_SKEW)? Weights cannot have been
    trained in the future. The one rule the checker (standard 1) and the pipeline's jobs apply."""
    return moment > now + CLOCK_SKEW
