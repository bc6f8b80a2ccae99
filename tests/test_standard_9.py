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
