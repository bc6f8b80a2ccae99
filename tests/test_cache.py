"""snitch's cache of results that depend only on what was read (snitch.cache): parsed YAML
documents and serve.py's facts (OpenAPI verdicts: test_openapi.py). An entry is never stale,
never trusted blindly, and a cache that cannot be used only costs time."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from snitch import cache, safe_yaml, serve_facts, serving
from snitch.project import Project
from snitch.safe_yaml import YamlProblem
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
    assert json.loads(entry.read_text()) == [{"a": [1, 2]}]
    assert sorted(path.name for path in (cache_folder / "yaml").iterdir()) == [entry.name]


def test_entries_larger_than_the_bound_are_not_stored(cache_folder, monkeypatch):
    monkeypatch.setattr(cache, "MAX_ENTRY_BYTES", 5)
    assert safe_yaml.load_documents_cached(PADDING + "a: 1\n") == [{"a": 1}]
    assert entries(cache_folder) == []


def test_keys_tell_their_parts_apart():
    assert cache.key(b"ab", b"c") != cache.key(b"a", b"bc")
    assert cache.key(b"ab", b"c") == cache.key(b"ab", b"c")


# serve.py's facts (snitch.serve_facts): kept under the answers to every question the analysis asked.

BASE = "import kserve\n\nclass Base(kserve.Model):\n    def load(self):\n        self.ready = True\n\n    def predict(self, p):\n        return p\n"
SERVE = "import ddtrace\nddtrace.patch(fastapi=True)\nfrom helpers import Base\n\nclass Iris(Base):\n    pass\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def fresh(root: Path):
    """The facts of a new analysis, bypassing the cache."""
    return serve_facts.of(serving.analyse(Project(root, "m")))


def cached(root: Path):
    return serve_facts.facts(Project(root, "m"))


def analysis_must_not_run(monkeypatch):
    def fail(*args):
        raise AssertionError("analysed again, though the cache holds the facts")

    monkeypatch.setattr(serving, "analyse", fail)


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
