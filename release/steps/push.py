"""The push step: the chart as a Helm OCI artifact, under `oci://<registry>/<name>:<version>`.

The artifact — config, layers, manifest bytes — is built when the step is made, so the plan
shows the manifest digest the tag will hold before anything is sent. Running it is
`release.oci.publish.publish_upload`: HEAD first, blobs, tag last, tag read back.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.steps.base import Runtime, StepCheck, StepOutcome

if TYPE_CHECKING:
    from release.oci.publish import ChartUpload, PackageLike


@dataclass(frozen=True)
class PushStep:
    upload: ChartUpload
    force: bool = False
    name: str = "push"

    @property
    def reference(self) -> str:
        return self.upload.ref.oci

    def describe(self) -> str:
        return (f"{self.reference} as {self.upload.digest}"
                + (" (--force: overwrites different content)" if self.force else ""))

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "reference": self.reference,
                "manifest_digest": self.upload.digest, "force": self.force,
                "layers": [b.descriptor() for b in self.upload.artifact.blobs]}

    def check(self, runtime: Runtime) -> StepCheck:
        from release.oci.publish import published_state

        client = runtime.registry(self.upload.ref, push=False)
        state, current = published_state(self.upload, client)
        if state == "absent":
            return StepCheck(self.name, "would create", f"{self.reference} is not published")
        if state in ("same", "same-but-signature"):
            return StepCheck(self.name, "already done", f"{self.reference} is {current}")
        return StepCheck(self.name, "would create" if self.force else "would conflict",
                         f"{self.reference} holds {current}, not {self.upload.digest}"
                         + (" (--force overwrites it)" if self.force else ""))

    def run(self, runtime: Runtime) -> StepOutcome:
        from release.oci.publish import publish_upload

        result = publish_upload(self.upload, runtime.registry(self.upload.ref, push=True),
                                force=self.force)
        return StepOutcome(self.name, result.status, result.message(),
                           result.status != "already-published",
                           {"oci-reference": self.reference, "manifest-digest": result.digest,
                            "oci-repository": f"{self.upload.ref.host}/"
                                              f"{self.upload.ref.repository}"},
                           result.as_dict())


def push_step(package: PackageLike, registry: str, *, prov: Path | None = None,
              plain_http: bool = False, force: bool = False,
              source: str | None = None) -> PushStep:
    """The push of `package` (and its `.prov`, when signed) to `registry` (oci://host/ns);
    `source` is the repository's web address, named in the manifest when Chart.yaml has no
    `sources` (so GHCR links the package)."""
    from release.oci.publish import prepare_upload

    return PushStep(prepare_upload(package, registry, plain_http=plain_http, prov=prov,
                                   source=source), force)
