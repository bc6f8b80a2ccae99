"""Names Kubernetes accepts, declared once for the checker, the template and the pipeline.

A model name becomes a KServe InferenceService's name, which KServe requires to start with a
letter (it also names a Knative service); a namespace or a label value such as a team is a plain
RFC 1123 label, which may start with a digit. The patterns are plain strings that mean the same
to Python's `re` (use `re.fullmatch`), RE2 (GitLab's `spec:inputs` regex) and JavaScript
(gitlab-ci-local): no lookarounds, no `\\Z`, no named groups. Each bounds the length itself, so
a pattern alone enforces the whole rule where only a pattern can be given."""

from __future__ import annotations

import re
import unicodedata

from snitch.violation import BIDI_CONTROLS, shown

NAME_MAX = 63
# KServe's InferenceService name: a letter, then letters, digits and '-', ending alphanumeric.
MODEL_NAME_PATTERN = r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?"
# An RFC 1123 label: namespaces and label values (the team).
DNS_LABEL_PATTERN = r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?"

_MODEL_NAME = re.compile(MODEL_NAME_PATTERN)
_DNS_LABEL = re.compile(DNS_LABEL_PATTERN)
MODEL_NAME_RULE = (
    "a KServe InferenceService name: lower-case letters, digits and '-', starting with a letter, "
    f"ending with a letter or digit, at most {NAME_MAX} characters"
)


def is_dns_label(name: object) -> bool:
    return isinstance(name, str) and _DNS_LABEL.fullmatch(name) is not None


def model_name_problem(name: object) -> str | None:
    """What is wrong with `name` as a model name, and how to fix it; None when it follows the rule."""
    if not isinstance(name, str):
        return f"the model name must be text, not {shown(name)}; use {MODEL_NAME_RULE}"
    if _MODEL_NAME.fullmatch(name):
        return None
    quoted = shown(name)
    if len(name) > NAME_MAX:
        return f"the model name {quoted} has {len(name)} characters, more than {NAME_MAX}; shorten it ({MODEL_NAME_RULE})"
    if name[:1].isdigit():
        return f"the model name {quoted} starts with a digit; start it with a letter ({MODEL_NAME_RULE})"
    return f"the model name {quoted} is not {MODEL_NAME_RULE}"


# A host name (RFC 1035): dot-separated DNS labels, at most 253 characters.
HOST_MAX = 253
# The longest host a model is served under: <model>.staging.<domain> (dev is shorter, production bare).
_LONGEST_HOST_PREFIX = ".staging."


def serving_domain_problem(domain: object, model: str) -> str | None:
    """What is wrong with `domain` as the DNS domain `model` is served under (its environments at
    <model>.<domain>, <model>.staging.<domain> and <model>.dev.<domain>); None when every one of
    those is a host name."""
    if not (isinstance(domain, str) and "." in domain and all(map(is_dns_label, domain.split(".")))):
        return "must be a DNS domain in lower case such as models.example.com"
    longest = f"{model}{_LONGEST_HOST_PREFIX}{domain}"
    if len(longest) > HOST_MAX:
        return (f"makes the staging host {longest[:40]}... {len(longest)} characters long, more than a host name's "
                f"{HOST_MAX}; use a domain of at most {HOST_MAX - len(model) - len(_LONGEST_HOST_PREFIX)} characters")
    return None


# An S3 bucket name (AWS's rules for new buckets): 3-63 lower-case letters, digits, '.' and '-',
# starting and ending alphanumeric, no '..'.
S3_BUCKET_PATTERN = r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]"
_S3_BUCKET = re.compile(S3_BUCKET_PATTERN)


def bucket_problem(name: object) -> str | None:
    """What is wrong with `name` as an S3 bucket name, to follow "<what> is "; None when it is one."""
    if isinstance(name, str) and _S3_BUCKET.fullmatch(name) and ".." not in name:
        return None
    return (
        f"{shown(name)}, not an S3 bucket name: use 3-63 lower-case letters, digits, '.' or '-', "
        "starting and ending with a letter or digit"
    )


def team_problem(name: object) -> str | None:
    """What is wrong with `name` as a team (a Kubernetes label value on the InferenceService), to
    follow "<what> is "."""
    if is_dns_label(name):
        return None
    return (
        f"{shown(name)}, not a team name usable as a Kubernetes label "
        f"(lower-case letters, digits and '-', at most {NAME_MAX} characters)"
    )


LABEL_VALUE_MAX = 1024

# Jinja's openings: to cookiecutter, an answer holding one is a template to run, not text.
_TEMPLATE_MARKUP = re.compile(r"\{\{|\{%|\{#")
TEMPLATE_MARKUP_PROBLEM = (
    "contains template markup ({{ }}, {% %} or {# #}); answers are plain text, never templates. Remove the markup."
)


def answer_text_problem(value: str) -> str | None:
    """What keeps `value` from being a template answer, to follow "<answer> ": template markup, or
    a control character (every answer goes into files as one line)."""
    if template_markup(value):
        return TEMPLATE_MARKUP_PROBLEM
    if control_character(value):
        return "holds a control character (a newline, a tab...); every answer is one line of text"
    return None


def template_markup(text: str) -> bool:
    return _TEMPLATE_MARKUP.search(text) is not None


# Bidirectional controls: they reorder what a reviewer sees in a file without changing its bytes.
_BIDI_CONTROLS = frozenset(BIDI_CONTROLS)


def control_character(text: str) -> bool:
    """Whether `text` holds a character no one-line value may: a C0/C1 control (a newline, a tab,
    NEL), a line or paragraph separator (Python and YAML end lines at U+2028/U+2029 too), or a
    bidirectional control."""
    return any(
        unicodedata.category(character) in ("Cc", "Zl", "Zp") or character in _BIDI_CONTROLS for character in text
    )


def label_value_problem(value: object) -> str | None:
    """What is wrong with `value` as an image label's value in a Dockerfile `LABEL`, to follow
    "<what> is ": nothing at all, or a control character (a newline would end the instruction and
    start another)."""
    if not isinstance(value, str) or not value.strip():
        return f"{shown(value)}, not a label value: give non-empty text"
    if len(value) > LABEL_VALUE_MAX:
        return f"{shown(value)}, {len(value)} characters long; a label value is at most {LABEL_VALUE_MAX}"
    if control_character(value):
        return f"{shown(value)}, which holds a control character (a newline, a tab...); keep a label value on one line"
    return None
