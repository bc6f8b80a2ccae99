"""`snitch fleet --merge`: the shards' JSON reports become one fleet, identical to a run over all
their projects; a shard that is not such a report is refused with its name and the field, never
trusted."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fixtures.fleet import STANDARDS, WHEN, make_fleet, report

from snitch.fleet import shards as fleet_shards
from snitch.fleet.check import Entry, FleetError


def shards(tmp_path):
    first = make_fleet(Entry("/srv/a", report("a", "/srv/a", {4: "serve.py: no class"}, {3: "new wiki (ML-42)"}), team="vision"),
                       Entry("https://git.example/g/b.git", problem="git clone failed"))
    second = make_fleet(Entry("/srv/c", report("c", "/srv/c"), team="nlp"))
    second.generated = WHEN + timedelta(minutes=5)
    paths = []
    for index, part in enumerate((first, second)):
        paths.append(tmp_path / f"shard-{index}.json")
        paths[-1].write_text(part.json())
    whole = make_fleet(*first.entries, *second.entries)
    return paths, whole


def test_merged_shards_are_the_report_of_one_run_over_all_their_projects(tmp_path):
    paths, whole = shards(tmp_path)
    merged = fleet_shards.merge(paths, STANDARDS)
    assert merged.generated == WHEN  # the earliest shard: nothing in it was checked before
    assert merged.as_dict() == whole.as_dict()
    assert json.loads(merged.json()) == json.loads(whole.json())


def good_shard(tmp_path) -> dict:
    return json.loads(shards(tmp_path)[0][0].read_text())


@pytest.mark.parametrize("change, words", [
    (lambda data: [], "is not a JSON object"),
    (lambda data: {**data, "generated": "yesterday"}, "`generated` 'yesterday'"),
    (lambda data: {**data, "config": {**data["config"], "standards_version": "1"}}, "Model Standards version '1'"),
    (lambda data: {**data, "projects": {}}, "no `projects` list"),
    (lambda data: {**data, "projects": [{**data["projects"][0], "team": "<img src=x onerror=alert(1)>"}]}, "project 1: has a `team`"),
    (lambda data: {**data, "projects": [{**data["projects"][0], "model": "<b>"}]}, "project 1: has a `model`"),
    (lambda data: {**data, "projects": [{**data["projects"][0], "checks": [{"standard": True, "check": "x", "outcome": "passed"}]}]},
     "check 1 has no valid"),
    (lambda data: {**data, "projects": [{**data["projects"][0], "checks": [{**data["projects"][0]["checks"][0], "outcome": "fine"}]}]},
     "check 1 has no valid"),
    (lambda data: {**data, "projects": [{**data["projects"][0], "checks": [{**data["projects"][0]["checks"][0], "message": 3}]}]},
     "no `message` text"),
    (lambda data: {**data, "projects": [data["projects"][1], {**data["projects"][0], "summary": None}]}, "project 2: has no `summary`"),
])
def test_a_shard_that_is_not_a_fleet_report_is_refused(tmp_path, change, words):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(change(good_shard(tmp_path))))
    with pytest.raises(FleetError) as refused:
        fleet_shards.merge([bad], STANDARDS)
    assert f"shard {bad}: " in str(refused.value) and words in str(refused.value), refused.value


def test_a_waiver_date_that_is_no_date_a_deep_or_a_huge_shard_is_refused(tmp_path, monkeypatch):
    data = good_shard(tmp_path)
    waived = next(check for check in data["projects"][0]["checks"] if "waiver" in check)
    waived["waiver"]["expires"] = "soon"
    (tmp_path / "waiver.json").write_text(json.dumps(data))
    (tmp_path / "deep.json").write_text("[" * 100_000)
    (tmp_path / "huge.json").write_text(" " * 1001)
    for name, words in (("waiver.json", "expires on 'soon'"), ("deep.json", "nests more than"), ("huge.json", "too large")):
        if name == "huge.json":
            monkeypatch.setattr(fleet_shards, "MAX_SHARD_BYTES", 1000)
        with pytest.raises(FleetError, match=words):
            fleet_shards.merge([tmp_path / name], STANDARDS)


def test_credentials_a_shard_carries_are_removed_again(tmp_path):
    data = good_shard(tmp_path)
    data["projects"][1]["source"] = "https://user:secret@git.example/g/b.git"
    shard = tmp_path / "shard.json"
    shard.write_text(json.dumps(data))
    assert "secret" not in fleet_shards.merge([shard], STANDARDS).json()
