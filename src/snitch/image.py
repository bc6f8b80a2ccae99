"""A built image's labels, read without a container engine: from an OCI image layout
(index.json -> manifest -> config) or from the JSON that skopeo, buildah or docker inspect print."""

from __future__ import annotations

import functools
import json
from pathlib import Path

from snitch.violation import FileProblem

_LABEL_PATHS = (("Labels",), ("config", "Labels"), ("Config", "Labels"), ("OCIv1", "config", "Labels"))
_TAG_ANNOTATION = "org.opencontainers.image.ref.name"


class ImageProblem(Exception):
    pass


def _read_json(path: Path, what: str):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ImageProblem(f"{what} {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ImageProblem(f"{what} {path} is not readable JSON ({error})") from None


def _split_source(source: str) -> tuple[Path, str | None]:
    """`oci:DIR[:TAG]` or a plain path -> (path, tag)."""
    if source.startswith("oci:"):
        location, _, tag = source[4:].partition(":")
        return Path(location), tag or None
    return Path(source), None


def labels(source: str) -> dict[str, str]:
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
            return {str(k): "" if v is None else str(v) for k, v in node.items()}
    raise ImageProblem(f"{source} holds no image labels (no Labels object where inspect tools put it)")


def _blob(layout: Path, digest: str, what: str):
    algorithm, _, value = digest.partition(":")
    return _read_json(layout / "blobs" / algorithm / value, what)


def _layout_labels(layout: Path, tag: str | None) -> dict[str, str]:
    index = _read_json(layout / "index.json", "OCI layout index")
    manifests = index.get("manifests") or []
    if tag:
        manifests = [m for m in manifests if (m.get("annotations") or {}).get(_TAG_ANNOTATION) == tag]
    if not manifests:
        raise ImageProblem(f"OCI layout {layout} has no image{f' tagged {tag!r}' if tag else ''}")
    descriptor = manifests[0]
    manifest = _blob(layout, descriptor["digest"], "manifest")
    while "manifests" in manifest:  # an image index: take its first image
        manifest = _blob(layout, manifest["manifests"][0]["digest"], "manifest")
    config = _blob(layout, manifest["config"]["digest"], "image config")
    found = (config.get("config") or {}).get("Labels") or {}
    return {str(k): str(v) for k, v in found.items()}


class BuiltImage:
    """An image given to snitch with --image, read once however many checks ask."""

    def __init__(self, source: str):
        self.source = source

    @functools.cached_property
    def _read(self) -> tuple[dict[str, str] | None, str | None]:
        try:
            return labels(self.source), None
        except ImageProblem as problem:
            return None, str(problem)

    def labels(self) -> dict[str, str]:
        found, problem = self._read
        if problem:
            raise FileProblem(
                self.source,
                problem,
                "an OCI image layout (oci:DIR[:TAG]) or the JSON of `skopeo inspect --config` for the built image",
                "point --image at what the build wrote, e.g. `buildah push IMAGE oci:build/image:latest`",
            )
        return found
