"""Standard 9 — Shared pipeline: .gitlab-ci.yml includes the Model Promotion Pipeline at a pinned
tag and does not redefine its protected jobs."""

from snitch.facts import gitlab_ci, names, release
from snitch.violation import Violation, requires

CI = gitlab_ci.CI


def shared_include(project, parameters) -> dict:
    include = gitlab_ci.shared_include(project, parameters)
    if include is None:
        present = [
            entry.get("project") or entry.get("local") or entry.get("remote") or entry.get("component") or str(entry)
            if isinstance(entry, dict) else str(entry)
            for entry in gitlab_ci.includes(gitlab_ci.document(project))
        ]
        raise Violation(CI, f"does not include the shared pipeline (includes: {', '.join(map(str, present)) or 'nothing'})")
    return include


def test_gitlab_ci_includes_shared_pipeline(project, parameters):
    shared_include(project, parameters)


@requires("test_gitlab_ci_includes_shared_pipeline")
def test_shared_pipeline_ref_is_pinned_tag(project, parameters):
    ref = shared_include(project, parameters).get("ref")
    if ref is None:
        raise Violation(
            CI, "the shared pipeline include has no `ref`, so it follows the default branch",
            line=gitlab_ci.key_line(project.text(CI), "include"),
        )
    problem = release.ref_problem(ref, parameters)
    if problem:
        raise Violation(CI, f"the shared pipeline is included at {problem}", line=gitlab_ci.key_line(project.text(CI), "ref"))


def test_protected_jobs_not_redefined(project, parameters):
    jobs = set(gitlab_ci.jobs(gitlab_ci.document(project)))
    redefined = [job for job in parameters["protected_jobs"] if job in jobs]
    if redefined:
        raise Violation(
            CI, f"redefines the shared pipeline's job(s): {', '.join(redefined)}",
            line=gitlab_ci.key_line(project.text(CI), redefined[0]),
        )


def test_model_name_is_a_service_name(project):
    """The declared model_name (else the name snitch was given) names the InferenceService."""
    declared = gitlab_ci.setting(gitlab_ci.document(project), "model_name", "MODEL_NAME")
    name = declared.value if declared is not None else project.model
    problem = names.model_name_problem(name)
    if problem:
        where = declared.where if declared is not None else "model name given to snitch"
        raise Violation(CI, f"the {where}: {problem}", line=gitlab_ci.key_line(project.text(CI), "model_name", "MODEL_NAME"))
