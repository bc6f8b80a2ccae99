"""One regression test per fuzzing finding of issue 7 (point 7): each hostile or unusual input
gets a clear, named answer from `snitch`, `snitch-pipeline` or the template, never a crash, a
hang, code execution or a wrong verdict. Every command runs as a user runs it (a subprocess);
the subprocess timeout is a hang detector, not a speed assertion."""

from __future__ import annotations

import json
import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from fixtures.checker import MODEL, assert_only_failure, run_json
from fixtures.pipeline import service_environment
from fixtures.template import PROJECT_TEMPLATE_DIR, TEMPLATE_DIR, git, git_commit_all, render_project

HANG_TIMEOUT_S = 60
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def assert_no_crash(run_or_result) -> str:
    output = run_or_result.stdout + run_or_result.stderr
    code = getattr(run_or_result, "code", getattr(run_or_result, "returncode", None))
    assert code in (0, 1, 2), (code, output)
    assert "Traceback" not in output and "internal error" not in output, output
    return output


def pipeline(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "snitch.pipeline", *args], capture_output=True, text=True,
        timeout=HANG_TIMEOUT_S, env={**os.environ, **(env or {})}, cwd=cwd,
    )
    assert_no_crash(result)
    return result


def snitch_cli(*args: str, cwd: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "snitch", *args], capture_output=True, text=True, timeout=HANG_TIMEOUT_S, cwd=cwd, **kwargs
    )
    assert_no_crash(result)
    return result


def assert_failed_with(run, check: str, file: str, found: str) -> str:
    """`check` failed with a message naming `file` and what was found, and nothing crashed."""
    assert run.code == 1, run.stdout + run.stderr
    assert_no_crash(run)
    assert run.report["summary"]["error"] == 0
    result = run.check(check)
    assert result["outcome"] == "failed" and result["message"].startswith(f"{file}: {found}"), result
    assert "how to fix:" in result["message"]
    return result["message"]


def replace_with_fifo(path: Path) -> None:
    if path.exists():
        path.unlink()
    os.mkfifo(path)


# --- YAML nested until libyaml's recursive composer would crash (segfault) -----------------------

DEEP_YAML = "x: " + "[" * 60_000 + "]" * 60_000 + "\n"


def test_deeply_nested_gitlab_ci_is_refused_not_a_segfault(compliant):
    (compliant / ".gitlab-ci.yml").write_text(DEEP_YAML)
    run = run_json(compliant, "-s", "9")
    assert_failed_with(run, "test_gitlab_ci_includes_shared_pipeline", ".gitlab-ci.yml",
                       "nests collections more than 200 levels deep (line 1)")


def test_deeply_nested_openapi_is_refused_not_a_segfault(compliant):
    (compliant / "openapi.yaml").write_text("openapi: 3.0.3\npaths: " + "{a: " * 60_000 + "1" + "}" * 60_000 + "\n")
    run = run_json(compliant, "-s", "7")
    assert_failed_with(run, "test_openapi_is_valid_openapi3", "openapi.yaml", "nests collections more than 200 levels deep")


def test_deeply_nested_gitlab_ci_in_run_local(compliant):
    (compliant / ".gitlab-ci.yml").write_text("- " * 60_000 + "x\n")
    result = pipeline("run-local", str(compliant))
    assert result.returncode == 2 and "nests collections more than 200 levels deep" in result.stderr


# --- FIFOs and devices never make snitch wait --------------------------------------------------------

def test_fifo_gitignore_outside_git(compliant):
    replace_with_fifo(compliant / ".gitignore")
    run = run_json(compliant, "-s", "2")
    assert_failed_with(run, "test_datasets_and_weights_are_gitignored", ".gitignore",
                       "is a FIFO (named pipe), not a regular file")


def test_fifo_gitignore_inside_git(compliant):
    git_commit_all(compliant)
    replace_with_fifo(compliant / ".gitignore")
    run = run_json(compliant, "-s", "2")
    assert run.check("test_datasets_and_weights_are_gitignored")["message"].startswith(
        ".gitignore: is a FIFO (named pipe), not a regular file")


@pytest.mark.parametrize("name", ["HEAD", "index", "info/exclude", "config"])
def test_fifo_inside_dot_git_skips_the_git_checks_with_the_reason(compliant, name):
    git_commit_all(compliant)
    replace_with_fifo(compliant / ".git" / name)
    run = run_json(compliant, "-s", "2")
    assert_no_crash(run)
    for check in ("test_datasets_and_weights_are_gitignored", "test_nothing_tracked_under_datasets_or_weights"):
        result = run.check(check)
        assert result["outcome"] == "skipped", result
        assert f".git/{name} is a FIFO (named pipe), not a regular file, so git cannot safely be asked" in result["message"]


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_special_config_file(compliant, tmp_path, special):
    config = tmp_path / "config.yaml"
    if special == "fifo":
        os.mkfifo(config)
    else:
        config = Path(special)
    result = snitch_cli("-n", MODEL, "-p", str(compliant), "--config", str(config))
    kind = "a FIFO (named pipe)" if special == "fifo" else "a character device"
    assert result.returncode == 2
    assert f"config file {config} is {kind}, not a regular file; a config is a UTF-8 YAML file of parameter: value" in result.stderr


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_special_image_file(compliant, tmp_path, special):
    image = tmp_path / "image.json"
    if special == "fifo":
        os.mkfifo(image)
    else:
        image = Path(special)
    run = run_json(compliant, "-s", "6", "--image", str(image))
    kind = "a FIFO (named pipe)" if special == "fifo" else "a character device"
    assert f"image description {image} is {kind}, not a regular file" in run.check("test_built_image_has_required_labels")["message"]
    assert_no_crash(run)


def records_env(directory: Path) -> dict:
    return {"MODEL_NAME": MODEL, "SNITCH_RECORDS_DIR": str(directory)}


def record(deployed_at="2026-01-01T00:00:00.000000Z", **changes) -> dict:
    data = {"record_version": 1, "action": "deploy", "model": MODEL, "environment": "dev",
            "deployed_at": deployed_at, "commit": COMMIT, "image": "r/x@sha256:" + "a" * 64,
            "weights_uri": "s3://b/x/models/20260101T000000Z", "manifest": {"kind": "InferenceService"}}
    data.update(changes)
    return data


def test_fifo_promotion_record_is_not_waited_for(tmp_path):
    folder = tmp_path / "records" / "dev"
    folder.mkdir(parents=True)
    (folder / "1.json").write_text(json.dumps(record()))
    os.mkfifo(folder / "2.json")
    result = pipeline("history", "-e", "dev", env=records_env(tmp_path / "records"))
    assert result.returncode == 0 and "# 1 record(s)" in result.stdout


@pytest.mark.parametrize("broken", [
    {"deployed_at": None},
    {"deployed_at": 20260101},
    {"commit": ["not", "text"]},
    {"rolled_back_from": [1, 2]},
])
def test_records_with_wrong_types_are_not_records(tmp_path, broken):
    folder = tmp_path / "records" / "dev"
    folder.mkdir(parents=True)
    (folder / "good.json").write_text(json.dumps(record()))
    (folder / "bad.json").write_text(json.dumps(record(**{"deployed_at": "2026-02-01T00:00:00Z", **broken})))
    missing = record()
    del missing["deployed_at"]
    (folder / "missing.json").write_text(json.dumps(missing))
    result = pipeline("history", "-e", "dev", env=records_env(tmp_path / "records"))
    assert result.returncode == 0 and "# 1 record(s)" in result.stdout


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"record_version": ' + "9" * 5000 + "}", '{"a": NaN}'],
                         ids=["deep", "huge-integer", "nan"])
def test_hostile_record_json_is_skipped(tmp_path, text):
    folder = tmp_path / "records" / "dev"
    folder.mkdir(parents=True)
    (folder / "hostile.json").write_text(text)
    result = pipeline("history", "-e", "dev", env=records_env(tmp_path / "records"))
    assert result.returncode == 0 and "# 0 record(s)" in result.stdout


# --- git runs none of the project's code ----------------------------------------------------------

def test_git_never_runs_the_projects_fsmonitor(compliant, tmp_path):
    git_commit_all(compliant)
    evidence = tmp_path / "fsmonitor-ran"
    git("config", "core.fsmonitor", f"touch {evidence}; false", cwd=compliant)
    # The hook is real: plain git runs it...
    subprocess.run(["git", "status", "--porcelain"], cwd=compliant, capture_output=True, timeout=HANG_TIMEOUT_S)
    assert evidence.exists()
    evidence.unlink()
    before = (compliant / ".git" / "index").read_bytes()
    # ...snitch's git calls never do, and the answers are still right.
    run = run_json(compliant, "-s", "2")
    assert run.code == 0, run.stdout + run.stderr
    assert not evidence.exists()
    assert (compliant / ".git" / "index").read_bytes() == before


# --- Python nested so deep that walking it would take minutes -----------------------------------------

@pytest.mark.parametrize("expression", ["a." * 900 + "b", "f" + "()" * 900, "a" + "+a" * 900])
def test_deeply_nested_python_is_a_named_failure(compliant, expression):
    with open(compliant / "serve.py", "a") as handle:
        handle.write(f"\nx = {expression}\n")
    run = run_json(compliant, "-s", "4")
    assert_failed_with(run, "test_serve_py_defines_model_subclass", "serve.py",
                       "nests expressions or statements more than 200 levels deep")


# --- internal errors become messages --------------------------------------------------------------

@pytest.mark.parametrize("text, message", ids=lambda value: value[:30], argvalues=[
    ("coverage_floor: " + "9" * 5000 + "\n", "holds a value that cannot be read (Exceeds the limit (4300 digits)"),
    ("bucket: 2026-13-45\n", "holds a value that cannot be read (month must be in 1..12)"),
    ("readme_links: [logs, apm]\n", "readme_links must be a mapping like the default"),
    ("coverage_floor: .nan\n", "coverage_floor must be a whole number like the default 80, got nan"),
    ("coverage_floor: 1000\n", "coverage_floor must be a number from 0 to 100, got 1000"),
    ("coverage_floor: true\n", "coverage_floor must be a whole number like the default 80, got True"),
    ("bucket: " + "[" * 5000 + "]" * 5000 + "\n", "nests collections more than 200 levels deep"),
    ("pipeline_ref_pattern: '^(a+)+$'\n", "pipeline_ref_pattern repeats a group that itself repeats"),
    ("readme_links: {logs: '(\\w+\\s?)+$'}\n", "logs repeats a group that itself repeats"),
])
def test_bad_config_values(compliant, tmp_path, text, message):
    config = tmp_path / "config.yaml"
    config.write_text(text)
    result = snitch_cli("-n", MODEL, "-p", str(compliant), "--config", str(config))
    assert result.returncode == 2 and f"config file {config}" in result.stderr and message in result.stderr, result.stderr


def test_safe_nested_repetition_is_accepted(compliant, tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("pipeline_ref_pattern: '^v\\d+(\\.\\d+)*$'\n")
    assert run_json(compliant, "-s", "9", "--config", str(config)).code == 0


def oci_layout(root: Path, index: object, blobs: dict[str, object]) -> Path:
    root.mkdir()
    (root / "index.json").write_text(json.dumps(index))
    (root / "blobs" / "sha256").mkdir(parents=True)
    for name, content in blobs.items():
        (root / "blobs" / "sha256" / name).write_text(content if isinstance(content, str) else json.dumps(content))
    return root


@pytest.mark.parametrize("index, blobs, message", [
    ({"manifests": "nope"}, {}, "has no `manifests` list, so it is not a valid OCI document"),
    ({"manifests": [{"digest": 5}]}, {}, "has no `digest` string"),
    ({"manifests": [{"digest": "sha256:../../../etc/passwd"}]}, {}, "is not an OCI digest"),
    ({"manifests": [{"digest": "sha256:aa"}]}, {"aa": "{not json"}, "is not readable JSON"),
    ({"manifests": [{"digest": "sha256:aa"}]}, {"aa": {"config": []}}, "has no `config` object"),
    ({"manifests": [{"digest": "sha256:aa"}]}, {"aa": {"manifests": [{"digest": "sha256:aa"}]}},
     "image indexes nest more than 8 deep (does an index refer to itself?)"),
])
def test_malformed_oci_layout(compliant, tmp_path, index, blobs, message):
    layout = oci_layout(tmp_path / "layout", index, blobs)
    run = run_json(compliant, "-s", "6", "--image", f"oci:{layout}")
    assert_no_crash(run)
    assert message in run.check("test_built_image_has_required_labels")["message"]


@pytest.mark.parametrize("where", ["missing", "read-only", "fifo"])
def test_junitxml_that_cannot_be_written(compliant, tmp_path, where):
    if where == "read-only":
        target = Path("/sys/snitch/snitch.xml")  # sysfs: nobody, not even root, creates folders there
    elif where == "fifo":
        target = tmp_path / "snitch.xml"
        os.mkfifo(target)
    else:
        (tmp_path / "file").write_text("")
        target = tmp_path / "file" / "sub" / "snitch.xml"  # its folder cannot exist: a file is in the way
    result = snitch_cli("-n", MODEL, "-p", str(compliant), "--junitxml", str(target))
    assert result.returncode == 2 and "cannot write the JUnit report" in result.stderr and str(target) in result.stderr


def test_junitxml_in_a_new_folder_is_created(compliant, tmp_path):
    target = tmp_path / "new" / "snitch.xml"
    assert snitch_cli("-n", MODEL, "-p", str(compliant), "--junitxml", str(target)).returncode == 0
    assert "<testsuite" in target.read_text()


def deploy_env(tmp_path: Path, **extra) -> dict:
    return {
        "MODEL_NAME": MODEL, "WEIGHTS_URI": f"s3://ml-platform-bucket/{MODEL}/models/20240102T030405Z",
        "IMAGE_REPOSITORY": "registry.example.com/ml/iris", "IMAGE_DIGEST": "sha256:" + "ab" * 32,
        "CI_COMMIT_SHA": COMMIT, "GITLAB_USER_LOGIN": "alice", "IMAGE_VERSION": "1.0.0", **service_environment(), **extra,
    }


def test_render_output_in_an_impossible_folder(tmp_path):
    (tmp_path / "file").write_text("")
    result = pipeline("render", "-e", "dev", "-o", str(tmp_path / "file" / "x.yaml"), env=deploy_env(tmp_path))
    assert result.returncode == 2 and f"cannot write {tmp_path / 'file' / 'x.yaml'}" in result.stderr


def test_nan_metrics_never_make_an_invalid_record(tmp_path):
    metrics = tmp_path / "metrics.json"
    metrics.write_text('{"accuracy": 0.97}')
    with_python_nan = subprocess.run(
        [sys.executable, "-c", "import json,sys; json.dump({'accuracy': float('nan')}, open(sys.argv[1], 'w'))", str(metrics)],
        check=True,
    )
    assert with_python_nan.returncode == 0 and "NaN" in metrics.read_text()
    result = pipeline("deploy", "-e", "dev", "--dry-run", "--metrics", str(metrics),
                      "--output-dir", str(tmp_path / "out"), env=deploy_env(tmp_path))
    assert result.returncode == 2 and f"evaluation metrics {metrics} is not readable JSON (NaN is not a JSON value)" in result.stderr
    assert not (tmp_path / "out" / "promotion-record.json").exists()


@pytest.mark.parametrize("redirect", [">&-", "| head -c0"])
@pytest.mark.parametrize("output_format", ["text", "json"])
def test_closed_stdout_keeps_the_verdict(compliant, redirect, output_format):
    command = f"{sys.executable} -m snitch -n {MODEL} -p {compliant} --format {output_format} {redirect}"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=HANG_TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr and "Exception ignored" not in done.stderr


def test_closed_stdout_pipeline():
    dockerfile = PROJECT_TEMPLATE_DIR / "Dockerfile"
    command = f"{sys.executable} -m snitch.pipeline labels-dockerfile {shlex.quote(str(dockerfile))} >&-"
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=HANG_TIMEOUT_S)
    assert done.returncode == 0 and done.stderr == ""


# --- the template runs no answer and writes only under -o -------------------------------------------

PAYLOAD = '{{ cycler.__init__.__globals__.os.system("touch pwned") }} Iris'


def test_template_answer_is_never_a_jinja_template_api(tmp_path, monkeypatch):
    from cookiecutter.exceptions import FailedHookException

    monkeypatch.chdir(tmp_path)
    with pytest.raises(FailedHookException, match="contains template markup"):
        render_project(tmp_path, project_name=PAYLOAD)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("answer, message", [
    (f"project_name={PAYLOAD}", "contains template markup"),
    ("project_description={{ 7 * 7 }}", "contains template markup"),
    ("__model_name=../escaped", "__model_name='../escaped' is worked out from the other answers and cannot be given"),
    ("__answers=ok", "author_email='nope' is not an email address"),
])
def test_template_cli_refuses_hostile_answers(tmp_path, answer, message):
    out = tmp_path / "out"
    extra = ["author_email=nope"] if answer == "__answers=ok" else []
    (tmp_path / "cc.yaml").write_text(f"cookiecutters_dir: {tmp_path / 'cc'}\nreplay_dir: {tmp_path / 'replay'}\n")
    done = subprocess.run(
        ["cookiecutter", "--no-input", str(TEMPLATE_DIR), "-o", str(out), answer, *extra,
         "--config-file", str(tmp_path / "cc.yaml")],
        capture_output=True, text=True, timeout=HANG_TIMEOUT_S, cwd=tmp_path, env={**os.environ, "HOME": str(tmp_path)},
    )
    assert done.returncode == 1 and message in done.stdout + done.stderr, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert not out.exists() and not (tmp_path / "escaped").exists() and not (tmp_path / "pwned").exists()


# --- valid files judged valid ---------------------------------------------------------------------

BOM = "\ufeff"


def test_byte_order_marks_are_fine(compliant):
    for name in ("serve.py", "tests/test_serve.py", "requirements.txt", "Dockerfile", "README.md", ".gitlab-ci.yml"):
        path = compliant / name
        path.write_text(BOM + path.read_text(), encoding="utf-8")
    run = run_json(compliant)
    assert run.code == 0, run.stdout


def test_dockerfile_heredoc_line_starting_with_from(compliant):
    with open(compliant / "Dockerfile", "a") as handle:
        handle.write("RUN <<EOF\nfrom setuptools import setup\nFROM nothing AS never\nEOF\n")
    assert run_json(compliant, "-s", "6").code == 0


def test_dockerfile_buildkit_substitutions(compliant):
    """A global ARG's default reaches a stage that redeclares it bare; `${VAR:-default}` is never
    empty; `\\$` is a literal dollar, not a variable."""
    dockerfile = compliant / "Dockerfile"
    text = f"ARG MODEL_NAME={MODEL}\n" + dockerfile.read_text()
    text = text.replace("ARG VCS_URL\n", "ARG VCS_URL\nARG MODEL_NAME\n")
    text = text.replace(f'model="{MODEL}"', 'model="${MODEL_NAME}"')
    text = text.replace('author="', 'author="${AUTHOR:-', 1).replace('.com" \\', '.com}" \\', 1)
    text = text.replace('org.label-schema.vendor="ML Platform"', 'org.label-schema.vendor="ML \\$Platform"')
    dockerfile.write_text(text)
    assert '"${AUTHOR:-ml-team@example.com}"' in text and "\\$Platform" in text
    run = run_json(compliant, "-s", "6")
    assert run.code == 0, run.stdout


def test_consecutive_reference_links_are_all_read(compliant):
    readme = compliant / "README.md"
    lines = readme.read_text().splitlines()
    links = [(line.split("](", 1)[1].split(")", 1)[0], line) for line in lines if "](" in line and line.startswith("- ")]
    assert len(links) >= 5
    rewritten, definitions = [], []
    for number, line in enumerate(lines):
        if line.startswith("- ") and "](" in line:
            label, rest = line.split("](", 1)
            url, tail = rest.split(")", 1)
            rewritten.append(f"{label}][ref{number}]{tail}")
            definitions.append(f"[ref{number}]: {url}")
        else:
            rewritten.append(line)
    readme.write_text("\n".join(rewritten + [""] + definitions) + "\n")
    run = run_json(compliant, "-s", "3")
    assert run.code == 0, run.stdout


def test_include_file_with_a_leading_slash(compliant):
    ci = compliant / ".gitlab-ci.yml"
    text = ci.read_text()
    assert "file: ci/model-promotion-pipeline.yml" in text or "file: 'ci/model-promotion-pipeline.yml'" in text
    ci.write_text(text.replace("ci/model-promotion-pipeline.yml", "/ci/model-promotion-pipeline.yml"))
    assert run_json(compliant, "-s", "9").code == 0


# --- non-compliant files fail ---------------------------------------------------------------------

def test_nan_coverage_floor_fails(compliant):
    ci = compliant / ".gitlab-ci.yml"
    text = ci.read_text()
    start = text.index("coverage_floor:")
    end = text.index("\n", start)
    ci.write_text(text[:start] + "coverage_floor: .nan" + text[end:])
    run = run_json(compliant, "-s", "8")
    assert_only_failure(run, 8, "test_ci_sets_coverage_floor", ".gitlab-ci.yml", "is nan, not a number")


@pytest.mark.parametrize("ref", ['"v1.0.0\\n"', '"v١.0.0"'])
def test_refs_with_a_newline_or_other_digits_fail(compliant, ref):
    ci = compliant / ".gitlab-ci.yml"
    text = ci.read_text()
    start = text.index("ref:")
    end = text.index("\n", start)
    ci.write_text(text[:start] + f"ref: {ref}" + text[end:])
    run = run_json(compliant, "-s", "9")
    assert_only_failure(run, 9, "test_shared_pipeline_ref_is_pinned_tag", ".gitlab-ci.yml", "which is not a release tag")


def test_model_name_with_a_trailing_newline_is_refused(compliant):
    result = snitch_cli("-n", MODEL + "\n", "-p", str(compliant))
    assert result.returncode == 2 and "is not a KServe InferenceService name" in result.stderr


# --- the pipeline ---------------------------------------------------------------------------------

def test_check_image_from_a_registry_reads_the_config_it_saved(compliant, tmp_path):
    """The default GitLab flow: skopeo prints the image config; snitch must read that file even
    though it runs its checks from its own folder."""
    labels = {"author": "a@example.com", "version": "1.0.0", "model": MODEL, "org.label-schema.version": "1.0.0",
              "org.label-schema.name": MODEL, "org.label-schema.build-date": "2026-01-01T00:00:00Z",
              "org.label-schema.vcs-ref": COMMIT, "org.label-schema.vcs-url": "https://gitlab.example.com/x",
              "org.label-schema.vendor": "ML", "org.label-schema.schema-version": "1.0"}
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    skopeo = bin_dir / "skopeo"
    skopeo.write_text(f"#!/bin/sh\necho '{json.dumps({'config': {'Labels': labels}})}'\n")
    skopeo.chmod(skopeo.stat().st_mode | stat.S_IXUSR)
    work = tmp_path / "job"
    work.mkdir()
    env = {"MODEL_NAME": MODEL, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    result = pipeline("check-image", "--image", "docker://registry.example.com/ml/iris@sha256:" + "a" * 64,
                      "-p", str(compliant), "--junitxml", "", env=env, cwd=work)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (work / "image-config.json").is_file()


# --- quadratic time -------------------------------------------------------------------------------

def test_readme_line_of_brackets_finishes(compliant):
    with open(compliant / "README.md", "a") as handle:
        handle.write("[" * 40_000 + "\n" + "[](x \"" * 6_000 + "\n")
    run = run_json(compliant, "-s", "3")
    assert run.code == 0, run.stdout


def test_polynomial_config_pattern_is_bounded_on_a_long_readme_line(compliant, tmp_path):
    """`.*a.*b.*x` passes the load-time check (it cannot backtrack exponentially) but needs minutes
    on a 2,000-character line: the check stops it and says so."""
    config = tmp_path / "config.yaml"
    config.write_text("readme_links: {logs: '.*a.*b.*x'}\n")
    with open(compliant / "README.md", "a") as handle:
        handle.write("- " + "ab" * 1000 + " [here](https://docs.test/page)\n")
    run = run_json(compliant, "-s", "3", "--config", str(config))
    assert_failed_with(run, "test_readme_links_every_resource", "README.md",
                       "the organisation's readme_links patterns did not finish within 2 s on its lines")


def test_corrupt_git_index_skips_with_gits_reason(compliant):
    git_commit_all(compliant)
    index = compliant / ".git" / "index"
    index.write_bytes(b"DIRC" + b"\xf7`?\xe0" * 20)
    run = run_json(compliant, "-s", "2")
    assert_no_crash(run)
    result = run.check("test_nothing_tracked_under_datasets_or_weights")
    assert result["outcome"] == "skipped" and "`git ls-files` failed" in result["message"], result


@pytest.mark.parametrize("text", [
    "a: !!bool abc", "a: !!timestamp abc", "a: !!timestamp 2020-01-01 99:99", "a: !!int _", "a: !!float abc",
    "a: !!bool [1]", "a: !!timestamp {x: 1}",
])
def test_a_value_its_tag_cannot_hold_is_named(text):
    from snitch.read import safe_yaml

    with pytest.raises(safe_yaml.YamlProblem, match="(is not a valid !!|cannot be read|will not construct).*"):
        safe_yaml.load_documents(text)


def test_tagged_values_that_fit_their_tag_are_read():
    from datetime import date

    from snitch.read import safe_yaml

    text = "a: !!bool yes\nb: !!timestamp 2026-01-31\nc: !!int 0x1f\nd: !!float 1.5\ne: !!bool 'false'\n"
    assert safe_yaml.load_documents(text) == [{"a": True, "b": date(2026, 1, 31), "c": 31, "d": 1.5, "e": False}]


def test_a_badly_tagged_value_in_a_project_file_is_a_failure_not_a_crash(compliant):
    with open(compliant / ".gitlab-ci.yml", "a") as handle:
        handle.write("\nx: !!bool abc\n")
    run = run_json(compliant, "-s", "9")
    assert run.code == 1 and "internal error" not in run.stderr and "is not a valid !!bool" in run.stdout, run.stdout + run.stderr
