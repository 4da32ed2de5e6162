"""Publishing the packaged chart to OCI registries as a Helm artifact, over httpx.

reference (oci:// refs → repository + tag) · credentials (CLI/env, Helm and Docker config,
helpers) · auth (httpx.Auth: Basic and Bearer challenges, tokens per scope) · client (blobs,
uploads, manifests, retries) · artifact (Helm config, layers, annotations → manifest bytes) ·
publish (push / verify semantics: never overwrite, tag last).
"""
