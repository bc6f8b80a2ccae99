import json

import evaluate
import model


def test_evaluate_reports_metrics_and_passes(weights_dir, tmp_path, capsys):
    output = tmp_path / "metrics.json"
    assert evaluate.main(["--model_dir", str(weights_dir), "--output", str(output)]) == 0
    metrics = json.loads(output.read_text())
    assert metrics["accuracy"] >= evaluate.DEFAULT_THRESHOLD and metrics["passed"] is True
    assert metrics["rows"] == 30 and 0 < metrics["f1_macro"] <= 1
    assert json.loads(capsys.readouterr().out.split("\nmetrics written")[0]) == metrics


def test_evaluate_fails_below_threshold(weights_dir, tmp_path, write_csv, iris_rows, capsys):
    # Rotate the labels so most predictions are wrong.
    wrong = [[*row[:4], model.CLASSES[(model.CLASSES.index(row[4]) + 1) % 3]] for row in iris_rows]
    output = tmp_path / "metrics.json"
    code = evaluate.main(["--model_dir", str(weights_dir), "--eval_csv", str(write_csv(wrong)), "--output", str(output)])
    assert code == 1
    assert json.loads(output.read_text())["passed"] is False
    assert "below the threshold" in capsys.readouterr().err


def test_missing_model_dir_is_explained(tmp_path, capsys):
    assert evaluate.main(["--model_dir", str(tmp_path / "none")]) == 2
    assert "does not exist" in capsys.readouterr().err
