"""Fixes for standard 2 — Project layout: git-ignore datasets/ and weights/ (appended to
.gitignore, so they win over an earlier `!datasets/`; the file is created when missing)."""

from snitch.checks.test_standard_2 import IGNORE_LINES, UNTRACKED_FOLDERS
from snitch.fixes import ensure_final_newline

FILE = ".gitignore"


def ignore_datasets_and_weights(text: str, project, parameters) -> str:
    lines = {line.strip() for line in text.splitlines()}
    missing = [f"{folder}/" for folder in UNTRACKED_FOLDERS if not lines & {pattern.format(folder) for pattern in IGNORE_LINES}]
    if not missing:  # listed, yet git still tracks or un-ignores them: a decision for the team
        return text
    return ensure_final_newline(text) + "".join(f"{line}\n" for line in missing)


FIXES = {"test_datasets_and_weights_are_gitignored": ignore_datasets_and_weights}
