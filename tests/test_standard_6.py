"""Standard 6 — Image labels, in the Dockerfile and (with --image) in a built image."""

import hashlib
import json

import pytest

from fixtures.checker import MODEL, assert_only_failure, edit, passed_on_compliant, run_checks

DOCKERFILE = "Dockerfile"
GOOD_LABELS = {
    "author": "ml-team@example.com",
    "version": "1.2.0",
    "model": MODEL,
    "org.label-schema.version": "1.2.0",
    "org.label-schema.name": MODEL,
    "org.label-schema.build-date": "2026-11-22T09:30:00Z",
    "org.label-schema.vcs-ref": "3f2a1c9e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39",
    "org.label-schema.vcs-url": "https://gitlab.com/ml/iris-classifier",
    "org.label-schema.vendor": "ML Platform",
    "org.label-schema.schema-version": "1.0",
}


def oci_layout(folder, labels, tag="latest"):
    """A minimal OCI image layout (index.json -> manifest -> config), as buildah push oci: writes."""
    blobs = folder / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def blob(document):
        data = json.dumps(document).encode()
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return {"digest": f"sha256:{digest}", "size": len(data)}

    config = blob({"architecture": "amd64", "os": "linux", "config": {"Labels": labels}, "rootfs": {"type": "layers", "diff_ids": []}})
    manifest = blob({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                     "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **config}, "layers": []})
    (folder / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", **manifest,
        "annotations": {"org.opencontainers.image.ref.name": tag}}]}))
    (folder / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return folder


def test_dockerfile_final_stage_sets_required_labels(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_dockerfile_final_stage_sets_required_labels")
    edit(compliant / DOCKERFILE, 'org.label-schema.vendor="ML Platform"', 'description="iris"')
    run = run_checks(compliant, 6)
    assert_only_failure(run, 6, "test_dockerfile_final_stage_sets_required_labels", DOCKERFILE,
                        "does not set: org.label-schema.vendor")


def test_labels_of_an_earlier_stage_do_not_count(compliant):
    text = (compliant / DOCKERFILE).read_text()
    (compliant / DOCKERFILE).write_text(text + "\nFROM gcr.io/distroless/python3 AS final\nCOPY --from=0 /app /app\n")
    run = run_checks(compliant, 6)
    assert run.failed() >= {"test_dockerfile_final_stage_sets_required_labels", "test_model_label_is_model_name"}
    assert "FROM gcr.io/distroless/python3" in run.check("test_dockerfile_final_stage_sets_required_labels")["message"]


def test_label_values_are_not_empty(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_label_values_are_not_empty")
    edit(compliant / DOCKERFILE, "ARG VCS_REF\n", "")
    edit(compliant / DOCKERFILE, 'org.label-schema.vendor="ML Platform"', 'org.label-schema.vendor=""')
    run = run_checks(compliant, 6)
    result = assert_only_failure(run, 6, "test_label_values_are_not_empty", DOCKERFILE, "2 label(s) would be empty")
    assert "org.label-schema.vcs-ref" in result["message"] and "${VCS_REF}, which no ARG or ENV" in result["message"]
    assert "org.label-schema.vendor" in result["message"] and "is empty" in result["message"]


def test_model_label_is_model_name(compliant_report, compliant):
    passed_on_compliant(compliant_report, "test_model_label_is_model_name")
    edit(compliant / DOCKERFILE, f'model="{MODEL}"', 'model="iris"')
    run = run_checks(compliant, 6)
    assert_only_failure(run, 6, "test_model_label_is_model_name", DOCKERFILE,
                        f"the model label is 'iris', not the model name '{MODEL}'")


def test_model_label_from_build_arg_default(compliant):
    edit(compliant / DOCKERFILE, f'model="{MODEL}"', 'model="${MODEL_NAME}"')
    edit(compliant / DOCKERFILE, "ARG VCS_URL\n", f"ARG VCS_URL\nARG MODEL_NAME={MODEL}\n")
    assert run_checks(compliant, 6).code == 0


def test_built_image_has_required_labels(compliant_report, compliant, tmp_path):
    skipped = compliant_report.check("test_built_image_has_required_labels")
    assert skipped["outcome"] == "skipped" and "--image" in skipped["message"]
    good = oci_layout(tmp_path / "good", GOOD_LABELS)
    assert run_checks(compliant, 6, image=f"oci:{good}:latest").code == 0
    labels = {**GOOD_LABELS, "org.label-schema.vcs-url": ""}
    del labels["author"]
    bad = oci_layout(tmp_path / "bad", labels)
    run = run_checks(compliant, 6, image=f"oci:{bad}")
    assert_only_failure(run, 6, "test_built_image_has_required_labels", f"oci:{bad}:latest",  # the image checked, named
                        "the image has no value for: author, org.label-schema.vcs-url")


def test_built_image_label_values(compliant, tmp_path):
    labels = {**GOOD_LABELS, "model": "iris", "org.label-schema.vcs-ref": "main",
              "org.label-schema.build-date": "22/11/2026"}
    bad = oci_layout(tmp_path / "bad", labels)
    run = run_checks(compliant, 6, image=str(bad))
    result = assert_only_failure(run, 6, "test_built_image_label_values", f"oci:{bad}:latest", "3 label value(s) are wrong")
    assert "'main' is not a git commit SHA" in result["message"]
    assert "'22/11/2026' is not an RFC 3339 date-time" in result["message"]


@pytest.mark.parametrize("shape", ["skopeo-config", "skopeo", "buildah", "docker"])
def test_built_image_from_inspect_json(compliant, tmp_path, shape):
    document = {
        "skopeo-config": {"config": {"Labels": GOOD_LABELS}},
        "skopeo": {"Name": "x", "Labels": GOOD_LABELS},
        "buildah": {"OCIv1": {"config": {"Labels": GOOD_LABELS}}},
        "docker": [{"Config": {"Labels": GOOD_LABELS}}],
    }[shape]
    path = tmp_path / "inspect.json"
    path.write_text(json.dumps(document))
    assert run_checks(compliant, 6, image=str(path)).code == 0


def test_unreadable_image_fails_clearly(compliant, tmp_path):
    run = run_checks(compliant, 6, image=str(tmp_path / "nope"))
    assert run.code == 1
    result = run.check("test_built_image_has_required_labels")
    assert "does not exist" in result["message"] and "how to fix:" in result["message"]
    (tmp_path / "broken.json").write_text("{not json")
    run = run_checks(compliant, 6, image=str(tmp_path / "broken.json"))
    assert "is not readable JSON" in run.check("test_built_image_has_required_labels")["message"]
    values = run.check("test_built_image_label_values")
    assert values["outcome"] == "skipped" and "requires 6.test_built_image_has_required_labels" in values["message"]


def test_an_annotations_list_is_not_a_crash(compliant, tmp_path):
    layout = oci_layout(tmp_path / "image", GOOD_LABELS)
    index = json.loads((layout / "index.json").read_text())
    index["manifests"][0]["annotations"] = ["org.opencontainers.image.ref.name=latest"]
    (layout / "index.json").write_text(json.dumps(index))
    run = run_checks(compliant, 6, image=f"oci:{layout}:latest")
    assert run.code == 1 and "error" not in {check["outcome"] for check in run.report["checks"]}, run.stdout
    assert "no image tagged 'latest'" in run.check("test_built_image_has_required_labels")["message"]


def add_image(layout, labels, tag):
    """Another image in the same layout, as a second `buildah push ... oci:DIR:TAG` adds one."""
    other = oci_layout(layout.parent / f"other-{tag}", labels, tag)
    for blob in (other / "blobs" / "sha256").iterdir():
        (layout / "blobs" / "sha256" / blob.name).write_bytes(blob.read_bytes())
    index = json.loads((layout / "index.json").read_text())
    index["manifests"] += json.loads((other / "index.json").read_text())["manifests"]
    (layout / "index.json").write_text(json.dumps(index))


def test_a_layout_of_several_images_needs_a_tag(compliant, tmp_path):
    layout = oci_layout(tmp_path / "image", {**GOOD_LABELS, "author": ""}, "v1")
    add_image(layout, GOOD_LABELS, "v2")
    message = run_checks(compliant, 6, image=f"oci:{layout}").check("test_built_image_has_required_labels")["message"]
    assert "holds 2 images (tagged 'v1', 'v2')" in message and f"oci:{layout}:v2" in message
    assert run_checks(compliant, 6, image=f"oci:{layout}:v2").code == 0


def test_the_only_image_of_a_layout_is_named(compliant, tmp_path):
    layout = oci_layout(tmp_path / "image", {**GOOD_LABELS, "author": ""}, "v1")
    message = run_checks(compliant, 6, image=f"oci:{layout}").check("test_built_image_has_required_labels")["message"]
    assert message.startswith(f"oci:{layout}:v1: "), message


def test_a_blank_line_inside_a_label_continuation_is_skipped_as_docker_does(compliant):
    edit(compliant / DOCKERFILE, 'org.label-schema.vendor="ML Platform"', 'org.label-schema.vendor="ML Platform" \\\n\n      extra="x"')
    assert run_checks(compliant, 6).code == 0, run_checks(compliant, 6).stdout
