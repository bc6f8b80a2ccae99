"""Train the model and write weights/<UTC timestamp>/ (model.joblib + model_hash.txt).

    python train.py                          # iris data shipped with scikit-learn
    python train.py --train_csv datasets/train.csv
    python train.py --init_weights weights/20261122T093000Z   # fine-tune: start from earlier weights
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import model


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train_csv", type=Path, help=f"CSV with columns {', '.join(model.FEATURES + [model.TARGET])} (default: built-in iris training split)")
    parser.add_argument("--init_weights", type=Path, help="fine-tune: start from this weights folder (e.g. the deployed one) instead of from scratch")
    parser.add_argument("--weights_root", type=Path, default=model.WEIGHTS_ROOT, help="where timestamped weight folders go (default: %(default)s)")
    return parser.parse_args(argv)


def starting_point(init_weights: Path | None):
    """A fresh model, or earlier weights whose classifier continues from its coefficients."""
    if init_weights is None:
        return model.build_model()
    estimator = model.load_weights(init_weights)
    estimator.set_params(logisticregression__warm_start=True)
    return estimator


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        features, labels = model.load_dataset(args.train_csv, split="train")
        estimator = starting_point(args.init_weights).fit(features, labels)
        folder = model.save_weights(estimator, args.weights_root)
    except model.ModelError as err:
        print(f"train.py: error: {err}", file=sys.stderr)
        return 2
    except FileExistsError as err:
        print(f"train.py: error: {err.filename} already exists; wait a second and train again", file=sys.stderr)
        return 2
    print(f"trained on {len(labels)} rows; weights written to {folder}")
    print(f"publish them with: python publish.py --model_dir {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
