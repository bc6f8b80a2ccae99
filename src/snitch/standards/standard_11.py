"""Standard 11 — Service metadata: .gitlab-ci.yml declares who owns the model and how it runs
(latency objective, replicas, concurrency, CPU, memory), well-formed and within the
organisation's limits."""

from snitch.facts import gitlab_ci, service_settings
from snitch.violation import Violation, skip

CI = gitlab_ci.CI


def declared(project, parameters) -> dict:
    """The service fields the project declares (include input or top-level variable), by input name;
    the check skips when there is no shared pipeline include to declare them for (standard 9)."""
    gitlab_ci.require_shared_include(project, parameters)
    document = gitlab_ci.document(project)
    found = {}
    for field in service_settings.FIELDS:
        setting = gitlab_ci.setting(document, field.name, field.variable)
        if setting is not None:
            found[field.name] = setting.value
    return found


def parsed(project, parameters) -> dict:
    """The declared fields that parse; the checks below report those that do not."""
    return service_settings.parse_declared(declared(project, parameters))[0]


def test_gitlab_ci_declares_service_metadata(project, parameters):
    present = declared(project, parameters)
    missing = [field.name for field in service_settings.FIELDS if field.required and field.name not in present]
    if missing:
        raise Violation(CI, f"the shared pipeline include does not declare: {', '.join(missing)}")


def test_service_metadata_is_well_typed(project, parameters):
    kinds = {field.kind for field in service_settings.FIELDS} - set(service_settings.QUANTITY_KINDS)
    problems = service_settings.parse_declared(declared(project, parameters), kinds)[1]
    if problems:
        raise Violation(CI, "; ".join(problems))


def test_cpu_and_memory_are_kubernetes_quantities(project, parameters):
    problems = service_settings.parse_declared(declared(project, parameters), service_settings.QUANTITY_KINDS)[1]
    if problems:
        raise Violation(CI, "; ".join(problems))


def test_replica_range_is_valid(project, parameters):
    problems = service_settings.range_problems(parsed(project, parameters))
    if problems:
        raise Violation(CI, "; ".join(problems))


def test_service_is_within_organisation_limits(project, parameters):
    problems = service_settings.limit_problems(parsed(project, parameters), parameters)
    if problems:
        raise Violation(CI, "; ".join(problems))


def test_team_is_known(project, parameters):
    teams = parameters["teams"]
    if not teams:
        skip("the organisation lists no teams (parameter `teams`)")
    team = parsed(project, parameters).get("team")
    problem = team is not None and service_settings.team_membership_problem(team, teams)
    if problem:
        raise Violation(CI, problem)
