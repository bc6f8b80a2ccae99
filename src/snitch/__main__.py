"""`python -m snitch` is the `snitch` command."""

from snitch.cli.main import run

run()
