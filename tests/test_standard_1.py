"""Standard 1 — Weights location: one test per check, passing on the rendered project and failing
on a project that breaks exactly that rule."""


import pytest

from fixtures.checker import assert_only_failure, edit, passed_on_compliant, run_checks, run_json

CI = ".gitlab-ci.yml"


def weights_line(project):
    return next(line for line in (project / CI).read_text().splitlines() if "weights_uri:" in line)


def test_gitlab_ci_declares_weights_uri(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_gitlab_ci_declares_weights_uri")
    edit(compliant / CI, weights_line(compliant), "")
    run = run_checks(compliant, 1)
    # Every other weights check depends on the declaration, so they fail with it.
    assert run.code == 1
    result = run.check("test_gitlab_ci_declares_weights_uri")
    assert "no weights URI is declared" in result["message"]


def test_gitlab_ci_declares_weights_uri_as_variable(compliant):
    line = weights_line(compliant)
    edit(compliant / CI, line, "")
    uri = line.split("weights_uri:")[1].strip()
    (compliant / CI).write_text((compliant / CI).read_text() + f"variables:\n  WEIGHTS_URI: {uri}\n")
    assert run_checks(compliant, 1).code == 0


def test_weights_uri_uses_bucket_and_project(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_weights_uri_uses_bucket_and_project")
    edit(compliant / CI, "s3://ml-platform-bucket/iris-classifier/", "s3://my-own-bucket/iris/")
    run = run_checks(compliant, 1)
    assert_only_failure(
        run, 1, "test_weights_uri_uses_bucket_and_project", CI,
        "bucket 'my-own-bucket' instead of 'ml-platform-bucket'", "project 'iris' instead of the model name",
    )


def test_weights_timestamp_is_utc_iso8601(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_weights_timestamp_is_utc_iso8601")
    line = weights_line(compliant)
    edit(compliant / CI, line, line.rsplit("/", 1)[0] + "/2021-12-15 09:30")
    run = run_checks(compliant, 1)
    assert run.code == 1
    assert run.failed() == {
        "test_weights_uri_uses_bucket_and_project",  # a space cannot be part of the URI either
        "test_weights_timestamp_is_utc_iso8601",
    }
    edit(compliant / CI, "/2021-12-15 09:30", "/20211315T093000Z")  # month 13
    run = run_checks(compliant, 1)
    assert run.failed() == {"test_weights_timestamp_is_utc_iso8601"}
    later = run.check("test_weights_timestamp_is_not_in_future")  # one cause, one failure
    assert later["outcome"] == "skipped"
    assert later["message"].startswith("requires 1.test_weights_timestamp_is_utc_iso8601, which failed (")
    assert "'20211315T093000Z' is not a UTC ISO-8601 timestamp" in run.check("test_weights_timestamp_is_utc_iso8601")["message"]


@pytest.mark.parametrize("timestamp", ["20211215T093000Z", "2021-12-15T09:30:00Z", "20211215T093000.123Z"])
def test_weights_timestamp_forms_accepted(compliant, timestamp):
    line = weights_line(compliant)
    edit(compliant / CI, line, line.rsplit("/", 1)[0] + "/" + timestamp)
    assert run_checks(compliant, 1).code == 0


def test_weights_timestamp_is_not_in_future(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_weights_timestamp_is_not_in_future")
    line = weights_line(compliant)
    edit(compliant / CI, line, line.rsplit("/", 1)[0] + "/20991231T000000Z")
    run = run_checks(compliant, 1)
    assert_only_failure(run, 1, "test_weights_timestamp_is_not_in_future", CI, "2099-12-31T00:00:00Z is later than now")


@pytest.fixture
def s3(monkeypatch):
    """A real S3 endpoint on loopback (moto's standalone server), with throwaway credentials."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    import boto3

    client = boto3.client("s3", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_bucket(Bucket="ml-platform-bucket")
    yield client, env
    server.stop()


def test_weights_prefix_holds_model_hash(compliant_report, compliant, s3):
    skipped = compliant_report.check("test_weights_prefix_holds_model_hash")
    assert skipped["outcome"] == "skipped" and "--online" in skipped["message"]
    client, env = s3
    prefix = weights_line(compliant).split("s3://ml-platform-bucket/", 1)[1].strip() + "/"

    run = run_json(compliant, "-s", "1", "--online", env=env)
    assert_only_failure(run, 1, "test_weights_prefix_holds_model_hash", CI, "nothing is stored under")

    client.put_object(Bucket="ml-platform-bucket", Key=prefix + "model.joblib", Body=b"weights")
    run = run_json(compliant, "-s", "1", "--online", env=env)
    assert_only_failure(run, 1, "test_weights_prefix_holds_model_hash", CI, "holds 1 objects but no model_hash.txt")

    client.put_object(Bucket="ml-platform-bucket", Key=prefix + "model_hash.txt", Body=b"abc")
    assert run_json(compliant, "-s", "1", "--online", env=env).code == 0


def test_online_check_without_endpoint_fails_clearly(compliant):
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "1"}
    run = run_json(compliant, "-s", "1", "--online", env=env)
    assert run.code == 1
    assert "S3 could not be asked about" in run.check("test_weights_prefix_holds_model_hash")["message"]
