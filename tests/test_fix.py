"""`snitch --fix`: what is mechanical and safe is repaired (standards 2, 6, 9 and 10), nothing
else; `--fix --diff` shows the repairs and writes nothing; a check alone never writes; a fixed
project passes snitch and its own tests; each fix is idempotent and leaves the rest of the file
byte for byte; nothing is written through a symlink."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from fixtures.checker import MODEL, STANDARDS, edit, run_json, run_snitch
from fixtures.template import git_commit_all
from snitch import fixes
from snitch.facts.release import pipeline_ref
from snitch.read.project import Project

BROKEN = {
    "2.test_datasets_and_weights_are_gitignored",
    "6.test_dockerfile_final_stage_sets_required_labels",
    "6.test_model_label_is_model_name",
    "9.test_shared_pipeline_ref_is_pinned_tag",
    "10.test_tracing_starts_before_server",
}


def break_standards_2_6_9_10(project: Path) -> None:
    edit(project / ".gitignore", "datasets/\nweights/\n", "")
    dockerfile = (project / "Dockerfile").read_text()
    for label in ("org.label-schema.vcs-ref", "model"):
        start = dockerfile.index(f"{label}=")
        dockerfile = dockerfile[:start] + dockerfile[dockerfile.index("\n", start) + 1:].lstrip()
    (project / "Dockerfile").write_text(dockerfile.replace("ARG VCS_REF\n", ""))
    ci = (project / ".gitlab-ci.yml").read_text()
    ref_line = next(line for line in ci.splitlines() if line.strip().startswith("ref:"))
    edit(project / ".gitlab-ci.yml", ref_line, ref_line.split("ref:")[0] + "ref: main  # follow the latest")
    edit(project / "serve.py", 'if os.environ.get("DD_TRACE_ENABLED", "true").strip().lower() not in ("false", "0"):\n'
         "    trace_requests()\n", "")


@pytest.fixture
def broken(compliant) -> Path:
    git_commit_all(compliant)
    break_standards_2_6_9_10(compliant)
    return compliant


def snapshot(project: Path) -> dict:
    return {path: (path.read_bytes(), path.stat().st_mtime_ns) for path in project.rglob("*") if path.is_file() and ".git" not in path.parts}


def failures(run) -> set[str]:
    return {f"{check['standard']}.{check['check']}" for check in run.report["checks"] if check["outcome"] == "failed"}


def test_fix_diff_shows_the_repairs_and_writes_nothing(broken):
    assert failures(run_json(broken)) == BROKEN
    before = snapshot(broken)
    shown = run_snitch(broken, "--fix", "--diff")
    assert shown.code == 1, shown.stdout + shown.stderr
    assert snapshot(broken) == before
    for header in (".gitignore", "Dockerfile", ".gitlab-ci.yml", "serve.py"):
        assert f"--- a/{header}\n+++ b/{header}\n" in shown.stdout
    assert "+datasets/\n+weights/\n" in shown.stdout
    assert f"-    ref: main  # follow the latest\n+    ref: {pipeline_ref(STANDARDS.parameters)}  # follow the latest\n" in shown.stdout
    assert "+ARG VCS_REF\n" in shown.stdout and '+LABEL model="iris-classifier" \\\n+      org.label-schema.vcs-ref="${VCS_REF}"\n' in shown.stdout
    assert "+ddtrace.patch(fastapi=True)\n" in shown.stdout
    assert "Traceback" not in shown.stderr


def test_fix_repairs_the_project_and_changes_nothing_else(broken):
    before = snapshot(broken)
    fixed = run_snitch(broken, "--fix")
    assert fixed.code == 0, fixed.stdout + fixed.stderr
    for file in (".gitignore", "Dockerfile", ".gitlab-ci.yml", "serve.py"):
        assert f"fixed {file}: " in fixed.stdout
    after = snapshot(broken)
    assert {path.name for path in after if after[path] != before[path]} == {".gitignore", "Dockerfile", ".gitlab-ci.yml", "serve.py"}
    assert run_snitch(broken).code == 0
    # The comment beside the ref stays; the rest of each file is byte for byte what it was.
    assert "  # follow the latest\n" in (broken / ".gitlab-ci.yml").read_text()
    again = run_snitch(broken, "--fix")
    assert again.code == 0 and "fixed" not in again.stdout
    assert snapshot(broken) == after  # idempotent: the second --fix writes nothing


def test_a_check_without_fix_writes_nothing(broken):
    before = snapshot(broken)
    assert run_snitch(broken).code == 1
    assert run_json(broken).code == 1
    assert snapshot(broken) == before


def test_fix_keeps_crlf_newlines_and_a_byte_order_mark(broken):
    gitignore = broken / ".gitignore"
    gitignore.write_bytes(b"\xef\xbb\xbf" + gitignore.read_bytes().replace(b"\n", b"\r\n"))
    assert run_snitch(broken, "--fix", "-s", "2").code == 0
    data = gitignore.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.endswith(b"datasets/\r\nweights/\r\n") and b"\n" not in data.replace(b"\r\n", b"")


def test_fix_never_writes_through_a_symlink(broken, tmp_path):
    outside = tmp_path / "elsewhere.gitignore"
    outside.write_text("*.pyc\n")
    (broken / ".gitignore").unlink()
    (broken / ".gitignore").symlink_to(outside)
    run = run_snitch(broken, "--fix", "-s", "2")
    assert run.code == 1
    assert outside.read_text() == "*.pyc\n" and (broken / ".gitignore").is_symlink()
    assert "not fixed 2.test_datasets_and_weights_are_gitignored: " in run.stdout
    assert "Traceback" not in run.stderr


def test_what_has_no_safe_fix_is_named_not_guessed(compliant):
    edit(compliant / "Dockerfile", "author=", "writer=")
    run = run_snitch(compliant, "--fix", "-s", "6")
    assert run.code == 1
    assert "not fixed 6.test_dockerfile_final_stage_sets_required_labels: author need a value only the team knows" in run.stdout


def test_json_stays_json_with_fix(broken):
    run = run_json(broken, "--fix")
    assert run.code == 0 and run.report["summary"]["failed"] == 0
    assert "fixed .gitignore" in run.stderr


def test_diff_needs_fix(compliant):
    run = run_snitch(compliant, "--diff")
    assert run.code == 2 and "use them together" in run.stderr


@pytest.mark.parametrize("ci, expected", [
    ("include:\n  - project: ml-platform/snitch\n    file: ci/model-promotion-pipeline.yml\n",
     "include:\n  - project: ml-platform/snitch\n    ref: {ref}\n    file: ci/model-promotion-pipeline.yml\n"),
    ("include:\n  - file: ci/model-promotion-pipeline.yml\n    ref: 'main'\n    project: \"ml-platform/snitch\"\n",
     "include:\n  - file: ci/model-promotion-pipeline.yml\n    ref: {ref}\n    project: \"ml-platform/snitch\"\n"),
    ("include:\n  project: ml-platform/snitch\n  file: /ci/model-promotion-pipeline.yml\n  ref: main\n",
     "include:\n  project: ml-platform/snitch\n  file: /ci/model-promotion-pipeline.yml\n  ref: {ref}\n"),
])
def test_the_ref_fix_edits_only_the_ref(ci, expected, tmp_path):
    from snitch.fixes.standard_9 import pin_shared_pipeline

    ref = pipeline_ref(STANDARDS.parameters)
    assert pin_shared_pipeline(ci, None, STANDARDS.parameters) == expected.format(ref=ref)


def test_a_flow_style_include_is_left_to_the_team():
    from snitch.fixes.standard_9 import pin_shared_pipeline

    with pytest.raises(fixes.CannotFix, match="not written in block style"):
        pin_shared_pipeline("include: [{project: ml-platform/snitch, file: ci/model-promotion-pipeline.yml, ref: main}]\n",
                            None, STANDARDS.parameters)


@pytest.mark.slow
def test_a_fixed_project_passes_its_own_tests(broken, model_env):
    assert run_snitch(broken, "--fix").code == 0
    result = subprocess.run([str(model_env / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=broken,
                            capture_output=True, text=True, timeout=600, env={**os.environ, "DD_TRACE_ENABLED": "false"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


class _Project:
    """The one thing the label fix reads of a project besides the Dockerfile: its model name."""

    model = MODEL


def test_the_label_fix_goes_in_the_final_stage_after_its_args():
    from snitch.fixes.standard_6 import add_required_labels

    parameters = {**STANDARDS.parameters, "image_labels": ["model", "org.label-schema.vcs-ref", "org.label-schema.schema-version"]}
    dockerfile = ("ARG VCS_REF\nFROM python:3.11 AS build\nRUN pip wheel .\n\nFROM python:3.11-slim\n"
                  "ARG VERSION=1 \\\n    OTHER=2\nCOPY --from=build /w /w\n")
    assert add_required_labels(dockerfile, _Project(), parameters) == (
        "ARG VCS_REF\nFROM python:3.11 AS build\nRUN pip wheel .\n\nFROM python:3.11-slim\n"
        "ARG VERSION=1 \\\n    OTHER=2\nARG VCS_REF\n"
        'LABEL model="iris-classifier" \\\n      org.label-schema.vcs-ref="${VCS_REF}" \\\n'
        '      org.label-schema.schema-version="1.0"\nCOPY --from=build /w /w\n'
    )


@pytest.mark.parametrize("requirements, patch", [
    ("kserve==0.13.0\n", "ddtrace.patch(fastapi=True)"),
    ("kserve==0.9.0\n", "ddtrace.patch(tornado=True)"),
])
def test_the_tracing_fix_patches_the_framework_of_the_pinned_kserve(requirements, patch, tmp_path):
    from snitch.fixes.standard_10 import patch_before_server

    (tmp_path / "requirements.txt").write_text(requirements)
    serve = '#!/usr/bin/env python\n"""Serve."""\nimport kserve\n\nif __name__ == "__main__":\n    kserve.ModelServer().start([])\n'
    (tmp_path / "serve.py").write_text(serve)
    project = Project(tmp_path, MODEL)
    fixed = patch_before_server(serve, project, STANDARDS.parameters)
    assert fixed.startswith('#!/usr/bin/env python\n"""Serve."""\nimport kserve\n\n# Model Standard 10: ')
    assert f"trace it before the server starts.\nimport ddtrace\n\n{patch}\n\nif __name__" in fixed
    assert patch_before_server(fixed, project, STANDARDS.parameters) == fixed  # idempotent


def test_the_tracing_fix_waits_for_a_known_kserve(tmp_path):
    from snitch.fixes.standard_10 import patch_before_server

    (tmp_path / "requirements.txt").write_text("kserve>=0.10\n")
    (tmp_path / "serve.py").write_text("import kserve\n")
    with pytest.raises(fixes.CannotFix, match="fix standard 5 first"):
        patch_before_server("import kserve\n", Project(tmp_path, MODEL), STANDARDS.parameters)


def test_fix_without_n_checks_again_under_the_declared_model_name(broken):
    """With no -n, the model name comes from .gitlab-ci.yml: the check after the repairs must
    use it too (it once re-read the project with no name, and labels and routes failed)."""
    import sys

    fixed = subprocess.run([sys.executable, "-m", "snitch", "-p", str(broken), "--fix"],
                           capture_output=True, text=True, timeout=120)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert f"the {MODEL} model" in fixed.stdout
