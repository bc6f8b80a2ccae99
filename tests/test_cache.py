"""snitch's cache of results that depend only on what was read (snitch.read.cache): parsed YAML
documents and serve.py's facts (OpenAPI verdicts: test_openapi.py). An entry is never stale,
never trusted blindly, and a cache that cannot be used only costs time."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from snitch.facts import serve_summary, serve_analysis
from snitch.read import cache, safe_yaml
from snitch.read.project import Project
from snitch.read.safe_yaml import YamlProblem
from snitch.violation import FileProblem

REPOSITORY = Path(__file__).resolve().parents[1]
PADDING = "# " + "x" * safe_yaml.CACHED_FROM_CHARS + "\n"  # long enough to be cached


@pytest.fixture
def cache_folder(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("SNITCH_CACHE_DIR", str(folder))
    return folder


def entries(folder: Path) -> list[Path]:
    return sorted((folder / "yaml").glob("*.json")) if (folder / "yaml").is_dir() else []


def parser_must_not_run(monkeypatch):
    def fail(text):
        raise AssertionError("parsed again, though the cache holds the text's documents")

    monkeypatch.setattr(safe_yaml, "load_documents", fail)


def test_a_text_read_before_is_not_parsed_again(cache_folder, monkeypatch):
    text = PADDING + "openapi: 3.0.3\npaths:\n  /v2/health/live: {get: {responses: {'200': {description: ok}}}}\nx: [1, 2.5, true, null]\n"
    first = safe_yaml.load_documents_cached(text)
    assert first == safe_yaml.load_documents(text) and len(entries(cache_folder)) == 1
    parser_must_not_run(monkeypatch)
    assert safe_yaml.load_documents_cached(text) == first


def test_real_yaml_files_come_back_equal(cache_folder, rendered_project):
    """A rendered project's YAML files and the shared pipeline's (anchors, `!reference`, GitLab's spec header)."""
    paths = [*sorted(rendered_project.glob("*.y*ml")), *sorted((REPOSITORY / "ci").glob("*.yml"))]
    assert len(paths) >= 5
    for path in paths:
        text = path.read_text()
        fresh = safe_yaml.load_documents(text)
        assert safe_yaml.load_documents_cached(text) == fresh, path
        assert safe_yaml.load_documents_cached(text) == fresh, path
    assert len(entries(cache_folder)) >= 3  # openapi.yaml and the pipelines are long enough to be cached


def test_a_changed_text_is_parsed_again(cache_folder):
    before = safe_yaml.load_documents_cached(PADDING + "model_name: iris\n")
    after = safe_yaml.load_documents_cached(PADDING + "model_name: wine\n")
    assert before == [{"model_name": "iris"}] and after == [{"model_name": "wine"}]
    assert len(entries(cache_folder)) == 2


@pytest.mark.parametrize("body", [
    "responses:\n  200: {description: ok}\n",  # an integer key: JSON would make it "200"
    "released: 2026-01-31\n",  # a date
    "tags: !!set {a, b}\n",
    "ordered: !!omap [{a: 1}, {b: 2}]\n",  # a list of tuples
    "ratio: .nan\n",
])
def test_documents_json_cannot_give_back_are_not_stored(cache_folder, body):
    text = PADDING + body
    expected = repr(safe_yaml.load_documents(text))
    for _ in range(2):
        assert repr(safe_yaml.load_documents_cached(text)) == expected
    assert entries(cache_folder) == []


def test_an_invalid_text_is_reported_every_time(cache_folder):
    for _ in range(2):
        with pytest.raises(YamlProblem, match="not valid YAML"):
            safe_yaml.load_documents_cached(PADDING + "key: [unclosed\n")
    assert entries(cache_folder) == []


def test_short_texts_skip_the_cache(cache_folder):
    assert safe_yaml.load_documents_cached("a: 1\n") == [{"a": 1}]
    assert entries(cache_folder) == []


@pytest.mark.parametrize("tampered", ["not json", '{"a": 1}', "[" * 100_000 + "]" * 100_000, ""])
def test_an_entry_snitch_did_not_write_is_parsed_again(cache_folder, tampered):
    text = PADDING + "a: 1\n"
    safe_yaml.load_documents_cached(text)
    (entry,) = entries(cache_folder)
    entry.write_text(tampered)
    assert safe_yaml.load_documents_cached(text) == [{"a": 1}]


def test_a_fifo_in_the_cache_is_not_waited_for(cache_folder):
    text = PADDING + "a: 1\n"
    safe_yaml.load_documents_cached(text)
    (entry,) = entries(cache_folder)
    entry.unlink()
    os.mkfifo(entry)
    assert safe_yaml.load_documents_cached(text) == [{"a": 1}]  # would block for ever on a plain open


def test_an_unwritable_cache_only_costs_time(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("SNITCH_CACHE_DIR", str(blocker / "below-a-file"))
    assert safe_yaml.load_documents_cached(PADDING + "a: 1\n") == [{"a": 1}]


def test_entries_are_written_whole_and_leave_no_temporary_file(cache_folder):
    safe_yaml.load_documents_cached(PADDING + "a: [1, 2]\n")
    (entry,) = entries(cache_folder)
    assert json.loads(entry.read_text().partition("\n")[2]) == [{"a": [1, 2]}]  # after its MAC
    assert sorted(path.name for path in (cache_folder / "yaml").iterdir()) == [entry.name]


def test_entries_larger_than_the_bound_are_not_stored(cache_folder, monkeypatch):
    monkeypatch.setattr(cache, "MAX_ENTRY_BYTES", 5)
    assert safe_yaml.load_documents_cached(PADDING + "a: 1\n") == [{"a": 1}]
    assert entries(cache_folder) == []


def test_keys_tell_their_parts_apart():
    assert cache.key(b"ab", b"c") != cache.key(b"a", b"bc")
    assert cache.key(b"ab", b"c") == cache.key(b"ab", b"c")


# serve.py's facts (snitch.facts.serve_summary): kept under the answers to every question the analysis asked.

BASE = "import kserve\n\nclass Base(kserve.Model):\n    def load(self):\n        self.ready = True\n\n    def predict(self, p):\n        return p\n"
SERVE = "import ddtrace\nddtrace.patch(fastapi=True)\nfrom helpers import Base\n\nclass Iris(Base):\n    pass\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def fresh(root: Path):
    """The facts of a new analysis, bypassing the cache."""
    return serve_summary.summary(serve_analysis.analyse(Project(root, "m")))


def cached(root: Path):
    return serve_summary.facts(Project(root, "m"))


def analysis_must_not_run(monkeypatch):
    def fail(*args):
        raise AssertionError("analysed again, though the cache holds the facts")

    monkeypatch.setattr(serve_analysis, "analyse", fail)


def test_facts_of_an_unchanged_project_come_from_the_cache(cache_folder, monkeypatch, rendered_project, tmp_path):
    samples = Path(__file__).parent / "data" / "kserve_samples"
    roots = [rendered_project]
    for sample in sorted(path for path in samples.iterdir() if path.is_dir()):
        roots.append(shutil.copytree(sample, tmp_path / sample.name))
    expected = [fresh(root) for root in roots]
    assert [cached(root) for root in roots] == expected  # stored
    with monkeypatch.context() as patched:
        analysis_must_not_run(patched)
        assert [cached(root) for root in roots] == expected  # read back, equal


@pytest.mark.parametrize("change", [
    lambda root: write(root, {"helpers.py": BASE.replace("(kserve.Model)", "")}),  # a module's text
    lambda root: (root / "helpers.py").unlink(),  # a module gone
    lambda root: write(root, {"helpers/__init__.py": "class Base:\n    pass\n"}),  # a package beside it
    lambda root: write(root, {"src/helpers.py": "class Base:\n    pass\n", "helpers.py": "x = 1\n"}),
    lambda root: write(root, {"Dockerfile": 'FROM python:3.11\nCMD ["ddtrace-run", "python", "serve.py"]\n'}),
    lambda root: write(root, {"serve.py": SERVE.replace("ddtrace.patch(fastapi=True)\n", "")}),
], ids=["text", "removed", "package", "shadowed", "dockerfile", "entry"])
def test_facts_follow_any_change_to_what_the_analysis_read(cache_folder, tmp_path, change):
    root = write(tmp_path, {"serve.py": SERVE, "helpers.py": BASE, "Dockerfile": "FROM python:3.11\n"})
    before = cached(root)
    assert [cls.name for cls in before.classes] == ["Iris"]
    change(root)
    after = fresh(root)
    assert after != before  # each change matters to the verdict
    assert cached(root) == after


def test_an_analysis_that_could_not_read_a_module_is_not_stored(cache_folder, tmp_path):
    outside = write(tmp_path / "outside", {"helpers.py": BASE})
    root = write(tmp_path / "project", {"serve.py": SERVE})
    (root / "helpers.py").symlink_to(outside / "helpers.py")
    found = cached(root)
    assert "points outside the project" in found.problems["helpers.py"]
    assert cached(root) == found
    assert list((cache_folder / "serving").glob("*")) == []


def test_a_broken_serve_py_is_reported_every_time(cache_folder, tmp_path):
    root = write(tmp_path, {"serve.py": "class Iris(:\n"})
    for _ in range(2):
        with pytest.raises(FileProblem, match="syntax error"):
            cached(root)


@pytest.mark.parametrize("tampered", ["not json", "[]", '{"classes": 1}', '{"classes": [{"name": 1}]}', "[" * 100_000])
def test_facts_snitch_did_not_write_are_analysed_again(cache_folder, tmp_path, tampered):
    root = write(tmp_path, {"serve.py": SERVE, "helpers.py": BASE})
    expected = cached(root)
    for entry in (cache_folder / "serving").iterdir():
        entry.write_text(tampered)
    assert cached(root) == expected


def test_the_least_recently_used_entries_go_past_the_bound(cache_folder, monkeypatch):
    monkeypatch.setattr(cache, "MAX_ENTRIES", 4)
    keys = [cache.key(str(number).encode()) for number in range(5)]
    for age, entry_key in enumerate(keys[:4]):
        cache.store("kind", entry_key, "[]")
        os.utime(cache_folder / "kind" / f"{entry_key}.json", (1_000_000 + age, 1_000_000 + age))
    assert cache.read("kind", keys[0]) == "[]"  # the oldest, used again: now the most recent
    cache.store("kind", keys[4], "[]")  # five entries: down to two, the most recently used
    kept = sorted(path.stem for path in (cache_folder / "kind").iterdir())
    assert kept == sorted([keys[0], keys[4]])


# Whoever can write the cache (a CI cache restored from another pipeline, another user's folder)
# must not decide a verdict: entries are authenticated with a key kept outside the cache.


def forge(entry: Path, result: str) -> None:
    """Rewrite an entry's result the way someone with write access to the cache would, keeping
    the rest of what snitch wrote (its first line, when it has more than one)."""
    head, newline, _ = entry.read_text().partition("\n")
    entry.write_text(head + newline + result if newline else result)


def test_a_forged_openapi_verdict_does_not_pass_an_invalid_document(cache_folder, compliant):
    from fixtures.checker import run_checks

    path = compliant / "openapi.yaml"
    path.write_text(path.read_text().replace("openapi: 3.0.3", "openapi: 3.0.3\nbogus: 1", 1))
    assert run_checks(compliant, 7).failed() == {"test_openapi_is_valid_openapi3"}
    for entry in (cache_folder / "openapi").iterdir():
        forge(entry, "[]")
    assert run_checks(compliant, 7).failed() == {"test_openapi_is_valid_openapi3"}


def test_forged_facts_do_not_pass_a_broken_serve_py(cache_folder, compliant):
    """Facts copied from a compliant serve.py into the entries of a broken one (standards 4, 10)."""
    from fixtures.checker import run_checks

    def facts_entries():
        return [entry for entry in (cache_folder / "serving").iterdir() if '"classes"' in entry.read_text()]

    assert run_checks(compliant, 4, 10).code == 0
    (compliant_facts,) = facts_entries()
    good = compliant_facts.read_text().partition("\n")[2] or compliant_facts.read_text()
    serve = compliant / "serve.py"
    serve.write_text(serve.read_text().replace("ddtrace.patch(fastapi=True)", "pass").replace("kserve.Model", "object"))
    broken = run_checks(compliant, 4, 10).failed()
    assert {"test_serve_py_enables_ddtrace"} < broken
    for entry in facts_entries():
        if entry != compliant_facts:
            forge(entry, good)
    assert run_checks(compliant, 4, 10).failed() == broken


def test_an_entry_copied_under_another_key_is_not_used(cache_folder):
    """A valid entry of one text, copied under the key of another, is not that other's result."""
    first, second = PADDING + "a: 1\n", PADDING + "a: 2\n"
    safe_yaml.load_documents_cached(first)
    (entry,) = entries(cache_folder)
    safe_yaml.load_documents_cached(second)
    (other,) = [path for path in entries(cache_folder) if path != entry]
    other.write_bytes(entry.read_bytes())
    assert safe_yaml.load_documents_cached(second) == [{"a": 2}]


def test_an_entry_nested_900_deep_is_parsed_again(cache_folder, compliant):
    from fixtures.checker import run_checks

    run_checks(compliant, 7)
    for entry in (cache_folder / "yaml").iterdir():
        forge(entry, "[" * 900 + "]" * 900)
    for entry in (cache_folder / "openapi").iterdir():
        forge(entry, "[" * 900 + "]" * 900)
    assert run_checks(compliant, 7).code == 0


def test_a_symlinked_kind_folder_is_not_bounded_into_its_target(cache_folder, tmp_path, monkeypatch):
    monkeypatch.setattr(cache, "MAX_ENTRIES", 4)
    target = tmp_path / "elsewhere"
    target.mkdir()
    for number in range(10):
        (target / f"{number}.json").write_text("precious")
    cache_folder.mkdir()
    (cache_folder / "yaml").symlink_to(target)
    assert safe_yaml.load_documents_cached(PADDING + "a: 1\n") == [{"a": 1}]
    assert sorted(path.name for path in target.iterdir()) == sorted(f"{number}.json" for number in range(10))


def test_an_entry_that_is_a_symlink_is_not_followed(cache_folder, tmp_path):
    text = PADDING + "a: 1\n"
    safe_yaml.load_documents_cached(text)
    (entry,) = entries(cache_folder)
    target = tmp_path / "target.json"
    target.write_text(entry.read_text())
    os.utime(target, (1_000_000, 1_000_000))
    entry.unlink()
    entry.symlink_to(target)
    assert safe_yaml.load_documents_cached(text) == [{"a": 1}]
    assert target.stat().st_mtime == 1_000_000


# The key: $SNITCH_CACHE_KEY, else a per-user key made on first use, outside the cache.


@pytest.fixture
def user_key(tmp_path, monkeypatch, cache_folder) -> Path:
    """Where the per-user key is (no $SNITCH_CACHE_KEY)."""
    monkeypatch.delenv(cache.KEY_ENV)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path / "data" / "snitch" / "cache-key"


def test_a_per_user_key_is_made_on_first_use_readable_only_by_its_owner(user_key, cache_folder):
    text = PADDING + "a: 1\n"
    assert safe_yaml.load_documents_cached(text) == [{"a": 1}]
    assert user_key.stat().st_mode & 0o777 == 0o600 and len(user_key.read_bytes()) == cache.KEY_BYTES
    assert len(entries(cache_folder)) == 1 and cache.key_warning() is None
    assert sorted(path.name for path in user_key.parent.iterdir()) == ["cache-key"]  # no temporary left


def refuse_by_symlink(key: Path, tmp_path: Path) -> None:
    (tmp_path / "planted").write_bytes(b"k" * cache.KEY_BYTES)
    (tmp_path / "planted").chmod(0o600)
    key.symlink_to(tmp_path / "planted")


@pytest.mark.parametrize("refuse, reason", [
    (lambda key, tmp_path: key.chmod(0o620), "open to other users (mode 620)"),
    (lambda key, tmp_path: key.chmod(0o604), "open to other users (mode 604)"),
    (lambda key, tmp_path: (key.unlink(), refuse_by_symlink(key, tmp_path)), "is a symlink"),
    (lambda key, tmp_path: key.write_bytes(b"short"), "is not a key snitch made"),
], ids=["group-writable", "world-readable", "symlink", "truncated"])
def test_a_key_file_others_could_know_or_change_turns_the_cache_off(user_key, cache_folder, tmp_path, refuse, reason):
    text = PADDING + "a: 1\n"
    safe_yaml.load_documents_cached(text)
    refuse(user_key, tmp_path)
    cache._secret.cache_clear()
    assert reason in cache.key_warning() and "the cache is off" in cache.key_warning()
    (entry,) = entries(cache_folder)
    entry.write_text("[]")
    assert safe_yaml.load_documents_cached(text) == [{"a": 1}]
    assert entry.read_text() == "[]"  # nothing read, nothing stored


def test_a_key_inside_the_cache_folder_is_not_made(user_key, monkeypatch, tmp_path):
    monkeypatch.setenv("SNITCH_CACHE_DIR", str(tmp_path / "data"))
    assert "inside the cache folder" in cache.key_warning()
    assert not user_key.exists()


def test_the_key_from_the_environment_is_used_and_must_be_long(cache_folder, monkeypatch, compliant):
    from fixtures.checker import run_snitch

    monkeypatch.setenv(cache.KEY_ENV, "x" * cache.MIN_KEY_CHARS)
    assert cache.key_warning() is None
    monkeypatch.setenv(cache.KEY_ENV, "short")
    run = run_snitch(compliant, "-s", "3")
    assert run.code == 2 and "SNITCH_CACHE_KEY has 5 characters" in run.stderr and "token_hex" in run.stderr
    assert "Traceback" not in run.stderr


def test_entries_made_with_another_key_are_computed_again(cache_folder, monkeypatch):
    text = PADDING + "a: 1\n"
    safe_yaml.load_documents_cached(text)
    (entry,) = entries(cache_folder)
    before = entry.read_text()
    monkeypatch.setenv(cache.KEY_ENV, "y" * 64)
    parsed = []
    monkeypatch.setattr(safe_yaml, "load_documents", lambda text: parsed.append(text) or [{"a": 1}])
    assert safe_yaml.load_documents_cached(text) == [{"a": 1}] and parsed == [text]
    assert entry.read_text() != before  # stored again under the new key


def test_the_command_says_when_the_cache_is_off_and_still_runs(user_key, tmp_path, compliant):
    from fixtures.checker import run_snitch

    user_key.parent.mkdir(parents=True)
    refuse_by_symlink(user_key, tmp_path)
    run = run_snitch(compliant, "-s", "3", env={"XDG_DATA_HOME": str(tmp_path / "data")})
    assert run.code == 0, run.stdout + run.stderr
    assert "snitch: warning: the cache is off: its key" in run.stderr and "is a symlink" in run.stderr
