"""Pushing a packaged chart in one call, for tests and benchmarks (the product pushes through the
plan's push step: `prepare_upload` when planning, `publish_upload` when executing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from release.oci.artifact import build_artifact
from release.oci.client import RegistryClient
from release.oci.credentials import Credentials
from release.oci.publish import (
    PackageLike,
    PushResult,
    prepare_upload,
    publish_upload,
    registry_client,
)


def push_chart(
    package: PackageLike,
    registry: str,
    *,
    credentials: Credentials | None = None,
    plain_http: bool = False,
    force: bool = False,
    prov: Path | None = None,
    client: RegistryClient | None = None,
    **client_options: Any,
) -> PushResult:
    """`prepare_upload` + `publish_upload` with a client of its own (or the given one)."""
    upload = prepare_upload(package, registry, plain_http=plain_http, prov=prov)
    if client is not None:
        return publish_upload(upload, client, force=force)
    with registry_client(upload.ref, credentials, push=True, **client_options) as own:
        return publish_upload(upload, own, force=force)


def expected_digest(package: PackageLike, prov: Path | None = None) -> str:
    """The manifest digest a push of `package` produces (no network)."""
    return build_artifact(package.path, package.metadata, package.created, prov).digest
