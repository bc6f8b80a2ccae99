"""Static only, isolated: snitch never imports or runs the checked project's code, and nothing in
the project (conftest.py, pytest.ini, pyproject.toml, hostile YAML) changes how snitch runs."""

from fixtures.checker import run_json

TRAP = "import pathlib\npathlib.Path(__file__).with_name('{marker}').write_text('executed')\n"


def outcomes(run):
    return {check["check"]: check["outcome"] for check in run.report["checks"]}


def test_project_cannot_change_how_snitch_runs(compliant):
    clean = run_json(compliant)
    (compliant / "conftest.py").write_text(TRAP.format(marker="conftest-ran") + "def pytest_collection_modifyitems(items):\n    items.clear()\n")
    (compliant / "tests" / "conftest.py").write_text(
        (compliant / "tests" / "conftest.py").read_text() + "\n" + TRAP.format(marker="tests-conftest-ran")
    )
    (compliant / "pytest.ini").write_text("[pytest]\naddopts = -x --no-such-option -p no:python\n")
    (compliant / "pyproject.toml").write_text(
        (compliant / "pyproject.toml").read_text() + "\n[tool.pytest.ini_options]\naddopts = '--maxfail=1 -k nothing'\n"
        if (compliant / "pyproject.toml").exists() else "[tool.pytest.ini_options]\naddopts = '-k nothing'\n"
    )
    serve = compliant / "serve.py"
    serve.write_text(TRAP.format(marker="serve-ran") + serve.read_text())
    (compliant / "model.py").write_text(TRAP.format(marker="model-ran") + (compliant / "model.py").read_text())

    hostile = run_json(compliant, env={"PYTEST_ADDOPTS": "--no-such-flag -k nothing", "PYTEST_PLUGINS": "no_such_plugin"})
    assert hostile.code == clean.code == 0, hostile.stdout + hostile.stderr
    assert outcomes(hostile) == outcomes(clean)
    leftovers = [p.name for p in compliant.rglob("*") if p.name.endswith("-ran") or p.name in (".pytest_cache", "__pycache__")]
    assert leftovers == []


def test_yaml_tags_are_never_executed(compliant, tmp_path):
    marker = tmp_path / "pwned"
    ci = compliant / ".gitlab-ci.yml"
    ci.write_text(ci.read_text() + f'\nevil: !!python/object/apply:os.system ["touch {marker}"]\n')
    run = run_json(compliant, "-s", "9")
    assert run.code == 1
    message = run.check("test_gitlab_ci_includes_shared_pipeline")["message"]
    assert "uses a tag snitch will not construct" in message and "never executed" in message
    assert not marker.exists()
