"""Fast, in-process unit tests of the readers snitch builds its checks on: the bounded file
reader, safe YAML, the Dockerfile, README and requirements parsers, config patterns, names."""

from __future__ import annotations

import ast
import json
import math
import os

import pytest

from snitch.facts import gitlab_ci, names, patterns, readme, weights
from snitch.pipeline import records
from snitch.pipeline.errors import PipelineError
from snitch.read import dockerfile, files, requirements, safe_yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from snitch.read.project import MAX_PYTHON_NESTING, Project, nests_deeper_than
from snitch.violation import FileProblem

# --- files ------------------------------------------------------------------------------------------


def test_read_bytes_refuses_a_fifo_without_waiting(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(files.Unreadable, match=r"^is a FIFO \(named pipe\), not a regular file$"):
        files.read_bytes(fifo)


@pytest.mark.parametrize("path, kind", [("/dev/zero", "a character device"), ("/", "a folder")])
def test_read_bytes_refuses_devices_and_folders(path, kind):
    with pytest.raises(files.Unreadable, match=f"^is {kind}, not a regular file$"):
        files.read_bytes(path)


def test_read_bytes_stops_at_the_limit(tmp_path):
    big = tmp_path / "big"
    with open(big, "wb") as handle:
        handle.truncate(3 * 1024 * 1024)
    with pytest.raises(files.Unreadable, match=r"^is 3\.0 MiB, too large \(the limit is 2 MiB\)$") as problem:
        files.read_bytes(big)
    assert problem.value.fix.format(file="big") == "keep big small; large data belongs in S3, not in the repository"
    assert files.read_bytes(big, limit=4 * 1024 * 1024) == bytes(3 * 1024 * 1024)


def test_decode_drops_the_byte_order_mark_and_names_bad_bytes():
    assert files.decode("\ufeffimport kserve\n".encode()) == "import kserve\n"
    with pytest.raises(files.Unreadable, match=r"^is not valid UTF-8 \(byte 6, line 2\)$"):  # bytes of the file, BOM counted
        files.decode(b"\xef\xbb\xbfa\nb\xe8")
    with pytest.raises(files.Unreadable, match="^is a binary file"):
        files.decode(b"a\0b")


def test_json_depth_is_checked_without_recursion():
    assert not files.json_too_deep('["' + "[" * 500 + '"]')  # brackets inside a string do not nest
    assert files.json_too_deep("[" * 201 + "]" * 201)
    with pytest.raises(files.Unreadable, match="nests more than 200 levels deep"):
        files.parse_json("[" * 100_000 + "]" * 100_000)
    with pytest.raises(files.Unreadable, match=r"NaN is not a JSON value"):
        files.parse_json('{"a": NaN}')


def test_prepare_output(tmp_path):
    assert files.prepare_output(tmp_path / "a" / "b.xml").is_file()
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(files.Unwritable, match="is a FIFO"):
        files.prepare_output(tmp_path / "fifo")
    (tmp_path / "file").write_text("")
    with pytest.raises(files.Unwritable, match="file/x.xml: File exists"):  # a file where its folder should be
        files.prepare_output(tmp_path / "file" / "x.xml")


# --- safe YAML --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["x: " + "[" * 60_000 + "]" * 60_000, "- " * 60_000 + "x", "a: " + "{b: " * 300 + "1" + "}" * 300])
def test_yaml_nesting_is_bounded_before_composing(text):
    with pytest.raises(safe_yaml.YamlProblem, match="nests collections more than 200 levels deep"):
        safe_yaml.load_documents(text)


def test_yaml_nesting_within_the_limit_and_many_openers():
    nested = safe_yaml.load_documents("a: " + "[" * 150 + "1" + "]" * 150)[0]["a"]
    for _ in range(149):
        nested = nested[0]
    assert nested == [1]
    many = "\n".join(f"- key{index}: [1, 2, {{a: b}}]" for index in range(2000))
    assert len(safe_yaml.load_documents(many)[0]) == 2000


def test_yaml_node_bound_holds_per_document_without_aliases():
    """Past MAX_DEPTH openers, the depth scan's node counts (not a walk of the tree) measure each
    alias-free document: one over the bound is refused, two just under it are read."""
    def document(nodes: int) -> str:  # a list of `nodes` - 1 items, 300 of them empty lists
        return "[" + "[], " * 300 + "1, " * (nodes - 301) + "]"

    bound = safe_yaml.MAX_EXPANDED_NODES
    with pytest.raises(safe_yaml.YamlProblem, match=f"expand to more than {bound} nodes"):
        safe_yaml.load_documents(f"--- [1]\n--- {document(bound + 1)}\n")
    under = safe_yaml.load_documents(f"--- {document(bound * 3 // 5)}\n--- {document(bound * 3 // 5)}\n")
    assert [len(items) for items in under] == [bound * 3 // 5 - 1] * 2


@pytest.mark.parametrize("text, message", [
    ("a: " + "9" * 5000, "holds a value that cannot be read (Exceeds the limit (4300 digits)"),
    ("a: 2026-13-45", "holds a value that cannot be read (month must be in 1..12)"),
    ("a: !!python/object/apply:os.system [true]", "uses a tag snitch will not construct"),
])
def test_yaml_values_that_cannot_be_built(text, message):
    with pytest.raises(safe_yaml.YamlProblem) as problem:
        safe_yaml.load_documents(text)
    assert str(problem.value).startswith(message)


# --- Python nesting ---------------------------------------------------------------------------------


def depth(node: ast.AST) -> int:
    """Levels of the tree, every node walked (the reference nests_deeper_than must agree with)."""
    deepest, pending = 0, [(node, 1)]
    while pending:
        node, level = pending.pop()
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in ast.iter_child_nodes(node))
    return deepest


def test_projects_share_the_tree_of_an_identical_python_source(tmp_path, monkeypatch):
    from snitch.read import project as projects

    monkeypatch.setattr(projects, "_parsed", {})
    monkeypatch.setattr(projects, "_seen_once", set())
    first, second, third, other = (tmp_path / name for name in ("a", "b", "c", "d"))
    for folder, body in ((first, "x = 1\n"), (second, "x = 1\n"), (third, "x = 1\n"), (other, "x = 2\n")):
        folder.mkdir()
        (folder / "serve.py").write_text(body)
    once = Project(first, "m").python("serve.py")
    tree = Project(second, "m").python("serve.py")  # seen twice: kept from now on
    assert tree is not once and Project(third, "m").python("serve.py") is tree
    assert ast.dump(Project(other, "m").python("serve.py")) != ast.dump(tree)
    assert list(projects._parsed) == ["x = 1\n"]  # a source seen once is not kept
    # A source that fails a check is never remembered: every project reports it.
    (first / "broken.py").write_text("def (:\n")
    for _ in range(2):
        with pytest.raises(FileProblem, match="syntax error"):
            Project(first, "m").python("broken.py")


def test_remembered_trees_stay_within_their_budget(tmp_path, monkeypatch):
    from snitch.read import project as projects

    monkeypatch.setattr(projects, "_parsed", {})
    monkeypatch.setattr(projects, "_seen_once", set())
    monkeypatch.setattr(projects, "_PARSED_SOURCE_BUDGET", 40)
    for number in range(5):
        for copy in ("a", "b"):  # each source seen twice
            folder = tmp_path / f"{number}{copy}"
            folder.mkdir()
            (folder / "serve.py").write_text(f"value = '{number:09d}'\n")  # 20 characters
            Project(folder, "m").python("serve.py")
    assert sorted(projects._parsed) == ["value = '000000003'\n", "value = '000000004'\n"]  # the newest


def test_nesting_is_judged_without_recursion():
    assert not nests_deeper_than(ast.parse("x = 1"))
    assert nests_deeper_than(ast.parse("x = " + "a." * 900 + "b"))


# Short statements that nest deepest for their length: a statement whose value has the same text,
# leaves without text (Load), f-string format specs, `with` items, parameters, and one decorator
# whose depth lies outside its statement's line.
SHORT_AND_DEEP = [
    "x", "-x", "--x", "not x", "a.b.c", "f'{x}'", "f'{x:{y}}'", "with a: b", "def f(a): a", "lambda: 0",
    "lambda a: a", "a[b:c]", "x: int", "for a in b: c", "class A(B): c", "[a for b in c if d]", "(x := -y)",
    "f(*a, **b)", "{**a, b: -c}", "x += -y", "del a.b", "assert -x, y", "a if b else c", "a < b < -c",
    "async def f(): await x", "try:\n    -x\nexcept E as e:\n    --e\n", "@d(" + "-" * 40 + "x)\ndef f(): pass",
]


@pytest.mark.parametrize("source", SHORT_AND_DEEP)
@pytest.mark.parametrize("blocks", [0, 1, 3])
def test_short_statements_are_judged_like_a_full_walk(source, blocks):
    """Every limit around the true depth: a statement skipped for being short must never have
    reached past the limit (the test fails if the length bound is too optimistic)."""
    indented = "".join(f"{'    ' * n}if c{n}:\n" for n in range(blocks)) + "".join(
        "    " * blocks + line + "\n" for line in source.split("\n")
    )
    tree = ast.parse(indented)
    true_depth = depth(tree)
    for limit in range(1, true_depth + 3):
        assert nests_deeper_than(tree, limit) == (true_depth > limit), (indented, limit)


def test_deep_short_statement_under_many_blocks_is_refused(tmp_path):
    """98 nested blocks, then a one-line statement just long enough to pass the limit."""
    blocks = "".join(f"{' ' * n}if c:\n" for n in range(98))
    minuses = MAX_PYTHON_NESTING - 101  # Module, the ifs and Expr fill 100 levels; a minus, Name, Load one each
    (tmp_path / "serve.py").write_text(blocks + " " * 98 + "-" * minuses + "x\n")
    with pytest.raises(FileProblem):
        Project(tmp_path, "m").python("serve.py")
    (tmp_path / "serve.py").write_text(blocks + " " * 98 + "-" * (minuses - 1) + "x\n")
    Project(tmp_path, "m").python("serve.py")


def single_line_statements(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and node.lineno == node.end_lineno and not getattr(node, "decorator_list", None):
            yield node


def test_length_bound_holds_for_the_standard_library():
    """The bound nests_deeper_than relies on, on every one-line statement of real modules."""
    for module in (ast, json, os, pytest):
        with open(module.__file__, encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
        for statement in single_line_statements(tree):
            assert depth(statement) <= 2 * (statement.end_col_offset - statement.col_offset) + 2


names_ = st.sampled_from(["x", "ab", "é"])
expressions = st.recursive(
    names_ | st.sampled_from(["0", "'s'", "f'{x}'"]),
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(["-", "not ", "~", "await ", "*"]), inner).map("".join),
        st.tuples(inner, st.sampled_from([".a", "()", "[0]", "[:]", "[a:b:c]"])).map(lambda p: f"({p[0]}){p[1]}"),
        st.tuples(inner, st.sampled_from(["+", " and ", "<", " if c else "]), inner).map(lambda p: f"({p[0]}{p[1]}{p[2]})"),
        st.tuples(st.sampled_from(["f({})", "[{}]", "{{{}}}", "({},)", "f'{{{}:{{w}}}}'", "(lambda q: {})",
                                   "[q for q in {}]", "{{**{}}}", "f(k={})"]), inner).map(lambda p: p[0].format(p[1])),
    ),
    max_leaves=12,
)
statements = st.tuples(st.sampled_from(["{}", "v = {}", "v += {}", "return {}", "with {}: pass", "if {}: pass",
                                        "for v in {}: pass", "def f(v={}): pass", "class C({}): pass"]), expressions)


@settings(max_examples=300, deadline=None)
@given(statements)
def test_length_bound_holds_for_generated_statements(pair):
    template, expression = pair
    try:
        tree = ast.parse(template.format(expression))
    except SyntaxError:
        return  # `await` outside a function, `*` where it cannot stand: nothing to bound
    for statement in single_line_statements(tree):
        assert depth(statement) <= 2 * len(ast.get_source_segment(template.format(expression), statement).encode()) + 2


@pytest.mark.parametrize("expression", ["-" * 950 + "1", "+".join(["1"] * 100_000), "a" + "[0]" * 950])
def test_project_python_refuses_deep_nesting(tmp_path, expression):
    (tmp_path / "serve.py").write_text(f"x = {expression}\n")
    with pytest.raises(FileProblem) as problem:
        Project(tmp_path, "m").python("serve.py")
    assert problem.value.found == f"nests expressions or statements more than {MAX_PYTHON_NESTING} levels deep"


def test_project_text_of_a_fifo(tmp_path):
    os.mkfifo(tmp_path / "README.md")
    with pytest.raises(FileProblem) as problem:
        Project(tmp_path, "m").text("README.md")
    assert problem.value.found == "is a FIFO (named pipe), not a regular file"
    assert problem.value.fix == "replace README.md with a regular text file"


# --- Dockerfile -------------------------------------------------------------------------------------

HEREDOC_DOCKERFILE = """\
ARG VERSION=1.2.3
FROM python:3.11-slim
ARG VERSION
ARG NAME
ENV HOME_DIR=/srv
LABEL version="${VERSION}" model="${NAME:-iris}" price="costs \\$5" single='$HOME' alt="${UNSET:+x}" at=$HOME_DIR
RUN <<EOF
from setuptools import setup
FROM nowhere
EOF
RUN <<-"END" cat
\tLABEL ignored=1
\tEND
"""


def test_dockerfile_heredocs_are_bodies_not_instructions():
    keywords = [keyword for _, keyword, _ in dockerfile.instructions(HEREDOC_DOCKERFILE)]
    assert keywords == ["ARG", "FROM", "ARG", "ARG", "ENV", "LABEL", "RUN", "RUN"]
    stage = dockerfile.final_stage(HEREDOC_DOCKERFILE)
    assert stage.base == "python:3.11-slim" and "ignored" not in stage.labels


def test_dockerfile_substitutions_as_buildkit_does_them():
    stage = dockerfile.final_stage(HEREDOC_DOCKERFILE)
    values = {key: stage.static_value(label) for key, label in stage.labels.items()}
    assert values == {
        "version": "1.2.3",  # the global ARG's default, taken by the bare `ARG VERSION`
        "model": None,  # NAME is a build argument without default: known only at build time
        "price": "costs $5",
        "single": "$HOME",
        "alt": "",
        "at": "/srv",
    }
    assert stage.labels["price"].value == "costs $5" and stage.labels["price"].variables == []
    assert stage.labels["model"].required_variables == [] and stage.labels["alt"].required_variables == ["UNSET"]


def test_dockerfile_escape_directive_and_unclosed_quote():
    text = "# escape=`\nFROM scratch\nLABEL a=\"x`$y\" \\\n  b=1\n"
    stage = dockerfile.final_stage(text.replace("\\\n  b=1", "`\n  b=1"))
    assert stage.labels["a"].value == "x$y" and stage.labels["b"].value == "1"
    with pytest.raises(dockerfile.DockerfileProblem, match="an unclosed \" quote"):
        dockerfile.final_stage('FROM scratch\nLABEL a="x\n')


# --- README -----------------------------------------------------------------------------------------


def test_consecutive_reference_definitions_are_all_read():
    text = "- Logs: [x][a]\n- APM: [y][b]\n- Jira: [z][c]\n\n[a]: https://a.example.com\n[b]: https://b.example.com\n[c]: https://c.example.com \"t\"\n"
    assert [link.url for link in readme.links(text)] == ["https://a.example.com", "https://b.example.com", "https://c.example.com"]


def test_readme_patterns_are_linear_on_hostile_lines():
    # Quadratic patterns take minutes on these lines; a hang detector, not a timer, is the pytest timeout.
    for line in ("[" * 200_000, "[](x \"" * 30_000, "<a://" * 40_000, "[a](" * 50_000):
        assert readme.links(line) == ()


# --- requirements, names, refs, include files, weights ----------------------------------------------


def test_requirements_with_a_byte_order_mark(tmp_path):
    (tmp_path / "requirements.txt").write_bytes("\ufeffkserve==0.21.0\n".encode())
    lines = requirements.parse(Project(tmp_path, "m").text("requirements.txt"))
    assert lines[0].name == "kserve" and lines[0].pinned


@pytest.mark.parametrize("name, valid", [("iris", True), ("iris\n", False), ("iris-", False), ("a" * 63, True), ("a" * 64, False)])
def test_dns_label_is_the_whole_value(name, valid):
    assert names.is_dns_label(name) is valid


def test_include_file_with_or_without_leading_slash():
    document = {"include": [{"project": "ml-platform/snitch", "ref": "v1.0.0", "file": "/ci/pipeline.yml"}]}
    assert gitlab_ci.pipeline_include(document, "ml-platform/snitch", "ci/pipeline.yml") is not None
    document["include"][0]["file"] = ["other.yml", "ci/pipeline.yml"]
    assert gitlab_ci.pipeline_include(document, "ml-platform/snitch", "/ci/pipeline.yml") is not None


def test_weights_timestamp_digits_are_ascii():
    assert weights.parse_timestamp("20211215T093000Z") is not None
    assert weights.parse_timestamp("٢٠٢١1215T093000Z") is None


# --- config patterns --------------------------------------------------------------------------------


@pytest.mark.parametrize("pattern", [r"^v\d+\.\d+\.\d+$", r"\bprod(uction)?\b", "image|registry", r"^v\d+(\.\d+)*$",
                                     r"[a-z]+(-[a-z]+)*", "(ab){1000}"])
def test_safe_patterns_are_accepted(pattern):
    assert patterns.pattern_problem(pattern) is None


@pytest.mark.parametrize("pattern", ["^(a+)+$", "(a|aa)*$", "(?:x*)*", r"(\w+\s?)+$", "(?=(a+)+)", "(a[^-]*)*",
                                     "(a|a)*$", "(ab|ab)+", "(a|)*"])
def test_exponential_patterns_are_refused(pattern):
    assert patterns.pattern_problem(pattern).startswith("repeats a group that itself repeats or has alternatives")


@pytest.mark.parametrize("pattern", ["(a)?(?(1)b|c)", "(a)?(?(1)(a|a)*)$"])
def test_conditional_groups_are_refused(pattern):
    assert patterns.pattern_problem(pattern).startswith("uses a conditional group")


def test_invalid_pattern():
    assert patterns.pattern_problem("((").startswith("is not a valid regular expression")


# --- promotion records ------------------------------------------------------------------------------


def test_record_with_nan_is_refused_with_the_metric_named():
    with pytest.raises(PipelineError, match=r"metric\(s\) accuracy is NaN or infinite"):
        records.to_json({"metrics": {"accuracy": math.nan, "loss": 0.1}})
    assert records.to_json({"metrics": {"accuracy": 0.9}}).startswith("{")


def test_history_sorts_records_whatever_they_hold(tmp_path):
    folder = tmp_path / "dev"
    folder.mkdir()
    good = {"record_version": 1, "manifest": {}, "model": "m", "environment": "dev", "deployed_at": "2026-01-01T00:00:00Z"}
    (folder / "a.json").write_text(json.dumps(good))
    (folder / "b.json").write_text(json.dumps({**good, "deployed_at": 5}))
    found, _ = records.history("m", "dev", str(tmp_path))
    assert [record["deployed_at"] for record in found] == ["2026-01-01T00:00:00Z"]



def test_pattern_budget_interrupts_a_slow_pattern():
    import re

    with pytest.raises(patterns.PatternTooSlow):
        with patterns.pattern_budget(0.2):
            re.search(r".*a.*b.*x", "ab" * 1000)
    with patterns.pattern_budget(0.2):  # the timer is gone afterwards, and quick patterns are untouched
        assert re.search(r"\blogs?\b", "- Logs: here", re.IGNORECASE)


def test_project_symlink_loop(tmp_path):
    (tmp_path / "serve.py").symlink_to("loop.py")
    (tmp_path / "loop.py").symlink_to("serve.py")
    project = Project(tmp_path, "m")
    assert project.exists("serve.py")
    with pytest.raises(FileProblem) as problem:
        project.text("serve.py")
    assert problem.value.found == "is a symlink loop"
