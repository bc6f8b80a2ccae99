"""Results that depend only on a file's content and on snitch's own code, kept between runs under
the user's cache folder ($SNITCH_CACHE_DIR, else $XDG_CACHE_HOME/snitch, else ~/.cache/snitch).

An entry's key hashes everything its result depends on, so an entry is never stale: a changed file
or another snitch asks for another key. Entries are JSON text and are read back with json, never
pickle (a CI cache restored from another pipeline must not be able to run code); they are read
the way every file is (bounded, never blocking on a FIFO). A cache that cannot be read or written
only makes snitch slower, never wrong and never failing. The folder can be deleted at any time.

Each kind of entry keeps at most MAX_ENTRIES: reading an entry marks it used (its modification
time), and a store that finds more drops the least recently used half."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import tempfile
from pathlib import Path

from snitch import files

# No entry is larger: a result that would be is computed again instead of stored.
MAX_ENTRY_BYTES = files.MAX_BYTES
# Entries of one kind kept (a few KB each for a model project's files): thousands of projects, or
# thousands of versions of one.
MAX_ENTRIES = 4096


def cache_dir() -> Path:
    chosen = os.environ.get("SNITCH_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    base = Path(chosen) if chosen else Path.home() / ".cache"
    return base if os.environ.get("SNITCH_CACHE_DIR") else base / "snitch"


@functools.cache
def code_version(module_file: str, *versions: str) -> bytes:
    """What a cached result depends on besides its input: the source of the module that computes
    it (so a new snitch never reads an older one's entries) and the versions of the libraries it
    calls."""
    return Path(module_file).read_bytes() + "\0".join(versions).encode()


def key(*parts: bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:  # length-prefixed: ("ab", "c") and ("a", "bc") differ
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def read(kind: str, entry_key: str) -> str | None:
    """The entry's text, None when there is none (or it cannot be read); the entry is marked used."""
    entry = cache_dir() / kind / f"{entry_key}.json"
    try:
        text = files.read_text(entry, MAX_ENTRY_BYTES)
    except files.Unreadable:
        return None
    with contextlib.suppress(OSError):
        os.utime(entry)
    return text


def store(kind: str, entry_key: str, text: str) -> None:
    """Write the entry atomically (a reader never sees half of it); skipped when too large or
    when the folder cannot be written."""
    if len(text) > MAX_ENTRY_BYTES:
        return
    folder, written = cache_dir() / kind, None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=folder, prefix=".", delete=False, encoding="utf-8") as handle:
            written = handle.name
            handle.write(text)
        os.replace(written, folder / f"{entry_key}.json")
    except OSError:
        if written:
            with contextlib.suppress(OSError):
                os.unlink(written)
        return
    _bound(folder)


def _bound(folder: Path) -> None:
    """Past MAX_ENTRIES, drop the least recently used entries down to half of it (another snitch
    may be doing the same: an entry already gone is fine)."""
    try:
        with os.scandir(folder) as found:
            entries = [entry for entry in found if entry.name.endswith(".json") and not entry.name.startswith(".")]
        if len(entries) <= MAX_ENTRIES:
            return
        used = sorted(entries, key=lambda entry: entry.stat(follow_symlinks=False).st_mtime_ns)
    except OSError:
        return
    for entry in used[: len(used) - MAX_ENTRIES // 2]:
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
