"""The final stage of a Dockerfile: its ARGs, ENVs and LABELs, read the way BuildKit reads them:
parser directives (`# escape=`), line continuations, comments, heredocs (`RUN <<EOF`), quoting
(no expansion inside single quotes or after an escaped `\\$`), `${VAR:-default}`-style
substitutions, and global ARGs (before the first FROM) that a stage redeclares without a value."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

_DIRECTIVE = re.compile(r"#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*")
# `<<EOF`, `<<-EOF`, `<<"EOF"`: the body runs to a line holding only the word.
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][\w.-]*)\2")
_HEREDOC_INSTRUCTIONS = {"RUN", "COPY", "ADD"}
# A `$` BuildKit leaves alone (escaped, or inside single quotes), kept apart from real references.
LITERAL_DOLLAR = "\0"
_VARIABLE = re.compile(r"\$(?:\{(\w+)(?:(:?[-+?])([^}]*))?\}|(\w+))")


class DockerfileProblem(Exception):
    pass


class _BuildTimeValue(Exception):
    """A variable whose value only the build decides (an ARG without a default)."""


@dataclass
class Label:
    key: str
    raw: str  # the value as BuildKit's lexer leaves it, literal dollars marked
    line: int

    @property
    def value(self) -> str:
        return self.raw.replace(LITERAL_DOLLAR, "$")

    @property
    def variables(self) -> list[str]:
        """Every variable the value refers to."""
        return [match.group(1) or match.group(4) for match in _VARIABLE.finditer(self.raw)]

    @property
    def required_variables(self) -> list[str]:
        """Variables the value is empty without: not those with a non-empty `${VAR:-default}`."""
        return [
            match.group(1) or match.group(4)
            for match in _VARIABLE.finditer(self.raw)
            if not (match.group(2) in (":-", "-") and match.group(3))
        ]


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
        """The label's value as far as the Dockerfile alone decides it, substitutions applied as
        BuildKit applies them; None when it depends on a build argument given at build time."""
        known = {**{k: v for k, v in self.args.items() if v is not None}, **self.env}
        try:
            value = _VARIABLE.sub(lambda match: _substitute(match, known, self.args), label.raw)
        except _BuildTimeValue:
            return None
        return value.replace(LITERAL_DOLLAR, "$")


def _substitute(match: re.Match, known: dict, declared: dict) -> str:
    name, operator, word = match.group(1) or match.group(4), match.group(2), match.group(3) or ""
    if name in known:
        value, is_set = known[name], True
    elif name in declared:
        raise _BuildTimeValue(name)
    else:
        value, is_set = "", False
    if operator == ":-":
        return value or word
    if operator == "-":
        return value if is_set else word
    if operator == ":+":
        return word if value else ""
    if operator == "+":
        return word if is_set else ""
    return value  # plain, or `?` (the build fails when unset; the value is the value)


def _escape_character(lines: list[str]) -> str:
    """The escape character set by a parser directive at the top of the file (default `\\`)."""
    for line in lines:
        directive = _DIRECTIVE.fullmatch(line)
        if not directive:
            break  # directives end at the first other line
        if directive.group(1).lower() == "escape":
            return directive.group(2)[:1]
    return "\\"


def instructions(text: str):
    """(line number, keyword, arguments) per instruction, continuations joined; heredoc bodies
    are part of their instruction's arguments, never instructions themselves."""
    lines = text.splitlines()
    escape = _escape_character(lines)
    current, start, index = "", 0, 0
    while index < len(lines):
        stripped = lines[index].strip()
        index += 1
        if stripped.startswith("#") or not stripped:
            continue  # comments and blank lines may sit between continuation lines (BuildKit skips both)
        if not current:
            start = index
        if stripped.endswith(escape):
            current += stripped[: -len(escape)].rstrip() + " "  # one space where the lines join
            continue
        current += stripped
        keyword, _, arguments = current.strip().partition(" ")
        keyword = keyword.upper()
        if keyword in _HEREDOC_INSTRUCTIONS:
            for strip_tabs, _, word in _HEREDOC.findall(arguments):
                while index < len(lines):
                    body = lines[index]
                    index += 1
                    if (body.lstrip("\t") if strip_tabs else body) == word:
                        break
                    arguments += "\n" + body
        yield start, keyword, arguments.strip()
        current = ""
    if current.strip():
        keyword, _, arguments = current.strip().partition(" ")
        yield start, keyword.upper(), arguments.strip()


def _split(arguments: str, line: int, escape: str = "\\") -> list[str]:
    """Shell-like words as BuildKit's lexer makes them: quotes removed, escapes applied, and every
    `$` that will not be expanded replaced by LITERAL_DOLLAR."""
    words: list[str] = []
    current: list[str] = []
    in_word, quote, index = False, None, 0
    while index < len(arguments):
        character = arguments[index]
        index += 1
        if quote == "'":
            if character == "'":
                quote = None
            else:
                current.append(LITERAL_DOLLAR if character == "$" else character)
        elif quote == '"':
            if character == '"':
                quote = None
            elif character == escape and index < len(arguments) and arguments[index] in ('"', "$", escape):
                current.append(LITERAL_DOLLAR if arguments[index] == "$" else arguments[index])
                index += 1
            else:
                current.append(character)
        elif character == escape and index < len(arguments):
            current.append(LITERAL_DOLLAR if arguments[index] == "$" else arguments[index])
            index += 1
            in_word = True
        elif character.isspace():
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
        else:
            if character in "'\"":
                quote = character
            else:
                current.append(character)
            in_word = True
    if quote:
        raise DockerfileProblem(f"line {line}: an unclosed {quote} quote in `{arguments[:60]}`")
    if in_word:
        words.append("".join(current))
    return words


def _pairs(arguments: str, line: int, keyword: str, escape: str) -> dict[str, str]:
    """KEY=VALUE pairs, or the legacy single `KEY VALUE` form."""
    words = _split(arguments, line, escape)
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
def _args(arguments: str, line: int, escape: str) -> dict[str, str | None]:
    declared = {}
    for word in _split(arguments, line, escape):
        name, separator, default = word.partition("=")
        declared[name] = default if separator else None
    return declared


def final_stage(text: str) -> FinalStage:
    escape = _escape_character(text.splitlines())
    stage, before_first_from = None, {}
    for line, keyword, arguments in instructions(text):
        if keyword == "FROM":
            words = _split(arguments, line, escape)
            images = [word for word in words if not word.startswith("--")]
            stage = FinalStage(line, images[0].replace(LITERAL_DOLLAR, "$") if images else "")
        elif keyword == "ARG":
            declared = _args(arguments, line, escape)
            if stage is None:
                before_first_from.update(declared)
                continue
            for name, default in declared.items():
                # BuildKit: a stage's `ARG NAME` without a value takes the global ARG's default.
                stage.args[name] = default if default is not None else before_first_from.get(name)
        elif stage is None:
            continue
        elif keyword == "ENV":
            stage.env.update(_pairs(arguments, line, keyword, escape))
        elif keyword == "LABEL":
            for key, value in _pairs(arguments, line, keyword, escape).items():
                key = key.replace(LITERAL_DOLLAR, "$")
                stage.labels[key] = Label(key, value, line)
        elif keyword in ("ENTRYPOINT", "CMD"):
            setattr(stage, keyword.lower(), (line, _command_words(arguments)))
    if stage is None:
        raise DockerfileProblem("has no FROM instruction, so it builds no image")
    return stage
