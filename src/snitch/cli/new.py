"""The one safe door for answers nobody typed at a prompt (a self-service portal, a scaffolder):
`snitch new --answers FILE -o DIR` and `render(answers, output_dir, config=None)`.

Plain cookiecutter takes its caller's word for everything in the context: extra_context can
replace `_extensions` (dropping the template's guard) or the private variables, and an answer
is rendered as a Jinja template before any check of the template can run. So answers are
refused here, before cookiecutter sees them, when a key is private (`_...`) or not one of the
template's questions, or a value is not one line of plain text (snitch.facts.names); then the
template renders them with its extension, which judges every answer by snitch's own rules before
any file is written. Nothing of the caller's environment reaches the render: cookiecutter's user
config (~/.cookiecutterrc and its default_context) is not read and its replay is not kept."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path

from snitch.facts import names
from snitch.read import files
from snitch.standards.config import CONFIG_ENV, load_standards

_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # src/snitch (this module is snitch/cli/new.py)
TEMPLATE_NAME = "model-project-template"
# A wheel carries the template at the top of the package (snitch/model-project-template, see
# pyproject.toml's force-include); a checkout (and an editable install) has it beside src/.
TEMPLATE_DIRS = (_PACKAGE_DIR / TEMPLATE_NAME, _PACKAGE_DIR.parent.parent / TEMPLATE_NAME)
MAX_ANSWERS_BYTES = 256 * 1024
# The template reads the organisation's config from the environment: one render at a time.
_RENDERING = threading.Lock()


class AnswersRefused(Exception):
    """The answers cannot make a project; nothing was written. `problems` names each, with its fix."""

    def __init__(self, problems: list[str]):
        super().__init__("Cannot create the project, please fix these answers and run again:\n  - " + "\n  - ".join(problems))
        self.problems = problems


class ScaffoldError(Exception):
    """The render could not be done (no template, a bad config, the project folder exists...)."""


def template_dir() -> Path:
    for folder in TEMPLATE_DIRS:
        if (folder / "cookiecutter.json").is_file():
            return folder
    raise ScaffoldError(f"the model project template ({TEMPLATE_NAME}) is missing from this snitch installation; "
                        "reinstall snitch, or run snitch from a checkout of its repository")


def questions(template: Path) -> list[str]:
    """The template's questions: cookiecutter.json's keys that are not private."""
    context = json.loads((template / "cookiecutter.json").read_text(encoding="utf-8"))
    return [key for key in context if not key.startswith("_")]


def admission_problems(answers: Mapping, known: list[str]) -> list[str]:
    """What keeps `answers` from reaching cookiecutter at all: not an object of text, a private or
    unknown key, markup or a control character in a value."""
    if not isinstance(answers, Mapping):
        return [f"the answers must be a JSON object of question: answer, not {type(answers).__name__}"]
    problems = []
    for key, value in answers.items():
        if not isinstance(key, str) or key.startswith("_"):
            problems.append(f"{key!r} is private to the template (worked out or set by it, like __model_name or "
                            "_extensions) and cannot be answered; leave it out")
        elif key not in known:
            problems.append(f"{key!r} is not one of the template's questions; they are: {', '.join(known)}")
        elif isinstance(value, bool) or not isinstance(value, (str, int, float)):
            problems.append(f"{key}={value!r} is not text; give the answer as a JSON string")
        else:
            problem = names.answer_text_problem(str(value))
            if problem:
                problems.append(f"{key}={value!r} {problem}")
    return problems


def read_answers(path: str) -> object:
    """The JSON answers in `path` ('-': standard input)."""
    try:
        text = sys.stdin.read(MAX_ANSWERS_BYTES + 1) if path == "-" else files.read_text(path, MAX_ANSWERS_BYTES)
        if len(text) > MAX_ANSWERS_BYTES:
            raise ScaffoldError(f"the answers are over {MAX_ANSWERS_BYTES // 1024} KiB; answers are a few lines of JSON")
        if files.json_too_deep(text):
            raise ScaffoldError("the answers nest too deep to be answers; give a JSON object of question: answer")
        return json.loads(text)
    except files.Unreadable as error:
        raise ScaffoldError(f"cannot read the answers {path}: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ScaffoldError(f"cannot read the answers {path}: {error}") from None
    except ValueError as error:
        raise ScaffoldError(f"the answers {path} are not JSON ({error}); give a JSON object of question: answer") from None


def render(answers: Mapping, output_dir: str | os.PathLike, config: str | os.PathLike | None = None) -> Path:
    """Render the model project template with `answers` (question: text; the rest take their
    defaults) into `output_dir`, under the organisation's `config` (default: $SNITCH_CONFIG, else
    the user's config, as `snitch` reads it). Returns the project folder.

    Raises AnswersRefused (nothing written) or ScaffoldError (nothing written, the run could not be done)."""
    from cookiecutter.exceptions import CookiecutterException, FailedHookException, OutputDirExistsException
    from cookiecutter.main import cookiecutter

    template = template_dir()
    problems = admission_problems(answers, questions(template))
    if problems:
        raise AnswersRefused(problems)
    config_path = str(Path(config).resolve()) if config else os.environ.get(CONFIG_ENV, "")
    load_standards(config_path or None)  # a bad config is the run's problem, said before rendering
    with _render_environment(config_path) as cookiecutter_config:
        try:
            project = cookiecutter(
                str(template), no_input=True, extra_context={key: str(value) for key, value in answers.items()},
                output_dir=str(Path(output_dir).resolve()), config_file=cookiecutter_config,
            )
        except FailedHookException as error:
            if type(error).__name__ == "InvalidAnswers":  # the template's own verdict on the answers
                raise AnswersRefused(str(error).split("\n  - ")[1:] or [str(error)]) from None
            raise ScaffoldError(f"the template's post-generation step failed: {error}") from None
        except OutputDirExistsException as error:
            raise ScaffoldError(f"{str(error).removeprefix('Error: ')}; choose another output folder or remove it") from None
        except (CookiecutterException, OSError) as error:
            raise ScaffoldError(f"cannot render the template: {error}") from None
    return Path(project)


@contextmanager
def _render_environment(config_path: str):
    """The organisation's config for the template, cookiecutter's state in a folder of its own
    (deleted afterwards), and no bytecode written into the template."""
    with _RENDERING, tempfile.TemporaryDirectory(prefix="snitch-new-") as state:
        saved_config, saved_bytecode = os.environ.get(CONFIG_ENV), sys.dont_write_bytecode
        cookiecutter_config = Path(state) / "cookiecutter.yaml"
        cookiecutter_config.write_text(json.dumps({"cookiecutters_dir": f"{state}/templates", "replay_dir": f"{state}/replay"}))
        if config_path:
            os.environ[CONFIG_ENV] = config_path
        sys.dont_write_bytecode = True
        try:
            yield str(cookiecutter_config)
        finally:
            sys.dont_write_bytecode = saved_bytecode
            if saved_config is None:
                os.environ.pop(CONFIG_ENV, None)
            else:
                os.environ[CONFIG_ENV] = saved_config
