"""`python -m snitch` is the `snitch` command."""

from snitch.cli import run

run()
