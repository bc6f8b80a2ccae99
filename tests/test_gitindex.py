"""snitch.gitindex reads which files git tracks from .git/index itself: it must list exactly what
`git ls-files` lists, for every index version and entry shape git writes, and step aside (None)
for whatever it does not read, never answer wrongly and never raise."""

from __future__ import annotations

import hashlib
import random
import subprocess
from pathlib import Path

import pytest

from fixtures.template import git
from snitch import gitindex

FOLDERS = ["datasets", "weights"]


def git_lists(root: Path, folders=FOLDERS) -> list[str]:
    """What git itself answers, run in the project folder as snitch would run it."""
    pathspecs = [f":(literal){folder}" for folder in folders]
    output = subprocess.run(["git", "ls-files", "-z", "--", *pathspecs], cwd=root, capture_output=True, check=True).stdout
    return list(dict.fromkeys(name.decode("utf-8", "replace") for name in output.split(b"\0") if name))


def read(root: Path, top: Path, folders=FOLDERS) -> list[str] | None:
    return gitindex.tracked_under(root.resolve(), (top / ".git").resolve(), folders)


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


def test_damaged_indexes_never_raise(tmp_path):
    """Random damage, checksum recomputed so the parser itself meets it: None or a list of paths."""
    make(tmp_path, NAMES)
    add_to_index_only(tmp_path, LONG)
    git("update-index", "--index-version", "4", cwd=tmp_path)
    index = tmp_path / ".git" / "index"
    original = index.read_bytes()
    chance = random.Random(7)
    for _ in range(500):
        body = bytearray(original[:-20])
        for _ in range(chance.randint(1, 4)):
            body[chance.randrange(len(body))] = chance.randrange(256)
        if chance.random() < 0.2:
            body = body[: chance.randrange(len(body))]
        index.write_bytes(bytes(body) + hashlib.sha1(bytes(body)).digest())
        answer = read(tmp_path, tmp_path)
        assert answer is None or all(isinstance(name, str) for name in answer)
