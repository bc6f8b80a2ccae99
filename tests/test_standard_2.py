"""Standard 2 — Project layout."""

import pytest

from fixtures.checker import assert_only_failure, passed_on_compliant, run_checks
from fixtures.template import git, git_commit_all


@pytest.mark.parametrize("missing", ["model.py", "Dockerfile", "openapi.yaml"])
def test_required_files_exist(compliant_report, compliant, missing):
    passed_on_compliant(compliant_report, "test_required_files_exist")
    (compliant / missing).unlink()
    run = run_checks(compliant, 2)
    assert_only_failure(run, 2, "test_required_files_exist", ".", f"missing: {missing}")


def test_required_tests_folder(compliant):
    import shutil

    shutil.rmtree(compliant / "tests")
    run = run_checks(compliant, 2)
    assert_only_failure(run, 2, "test_required_files_exist", ".", "missing: tests/")


def test_datasets_and_weights_are_gitignored(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_datasets_and_weights_are_gitignored")
    gitignore = compliant / ".gitignore"
    gitignore.write_text(gitignore.read_text().replace("weights/\n", ""))
    # Outside git, snitch reads .gitignore itself...
    run = run_checks(compliant, 2)
    assert_only_failure(run, 2, "test_datasets_and_weights_are_gitignored", ".gitignore", "git does not ignore weights/")
    # ...inside a repository it asks git.
    git_commit_all(compliant)
    run = run_checks(compliant, 2)
    assert_only_failure(run, 2, "test_datasets_and_weights_are_gitignored", ".gitignore", "git does not ignore weights/")


def test_nothing_tracked_under_datasets_or_weights(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_nothing_tracked_under_datasets_or_weights")
    skipped = run_checks(compliant, 2).check("test_nothing_tracked_under_datasets_or_weights")
    assert skipped["outcome"] == "skipped" and "is not in a git repository" in skipped["message"]

    git_commit_all(compliant)
    (compliant / "datasets" / "train.csv").write_text("5.1,3.5,1.4,0.2,setosa\n")
    git("add", "-f", "datasets/train.csv", cwd=compliant)
    git("commit", "-q", "-m", "oops", cwd=compliant)
    run = run_checks(compliant, 2)
    assert_only_failure(run, 2, "test_nothing_tracked_under_datasets_or_weights", "datasets/train.csv",
                        "is tracked by git")


def test_project_inside_a_larger_repository(compliant):
    """A monorepo: the project is a sub-folder of the git repository."""
    git_commit_all(compliant.parent)
    assert run_checks(compliant, 2).code == 0


@pytest.mark.parametrize("gitignore", [
    b"# \xe9tude (latin-1)\ndatasets/\nweights/\n",
    b"datasets/\nweights/\n# a NUL \0 in a comment\n",
])
@pytest.mark.parametrize("in_git", [True, False], ids=["git", "no-git"])
def test_a_gitignore_git_reads_passes_whatever_its_bytes(compliant, gitignore, in_git):
    """git reads .gitignore as bytes: a latin-1 comment or a NUL does not stop it ignoring both folders."""
    (compliant / ".gitignore").write_bytes(gitignore)
    if in_git:
        git_commit_all(compliant)
    run = run_checks(compliant, 2)
    assert run.code == 0, run.stdout


@pytest.mark.parametrize("module", ["model.py", "train.py", "evaluate.py"])
def test_python_modules_that_do_not_parse_fail(compliant, module):
    """A `\"\"\"` in a template answer gave a model.py that does not parse, and snitch passed it."""
    path = compliant / module
    path.write_text(path.read_text() + '\nDESCRIPTION = """an answer with """ in it"""\n')
    line = len(path.read_text().splitlines())
    run = run_checks(compliant, 2)
    result = assert_only_failure(run, 2, "test_python_modules_parse", module, f"syntax error at line {line}")
    assert result["line"] == line
