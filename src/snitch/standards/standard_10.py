"""Standard 10 — APM tracing: serve.py turns on Datadog tracing for the web framework its pinned
KServe serves with, before the server starts."""

from packaging.version import Version

from snitch.facts import serve_summary
from snitch.facts.serve_analysis import listing
from snitch.violation import Violation, requires

SERVE = "serve.py"
FASTAPI_SINCE = Version("0.10")  # kserve moved from tornado to FastAPI in 0.10.0


def tracing(project):
    analysis = serve_summary.of(project)
    if not analysis.tracing:
        if analysis.deprecated_patch_all:
            line = analysis.deprecated_patch_all[0]
            raise Violation(SERVE, f"calls ddtrace.patch_all() (line {line}), deprecated in ddtrace 4", line=line)
        raise Violation(SERVE, "never calls ddtrace.patch(...) nor imports ddtrace.auto")
    return analysis.tracing


def expected_framework(project) -> tuple[str, str]:
    """The framework the pinned serving library serves with, and why."""
    pin = serve_summary.serving_pin(project)
    if pin is None or pin.pinned_version is None:
        raise Violation(SERVE, "the serving library has no single == pin, so its web framework is unknown (see standard 5)")
    if pin.name == "kfserving":
        return "tornado", f"kfserving=={pin.pinned_version} serves with tornado"
    if pin.pinned_version < FASTAPI_SINCE:
        return "tornado", f"kserve=={pin.pinned_version} serves with tornado (FastAPI came in 0.10)"
    return "fastapi", f"kserve=={pin.pinned_version} serves with FastAPI"


def test_serve_py_enables_ddtrace(project):
    tracing(project)


@requires("test_serve_py_enables_ddtrace")
def test_ddtrace_patches_framework_of_pinned_kserve(project):
    enabled = tracing(project)
    in_time = [way for way in enabled if way.runs_before_server] or enabled  # late ones: the next check
    framework, reason = expected_framework(project)
    if any(framework in way.frameworks or "*" in way.frameworks for way in in_time):
        return
    patched = sorted({name for way in in_time for name in way.frameworks}) or ["no framework"]
    raise Violation(SERVE, f"patches {', '.join(patched)}, but {reason}: use ddtrace.patch({framework}=True)")


@requires("test_serve_py_enables_ddtrace")
def test_tracing_starts_before_server(project):
    enabled = tracing(project)
    if not any(way.runs_before_server for way in enabled):
        raise Violation(SERVE, str(enabled[0]), detail="\n".join(listing([str(way) for way in enabled[1:]])) or None)
