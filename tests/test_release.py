"""One release value: the package version, its tag, the pins a rendered project writes (include
ref, pre-commit rev, nox pin) and every example in the docs agree (docs/pipeline.md, "Cutting a
release")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from fixtures.template import REPO_ROOT, render_project

from snitch import __version__
from snitch.facts import release
from snitch.standards.document import load


def project_pins(project: Path) -> dict[str, str]:
    """The three places a project pins the shared pipeline and snitch."""
    ci = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
    hooks = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    nox_pin = re.search(r'^SNITCH = ".*\.git@([^"]+)"$', (project / "noxfile.py").read_text(), re.MULTILINE)
    return {"include ref": ci["include"][0]["ref"], "pre-commit rev": hooks["repos"][0]["rev"], "nox pin": nox_pin[1]}


def test_the_release_tag_is_the_package_version():
    assert release.release_tag() == f"v{__version__}"
    assert release.pipeline_ref(load().parameters) == release.release_tag()


def test_a_default_render_pins_this_release_everywhere(rendered_project):
    assert project_pins(rendered_project) == dict.fromkeys(("include ref", "pre-commit rev", "nox pin"), f"v{__version__}")


def test_a_render_under_a_config_pins_its_pipeline_ref_everywhere(tmp_path, monkeypatch):
    config = tmp_path / "org.yaml"
    config.write_text("pipeline_ref: release-7\npipeline_ref_pattern: '^release-[0-9]+$'\n")
    monkeypatch.setenv("SNITCH_CONFIG", str(config))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    project = render_project(tmp_path)
    assert set(project_pins(project).values()) == {"release-7"}


def test_a_release_tag_the_configs_pattern_refuses_stops_the_render_naming_the_config(tmp_path, monkeypatch):
    from cookiecutter.exceptions import FailedHookException

    config = tmp_path / "org.yaml"
    config.write_text("pipeline_ref_pattern: '^release-[0-9]+$'\n")
    monkeypatch.setenv("SNITCH_CONFIG", str(config))
    with pytest.raises(FailedHookException, match=rf"snitch_version='v{re.escape(__version__)}' is the ref .*, which is not a "
                       rf"release tag \(pipeline_ref_pattern '\^release-\[0-9\]\+\$'\); use a release tag the "
                       rf"organisation allows \(see the organisation's config {re.escape(str(config))}\)"):
        render_project(tmp_path)
    assert not (tmp_path / "iris-classifier").exists()


@pytest.mark.parametrize("path, pattern", [
    ("README.md", r"rev: (v[0-9.]+)"),
    (".pre-commit-hooks.yaml", r"rev: (v[0-9.]+)"),
    ("docs/pipeline.md", r"ref: (v[0-9.]+)"),
    ("docs/platform.md", r"ref: (v[0-9.]+)"),
    ("ci/model-promotion-pipeline.yml", r"model-snitch(?:\[pipeline\])?==([0-9.]+)"),
    ("ci/fleet.yml", r"model-snitch(?:\[pipeline\])?==([0-9.]+)"),
])
def test_every_example_names_this_release(path, pattern):
    found = set(re.findall(pattern, (REPO_ROOT / path).read_text()))
    assert found, f"{path} shows no release any more: update this test's pattern"
    assert found <= {f"v{__version__}", __version__}, f"{path} names {found}, not this release {__version__}"


def test_the_docs_say_how_a_release_is_cut():
    text = (REPO_ROOT / "docs" / "pipeline.md").read_text()
    section = text[text.index("## Cutting a release"):]
    assert "`__version__` in `src/snitch/__init__.py`" in section and "tests/test_release.py" in section
