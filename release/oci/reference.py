"""`oci://host[:port]/namespace` + chart name + version → the repository and tag to publish.

Helm lands `mychart-1.2.3.tgz` pushed to `oci://ghcr.io/org/charts` at
`ghcr.io/org/charts/mychart:1.2.3`; OCI tags cannot hold `+`, so Helm writes `_` instead.
Plain HTTP is only for loopback registries and only when asked: credentials never travel in
clear text to a remote host.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from release.errors import BadInput
from release.origin import is_loopback_host

TAG_RE = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}")
# distribution's repository name grammar: path components of lowercase alphanumerics + separators
_COMPONENT = r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*"
REPOSITORY_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*")
_HOST_RE = re.compile(r"(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::\d{1,5})?")


class ChartRef(NamedTuple):
    """Where one chart version lives: `host/repository:tag`."""

    host: str  # host[:port], as written
    repository: str  # namespace/chart
    tag: str
    plain_http: bool = False

    def __str__(self) -> str:
        return f"{self.host}/{self.repository}:{self.tag}"

    @property
    def oci(self) -> str:
        return f"oci://{self}"


def split_registry(registry: str) -> tuple[str, str]:
    """`oci://host[:port]/namespace` → (host, namespace); namespace may be empty."""
    text = registry.strip()
    if not text.startswith("oci://"):
        raise BadInput(f"registry {registry!r} is not an oci:// reference",
                       "write it as oci://HOST/NAMESPACE, e.g. oci://ghcr.io/ameideio/charts")
    rest = text[len("oci://"):].rstrip("/")
    host, _, namespace = rest.partition("/")
    if not host or not _HOST_RE.fullmatch(host):
        raise BadInput(f"registry {registry!r} has no valid host",
                       "write it as oci://HOST[:PORT]/NAMESPACE")
    if any(c in namespace for c in ":@?#"):
        raise BadInput(f"registry {registry!r} names a tag or digest",
                       "give only the namespace; the chart name and version are added for you")
    if namespace and not REPOSITORY_RE.fullmatch(namespace):
        raise BadInput(f"registry namespace {namespace!r} is not a valid OCI repository path",
                       "use lowercase letters, digits and . _ - separated by /")
    return host, namespace


def tag_for_version(version: str) -> str:
    """Helm's mapping of a chart version to an OCI tag (`+` → `_`), validated."""
    tag = version.replace("+", "_")
    if not TAG_RE.fullmatch(tag):
        raise BadInput(f"chart version {version!r} cannot be an OCI tag",
                       "use a SemVer version of letters, digits, '.', '-' and '+' (max 128)")
    return tag


def chart_ref(registry: str, name: str, version: str, *, plain_http: bool = False) -> ChartRef:
    """The reference `helm pull oci://<registry>/<name> --version <version>` resolves to."""
    host, namespace = split_registry(registry)
    repository = f"{namespace}/{name}" if namespace else name
    if not REPOSITORY_RE.fullmatch(repository):
        raise BadInput(f"chart name {name!r} is not a valid OCI repository name",
                       "use lowercase letters, digits and '-' in Chart.yaml's name")
    if plain_http and not is_loopback_host(host):
        raise BadInput(f"--plain-http asked for {host}, which is not a loopback address",
                       "plain HTTP is only for local test registries; use HTTPS for real ones")
    return ChartRef(host=host, repository=repository, tag=tag_for_version(version),
                    plain_http=plain_http)
