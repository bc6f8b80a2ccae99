"""The `snitch` command: its options and subcommands (`main`), `snitch new` (`new`, which renders
the model project template) and the handling of its output streams (`streams`).

May import anything in snitch; nothing but `snitch.__main__` imports the command (the shared
pipeline's command uses `snitch.cli.streams` for its output streams)."""


def __getattr__(name: str):
    """`snitch.cli.run`, the command's entry point before it moved to `snitch.cli.main`: a
    `snitch` script written by an older install (pip writes `from snitch.cli import run`) keeps
    working until the package is installed again. Imported on demand, so that the shared
    pipeline's use of `snitch.cli.streams` does not load the command."""
    if name == "run":
        from snitch.cli.main import run

        return run
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
