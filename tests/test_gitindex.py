"""snitch.read.git_index reads which files git tracks from .git/index itself: it must list exactly what
`git ls-files` lists, for every index version and entry shape git writes, and step aside (None)
for whatever it does not read, never answer wrongly and never raise."""

from __future__ import annotations

import hashlib
import random
import subprocess
from pathlib import Path

import pytest

from fixtures.template import git
from snitch.read import git as read_git
from snitch.read import git_index

FOLDERS = ["datasets", "weights"]


def git_lists(root: Path, folders=FOLDERS) -> list[str]:
    """What git itself answers, run in the project folder as snitch would run it."""
    pathspecs = [f":(literal){folder}" for folder in folders]
    output = subprocess.run(["git", "ls-files", "-z", "--", *pathspecs], cwd=root, capture_output=True, check=True).stdout
    return list(dict.fromkeys(name.decode("utf-8", "replace") for name in output.split(b"\0") if name))


def read(root: Path, top: Path, folders=FOLDERS) -> list[str] | None:
    git_dir = (top / ".git").resolve()
    prefix = git_index.work_tree_prefix(root.resolve(), git_dir)
    return None if prefix is None else git_index.tracked_under(git_dir, prefix, folders)


def make(top: Path, names: list[str], project: str = "") -> Path:
    git("init", "-q", cwd=top)
    root = top / project if project else top
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    git("add", "-A", cwd=top)
    git("commit", "-qm", "files", cwd=top)
    return root


NAMES = [
    "datasets/.gitkeep", "datasets/train.csv", "datasets/deep/er/x.parquet", "datasets2/other.csv",
    "weights", "weights-old/w.bin", "serve.py", "données/é.txt", "datasets/ünïcödé.csv",
]
# A path over 4,095 bytes: the entry's flags cannot hold its length. No file system takes it, so it
# is put in the index only (as a deleted file is).
LONG = "datasets/" + "/".join(["long-folder-name"] * 260) + "/f.csv"


def add_to_index_only(top: Path, name: str) -> None:
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=top, input=b"x", capture_output=True, check=True)
    git("update-index", "--add", "--cacheinfo", f"100644,{blob.stdout.decode().strip()},{name}", cwd=top)


@pytest.mark.parametrize("version", [2, 3, 4])
@pytest.mark.parametrize("project", ["", "models/iris"])
def test_the_index_is_read_as_git_lists_it(tmp_path, version, project):
    root = make(tmp_path, NAMES, project)
    add_to_index_only(tmp_path, f"{project}/{LONG}".lstrip("/"))
    git("update-index", "--index-version", str(version), cwd=tmp_path)
    (root / "datasets" / "new.csv").write_text("x")
    git("add", "--intent-to-add", (root / "datasets" / "new.csv").relative_to(tmp_path).as_posix(), cwd=tmp_path)  # extended flags
    (root / "datasets" / "train.csv").unlink()  # deleted in the work tree, still tracked
    expected = git_lists(root)
    assert len(expected) == 7 and any(len(name) > 4095 for name in expected)
    assert read(root, tmp_path) == expected
    assert read(root, tmp_path, ["serve.py", "données", "nothing"]) == git_lists(root, ["serve.py", "données", "nothing"])


def test_a_merge_conflict_lists_each_path_once(tmp_path):
    root = make(tmp_path, ["datasets/a.csv"])
    git("checkout", "-qb", "other", cwd=root)
    (root / "datasets" / "a.csv").write_text("theirs")
    git("commit", "-qam", "theirs", cwd=root)
    git("checkout", "-q", "-", cwd=root)
    (root / "datasets" / "a.csv").write_text("ours")
    git("commit", "-qam", "ours", cwd=root)
    subprocess.run(["git", "merge", "-q", "other"], cwd=root, capture_output=True)  # conflicts: stages 1 to 3
    assert read(root, tmp_path) == git_lists(root) == ["datasets/a.csv"]


def test_no_index_yet_tracks_nothing(tmp_path):
    git("init", "-q", cwd=tmp_path)
    assert read(tmp_path, tmp_path) == [] == git_lists(tmp_path)


@pytest.mark.parametrize("setup", [
    lambda top: git("update-index", "--split-index", cwd=top),  # entries in another file: a `link` extension
    lambda top: git("config", "core.worktree", str(top), cwd=top),
    lambda top: git("config", "include.path", "other.config", cwd=top),
    lambda top: (top / ".git" / "index").write_bytes(b"DIRC" + bytes(40)),  # a checksum that does not hold
    lambda top: (top / ".git" / "HEAD").unlink(),  # no repository git would recognise
    lambda top: (top / "datasets" / "HEAD").write_text("ref: refs/heads/main\n"),  # a folder git may take for one
], ids=["split-index", "worktree", "include", "checksum", "no-head", "head-file"])
def test_what_it_does_not_read_is_left_to_git(tmp_path, setup):
    make(tmp_path, NAMES[:3])
    setup(tmp_path)
    root = tmp_path / "datasets" if (tmp_path / "datasets" / "HEAD").exists() else tmp_path
    assert read(root, tmp_path) is None


def test_a_sha256_repository_is_left_to_git(tmp_path):
    result = subprocess.run(["git", "init", "-q", "--object-format=sha256"], cwd=tmp_path, capture_output=True)
    if result.returncode != 0:  # git older than 2.29
        pytest.skip("this git cannot make a SHA-256 repository")
    assert read(tmp_path, tmp_path) is None


def test_a_redirecting_environment_is_left_to_git(tmp_path, monkeypatch):
    make(tmp_path, NAMES[:3])
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "elsewhere"))
    assert read(tmp_path, tmp_path) is None


def damaged(index: Path, seed: int, count: int, most: int = 4):
    """`count` times: random damage to the index, its checksum recomputed so the parser itself
    meets it (sometimes cut short when `most` allows several changes)."""
    original = index.read_bytes()
    chance = random.Random(seed)
    for _ in range(count):
        body = bytearray(original[:-20])
        for _ in range(chance.randint(1, most)):
            body[chance.randrange(12, len(body))] = chance.randrange(256)
        if most > 3 and chance.random() < 0.2:
            body = body[: chance.randrange(len(body))]
        index.write_bytes(bytes(body) + hashlib.sha1(bytes(body)).digest())
        yield bytes(body)


def test_damaged_indexes_never_raise(tmp_path):
    """None or a list of paths, whatever the damage."""
    make(tmp_path, NAMES)
    add_to_index_only(tmp_path, LONG)
    git("update-index", "--index-version", "4", cwd=tmp_path)
    for _ in damaged(tmp_path / ".git" / "index", seed=7, count=500):
        answer = read(tmp_path, tmp_path)
        assert answer is None or all(isinstance(name, str) for name in answer)

def git_answers(root: Path) -> list[str] | None:
    """git ls-files' answer, None when git refuses the index."""
    pathspecs = [f":(literal){folder}" for folder in FOLDERS]
    done = subprocess.run(["git", "ls-files", "-z", "--", *pathspecs], cwd=root, capture_output=True)
    if done.returncode != 0:
        return None
    return list(dict.fromkeys(name.decode("utf-8", "replace") for name in done.stdout.split(b"\0") if name))


def rewrite_entries(index: Path, change) -> None:
    """Apply `change` to the index's (version 2) entries, a list of bytearrays, and write it back
    with a checksum that holds (extensions dropped)."""
    data = index.read_bytes()
    count, position, entries = int.from_bytes(data[8:12], "big"), 12, []
    for _ in range(count):
        size = (62 + data.index(b"\0", position + 62) - (position + 62) + 8) & ~7
        entries.append(bytearray(data[position : position + size]))
        position += size
    entries = change(entries)
    body = data[:8] + len(entries).to_bytes(4, "big") + b"".join(entries)
    index.write_bytes(body + hashlib.sha1(body).digest())


def name_length(entry: bytearray, length: int) -> bytearray:
    entry[60:62] = ((int.from_bytes(entry[60:62], "big") & ~0xFFF) | length).to_bytes(2, "big")
    return entry


def test_an_entry_whose_flags_disagree_with_its_name_is_not_read(tmp_path):
    """The flags say 3 bytes, the NUL comes later: git reads another name, or refuses the index."""
    make(tmp_path, ["datasets/a.csv", "datasets/b.csv", "weights/w.bin"])
    git("update-index", "--index-version", "2", cwd=tmp_path)
    rewrite_entries(tmp_path / ".git" / "index", lambda entries: [name_length(entries[0], 3), *entries[1:]])
    assert git_answers(tmp_path) != ["datasets/a.csv", "datasets/b.csv", "weights/w.bin"]
    assert read(tmp_path, tmp_path) is None


def test_damaged_indexes_are_read_as_git_reads_them_or_left_to_git(tmp_path):
    """What the reader answers for a damaged index is what git answers; where git refuses it, so does the reader."""
    make(tmp_path, NAMES)
    for body in damaged(tmp_path / ".git" / "index", seed=18, count=120, most=3):
        answer = read(tmp_path, tmp_path)
        assert answer is None or answer == git_answers(tmp_path), body.hex()

def snapshot(folder: Path) -> dict:
    return {path: (path.stat().st_mtime_ns, path.stat().st_size) for path in folder.rglob("*")}


def test_git_is_not_asked_to_read_an_index_it_would_write_objects_for(tmp_path):
    """A folder-mode entry makes git expand the index, writing tree objects into .git/objects."""
    root = make(tmp_path, ["datasets/a.csv", "serve.py"])
    git("update-index", "--index-version", "2", cwd=tmp_path)

    def as_folder(entries):
        entries[0][24:28] = (0o040000).to_bytes(4, "big")
        return entries

    rewrite_entries(tmp_path / ".git" / "index", as_folder)
    before = snapshot(tmp_path / ".git")
    repository = read_git.open_repository(root)
    with pytest.raises(read_git.GitUnavailable, match="folder entry"):
        repository.tracked_under(FOLDERS)
    with pytest.raises(read_git.GitUnavailable, match="folder entry"):
        repository.which_ignored(["datasets/any-file"])
    assert snapshot(tmp_path / ".git") == before


# Whether datasets/ and weights/ are ignored: settled by the project's own .gitignore when it can
# be (read_git.GitInfo._surely_ignored), else asked of git. Either way, git's answer.

ASKED = ["datasets/any-file", "weights/any-file"]


def git_ignores(root: Path, asked=ASKED) -> set[str]:
    done = subprocess.run(["git", "check-ignore", "-z", "--stdin"], cwd=root, input="".join(f"{a}\0" for a in asked).encode(),
                          capture_output=True)
    assert done.returncode in (0, 1), done.stderr
    return {name.decode() for name in done.stdout.split(b"\0") if name}


@pytest.mark.parametrize("gitignore, settled", [
    ("datasets/\nweights/\n", True),
    ("/datasets\n/weights/\n*.pyc\n", True),
    ("datasets\r\nweights/  \r\n", True),  # CRLF and trailing spaces, as git trims them
    ("datasets/\n", False),  # weights/ left to git
    ("datasets/\nweights/\n!weights/keep\n", False),  # a negation: left to git
    ("datasets/\nweights/\n!datasets/\n", False),  # one that changes git's answer
    (" datasets/\n weights/\n", False),  # a leading space is part of the pattern
    ("datasets/*\nweights/**\n", False),  # contents, not the folders: left to git
    ("\\!datasets/\nweights/\n", False),
    ("# datasets/\nweights/\n", False),
    ("", False),
])
@pytest.mark.parametrize("project", ["", "models/iris"])
def test_the_projects_gitignore_settles_only_what_git_would_answer_alike(tmp_path, monkeypatch, gitignore, settled, project):
    root = make(tmp_path, ["serve.py"], project)
    (root / ".gitignore").write_text(gitignore)
    (tmp_path / ".git" / "info").mkdir(exist_ok=True)
    (tmp_path / ".git" / "info" / "exclude").write_text("!datasets/\n!weights/\n")  # ranks below .gitignore
    if project:
        (tmp_path / ".gitignore").write_text("!datasets/\n!weights/\n")  # ranks below the project's own
    calls = []
    run_git = read_git.run_git
    monkeypatch.setattr(read_git, "run_git", lambda *args, **kwargs: calls.append(args[1]) or run_git(*args, **kwargs))
    repository = read_git.open_repository(root)
    assert repository.which_ignored(ASKED) == git_ignores(root)
    assert calls == ([] if settled else ["check-ignore"])


@pytest.mark.parametrize("setup", [
    lambda root: add_to_index_only(root, "datasets/any-file"),  # tracked: git never ignores it
    lambda root: (root / ".gitignore").unlink() or (root / ".gitignore").symlink_to("real.gitignore"),
    lambda root: git("config", "core.ignorecase", "true", cwd=root),
    lambda root: (root / "datasets").mkdir() or (root / "datasets" / ".gitignore").write_text("!any-file\n"),
], ids=["tracked", "symlinked-gitignore", "ignorecase", "deeper-gitignore"])
def test_what_the_gitignore_cannot_settle_is_asked_of_git(tmp_path, monkeypatch, setup):
    root = make(tmp_path, ["serve.py"])
    (root / ".gitignore").write_text("datasets/\nweights/\n")
    (root / "real.gitignore").write_text("datasets/\nweights/\n")
    setup(root)
    expected = git_ignores(root)
    assert read_git.open_repository(root).which_ignored(ASKED) == expected
    settled = read_git.open_repository(root)._surely_ignored(ASKED)
    assert not settled or expected == set(ASKED)  # settling is only ever right
