"""A built image's labels, read without a container engine: from an OCI image layout
(index.json -> manifest -> config) or from the JSON that skopeo, buildah or docker inspect print."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from snitch.read import files
from snitch.violation import FileProblem


def build_argument_labels(parameters: dict) -> dict[str, str]:
    """label -> the build argument (a CI fact) the pipeline's build job sets it from: the release
    version, the build date, the commit and the repository URL, named by the organisation's
    parameters. The build job sets them, the template's Dockerfile declares them from these
    arguments and `snitch --fix` adds them the same way."""
    return {
        **{label: "VERSION" for label in parameters["version_labels"]},
        parameters["build_date_label"]: "BUILD_DATE",
        parameters["vcs_ref_label"]: "VCS_REF",
        parameters["vcs_url_label"]: "VCS_URL",
    }

_LABEL_PATHS = (("Labels",), ("config", "Labels"), ("Config", "Labels"), ("OCIv1", "config", "Labels"))
_TAG_ANNOTATION = "org.opencontainers.image.ref.name"


class ImageProblem(Exception):
    pass


# An OCI descriptor's digest, `algorithm:encoded` (OCI image spec); anything else could walk out
# of blobs/ ("sha256:../../x").
_DIGEST = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+")
# An index may point at another index; real layouts nest one or two deep.
MAX_INDEX_DEPTH = 8


def _read_json(path: Path, what: str):
    try:
        return files.load_json(path)
    except files.Unreadable as problem:
        raise ImageProblem(f"{what} {path} {problem}") from None


def _split_source(source: str) -> tuple[Path, str | None]:
    """`oci:DIR[:TAG]` or a plain path -> (path, tag)."""
    if source.startswith("oci:"):
        location, _, tag = source[4:].partition(":")
        return Path(location), tag or None
    return Path(source), None


def labels(source: str) -> tuple[dict[str, str], str]:
    """The image's labels, and the image named exactly (`oci:DIR:TAG` for a layout's only image)."""
    path, tag = _split_source(source)
    if path.is_dir():
        return _layout_labels(path, tag)
    if not path.exists():
        raise ImageProblem(
            f"{source} does not exist; give an OCI layout directory (oci:DIR[:TAG]) "
            "or a JSON file from `skopeo inspect --config`"
        )
    document = _read_json(path, "image description")
    if isinstance(document, list) and document:  # docker inspect prints a list
        document = document[0]
    for keys in _LABEL_PATHS:
        node = document
        for key in keys:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict):
            return _label_values(node), source
    raise ImageProblem(f"{source} holds no image labels (no Labels object where inspect tools put it)")


def _label_values(found: dict) -> dict[str, str]:
    return {str(k): "" if v is None else str(v) for k, v in found.items()}


_KIND_NAMES = {list: "list", dict: "object", str: "string"}


def _field(node, key: str, kind: type, where: str):
    """node[key] when node is a JSON object holding a `kind` there; else say what is missing."""
    value = node.get(key) if isinstance(node, dict) else None
    if not isinstance(value, kind):
        raise ImageProblem(f"{where} has no `{key}` {_KIND_NAMES[kind]}, so it is not a valid OCI document")
    return value


def _blob(layout: Path, descriptor, what: str):
    digest = _field(descriptor, "digest", str, f"a descriptor of the {what}")
    if not _DIGEST.fullmatch(digest):
        raise ImageProblem(f"OCI layout {layout}: {digest!r} is not an OCI digest (algorithm:hex)")
    algorithm, _, value = digest.partition(":")
    return _read_json(layout / "blobs" / algorithm / value, what)


def _tag_of(descriptor: dict) -> str | None:
    annotations = descriptor.get("annotations")
    tag = annotations.get(_TAG_ANNOTATION) if isinstance(annotations, dict) else None
    return tag if isinstance(tag, str) else None


def _layout_labels(layout: Path, tag: str | None) -> tuple[dict[str, str], str]:
    index_file = layout / "index.json"
    index = _read_json(index_file, "OCI layout index")
    manifests = [m for m in _field(index, "manifests", list, f"OCI layout index {index_file}") if isinstance(m, dict)]
    if tag:
        manifests = [m for m in manifests if _tag_of(m) == tag]
    if not manifests:
        raise ImageProblem(f"OCI layout {layout} has no image{f' tagged {tag!r}' if tag else ''}")
    if len(manifests) > 1:  # which one was meant is not for snitch to guess (the oldest is not the newest build)
        tags = [_tag_of(manifest) for manifest in manifests]
        named = [repr(found) for found in tags if found]
        untagged = len(tags) - len(named)
        listing = ", ".join(named) + (f" and {untagged} untagged" if untagged else "")
        example = f"oci:{layout}:{next((found for found in reversed(tags) if found), 'TAG')}"
        raise ImageProblem(
            f"OCI layout {layout} holds {len(manifests)} images{f' tagged {tag!r}' if tag else ''} "
            f"(tagged {listing}): name the one to check, e.g. {example}"
        )
    chosen = _tag_of(manifests[0])
    name = f"oci:{layout}:{chosen}" if chosen else f"oci:{layout}"
    manifest = _blob(layout, manifests[0], "manifest")
    depth = 0
    while isinstance(manifest, dict) and "manifests" in manifest:  # an image index: take its first image
        depth += 1
        if depth > MAX_INDEX_DEPTH:
            raise ImageProblem(
                f"OCI layout {layout}: image indexes nest more than {MAX_INDEX_DEPTH} deep (does an index refer to itself?)"
            )
        inner = _field(manifest, "manifests", list, f"an image index in {layout}")
        if not inner:
            raise ImageProblem(f"an image index in OCI layout {layout} lists no manifests")
        manifest = _blob(layout, inner[0], "manifest")
    config = _blob(layout, _field(manifest, "config", dict, f"the manifest in {layout}"), "image config")
    settings = config.get("config") if isinstance(config, dict) else None
    found = settings.get("Labels") if isinstance(settings, dict) else None
    return (_label_values(found) if isinstance(found, dict) else {}), name


class BuiltImage:
    """An image given to snitch with --image, read once however many checks ask."""

    def __init__(self, source: str):
        self.source = source

    @functools.cached_property
    def _read(self) -> tuple[dict[str, str] | None, str, str | None]:
        try:
            return *labels(self.source), None
        except ImageProblem as problem:
            return None, self.source, str(problem)

    @property
    def name(self) -> str:
        """The image checked, named exactly: a layout's only image with its tag."""
        return self._read[1]

    def labels(self) -> dict[str, str]:
        found, _, problem = self._read
        if problem:
            raise FileProblem(
                self.source,
                problem,
                "an OCI image layout (oci:DIR[:TAG]) or the JSON of `skopeo inspect --config` for the built image",
                "point --image at what the build wrote, e.g. `buildah push IMAGE oci:build/image:latest`",
            )
        return found
