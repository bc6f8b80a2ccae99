"""The Model Promotion Pipeline's job logic (`python -m snitch.pipeline ...`).

The shared GitLab CI file `ci/model-promotion-pipeline.yml` keeps its jobs to one or two lines
each and calls this package, which is versioned and tested with the rest of snitch:

* `build` builds the model image with buildah and records its digest,
* `check-image` runs snitch's standard 6 on the built image's real labels,
* `render` / `validate` produce and check the KServe InferenceService of an environment,
* `deploy` renders, validates, applies it with kubectl and writes a promotion record,
* `rollback` re-applies the manifest of the previous promotion record of an environment.

May import: `snitch.violation`, `snitch.read`, `snitch.facts` (the rules it shares with the
standards: names, weights URIs, service settings), `snitch.standards` (the organisation's
config) and `snitch.cli.streams`; never the checker's engine or command.
"""

from snitch.pipeline.errors import PipelineError

__all__ = ["PipelineError"]
