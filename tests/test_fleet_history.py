"""`snitch fleet --history DIR`: one summary a run, read back as untrusted data (bounded, schema-checked,
no symlink followed, corrupt files set aside with a warning, the newest runs kept), and the page's
SVG charts of compliance over time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from fixtures.fleet import STANDARDS, Page, report

from snitch.fleet import history as fleet_history
from snitch.fleet.check import Entry, Fleet
from snitch.fleet.pages import html

START = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


def nightly(day: int, failing_tracing: int) -> Fleet:
    """Night `day`: four projects of two teams, the first `failing_tracing` failing standard 10."""
    entries = [
        Entry(f"/srv/m{i}", report(f"m{i}", f"/srv/m{i}", {10: "no tracing"} if i < failing_tracing else {}),
              team="vision" if i < 2 else "nlp")
        for i in range(4)
    ]
    return Fleet(STANDARDS, entries, generated=START + timedelta(days=day))


def test_each_run_is_kept_and_charted_per_standard_and_team(tmp_path):
    warnings = []
    for day, failing in enumerate((3, 1)):
        runs = fleet_history.record(tmp_path, nightly(day, failing), warnings.append)
    assert warnings == [] and sorted(os.listdir(tmp_path)) == ["run-20261201T020000Z.json", "run-20261202T020000Z.json"]
    assert [run["standards"]["10"]["compliant"] for run in runs] == [1, 3]
    assert [run["teams"]["vision"]["passed"] for run in runs] == [0, 1]
    section = fleet_history.section(runs, nightly(1, 1))
    page = Page(html(nightly(1, 1), section))
    charts = [attrs for tag, attrs in page.tags if tag == "svg"]
    assert len(charts) == len(STANDARDS.standards) + 2  # a chart a standard, one a team
    labels = [chart["aria-label"] for chart in charts]
    assert "10. APM tracing: compliance over 2 run(s), 75% now, +50 points since the run before" in labels
    assert "team vision: compliance over 2 run(s), 50% now, +50 points since the run before" in labels
    assert "4. Serving class: compliance over 2 run(s), 100% now, unchanged" in labels
    lines = [attrs["points"] for tag, attrs in page.tags if tag == "polyline"]
    assert all(len(points.split()) == 2 for points in lines)


def test_a_run_with_the_same_date_never_overwrites_another(tmp_path):
    warnings = []
    for _ in range(2):
        fleet_history.record(tmp_path, nightly(0, 0), warnings.append)
    assert warnings == []
    assert sorted(os.listdir(tmp_path)) == ["run-20261201T020000Z-1.json", "run-20261201T020000Z.json"]


GOOD = json.loads(json.dumps(fleet_history.summary_of(nightly(0, 1))))


@pytest.mark.parametrize("content, words", [
    (b"not json", "is not readable JSON"),
    (b"[" * 5000, "nests more than"),
    (b" " * (fleet_history.MAX_ENTRY_BYTES + 1), "too large"),
    (json.dumps({**GOOD, "schema": "other"}).encode(), "is not a snitch-fleet-history/1 summary"),
    (json.dumps({**GOOD, "generated": "2026-13-45T00:00:00Z"}).encode(), "not a date like"),
    (json.dumps({**GOOD, "projects": True}).encode(), "`projects`"),
    (json.dumps({**GOOD, "passed": -1}).encode(), "`passed`"),
    (json.dumps({**GOOD, "failed": 7}).encode(), "different from projects"),
    (json.dumps({**GOOD, "standards": {"<script>": {"compliant": 1}}}).encode(), "is not a standard number"),
    (json.dumps({**GOOD, "standards": {"4": {"compliant": 99}}}).encode(), "`compliant`"),
    (json.dumps({**GOOD, "teams": {"<img src=x onerror=alert(1)>": {"projects": 1, "passed": 1}}}).encode(), "not a team name"),
    (json.dumps({**GOOD, "teams": {f"t{i}": {"projects": 0, "passed": 0} for i in range(3000)}}).encode(), "at most 2000"),
])
def test_a_corrupt_file_is_set_aside_with_a_warning(tmp_path, content, words):
    (tmp_path / "run-20261130T020000Z.json").write_bytes(content)
    warnings = []
    runs = fleet_history.record(tmp_path, nightly(0, 1), warnings.append)
    assert len(runs) == 1 and len(warnings) == 1 and words in warnings[0], warnings
    assert (tmp_path / "run-20261130T020000Z.json.corrupt").read_bytes() == content


def test_a_symlink_is_never_followed_and_its_target_is_left_alone(tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text(json.dumps({**GOOD, "generated": "2026-11-01T00:00:00Z"}))
    history = tmp_path / "history"
    history.mkdir()
    (history / "run-20261101T000000Z.json").symlink_to(target)
    warnings = []
    runs = fleet_history.record(history, nightly(0, 1), warnings.append)
    assert len(runs) == 1 and "symbolic link" in warnings[0] and json.loads(target.read_text())["projects"] == 4


def test_only_the_newest_runs_are_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(fleet_history, "MAX_RUNS", 3)
    (tmp_path / "notes.txt").write_text("not ours")
    for day in range(1, 6):
        (tmp_path / f"run-2026110{day}T000000Z.json").write_text("corrupt")
    for day in range(5):
        runs = fleet_history.record(tmp_path, nightly(day, 0), lambda message: None)
    assert [run["generated"][:10] for run in runs] == ["2026-12-03", "2026-12-04", "2026-12-05"]
    assert sorted(os.listdir(tmp_path)) == [
        "notes.txt", "run-20261103T000000Z.json.corrupt", "run-20261104T000000Z.json.corrupt",
        "run-20261105T000000Z.json.corrupt", "run-20261203T020000Z.json", "run-20261204T020000Z.json",
        "run-20261205T020000Z.json",
    ]


def test_a_history_folder_that_cannot_be_used_exits_2(tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    done = subprocess.run([sys.executable, "-m", "snitch", "fleet", str(tmp_path), "--history", str(not_a_folder / "x")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--history" in done.stderr and "Traceback" not in done.stderr, done.stderr
