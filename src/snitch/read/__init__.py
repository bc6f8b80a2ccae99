"""Reading a model project's files, bounded, never executing anything: the bounded file reader,
YAML, Dockerfiles, requirements, git's index and history, a built image's labels, the cache of
what was parsed, and `Project`, which reads and parses each file once per run.

May import: `snitch.violation` and other modules of `snitch.read`; nothing that interprets what
was read (`snitch.facts`) nor anything above it."""
