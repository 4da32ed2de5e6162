"""Every bound on what we read from outside, in one place.

Registries, GitHub, archives, YAML files and git refs are hostile until bounded: each reader
checks its input against one of these numbers and refuses, with a one-line message, what is
larger, deeper or slower. Where a tool we interoperate with has its own limit we use the same
number, so nothing we accept is refused by Helm or a registry later.
"""

from __future__ import annotations

MiB = 1024 * 1024

# --- archives (Helm: pkg/chart/loader/archive/archive.go) ---------------------------------------
CHART_DECOMPRESSED_MAX = 100 * MiB  # MaxDecompressedChartSize: all files of a chart together
CHART_FILE_MAX = 5 * MiB  # MaxDecompressedFileSize: Helm v4.2 still refuses larger files
ARCHIVE_MEMBERS_MAX = 20_000  # a chart with more files than this is not a chart

# --- YAML (Chart.yaml, values.yaml, index.yaml, artifacthub-repo.yml) ----------------------------
YAML_DOCUMENT_MAX = 5 * MiB  # one chart file; index.yaml has its own limit below
INDEX_DOCUMENT_MAX = 64 * MiB  # a Helm repository index.yaml (a 3,000-version index is ~2 MiB)
YAML_NODES_MAX = 1_000_000  # nodes after expanding aliases: a billion-laughs document stops here
YAML_DEPTH_MAX = 200  # nesting; Go's yaml.v3 and libyaml have similar guards

# --- git history (commit messages are anyone's text) --------------------------------------------
COMMIT_FIELD_MAX = 256 * 1024  # bytes of one commit's message (or name, email) read; the rest is
# skipped. GitHub caps a pull request body at 65,536 characters, so a squash merge fits easily.
TAG_NAMES_MAX = 1_000_000  # tags one repository may hold: far above any real history's
PACKED_REFS_MAX = 256 * MiB  # a packed-refs file (1,000,000 tags take about 70 MiB)

# --- the project's own release-notes templates (run sandboxed) ------------------------------------
TEMPLATE_MAX = 256 * 1024  # bytes of one template file
TEMPLATE_WORK_MAX = 10_000_000  # range() items and repeated characters one render may produce
RENDERED_MAX = 64 * MiB  # characters one template renders (a 53k-commit changelog is ~10 MiB)

# --- Artifact Hub annotations (CRD and example files, values written as YAML) ---------------------
ANNOTATION_SOURCE_FILES_MAX = 500  # YAML files in the CRD or the examples directory
ANNOTATION_VALUE_MAX = 1 * MiB  # characters of one annotation value: far above any real one
ANNOTATION_DEPTH_MAX = 64  # nesting of a value written as YAML
ANNOTATION_NODES_MAX = 200_000  # YAML nodes of one annotation value (aliases count every use)

# --- index.html (a page made from a hostile index.yaml) -------------------------------------------
PAGE_ROWS_MAX = 2_000  # chart sections and version rows together (~2 KB each); the rest counted
PAGE_DESCRIPTION_MAX = 1_000  # characters of a description shown
PAGE_FIELD_MAX = 200  # characters of any other text shown

# --- registries (distribution, GHCR) -------------------------------------------------------------
MANIFEST_MAX = 4 * MiB  # distribution and GHCR refuse bigger manifests; we read no more
TOKEN_RESPONSE_MAX = 1 * MiB  # a token service answer
ERROR_BODY_MAX = 64 * 1024  # what we read of an error answer to explain it
SIGNATURE_LAYER_MAX = 1 * MiB  # one signature or attestation layer (a SLSA bundle is ~10 KiB)
SIGNATURE_READS_MAX = 64  # manifests and layers `verify` reads to list what protects a digest

# --- GitHub ----------------------------------------------------------------------------------------
GITHUB_RESPONSE_MAX = 16 * MiB  # one REST answer (a release with 1,000 assets is ~1 MiB)

# --- time (seconds) ------------------------------------------------------------------------------
CONNECT_TIMEOUT = 5.0  # a host that does not accept the connection in 5 s is down
READ_TIMEOUT = 20.0  # silence between bytes (and before the first byte of an answer)
WRITE_TIMEOUT = 20.0
REQUEST_DEADLINE = 120.0  # one request from first byte sent to last byte read, drip or not
STEP_DEADLINE = 600.0  # one release step (all its requests and retries)
RETRY_TRIES = 5  # per request, the first try included
