"""A Helm chart repository `index.yaml` (what `helm repo add` reads): merge one chart version.

The index is append-only from our side: an existing entry is never rewritten, a version that is
already listed with the same digest is a no-op, and the same version with another digest is a
`Conflict` (a published version must never change under its users). The format follows Helm's
`repo.IndexFile`: `apiVersion: v1`, `entries: {name: [newest SemVer first]}`, each entry the chart
metadata plus `urls`, `created` and `digest` (bare sha256 hex of the archive), and `generated`.
Helm parses the index strictly, so new entries carry only the metadata fields Helm knows.

Output is deterministic (sorted keys, times from the commit clock, `generated` = the newest of
the previous `generated` and this chart's `created`) so two runs of one release write the same
bytes, and the file is replaced atomically so a crash never leaves half an index behind.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from release import limits
from release.errors import BadInput, Conflict, RemoteError
from release.files import atomic_write
from release.timefmt import rfc3339
from release.version import Version
from release.yamlread import parse_yaml, read_text_file
from release.yamlwrite import block_yaml, quote_yaml, yaml11_plain

API_VERSION = "v1"
INDEX_FILE = "index.yaml"

# The JSON field names of Helm's chart.Metadata, Maintainer and Dependency (Helm 3/4).
METADATA_FIELDS = (
    "name", "home", "sources", "version", "description", "keywords", "maintainers", "icon",
    "apiVersion", "condition", "tags", "appVersion", "deprecated", "annotations", "kubeVersion",
    "dependencies", "type",
)
MAINTAINER_FIELDS = ("name", "email", "url")
DEPENDENCY_FIELDS = (
    "name", "version", "repository", "condition", "tags", "enabled", "import-values", "alias",
)

# Fields Helm types as strings (or lists/maps of strings). Helm's strict index parser rejects a
# number there, so a number that slipped through (appVersion: 1.10) is written as Helm's own
# packager writes it: as text.
STRING_FIELDS = frozenset({
    "name", "home", "version", "description", "icon", "apiVersion", "condition", "tags",
    "appVersion", "kubeVersion", "type",
})
STRING_LIST_FIELDS = frozenset({"sources", "keywords"})

_HEX64 = re.compile(r"[0-9a-f]{64}")

Status = Literal["added", "present"]


@dataclass(frozen=True)
class IndexResult:
    """What `merge_index` did: `added` the entry, or found it already `present`."""

    path: Path
    name: str
    version: str
    digest: str  # bare sha256 hex, as in the index
    url: str
    status: Status
    index: Mapping[str, Any] = field(repr=False, compare=False)  # the document as merged

    def write(self) -> None:
        """Write the merged index to `path` (atomically) when the entry was added; a version
        already present writes nothing."""
        if self.status == "added":
            atomic_write(self.path, dump_index(self.index))


# --- values ----------------------------------------------------------------------------------
def bare_digest(digest: str) -> str:
    """Accept `sha256:<hex>` (OCI style) or bare hex; return bare lowercase hex."""
    value = digest.strip().lower()
    value = value.removeprefix("sha256:")
    if not _HEX64.fullmatch(value):
        raise BadInput(f"digest {digest!r} is not a sha256 digest",
                       "pass sha256:<64 hex digits> or the 64 hex digits")
    return value


def _parse_time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def github_asset_url(repo_web_url: str, tag: str, filename: str) -> str:
    """Download URL of a GitHub release asset (`repo_web_url` = https://github.com/owner/name,
    or the GitHub Enterprise equivalent): where the chart archive of a release lives."""
    return (f"{repo_web_url.rstrip('/')}/releases/download/"
            f"{quote(tag, safe='')}/{quote(filename)}")


def join_url(base: str, filename: str) -> str:
    """`base` + `/` + file name, with exactly one slash between them; `base` must be an
    http(s) URL without credentials (it is written into index.yaml for everyone to read)."""
    from release.config import check_http_url, check_url_without_credentials

    check_url_without_credentials(base, "--url", "serve the archives without credentials in "
                                  "the URL")
    check_http_url(base, "--url")
    return base.rstrip("/") + "/" + quote(filename)


# --- entries ---------------------------------------------------------------------------------
def _nonempty(value: Any) -> bool:
    """Helm's `omitempty`: no null, false, empty text, list or map (a number 0 is a value)."""
    if value is None or value is False:
        return False
    return not (isinstance(value, str | list | dict) and not value)


def _pick(data: Mapping[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {k: data[k] for k in fields if k in data and _nonempty(data[k])}


def _text(key: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise BadInput(f"Chart.yaml {key} is {value!r}, not text", f'write it as {key}: "..."')


def index_entry(metadata: Mapping[str, Any], digest: str, created: int, url: str) -> dict[str, Any]:
    """The index entry for a chart: its Chart.yaml fields Helm knows, plus urls/created/digest."""
    entry = _pick(metadata, METADATA_FIELDS)
    for key in STRING_FIELDS & entry.keys():
        entry[key] = _text(key, entry[key])
    for key in STRING_LIST_FIELDS & entry.keys():
        if not isinstance(entry[key], list):
            raise BadInput(f"Chart.yaml {key} is not a list", f"write {key} as a YAML list")
        entry[key] = [_text(key, item) for item in entry[key]]
    if isinstance(entry.get("annotations"), Mapping):
        entry["annotations"] = {str(k): _text(f"annotations.{k}", v)
                                for k, v in entry["annotations"].items()}
    for key in ("name", "version"):
        if not entry.get(key):
            raise BadInput(f"Chart.yaml has no {key}", f"set {key} in Chart.yaml")
    if "/" in entry["name"] or "\\" in entry["name"] or entry["name"] in (".", ".."):
        raise BadInput(f"chart name {entry['name']!r} is not a plain name",
                       "use a name without slashes in Chart.yaml")
    if _version_key(entry["version"]) is None:
        raise BadInput(f"chart version {entry['version']!r} is not SemVer",
                       "set a SemVer version such as 1.2.3 in Chart.yaml")
    entry.setdefault("apiVersion", "v1")  # Helm's default for a missing apiVersion
    if isinstance(entry.get("maintainers"), list):
        entry["maintainers"] = [_pick(m, MAINTAINER_FIELDS) if isinstance(m, Mapping) else m
                                for m in entry["maintainers"]]
    if isinstance(entry.get("dependencies"), list):
        entry["dependencies"] = [_pick(d, DEPENDENCY_FIELDS) if isinstance(d, Mapping) else d
                                 for d in entry["dependencies"]]
    entry["digest"] = bare_digest(digest)
    entry["created"] = rfc3339(created)
    entry["urls"] = [url]
    return entry


def _version_key(text: Any) -> Version | None:
    """Helm sorts with a lenient SemVer parser (leading v, missing minor/patch allowed)."""
    if not isinstance(text, str):
        return None
    try:
        return Version.parse(text.removeprefix("v"), optional_minor_and_patch=True)
    except (ValueError, TypeError):
        return None


def sort_versions(versions: list[Any]) -> list[Any]:
    """Newest SemVer first; entries whose version does not parse go last in their old order."""
    parsed = [(v, _version_key(v.get("version") if isinstance(v, Mapping) else None))
              for v in versions]
    good = [(v, key) for v, key in parsed if key is not None]
    bad = [v for v, key in parsed if key is None]
    # sorted() is stable, so versions of equal precedence keep their order in the file.
    good.sort(key=lambda pair: pair[1], reverse=True)
    return [v for v, _ in good] + bad


# --- reading and writing ---------------------------------------------------------------------
def new_index() -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "entries": {}}


def parse_index(text: str, source: str = INDEX_FILE) -> dict[str, Any]:
    """Parse and check the shape of an index; anything odd is a one-line `BadInput`."""
    fix = "restore it from the branch history (e.g. git checkout gh-pages -- index.yaml)"
    data = parse_yaml(text, source, max_bytes=limits.INDEX_DOCUMENT_MAX, fix=fix)
    if data is None:
        raise BadInput(f"{source} is empty", fix)
    if not isinstance(data, dict):
        raise BadInput(f"{source} is not a Helm repository index (no mapping at the top)", fix)
    if not data.get("apiVersion"):
        raise BadInput(f"{source} is not a Helm repository index (no apiVersion)", fix)
    if data.get("entries") is None:
        data["entries"] = {}
    entries = data["entries"]
    if not isinstance(entries, dict):
        raise BadInput(f"{source} is not a Helm repository index (entries is not a mapping)", fix)
    for name, versions in entries.items():
        if not isinstance(versions, list) or not all(isinstance(v, dict) for v in versions):
            raise BadInput(f"{source}: entries.{name} is not a list of chart versions", fix)
    return data


def load_index(path: Path) -> dict[str, Any]:
    """The index at `path`, or a new empty one when the file does not exist yet."""
    if not path.exists() and not path.is_symlink():
        return new_index()
    text = read_text_file(path, "the index", max_bytes=limits.INDEX_DOCUMENT_MAX,
                          fix="restore it from the branch history")
    return parse_index(text, str(path))


def fetch_index(repo_url: str) -> dict[str, Any] | None:
    """The published `index.yaml` of a Helm repository (read-only, no credentials, bounded),
    or None when there is none yet."""
    from release.origin import origin_of
    from release.sender import HttpSender, new_client

    url = repo_url.rstrip("/") + "/" + INDEX_FILE
    label = f"the Helm repository {repo_url}"

    def describe(reply: Any, what: str, attempt: int) -> RemoteError:
        return RemoteError(f"{label} answered HTTP {reply.status_code} while {what}",
                           "check helm-repo-url, or re-run later")

    with new_client() as client:
        sender = HttpSender(client, label=label, origins=(origin_of(url),), describe=describe)
        reply = sender.send("GET", url, what="reading index.yaml", ok=(200, 404),
                            max_body=limits.INDEX_DOCUMENT_MAX)
    if reply.status_code == 404:
        return None
    try:
        text = reply.content.decode("utf-8")
    except UnicodeDecodeError:
        raise RemoteError(f"{url} is not UTF-8 text", "check helm-repo-url") from None
    try:
        return parse_index(text, url)
    except BadInput as exc:
        raise RemoteError(str(exc), "check helm-repo-url") from None


# Helm's index layout (`release.yamlwrite`): keys sorted, a list under a key at the key's
# column, and text plain only when YAML 1.1 cannot read it as anything but text (`yes`, `on`,
# `0o17`, `1:20`, `2024-01-01` are quoted).
_YAML11_WORDS = frozenset([
    "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~",
])
_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./@+-]*(?::[A-Za-z0-9_./@+-]+)*")


def _scalar(value: Any) -> str:
    plain = yaml11_plain(value)
    if plain is not None:
        return plain
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    text = str(value)
    if _PLAIN.fullmatch(text) and text.lower() not in _YAML11_WORDS:
        return text
    return quote_yaml(text)


def dump_index(index: Mapping[str, Any]) -> bytes:
    """Canonical bytes: keys sorted (as Helm writes them), entries already sorted by version."""
    return block_yaml(dict(index), scalar=_scalar, key=lambda k: _scalar(str(k)),
                      sort_keys=True, indent_lists=False, max_depth=limits.YAML_DEPTH_MAX,
                      max_nodes=limits.YAML_NODES_MAX).encode("utf-8")


# --- merging ---------------------------------------------------------------------------------
def entry_state(index: Mapping[str, Any], entry: Mapping[str, Any]) -> tuple[str, str | None]:
    """("absent" | "present" | "different", the listed digest) for `entry`'s version."""
    versions = index["entries"].get(entry["name"]) or []
    for existing in versions:
        if str(existing.get("version")) != entry["version"]:
            continue
        have = existing.get("digest")
        if have is not None and str(have).lower() == entry["digest"]:
            return "present", str(have)
        return "different", str(have) if have is not None else None
    return "absent", None


def merge_entry(index: dict[str, Any], entry: Mapping[str, Any]) -> Status:
    """Add `entry` to `index` in place unless the version is there; refuse a different digest."""
    name, version, digest = entry["name"], entry["version"], entry["digest"]
    state, have = entry_state(index, entry)
    if state == "present":
        return "present"
    if state == "different":
        shown = f"sha256:{have}" if have else "no digest"
        raise Conflict(
            f"the index already lists {name} {version} with {shown}, "
            f"this package is sha256:{digest}; the listed entry was left unchanged",
            "a published version never changes: release a new version instead, "
            "or rebuild the package from the tag's commit",
        )
    versions: list[Any] = index["entries"].setdefault(name, [])
    versions.append(dict(entry))
    index["entries"][name] = sort_versions(versions)
    created = _parse_time(entry.get("created"))
    previous = _parse_time(index.get("generated"))
    if created is not None and (previous is None or created > previous):
        index["generated"] = entry["created"]
    return "added"


def merge_index(index_dir: Path, entry: Mapping[str, Any]) -> IndexResult:
    """Merge a prepared entry into the `<index_dir>/index.yaml` read now, in memory;
    `IndexResult.write` writes it. Two steps, so that a caller makes what it writes beside the
    index (index.html) before writing anything, and a failure there leaves both files as they
    were."""
    if not index_dir.is_dir():
        raise BadInput(f"index directory {index_dir} does not exist",
                       "check out the gh-pages branch there first or pass an existing --index-dir")
    path = index_dir / INDEX_FILE
    index = load_index(path)
    status = merge_entry(index, entry)
    return IndexResult(path=path, name=entry["name"], version=entry["version"],
                       digest=entry["digest"], url=entry["urls"][0], status=status, index=index)
