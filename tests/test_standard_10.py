"""Standard 10 — APM tracing."""

from fixtures.checker import assert_only_failure, edit, passed_on_compliant, run_checks

SERVE = "serve.py"


def test_serve_py_enables_ddtrace(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_serve_py_enables_ddtrace")
    edit(compliant / SERVE, "ddtrace.patch(fastapi=True)", "pass")
    run = run_checks(compliant, 10)
    assert run.code == 1
    assert run.failed() == {"test_serve_py_enables_ddtrace"}  # the two checks that need a patch skip naming it
    assert run.check("test_tracing_starts_before_server")["message"].startswith("requires 10.test_serve_py_enables_ddtrace")
    assert "never calls ddtrace.patch(...) nor imports ddtrace.auto" in run.check("test_serve_py_enables_ddtrace")["message"]


def test_ddtrace_auto_and_aliases(compliant):
    edit(compliant / SERVE, "import ddtrace\n", "import ddtrace.auto  # noqa: F401\n")
    edit(compliant / SERVE, "ddtrace.patch(fastapi=True)", "")
    assert run_checks(compliant, 10).code == 0
    edit(compliant / SERVE, "import ddtrace.auto  # noqa: F401\n", "from ddtrace import patch as trace\ntrace(fastapi=True)\n")
    assert run_checks(compliant, 10).code == 0


def test_patch_all_is_deprecated(compliant):
    edit(compliant / SERVE, "ddtrace.patch(fastapi=True)", "ddtrace.patch_all()")
    message = run_checks(compliant, 10).check("test_serve_py_enables_ddtrace")["message"]
    assert "ddtrace.patch_all()" in message and "deprecated" in message


def test_ddtrace_patches_framework_of_pinned_kserve(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_ddtrace_patches_framework_of_pinned_kserve")
    edit(compliant / SERVE, "ddtrace.patch(fastapi=True)", "ddtrace.patch(tornado=True)")
    run = run_checks(compliant, 10)
    assert_only_failure(run, 10, "test_ddtrace_patches_framework_of_pinned_kserve", SERVE,
                        "patches tornado, but kserve==0.21.0 serves with FastAPI: use ddtrace.patch(fastapi=True)")


def test_tornado_is_right_for_old_kserve(compliant):
    edit(compliant / SERVE, "ddtrace.patch(fastapi=True)", "ddtrace.patch(tornado=True)")
    edit(compliant / "requirements.txt", "kserve==0.21.0", "kserve==0.9.0")
    assert run_checks(compliant, 10).code == 0
    edit(compliant / SERVE, "ddtrace.patch(tornado=True)", "ddtrace.patch(fastapi=True)")
    message = run_checks(compliant, 10).check("test_ddtrace_patches_framework_of_pinned_kserve")["message"]
    assert "kserve==0.9.0 serves with tornado (FastAPI came in 0.10)" in message


def test_tracing_starts_before_server(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_tracing_starts_before_server")
    edit(compliant / SERVE, "ddtrace.patch(fastapi=True)", "")
    edit(compliant / SERVE, "    async def predict(self, payload, headers=None, response_headers=None):\n",
         "    async def predict(self, payload, headers=None, response_headers=None):\n        ddtrace.patch(fastapi=True)\n")
    run = run_checks(compliant, 10)
    assert_only_failure(run, 10, "test_tracing_starts_before_server", SERVE,
                        "`ddtrace.patch(fastapi=True)` (line ", "is inside the method Classifier.predict()")


def test_tracing_after_server_start(compliant):
    text = (compliant / SERVE).read_text()
    edit(compliant / SERVE, "ddtrace.patch(fastapi=True)", "")
    (compliant / SERVE).write_text((compliant / SERVE).read_text() + "\n    ddtrace.patch(fastapi=True)\n")
    assert "start(" in text
    run = run_checks(compliant, 10)
    assert_only_failure(run, 10, "test_tracing_starts_before_server", SERVE, "runs after the server starts at line")


MODULE_LEVEL_CALL = (
    'if os.environ.get("DD_TRACE_ENABLED", "true").strip().lower() not in ("false", "0"):\n    trace_requests()\n'
)


def test_tracing_in_a_helper_main_calls(compliant):
    """main() calls the template's trace_requests() before it starts the server: tracing is on in time."""
    edit(compliant / SERVE, MODULE_LEVEL_CALL, "")
    edit(compliant / SERVE, 'if __name__ == "__main__":\n', 'def main():\n    trace_requests()\n')
    (compliant / SERVE).write_text((compliant / SERVE).read_text() + '\n\nif __name__ == "__main__":\n    main()\n')
    assert run_checks(compliant, 10).code == 0


def test_tracing_in_a_helper_nothing_calls(compliant):
    edit(compliant / SERVE, MODULE_LEVEL_CALL, "")
    run = run_checks(compliant, 10)
    assert_only_failure(run, 10, "test_tracing_starts_before_server", SERVE,
                        "is inside trace_requests(), which nothing calls before the server starts at line")


def test_ddtrace_run_in_the_dockerfile_counts(compliant):
    edit(compliant / SERVE, "ddtrace.patch(fastapi=True)", "")
    edit(compliant / "Dockerfile", 'ENTRYPOINT ["python", "serve.py"]', 'ENTRYPOINT ["ddtrace-run", "python", "serve.py"]')
    assert run_checks(compliant, 10).code == 0


def test_framework_is_judged_on_the_patches_that_run_in_time(compliant):
    """A fastapi patch in a helper nothing calls does not hide the tornado patch that does run."""
    edit(compliant / SERVE, "ddtrace.patch(fastapi=True)",
         "ddtrace.patch(tornado=True)\n\n\ndef unused():\n    ddtrace.patch(fastapi=True)")
    run = run_checks(compliant, 10)
    assert run.failed() == {"test_ddtrace_patches_framework_of_pinned_kserve"}
    assert "patches tornado, but kserve==0.21.0 serves with FastAPI" in run.check(
        "test_ddtrace_patches_framework_of_pinned_kserve")["message"]
