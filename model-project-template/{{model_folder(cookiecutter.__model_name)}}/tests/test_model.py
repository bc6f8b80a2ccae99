import re

import numpy as np
import pytest

import model


def test_model_name_is_a_kserve_inference_service_name():
    # KServe's rule for InferenceService names (snitch.facts.names.MODEL_NAME_PATTERN, which this project
    # cannot import): a letter first, then letters, digits and dashes, at most 63 characters.
    assert re.fullmatch(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?", model.MODEL_NAME)


def test_builtin_iris_split_has_four_features_and_three_classes():
    x_train, y_train = model.load_dataset(split="train")
    x_eval, y_eval = model.load_dataset(split="eval")
    assert x_train.shape == (120, 4) and x_eval.shape == (30, 4)
    assert set(y_train) == set(y_eval) == {0, 1, 2}


def test_csv_round_trip(write_csv, iris_rows):
    features, labels = model.load_dataset(write_csv(iris_rows))
    expected_features, expected_labels = model.load_dataset(split="eval")
    np.testing.assert_allclose(features, expected_features)
    np.testing.assert_array_equal(labels, expected_labels)


@pytest.mark.parametrize(
    "header, rows, message",
    [
        (["sepal_length", "species"], [[1, "setosa"]], "missing column"),
        (None, [["a", 1, 1, 1, "setosa"]], "must be a number"),
        (None, [[1, 1, 1, 1, "rose"]], "species must be one of"),
        (None, [], "no data rows"),
    ],
)
def test_bad_csv_is_explained(write_csv, header, rows, message):
    path = write_csv(rows, header) if header else write_csv(rows)
    with pytest.raises(model.ModelError, match=message):
        model.load_dataset(path)


def test_missing_csv_is_explained(tmp_path):
    with pytest.raises(model.ModelError, match="does not exist"):
        model.load_dataset(tmp_path / "nope.csv")


def test_saved_weights_load_and_predict(weights_dir):
    assert model.TIMESTAMP.match(weights_dir.name)
    digest = (weights_dir / model.HASH_FILE).read_text().split()[0]
    assert digest == model.sha256(weights_dir / model.MODEL_FILE)
    estimator = model.load_weights(weights_dir)
    assert model.predict_species(estimator, np.array([[5.1, 3.5, 1.4, 0.2]])) == ["setosa"]


def test_tampered_weights_are_refused(weights_dir, tmp_path):
    copy = tmp_path / weights_dir.name
    copy.mkdir()
    (copy / model.MODEL_FILE).write_bytes((weights_dir / model.MODEL_FILE).read_bytes() + b"x")
    (copy / model.HASH_FILE).write_text((weights_dir / model.HASH_FILE).read_text())
    with pytest.raises(model.ModelError, match="does not match"):
        model.load_weights(copy)


def test_incomplete_or_missing_weights_are_explained(tmp_path):
    with pytest.raises(model.ModelError, match="does not exist"):
        model.load_weights(tmp_path / "missing")
    with pytest.raises(model.ModelError, match="has no model.joblib"):
        model.load_weights(tmp_path)


def test_newest_weights_picks_the_latest_timestamp(tmp_path):
    for name in ("20250101T000000Z", "20260101T000000Z", "notes"):
        (tmp_path / name).mkdir()
    assert model.newest_weights(tmp_path).name == "20260101T000000Z"


def test_newest_weights_without_any_is_explained(tmp_path):
    with pytest.raises(model.ModelError, match="no trained weights"):
        model.newest_weights(tmp_path)
