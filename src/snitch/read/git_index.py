"""Which files git tracks under a few folders, read from the repository's index file itself
(its format: git's gitformat-index documentation), instead of a `git ls-files` process.

A model repository's index is a few kilobytes, and in a fleet the process cost more than
everything else standard 2 does (about 1.5 ms of CPU a project). This reader answers only when
it is certain to answer as git would: a plain `.git` folder, nothing in the environment or the
repository's config that moves the work tree or changes the index's shape (another hash, a
split or sparse index, a worktree), the repository owned by this user (else git may refuse it),
an index of version 2, 3 or 4 whose checksum holds. Otherwise it answers None, and the caller
asks git, which knows how to read or refuse everything else."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from snitch.read import files

# A model repository's index is far smaller; a larger one is left to git.
MAX_INDEX_BYTES = 32 * 1024 * 1024
# Variables that make git look elsewhere than the .git folder above the project.
_REDIRECTING = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY")
# Settings of the repository's config this reader does not follow (or that may bring them in).
_UNFOLLOWED = re.compile(rb"objectformat|worktree|splitindex|sparse|include|ignorecase|^\s*bare\s*=\s*true", re.I | re.M)
_SHA1_BYTES = 20
_SHA256_BYTES = 32
_DIRECTORY_MODE = 0o040000
_NAME_MASK = 0xFFF


def tracked_under(git_dir: Path, prefix: str, folders: list[str]) -> list[str] | None:
    """The tracked files at or below `folders` (relative to the project folder, whose
    work_tree_prefix is `prefix`, taken literally), as `git ls-files` run there lists them; None
    when only git can tell."""
    try:
        data = files.read_bytes(git_dir / "index", MAX_INDEX_BYTES)
    except files.Unreadable as problem:
        return [] if str(problem) == "does not exist" else None  # no index yet: nothing tracked
    names = _entry_names(data)
    if names is None:
        return None
    wanted = [f"{prefix}{folder.rstrip('/')}".encode() for folder in folders]
    found = [
        name for name in names
        if any(name == target or name.startswith(target + b"/") for target in wanted)
    ]
    return list(dict.fromkeys(name[len(prefix.encode()):].decode("utf-8", "replace") for name in found))


def work_tree_prefix(root: Path, git_dir: Path) -> str | None:
    """`root`'s path inside the work tree ("" at its top, else "a/b/"), when this module can read
    the repository as git would (see the module's docstring); else None."""
    prefix = _prefix(root, git_dir.parent, git_dir)
    return prefix if prefix is not None and _plain_repository(git_dir) else None


def _prefix(root: Path, top: Path, git_dir: Path) -> str | None:
    """work_tree_prefix, None when git could see the repository differently: redirected by the
    environment, a .git file (a worktree or a submodule), root inside the .git folder, or a folder
    on the way that is itself a repository."""
    if any(os.environ.get(name) for name in _REDIRECTING) or git_dir.name != ".git" or not git_dir.is_dir():
        return None
    try:
        relative = root.relative_to(top)
    except ValueError:
        return None
    if ".git" in relative.parts:
        return None
    folder = root
    while folder != top:  # git stops at the first folder that looks like a repository
        if (folder / "HEAD").exists() or (folder / ".git").exists():
            return None
        folder = folder.parent
    return "" if not relative.parts else "/".join(relative.parts) + "/"


def _plain_repository(git_dir: Path) -> bool:
    """A repository this reader can read as git would: valid, ours, configured plainly."""
    try:
        if not (git_dir / "HEAD").is_file() or not (git_dir / "objects").is_dir() or not (git_dir / "refs").is_dir():
            return False
        if (git_dir / "commondir").exists() or git_dir.stat().st_uid != os.geteuid():
            return False
        if git_dir.parent.stat().st_uid != os.geteuid():
            return False
        config = files.read_bytes(git_dir / "config", 1024 * 1024) if (git_dir / "config").exists() else b""
    except (OSError, files.Unreadable):
        return False
    return not _UNFOLLOWED.search(config)


def _entry_names(data: bytes) -> list[bytes] | None:
    """The path of every entry of an index (versions 2 to 4, SHA-1), in the index's order; None
    for anything else: another version, a bad checksum, a split or sparse index, an extension
    git requires and this reader does not know, or an entry git would read otherwise."""
    parsed = _parse(data, _SHA1_BYTES)
    return None if parsed is None or parsed[1] else parsed[0]


def has_folder_entries(git_dir: Path) -> bool:
    """Does the index hold a folder entry (a sparse index's, or one git calls "a directory, but
    not sparse")? git expands such an index to read it, writing tree objects into the repository
    (or refreshing their times), so it must not be asked. Either hash, told by the checksum."""
    try:
        data = files.read_bytes(git_dir / "index", MAX_INDEX_BYTES)
    except files.Unreadable:
        return False
    return any((parsed := _parse(data, size)) is not None and parsed[1] for size in (_SHA1_BYTES, _SHA256_BYTES))


def _parse(data: bytes, hash_bytes: int) -> tuple[list[bytes], bool] | None:
    """The entries' paths and whether there is a folder entry (or a sparse index's `sdir`
    extension), read as git reads them; None when git would read them otherwise or refuse them."""
    if len(data) < 12 + hash_bytes or data[:4] != b"DIRC":
        return None
    checksum = data[-hash_bytes:]
    digest = hashlib.sha1 if hash_bytes == _SHA1_BYTES else hashlib.sha256
    if checksum != bytes(hash_bytes) and digest(data[:-hash_bytes]).digest() != checksum:  # zeros: index.skipHash
        return None
    version, count = int.from_bytes(data[4:8], "big"), int.from_bytes(data[8:12], "big")
    if version not in (2, 3, 4):
        return None
    end, position, names, previous, folders = len(data) - hash_bytes, 12, [], b"", False
    try:
        for _ in range(count):
            start = position
            mode = int.from_bytes(data[start + 24 : start + 28], "big")
            flags = int.from_bytes(data[start + 40 + hash_bytes : start + 42 + hash_bytes], "big")
            position = start + 42 + hash_bytes
            if flags & 0x4000:  # extended flags follow
                if version < 3:
                    return None
                position += 2
            if position > end:
                return None
            folders = folders or mode & 0o170000 == _DIRECTORY_MODE
            # The name's length is the flags' low 12 bits, as git reads it; only a name of 4,095
            # bytes or more is measured to its NUL. A NUL elsewhere is a name git reads otherwise.
            length = flags & _NAME_MASK
            kept = 0
            if version == 4:
                strip, position = _varint(data, position)
                if strip > len(previous):
                    return None
                kept = len(previous) - strip
            if length == _NAME_MASK:
                length = data.index(b"\0", position, end) - position + kept
            close = position + length - kept
            if length < kept or close >= end or data[close] != 0 or b"\0" in data[position:close]:
                return None
            name = previous[:kept] + data[position:close]
            if version == 4:
                position = close + 1
            else:
                position = start + ((position - start + len(name) + 8) & ~7)  # NUL-padded to 8 bytes
            names.append(name)
            previous = name
    except (ValueError, IndexError):  # no NUL before the end, a varint past it
        return None
    while position + 8 <= end:  # extensions: a signature, a size, the data
        signature, size = data[position : position + 4], int.from_bytes(data[position + 4 : position + 8], "big")
        if signature == b"sdir":
            folders = True
        elif b"a" <= signature[:1] <= b"z":  # one git requires understood: `link` (split)...
            return None
        position += 8 + size
    return (names, folders) if position == end else None


def _varint(data: bytes, position: int) -> tuple[int, int]:
    """git's offset varint (each continuation byte adds one before shifting): value, next position."""
    byte = data[position]
    position += 1
    value = byte & 0x7F
    while byte & 0x80:
        if value > 1 << 32:
            raise ValueError("varint too long")
        byte = data[position]
        position += 1
        value = ((value + 1) << 7) | (byte & 0x7F)
    return value, position
