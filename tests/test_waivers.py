"""Waivers in a project's pyproject.toml: a waived failure is reported as waived (with its reason
and expiry) and does not fail the run; a bad waiver is itself a failure."""

from __future__ import annotations

import re
from datetime import date, timedelta
from xml.etree import ElementTree

import pytest
from fixtures.checker import edit, run_json, run_snitch

FUTURE = (date.today() + timedelta(days=60)).isoformat()
PAST = (date.today() - timedelta(days=1)).isoformat()
REASON = "moving the docs to the new wiki (ML-42)"


def waive(project, key: str, **fields) -> None:
    lines = [f'\n[tool.snitch.waivers."{key}"]'] + [f"{name} = {value}" for name, value in fields.items()]
    with (project / "pyproject.toml").open("a") as handle:
        handle.write("\n".join(lines) + "\n")


@pytest.fixture
def placeholder_readme(compliant):
    """A project failing exactly one check: test_readme_has_no_placeholders (standard 3)."""
    edit(compliant / "README.md", "\n", "\nTODO: say who owns this model\n")
    return compliant


def outcomes(run) -> dict:
    return {(check["standard"], check["check"]): check for check in run.report["checks"] if check["outcome"] != "passed"}


@pytest.mark.parametrize("key", ["3", "3.test_readme_has_no_placeholders"])
def test_a_waived_failure_does_not_fail_the_run(placeholder_readme, key):
    assert run_json(placeholder_readme).code == 1
    waive(placeholder_readme, key, reason=f'"{REASON}"', expires=FUTURE)
    run = run_json(placeholder_readme)
    assert run.code == 0, run.stdout + run.stderr
    check = run.check("test_readme_has_no_placeholders")
    assert check["outcome"] == "waived"
    assert check["waiver"] == {"key": key, "reason": REASON, "expires": FUTURE}
    assert "unfilled placeholder" in check["message"] and check["file"] == "README.md" and check["line"] == 2
    summary = run.report["summary"]
    assert (summary["waived"], summary["failed"], summary["waivers"]) == (1, 0, 1)
    assert summary["passed"] + summary["skipped"] + summary["waived"] == summary["total"]


def test_a_waiver_covers_only_what_it_names(placeholder_readme):
    waive(placeholder_readme, "3.test_readme_links_are_well_formed", reason='"other check"', expires=FUTURE)
    run = run_json(placeholder_readme)
    assert run.code == 1
    assert run.check("test_readme_has_no_placeholders")["outcome"] == "failed"


def test_text_output_shows_the_waiver(placeholder_readme):
    waive(placeholder_readme, "3", reason=f'"{REASON}"', expires=f'"{FUTURE}"')  # a date string works too
    run = run_snitch(placeholder_readme)
    assert run.code == 0, run.stdout
    assert re.search(r"^  3\. README +\.\.w\.$", run.stdout, re.MULTILINE)
    assert f"WAIVED 3.test_readme_has_no_placeholders: {REASON} (expires {FUTURE})" in run.stdout
    assert f"waiver 3: {REASON} (expires {FUTURE})" in run.stdout
    assert "1 waived" in run.stdout.splitlines()[-1] and "failed" not in run.stdout.splitlines()[-1]


def test_junit_marks_a_waived_check_skipped_with_the_reason(placeholder_readme, tmp_path):
    waive(placeholder_readme, "3", reason=f'"{REASON}"', expires=FUTURE)
    report = tmp_path / "snitch.xml"
    assert run_snitch(placeholder_readme, "--junitxml", str(report)).code == 0
    suite = ElementTree.parse(report).getroot().find("testsuite")
    assert (suite.get("failures"), suite.get("errors")) == ("0", "0")
    case = next(case for case in suite.iter("testcase") if case.get("name") == "test_readme_has_no_placeholders")
    skipped = case.find("skipped")
    assert skipped.get("type") == "waived" and skipped.get("message") == f"waived until {FUTURE}: {REASON}"


@pytest.mark.parametrize("key, fields, words", [
    ("3", {"reason": f'"{REASON}"', "expires": PAST}, f'the waiver "3" expired on {PAST}'),
    ("3", {"expires": FUTURE}, 'the waiver "3" has no `reason`'),
    ("3", {"reason": '"  "', "expires": FUTURE}, 'the waiver "3" has no `reason`'),
    ("3", {"reason": f'"{REASON}"'}, 'the waiver "3" has no `expires` date'),
    ("3", {"reason": f'"{REASON}"', "expires": '"soon"'}, "has `expires = 'soon'`, which is not a date"),
    ("3", {"reason": f'"{REASON}"', "expires": "2027-01-31T10:00:00"}, "has no `expires` date"),
    ("3.test_readme_is_nice", {"reason": '"x"', "expires": FUTURE}, "names test_readme_is_nice, which is not a check of standard 3"),
    ("42", {"reason": '"x"', "expires": FUTURE}, "names standard 42, which does not exist"),
    ("three", {"reason": '"x"', "expires": FUTURE}, 'is not "N" (a standard) or "N.check_name"'),
])
def test_a_bad_waiver_is_itself_a_failure(placeholder_readme, key, fields, words):
    waive(placeholder_readme, key, **fields)
    run = run_json(placeholder_readme)
    assert run.code == 1, run.stdout + run.stderr
    found = outcomes(run)
    # The failure it tried to waive still fails...
    assert found[(3, "test_readme_has_no_placeholders")]["outcome"] == "failed"
    # ...and the waiver is reported, on its standard (0 when it names none), where it is written.
    standard = 3 if key.startswith("3") else 0
    problem = found[(standard, "waiver")]
    assert problem["outcome"] == "failed" and words in problem["message"], problem["message"]
    assert problem["message"].startswith("pyproject.toml: ")
    assert "how to fix:" in problem["message"] and problem["url"].endswith("#waivers")
    assert problem["file"] == "pyproject.toml" and problem["line"] > 1
    assert run.report["summary"]["waivers"] == 1 and run.report["summary"]["waived"] == 0


def test_a_mandatory_standard_cannot_be_waived(placeholder_readme, tmp_path):
    config = tmp_path / "org.yaml"
    config.write_text("mandatory: [3, 6]\n")
    waive(placeholder_readme, "3", reason=f'"{REASON}"', expires=FUTURE)
    run = run_json(placeholder_readme, "--config", str(config))
    assert run.code == 1
    found = outcomes(run)
    assert found[(3, "test_readme_has_no_placeholders")]["outcome"] == "failed"
    assert "which the organisation makes mandatory" in found[(3, "waiver")]["message"]
    assert run_json(placeholder_readme).code == 0  # without the organisation's config the waiver holds


def test_an_unreadable_pyproject_is_reported_not_crashed(placeholder_readme):
    (placeholder_readme / "pyproject.toml").write_text("[tool.snitch.waivers\n")
    run = run_json(placeholder_readme)
    assert run.code == 1, run.stderr
    assert "is not valid TOML" in outcomes(run)[(0, "waiver")]["message"]
    assert "Traceback" not in run.stderr


def test_a_waivers_entry_that_is_not_a_table_is_reported(placeholder_readme):
    with (placeholder_readme / "pyproject.toml").open("a") as handle:
        handle.write("\n[tool.snitch]\nwaivers = 3\n")
    run = run_json(placeholder_readme)
    assert run.code == 1, run.stderr
    assert "[tool.snitch.waivers] that is not a table" in outcomes(run)[(0, "waiver")]["message"]


def test_a_broken_pyproject_without_snitch_settings_is_not_snitchs_business(compliant):
    (compliant / "pyproject.toml").write_text("[tool.pytest]\nx = 1\n[tool.pytest]\n")  # a duplicate table
    run = run_json(compliant)
    assert run.code == 0, run.stdout
    assert run.report["summary"]["waivers"] == 0


def test_selecting_standards_judges_only_their_waivers(placeholder_readme):
    """The image-labels job runs `snitch -s 6`: a bad waiver of standard 3 is not its concern."""
    waive(placeholder_readme, "3", reason=f'"{REASON}"', expires=PAST)
    assert run_json(placeholder_readme, "-s", "6").code == 0
    assert run_json(placeholder_readme, "-s", "3").code == 1


def test_control_characters_in_a_waiver_never_reach_the_terminal(placeholder_readme):
    waive(placeholder_readme, "3", reason='"fine\\u001b[2J\\u001b[31m"', expires=FUTURE)
    waive(placeholder_readme, "nope\\u001b[2J", reason='"x"', expires=FUTURE)
    run = run_snitch(placeholder_readme)
    assert "\x1b[2J" not in run.stdout and "fine\\x1b[2J\\x1b[31m" in run.stdout


def test_a_table_name_spelt_with_escapes_is_still_read(tmp_path):
    """pyproject.toml is parsed only when it may declare waivers: `snitch` spelt out or escaped."""
    from snitch.engine import waivers
    from snitch.read.project import Project
    from snitch.standards.config import load_standards

    (tmp_path / "pyproject.toml").write_text(f'[tool."\\u0073nitch".waivers."3"]\nreason = "{REASON}"\nexpires = {FUTURE}\n')
    (declared,) = waivers.read(Project(tmp_path, "m"), load_standards(None)).valid
    assert (declared.key, declared.reason) == ("3", REASON)
    (tmp_path / "pyproject.toml").write_text("[tool.black]\nline-length = 100\n")
    assert waivers.read(Project(tmp_path, "m"), load_standards(None)).declared == 0


def read_waivers(root, text: str | bytes, today=None):
    from snitch.engine import waivers
    from snitch.read.project import Project
    from snitch.standards.config import load_standards

    path = root / "pyproject.toml"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return waivers.read(Project(root, "m"), load_standards(None), today)


def test_a_value_nested_too_deeply_is_a_failure_not_a_crash(tmp_path):
    found = read_waivers(tmp_path, "[tool.snitch]\nx = " + "[" * 1000 + "]" * 1000 + "\n")
    (problem,) = found.problems
    assert problem.outcome == "failed" and "nests too deeply" in problem.message and "how to fix" in problem.message


def test_each_invalid_waiver_is_located_without_rescanning_the_file(tmp_path, monkeypatch):
    """6,000 invalid waivers took 6.9 CPU-s, 24,000 took 111: each one rescanned the file for its line."""
    from snitch.read import project as project_module

    text = "[tool.snitch.waivers]\n" + "".join(f'"9{number}" = 1\n' for number in range(3000))
    scans = []

    class Counted(str):
        def splitlines(self, *args):
            scans.append(1)
            return super().splitlines(*args)

        def split(self, *args):
            scans.append(1)
            return super().split(*args)

    reader = project_module.Project.text
    monkeypatch.setattr(project_module.Project, "text", lambda self, relative: Counted(reader(self, relative)))
    found = read_waivers(tmp_path, text)
    assert len(found.problems) == 3000 and len(scans) <= 2
    assert [problem.line for problem in found.problems] == list(range(2, 3002))


@pytest.mark.parametrize("key", ["\u0663", "3\\n", "\u0663.test_readme_has_no_placeholders", "3.test_readme_has_no_placeholders\\n",
                                 "3.test_readme_has_no_placeholder\u0455"])
def test_only_ascii_keys_name_a_standard(placeholder_readme, key):
    """An Arabic-Indic 3, a trailing newline, a Cyrillic letter: none of these waives standard 3."""
    waive(placeholder_readme, key, reason=f'"{REASON}"', expires=FUTURE)
    run = run_json(placeholder_readme)
    assert run.code == 1, run.stdout
    assert outcomes(run)[(3, "test_readme_has_no_placeholders")]["outcome"] == "failed"


def test_an_expired_waiver_repeats_its_reason(placeholder_readme):
    waive(placeholder_readme, "3", reason=f'"{REASON}"', expires=PAST)
    message = outcomes(run_json(placeholder_readme))[(3, "waiver")]["message"]
    assert f"expired on {PAST}" in message and REASON in message.splitlines()[0]


@pytest.mark.parametrize("make", [
    lambda path, tmp: path.write_bytes("[tool.black]\n# r\xe9sum\xe9\nline-length = 100\n".encode("latin-1")),
    lambda path, tmp: path.write_text("[tool.black]\nline-length = 100\n" + "# padding\n" * 300_000),
    lambda path, tmp: ((tmp / "outside.toml").write_text("[tool.black]\n"), path.unlink(), path.symlink_to(tmp / "outside.toml")),
], ids=["latin-1", "over-2-MiB", "symlink-out"])
def test_a_pyproject_that_declares_no_waivers_never_fails_the_run(compliant, tmp_path, make):
    make(compliant / "pyproject.toml", tmp_path)
    run = run_json(compliant)
    assert run.code == 0, run.stdout + run.stderr
    assert run.report["summary"]["waivers"] == 0


def test_a_latin1_pyproject_that_may_declare_waivers_is_still_reported(placeholder_readme):
    path = placeholder_readme / "pyproject.toml"
    path.write_bytes(f'[tool.snitch.waivers."3"]\nreason = "r\xe9sum\xe9"\nexpires = {FUTURE}\n'.encode("latin-1"))
    run = run_json(placeholder_readme)
    assert run.code == 1 and "is not valid UTF-8" in outcomes(run)[(0, "waiver")]["message"]


def test_a_deep_toml_value_fails_its_project_not_the_fleet(compliant, tmp_path):
    """`snitch fleet` aborted the whole run, no report for any project, on one such pyproject.toml."""
    import json
    import shutil
    import subprocess
    import sys

    other = shutil.copytree(compliant, tmp_path / "other")
    with (compliant / "pyproject.toml").open("a") as handle:
        handle.write("\n[tool.snitch]\nx = " + "[" * 1000 + "]" * 1000 + "\n")
    done = subprocess.run([sys.executable, "-m", "snitch", "fleet", str(compliant), str(other), "--format", "json"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 1 and "internal error" not in done.stderr, done.stderr
    projects = {project["path"]: project for project in json.loads(done.stdout)["projects"]}
    assert {check["check"] for check in projects[str(compliant)]["checks"] if check["outcome"] == "failed"} == {"waiver"}
    assert projects[str(other)]["summary"]["failed"] == 0
