"""Names Kubernetes accepts, declared once for the checker, the template and the pipeline.

A model name becomes a KServe InferenceService's name, which KServe requires to start with a
letter (it also names a Knative service); a namespace or a label value such as a team is a plain
RFC 1123 label, which may start with a digit. The patterns are plain strings that mean the same
to Python's `re` (use `re.fullmatch`), RE2 (GitLab's `spec:inputs` regex) and JavaScript
(gitlab-ci-local): no lookarounds, no `\\Z`, no named groups. Each bounds the length itself, so
a pattern alone enforces the whole rule where only a pattern can be given."""

from __future__ import annotations

import re

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
        return f"the model name must be text, not a {type(name).__name__}; use {MODEL_NAME_RULE}"
    if _MODEL_NAME.fullmatch(name):
        return None
    shown = repr(name) if len(name) <= 80 else repr(name[:77]) + "..."
    if len(name) > NAME_MAX:
        return f"the model name {shown} has {len(name)} characters, more than {NAME_MAX}; shorten it ({MODEL_NAME_RULE})"
    if name[:1].isdigit():
        return f"the model name {shown} starts with a digit; start it with a letter ({MODEL_NAME_RULE})"
    return f"the model name {shown} is not {MODEL_NAME_RULE}"
