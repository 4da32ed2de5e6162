"""The Artifact Hub step: `artifacthub-repo.yml` at the `artifacthub.io` tag of the chart's OCI
repository, where Artifact Hub reads the repository metadata (owners, repositoryID, ignore).

Pushed with the project's own OCI client, as Artifact Hub's docs push it with oras: an OCI image
manifest whose config is the empty blob of media type `application/vnd.cncf.artifacthub.config.
v1+yaml` and whose one layer is the metadata. The bytes are written from the checked metadata
(`release.artifacthub_repo`), so the same file gives the same manifest digest: a re-run sees the
tag at that digest and writes nothing. Unlike a chart version, this tag is meant to change when
the metadata changes: a different digest is updated, not a conflict.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from release.steps.base import Runtime, StepCheck, StepOutcome

if TYPE_CHECKING:
    from release.config import Settings
    from release.oci.artifact import Artifact
    from release.oci.reference import ChartRef


@dataclass(frozen=True)
class ArtifactHubStep:
    ref: ChartRef  # <registry>/<chart>:artifacthub.io
    artifact: Artifact
    name: str = "artifacthub"

    @property
    def digest(self) -> str:
        return self.artifact.digest

    def describe(self) -> str:
        return f"artifacthub-repo.yml as {self.ref.oci} ({self.digest})"

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "reference": self.ref.oci, "manifest_digest": self.digest}

    def check(self, runtime: Runtime) -> StepCheck:
        current = runtime.registry(self.ref, push=False).manifest_digest(self.ref.repository,
                                                                          self.ref.tag)
        if current == self.digest:
            return StepCheck(self.name, "already done", f"{self.ref.oci} is {current}")
        what = "is not there yet" if current is None else f"holds {current}: would update it"
        return StepCheck(self.name, "would create", f"{self.ref.oci} {what}")

    def run(self, runtime: Runtime) -> StepOutcome:
        from release.oci.publish import upload_artifact

        client = runtime.registry(self.ref, push=True)
        current = client.manifest_digest(self.ref.repository, self.ref.tag)
        if current == self.digest:
            return StepOutcome(self.name, "unchanged", f"{self.ref.oci} already holds this "
                               "metadata", False)
        upload_artifact(client, self.ref.repository, self.ref.tag, self.artifact)
        return StepOutcome(self.name, "pushed" if current is None else "updated",
                           self.describe(), True)


def artifacthub_step(settings: Settings, chart_name: str, *,
                     plain_http: bool = False) -> ArtifactHubStep | None:
    """The step for the project's `artifacthub-repo.yml`, or None when there is no such file."""
    from release.artifacthub_repo import (
        REPOSITORY_METADATA_CONFIG,
        REPOSITORY_METADATA_FILE,
        REPOSITORY_METADATA_LAYER,
        REPOSITORY_METADATA_TAG,
        load_repository_metadata,
    )
    from release.oci.artifact import Artifact, go_json
    from release.oci.content import OCI_MANIFEST, Blob
    from release.oci.reference import chart_ref

    metadata = load_repository_metadata(settings.root / REPOSITORY_METADATA_FILE)
    if metadata is None:
        return None
    ref = chart_ref(settings.registry, chart_name, REPOSITORY_METADATA_TAG, plain_http=plain_http)
    config = Blob.from_bytes(b"", REPOSITORY_METADATA_CONFIG)
    layer = Blob.from_bytes(metadata.to_bytes(), REPOSITORY_METADATA_LAYER)
    manifest = go_json({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,  # image-spec: SHOULD be set (Helm's chart manifests omit it)
        "config": config.descriptor(),
        "layers": [layer.descriptor({"org.opencontainers.image.title":
                                     REPOSITORY_METADATA_FILE})],
    })
    return ArtifactHubStep(ref, Artifact(config, (layer,), manifest))
