"""Fuzzing the contract of `snitch` and `snitch-pipeline` with Hypothesis.

A compliant rendered project (in a git repository) is mutated as a hostile or clumsy user
would (truncated, random bytes, byte-order marks, deep nesting, FIFOs, symlinks out of the
tree, huge files, a folder where a file belongs, a hostile `.git/config`), and the commands get
bad paths and values. Whatever the input, the contract holds:

* exit status 0, 1 or 2, and never "Traceback" or "internal error" on stdout or stderr;
* `--format json` prints valid JSON whenever the run could be done (exit 0 or 1);
* the checked tree is byte-for-byte unchanged, and nothing the project configures ever runs;
* every case ends within HANG_TIMEOUT_S (a hang detector, not a speed assertion).

Examples are derandomized (the same on every run) and bounded; the large runs are `slow`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from fixtures.checker import MODEL
from fixtures.template import git_commit_all

HANG_TIMEOUT_S = 60
FILES = (
    "README.md", ".gitlab-ci.yml", "model.py", "train.py", "evaluate.py", "serve.py", "openapi.yaml",
    "requirements.txt", "Dockerfile", ".gitignore", "tests/conftest.py", "tests/test_serve.py",
    "tests/test_model.py", ".git/HEAD", ".git/index", ".git/config",
)
NESTING = {".py": ("(", ")"), ".yaml": ("[", "]"), ".yml": ("{a: ", "}"), ".md": ("[", "]")}
FUZZ_SETTINGS = dict(
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],  # no shrinking: each example runs real commands
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)


@pytest.fixture(scope="session")
def git_project(rendered_project, tmp_path_factory) -> Path:
    project = tmp_path_factory.mktemp("fuzz-base") / MODEL
    shutil.copytree(rendered_project, project)
    return git_commit_all(project)


def snapshot(root: Path) -> dict[str, str]:
    """Every entry under root: its type, and the digest of a regular file or a link's target.
    Nothing is opened that is not a regular file."""
    found = {}
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            path = Path(folder, name)
            mode = path.lstat().st_mode
            relative = str(path.relative_to(root))
            if stat.S_ISLNK(mode):
                found[relative] = "link:" + os.readlink(path)
            elif stat.S_ISREG(mode):
                found[relative] = f"file:{stat.S_IMODE(mode):o}:" + hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                found[relative] = f"type:{stat.S_IFMT(mode):o}"
    return found


def assert_contract(done: subprocess.CompletedProcess, json_output: bool = False) -> None:
    output = done.stdout + done.stderr
    assert done.returncode in (0, 1, 2), (done.returncode, output[-3000:])
    assert "Traceback" not in output and "internal error" not in output, output[-3000:]
    if json_output and done.returncode in (0, 1):
        report = json.loads(done.stdout)
        assert report["summary"]["error"] == 0


def run(command: list[str], cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, capture_output=True, text=True, errors="replace", timeout=HANG_TIMEOUT_S, cwd=cwd,
        stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})},
    )


# --- mutations of a project ---------------------------------------------------------------------


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


# Mutations that write into the file: an earlier mutation's FIFO, link or folder is replaced first.
_CONTENT_KINDS = {"truncate", "random-bytes", "bom", "deep-nesting", "huge"}


def _make_writable(path: Path) -> None:
    if path.is_symlink() or (path.exists() and not path.is_file()):
        _remove(path)  # writing to a FIFO would block; to a link loop or a folder, fail


def mutate(project: Path, outside: Path, name: str, kind: str, data: bytes, position: float, evidence: Path) -> None:
    path = project / name
    if kind != "file-for-folder" and not path.parent.is_dir():
        return  # an earlier mutation replaced the file's folder (tests/ became a file)
    if kind in _CONTENT_KINDS:
        _make_writable(path)
    original = path.read_bytes() if path.is_file() else b""
    cut = int(len(original) * position)
    if kind == "truncate":
        path.write_bytes(original[:cut])
    elif kind == "random-bytes":
        path.write_bytes(original[:cut] + data + original[cut:])
    elif kind == "bom":
        path.write_bytes(b"\xef\xbb\xbf" + original)
    elif kind == "deep-nesting":
        opening, closing = NESTING.get(path.suffix, ("[", "]"))
        depth = 1000 + len(data) * 500
        path.write_bytes(original + f"\nx = {opening * depth}1{closing * depth}\n".encode())
    elif kind == "fifo":
        _remove(path)
        os.mkfifo(path)
    elif kind == "symlink-out":
        target = outside / "secret.txt"
        target.write_bytes(data or b"secret")
        _remove(path)
        path.symlink_to(target)
    elif kind == "symlink-loop":
        _remove(path)
        path.symlink_to(path.name)
    elif kind == "huge":
        with open(path, "ab") as handle:
            handle.truncate(3 * 1024 * 1024)
    elif kind == "folder-for-file":
        _remove(path)
        path.mkdir()
        (path / "inside").write_bytes(data)
    elif kind == "file-for-folder":
        _remove(project / "tests")
        (project / "tests").write_bytes(data)
    elif kind == "delete":
        _remove(path)
    elif kind == "hostile-git-config":
        _make_writable(project / ".git" / "config")
        with open(project / ".git" / "config", "a") as handle:
            handle.write(f"[core]\n\tfsmonitor = touch {evidence}\n\tpager = touch {evidence}\n"
                         f"[diff]\n\texternal = touch {evidence}\n")


KINDS = ("truncate", "random-bytes", "bom", "deep-nesting", "fifo", "symlink-out", "symlink-loop", "huge", "folder-for-file",
         "file-for-folder", "delete", "hostile-git-config")
mutations = st.lists(
    st.tuples(st.sampled_from(FILES), st.sampled_from(KINDS), st.binary(max_size=64), st.floats(0, 1)),
    min_size=1, max_size=3,
)


def check_mutated_project(git_project: Path, changes, output_format: str) -> None:
    with tempfile.TemporaryDirectory(prefix="snitch-fuzz-") as scratch:
        scratch = Path(scratch)
        project, outside, evidence = scratch / MODEL, scratch / "outside", scratch / "project-code-ran"
        shutil.copytree(git_project, project, symlinks=True)
        outside.mkdir()
        for name, kind, data, position in changes:
            mutate(project, outside, name, kind, data, position, evidence)
        before = snapshot(project)
        done = run([sys.executable, "-m", "snitch", "-n", MODEL, "-p", str(project), "--format", output_format])
        assert_contract(done, json_output=output_format == "json")
        assert snapshot(project) == before, "snitch changed the checked tree"
        assert not evidence.exists(), "snitch ran a command the project's git config set"


# Each finding of the issue once, whatever Hypothesis draws around them.
@example(changes=[(".gitignore", "fifo", b"", 0.0), (".git/index", "fifo", b"", 0.0)], output_format="json")
@example(changes=[(".gitlab-ci.yml", "deep-nesting", b"x" * 120, 1.0)], output_format="json")
@example(changes=[("serve.py", "deep-nesting", b"", 1.0), ("Dockerfile", "bom", b"", 0.0)], output_format="text")
@example(changes=[(".git/config", "hostile-git-config", b"", 0.0), ("README.md", "symlink-out", b"[x](s3://b/k)", 0.0)],
         output_format="json")
@example(changes=[("requirements.txt", "huge", b"", 0.0), ("tests/conftest.py", "folder-for-file", b"x", 0.0)],
         output_format="json")
@example(changes=[("serve.py", "symlink-loop", b"", 0.0), ("README.md", "symlink-loop", b"", 0.0)], output_format="json")
@settings(max_examples=12, **FUZZ_SETTINGS)
@given(changes=mutations, output_format=st.sampled_from(["json", "text"]))
def test_mutated_project_keeps_the_contract(git_project, changes, output_format):
    check_mutated_project(git_project, changes, output_format)


@pytest.mark.slow
@settings(max_examples=150, **FUZZ_SETTINGS)
@given(changes=mutations, output_format=st.sampled_from(["json", "text"]))
def test_mutated_project_keeps_the_contract_at_length(git_project, changes, output_format):
    check_mutated_project(git_project, changes, output_format)


# --- hostile arguments --------------------------------------------------------------------------


def special_paths(scratch: Path, content: bytes) -> dict[str, str]:
    """Paths a user might pass by mistake, made fresh in `scratch`."""
    fifo = scratch / "fifo"
    os.mkfifo(fifo)
    (scratch / "content.yaml").write_bytes(content)
    (scratch / "folder").mkdir()
    return {
        "missing": str(scratch / "missing" / "x"),
        "fifo": str(fifo),
        "dev-zero": "/dev/zero",
        "content": str(scratch / "content.yaml"),
        "folder": str(scratch / "folder"),
        "relative": "content.yaml",
        "empty": "",
    }


PATH_KINDS = st.sampled_from(["missing", "fifo", "dev-zero", "content", "folder", "relative", "empty"])
CONTENTS = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([
        b"coverage_floor: " + b"9" * 5000, b"bucket: 2026-13-45", b"- a\n- b", b"readme_links: [a]",
        b"x: " + b"[" * 70_000, b'{"manifests": [{"digest": "sha256:aa"}]}', b"\xef\xbb\xbfbucket: x",
        b"pipeline_ref_pattern: '(a+)+$'", b"coverage_floor: .nan",
    ]),
)
# Anything a shell can pass: no NUL (exec refuses it), no lone surrogates (not encodable).
ARGUMENT_TEXT = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=30)
TEXT_VALUES = ARGUMENT_TEXT | st.sampled_from([MODEL, MODEL + "\n", "-1", "99999999999999999999", "--help"])


def snitch_arguments(paths: dict, choice) -> list[str]:
    args = []
    for option, kind in choice["paths"]:
        args += [option, "oci:" + paths[kind] if option == "--image" and kind == "folder" else paths[kind]]
    if choice["name"] is not None:
        args += ["-n", choice["name"]]
    for number in choice["standards"]:
        args += ["-s", number]
    return args + ["--format", choice["format"]]


snitch_choices = st.fixed_dictionaries({
    "paths": st.lists(st.tuples(st.sampled_from(["--config", "--image", "--junitxml", "-p"]), PATH_KINDS), max_size=3),
    "name": st.none() | TEXT_VALUES,
    "standards": st.lists(st.sampled_from(["1", "6", "11", "-3", "x", "9" * 30]), max_size=2),
    "format": st.sampled_from(["json", "text", "xml"]),
    "content": CONTENTS,
})


def check_snitch_arguments(git_project: Path, choice) -> None:
    with tempfile.TemporaryDirectory(prefix="snitch-fuzz-") as scratch:
        scratch = Path(scratch)
        paths = special_paths(scratch, choice["content"])
        args = snitch_arguments(paths, choice)
        if "-p" not in args:
            args += ["-p", str(git_project)]
        before = snapshot(git_project)
        done = run([sys.executable, "-m", "snitch", *args], cwd=scratch)
        assert_contract(done, json_output="--format" in args and args[args.index("--format") + 1] == "json")
        assert snapshot(git_project) == before


@settings(max_examples=12, **FUZZ_SETTINGS)
@given(choice=snitch_choices)
def test_snitch_arguments_keep_the_contract(git_project, choice):
    check_snitch_arguments(git_project, choice)


@pytest.mark.slow
@settings(max_examples=100, **FUZZ_SETTINGS)
@given(choice=snitch_choices)
def test_snitch_arguments_keep_the_contract_at_length(git_project, choice):
    check_snitch_arguments(git_project, choice)


PIPELINE_COMMANDS = {
    "validate": lambda p: ["validate", p["content"]],
    "validate-special": lambda p: ["validate", p["fifo"]],
    "labels-dockerfile": lambda p: ["labels-dockerfile", p["content"]],
    "labels-dockerfile-zero": lambda p: ["labels-dockerfile", p["dev-zero"]],
    "history": lambda p: ["history", "-e", "dev", "--records-dir", str(Path(p["content"]).parent)],
    "render": lambda p: ["render", "-e", "dev", "-o", p["missing"]],
    "render-fifo": lambda p: ["render", "-e", "staging", "-o", p["fifo"]],
    "run-local": lambda p: ["run-local", str(Path(p["content"]).parent)],
    "check-image": lambda p: ["check-image", "--image", p["content"], "-p", str(Path(p["content"]).parent), "--junitxml", p["fifo"]],
    "deploy": lambda p: ["deploy", "-e", "dev", "--dry-run", "--metrics", p["content"], "--output-dir", p["missing"]],
}
pipeline_choices = st.fixed_dictionaries({
    "command": st.sampled_from(sorted(PIPELINE_COMMANDS)),
    "content": CONTENTS,
    "records": st.lists(CONTENTS, max_size=3),
    "environment": st.sampled_from(["dev", "staging", "", "prod\n", "../x"]),
})


def check_pipeline_arguments(choice) -> None:
    with tempfile.TemporaryDirectory(prefix="snitch-fuzz-") as scratch:
        scratch = Path(scratch)
        paths = special_paths(scratch, choice["content"])
        (scratch / ".gitlab-ci.yml").write_bytes(choice["content"])
        for number, content in enumerate(choice["records"]):
            (scratch / f"record-{number}.json").write_bytes(content)
        env = {
            "MODEL_NAME": MODEL, "CI_ENVIRONMENT_NAME": choice["environment"], "SNITCH_RECORDS_DIR": "",
            "WEIGHTS_URI": f"s3://ml-platform-bucket/{MODEL}/models/20240102T030405Z",
            "IMAGE_REPOSITORY": "registry.example.com/ml/iris", "IMAGE_DIGEST": "sha256:" + "ab" * 32,
            "CI_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567", "GITLAB_USER_LOGIN": "alice",
            "PATH": os.environ["PATH"],
        }
        done = run([sys.executable, "-m", "snitch.pipeline", *PIPELINE_COMMANDS[choice["command"]](paths)], cwd=scratch, env=env)
        assert_contract(done)


@settings(max_examples=12, **FUZZ_SETTINGS)
@given(choice=pipeline_choices)
def test_pipeline_arguments_keep_the_contract(choice):
    check_pipeline_arguments(choice)


@pytest.mark.slow
@settings(max_examples=80, **FUZZ_SETTINGS)
@given(choice=pipeline_choices)
def test_pipeline_arguments_keep_the_contract_at_length(choice):
    check_pipeline_arguments(choice)
