"""The release of the shared pipeline and snitch that a model project pins.

One value serves the include's `ref`, the pre-commit hook's `rev` and the nox session's pin of
`model-snitch`: the template writes it, standard 9 checks it and `snitch --fix` restores it. It is
the organisation config's `pipeline_ref` when the config names one, else the tag of this snitch
release (`v` + the package version)."""

from __future__ import annotations

from snitch import __version__


def release_tag() -> str:
    """This snitch's own release tag: version 1.0.0 is tagged v1.0.0 (docs/pipeline.md, releases)."""
    return f"v{__version__}"


def pipeline_ref(parameters: dict) -> str:
    """The ref a project pins the shared pipeline at, under the organisation's parameters."""
    return parameters.get("pipeline_ref") or release_tag()
