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
from urllib.parse import unquote, urlsplit
from xml.etree import ElementTree

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
    """Every entry under root: its type and modification time, and the digest of a regular file
    or a link's target. Nothing is opened that is not a regular file."""
    found = {}
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            path = Path(folder, name)
            status = path.lstat()
            mode = status.st_mode
            relative = str(path.relative_to(root))
            if stat.S_ISLNK(mode):
                found[relative] = "link:" + os.readlink(path)
            elif stat.S_ISREG(mode):
                found[relative] = f"file:{stat.S_IMODE(mode):o}:" + hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                found[relative] = f"type:{stat.S_IFMT(mode):o}"
            found[relative] += f":mtime {status.st_mtime_ns}"
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


# --- the input kinds added since: the cache, .git/index, waivers, the org config, service inputs,
# control characters and markup in names and messages, every report format ------------------------

HOSTILE_TEXT = "\x01<x a='1'>&amp;]]>\x1b[31m\"\r"  # a control character, markup, an escape sequence
WAIVER_TEXTS = [
    "[tool.snitch]\nx = " + "[" * 1000 + "]" * 1000 + "\n",  # deeper than the TOML parser recurses
    '[tool.snitch.waivers."\u0663"]\nreason = "arabic-indic three"\nexpires = 2099-01-01\n',
    '[tool.snitch.waivers."3\\n"]\nreason = "trailing newline"\nexpires = 2099-01-01\n',
    '[tool.snitch.waivers."3"]\nreason = "\\u0001<b>markup</b>\\u001b[2J"\nexpires = 2099-01-01\n',
    '[tool.snitch.waivers."3"]\nreason = "old"\nexpires = 2001-01-01\n',
    "[tool.snitch.waivers]\n" + "".join(f'"9{number}" = 1\n' for number in range(3000)),
]
CONFIG_TEXTS = [
    "bucket: Not_A_Bucket\n", "teams: [Bad Team]\n", "replicas_limit: 0\n", "pipeline_ref_pattern: '(a|a)*$'\n",
    "readme_links: {logs: '(?(1)a|b)'}\n", "x: !!bool abc\n", "bucket: !!timestamp abc\n", f"docs_url: '{HOSTILE_TEXT}'\n",
    "mandatory: [3, 99]\n", "[" * 300 + "]" * 300 + "\n",
]
SERVICE_LINES = [  # a line of the include's inputs replaced (standard 11 reads them)
    ('team: "ml-team"', f"team: {json.dumps(HOSTILE_TEXT)}"), ('cpu: "500m"', "cpu: !!bool abc"),
    ('memory: "1Gi"', "memory: [" + "[" * 300 + "]" * 300 + "]"), ("min_replicas: 1", "min_replicas: -1"),
    ("max_replicas: 3", "max_replicas: 1e309"), ("latency_slo_ms:", "latency_slo_ms: !!timestamp abc\n      x:"),
]
CACHE_SHAPES = ("forged", "deep", "symlinked-kind", "symlinked-entries", "fifo-kind")
NEW_KINDS = ("cache", "index-folder-entry", "index-random", "waivers", "control-markup", "service", "yaml-tag")
new_changes = st.lists(
    st.tuples(st.sampled_from(NEW_KINDS), st.integers(0, 1000), st.binary(max_size=32)), min_size=1, max_size=3,
)
new_cases = st.fixed_dictionaries({
    "changes": new_changes,
    "config": st.none() | st.sampled_from(CONFIG_TEXTS),
    "format": st.sampled_from(["json", "sarif", "codequality"]),
})


@pytest.fixture(scope="session")
def filled_cache(git_project, tmp_path_factory) -> Path:
    """A cache that a run of snitch on the compliant project filled (under this session's key)."""
    folder = tmp_path_factory.mktemp("fuzz-cache")
    done = run([sys.executable, "-m", "snitch", "-n", MODEL, "-p", str(git_project), "--format", "json"],
               env={"SNITCH_CACHE_DIR": str(folder)})
    assert done.returncode == 0, done.stdout + done.stderr
    return folder


def hostile_cache(filled: Path, cache: Path, outside: Path, shape: str) -> None:
    """The cache as whoever can write it (a CI cache) could leave it."""
    shutil.copytree(filled, cache)
    kinds = sorted(path for path in cache.iterdir() if path.is_dir())
    for kind in kinds:
        entries = sorted(kind.iterdir())
        if shape == "forged":
            for entry in entries:
                entry.write_text("[]")
        elif shape == "deep":
            for entry in entries:
                entry.write_text("[" * 900 + "]" * 900)
        elif shape == "symlinked-kind":
            target = outside / f"precious-{kind.name}"
            target.mkdir()
            for number in range(20):
                (target / f"{number}.json").write_text("precious")
            shutil.rmtree(kind)
            kind.symlink_to(target)
        elif shape == "symlinked-entries":
            for number, entry in enumerate(entries):
                target = outside / f"entry-{kind.name}-{number}.json"
                target.write_text(entry.read_text())
                entry.unlink()
                entry.symlink_to(target)
        elif shape == "fifo-kind":
            shutil.rmtree(kind)
            os.mkfifo(kind)


def folder_entry_index(index: Path) -> None:
    """The index's first entry given a folder's mode, its checksum recomputed: git would expand it,
    writing tree objects."""
    data = bytearray(index.read_bytes())
    data[12 + 24 : 12 + 28] = (0o040000).to_bytes(4, "big")
    data[-20:] = hashlib.sha1(bytes(data[:-20])).digest()
    index.write_bytes(bytes(data))


def new_mutation(project: Path, kind: str, number: int, data: bytes) -> None:
    if kind == "index-folder-entry":
        folder_entry_index(project / ".git" / "index")
    elif kind == "index-random":
        index = project / ".git" / "index"
        body = bytearray(index.read_bytes()[:-20])
        body[12 + number % (len(body) - 12)] = data[0] if data else 0xFF
        index.write_bytes(bytes(body) + hashlib.sha1(bytes(body)).digest())
    elif kind == "waivers":
        with open(project / "pyproject.toml", "a", encoding="utf-8") as handle:
            handle.write("\n" + WAIVER_TEXTS[number % len(WAIVER_TEXTS)])
    elif kind == "control-markup":
        requirements = (project / "requirements.txt").read_text().splitlines()
        requirements.insert(5, HOSTILE_TEXT.replace("\r", "") + data.decode("latin-1").replace("\n", " "))
        (project / "requirements.txt").write_text("\n".join(requirements) + "\n")
        name = f"w<&>\"'{number}\x01\x1b.bin"  # tracked under weights/: located in every report
        (project / "weights").mkdir(exist_ok=True)
        (project / "weights" / name).write_bytes(data)
        subprocess.run(["git", "add", "-f", f"weights/{name}"], cwd=project, check=True, capture_output=True)
    elif kind == "service":
        old, new = SERVICE_LINES[number % len(SERVICE_LINES)]
        text = (project / ".gitlab-ci.yml").read_text()
        (project / ".gitlab-ci.yml").write_text(text.replace(old, new, 1))
    elif kind == "yaml-tag":
        target = project / ("openapi.yaml" if number % 2 else ".gitlab-ci.yml")
        with open(target, "a") as handle:
            handle.write("\nx: " + ("!!bool abc" if number % 3 else "!!timestamp abc") + "\n")


def assert_reports_well_formed(done: subprocess.CompletedProcess, output_format: str, junit: Path, codequality: Path,
                               project: Path) -> set:
    """Every report parses, every location is a real path inside the project; the verdict: the
    findings (check and severity) of the Code Quality report."""
    if done.returncode == 2:
        return set()
    ElementTree.parse(junit)  # well-formed XML whatever the project holds
    issues = json.loads(codequality.read_text())
    for issue in issues:
        location = issue["location"]["path"]
        assert location == "." or not location.startswith("/") and ", " not in location and ".." not in location.split("/"), issue
        assert issue["location"]["lines"]["begin"] >= 1
    if output_format == "json":
        assert json.loads(done.stdout)["summary"]["error"] == 0
    elif output_format == "sarif":
        log = json.loads(done.stdout)
        base = urlsplit(log["runs"][0]["originalUriBaseIds"]["PROJECTROOT"]["uri"])
        assert (base.scheme, base.query, base.fragment) == ("file", "", "") and unquote(base.path) == f"{project}/"
        for result in log["runs"][0]["results"]:
            for location in result.get("locations", []):
                uri = location["physicalLocation"]["artifactLocation"]["uri"]
                parts = urlsplit(uri)
                assert not parts.scheme and not parts.fragment and not parts.query, uri
                assert all(0x20 < ord(character) < 0x7F for character in uri), uri  # percent-encoded
    else:
        assert json.loads(done.stdout) == issues
    return {(issue["check_name"], issue["severity"]) for issue in issues}


def check_new_inputs(git_project: Path, filled_cache: Path, case) -> None:
    with tempfile.TemporaryDirectory(prefix="snitch-fuzz-") as scratch:
        scratch = Path(scratch)
        project, outside, cache = scratch / "team #1 50% ?" / MODEL, scratch / "outside", scratch / "cache"
        shutil.copytree(git_project, project, symlinks=True)
        outside.mkdir()
        shapes = []
        for kind, number, data in case["changes"]:
            if kind == "cache":
                shapes.append(CACHE_SHAPES[number % len(CACHE_SHAPES)])
            else:
                new_mutation(project, kind, number, data)
        if shapes:
            hostile_cache(filled_cache, cache, outside, shapes[0])
        options = []
        if case["config"] is not None:
            (scratch / "org.yaml").write_text(case["config"])
            options = ["--config", str(scratch / "org.yaml")]
        before, outside_before = snapshot(project), snapshot(outside)

        def checked(cache_folder: Path) -> subprocess.CompletedProcess:
            junit, codequality = scratch / "snitch.xml", scratch / "gl-code-quality.json"
            done = run([sys.executable, "-m", "snitch", "-n", MODEL, "-p", str(project), "--format", case["format"],
                        "--junitxml", str(junit), "--codequality", str(codequality), *options],
                       env={"SNITCH_CACHE_DIR": str(cache_folder)})
            assert_contract(done, json_output=case["format"] == "json")
            return done, assert_reports_well_formed(done, case["format"], junit, codequality, project)

        done, verdict = checked(cache)
        assert snapshot(project) == before, "snitch changed the checked tree"
        assert snapshot(outside) == outside_before, "snitch changed files outside the cache through a symlink"
        if shapes:  # whatever the cache held, the verdict is the one of an empty cache
            fresh, fresh_verdict = checked(scratch / "empty-cache")
            assert (done.returncode, verdict) == (fresh.returncode, fresh_verdict)


# Every finding of issue 18 in three runs (each twice: with the hostile cache, then an empty one);
# Hypothesis draws more in the slow run.
@example(case={"changes": [("cache", 0, b""), ("index-folder-entry", 0, b""), ("control-markup", 1, b"\x02")],
               "config": None, "format": "sarif"})
@example(case={"changes": [("cache", 2, b""), ("waivers", 0, b""), ("yaml-tag", 2, b"")], "config": "teams: [Bad Team]\n",
               "format": "json"})
@example(case={"changes": [("cache", 3, b""), ("service", 0, b""), ("waivers", 5, b"")], "config": None,
               "format": "codequality"})
@settings(max_examples=3, **{**FUZZ_SETTINGS, "phases": [Phase.explicit]})
@given(case=new_cases)
def test_new_input_kinds_keep_the_contract(git_project, filled_cache, case):
    check_new_inputs(git_project, filled_cache, case)


@pytest.mark.slow
# 60 drawn cases keep the suite in its time budget; benchmarks/bench_hostile.py runs the long campaign.
@settings(max_examples=60, **FUZZ_SETTINGS)
@given(case=new_cases)
def test_new_input_kinds_keep_the_contract_at_length(git_project, filled_cache, case):
    check_new_inputs(git_project, filled_cache, case)
