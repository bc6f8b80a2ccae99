"""A real daemonless image build (buildah) carrying the Dockerfile's labels, checked by snitch.

Offline there is no registry to pull python:3.11-slim from, so the build uses the pipeline's
labels-only mode: a FROM-scratch Dockerfile made of the final stage's ARG and LABEL lines."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.pipeline import tool_missing

pytestmark = [pytest.mark.slow, pytest.mark.skipif(bool(tool_missing("buildah")), reason=str(tool_missing("buildah")))]

REQUIRED = ("author", "version", "model", "org.label-schema.version", "org.label-schema.name",
            "org.label-schema.build-date", "org.label-schema.vcs-ref", "org.label-schema.vcs-url",
            "org.label-schema.vendor", "org.label-schema.schema-version")
COMMIT = "89abcdef0123456789abcdef0123456789abcdef"


def build(project: Path, work: Path, tag: str) -> tuple[Path, dict]:
    layout = work / f"oci-{tag}"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CI_", "SNITCH_"))}
    env.update(
        IMAGE_REPOSITORY="registry.example.com/ml-platform/iris-classifier", CI_COMMIT_SHA=COMMIT,
        CI_COMMIT_TAG=tag, CI_PROJECT_URL="https://gitlab.example.com/ml-platform/iris-classifier",
        SNITCH_BUILDAH_ROOT=str(work / "buildah"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "snitch.pipeline", "build", "--labels-only", "--push", f"oci:{layout}",
         "--output-dir", str(work / f"image-{tag}")],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    facts = dict(line.split("=", 1) for line in (project / "build.env").read_text().splitlines())
    return layout, facts


def oci_labels(layout: Path) -> dict:
    """Labels read the long way: index.json -> manifest -> config blob."""
    def blob(digest: str) -> dict:
        algorithm, value = digest.split(":")
        return json.loads((layout / "blobs" / algorithm / value).read_text())

    index = json.loads((layout / "index.json").read_text())
    manifest = blob(index["manifests"][-1]["digest"])
    return blob(manifest["config"]["digest"])["config"]["Labels"]


def snitch_image(project: Path, image: str) -> subprocess.CompletedProcess:
    return subprocess.run(["snitch", "-n", "iris-classifier", "-p", str(project), "--image", image, "-s", "6"],
                          capture_output=True, text=True, timeout=120)


def test_built_image_carries_the_labels_and_passes_standard_6(tmp_path, rendered_project):
    project = tmp_path / "iris-classifier"
    shutil.copytree(rendered_project, project)
    layout, facts = build(project, tmp_path, "v2.3.4")
    labels = oci_labels(layout)
    assert set(REQUIRED) <= set(labels)
    assert labels["model"] == "iris-classifier" and labels["version"] == "2.3.4"
    assert labels["org.label-schema.vcs-ref"] == COMMIT
    assert labels["org.label-schema.vcs-url"] == "https://gitlab.example.com/ml-platform/iris-classifier"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", labels["org.label-schema.build-date"])
    assert labels["org.label-schema.build-date"] == facts["IMAGE_BUILD_DATE"]
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", facts["IMAGE_DIGEST"])
    assert facts["IMAGE_SOURCE"] == f"oci:{layout}:2.3.4"
    assert json.loads((layout / "index.json").read_text())["manifests"][-1]["digest"] == facts["IMAGE_DIGEST"]
    if shutil.which("skopeo"):
        config = subprocess.run(["skopeo", "inspect", "--config", f"oci:{layout}:2.3.4"], capture_output=True, text=True)
        assert config.returncode == 0, config.stderr
        assert json.loads(config.stdout)["config"]["Labels"] == labels
    checked = snitch_image(project, f"oci:{layout}")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "passed" in checked.stdout and "failed" not in checked.stdout


def test_image_without_a_required_label_fails_standard_6(tmp_path, rendered_project):
    project = tmp_path / "iris-classifier"
    shutil.copytree(rendered_project, project)
    dockerfile = project / "Dockerfile"
    original = dockerfile.read_text()
    without_vendor = re.sub(r'\s*org\.label-schema\.vendor="[^"]*"', "", original)
    assert without_vendor != original
    dockerfile.write_text(without_vendor.replace("\\\n\nWORKDIR", "\n\nWORKDIR"))
    layout, _ = build(project, tmp_path, "v2.3.5")
    assert "org.label-schema.vendor" not in oci_labels(layout)
    # the project on disk is compliant; only the built image lacks the label
    checked = snitch_image(rendered_project, f"oci:{layout}")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "org.label-schema.vendor" in checked.stdout
