"""A packaged chart as the OCI artifact Helm writes: config blob, chart layer, optional .prov layer.

The bytes follow Helm 4 (`helm push`): the config is the chart metadata serialised the way Go's
encoding/json writes Helm's Metadata struct (field order, omitted empties, `<>&` escaped), the
manifest has no top-level mediaType, and the annotations are Helm's (title, version,
description, url, source, authors, created) plus Chart.yaml's own, which may override all but
title and version. One addition: a chart without `sources` still gets
`org.opencontainers.image.source` (the repository's web address, given by the caller), because
GHCR links a package to its repository by that annotation — with it, the repository's workflows
may write the package and its page links back; Helm's own bytes are kept whenever Chart.yaml
names a source. `created` is the commit time, so one commit gives one manifest digest on every
machine and every run; with the same `created`, our manifest is byte-identical to Helm's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release.oci.content import MAX_MANIFEST, OCI_MANIFEST, Blob, sha256_digest
from release.timefmt import rfc3339

CONFIG_MEDIA_TYPE = "application/vnd.cncf.helm.config.v1+json"
CHART_MEDIA_TYPE = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
PROV_MEDIA_TYPE = "application/vnd.cncf.helm.chart.provenance.v1.prov"

# Go field order of Helm's chart Metadata / Maintainer / Dependency structs (all omitempty).
_METADATA_FIELDS = ("name", "home", "sources", "version", "description", "keywords",
                    "maintainers", "icon", "apiVersion", "condition", "tags", "appVersion",
                    "deprecated", "annotations", "kubeVersion", "dependencies", "type")
_MAINTAINER_FIELDS = ("name", "email", "url")
_DEPENDENCY_FIELDS = ("name", "version", "repository", "condition", "tags", "enabled",
                      "import-values", "alias")
ANN = "org.opencontainers.image."


def go_json(value: Any) -> bytes:
    """Compact JSON as Go's encoding/json writes it (HTML-safe escapes, UTF-8 kept)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text.encode("utf-8")


def _empty(value: Any) -> bool:
    return value is None or value is False or value == "" or value == [] or value == {}


def _ordered(data: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {k: data[k] for k in fields if k in data and not _empty(data[k])}


def helm_config(metadata: Mapping[str, Any]) -> bytes:
    """The config blob: Chart.yaml metadata in Helm's field order."""
    out = _ordered(metadata, _METADATA_FIELDS)
    if "maintainers" in out:
        out["maintainers"] = [_ordered(m, _MAINTAINER_FIELDS) for m in out["maintainers"]
                              if isinstance(m, Mapping)]
    if "dependencies" in out:
        out["dependencies"] = [_ordered(d, _DEPENDENCY_FIELDS) for d in out["dependencies"]
                               if isinstance(d, Mapping)]
    if "annotations" in out:
        out["annotations"] = {str(k): str(v) for k, v in sorted(out["annotations"].items())}
    return go_json(out)


def helm_annotations(metadata: Mapping[str, Any], created: int,
                     source: str | None = None) -> dict[str, str]:
    """Manifest annotations as `helm push` writes them; `source` stands in for Chart.yaml's
    `sources[0]` when the chart names none (see the module docstring)."""
    out: dict[str, str] = {}

    def put(key: str, value: Any) -> None:
        if not _empty(value):
            out[ANN + key] = str(value)

    put("description", metadata.get("description"))
    put("title", metadata.get("name"))
    put("version", metadata.get("version"))
    put("url", metadata.get("home"))
    put("created", rfc3339(created))
    sources = metadata.get("sources") or []
    first = sources[0] if isinstance(sources, list) and sources else None
    put("source", source if _empty(first) else first)
    authors = []
    for m in metadata.get("maintainers") or []:
        if isinstance(m, Mapping) and m.get("name"):
            authors.append(f"{m['name']} ({m['email']})" if m.get("email") else str(m["name"]))
    put("authors", ", ".join(authors))
    for key, value in (metadata.get("annotations") or {}).items():
        if key in (ANN + "title", ANN + "version"):
            continue  # Helm keeps the chart's own name and version here
        out[str(key)] = str(value)
    return dict(sorted(out.items()))


@dataclass(frozen=True)
class Artifact:
    """Everything to upload, and the manifest that ties it together (written last)."""

    config: Blob
    layers: tuple[Blob, ...]
    manifest: bytes
    media_type: str = OCI_MANIFEST

    @property
    def digest(self) -> str:
        return sha256_digest(self.manifest)

    @property
    def blobs(self) -> tuple[Blob, ...]:
        return (self.config, *self.layers)

    @property
    def chart_layer(self) -> Blob:
        return next(b for b in self.layers if b.media_type == CHART_MEDIA_TYPE)


def build_artifact(archive: Path, metadata: Mapping[str, Any], created: int,
                   prov: Path | None = None, source: str | None = None) -> Artifact:
    """Config + chart layer (+ provenance layer) → manifest bytes, deterministically; `source`
    is the repository address used when Chart.yaml names no source."""
    config = Blob.from_bytes(helm_config(metadata), CONFIG_MEDIA_TYPE)
    layers = [Blob.from_file(archive, CHART_MEDIA_TYPE)]
    if prov is not None:
        layers.append(Blob.from_file(prov, PROV_MEDIA_TYPE))
    manifest = {
        "schemaVersion": 2,
        "config": config.descriptor(),
        "layers": [b.descriptor() for b in layers],
        "annotations": helm_annotations(metadata, created, source),
    }
    return Artifact(config, tuple(layers), go_json(manifest))


def manifest_too_big(artifact: Artifact) -> bool:
    return len(artifact.manifest) > MAX_MANIFEST
