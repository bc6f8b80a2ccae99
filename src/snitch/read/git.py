"""What git knows about the project, asked of git itself in a way the project cannot subvert.

The checked repository's own configuration could otherwise make git run its code (a
`core.fsmonitor` command, hooks, a pager, filters) or hang on a FIFO; so every call overrides
those settings on the command line (which wins over the repository's config), takes no lock,
writes nothing, and is killed after GIT_TIMEOUT_S seconds. Before any call, the files git reads
first must be regular files.

Where the answer is certain without git, git is not asked: what is tracked is read from the
index (git_index), and a .gitignore that excludes a folder by name, negating nothing,
settles that the folder is ignored. In a fleet that spares two of three git processes a project."""

from __future__ import annotations

import functools
import os
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from snitch.read import files, git_index

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


# The .gitignore lines that exclude the folder {0} beside the file, and nothing else.
_FOLDER_EXCLUDED = ("{0}", "{0}/", "/{0}", "/{0}/")
# What git says (exit 128) when asked from a folder that is in no work tree: outside every
# repository, inside a .git folder, in a bare repository.
_NO_WORK_TREE = ("not a git repository", "must be run in a work tree")


@dataclass
class GitInfo:
    """The repository around `root`, found without git (a .git above it). Whether `root` is in
    a work tree is known without git where git_index can read the repository as git would,
    else learnt from git's answer to the question itself, never asked on its own; each question
    answers None when it is not."""

    root: Path  # the project's folder; git is asked from there, so paths are relative to it
    git_dir: Path | None = None  # the .git found above it, when known

    def ignored(self, relative: str) -> bool | None:
        """Would git ignore a new file at `relative`?"""
        ignored = self.which_ignored([relative])
        return None if ignored is None else relative in ignored

    def which_ignored(self, relatives: list[str]) -> set[str] | None:
        """Those of `relatives` git would ignore as new files, asked in one call (none when the
        project's own .gitignore settles it: see _surely_ignored)."""
        if self._surely_ignored(relatives):
            return set(relatives)
        question = "".join(f"{relative}\0" for relative in relatives).encode()
        done = self._ask("check-ignore", "-z", "--stdin", ok=(0, 1), input=question)
        return None if done is None else {name.decode("utf-8", "replace") for name in done.stdout.split(b"\0") if name}

    @functools.cached_property
    def _index_prefix(self) -> str | None:
        """The project's path in the work tree when git_index reads the repository as git
        would (asked once: both questions need it), else None."""
        return git_index.work_tree_prefix(self.root, self.git_dir) if self.git_dir is not None else None

    def _surely_ignored(self, relatives: list[str]) -> bool:
        """Does the project's own .gitignore settle that git ignores every one of `relatives`
        (each FOLDER/NAME), so that git need not be asked? It does when it excludes each FOLDER by
        name and negates nothing: no pattern git reads ranks above it for that folder (a deeper
        .gitignore is not read inside an excluded folder; info/exclude and core.excludesFile rank
        below), and a file in an excluded folder cannot be re-included. Only where
        git_index reads the repository as git would, and when none of the paths is tracked
        (git never ignores a tracked file); anything else is git's to answer."""
        if self._index_prefix is None:
            return False
        folders = {relative.split("/", 1)[0] for relative in relatives}
        if any("/" not in relative for relative in relatives) or any(set(folder) & set("*?[\\!#") for folder in folders):
            return False
        gitignore = self.root / ".gitignore"
        try:
            if not stat.S_ISREG(gitignore.lstat().st_mode):  # git does not follow a symlinked .gitignore
                return False
            data = files.read_bytes(gitignore)  # bytes, as git reads it: any encoding, NULs in comments
        except (OSError, files.Unreadable):
            return False
        lines = {line.rstrip(b"\r").rstrip(b" ") for line in data.split(b"\n")}  # as git trims them
        if any(line.startswith(b"!") for line in lines):
            return False
        if not all(lines & {form.format(folder).encode() for form in _FOLDER_EXCLUDED} for folder in folders):
            return False
        return git_index.tracked_under(self.git_dir, self._index_prefix, relatives) == []

    def tracked_under(self, folders: list[str]) -> list[str] | None:
        """The tracked files at or below any of `folders` (paths relative to the project, taken
        literally: no glob), asked in one call that lists only those folders, however large the
        repository. Read from the index itself when git_index can."""
        if self._index_prefix is not None:
            tracked = git_index.tracked_under(self.git_dir, self._index_prefix, folders)
            if tracked is not None:
                return tracked
        pathspecs = [f":(literal){folder.rstrip('/')}" for folder in folders]
        # --deleted lists nothing new (a deleted file is still tracked: listed twice, once kept)
        # but makes git refuse a folder in no work tree, as check-ignore does.
        done = self._ask("ls-files", "-z", "--cached", "--deleted", "--", *pathspecs)
        if done is None:
            return None
        return list(dict.fromkeys(name.decode("utf-8", "replace") for name in done.stdout.split(b"\0") if name))

    def _ask(self, *args: str, ok=(0,), input: bytes | None = None) -> subprocess.CompletedProcess | None:
        """run_git, or None when git says `root` is in no work tree. Never for an index git would
        expand, writing into the repository, to read (snitch writes nothing into what it checks)."""
        if self.git_dir is not None and git_index.has_folder_entries(self.git_dir):
            raise GitUnavailable(
                f"{self.git_dir / 'index'} holds a folder entry (a sparse index, or a damaged one): git would write "
                "tree objects into the repository to read it, and snitch writes nothing there"
            )
        done = run_git(self.root, *args, ok=(*ok, 128), input=input)
        if done.returncode != 128:
            return done
        reason = done.stderr.decode("utf-8", "replace")
        if any(phrase in reason for phrase in _NO_WORK_TREE):
            return None
        if "dubious ownership" in reason:
            raise GitUnavailable(f"git refuses the repository of {self.root}: it belongs to another user (safe.directory)")
        raise _failed(args, done)


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
        raise _failed(args, done)
    return done


def _failed(args, done: subprocess.CompletedProcess) -> GitUnavailable:
    message = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return GitUnavailable(f"`git {args[0]}` failed: {message[-1] if message else f'exit {done.returncode}'}")


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
    """The repository around the project, None when there is no .git above it (see GitInfo)."""
    root = root.resolve()
    git_dir = _git_dir(root)
    if git_dir is None:
        return None
    _check_git_dir(git_dir)
    return GitInfo(root, git_dir)
