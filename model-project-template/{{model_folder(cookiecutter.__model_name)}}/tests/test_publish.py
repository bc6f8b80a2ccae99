import boto3
import pytest
from moto import mock_aws

import publish


@pytest.fixture
def s3(monkeypatch):
    """An in-memory S3 (moto) holding the project's bucket."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=publish.DEFAULT_BUCKET)
        yield client


def test_publish_uploads_under_the_weights_uri(s3, weights_dir, capsys):
    assert publish.main(["--model_dir", str(weights_dir)]) == 0
    prefix = f"{publish.model.MODEL_NAME}/models/{weights_dir.name}/"
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=publish.DEFAULT_BUCKET, Prefix=prefix)["Contents"]}
    assert keys == {prefix + "model.joblib", prefix + "model_hash.txt"}
    assert publish.weights_uri(publish.DEFAULT_BUCKET, weights_dir.name) in capsys.readouterr().out


def test_publish_never_overwrites(s3, weights_dir, capsys):
    assert publish.main(["--model_dir", str(weights_dir)]) == 0
    assert publish.main(["--model_dir", str(weights_dir)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_publish_reports_s3_errors(s3, weights_dir, capsys):
    assert publish.main(["--model_dir", str(weights_dir), "--bucket", "no-such-bucket"]) == 2
    assert "S3 upload failed" in capsys.readouterr().err
