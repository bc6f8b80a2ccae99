"""What git knows about the project, asked of git itself in a way the project cannot subvert.

The checked repository's own configuration could otherwise make git run its code (a
`core.fsmonitor` command, hooks, a pager, filters) or hang on a FIFO; so every call overrides
those settings on the command line (which wins over the repository's config), takes no lock,
writes nothing, and is killed after GIT_TIMEOUT_S seconds. Before any call, the files git reads
first must be regular files."""

from __future__ import annotations

import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from snitch import files

GIT_TIMEOUT_S = 20
# `-c` settings beat every config file, so the repository cannot turn these back on.
_SAFE_OPTIONS = (
    "-c", "core.fsmonitor=false",
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.pager=cat",
    "-c", "core.untrackedCache=false",
    "-c", "diff.external=",
    "-c", "protocol.allow=never",
)
_SAFE_ENVIRONMENT = {
    "GIT_CONFIG_NOSYSTEM": "1",  # the machine's config is not the project's, but keep it out too
    "GIT_OPTIONAL_LOCKS": "0",  # never refresh (write) the index of the checked repository
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "GIT_EXTERNAL_DIFF": "",
}
# What git opens on every command; a FIFO here would make it wait for ever.
_GIT_DIR_FILES = ("HEAD", "config", "index", "info/exclude", "commondir")


class GitUnavailable(Exception):
    """git cannot (safely) answer here; the message says why."""


@dataclass
class GitInfo:
    root: Path  # the project's folder; git is asked from there, so paths are relative to it

    def ignored(self, relative: str) -> bool:
        """Would git ignore a new file at `relative`?"""
        return relative in self.which_ignored([relative])

    def which_ignored(self, relatives: list[str]) -> set[str]:
        """Those of `relatives` git would ignore as new files, asked in one call."""
        question = "".join(f"{relative}\0" for relative in relatives).encode()
        output = run_git(self.root, "check-ignore", "-z", "--stdin", ok=(0, 1), input=question).stdout
        return {name.decode("utf-8", "replace") for name in output.split(b"\0") if name}

    def tracked_under(self, folders: list[str]) -> list[str]:
        """The tracked files at or below any of `folders` (paths relative to the project, taken
        literally: no glob), asked in one call that lists only those folders, however large the
        repository."""
        pathspecs = [f":(literal){folder.rstrip('/')}" for folder in folders]
        output = run_git(self.root, "ls-files", "-z", "--", *pathspecs).stdout
        return [name.decode("utf-8", "replace") for name in output.split(b"\0") if name]


def run_git(root: Path, *args: str, ok=(0,), input: bytes | None = None) -> subprocess.CompletedProcess:
    """git ARGS in `root` (reading `input`, else nothing), hardened as the module says;
    GitUnavailable when it cannot answer."""
    command = ["git", "--no-pager", *_SAFE_OPTIONS, *args]
    stdin = {"stdin": subprocess.DEVNULL} if input is None else {"input": input}
    try:
        done = subprocess.run(
            command, cwd=root, capture_output=True, timeout=GIT_TIMEOUT_S,
            env={**os.environ, **_SAFE_ENVIRONMENT}, **stdin,
        )
    except FileNotFoundError:
        raise GitUnavailable("git is not installed") from None
    except subprocess.TimeoutExpired:
        raise GitUnavailable(
            f"`git {args[0]}` did not answer within {GIT_TIMEOUT_S} s (is a file it reads a FIFO or a device?)"
        ) from None
    if done.returncode not in ok:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitUnavailable(f"`git {args[0]}` failed: {message[-1] if message else f'exit {done.returncode}'}")
    return done


def _git_dir(root: Path) -> Path | None:
    """The .git folder of the repository holding `root` (None outside one), found without git."""
    for folder in (root, *root.parents):
        candidate = folder / ".git"
        try:
            mode = candidate.lstat().st_mode
        except OSError:
            continue
        if stat.S_ISDIR(mode):
            return candidate
        try:  # a worktree or submodule: a file `gitdir: PATH`
            pointer = files.read_text(candidate, 4096).strip()
        except files.Unreadable as problem:
            raise GitUnavailable(f"{candidate} {problem}, so git cannot safely be asked") from None
        if not pointer.startswith("gitdir:"):
            raise GitUnavailable(f"{candidate} is neither a folder nor a `gitdir:` file")
        return (folder / pointer.removeprefix("gitdir:").strip()).resolve()
    return None


def _check_git_dir(git_dir: Path) -> None:
    for name in _GIT_DIR_FILES:
        try:
            mode = (git_dir / name).stat().st_mode
        except OSError:
            continue  # absent (or a dangling link): git copes and reports it
        kind = files.kind_of(mode)
        if kind:
            raise GitUnavailable(f"{git_dir / name} is {kind}, not a regular file, so git cannot safely be asked")


def open_repository(root: Path) -> GitInfo | None:
    """The repository the project lives in, or None when it is not in one."""
    root = root.resolve()
    git_dir = _git_dir(root)
    if git_dir is None:
        return None
    _check_git_dir(git_dir)
    inside = run_git(root, "rev-parse", "--is-inside-work-tree", ok=(0, 128))
    if inside.returncode != 0 or inside.stdout.strip() != b"true":
        reason = inside.stderr.decode("utf-8", "replace").strip()
        if "dubious ownership" in reason:
            raise GitUnavailable(f"git refuses the repository of {root}: it belongs to another user (safe.directory)")
        return None
    return GitInfo(root)
