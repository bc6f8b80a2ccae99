"""Broken files make the checks that need them fail (or skip) with a clear reason: never a
traceback, never a hang, never a crash of the whole run."""

import os

from fixtures.checker import run_json, run_snitch


def assert_clean_failure(run, check, *words):
    assert run.code == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert run.report["summary"]["error"] == 0
    message = run.check(check)["message"]
    for word in words:
        assert word in message, message
    assert "how to fix:" in message
    return message


def test_python_syntax_error(compliant):
    (compliant / "serve.py").write_text("import kserve\n\nclass Iris(kserve.Model)\n    pass\n")
    run = run_json(compliant)
    assert_clean_failure(run, "test_serve_py_defines_model_subclass", "serve.py: has a syntax error at line 3")
    later = run.check("test_serve_py_enables_ddtrace")  # the same broken file is reported once
    assert later["outcome"] == "skipped"
    assert later["message"] == (
        "serve.py cannot be used, reported by 4.test_serve_py_defines_model_subclass "
        "(serve.py: has a syntax error at line 3: expected ':')"
    )


def test_invalid_yaml(compliant):
    (compliant / "openapi.yaml").write_text("openapi: 3.0.3\ninfo: {title: x\npaths:\n")
    run = run_json(compliant, "-s", "7")
    assert_clean_failure(run, "test_openapi_is_valid_openapi3", "openapi.yaml: is not valid YAML", "line")


def test_billion_laughs(compliant):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for previous, name in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
    (compliant / ".gitlab-ci.yml").write_text("\n".join(lines) + "\n")
    run = run_json(compliant)
    assert_clean_failure(run, "test_gitlab_ci_declares_weights_uri", "alias bomb")


def test_binary_file(compliant):
    (compliant / "serve.py").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 4)
    run = run_json(compliant, "-s", "4")
    assert_clean_failure(run, "test_serve_py_defines_model_subclass", "serve.py: is a binary file")


def test_non_utf8_file(compliant):
    (compliant / "README.md").write_bytes("# Modèle\n".encode("latin-1"))
    run = run_json(compliant, "-s", "3")
    assert_clean_failure(run, "test_readme_links_every_resource", "README.md: is not valid UTF-8 (byte 5, line 1)")


def test_huge_file(compliant):
    with open(compliant / "requirements.txt", "ab") as handle:
        handle.truncate(50 * 1024 * 1024)
    run = run_json(compliant, "-s", "5")
    assert_clean_failure(run, "test_requirements_are_valid", "requirements.txt: is 50.0 MiB, too large")


def test_symlink_out_of_the_project(compliant, tmp_path):
    secret = tmp_path / "secret.md"
    secret.write_text("[weights](s3://other-bucket/x)\n")
    (compliant / "README.md").unlink()
    os.symlink(secret, compliant / "README.md")
    run = run_json(compliant)
    assert_clean_failure(run, "test_readme_links_every_resource", "symlink that points outside the project")
    assert run.check("test_required_files_exist")["outcome"] == "passed"  # it exists; reading it is the problem


def test_empty_folder(tmp_path):
    run = run_json(tmp_path)
    assert run.code == 1 and "Traceback" not in run.stdout + run.stderr
    report = run.report
    assert report["summary"]["error"] == 0
    assert report["summary"]["passed"] == 0
    assert "missing: README.md, .gitlab-ci.yml" in run.check("test_required_files_exist")["message"]
    # one cause, one failure: the missing files are reported once, by standard 2, and the checks
    # that need them are skipped naming that failure
    serving = run.check("test_serve_py_defines_model_subclass")
    assert serving["outcome"] == "skipped"
    assert serving["message"].startswith("serve.py cannot be used, reported by 2.test_required_files_exist (")
    assert report["summary"]["failed"] <= 5


def test_text_output_has_no_traceback_on_broken_project(compliant):
    (compliant / "serve.py").write_text("def (:\n")
    (compliant / ".gitlab-ci.yml").write_text(": : :\n\t- ]")
    run = run_snitch(compliant)
    assert run.code == 1
    assert "Traceback" not in run.stdout + run.stderr and "Error" not in run.stdout.split("\nFAILED ")[0]
