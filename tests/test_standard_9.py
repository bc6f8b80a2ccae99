"""Standard 9 — Shared pipeline."""

from fixtures.checker import assert_only_failure, edit, passed_on_compliant, run_checks

CI = ".gitlab-ci.yml"


def test_gitlab_ci_includes_shared_pipeline(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_gitlab_ci_includes_shared_pipeline")
    edit(compliant / CI, "project: ml-platform/snitch", "project: someone/their-own-pipeline")
    run = run_checks(compliant, 9)
    assert run.failed() == {"test_gitlab_ci_includes_shared_pipeline"}
    ref = run.check("test_shared_pipeline_ref_is_pinned_tag")
    assert ref["outcome"] == "skipped" and "requires 9.test_gitlab_ci_includes_shared_pipeline" in ref["message"]
    assert "includes: someone/their-own-pipeline" in run.check("test_gitlab_ci_includes_shared_pipeline")["message"]


def test_shared_pipeline_ref_is_pinned_tag(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_shared_pipeline_ref_is_pinned_tag")
    edit(compliant / CI, "ref: v1.0.0", "ref: main")
    run = run_checks(compliant, 9)
    assert_only_failure(run, 9, "test_shared_pipeline_ref_is_pinned_tag", CI, "at ref 'main', which is not a release tag")
    edit(compliant / CI, "    ref: main\n", "")
    run = run_checks(compliant, 9)
    assert_only_failure(run, 9, "test_shared_pipeline_ref_is_pinned_tag", CI, "has no `ref`")


def test_protected_jobs_not_redefined(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_protected_jobs_not_redefined")
    text = (compliant / CI).read_text()
    (compliant / CI).write_text(
        text + "\n.hidden: &hidden\n  script: [echo]\n\nsnitch:\n  <<: *hidden\n\ndeploy-production:\n"
        "  script: [kubectl apply -f isvc.yaml]\n\nmy-extra-job:\n  script: [echo ok]\n"
    )
    run = run_checks(compliant, 9)
    assert_only_failure(run, 9, "test_protected_jobs_not_redefined", CI,
                        "redefines the shared pipeline's job(s): snitch, deploy-production")


def test_a_gitlab_ci_of_comments_only_fails_standard_9_and_the_inputs_checks_skip(compliant):
    (compliant / CI).write_text("# the include went missing in a merge\n")
    run = run_checks(compliant, 1, 8, 9, 11)
    assert_only_failure(run, 9, "test_gitlab_ci_includes_shared_pipeline", CI,
                        "does not include the shared pipeline (includes: nothing)")
    for check in ("test_gitlab_ci_declares_weights_uri", "test_ci_sets_coverage_floor",
                  "test_gitlab_ci_declares_service_metadata", "test_replica_range_is_valid"):
        skipped = run.check(check)
        assert skipped["outcome"] == "skipped", skipped
        assert "standard 9 (9.test_gitlab_ci_includes_shared_pipeline)" in skipped["message"], skipped


def test_an_empty_gitlab_ci_fails_standard_9_too(compliant):
    (compliant / CI).write_text("")
    run = run_checks(compliant, 1, 9)
    assert run.failed() == {"test_gitlab_ci_includes_shared_pipeline"}, run.stdout


def test_model_name_is_a_service_name(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_model_name_is_a_service_name")
    edit(compliant / CI, 'model_name: "iris-classifier"', 'model_name: "9-lives"')
    run = run_checks(compliant, 9, model="9-lives")
    assert_only_failure(run, 9, "test_model_name_is_a_service_name", CI,
                        "the include input `model_name`: the model name '9-lives' starts with a digit",
                        "starting with a letter")
