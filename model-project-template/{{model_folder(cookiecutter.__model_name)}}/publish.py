"""Upload a weights folder to s3://{{ cookiecutter.s3_bucket }}/{{ cookiecutter.__model_name }}/models/<timestamp>/.

    python publish.py                                  # newest folder under weights/
    python publish.py --model_dir weights/20261122T093000Z

Credentials and endpoint come from the usual AWS settings (AWS_PROFILE, AWS_ACCESS_KEY_ID,
AWS_ENDPOINT_URL, ...). Published weights are immutable: an existing timestamp is never overwritten.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import boto3
from botocore.exceptions import BotoCoreError, ClientError

import model

DEFAULT_BUCKET = "{{ cookiecutter.s3_bucket }}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model_dir", type=Path, help="weights folder (default: newest under weights/)")
    parser.add_argument("--bucket", default=DEFAULT_BUCKET, help="S3 bucket (default: %(default)s)")
    return parser.parse_args(argv)


def weights_uri(bucket: str, timestamp: str) -> str:
    return f"s3://{bucket}/{model.MODEL_NAME}/models/{timestamp}"


def publish(model_dir: Path, bucket: str) -> str:
    model_dir = Path(model_dir)
    model.check_weights(model_dir)
    if not model.TIMESTAMP.match(model_dir.name):
        raise model.ModelError(f"{model_dir.name} is not a UTC timestamp like 20261122T093000Z; publish folders written by train.py")
    prefix = f"{model.MODEL_NAME}/models/{model_dir.name}/"
    s3 = boto3.client("s3")
    if s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1).get("KeyCount", 0):
        raise model.ModelError(f"{weights_uri(bucket, model_dir.name)} already exists; published weights are never overwritten, train a new set")
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        s3.upload_file(str(path), bucket, prefix + path.relative_to(model_dir).as_posix())
    return weights_uri(bucket, model_dir.name)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        uri = publish(args.model_dir or model.newest_weights(), args.bucket)
    except model.ModelError as err:
        print(f"publish.py: error: {err}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as err:
        print(f"publish.py: error: S3 upload failed: {err}", file=sys.stderr)
        return 2
    print(f"published {uri}")
    print(f"deploy it by setting weights_uri: {uri} in .gitlab-ci.yml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
