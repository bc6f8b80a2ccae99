"""Evaluate a set of weights and fail (exit status 1) when accuracy is below the threshold.

    python evaluate.py                                # newest folder under weights/
    python evaluate.py --model_dir weights/20261122T093000Z --eval_csv datasets/eval.csv
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sklearn.metrics import accuracy_score, f1_score

import model

# The bar agreed for this model; the pipeline passes no flag, so this default is the gate.
DEFAULT_THRESHOLD = {{ cookiecutter.accuracy_threshold }}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model_dir", type=Path, help="weights folder (default: newest under weights/)")
    parser.add_argument("--eval_csv", type=Path, help="CSV like the training one (default: built-in iris evaluation split)")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD, help="minimum accuracy (default: %(default)s)")
    parser.add_argument("--output", type=Path, help="metrics JSON file (default: <model_dir>/metrics.json)")
    return parser.parse_args(argv)


def evaluate(model_dir: Path, eval_csv: Path | None = None) -> dict:
    estimator = model.load_weights(model_dir)
    features, labels = model.load_dataset(eval_csv, split="eval")
    predicted = estimator.predict(features)
    return {
        "model_dir": str(model_dir),
        "rows": int(len(labels)),
        "accuracy": float(accuracy_score(labels, predicted)),
        "f1_macro": float(f1_score(labels, predicted, average="macro")),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        model_dir = args.model_dir or model.newest_weights()
        metrics = evaluate(model_dir, args.eval_csv)
    except model.ModelError as err:
        print(f"evaluate.py: error: {err}", file=sys.stderr)
        return 2
    metrics["threshold"] = args.threshold
    metrics["passed"] = metrics["accuracy"] >= args.threshold
    output = args.output or Path(model_dir) / "metrics.json"
    output.write_text(json.dumps(metrics, indent=2) + "\n")
    print(json.dumps(metrics, indent=2))
    print(f"metrics written to {output}")
    if not metrics["passed"]:
        print(f"evaluate.py: accuracy {metrics['accuracy']:.3f} is below the threshold {args.threshold}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
