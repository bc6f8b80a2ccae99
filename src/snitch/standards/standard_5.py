"""Standard 5 — Pinned dependencies: requirements.txt pins everything exactly, kserve and ddtrace
included, and the kserve pin has the API serve.py uses."""

from packaging.version import Version

from snitch.facts import serve_summary
from snitch.read.requirements import conflicting_pins
from snitch.violation import Violation

REQUIREMENTS = "requirements.txt"
MODEL_CLASS_SINCE = Version("0.8")  # kserve renamed KFModel to Model in 0.8.0


def listed(lines) -> str:
    return "\n".join(f"line {line.number}: {line.text}" for line in lines)


def test_requirements_are_valid(project):
    invalid = [line for line in project.requirements() if line.problem]
    if invalid:
        raise Violation(
            REQUIREMENTS,
            f"{len(invalid)} line(s) are not plain requirements",
            detail="\n".join(f"line {line.number}: `{line.text}` {line.problem}" for line in invalid),
            line=invalid[0].number,
        )


def test_requirements_are_pinned_exactly(project):
    lines = project.requirements()
    loose = [line for line in lines if line.requirement and not line.pinned]
    conflicts = conflicting_pins(lines)
    found = [f"{len(loose)} requirement(s) are not pinned with =="] if loose else []
    found += [f"{group[0].name} is pinned to {len(group)} different versions" for group in conflicts]
    if found:
        detail = [listed(loose)] if loose else []
        detail += [listed(group) for group in conflicts]
        first = min(line.number for line in [*loose, *(pin for group in conflicts for pin in group)])
        raise Violation(REQUIREMENTS, "; ".join(found), detail="\n".join(detail), line=first)


def test_kserve_and_ddtrace_are_pinned(project):
    serving_library = serve_summary.serving_pin(project)
    uses_kfserving = serving_library is not None and serving_library.name == "kfserving"
    wanted = ("kfserving" if uses_kfserving else "kserve", "ddtrace")
    pinned = {line.name for line in project.requirements() if line.pinned}
    missing = [name for name in wanted if name not in pinned]
    if missing:
        raise Violation(REQUIREMENTS, f"{' and '.join(missing)} not pinned with ==")


def test_kserve_version_matches_serving_api(project):
    apis = {cls.api for cls in serve_summary.of(project).classes}
    pin = serve_summary.serving_pin(project)
    if not apis or pin is None or pin.pinned_version is None:
        raise Violation(
            REQUIREMENTS,
            "cannot tell which serving API the pinned version has: "
            + ("serve.py has no serving class" if not apis else "the serving library has no single == pin"),
        )
    version = pin.pinned_version
    if "kserve.Model" in apis and version < MODEL_CLASS_SINCE:
        raise Violation(
            REQUIREMENTS, f"serve.py uses kserve.Model, which kserve=={version} does not have (added in 0.8)", line=pin.number
        )
    if "kserve.KFModel" in apis and version >= MODEL_CLASS_SINCE:
        raise Violation(
            REQUIREMENTS, f"serve.py uses kserve.KFModel, which kserve=={version} no longer has (renamed Model in 0.8)",
            line=pin.number,
        )
