"""Standard 2 — Project layout: the required files exist, and datasets/ and weights/ stay out of git."""

import contextlib

from snitch.read.git import GitUnavailable
from snitch.violation import FileProblem, Violation, skip

REQUIRED_FILES = (
    "README.md", ".gitlab-ci.yml", "model.py", "train.py", "evaluate.py", "serve.py",
    "openapi.yaml", "requirements.txt", "Dockerfile",
)
# The modules no other standard parses (serve.py: standard 4).
PYTHON_MODULES = ("model.py", "train.py", "evaluate.py")
UNTRACKED_FOLDERS = ("datasets", "weights")
IGNORE_LINES = {"{0}", "{0}/", "/{0}", "/{0}/", "{0}/*", "/{0}/*", "{0}/**", "/{0}/**"}


def folders_not_listed(gitignore: bytes) -> list[str]:
    """The folders ("datasets/", ...) that no line of a .gitignore names: what the check reports
    outside a git work tree and what `snitch --fix` appends."""
    lines = {line.strip() for line in gitignore.splitlines()}
    return [f"{folder}/" for folder in UNTRACKED_FOLDERS
            if not lines & {pattern.format(folder).encode() for pattern in IGNORE_LINES}]


@contextlib.contextmanager
def git_answers():
    """Skip the check, with git's reason, when git cannot answer (missing, a FIFO in .git, a corrupt index)."""
    try:
        yield
    except GitUnavailable as reason:
        skip(f"{reason}; what git ignores and tracks cannot be checked")


def git_repository(project):
    with git_answers():
        return project.git()


def test_required_files_exist(project):
    missing = [name for name in REQUIRED_FILES if not project.exists(name)]
    if not (project.root / "tests").is_dir():
        missing.append("tests/")
    if missing:
        raise Violation(".", f"missing: {', '.join(missing)}", accounts_for=missing)


def test_python_modules_parse(project):
    present = [name for name in PYTHON_MODULES if project.exists(name)]
    for name in present:
        try:
            project.check_parses(name)
        except FileProblem as problem:  # the syntax error and its line, told as this standard's failure
            raise Violation(name, problem.found, line=problem.line) from None
    for name in PYTHON_MODULES:
        if name not in present:  # "does not exist": skipped, naming test_required_files_exist's failure
            project.text(name)


def test_datasets_and_weights_are_gitignored(project):
    # git reads .gitignore as bytes (a latin-1 comment, a NUL are fine); a FIFO fails here, before
    # git would hang on it
    gitignore = project.data(".gitignore") if project.exists(".gitignore") else b""
    repository, ignored = git_repository(project), None
    if repository is not None:
        with git_answers():
            ignored = repository.which_ignored([f"{folder}/any-file" for folder in UNTRACKED_FOLDERS])
    if ignored is not None:
        not_ignored = [f"{folder}/" for folder in UNTRACKED_FOLDERS if f"{folder}/any-file" not in ignored]
    else:  # outside a git work tree, read .gitignore itself
        not_ignored = folders_not_listed(gitignore)
    if not_ignored:
        raise Violation(".gitignore", f"git does not ignore {' and '.join(not_ignored)}")


def test_nothing_tracked_under_datasets_or_weights(project):
    repository, tracked = git_repository(project), None
    if repository is not None:
        with git_answers():
            tracked = repository.tracked_under(UNTRACKED_FOLDERS)
    if tracked is None:
        skip(f"{project.root} is not in a git repository, so nothing is tracked")
    tracked = [path for path in tracked if not path.endswith("/.gitkeep")]
    if tracked:
        # located at the first tracked file: a report's location must be a real path
        others = tracked[1:]
        shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        raise Violation(tracked[0], "is tracked by git" + (f", as are {shown}" if others else ""))
