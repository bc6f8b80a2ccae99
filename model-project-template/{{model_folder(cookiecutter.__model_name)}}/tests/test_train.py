import train

import model


def test_train_writes_timestamped_weights_with_hash(tmp_path, capsys):
    assert train.main(["--weights_root", str(tmp_path)]) == 0
    (folder,) = tmp_path.iterdir()
    assert model.TIMESTAMP.match(folder.name)
    assert sorted(p.name for p in folder.iterdir()) == [model.MODEL_FILE, model.HASH_FILE]
    assert (folder / model.HASH_FILE).read_text() == f"{model.sha256(folder / model.MODEL_FILE)}  {model.MODEL_FILE}\n"
    assert str(folder) in capsys.readouterr().out


def test_train_from_csv(tmp_path, write_csv, iris_rows):
    csv_path = write_csv(iris_rows)
    assert train.main(["--train_csv", str(csv_path), "--weights_root", str(tmp_path / "w")]) == 0
    (folder,) = (tmp_path / "w").iterdir()
    assert model.load_weights(folder).predict([[6.7, 3.0, 5.2, 2.3]]).tolist() == [2]


def test_bad_csv_gives_a_message_not_a_traceback(tmp_path, write_csv, capsys):
    csv_path = write_csv([[1, 2, 3, "x", "setosa"]])
    assert train.main(["--train_csv", str(csv_path), "--weights_root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "train.py: error:" in err and "must be a number" in err and "Traceback" not in err


def test_fine_tune_starts_from_earlier_weights(tmp_path, weights_dir, capsys):
    assert train.main(["--init_weights", str(weights_dir), "--weights_root", str(tmp_path)]) == 0
    (folder,) = tmp_path.iterdir()
    tuned = model.load_weights(folder)
    assert tuned.get_params()["logisticregression__warm_start"] is True
    assert tuned.predict([[6.7, 3.0, 5.2, 2.3]]).tolist() == [2]
    assert train.main(["--init_weights", str(tmp_path / "missing"), "--weights_root", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
