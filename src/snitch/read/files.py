"""The one way snitch and snitch-pipeline read a file: bounded, never blocking, never following
a FIFO, a device or /dev/zero into a hang or an endless read.

Every reason is a phrase that completes "<file> ..." (e.g. "is a FIFO (named pipe), not a
regular file"), so callers can name the file and add their own advice."""

from __future__ import annotations

import codecs
import json
import os
import re
import stat
from pathlib import Path

# No file snitch reads (a source file, a config, a record, an image description) is legitimately
# larger; refusing it keeps a hostile tree from filling memory.
MAX_BYTES = 2 * 1024 * 1024
# Parsers recurse once per nesting level (libyaml's composer in C, json and ast walks in Python);
# no configuration, record or source file nests anywhere near this deep.
MAX_DEPTH = 200
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[][{}]')

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class Unreadable(Exception):
    """Why a file cannot be used; `fix` says what to do, with `{file}` standing for its name."""

    def __init__(self, reason: str, fix: str = "replace {file} with a regular text file"):
        super().__init__(reason)
        self.fix = fix


def kind_of(mode: int) -> str | None:
    """What a file of this mode is, when it is anything but a regular file."""
    return next((name for test, name in _KINDS if test(mode)), None if stat.S_ISREG(mode) else "not a regular file")


def read_bytes(
    path: str | os.PathLike, limit: int = MAX_BYTES, *, dir_fd: int | None = None, follow_symlinks: bool = True
) -> bytes:
    """The file's bytes; Unreadable when it is missing, special, unreadable or over `limit` bytes.

    O_NONBLOCK makes opening a FIFO return at once (a plain open waits for a writer forever);
    fstat on the open descriptor then tells what was really opened, so a file swapped between
    a check and the open cannot slip through. With follow_symlinks=False a symlink is refused
    (it "cannot be opened"), also when it is swapped in between a check and the open."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
    try:
        descriptor = os.open(path, flags if follow_symlinks else flags | os.O_NOFOLLOW, dir_fd=dir_fd)
    except FileNotFoundError:
        raise Unreadable("does not exist", "create {file}") from None
    except PermissionError:
        raise Unreadable("cannot be read (permission denied)", "make {file} readable") from None
    except OSError as error:
        raise Unreadable(f"cannot be opened ({error.strerror})") from None
    try:
        status = os.fstat(descriptor)
        kind = kind_of(status.st_mode)
        if kind:
            raise Unreadable(f"is {kind}, not a regular file")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(descriptor, min(1024 * 1024, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as error:
        raise Unreadable(f"cannot be read ({error.strerror})") from None
    finally:
        os.close(descriptor)
    if size > limit:
        total = max(status.st_size, size)
        raise Unreadable(
            f"is {total / 1024 / 1024:.1f} MiB, too large (the limit is {limit / 1024 / 1024:g} MiB)",
            "keep {file} small; large data belongs in S3, not in the repository",
        )
    return b"".join(chunks)


def decode(data: bytes) -> str:
    """UTF-8 text, without the byte-order mark some editors put first; Unreadable for binary or
    other encodings, naming the first bad byte and its line."""
    if b"\0" in data:
        raise Unreadable("is a binary file, not UTF-8 text", "replace {file} with its text")
    skipped = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[skipped:].decode("utf-8")
    except UnicodeDecodeError as error:
        start = skipped + error.start
        line = data[:start].count(b"\n") + 1
        raise Unreadable(
            f"is not valid UTF-8 (byte {start}, line {line})",
            "re-save {file} as UTF-8, for example `iconv -f latin1 -t utf-8`",
        ) from None


def read_text(path: str | os.PathLike, limit: int = MAX_BYTES) -> str:
    return decode(read_bytes(path, limit))


def json_too_deep(text: str, limit: int = MAX_DEPTH) -> bool:
    """Does the JSON text nest deeper than `limit`? One linear pass; brackets in strings do not count."""
    if text.count("[") + text.count("{") <= limit:
        return False  # the quick bound: no more openings than the limit
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > limit:
                return True
        elif bracket in "]}":
            depth -= 1
    return False


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


def load_json(path: str | os.PathLike, limit: int = MAX_BYTES):
    """The JSON document in the file; Unreadable when the file or its JSON is unusable."""
    return parse_json(read_text(path, limit))


def parse_json(text: str):
    """Strict JSON (no NaN or Infinity), refused before parsing when it nests too deep."""
    if json_too_deep(text):
        raise Unreadable(f"nests more than {MAX_DEPTH} levels deep", "replace {file} with the JSON the tool wrote")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except ValueError as error:  # JSONDecodeError, NaN/Infinity, an integer of thousands of digits
        raise Unreadable(f"is not readable JSON ({error})", "replace {file} with the JSON the tool wrote") from None


class Unwritable(Exception):
    """Why an output file cannot be written; the message names it."""


def prepare_output(path: str | os.PathLike) -> Path:
    """Make sure a report can be written at `path` (creating its folder) before the work that
    produces it: a FIFO, a device or a folder there, or a read-only or impossible folder, is an
    Unwritable naming the path, not a crash at the end."""
    target = Path(path)
    try:
        kind = kind_of(target.stat().st_mode)
    except OSError:
        kind = None  # not there yet (or unreachable: the open below says why)
    if kind:
        raise Unwritable(f"{target} is {kind}, not a regular file")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK | os.O_CLOEXEC, 0o644)
    except OSError as error:
        raise Unwritable(f"{target}: {error.strerror} (write it to an existing, writable folder)") from None
    try:
        kind = kind_of(os.fstat(descriptor).st_mode)
    finally:
        os.close(descriptor)
    if kind:
        raise Unwritable(f"{target} is {kind}, not a regular file")
    return target


def describe(path: str | os.PathLike, problem: Unreadable) -> str:
    """One sentence naming the file, what is wrong, and the fix."""
    return f"{path} {problem}; {problem.fix.format(file=Path(path).name or path)}"
