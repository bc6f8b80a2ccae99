"""`snitch fleet`: many projects, broken in different ways, checked in one process; each is named
with the standards it breaks, in JSON, Markdown and the HTML page."""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fixtures.checker import STANDARDS, edit, run_json
from fixtures.template import git_commit_all

from snitch.fleet.check import check_fleet
from snitch.fleet.pages import md

FUTURE = (date.today() + timedelta(days=30)).isoformat()


def _no_tracing(project: Path) -> None:
    edit(project / "serve.py", "ddtrace.patch(fastapi=True)", "pass")


def _wrong_bucket(project: Path) -> None:
    edit(project / ".gitlab-ci.yml", "s3://ml-platform-bucket/", "s3://somebody-elses-bucket/")


def _loose_pins_and_no_readme(project: Path) -> None:
    edit(project / "requirements.txt", "scikit-learn==", "scikit-learn>=")
    (project / "README.md").unlink()


def _waived_placeholder(project: Path) -> None:
    edit(project / "README.md", "\n", "\nTODO: owner\n")
    with (project / "pyproject.toml").open("a") as handle:
        handle.write(f'\n[tool.snitch.waivers."3"]\nreason = "new wiki (ML-42)"\nexpires = {FUTURE}\n')


def _no_model_name(project: Path) -> None:
    text = (project / ".gitlab-ci.yml").read_text()
    (project / ".gitlab-ci.yml").write_text("\n".join(line for line in text.splitlines() if "model_name" not in line))


# name -> (how it is broken, the standards that must fail; None: not checkable)
FLEET = {
    "compliant": (None, set()),
    "no-tracing": (_no_tracing, {10}),
    "wrong-bucket": (_wrong_bucket, {1}),
    # the missing README is reported once, by standard 2; standard 3's checks skip naming that failure
    "loose-pins-no-readme": (_loose_pins_and_no_readme, {2, 5}),
    "waived": (_waived_placeholder, set()),
    "anonymous": (_no_model_name, None),
}


@pytest.fixture(scope="module")
def fleet_dir(rendered_project, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("fleet")
    for name, (breaks, _) in FLEET.items():
        project = root / name
        shutil.copytree(rendered_project, project)
        if breaks:
            breaks(project)
        git_commit_all(project)
    return root


def fleet(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "snitch", "fleet", *args], capture_output=True, text=True,
                          timeout=600, cwd=cwd)


@pytest.fixture(scope="module")
def fleet_json(fleet_dir) -> tuple[subprocess.CompletedProcess, dict]:
    done = fleet(*(str(fleet_dir / name) for name in FLEET), "--format", "json", "--html", str(fleet_dir / "page.html"))
    return done, json.loads(done.stdout)


def undated(report: dict) -> dict:
    """The report without the time it was made, which two runs never share."""
    return {key: value for key, value in report.items() if key != "generated"}


def failing_standards(project: dict) -> set[int]:
    return {check["standard"] for check in project["checks"] if check["outcome"] == "failed"}


def test_each_project_is_named_with_the_standards_it_breaks(fleet_dir, fleet_json):
    done, report = fleet_json
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""  # no progress bar when stderr is not a terminal
    projects = {Path(project["source"]).name: project for project in report["projects"]}
    assert list(projects) == list(FLEET)
    for name, (_, expected) in FLEET.items():
        project = projects[name]
        if expected is None:
            assert project["model"] is None and "declares no valid model_name" in project["error"]
            continue
        assert project["model"] == "iris-classifier" and project["path"] == str(fleet_dir / name)
        assert failing_standards(project) == expected, (name, project["summary"])
    waived = projects["waived"]
    assert waived["summary"]["waived"] == 1 and waived["summary"]["waivers"] == 1
    assert report["summary"]["projects"] == 6
    assert (report["summary"]["passed"], report["summary"]["failed"], report["summary"]["not_checkable"]) == (2, 3, 1)
    # Compliance per standard over all 6 projects: 1, 2, 5 and 10 fail once each, and the project
    # that could not be checked is not known to comply with any.
    assert report["summary"]["standards"]["10"]["compliance"] == pytest.approx(4 / 6)
    assert report["summary"]["standards"]["4"]["compliance"] == pytest.approx(5 / 6)
    assert report["summary"]["compliance"] == pytest.approx(2 / 6)
    assert {project["team"] for project in report["projects"]} == {"ml-team", None}


def test_one_process_gives_the_same_verdicts_as_separate_runs(fleet_dir, fleet_json):
    """Many projects are checked in one process: no state from one project leaks into the next."""
    _, report = fleet_json
    projects = {Path(project["source"]).name: project for project in report["projects"]}
    for name in ("no-tracing", "compliant", "loose-pins-no-readme"):
        alone = run_json(fleet_dir / name).report
        assert alone["checks"] == projects[name]["checks"], name


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.failed_links, self.sections, self._section = set(), [], {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "section":
            self._section = attrs.get("id")
            self.sections[self._section] = ""
        if tag == "a" and attrs.get("title", "").endswith(": failed"):
            self.failed_links.append(attrs["href"].lstrip("#"))

    def handle_data(self, data):
        if self._section:
            self.sections[self._section] += data

    def handle_endtag(self, tag):
        if tag == "section":
            self._section = None


def test_html_page_links_each_failure_to_its_message(fleet_dir, fleet_json):
    page = (fleet_dir / "page.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script src" not in page
    assert "<style>" in page and 'rel="stylesheet"' not in page  # self-contained
    links = _Links()
    links.feed(page)
    order = list(FLEET)
    expected_cells = {f"p{order.index(name)}-s{n}" for name, (_, standards) in FLEET.items() for n in standards or ()}
    assert set(links.failed_links) == expected_cells
    assert set(links.failed_links) <= links.ids
    assert "never calls ddtrace.patch" in links.sections[f"p{order.index('no-tracing')}-s10"]
    assert "somebody-elses-bucket" in links.sections[f"p{order.index('wrong-bucket')}-s1"]
    assert "new wiki (ML-42)" in links.sections[f"p{order.index('waived')}-s3"]
    assert "declares no valid model_name" in links.sections[f"p{order.index('anonymous')}"]
    assert '<td class="rate">67%</td>' in page  # standard 10: 4 of 6 projects comply


def test_markdown_and_a_list_file_with_a_git_url(fleet_dir, tmp_path):
    listing = tmp_path / "projects.txt"
    listing.write_text(f"# the organisation's models\n\n{fleet_dir / 'compliant'}\nfile://{fleet_dir / 'no-tracing'}\n")
    done = fleet("--from", str(listing))
    assert done.returncode == 1, done.stderr
    rows = [line for line in done.stdout.splitlines() if line.startswith("| iris-classifier")]
    label = md(f"iris-classifier ({fleet_dir / 'compliant'})")
    assert rows[0] == f"| {label} | ml-team | " + " | ".join(["✓"] * len(STANDARDS.standards)) + " |"
    cells = ["✓"] * len(STANDARDS.standards)
    cells[sorted(STANDARDS.standards).index(10)] = "✗"
    label = md(f"iris-classifier (file://{fleet_dir / 'no-tracing'})")
    assert rows[1] == f"| {label} | ml-team | " + " | ".join(cells) + " |"
    assert f"failed 10.{md('test_serve_py_enables_ddtrace')}" in done.stdout


def test_a_cloned_project_is_reported_under_its_url(fleet_dir):
    url = f"file://{fleet_dir / 'wrong-bucket'}"
    done = fleet(url, "--format", "json")
    project = json.loads(done.stdout)["projects"][0]
    assert project["path"] == url and failing_standards(project) == {1}


def test_workers_give_the_verdicts_of_one_process_in_the_same_order(fleet_dir, fleet_json):
    """fleet_json ran with one worker per CPU; -j 1 checks every project in this process."""
    serial = fleet(*(str(fleet_dir / name) for name in FLEET), "--format", "json", "-j", "1")
    assert undated(json.loads(serial.stdout)) == undated(fleet_json[1])


def test_in_process_fleet_gives_the_collector_back_as_it_was(fleet_dir, fleet_json):
    """check_fleet pauses and freezes Python's garbage collector around each project; a caller that
    goes on gets it back as it was, and the verdicts are the command's."""
    from snitch.standards.config import load_standards

    frozen = gc.get_freeze_count()
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            result = check_fleet([str(fleet_dir / name) for name in FLEET], load_standards(None))
            assert (gc.isenabled(), gc.get_freeze_count()) == (enabled, frozen)
        finally:
            gc.enable()
        assert undated(json.loads(json.dumps(result.as_dict()))) == undated(fleet_json[1])


def test_an_all_compliant_fleet_passes(fleet_dir):
    done = fleet(str(fleet_dir / "compliant"), str(fleet_dir / "waived"), "--format", "html")
    assert done.returncode == 0, done.stdout
    assert "2 of 2 project(s) pass every standard (100%)" in done.stdout


def test_unreachable_projects_are_reported_not_crashed(tmp_path):
    done = fleet(str(tmp_path / "missing"), f"file://{tmp_path / 'nothing-here'}", "--format", "json")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    problems = [project["error"] for project in json.loads(done.stdout)["projects"]]
    assert problems[0] == "no such folder" and problems[1].startswith(f"git clone file://{tmp_path / 'nothing-here'} failed")


@pytest.mark.parametrize("args, words", [
    ((), "name the projects to check"),
    (("--from", "/nonexistent/list.txt"), "is not a file"),
])
def test_bad_arguments_exit_2(args, words):
    done = fleet(*args)
    assert done.returncode == 2 and words in done.stderr and "Traceback" not in done.stderr


def test_clone_runs_nothing_from_the_machines_git_templates(fleet_dir, tmp_path):
    """A hook installed through git's init templates must not run during the fleet's clone."""
    templates = tmp_path / "templates" / "hooks"
    templates.mkdir(parents=True)
    marker = tmp_path / "hook-ran"
    hook = templates / "post-checkout"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    env = {**os.environ, "GIT_TEMPLATE_DIR": str(tmp_path / "templates")}
    done = subprocess.run([sys.executable, "-m", "snitch", "fleet", f"file://{fleet_dir / 'compliant'}"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not marker.exists()


@pytest.mark.skipif(shutil.which("script") is None, reason="util-linux `script` (a pseudo-terminal) is missing")
def test_a_progress_bar_on_a_terminal(fleet_dir):
    command = f"{sys.executable} -m snitch fleet {fleet_dir / 'compliant'} {fleet_dir / 'waived'} --format json"
    done = subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True, text=True, timeout=300)
    assert "checking projects" in done.stdout and "100%" in done.stdout


def test_a_checked_project_leaves_no_reference_cycle(fleet_dir, monkeypatch):
    """The fleet collects garbage after each project: with the project forgotten, refcounting frees
    it the moment its check ends, and nothing snitch made is left in a cycle for the collection to
    walk. (Libraries may leave small cycles of their own: openapi-spec-validator's jsonschema does
    each time it validates a document the cache has not seen; those keep no project alive.)"""
    import weakref

    from snitch.fleet import check as fleets
    from snitch.read import project as project_module
    from snitch.standards.config import load_standards

    projects = []

    class Watched(project_module.Project):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            projects.append(weakref.ref(self))

    monkeypatch.setattr(project_module, "Project", Watched)
    standards = load_standards(None)
    for name in sorted(FLEET):  # the first time, modules imported on the way leave cycles of their own
        fleets.check_project(str(fleet_dir / name), standards, fleet_dir)
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for name in sorted(FLEET):
            projects.clear()
            fleets.check_project(str(fleet_dir / name), standards, fleet_dir)
            assert projects and all(watched() is None for watched in projects), f"{name}: its Project outlived its check"
            gc.set_debug(gc.DEBUG_SAVEALL)
            try:
                gc.collect()
                ours = [found for found in gc.garbage if _made_by_snitch(found)]
            finally:
                gc.set_debug(0)
                gc.garbage.clear()
            assert not ours, f"{name} left snitch's objects in cycles: {sorted({repr(found)[:120] for found in ours})[:10]}"
    finally:
        gc.collect()
        if enabled:
            gc.enable()


def _made_by_snitch(found) -> bool:
    """An instance of a class snitch defines, or a frame or function of snitch's code."""
    import snitch

    code = getattr(found, "f_code", None) or getattr(found, "__code__", None)
    if code is not None:
        return Path(code.co_filename).is_relative_to(Path(snitch.__file__).parent)
    return type(found).__module__.startswith("snitch.")


def test_json_assembled_from_the_workers_encodings_is_json_dumps_text(fleet_dir):
    """The workers encode each project (in parallel); the page they make up is byte for byte
    json.dumps(as_dict(), indent=2), quotes, newlines and non-ASCII in messages included."""
    from snitch.fleet.check import Entry, Fleet
    from snitch.standards.config import load_standards

    sources = [str(fleet_dir / name) for name in sorted(FLEET)] + [str(fleet_dir / "missing")]
    for jobs in (1, 2):
        result = check_fleet(sources, load_standards(None), jobs=jobs, encode=True)
        assert all(entry.encoded for entry in result.entries)
        assert result.json() == json.dumps(result.as_dict(), indent=2)
    result.entries[0].encoded = None  # an entry without its own encoding is encoded here
    result.entries.append(Entry("odd\n\"source\" é", problem="line one\nline two"))
    assert result.json() == json.dumps(result.as_dict(), indent=2)
    empty = Fleet(result.standards)
    assert empty.json() == json.dumps(empty.as_dict(), indent=2)


def test_a_project_that_makes_snitch_fail_is_a_row_not_the_end_of_the_run(fleet_dir, tmp_path):
    """A value nested 1,000 deep in pyproject.toml's [tool.snitch] once made snitch raise
    RecursionError, which ended `snitch fleet` with no report for any project."""
    deep = tmp_path / "deep-toml"
    shutil.copytree(fleet_dir / "compliant", deep)
    with (deep / "pyproject.toml").open("a") as handle:
        handle.write("\n[tool.snitch]\nx = " + "[" * 1000 + "]" * 1000 + "\n")
    done = fleet(str(fleet_dir / "compliant"), str(deep), "--format", "json")
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    compliant, broken = json.loads(done.stdout)["projects"]
    assert compliant["summary"]["failed"] == 0
    # Not checkable with the reason, or (once waivers.py reads it) a failed waiver: never a lost run.
    assert broken.get("error") or broken["summary"]["failed"], broken


def test_credentials_in_a_git_url_reach_no_report(fleet_dir, tmp_path):
    """A token or password in a listed URL is for git only: no report, page or message shows it."""
    secret = "s3cr3t-T0ken"
    reachable = f"file://{fleet_dir / 'no-tracing'}".replace("file://", f"file://user:{secret}@", 1)
    unreachable = f"https://user:{secret}@127.0.0.1:9/group/model.git"
    listing = tmp_path / "projects.txt"
    listing.write_text(f"{unreachable}\n{reachable}\n")
    page = tmp_path / "page.html"
    outputs = [fleet("--from", str(listing), "--format", fmt, "--html", str(page), "-j", "1") for fmt in ("json", "markdown")]
    for done in outputs:
        assert done.returncode == 1, done.stderr
        assert secret not in done.stdout + done.stderr and secret not in page.read_text()
    projects = json.loads(outputs[0].stdout)["projects"]
    assert [project["source"] for project in projects] == ["https://127.0.0.1:9/group/model.git", "file://" + str(fleet_dir / "no-tracing")]
    assert projects[0]["repository"] == "https://127.0.0.1:9/group/model.git" and "failed" in projects[0]["error"]


def test_sharded_runs_merge_into_the_report_of_one_run(fleet_dir, fleet_json, tmp_path):
    """ci/fleet.yml's matrix checks the fleet in shards; `--merge` makes their JSON one report,
    one page and one history entry, the same as one run over every project."""
    names = list(FLEET)
    shards = []
    for index, part in enumerate((names[:3], names[3:])):
        shards.append(tmp_path / f"shard-{index}.json")
        done = fleet(*(str(fleet_dir / name) for name in part), "--format", "json")
        shards[-1].write_text(done.stdout)
    history, page = tmp_path / "history", tmp_path / "fleet.html"
    merged = fleet("--merge", *map(str, shards), "--format", "json", "--html", str(page), "--history", str(history))
    assert merged.returncode == 1 and merged.stderr == "", merged.stderr
    assert undated(json.loads(merged.stdout)) == undated(fleet_json[1])
    assert len(os.listdir(history)) == 1 and "Compliance over time" in page.read_text()
    refused = fleet("--merge", str(fleet_dir / "compliant" / "README.md"))
    assert refused.returncode == 2 and "is not readable JSON" in refused.stderr and "Traceback" not in refused.stderr


def test_the_scheduled_job_merges_its_shards_and_keeps_the_history_in_the_cache():
    import yaml

    _, jobs = yaml.safe_load_all((Path(__file__).parent.parent / "ci" / "fleet.yml").read_text())
    shard, page = jobs["snitch-fleet"], jobs["snitch-fleet-page"]
    assert "--format json" in shard["script"][-1] and '> "fleet-report/$FLEET_GROUP.json"' in shard["script"][-1]
    assert page["needs"] == ["snitch-fleet"] and page["rules"] == shard["rules"]
    command = page["script"][-1]
    history = page["cache"]["paths"][0].rstrip("/")
    assert command.startswith("snitch fleet --merge fleet-report/*.json") and f"--history {history} " in command
    assert page["cache"]["when"] == "always" and page["allow_failure"] == {"exit_codes": [1]}


def test_a_project_that_makes_snitch_fail_becomes_an_error_row(monkeypatch, tmp_path):
    """Whatever a project makes snitch raise, only that project is not checked; the run goes on."""
    from snitch.engine import runner

    for name in ("ok", "broken"):
        (tmp_path / name).mkdir()
        (tmp_path / name / ".gitlab-ci.yml").write_text("variables:\n  MODEL_NAME: iris\n")
    real = runner.run_checks

    def run_checks(project, standards, **options):
        if project.root.name == "broken":
            raise RecursionError("maximum recursion depth exceeded")
        return real(project, standards, **options)

    monkeypatch.setattr(runner, "run_checks", run_checks)
    result = check_fleet([str(tmp_path / "ok"), str(tmp_path / "broken")], STANDARDS)
    ok, broken = result.entries
    assert ok.report is not None and broken.report is None
    assert broken.problem == "snitch internal error: RecursionError: maximum recursion depth exceeded"


def test_a_project_that_kills_its_worker_is_a_row_and_the_others_are_checked(monkeypatch, tmp_path):
    """A worker killed while checking a project (for memory, or a crash in a C parser) breaks the
    process pool; the projects not yet collected are checked again, each alone."""
    import signal

    from snitch.engine import runner

    names = ["ok-1", "killer", "ok-2", "ok-3"]
    for name in names:
        (tmp_path / name).mkdir()
        (tmp_path / name / ".gitlab-ci.yml").write_text("variables:\n  MODEL_NAME: iris\n")
    real = runner.run_checks

    def run_checks(project, standards, **options):
        if project.root.name == "killer":
            os.kill(os.getpid(), signal.SIGKILL)
        return real(project, standards, **options)

    monkeypatch.setattr(runner, "run_checks", run_checks)  # the forked workers inherit it
    result = check_fleet([str(tmp_path / name) for name in names], STANDARDS, jobs=2)
    assert [Path(entry.source).name for entry in result.entries] == names
    assert [entry.report is not None for entry in result.entries] == [True, False, True, True]
    assert "worker process died" in result.entries[1].problem
