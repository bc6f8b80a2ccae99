"""What snitch asks git about a project: the answers, and how few git processes they take."""

from __future__ import annotations

import os

import pytest

from fixtures.template import git, git_commit_all
from snitch.read import git as read_git
from snitch.read import git_index


@pytest.fixture
def repository(tmp_path, monkeypatch):
    """A project inside a larger repository, with tracked files beside and below look-alike folders."""
    project = tmp_path / "models" / "iris"
    tracked = ("datasets/.gitkeep", "datasets/train.csv", "datasets2/x.csv", "weights-old/w.bin", "serve.py", "weights")
    for name in tracked:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text("x")
    (tmp_path / "elsewhere.txt").write_text("x")
    (project / ".gitignore").write_text("*.log\ncache/\n!keep.log\n")
    git_commit_all(tmp_path)
    calls = []
    run_git = read_git.run_git
    monkeypatch.setattr(read_git, "run_git", lambda *args, **kwargs: calls.append(args[1]) or run_git(*args, **kwargs))
    return read_git.open_repository(project), calls


@pytest.mark.parametrize("reader", ["index", "git"])
def test_tracked_under_folders_is_exact(repository, monkeypatch, reader):
    """Read from the index, no git process; with the reader unable to answer, one `git ls-files`."""
    repo, calls = repository
    if reader == "git":
        monkeypatch.setattr(git_index, "tracked_under", lambda *args: None)
    calls.clear()
    # Not datasets2/ or weights-old/; a file named like a folder counts; [ is no glob.
    assert repo.tracked_under(["datasets", "weights/", "cache", "[dw]*"]) == [
        "datasets/.gitkeep", "datasets/train.csv", "weights",
    ]
    assert calls == ([] if reader == "index" else ["ls-files"])
    assert repo.tracked_under(["cache"]) == []
    (repo.root / "datasets" / "train.csv").unlink()  # deleted, still tracked: listed once
    assert repo.tracked_under(["datasets"]) == ["datasets/.gitkeep", "datasets/train.csv"]


def test_which_ignored_answers_several_paths_in_one_call(repository):
    repo, calls = repository
    calls.clear()
    asked = ["a.log", "keep.log", "cache/any-file", "serve.py", "datasets/any-file", "dir with space/x.log"]
    assert repo.which_ignored(asked) == {"a.log", "cache/any-file", "dir with space/x.log"}
    assert calls == ["check-ignore"]
    assert repo.ignored("cache/any-file") and not repo.ignored("keep.log")


def test_outside_a_work_tree_every_question_answers_none(repository, tmp_path):
    """Whether the folder is in a work tree is learnt from git's answer to the question itself."""
    repo, calls = repository
    git("init", "-q", "--bare", "bare.git", cwd=repo.root)
    for folder in (repo.root.parents[1] / ".git", repo.root / "bare.git"):
        calls.clear()
        inside_no_work_tree = read_git.open_repository(folder)
        assert inside_no_work_tree.which_ignored(["a.log"]) is None
        assert inside_no_work_tree.tracked_under(["datasets"]) is None
        assert calls == ["check-ignore", "ls-files"]
    assert read_git.open_repository(tmp_path.parent) is None  # no .git above: git is not asked


def test_opening_the_repository_asks_git_nothing(repository):
    repo, calls = repository
    calls.clear()
    assert read_git.open_repository(repo.root) == repo and calls == []


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give the repository to another user")
def test_a_repository_of_another_user_is_named_as_such(tmp_path):
    git("init", "-q", cwd=tmp_path)
    for path in (tmp_path, *tmp_path.rglob("*")):
        os.chown(path, 12345, 12345, follow_symlinks=False)
    with pytest.raises(read_git.GitUnavailable, match="belongs to another user"):
        read_git.open_repository(tmp_path).which_ignored(["datasets/any-file"])
