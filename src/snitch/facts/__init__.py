"""What the standards read from a project: serve.py's analysis and its summary, tracing, names,
the weights URI, the release ref, the service settings, the README and the OpenAPI document,
the pipeline's .gitlab-ci.yml facts.

May import: `snitch.violation`, `snitch.read` and other modules of `snitch.facts`."""
