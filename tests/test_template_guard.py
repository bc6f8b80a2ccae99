"""The template's answer guard cannot be switched off into writing files (issue 18): a caller who
drops the extension that holds the guard (`_extensions` in extra_context, cruft's
--extra-context, a replay file) gets a refusal before anything is written, and answers never
make a file that cannot carry them (a newline in a Dockerfile LABEL, `\"\"\"` in a docstring)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from fixtures.template import PROJECT_TEMPLATE_DIR, TEMPLATE_DIR, _cookiecutter_config

HANG_TIMEOUT_S = 120
# Every value cookiecutter.json derives with one of the extension's filters, given outright so the
# render gets past the questions without the extension (as a caller who drops it would).
WITHOUT_EXTENSION = {
    "_extensions": [], "snitch_version": "v1.0.0", "s3_bucket": "ml-platform-bucket", "coverage_floor": "80",
    "team": "ml-team", "extra_labels": "", "__answers": "ok", "__model_name": "../escaped",
}


def written(tmp_path: Path) -> list[str]:
    """Everything a render wrote, outside cookiecutter's own config and replay folders."""
    own = {".cookiecutter-config.yaml", ".cookiecutters", ".cookiecutter_replay"}
    return sorted(str(path.relative_to(tmp_path)) for path in tmp_path.rglob("*") if path.parts[len(tmp_path.parts)] not in own)


def test_the_api_without_the_extension_writes_nothing(tmp_path):
    from cookiecutter.main import cookiecutter

    (tmp_path / "out").mkdir()
    with pytest.raises(Exception, match="model_folder"):
        cookiecutter(str(TEMPLATE_DIR), no_input=True, extra_context=WITHOUT_EXTENSION, output_dir=str(tmp_path / "out"),
                     config_file=str(_cookiecutter_config(tmp_path)))
    assert written(tmp_path) == ["out"]


def test_cruft_without_the_extension_writes_nothing(tmp_path):
    template = tmp_path / "template"
    subprocess.run(["git", "init", "-q", str(template)], check=True)
    subprocess.run(["cp", "-r", str(TEMPLATE_DIR), str(template)], check=True)
    subprocess.run(["git", "-C", str(template), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(template), "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "t"], check=True)
    (tmp_path / "out").mkdir()
    done = subprocess.run(
        ["cruft", "create", "--no-input", f"file://{template}", "--directory", TEMPLATE_DIR.name,
         "--output-dir", str(tmp_path / "out"), "--extra-context", json.dumps(WITHOUT_EXTENSION)],
        capture_output=True, text=True, timeout=HANG_TIMEOUT_S, cwd=tmp_path, env={**os.environ, "HOME": str(tmp_path)},
    )
    assert done.returncode != 0 and "model_folder" in done.stdout + done.stderr, done.stdout + done.stderr
    assert list((tmp_path / "out").iterdir()) == [] and not (tmp_path / "escaped").exists()


def replay_file(tmp_path: Path, extension: bool) -> Path:
    """A replay file (cookiecutter's saved context) with WITHOUT_EXTENSION's answers, with or
    without the template's extension, and an output folder beside it."""
    context = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    context.update(WITHOUT_EXTENSION, project_name="Iris Classifier", weights_timestamp="20200101T000000Z")
    if extension:
        context["_extensions"] = ["local_extensions.AnswersExtension"]
    replay = tmp_path / "replay.json"
    replay.write_text(json.dumps({"cookiecutter": context, "_cookiecutter": context}))
    (tmp_path / "out").mkdir()
    return replay


@pytest.mark.parametrize("extension, refusal", [
    (False, "model_folder"),
    (True, "__model_name='../escaped' is worked out from the other answers"),
])
def test_a_replay_file_with_a_path_escape_writes_nothing(tmp_path, extension, refusal):
    from cookiecutter.main import cookiecutter

    replay = replay_file(tmp_path, extension)
    with pytest.raises(Exception, match=refusal):
        cookiecutter(str(TEMPLATE_DIR), replay=str(replay), output_dir=str(tmp_path / "out"),
                     config_file=str(_cookiecutter_config(tmp_path)))
    assert written(tmp_path) == ["out", "replay.json"]


def test_the_cli_without_the_extension_says_so_without_a_traceback(tmp_path):
    """cookiecutter's CLI cannot drop `_extensions` (key=value answers are text), but a replay file
    can: the refusal is cookiecutter's one-line 'Unable to create project directory'."""
    replay = replay_file(tmp_path, extension=False)
    done = subprocess.run(
        ["cookiecutter", str(TEMPLATE_DIR), "--replay-file", str(replay), "-o", str(tmp_path / "out"),
         "--config-file", str(_cookiecutter_config(tmp_path))],
        capture_output=True, text=True, timeout=HANG_TIMEOUT_S, cwd=tmp_path, env={**os.environ, "HOME": str(tmp_path)},
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1 and "'model_folder' is undefined" in output and "Traceback" not in output, output
    assert list((tmp_path / "out").iterdir()) == []


# --- every answer reaches its files as data: one line, no markup, valid in every file kind -----------

@pytest.mark.parametrize("answers, named", [
    ({"organization": "Acme\nRUN curl evil"}, "organization="),  # Dockerfile LABEL
    ({"team": "ml-team\n"}, "team="),  # .gitlab-ci.yml
    ({"memory": "1Gi\r"}, "memory="),  # .gitlab-ci.yml
    ({"coverage_floor": "90\n"}, "coverage_floor="),  # noxfile.py string, .gitlab-ci.yml
    ({"jira_url": "https://jira.example.com/browse/ML-1\n# Injected"}, "jira_url="),  # README.md link
    ({"datadog_url": "https://app.datadoghq.com\t"}, "datadog_url="),  # README.md link
    ({"project_name": "Iris\u2028Classifier"}, "project_name="),  # model.py docstring, README.md heading
    ({"project_description": "Predicts\x85things"}, "project_description="),  # README.md, openapi.yaml
])
def test_a_control_character_in_any_answer_is_refused_before_writing(tmp_path, answers, named):
    from cookiecutter.exceptions import FailedHookException

    from fixtures.template import render_project

    with pytest.raises(FailedHookException, match="please fix these answers") as error:
        render_project(tmp_path, **answers)
    assert named in str(error.value) and "control character" in str(error.value), error.value
    assert written(tmp_path) == []


def test_markup_typed_at_a_prompt_is_refused_like_no_input(tmp_path):
    config = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    typed = "{{ 7 * 7 }} Iris\n" + "\n" * len(config["__prompts__"])
    done = subprocess.run(
        ["cookiecutter", str(TEMPLATE_DIR), "-o", str(tmp_path / "out"), "--config-file", str(_cookiecutter_config(tmp_path))],
        input=typed, capture_output=True, text=True, timeout=HANG_TIMEOUT_S, cwd=tmp_path, env={**os.environ, "HOME": str(tmp_path)},
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1 and "project_name='{{ 7 * 7 }} Iris' contains template markup" in output, output
    assert "Traceback" not in output and not (tmp_path / "out").exists()


HOSTILE_TEXT = 'He said """hi""" \\ and {x}'


def test_quotes_and_backslashes_in_answers_give_files_that_parse(tmp_path):
    import ast

    import yaml

    from fixtures.template import render_project

    project = render_project(tmp_path, project_name=HOSTILE_TEXT, project_description=HOSTILE_TEXT, organization=HOSTILE_TEXT)
    assert_every_file_parses(project)
    docstring = ast.get_docstring(ast.parse((project / "model.py").read_text()))
    assert docstring.startswith(f"The {HOSTILE_TEXT} model:")
    assert yaml.safe_load((project / "openapi.yaml").read_text())["info"]["description"] == HOSTILE_TEXT
    assert HOSTILE_TEXT in (project / "README.md").read_text()
    assert 'org.label-schema.vendor="He said' in (project / "Dockerfile").read_text()


def assert_every_file_parses(project: Path) -> None:
    import yaml

    for source in project.rglob("*.py"):
        compile(source.read_text(), str(source), "exec")
    for document in [*project.rglob("*.yaml"), *project.rglob("*.yml")]:
        yaml.safe_load(document.read_text())
    labels = [line for line in (project / "Dockerfile").read_text().splitlines() if '="' in line]
    assert all(line.count('="') == 1 and line.rstrip(" \\").endswith('"') for line in labels), labels


# Text as hostile as a form field gets: quotes, backslashes, braces, Jinja's openings, line ends of
# every kind, bidi controls, other scripts' digits.
hostile_text = st.text(alphabet=st.sampled_from(list('aZ 9"\'\\{}%#$`:;-\n\r\t\x00\x85\u2028\u202e\u0669\u00e9')),
                       min_size=1, max_size=12)


@settings(max_examples=30, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(name=hostile_text, description=hostile_text, organization=hostile_text)
@example(name='"""', description="a", organization="b")  # each ended model.py's docstring
@example(name="\\x", description="a", organization="b")
@example(name="a", description="a: b # c", organization="b")
def test_any_text_is_refused_before_writing_or_gives_files_that_parse(name, description, organization):
    from cookiecutter.exceptions import FailedHookException

    from fixtures.template import render_project

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        try:
            project = render_project(out, project_name=f"Model {name}", project_description=description,
                                     organization=organization)
        except FailedHookException as refusal:
            assert "please fix these answers" in str(refusal) or "contains template markup" in str(refusal), refusal
            assert written(out) == [], "written before refusing"
            return
        assert_every_file_parses(project)
        assert description in (project / "README.md").read_text()


def test_a_threshold_in_other_digits_is_refused_not_written_into_python(tmp_path):
    from cookiecutter.exceptions import FailedHookException

    from fixtures.template import render_project

    with pytest.raises(FailedHookException, match="accuracy_threshold='٠.٩' must be a number"):
        render_project(tmp_path, accuracy_threshold="٠.٩")


def test_the_dockerfile_labels_are_the_ones_snitch_fix_writes(rendered_project):
    """The template takes the labels the build job fills from snitch's fix for standard 6
    (build_argument_labels), and the rendered LABEL stays exactly what it was."""
    from snitch.read.image_labels import build_argument_labels
    from snitch.standards.config import load_standards

    label = (rendered_project / "Dockerfile").read_text().split("\nLABEL ", 1)[1].split("\n\n", 1)[0]
    assert label == "\n".join([
        'author="ml-team@example.com" \\',
        '      version="${VERSION}" \\',
        '      model="iris-classifier" \\',
        '      org.label-schema.version="${VERSION}" \\',
        '      org.label-schema.name="iris-classifier" \\',
        '      org.label-schema.build-date="${BUILD_DATE}" \\',
        '      org.label-schema.vcs-ref="${VCS_REF}" \\',
        '      org.label-schema.vcs-url="${VCS_URL}" \\',
        '      org.label-schema.vendor="ML Platform" \\',
        '      org.label-schema.schema-version="1.0"',
    ])
    for name, argument in build_argument_labels(load_standards().parameters).items():
        assert f'{name}="${{{argument}}}"' in label


# --- the one safe door for untrusted answers: snitch new / snitch.cli.new.render --------------------

def run_snitch_new(tmp_path: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """`snitch new ARGS -o out` as a portal runs it: in tmp_path, with a HOME and no config of its own."""
    return subprocess.run(
        [sys.executable, "-m", "snitch", "new", *args, "-o", "out"], input=stdin,
        capture_output=True, text=True, timeout=HANG_TIMEOUT_S, cwd=tmp_path,
        env={**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg"), "SNITCH_CONFIG": ""},
    )


def snitch_new(tmp_path: Path, answers, *args: str) -> subprocess.CompletedProcess:
    """`snitch new` with the answers in a file."""
    (tmp_path / "answers.json").write_text(answers if isinstance(answers, str) else json.dumps(answers))
    done = run_snitch_new(tmp_path, "--answers", "answers.json", *args)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done


def test_snitch_new_creates_the_project(tmp_path):
    # cookiecutter's user config is not read: its default_context cannot slip answers in.
    (tmp_path / ".cookiecutterrc").write_text("default_context:\n  organization: Evil Corp\n")
    done = snitch_new(tmp_path, {"project_name": "Fraud Scorer", "min_replicas": 2})
    assert done.returncode == 0, done.stderr
    project = tmp_path / "out" / "fraud-scorer"
    assert done.stdout.strip() == f"Created {project}"
    assert "min_replicas: 2" in (project / ".gitlab-ci.yml").read_text()
    assert 'vendor="ML Platform"' in (project / "Dockerfile").read_text()
    assert not (tmp_path / ".cookiecutter_replay").exists() and not (tmp_path / ".cookiecutters").exists()


def test_snitch_new_refuses_private_unknown_and_hostile_answers_before_cookiecutter(tmp_path):
    done = snitch_new(tmp_path, {
        "project_name": "Fraud Scorer", "_extensions": [], "__model_name": "../escaped", "colour": "red",
        "project_description": "{{ cycler.__init__.__globals__.os.system('touch pwned') }}", "organization": "A\nRUN b",
        "team": ["a"],
    })
    assert done.returncode == 1, done.stderr
    for named in ("'_extensions' is private to the template", "'__model_name' is private to the template",
                  "'colour' is not one of the template's questions; they are: project_name,",
                  "project_description=\"{{ cycler", "contains template markup",
                  "organization='A\\nRUN b' holds a control character", "team=['a'] is not text"):
        assert named in done.stderr, done.stderr
    assert written(tmp_path) == ["answers.json"]


def test_snitch_new_refuses_what_the_template_refuses_before_writing(tmp_path):
    done = snitch_new(tmp_path, {"project_name": "Fraud Scorer", "author_email": "nope", "max_replicas": "21"})
    assert done.returncode == 1, done.stderr
    assert "author_email='nope' is not an email address" in done.stderr and "max_replicas is 21" in done.stderr
    assert written(tmp_path) == ["answers.json"]


@pytest.mark.parametrize("answers, args, message", [
    ("{not json", [], "are not JSON"),
    ("[" * 5000 + "]" * 5000, [], "nest too deep"),
    ({"project_name": "Fraud Scorer"}, ["--config", "missing.yaml"], "missing.yaml"),
])
def test_snitch_new_that_cannot_run_exits_2(tmp_path, answers, args, message):
    done = snitch_new(tmp_path, answers, *args)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert written(tmp_path) == ["answers.json"]


def test_snitch_new_into_an_existing_project_folder_exits_2(tmp_path):
    (tmp_path / "out" / "fraud-scorer").mkdir(parents=True)
    done = snitch_new(tmp_path, {"project_name": "Fraud Scorer"})
    assert done.returncode == 2 and "already exists; choose another output folder" in done.stderr, done.stderr
    assert written(tmp_path) == ["answers.json", "out", "out/fraud-scorer"]


def test_snitch_new_renders_under_the_organisations_config(tmp_path):
    (tmp_path / "acme.yaml").write_text("bucket: acme-models\ncoverage_floor: 90\n")
    done = snitch_new(tmp_path, {"project_name": "Fraud Scorer"}, "--config", "acme.yaml")
    assert done.returncode == 0, done.stderr
    ci = (tmp_path / "out" / "fraud-scorer" / ".gitlab-ci.yml").read_text()
    assert "s3://acme-models/" in ci and "coverage_floor: 90" in ci


def test_render_refuses_a_private_key_and_leaves_the_environment_as_it_was(tmp_path, monkeypatch):
    from snitch.cli import new

    monkeypatch.delenv("SNITCH_CONFIG", raising=False)
    with pytest.raises(new.AnswersRefused) as refused:
        new.render({"_extensions": [], "project_name": "Fraud Scorer"}, tmp_path)
    assert refused.value.problems[0].startswith("'_extensions' is private to the template")
    (tmp_path / "acme.yaml").write_text("bucket: acme-models\n")
    project = new.render({"project_name": "Fraud Scorer"}, tmp_path / "out", config=tmp_path / "acme.yaml")
    assert "s3://acme-models/" in (project / ".gitlab-ci.yml").read_text()
    assert "SNITCH_CONFIG" not in os.environ


def test_bytecode_beside_the_template_does_not_reach_the_project(tmp_path):
    """pip compiles the template's .py files when it installs the wheel that carries it."""
    import shutil

    from fixtures.template import render_project

    template = tmp_path / "template"
    shutil.copytree(TEMPLATE_DIR, template)
    cache = template / PROJECT_TEMPLATE_DIR.name / "tests" / "__pycache__"
    cache.mkdir()
    (cache / "test_model.cpython-311.pyc").write_bytes(b"\x00bytecode")
    (tmp_path / "out").mkdir()
    project = render_project(tmp_path / "out", template=template)
    assert not list(project.rglob("__pycache__"))


@pytest.mark.parametrize("text, problem", [
    ("Iris Classifier", None),
    ("Ünïcode — naïve café 🚀", None),
    ('He said """hi""" \\ and {x} 100% #1', None),
    ("{{ 7 * 7 }}", "contains template markup"),
    ("a {% if x %}", "contains template markup"),
    ("a {# note #}", "contains template markup"),
    *[(f"a{character}b", "holds a control character")
      for character in ("\n", "\r", "\t", "\x00", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\u202e", "\u2066")],
])
def test_answer_text_problem(text, problem):
    from snitch.facts.names import answer_text_problem

    found = answer_text_problem(text)
    assert (found is None) if problem is None else found.startswith(problem), found


def test_snitch_new_reads_answers_from_standard_input(tmp_path):
    done = run_snitch_new(tmp_path, "--answers", "-", stdin='{"project_name": "Fraud Scorer"}')
    assert done.returncode == 0 and (tmp_path / "out" / "fraud-scorer" / "model.py").is_file(), done.stderr
