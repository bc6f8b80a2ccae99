"""`python -m snitch` is the `snitch` command."""

from snitch.cli import main

main(prog_name="snitch")
