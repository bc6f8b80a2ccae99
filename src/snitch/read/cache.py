"""Results that depend only on a file's content and on snitch's own code, kept between runs under
the user's cache folder ($SNITCH_CACHE_DIR, else $XDG_CACHE_HOME/snitch, else ~/.cache/snitch).

An entry's key hashes everything its result depends on, so an entry is never stale: a changed file
or another snitch asks for another key. Entries are JSON text and are read back with json, never
pickle (a CI cache restored from another pipeline must not be able to run code); they are read
the way every file is (bounded, never blocking on a FIFO). A cache that cannot be read or written
only makes snitch slower, never wrong and never failing. The folder can be deleted at any time.

Whoever can write the folder (a CI cache restored from another pipeline) must not decide a
verdict, so every entry carries an HMAC of its kind, key and text under a key kept outside the
cache: $SNITCH_CACHE_KEY (a protected CI variable), else a per-user key made on first use
($XDG_DATA_HOME/snitch/cache-key, else ~/.local/share/snitch/cache-key, mode 0600). An entry
that fails is computed again. Nothing is followed through a symlink out of the folder: kind
folders and entries are opened without following symlinks, relative to the opened folder.

Each kind of entry keeps at most MAX_ENTRIES: reading an entry marks it used (its modification
time), and a store that finds more drops the least recently used half."""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import hmac
import os
import stat
from pathlib import Path

from snitch.read import files

# No entry is larger: a result that would be is computed again instead of stored.
MAX_ENTRY_BYTES = files.MAX_BYTES
# Entries of one kind kept (a few KB each for a model project's files): thousands of projects, or
# thousands of versions of one.
MAX_ENTRIES = 4096
KEY_ENV = "SNITCH_CACHE_KEY"
# A shorter secret could be guessed; 32 characters is what `secrets.token_hex(16)` gives.
MIN_KEY_CHARS = 32
KEY_BYTES = 32
_MAC_CHARS = 2 * hashlib.sha256().digest_size
_FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


class BadCacheKey(Exception):
    """$SNITCH_CACHE_KEY is set but cannot authenticate anything (the message says how to fix it)."""


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


def key_warning() -> str | None:
    """Why the cache is off for want of a usable key (None when it is on); BadCacheKey when
    $SNITCH_CACHE_KEY is too short to be a secret."""
    return _secret(*_key_sources())[1]


def _usable_secret() -> bytes | None:
    """The key, None when there is none (the commands said why, through key_warning)."""
    try:
        return _secret(*_key_sources())[0]
    except BadCacheKey:
        return None


def _key_sources() -> tuple:
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return os.environ.get(KEY_ENV), str(Path(data_home) / "snitch" / "cache-key"), str(cache_dir())


@functools.cache  # read (or made) once per process; the sources are arguments because tests change them
def _secret(from_environment: str | None, key_file: str, folder: str) -> tuple[bytes | None, str | None]:
    """The key entries are authenticated with, or None and why the cache is off."""
    if from_environment:
        if len(from_environment) < MIN_KEY_CHARS:
            raise BadCacheKey(
                f"{KEY_ENV} has {len(from_environment)} characters, too few to be a secret: set it to at least "
                f"{MIN_KEY_CHARS} random characters (`python3 -c 'import secrets; print(secrets.token_hex(32))'`), "
                "as a protected, masked CI variable, or unset it to use your own key"
            )
        return from_environment.encode(), None
    path = Path(key_file)
    if Path(os.path.realpath(path)).is_relative_to(os.path.realpath(folder)):
        return None, f"the cache is off: its key {path} would be inside the cache folder {folder}; set {KEY_ENV}"
    try:
        return _user_key(path), None
    except _Refused as refused:
        return None, f"the cache is off: its key {path} {refused}"


class _Refused(Exception):
    """Why a key file is not used (a phrase completing "<file> ...", with its fix)."""


def _user_key(path: Path) -> bytes:
    """The per-user key, made on first use: written whole under a temporary name, then linked to
    its name (never replacing one another snitch made meanwhile)."""
    with contextlib.suppress(FileNotFoundError):
        return _read_key(path)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.urandom(8).hex()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            os.write(descriptor, os.urandom(KEY_BYTES))  # the OS's CSPRNG, which `secrets` uses too
        finally:
            os.close(descriptor)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another snitch made it first: its key is the key
        finally:
            os.unlink(temporary)
        return _read_key(path)
    except FileNotFoundError:
        raise _Refused("vanished while it was made; run again") from None
    except OSError as error:
        raise _Refused(f"cannot be made ({error.strerror}); make its folder writable or set {KEY_ENV}") from None


def _read_key(path: Path) -> bytes:
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _Refused("is a symlink; delete it (a new key is made)") from None
        if isinstance(error, FileNotFoundError):
            raise
        raise _Refused(f"cannot be read ({error.strerror})") from None
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise _Refused("is not a regular file; delete it (a new key is made)")
        if status.st_uid != os.geteuid():
            raise _Refused("belongs to another user; delete it (a new key is made)")
        if status.st_mode & 0o077:
            raise _Refused(f"is open to other users (mode {stat.S_IMODE(status.st_mode):o}); delete it (a new key is made)")
        secret = os.read(descriptor, KEY_BYTES + 1)
    finally:
        os.close(descriptor)
    if len(secret) != KEY_BYTES:
        raise _Refused("is not a key snitch made; delete it (a new key is made)")
    return secret


def _mac(secret: bytes, kind: str, entry_key: str, text: str) -> str:
    # kind and key are names and hex digits: a NUL cannot occur in them, so the parts stay apart
    return hmac.new(secret, f"{kind}\0{entry_key}\0{text}".encode(), hashlib.sha256).hexdigest()


def _open_folder(kind: str, create: bool) -> int:
    """The kind's folder, opened without following a symlink (OSError when it is one). The cache
    folder itself is the user's choice and may be a symlink."""
    root = cache_dir()
    if create:
        root.mkdir(parents=True, exist_ok=True)
    parent = os.open(root, _FOLDER_FLAGS)
    try:
        if create:
            with contextlib.suppress(FileExistsError):
                os.mkdir(kind, 0o700, dir_fd=parent)
        return os.open(kind, _FOLDER_FLAGS | os.O_NOFOLLOW, dir_fd=parent)
    finally:
        os.close(parent)


def read(kind: str, entry_key: str) -> str | None:
    """The entry's text, None when there is none, it cannot be read or it fails authentication;
    the entry is marked used."""
    secret = _usable_secret()
    if secret is None:
        return None
    name = f"{entry_key}.json"
    try:
        folder = _open_folder(kind, create=False)
    except OSError:
        return None
    try:
        stored = files.decode(
            files.read_bytes(name, MAX_ENTRY_BYTES + _MAC_CHARS + 1, dir_fd=folder, follow_symlinks=False)
        )
        mac, _, text = stored.partition("\n")
        if not hmac.compare_digest(mac, _mac(secret, kind, entry_key, text)):
            return None  # not written by snitch with this key: computed again (and stored over)
        with contextlib.suppress(OSError):
            os.utime(name, dir_fd=folder, follow_symlinks=False)
        return text
    except files.Unreadable:
        return None
    finally:
        os.close(folder)


def store(kind: str, entry_key: str, text: str) -> None:
    """Write the entry atomically (a reader never sees half of it); skipped when too large, when
    there is no key or when the folder cannot be written."""
    secret = _usable_secret()
    if secret is None or len(text) > MAX_ENTRY_BYTES:
        return
    try:
        folder = _open_folder(kind, create=True)
    except OSError:
        return
    temporary = f".{os.urandom(8).hex()}.tmp"
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=folder)
        try:
            with open(descriptor, "w", encoding="utf-8", closefd=False) as handle:
                handle.write(f"{_mac(secret, kind, entry_key, text)}\n{text}")
        finally:
            os.close(descriptor)
        os.replace(temporary, f"{entry_key}.json", src_dir_fd=folder, dst_dir_fd=folder)
        _bound(folder)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=folder)
    finally:
        os.close(folder)


def _bound(folder: int) -> None:
    """Past MAX_ENTRIES, drop the least recently used entries down to half of it (another snitch
    may be doing the same: an entry already gone is fine). Names are unlinked in the opened
    folder: a symlink is removed, never what it points to."""
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
            os.unlink(entry.name, dir_fd=folder)
