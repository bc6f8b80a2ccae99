"""Fixes for standard 2 — Project layout: git-ignore datasets/ and weights/ (appended to
.gitignore, so they win over an earlier `!datasets/`; the file is created when missing)."""

from snitch.fixes import ensure_final_newline
from snitch.standards.standard_2 import folders_not_listed

FILE = ".gitignore"


def ignore_datasets_and_weights(text: str, project, parameters) -> str:
    missing = folders_not_listed(text.encode())
    if not missing:  # listed, yet git still tracks or un-ignores them: a decision for the team
        return text
    return ensure_final_newline(text) + "".join(f"{line}\n" for line in missing)


FIXES = {"test_datasets_and_weights_are_gitignored": ignore_datasets_and_weights}
