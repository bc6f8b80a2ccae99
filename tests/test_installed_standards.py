"""Installed standards: a package that declares an entry point in `snitch.standards` adds a
standard that snitch lists, explains, runs, reports, waives and makes mandatory exactly like a
numbered one; a broken or hostile one is an exit-2 message naming it, never a traceback.

The plugins here are written into a temporary folder with a `.dist-info` beside them, the way
pip leaves an installed package, so snitch finds them through importlib.metadata itself (the
subprocess tests put the folder on PYTHONPATH; nothing is installed into this environment). The
example package is installed for real, in a virtualenv of its own, by the slow test at the end."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from fixtures.checker import MODEL, STANDARDS
from snitch.standards import registry

SECTION = """\
## {id}. Licence file

**Rationale.** Every model ships under a licence the legal team has approved.

**Parameters.**

```yaml
licence_file: LICENSE
```

### test_licence_file_exists

Expected: the project has `${{licence_file}}`.

Fix: add `${{licence_file}}` with the organisation's licence text.
"""

CHECKS = """\
from pathlib import Path
from snitch.violation import Violation

DOCUMENT = Path(__file__).with_name("{module}.md")


def test_licence_file_exists(project, parameters):
    if not project.exists(parameters["licence_file"]):
        raise Violation(parameters["licence_file"], "does not exist")
"""


def write_plugin(folder: Path, standard_id="acme-1", *, module="acme_licence", distribution="acme-licence",
                 section=None, checks=None) -> Path:
    """A package as pip installs it: its module, its section and its .dist-info naming the entry point."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{module}.py").write_text(CHECKS.format(module=module) if checks is None else checks)
    (folder / f"{module}.md").write_text(SECTION.format(id=standard_id) if section is None else section)
    info = folder / f"{distribution.replace('-', '_')}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[snitch.standards]\n{standard_id} = {module}\n")
    return folder


def snitch(*args, plugins: Path, cwd=None):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugins), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "snitch", *args], capture_output=True, text=True, timeout=120,
                          env=env, cwd=cwd)


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """The licence standard acme-1, installed for this test's in-process runs only."""
    folder = write_plugin(tmp_path / "site")
    monkeypatch.syspath_prepend(str(folder))
    registry._entry_points.cache_clear()  # found again, now with this folder on the path
    registry.checks.cache_clear()
    yield folder
    sys.modules.pop("acme_licence", None)
    registry._entry_points.cache_clear()
    registry.checks.cache_clear()


def test_an_installed_standard_joins_the_numbered_ones(installed, compliant, tmp_path):
    from snitch.standards.config import load_standards
    from snitch.testing import run

    standards = load_standards()
    assert list(standards.standards) == [*STANDARDS.standards, "acme-1"]
    assert standards["acme-1"].distribution == "acme-licence"
    assert standards.check_doc("acme-1", "test_licence_file_exists").expected == "the project has `LICENSE`."
    report = run(compliant, MODEL, standards=["acme-1"])
    result = report.check("acme-1.test_licence_file_exists")
    assert result.outcome == "failed" and result.message.startswith("LICENSE: does not exist")
    assert "standard:   acme-1. Licence file" in result.message and "#acme-1-licence-file" in result.url
    config = tmp_path / "acme.yaml"
    config.write_text("standards:\n  acme-1:\n    licence_file: README.md\n")
    assert run(compliant, MODEL, standards=["acme-1"], config=config).failed() == set()


def test_a_project_copy_that_differs_in_an_installed_standard_s_parameters_is_noted(installed, compliant, tmp_path):
    """The organisation's config wins over the project's copy for installed standards' own
    parameters too, and the note names the one that differs."""
    from snitch.read.project import Project
    from snitch.standards.config import load_standards

    ci = compliant / ".gitlab-ci.yml"
    ci.write_text(ci.read_text().replace("      coverage_floor: 80\n", "      coverage_floor: 80\n      snitch_config: .snitch/config.yaml\n"))
    copy = compliant / ".snitch" / "config.yaml"
    copy.parent.mkdir(exist_ok=True)
    copy.write_text("standards:\n  acme-1:\n    licence_file: README.md\n")  # a project loosening its copy
    organisation = tmp_path / "org.yaml"
    organisation.write_text("standards:\n  acme-1:\n    licence_file: LICENCE.txt\n")
    standards = load_standards(organisation, project=Project(compliant, MODEL))
    assert standards["acme-1"].parameters["licence_file"] == "LICENCE.txt"
    assert standards.project_copy_note.startswith(
        "the project's .snitch/config.yaml differs from this config in standards.acme-1.licence_file; ")
    organisation.write_text(copy.read_text())
    assert load_standards(organisation, project=Project(compliant, MODEL)).project_copy_note == ""


def test_an_installed_standard_is_waived_and_made_mandatory_by_its_id(installed, compliant, tmp_path):
    from snitch.testing import run

    with (compliant / "pyproject.toml").open("a") as handle:
        handle.write('\n[tool.snitch.waivers."acme-1.test_licence_file_exists"]\nreason = "legal review (LEG-7)"\n'
                     "expires = 2999-01-01\n")
    assert run(compliant, MODEL, standards=["acme-1"]).check("test_licence_file_exists").outcome == "waived"
    config = tmp_path / "acme.yaml"
    config.write_text("mandatory: [acme-1]\n")
    results = run(compliant, MODEL, standards=["acme-1"], config=config).results
    assert [(r.check, r.outcome) for r in results] == [("test_licence_file_exists", "failed"), ("waiver", "failed")]
    assert "which the organisation makes mandatory" in results[1].message


def test_the_command_reports_an_installed_standard_in_every_format(tmp_path, compliant):
    plugins = write_plugin(tmp_path / "site")
    listed = snitch("list", plugins=plugins)
    assert "acme-1. Licence file (1 checks) [installed: acme-licence]" in listed.stdout, listed.stderr
    assert "acme-1.test_licence_file_exists  — licence file exists" in listed.stdout
    explained = snitch("explain", "acme-1.test_licence_file_exists", plugins=plugins)
    assert explained.returncode == 0 and "expected: the project has `LICENSE`." in explained.stdout
    text = snitch("-p", str(compliant), plugins=plugins)
    assert text.returncode == 1 and re.search(r"^acme-1\. Licence file +F$", text.stdout, re.MULTILINE), text.stdout
    assert "FAILED acme-1.test_licence_file_exists" in text.stdout
    report = json.loads(snitch("-p", str(compliant), "-s", "acme-1", "--format", "json", plugins=plugins).stdout)
    assert [(c["standard"], c["check"], c["outcome"]) for c in report["checks"]] == [("acme-1", "test_licence_file_exists", "failed")]
    sarif = json.loads(snitch("-p", str(compliant), "-s", "acme-1", "--format", "sarif", plugins=plugins).stdout)
    assert [result["ruleId"] for result in sarif["runs"][0]["results"]] == ["SNITCHacme-1/test_licence_file_exists"]
    quality = json.loads(snitch("-p", str(compliant), "-s", "acme-1", "--format", "codequality", plugins=plugins).stdout)
    assert [issue["check_name"] for issue in quality] == ["snitch/acme-1.test_licence_file_exists"]
    junit = tmp_path / "junit.xml"
    snitch("-p", str(compliant), "-s", "acme-1", "--junitxml", str(junit), plugins=plugins)
    assert 'classname="snitch.standard_acme-1" name="test_licence_file_exists"' in junit.read_text()
    fleet = json.loads(snitch("fleet", "--format", "json", "-j", "1", str(compliant), plugins=plugins).stdout)
    assert fleet["summary"]["standards"]["acme-1"] == {"title": "Licence file", "compliance": 0.0, "compliant": 0}


@pytest.mark.parametrize("plugin, words", [
    (dict(standard_id="12"), "the installed standard '12' (entry point 12 = acme_licence of acme-licence) has an id"),
    (dict(standard_id="Acme_1"), "has an id snitch cannot give it"),
    (dict(checks="raise ImportError('no module named acme_secrets')\n"),
     "cannot be imported: ImportError: no module named acme_secrets"),
    (dict(checks="import sys\nsys.exit(0)\n"), "cannot be imported: SystemExit: 0"),
    (dict(checks="def test_licence_file_exists(project):\n    pass\n"), "its module names no document section"),
    (dict(section="## acme-2. Licence\n\n**Rationale.** x\n\n### test_licence_file_exists\n\nExpected: a\n\nFix: b\n"),
     "its section is headed `## acme-2.`, not `## acme-1.`"),
    (dict(section="# just a title\n"), "must hold exactly one `## <id>. <Title>` section, found 0"),
    (dict(section=SECTION.format(id="acme-1").replace("Fix: add", "Fixed: add")), "lacks an Expected: or a Fix: paragraph"),
    (dict(section=SECTION.format(id="acme-1").replace("licence_file: LICENSE", "[unclosed")), "is not valid YAML"),
    (dict(checks=CHECKS.format(module="acme_licence") + "\ndef test_other(project):\n    pass\n"),
     "its module's checks (test_licence_file_exists, test_other) and its section's"),
])
def test_a_broken_plugin_is_an_exit_2_message_naming_it(tmp_path, plugin, words):
    plugins = write_plugin(tmp_path / "site", **plugin)
    for command in (["list"], ["explain", "1"], ["-n", MODEL, "-p", str(tmp_path)]):
        result = snitch(*command, plugins=plugins)
        assert result.returncode == 2, result.stdout + result.stderr
        assert words in result.stderr and "Traceback" not in result.stderr, result.stderr


def test_a_check_that_crashes_names_its_package(tmp_path, compliant):
    crashing = CHECKS.format(module="acme_licence").replace('    if not project.exists', '    1 / 0\n    if not project.exists')
    result = snitch("-n", MODEL, "-p", str(compliant), plugins=write_plugin(tmp_path / "site", checks=crashing))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "internal error in the installed standard acme-1 (acme-licence): ZeroDivisionError" in result.stderr
    assert "Traceback" not in result.stderr


def test_two_packages_declaring_one_id_are_refused(tmp_path):
    plugins = write_plugin(tmp_path / "site")
    write_plugin(plugins, module="other_licence", distribution="other-licence")
    result = snitch("list", plugins=plugins)
    assert result.returncode == 2
    assert "acme-licence declares standard acme-1 too; uninstall one of them" in result.stderr, result.stderr


EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "snitch-model-card"
MODEL_CARD = "## Intended use\nIris species.\n\n## Data\nUCI iris.\n\n## Evaluation\nAccuracy 0.97.\n"


def _require_build_backend() -> None:
    """The example builds with hatchling (in the test extras, which scripts/setup installs): on a
    developer's machine without it the test skips, under CI=true it fails."""
    try:
        import hatchling  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() not in ("", "0", "false"):
            pytest.fail("CI=true but hatchling is not installed: scripts/setup installs the test extras")
        pytest.skip("hatchling is not installed (pip install model-snitch[test])")


@pytest.mark.slow
def test_the_example_standard_installs_with_pip_and_passes_its_own_tests(tmp_path, compliant):
    """`pip install examples/snitch-model-card` next to snitch, in a virtualenv of its own."""
    _require_build_backend()
    environment = tmp_path / "venv"
    venv.create(environment, system_site_packages=True, with_pip=True)
    python = str(environment / "bin" / "python")
    source = Path(__file__).resolve().parents[1] / "src"
    # This tree's snitch first, whatever version the environment has installed.
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(source), os.environ.get("PYTHONPATH", "")])}
    install = subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", str(EXAMPLE)],
                             capture_output=True, text=True, timeout=300, env=env)
    assert install.returncode == 0, install.stdout + install.stderr

    def snitch_in_venv(*args):
        return subprocess.run([python, "-m", "snitch", *args], capture_output=True, text=True, timeout=120, env=env)

    assert "acme-1. Model card (2 checks) [installed: snitch-model-card]" in snitch_in_venv("list").stdout
    explained = snitch_in_venv("explain", "acme-1")
    assert explained.returncode == 0 and "`MODEL_CARD.md` has a Markdown heading for each of" in explained.stdout
    failing = json.loads(snitch_in_venv("-p", str(compliant), "--format", "json").stdout)
    assert {(c["standard"], c["check"]) for c in failing["checks"] if c["outcome"] == "failed"} == {
        ("acme-1", "test_model_card_exists")}
    (compliant / "MODEL_CARD.md").write_text(MODEL_CARD)
    passing = snitch_in_venv("-p", str(compliant), "--format", "sarif")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    rules = [rule["id"] for rule in json.loads(passing.stdout)["runs"][0]["tool"]["driver"]["rules"]]
    assert "SNITCHacme-1/test_model_card_names_intended_use_data_and_evaluation" in rules
    own = subprocess.run([python, "-m", "pytest", "-q", str(EXAMPLE / "tests")], capture_output=True, text=True,
                         timeout=300, env=env, cwd=EXAMPLE)
    assert own.returncode == 0, own.stdout + own.stderr
    shutil.rmtree(environment)
