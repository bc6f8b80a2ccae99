"""The final stage of a Dockerfile: its ARGs, ENVs and LABELs, with line continuations, quoting,
comments and the `# escape=` directive handled the way BuildKit reads them."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

_DIRECTIVE = re.compile(r"^#\s*escape\s*=\s*(\S)\s*$", re.IGNORECASE)
_VARIABLE = re.compile(r"\$(?:\{(\w+)(?::?[-+?][^}]*)?\}|(\w+))")


class DockerfileProblem(Exception):
    pass


@dataclass
class Label:
    key: str
    value: str
    line: int

    @property
    def variables(self) -> list[str]:
        return [braced or bare for braced, bare in _VARIABLE.findall(self.value)]


@dataclass
class FinalStage:
    from_line: int
    base: str
    args: dict[str, str | None] = field(default_factory=dict)  # name -> default
    env: dict[str, str] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)
    entrypoint: tuple[int, list[str]] | None = None  # (line, words) of the stage's last ENTRYPOINT
    cmd: tuple[int, list[str]] | None = None  # (line, words) of the stage's last CMD

    def static_value(self, label: Label) -> str | None:
        """The label's value as far as the Dockerfile alone decides it: variables replaced by the
        defaults their ARG or ENV gives; None when a variable has no default (set at build time)."""
        known = {**{k: v for k, v in self.args.items() if v is not None}, **self.env}
        if any(name not in known for name in label.variables):
            return None
        return _VARIABLE.sub(lambda m: known[m.group(1) or m.group(2)], label.value)


def instructions(text: str):
    """(line number, keyword, arguments) per instruction, continuations joined."""
    lines = text.splitlines()
    escape = "\\"
    if lines and _DIRECTIVE.match(lines[0]):
        escape = _DIRECTIVE.match(lines[0]).group(1)
    current, start = "", 0
    for number, raw in enumerate(lines, start=1):
        stripped = raw.strip()
        if stripped.startswith("#") or (not stripped and not current):
            continue  # comments may sit between continuation lines
        if not current:
            start = number
        if stripped.endswith(escape):
            current += stripped[:-1].rstrip() + " "  # one space where the lines join
            continue
        current += stripped
        keyword, _, arguments = current.strip().partition(" ")
        yield start, keyword.upper(), arguments.strip()
        current = ""
    if current.strip():
        keyword, _, arguments = current.strip().partition(" ")
        yield start, keyword.upper(), arguments.strip()


def _split(arguments: str, line: int) -> list[str]:
    try:
        return shlex.split(arguments, posix=True)
    except ValueError as error:
        raise DockerfileProblem(f"line {line}: cannot read the quoting of `{arguments[:60]}` ({error})") from None


def _pairs(arguments: str, line: int, keyword: str) -> dict[str, str]:
    """KEY=VALUE pairs, or the legacy single `KEY VALUE` form."""
    words = _split(arguments, line)
    if words and "=" not in words[0]:
        if len(words) < 2 and keyword != "ARG":
            raise DockerfileProblem(f"line {line}: {keyword} `{arguments}` has no value")
        return {words[0]: " ".join(words[1:])}
    pairs = {}
    for word in words:
        key, separator, value = word.partition("=")
        if not separator or not key:
            raise DockerfileProblem(f"line {line}: `{word}` in {keyword} is not KEY=VALUE")
        pairs[key] = value
    return pairs


def _command_words(arguments: str) -> list[str]:
    """The exec form's JSON array, or the shell form run the way Docker runs it."""
    try:
        words = json.loads(arguments)
    except (ValueError, RecursionError):
        words = None
    if isinstance(words, list) and all(isinstance(word, str) for word in words):
        return words
    return ["/bin/sh", "-c", arguments]


def final_stage(text: str) -> FinalStage:
    stage = None
    for line, keyword, arguments in instructions(text):
        if keyword == "FROM":
            words = _split(arguments, line)
            images = [word for word in words if not word.startswith("--")]
            stage = FinalStage(line, images[0] if images else "")
        elif stage is None:
            continue  # global ARGs before the first FROM are not visible in a stage unless redeclared
        elif keyword == "ARG":
            for word in _split(arguments, line):
                name, separator, default = word.partition("=")
                stage.args[name] = default if separator else None
        elif keyword == "ENV":
            stage.env.update(_pairs(arguments, line, keyword))
        elif keyword == "LABEL":
            for key, value in _pairs(arguments, line, keyword).items():
                stage.labels[key] = Label(key, value, line)
        elif keyword in ("ENTRYPOINT", "CMD"):
            setattr(stage, keyword.lower(), (line, _command_words(arguments)))
    if stage is None:
        raise DockerfileProblem("has no FROM instruction, so it builds no image")
    return stage
