"""Standard 11 — Service metadata."""

import re
import subprocess
import sys
from fractions import Fraction

import pytest

from fixtures.checker import STANDARDS, assert_only_failure, edit, passed_on_compliant, run_checks, run_json
from snitch.facts import service_settings

CI = ".gitlab-ci.yml"


def org_config(tmp_path, text: str) -> str:
    path = tmp_path / "org.yaml"
    path.write_text(text)
    return str(path)


def test_gitlab_ci_declares_service_metadata(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_gitlab_ci_declares_service_metadata")
    edit(compliant / CI, '      team: "ml-team"\n', "")
    edit(compliant / CI, '      memory: "1Gi"\n', "")
    run = run_checks(compliant, 11)
    assert_only_failure(run, 11, "test_gitlab_ci_declares_service_metadata", CI,
                        "the shared pipeline include does not declare: team, memory")


def test_top_level_variables_count_as_declared(compliant):
    edit(compliant / CI, '      team: "ml-team"\n', "")
    (compliant / CI).write_text((compliant / CI).read_text() + "variables:\n  SERVICE_TEAM: ml-team\n")
    assert run_checks(compliant, 11).code == 0


def test_service_metadata_is_well_typed(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_service_metadata_is_well_typed")
    edit(compliant / CI, "latency_slo_ms: 300", "latency_slo_ms: 300ms")
    edit(compliant / CI, 'team: "ml-team"', 'team: "ML Team"')
    edit(compliant / CI, "target_concurrency: 8", "target_concurrency: 0")
    run = run_checks(compliant, 11)
    assert_only_failure(run, 11, "test_service_metadata_is_well_typed", CI,
                        "team is 'ML Team', not a team name", "latency_slo_ms is '300ms', not a whole number",
                        "target_concurrency is 0; it must be at least 1")


def test_cpu_and_memory_are_kubernetes_quantities(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_cpu_and_memory_are_kubernetes_quantities")
    edit(compliant / CI, 'cpu: "500m"', 'cpu: "half"')
    edit(compliant / CI, 'memory: "1Gi"', 'memory: "512m"')
    run = run_checks(compliant, 11)
    assert_only_failure(run, 11, "test_cpu_and_memory_are_kubernetes_quantities", CI,
                        "cpu is 'half', not a Kubernetes quantity",
                        "memory is '512m', a fraction of a byte; did you mean 512Mi?")


def test_replica_range_is_valid(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_replica_range_is_valid")
    edit(compliant / CI, "min_replicas: 1", "min_replicas: 4")
    run = run_checks(compliant, 11)
    assert_only_failure(run, 11, "test_replica_range_is_valid", CI, "min_replicas (4) is above max_replicas (3)")


def test_production_never_scales_to_zero_but_dev_may(compliant):
    edit(compliant / CI, "min_replicas: 1", "min_replicas: 0")
    message = run_checks(compliant, 11).check("test_replica_range_is_valid")["message"]
    assert "staging and production would scale to zero" in message
    edit(compliant / CI, "min_replicas: 0", "min_replicas: 1\n      dev_min_replicas: 0\n      dev_max_replicas: 2")
    assert run_checks(compliant, 11).code == 0
    edit(compliant / CI, "dev_min_replicas: 0", "dev_min_replicas: 3")
    message = run_checks(compliant, 11).check("test_replica_range_is_valid")["message"]
    assert "dev_min_replicas (3) is above dev_max_replicas (2)" in message


def test_service_is_within_organisation_limits(compliant_report, compliant, tmp_path):
    passed_on_compliant(compliant_report, "test_service_is_within_organisation_limits")
    edit(compliant / CI, "max_replicas: 3", "max_replicas: 50")
    edit(compliant / CI, 'memory: "1Gi"', 'memory: "64Gi"')
    run = run_checks(compliant, 11)
    assert_only_failure(run, 11, "test_service_is_within_organisation_limits", CI,
                        "max_replicas is 50, above the organisation's limit of 20",
                        "memory is 64Gi, above the organisation's limit of 32Gi")
    # the limits are the organisation's: a config file changes them, in the checks and the messages
    config = org_config(tmp_path, 'replicas_limit: 100\nmemory_limit: 128Gi\ncpu_limit: "250m"\n')
    run = run_json(compliant, "-s", "11", "--config", config)
    assert run.failed() == {"test_service_is_within_organisation_limits"}
    message = run.check("test_service_is_within_organisation_limits")["message"]
    assert "cpu is 500m, above the organisation's limit of 250m" in message and "memory is" not in message
    assert "at most 100" in message and "at most 250m" in message


def test_team_is_known(compliant, tmp_path):
    assert run_checks(compliant, 11).check("test_team_is_known")["outcome"] == "skipped"
    listed = org_config(tmp_path, "teams: [ml-team, fraud-detection]\n")
    run = run_json(compliant, "-s", "11", "--config", listed)
    assert run.code == 0 and run.check("test_team_is_known")["outcome"] == "passed"
    edit(compliant / CI, 'team: "ml-team"', 'team: "growth"')
    run = run_json(compliant, "-s", "11", "--config", listed)
    assert run.failed() == {"test_team_is_known"}
    message = run.check("test_team_is_known")["message"]
    assert "team 'growth' is not one of the organisation's teams" in message and "`fraud-detection`" in message


@pytest.mark.parametrize("text, expected", [
    ("500m", Fraction(1, 2)), ("2", 2), ("1.5", Fraction(3, 2)), (".5", Fraction(1, 2)), ("250u", Fraction(1, 4000)),
    ("1k", 1000), ("3M", 3 * 10**6), ("1G", 10**9), ("2T", 2 * 10**12),
    ("128Ki", 128 * 1024), ("512Mi", 512 * 2**20), ("1.5Gi", 3 * 2**29), ("1Ti", 2**40),
    ("129e6", 129 * 10**6), ("1E3", 1000), ("5e-1", Fraction(1, 2)), ("1E", 10**18),
])
def test_quantities_parse_like_kubernetes(text, expected):
    assert service_settings.parse_quantity(text).value == expected


@pytest.mark.parametrize("value, message", [
    ("1K", "not a Kubernetes quantity"),  # kilo is lower-case k; K only in Ki
    ("1 Gi", "not a Kubernetes quantity"), ("-1", "not a Kubernetes quantity"), ("1GB", "not a Kubernetes quantity"),
    ("1e", "not a Kubernetes quantity"), ("0", "more than zero"), ("1e999999999", "out of any sensible range"),
    ("9" * 500, "not a Kubernetes quantity"), (True, "not a Kubernetes quantity"), (None, "not a Kubernetes quantity"),
])
def test_bad_quantities_are_refused_with_a_reason(value, message):
    with pytest.raises(service_settings.ServiceProblem, match=message):
        service_settings.parse_quantity(value, "cpu")


def test_cpu_and_memory_units():
    assert service_settings.parse_cpu(2).value == 2 and service_settings.parse_memory(2**30).value == 2**30
    with pytest.raises(service_settings.ServiceProblem, match="below Kubernetes' smallest CPU unit 1m"):
        service_settings.parse_cpu("100u")
    with pytest.raises(service_settings.ServiceProblem, match="a fraction of a byte"):
        service_settings.parse_memory("1.5")


def test_config_rejects_limits_that_are_not_quantities_or_numbers(compliant, tmp_path):
    for text, message in (('memory_limit: "lots"\n', "memory_limit is 'lots', not a Kubernetes quantity"),
                          ("replicas_limit: true\n", "replicas_limit must be a whole number like the default 20"),
                          ("teams: [ml-team, '']\n", "every entry of teams must be a non-empty string")):
        run = run_json(compliant, "-s", "11", "--config", org_config(tmp_path, text))
        assert run.code == 2 and message in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert run_json(compliant, "-s", "11", "--config", org_config(tmp_path, "cpu_limit: 16\n")).code == 0


def test_explain_11_reads_the_standards_document():
    result = subprocess.run([sys.executable, "-m", "snitch", "explain", "11"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    flat = " ".join(result.stdout.split())
    assert "Standard 11: Service metadata" in result.stdout
    assert " ".join(STANDARDS[11].rationale.split()) in flat
    for name in STANDARDS[11].checks:
        doc = STANDARDS.check_doc(11, name)
        assert name in result.stdout and doc.expected in flat and doc.fix in flat
    assert "at most 20" in flat and "at most 32Gi" in flat  # parameters filled in
    assert STANDARDS.url(11).endswith("#11-service-metadata")


def test_messages_stay_short_whatever_is_declared():
    for parse in (service_settings.parse_team, lambda value: service_settings.parse_whole(value, "min_replicas"), service_settings.parse_quantity):
        for value in ("x" * 100_000, {"nested": ["x" * 100_000]}):
            with pytest.raises(service_settings.ServiceProblem) as error:
                parse(value)
            assert len(str(error.value)) < 300


def test_dev_min_replicas_alone_is_judged_against_the_default_maximum_as_every_deploy_is(compliant):
    """`dev_min_replicas: 2` without dev_max_replicas: the pipeline's default maximum (1) applies,
    so standard 11 fails it with the message the deploy job refuses it with."""
    from snitch.pipeline.deploy import service_from_environment
    from snitch.pipeline.errors import PipelineError

    edit(compliant / CI, "min_replicas: 1", "min_replicas: 1\n      dev_min_replicas: 2")
    message = run_checks(compliant, 11).check("test_replica_range_is_valid")["message"]
    rule = "dev_min_replicas (2) is above dev_max_replicas (1 by default)"
    assert rule in message
    defaults = {field.variable: str(field.default) for field in service_settings.FIELDS if field.default is not None}
    with pytest.raises(PipelineError, match=re.escape(rule.replace(" by default", ""))):
        service_from_environment({**defaults, "SERVICE_TEAM": "ml-team", "DEV_MIN_REPLICAS": "2"})
