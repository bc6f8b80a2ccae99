"""The experimentation job: train new weights from the datasets in S3, gate them on the
project's own evaluation, publish them, and hand the new `weights_uri` on to a merge request.

    datasets  s3://<bucket>/<model>/datasets/  ->  datasets/   (train.csv, eval.csv)
    train     python train.py --train_csv datasets/train.csv [--init_weights <declared weights>]
    gate      python evaluate.py --model_dir <new> --eval_csv datasets/eval.csv   (exit 1: stop)
    publish   python publish.py --model_dir <new> --bucket <bucket>  (weights, model_hash.txt, metrics.json)
    hand on   experiment/experiment.env (dotenv), experiment/weights_uri.patch, experiment/experiment.json

The project's scripts do the model's work; this module only runs them in order and stops at the
first failure, so a model's training stays the code its team tests.
"""

from __future__ import annotations

import difflib
import json
import re
import subprocess
import sys
from pathlib import Path

from snitch.facts.weights import WeightsUri
from snitch.pipeline import records, s3, settings
from snitch.pipeline.errors import CheckFailed, CommandFailed, PipelineError
from snitch.pipeline.weights import parse_weights_uri

DATASETS_DIR = "datasets"
TRAIN_CSV = "train.csv"
EVAL_CSV = "eval.csv"
WEIGHTS_DIR = "weights"
METRICS_FILE = "metrics.json"  # evaluate.py writes it into the weights folder; publish.py uploads it
CI_FILE = ".gitlab-ci.yml"
PATCH_FILE = "weights_uri.patch"
SCRIPT_TIMEOUT_S = 6 * 3600
_TIMESTAMPED = re.compile(r"^\d{8}T\d{6}Z$")


def datasets_location(model: str, weights: WeightsUri, override: str = "") -> tuple[str, str]:
    """(bucket, key prefix ending in /) of the model's datasets: beside its weights unless
    EXPERIMENT_DATASETS_URI overrides it."""
    bucket, prefix = s3.split_uri(override or f"s3://{weights.bucket}/{model}/datasets")
    if not prefix.strip("/"):
        raise PipelineError(f"EXPERIMENT_DATASETS_URI {override!r} names a whole bucket; give the datasets' prefix")
    return bucket, prefix.rstrip("/") + "/"


def run_script(project: Path, script: str, *args: str, log=print) -> int:
    """`python SCRIPT ARGS` in the project, its output going straight to the job log."""
    command = [sys.executable, script, *args]
    log(f"$ python {script} {' '.join(args)}")
    sys.stdout.flush()  # our lines before the script's, in the job log
    try:
        return subprocess.run(command, cwd=project, timeout=SCRIPT_TIMEOUT_S).returncode
    except (OSError, subprocess.TimeoutExpired) as error:
        raise CommandFailed(f"python {script} could not run: {error}") from None


def _weights_folders(root: Path) -> set[str]:
    return {path.name for path in root.iterdir() if path.is_dir() and _TIMESTAMPED.match(path.name)} if root.is_dir() else set()


def train(project: Path, init_weights: Path | None, log=print) -> Path:
    """Run train.py; return the one weights folder it wrote."""
    root = project / WEIGHTS_DIR
    before = _weights_folders(root)
    args = ["--train_csv", f"{DATASETS_DIR}/{TRAIN_CSV}", "--weights_root", WEIGHTS_DIR]
    if init_weights is not None:
        args += ["--init_weights", str(init_weights.relative_to(project))]
    status = run_script(project, "train.py", *args, log=log)
    if status != 0:
        raise CommandFailed(f"train.py failed (exit {status}); its output is above. Nothing was published.")
    new = sorted(_weights_folders(root) - before)
    if len(new) != 1:
        raise CommandFailed(f"train.py should write one new timestamped folder under {WEIGHTS_DIR}/, it wrote {len(new)}")
    return root / new[0]


def evaluate(project: Path, weights: Path, log=print) -> dict:
    """Run evaluate.py on the new weights; its exit status is the gate."""
    relative = str(weights.relative_to(project))
    status = run_script(project, "evaluate.py", "--model_dir", relative, "--eval_csv", f"{DATASETS_DIR}/{EVAL_CSV}", log=log)
    metrics = records.load_metrics(weights / METRICS_FILE)
    if status == 1:
        raise CheckFailed(f"the new weights miss the evaluation threshold; nothing was published. Metrics: {json.dumps(metrics)}")
    if status != 0:
        raise CommandFailed(f"evaluate.py failed (exit {status}); its output is above. Nothing was published.")
    if metrics is None:
        raise CommandFailed(f"evaluate.py passed but wrote no {weights / METRICS_FILE}; the metrics must travel with the weights")
    return metrics


def publish(project: Path, weights: Path, current: WeightsUri, log=print) -> str:
    """Run publish.py; return the new weights URI after checking S3 really holds them."""
    status = run_script(project, "publish.py", "--model_dir", str(weights.relative_to(project)), "--bucket", current.bucket, log=log)
    if status != 0:
        raise CommandFailed(f"publish.py failed (exit {status}); its output is above")
    uri = f"s3://{current.bucket}/{current.model}/models/{weights.name}"
    published = parse_weights_uri(uri, model_name=current.model)
    s3.read_json(*s3.split_uri(f"{published.uri}/{METRICS_FILE}"))  # raises if the metrics did not arrive
    return published.uri


def weights_uri_patch(project: Path, old: str, new: str) -> str | None:
    """A `git apply`-able patch of .gitlab-ci.yml that declares `new` instead of `old`, or None
    when the file does not spell `old` out (the URI then comes from a CI/CD variable)."""
    path = project / CI_FILE
    text = path.read_text(encoding="utf-8")
    if old not in text:
        return None
    lines = text.splitlines(keepends=True)
    changed = text.replace(old, new).splitlines(keepends=True)
    return "".join(difflib.unified_diff(lines, changed, f"a/{CI_FILE}", f"b/{CI_FILE}"))


def _dotenv(values: dict) -> str:
    return "".join(f"{key}={str(value).replace(chr(10), ' ')}\n" for key, value in values.items())


def run(project: Path, output_dir: Path, fine_tune: bool, log=print) -> dict:
    project = project.resolve()
    model = settings.get("MODEL_NAME", required=True)
    current = parse_weights_uri(settings.get("WEIGHTS_URI", required=True), model_name=model)
    bucket, prefix = datasets_location(model, current, settings.get("EXPERIMENT_DATASETS_URI"))

    datasets = project / DATASETS_DIR  # files of the same name are overwritten, others left alone
    copied = s3.download_prefix(bucket, prefix, datasets)
    log(f"copied {len(copied)} dataset file(s) from s3://{bucket}/{prefix} to {DATASETS_DIR}/")
    missing = [name for name in (TRAIN_CSV, EVAL_CSV) if not (datasets / name).is_file()]
    if missing:
        raise PipelineError(f"s3://{bucket}/{prefix} has no {' or '.join(missing)}; upload the training and "
                            f"evaluation data there as {TRAIN_CSV} and {EVAL_CSV}")

    init_weights = None
    if fine_tune:
        init_weights = project / WEIGHTS_DIR / current.basic_timestamp
        s3.download_prefix(*s3.split_uri(current.uri + "/"), init_weights)
        log(f"fine-tuning from the declared weights {current.uri}")

    weights = train(project, init_weights, log)
    metrics = evaluate(project, weights, log)
    uri = publish(project, weights, current, log)
    log(f"published {uri}")

    output_dir.mkdir(parents=True, exist_ok=True)
    summary = {
        "model": model,
        "weights_uri": uri,
        "previous_weights_uri": current.uri,
        "fine_tuned_from": current.uri if fine_tune else None,
        "datasets_uri": f"s3://{bucket}/{prefix}",
        "metrics": metrics,
        "started_by": settings.get("GITLAB_USER_LOGIN"),
        "pipeline_source": settings.get("CI_PIPELINE_SOURCE"),
        "pipeline_url": settings.get("CI_PIPELINE_URL"),
        "finished_at": records.now_utc(),
    }
    (output_dir / "experiment.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (output_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    (output_dir / "experiment.env").write_text(_dotenv({
        "EXPERIMENT_WEIGHTS_URI": uri,
        "EXPERIMENT_PREVIOUS_WEIGHTS_URI": current.uri,
        "EXPERIMENT_FINE_TUNED": "true" if fine_tune else "false",
    }), encoding="utf-8")
    patch = weights_uri_patch(project, current.uri, uri)
    if patch is None:
        log(f"{CI_FILE} does not spell out {current.uri}: set weights_uri to {uri} where you declare it")
    else:
        (output_dir / PATCH_FILE).write_text(patch, encoding="utf-8")
        log(f"to promote them: git apply {output_dir.name}/{PATCH_FILE} (download the job's artifacts), "
            "commit and open a merge request")
    return summary
