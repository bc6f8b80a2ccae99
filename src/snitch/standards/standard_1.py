"""Standard 1 — Weights location: weights live at s3://<bucket>/<project>/models/<UTC timestamp>,
and .gitlab-ci.yml declares that URI."""

from datetime import datetime, timezone

from snitch.facts import gitlab_ci, weights
from snitch.violation import Violation, requires, skip

CI = gitlab_ci.CI


def uri_line(project) -> int | None:
    return gitlab_ci.key_line(project.text(CI), "weights_uri", "WEIGHTS_URI")


def declared_uri(project) -> str:
    found = gitlab_ci.setting(gitlab_ci.document(project), "weights_uri", "WEIGHTS_URI")
    if found is None:
        raise Violation(CI, "no weights URI is declared (no `weights_uri` include input, no WEIGHTS_URI variable)")
    if not isinstance(found.value, str) or not found.value.strip():
        raise Violation(CI, f"the {found.where} is {found.value!r}, not an s3:// URI", line=uri_line(project))
    return found.value.strip()


def parsed_uri(project) -> weights.WeightsUri:
    uri = declared_uri(project)
    parsed = weights.parse_uri(uri)
    if parsed is None:
        raise Violation(
            CI, f"the weights URI {uri!r} does not have the form s3://<bucket>/<model>/models/<timestamp>", line=uri_line(project)
        )
    return parsed


def training_time(project):
    parsed = parsed_uri(project)
    if parsed.timestamp is None:
        raise Violation(
            CI, f"the weights timestamp {parsed.timestamp_text!r} is not a UTC ISO-8601 timestamp", line=uri_line(project)
        )
    return parsed.timestamp


def test_gitlab_ci_declares_weights_uri(project, parameters):
    gitlab_ci.require_shared_include(project, parameters)
    declared_uri(project)


@requires("test_gitlab_ci_declares_weights_uri")
def test_weights_uri_uses_bucket_and_project(project, parameters):
    parsed = parsed_uri(project)
    wrong = weights.location_problems(parsed, parameters["bucket"], project.model)
    if wrong:
        raise Violation(CI, f"the weights URI {parsed} uses " + " and ".join(wrong), line=uri_line(project))


@requires("test_gitlab_ci_declares_weights_uri")
def test_weights_timestamp_is_utc_iso8601(project):
    training_time(project)


@requires("test_weights_timestamp_is_utc_iso8601")
def test_weights_timestamp_is_not_in_future(project):
    moment = training_time(project)
    now = datetime.now(timezone.utc)
    if weights.trained_after(moment, now):
        raise Violation(
            CI,
            f"the weights timestamp {moment:%Y-%m-%dT%H:%M:%SZ} is later than now ({now:%Y-%m-%dT%H:%M:%SZ})",
            line=uri_line(project),
        )


@requires("test_weights_uri_uses_bucket_and_project")
def test_weights_prefix_holds_model_hash(project, online):
    if not online:
        skip("offline (pass --online to check that the weights exist in S3)")
    parsed = parsed_uri(project)
    import boto3  # deferred: only online mode talks to S3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        listing = boto3.client("s3").list_objects_v2(Bucket=parsed.bucket, Prefix=parsed.prefix)
    except (BotoCoreError, ClientError) as error:
        raise Violation(CI, f"S3 could not be asked about {parsed}: {error}") from None
    keys = {item["Key"] for item in listing.get("Contents", [])}
    if not keys:
        raise Violation(CI, f"nothing is stored under {parsed}/")
    if parsed.prefix + "model_hash.txt" not in keys:
        raise Violation(CI, f"{parsed}/ holds {len(keys)} objects but no model_hash.txt")
