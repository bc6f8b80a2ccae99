"""What git knows about the project: read with gitpython, imported only when a check asks."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class GitUnavailable(Exception):
    """git itself cannot be run here."""


@dataclass
class GitInfo:
    repo: object  # git.Repo
    prefix: Path  # the project's folder relative to the repository's top

    def ignored(self, relative: str) -> bool:
        """Would git ignore a new file at `relative`?"""
        return bool(self.repo.ignored(str(self.prefix / relative)))

    def tracked_under(self, folder: str) -> list[str]:
        output = self.repo.git.ls_files("--", str(self.prefix / folder))
        return [line for line in output.splitlines() if line]


def open_repository(root: Path) -> GitInfo | None:
    """The repository the project lives in, or None when it is not in one."""
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")  # report a missing git, don't fail the import
    import git  # deferred: gitpython is slow to import and only standard 2 needs it

    try:
        repo = git.Repo(root, search_parent_directories=True)
        repo.git.version()
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    except git.GitCommandNotFound:
        raise GitUnavailable("git is not installed") from None
    top = Path(repo.working_tree_dir).resolve()
    return GitInfo(repo, root.resolve().relative_to(top))
