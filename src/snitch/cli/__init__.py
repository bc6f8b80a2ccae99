"""The `snitch` command: its options and subcommands (`main`), `snitch new` (`new`, which renders
the model project template) and the handling of its output streams (`streams`).

May import anything in snitch; nothing but `snitch.__main__` imports the command (the shared
pipeline's command uses `snitch.cli.streams` for its output streams)."""

