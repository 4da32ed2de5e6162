"""`artifacthub-repo.yml`: the repository metadata Artifact Hub reads from the `artifacthub.io` tag.

For an OCI chart repository Artifact Hub pulls `<registry>/<chart>:artifacthub.io` and reads the
layer of media type `REPOSITORY_METADATA_LAYER`; with it a publisher gets the "verified
publisher" badge (`repositoryID`), claims ownership (`owners`), or hides versions (`ignore`).
This module parses and checks the file and gives the exact bytes to push; pushing is the OCI
client's business.

Rules, from artifacthub/hub (0d8b1c0b): internal/hub/repo.go (`RepositoryMetadata`, `Owner`,
`RepositoryIgnoreEntry`), internal/repo/manager.go (`GetMetadata`: yaml.v2, a non-empty
`repositoryID` must parse as a UUID; media types), internal/tracker/helpers.go (`matchesEntry`:
`name` exact, `version` an unanchored Go regexp, empty = every version). Stricter here, each
because the hub would accept the file and then silently not do what it says:
- `repositoryID` must be the canonical lowercase UUID: the hub compares it with its own id as
  text, so `{…}`, `urn:uuid:` or upper-case forms parse but never verify;
- an owner needs an email (ownership claims match on it), an ignore entry a name (an empty name
  matches no package), and a `version` must compile as a regexp without the constructs Go's RE2
  lacks (lookaround, backreferences: the hub's `regexp.Match` fails and ignores nothing);
- unknown keys are refused (`owner:` for `owners:` would be dropped without a word).

The bytes pushed are written from the parsed value (`to_bytes`), not copied from the file: what
was checked is exactly what the hub reads, and the same metadata always gives the same bytes,
so a re-push is a no-op.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release.artifacthub import to_yaml_text
from release.errors import BadInput
from release.yamlread import parse_yaml, read_text_file

REPOSITORY_METADATA_FILE = "artifacthub-repo.yml"
REPOSITORY_METADATA_TAG = "artifacthub.io"
REPOSITORY_METADATA_LAYER = "application/vnd.cncf.artifacthub.repository-metadata.layer.v1.yaml"
REPOSITORY_METADATA_CONFIG = "application/vnd.cncf.artifacthub.config.v1+yaml"
MAX_SIZE = 64 << 10  # bytes: the documented file is a few lines
MAX_ENTRIES = 1000  # owners or ignore entries

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
# RE2 has no lookaround, backreferences, possessive or atomic groups, conditionals
_NOT_RE2 = re.compile(r"\(\?(?:[=!>]|<[=!]|\()|\\[1-9]|\\g|[*+?}]\+")
_FIX = "see https://artifacthub.io/docs/topics/repositories/ (repositoryID, owners, ignore)"


@dataclass(frozen=True)
class Owner:
    name: str
    email: str


@dataclass(frozen=True)
class IgnoreEntry:
    name: str  # package name, exact
    version: str  # unanchored Go regexp; "" ignores every version


@dataclass(frozen=True)
class RepositoryMetadata:
    repository_id: str | None
    owners: tuple[Owner, ...] = ()
    ignore: tuple[IgnoreEntry, ...] = ()

    def to_bytes(self) -> bytes:
        """The layer to push: canonical YAML, keys in the documented order."""
        data: dict[str, Any] = {}
        if self.repository_id:
            data["repositoryID"] = self.repository_id
        if self.owners:
            data["owners"] = [{"name": o.name, "email": o.email} if o.name else {"email": o.email}
                              for o in self.owners]
        if self.ignore:
            data["ignore"] = [{"name": e.name, "version": e.version} if e.version
                              else {"name": e.name} for e in self.ignore]
        return to_yaml_text(data).encode("utf-8") if data else b"{}\n"


def _text(value: Any, where: str, origin: str) -> str:
    """yaml.v2 into a string field: any scalar as its text, null as ""."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        raise BadInput(f"{origin}: {where} is not text", f'write {where}: "..."')
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _entries(data: dict[str, Any], key: str, fields: tuple[str, ...],
             origin: str) -> list[dict[str, str]]:
    items = data.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise BadInput(f"{origin}: {key} is not a list", f"write {key} as a list of mappings")
    if len(items) > MAX_ENTRIES:
        raise BadInput(f"{origin}: {key} has {len(items)} entries (at most {MAX_ENTRIES})",
                       "keep the list short")
    out = []
    for i, item in enumerate(items, 1):
        where = f"{key} entry {i}"
        if not isinstance(item, dict):
            raise BadInput(f"{origin}: {where} is not a mapping",
                           f"write it as {', '.join(f + ': ...' for f in fields)}")
        unknown = sorted(str(k) for k in item if k not in fields)
        if unknown:
            raise BadInput(f"{origin}: {where} has unknown key {unknown[0]!r}",
                           f"use only {', '.join(fields)}")
        out.append({f: _text(item.get(f), f"{where} {f}", origin) for f in fields})
    return out


def parse_repository_metadata(text: str, origin: str = REPOSITORY_METADATA_FILE,
                              ) -> RepositoryMetadata:
    """Parse and check `artifacthub-repo.yml` text (see the module docstring for the rules)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_SIZE:
        raise BadInput(f"{origin} is larger than {MAX_SIZE} bytes", "keep only the documented keys")
    data = parse_yaml(text, origin)
    if not isinstance(data, dict):
        raise BadInput(f"{origin} is not a YAML mapping", _FIX)
    unknown = sorted(str(k) for k in data if k not in ("repositoryID", "owners", "ignore"))
    if unknown:
        raise BadInput(f"{origin}: unknown key {unknown[0]!r} (Artifact Hub ignores it)",
                       "use repositoryID, owners and ignore")
    repository_id = _text(data.get("repositoryID"), "repositoryID", origin)
    if repository_id and not _UUID.fullmatch(repository_id):
        raise BadInput(f"{origin}: repositoryID {repository_id!r} is not a lowercase UUID",
                       "copy the repository ID from Artifact Hub's repository settings "
                       "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)")
    owners = []
    for i, entry in enumerate(_entries(data, "owners", ("name", "email"), origin), 1):
        if not _EMAIL.fullmatch(entry["email"]):
            raise BadInput(f"{origin}: owners entry {i} has no valid email",
                           "give the email of the owner's Artifact Hub account")
        owners.append(Owner(entry["name"], entry["email"]))
    ignore = []
    for i, entry in enumerate(_entries(data, "ignore", ("name", "version"), origin), 1):
        if not entry["name"]:
            raise BadInput(f"{origin}: ignore entry {i} has no name",
                           "name the package (chart) to ignore")
        version = entry["version"]
        try:
            re.compile(version)
        except re.error as exc:
            raise BadInput(f"{origin}: ignore entry {i} version {version!r} is not a regexp "
                           f"({exc.msg})", "fix the regular expression") from None
        if _NOT_RE2.search(version):
            raise BadInput(f"{origin}: ignore entry {i} version {version!r} uses a construct "
                           "Go's regexp lacks", "use RE2 syntax: no lookaround, backreferences, "
                                               "possessive or atomic groups")
        ignore.append(IgnoreEntry(entry["name"], version))
    return RepositoryMetadata(repository_id or None, tuple(owners), tuple(ignore))


def load_repository_metadata(path: Path) -> RepositoryMetadata | None:
    """The metadata in `path`, or None when there is no such file (pushing it is optional).
    Planning reads it, so a FIFO or a device there is refused, not read (`read_text_file`)."""
    if not path.exists() and not path.is_symlink():
        return None
    text = read_text_file(path, "the Artifact Hub metadata", max_bytes=MAX_SIZE,
                          fix="save it as UTF-8")
    return parse_repository_metadata(text, str(path))
