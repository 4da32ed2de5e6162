"""Artifact Hub annotations of a release's packaged Chart.yaml: generated from facts, never by hand.

Hand-written annotations drift: images stuck at the first tag, a pre-release flag nobody flips,
examples that no longer match their CRD. So the annotations that follow from something the
project already knows are computed here, at packaging time, from the same inputs every time:

- `artifacthub.io/changes`: the release's conventional commits, in Artifact Hub's structured form
  (kind, description, links to the pull request and the commit), see `change_kind`;
- `artifacthub.io/containsSecurityUpdates`: "true" when one of those changes is a security one;
- `artifacthub.io/prerelease`: "true" for a SemVer pre-release;
- `artifacthub.io/images`: the operator images a default install runs, composed as
  `templates/_images.tpl` composes them (`values.yaml`), tagged with the release's appVersion;
- `artifacthub.io/crds`, `artifacthub.io/crdsExamples`: the chart's CRD files and example
  custom resources.

Every other annotation (license, operator, operatorCapabilities, links, …) is kept as written.
`apply_annotations` writes the values into Chart.yaml text, touching only the entries it sets,
re-parses the result to prove nothing else changed, and checks the whole annotation set with
`release.artifacthub_rules` (Artifact Hub's own checks). Values are YAML text written by
`to_yaml_text`: strings always double-quoted, so no commit subject can break the YAML or be read
as a number or a boolean, by YAML 1.1 (go-yaml v2, PyYAML) or 1.2 (go-yaml v3) readers alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from release import limits
from release.artifacthub_rules import validate_annotations
from release.chart import CHART_FILE, ChartText, Names
from release.commits import REVERT, Change, parse_header
from release.errors import BadInput
from release.render import shorten, web_url
from release.version import tag_name
from release.yamlread import parse_yaml, parse_yaml_documents, read_text_file
from release.yamlwrite import block_yaml, quote_yaml, yaml11_plain

if TYPE_CHECKING:
    from release.config import Settings
    from release.notes import Release

PREFIX = "artifacthub.io/"
MAX_CHANGES = 50  # entries; the rest are summed up in one entry linking the release page
MAX_DESCRIPTION = 300  # characters of one change's description

# --- YAML text -------------------------------------------------------------------------------

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")
# YAML 1.1 reads these plain words as booleans or null, even as keys
_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})


def _scalar(value: Any) -> str:
    plain = yaml11_plain(value)
    if plain is not None:
        return plain
    if isinstance(value, str):
        return quote_yaml(value)
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    raise BadInput(f"a value of type {type(value).__name__} cannot be written into an annotation",
                   "use text, numbers, booleans, lists and mappings only")


def _key(key: Any) -> str:
    if isinstance(key, str):
        plain = _PLAIN_KEY.fullmatch(key) and key.lower() not in _WORDS
        return key if plain else quote_yaml(key)
    if isinstance(key, dict | list | tuple):
        raise BadInput("a mapping key that is itself a list or mapping cannot be written",
                       "use text keys")
    return _scalar(key)


def to_yaml_text(value: Any) -> str:
    """Block-style YAML text ending in a newline, keys in the order given: the same value always
    gives the same bytes. Bounded in depth and size (example files are outside input)."""
    return block_yaml(value, scalar=_scalar, key=_key, sort_keys=False, indent_lists=True,
                      max_depth=limits.ANNOTATION_DEPTH_MAX,
                      max_nodes=limits.ANNOTATION_NODES_MAX)


# --- changes ---------------------------------------------------------------------------------

# kind by conventional type; types not listed (docs, test, ci, build, chore, style, refactor,
# non-conventional "other") are not user-facing and stay out of Artifact Hub's changelog
_KIND_BY_TYPE = {"feat": "added", "fix": "fixed", "perf": "changed", "security": "security",
                 "deprecate": "deprecated", "deprecated": "deprecated",
                 "deprecation": "deprecated"}
_CVE = re.compile(r"\bCVE-\d{4}-\d{4,}\b", re.IGNORECASE)
_DEPRECATES = re.compile(r"(?:deprecate|deprecates)\b", re.IGNORECASE)
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# display order: what a user must act on first; commit order inside a kind
_RANK = {"security": 0, "breaking": 1, "added": 2, "changed": 3, "deprecated": 4, "removed": 5,
         "fixed": 6}


def change_kind(change: Change) -> str | None:
    """The Artifact Hub kind of one change, or None when it is not user-facing.

    - a security fix: type or scope `security`, or a CVE id in the subject → security;
    - breaking (`!` or a BREAKING CHANGE footer), whatever the type → changed, described with a
      "BREAKING:" prefix (Artifact Hub has no breaking kind);
    - type deprecate/deprecated/deprecation, or any conventional subject starting with
      "deprecate(s)" → deprecated;
    - feat → added, fix → fixed, perf → changed;
    - a revert left in the range (its target shipped in an earlier release): reverting a feat
      removes it → removed; reverting anything else → changed;
    - everything else (docs, test, ci, build, chore, style, refactor, unknown types,
      non-conventional commits) → None: a refactor is by definition no behaviour change, and a
      change that is one should say so with feat/fix/perf or `!`.
    """
    if not change.conventional:
        return None
    if change.type == "security" or change.scope == "security" or _CVE.search(change.subject):
        return "security"
    if change.breaking:
        return "changed"
    if change.type == REVERT:
        inner = parse_header(change.sha, change.subject)
        return "removed" if inner.conventional and inner.type == "feat" else "changed"
    if _DEPRECATES.match(change.subject):
        return "deprecated"
    return _KIND_BY_TYPE.get(change.type)


def _description(change: Change) -> str:
    text = change.subject
    if change.breaking:
        extra = change.breaking_text
        text = f"BREAKING: {text}" + (f" ({extra})" if extra and extra != change.subject else "")
    elif change.type == REVERT:
        text = f'Revert "{text}"'
    if change.scope:
        text = f"{change.scope}: {text}"
    return shorten(_CONTROL.sub(" ", text), MAX_DESCRIPTION)


def _release_tag(release: Release, settings: Settings) -> str:
    if release.tag:
        return release.tag
    if release.version is None:
        raise BadInput("the Artifact Hub annotations need the release's version",
                       "pass a tagged or planned release (a version), not unreleased changes")
    return tag_name(release.version, settings.tag_prefix)


def change_entries(release: Release, settings: Settings) -> list[dict[str, Any]]:
    """`artifacthub.io/changes` entries, most important kind first, at most MAX_CHANGES: the
    rest become one entry (without a kind) that links the release page."""
    repo_url = web_url(settings)
    ranked: list[tuple[int, dict[str, Any]]] = []
    for change in release.changes:
        kind = change_kind(change)
        if kind is None:
            continue
        links = []
        if change.pr is not None:
            links.append({"name": f"PR #{change.pr}", "url": f"{repo_url}/pull/{change.pr}"})
        links.append({"name": f"Commit {change.sha[:7]}",
                      "url": f"{repo_url}/commit/{change.sha}"})
        rank = _RANK["breaking"] if change.breaking and kind == "changed" else _RANK[kind]
        ranked.append((rank, {"kind": kind, "description": _description(change),
                              "links": links}))
    ranked.sort(key=lambda pair: pair[0])  # stable: commit order inside a kind
    entries = [entry for _, entry in ranked]
    if len(entries) <= MAX_CHANGES:
        return entries
    rest = len(entries) - (MAX_CHANGES - 1)
    tag = _release_tag(release, settings)
    return [*entries[: MAX_CHANGES - 1], {
        "description": f"… and {rest} more changes: see the release notes",
        "links": [{"name": "Release notes", "url": f"{repo_url}/releases/tag/{tag}"}],
    }]


# --- images ----------------------------------------------------------------------------------

def _mapping(value: Any, where: str, origin: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BadInput(f"{origin}: {where} is not a mapping", f"write {where} as key: value lines")
    return value


def _text_value(value: Any, where: str, origin: str) -> str:
    """Sprig's `default` + `toString`: empty values count as unset."""
    if value is None or value is False or value == "":
        return ""
    if isinstance(value, dict | list):
        raise BadInput(f"{origin}: {where} is not text", f'write {where}: "..."')
    return str(value)


def chart_images(values: Any, app_version: str, origin: str = "values.yaml",
                 ) -> list[dict[str, str]]:
    """The images of the operators a default install runs (`enabled` not false), each
    `<registry>/<repository>:<tag>[@<digest>]` exactly as `_images.tpl` renders it: the registry
    is the image's own or `global.imageRegistry` (one trailing "/" trimmed), the tag is the
    image's own or the chart's appVersion."""
    root = _mapping(values, "the values", origin)
    registry_default = _text_value(_mapping(root.get("global"), "global", origin)
                                   .get("imageRegistry"), "global.imageRegistry", origin)
    images = []
    for key, block in _mapping(root.get("operators"), "operators", origin).items():
        op = _mapping(block, f"operators.{key}", origin)
        if op.get("enabled", True) is False:
            continue
        where = f"operators.{key}.image"
        image = _mapping(op.get("image"), where, origin)
        repository = _text_value(image.get("repository"), f"{where}.repository", origin)
        if not repository:
            raise BadInput(f"{origin}: {where}.repository is empty", "name the image repository")
        registry = (_text_value(image.get("registry"), f"{where}.registry", origin)
                    or registry_default).removesuffix("/")
        ref = f"{registry}/{repository}" if registry else repository
        ref += ":" + (_text_value(image.get("tag"), f"{where}.tag", origin) or app_version)
        digest = _text_value(image.get("digest"), f"{where}.digest", origin)
        if digest:
            ref += f"@{digest}"
        images.append({"name": repository.rsplit("/", 1)[-1], "image": ref})
    return images


# --- CRDs and their examples -----------------------------------------------------------------

def _yaml_files(files: Sequence[tuple[str, Path]], directory: str, what: str,
                shown: str) -> list[tuple[str, Path]]:
    """(relative path, real file) of the YAML files under `directory` (relative to the chart),
    in path order, from `files` (`release.package.chart_files`: what Helm loads, so a link out
    of the chart is refused and a .helmignore'd file is not there)."""
    found = sorted((rel, real) for rel, real in files if rel.startswith(directory + "/")
                   and PurePosixPath(rel).suffix in (".yaml", ".yml"))
    if len(found) > limits.ANNOTATION_SOURCE_FILES_MAX:
        raise BadInput(f"{shown} holds {len(found)} YAML files (at most "
                       f"{limits.ANNOTATION_SOURCE_FILES_MAX})",
                       f"keep only {what} files there")
    return found


def _documents(path: Path, shown: str) -> Iterator[Any]:
    text = read_text_file(path, "the file", max_bytes=limits.CHART_FILE_MAX, name=shown)
    yield from (doc for doc in parse_yaml_documents(text, shown) if doc is not None)


def _field(doc: Any, path: Sequence[str], kind: type, origin: str) -> Any:
    value = doc
    for part in path:
        value = value.get(part) if isinstance(value, Mapping) else None
    if not isinstance(value, kind) or (isinstance(value, str) and not value):
        raise BadInput(f"{origin}: {'.'.join(path)} is missing or not a {kind.__name__}",
                       "fix the CustomResourceDefinition")
    return value


def _crds(files: Sequence[tuple[str, Path]], crd_dir: str, chart_dir: Path,
          names: Names) -> list[tuple[str, dict[str, Any]]]:
    """(the file's name for messages, document) of every CustomResourceDefinition."""
    return [(shown, doc)
            for rel, real in _yaml_files(files, crd_dir, "CRD", names(chart_dir / crd_dir))
            for shown in (names(chart_dir / rel),) for doc in _documents(real, shown)
            if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition"]


def _storage_version(doc: dict[str, Any], path: str) -> dict[str, Any]:
    versions = [v for v in _field(doc, ("spec", "versions"), list, path) if isinstance(v, dict)]
    chosen = next((v for v in versions if v.get("storage") is True),
                  next((v for v in versions if v.get("served") is True), None))
    if chosen is None:
        raise BadInput(f"{path}: no served version", "mark one version served: true")
    return chosen


def _crd_entries(crds: list[tuple[str, dict[str, Any]]]) -> list[dict[str, str]]:
    """`artifacthub.io/crds`: kind, version (the storage one), name, displayName and the
    schema's top-level description, one per CustomResourceDefinition, files in path order."""
    entries = []
    for path, doc in crds:
        kind = _field(doc, ("spec", "names", "kind"), str, path)
        version = _storage_version(doc, path)
        entry = {"kind": kind, "version": _field(version, ("name",), str, path),
                 "name": _field(doc, ("metadata", "name"), str, path), "displayName": kind}
        schema = version.get("schema")
        described = (schema.get("openAPIV3Schema") if isinstance(schema, dict) else None) or {}
        description = described.get("description") if isinstance(described, dict) else None
        if isinstance(description, str) and description.strip():
            entry["description"] = shorten(description, MAX_DESCRIPTION)
        entries.append(entry)
    return entries


def _crd_examples(files: Sequence[tuple[str, Path]], crds: list[tuple[str, dict[str, Any]]],
                  crd_dir: str, chart_dir: Path, names: Names) -> list[dict[str, Any]]:
    """`artifacthub.io/crdsExamples`: every example custom resource, files in path order, each
    checked to be of a kind and served version that a CRD in `crd_dir` defines (the schema check
    itself is jsonschema's, in the tests: a runtime dependency for it is not worth it)."""
    served: set[tuple[str, str]] = set()
    for crd, doc in crds:
        group = _field(doc, ("spec", "group"), str, crd)
        kind = _field(doc, ("spec", "names", "kind"), str, crd)
        for version in _field(doc, ("spec", "versions"), list, crd):
            if isinstance(version, dict) and version.get("served") is True:
                served.add((f"{group}/{version.get('name')}", kind))
    examples = []
    for rel, real in _yaml_files(files, EXAMPLES_DIR, "example",
                                 names(chart_dir / EXAMPLES_DIR)):
        shown = names(chart_dir / rel)
        for doc in _documents(real, shown):
            api = doc.get("apiVersion") if isinstance(doc, dict) else None
            kind = doc.get("kind") if isinstance(doc, dict) else None
            if (api, kind) not in served:
                raise BadInput(f"{shown}: {kind or 'a document'} {api or ''} is not a kind and "
                               f"served version of a CRD in {names(chart_dir / crd_dir)}",
                               "fix apiVersion/kind or remove the file from the examples")
            examples.append(doc)
    return examples


# --- all of it -------------------------------------------------------------------------------

CRD_DIRS = ("files/crds", "crds")  # templated CRDs (this chart) first, then Helm's crds/
EXAMPLES_DIR = "examples"


def release_annotations(release: Release, settings: Settings, chart_dir: Path,
                        app_version: str | None = None, names: Names = str) -> dict[str, str]:
    """The generated annotations of `release` (name → YAML text), always in the same order.

    The sources are the chart's files as Helm loads them (`release.package.chart_files`):
    values.yaml, the CRDs in the first of `CRD_DIRS` that exists and the examples in
    `EXAMPLES_DIR`. What has no source is left out: no CRD directory, no `crds`; no examples,
    no `crdsExamples`; no `operators` in the values, no `images` — so any chart can be packaged,
    and this one gets them all. The images' tag is `app_version` (default: the release's
    version), as the chart renders them. Messages name the files with `names`
    (`release.chart.Names`)."""
    from release.package import chart_files

    _release_tag(release, settings)  # a version is required
    assert release.version is not None
    version = str(release.version)
    files = chart_files(chart_dir, names)
    real = dict(files)
    crd_dir = next((d for d in CRD_DIRS if (chart_dir / d).is_dir()), None)
    values_name = names(chart_dir / "values.yaml")
    values: Any = {}
    if "values.yaml" in real:
        values = parse_yaml(read_text_file(real["values.yaml"], "values.yaml", name=values_name,
                                           max_bytes=limits.CHART_FILE_MAX), values_name)
    changes = change_entries(release, settings)
    security = any(entry.get("kind") == "security" for entry in changes)
    out = {
        PREFIX + "changes": to_yaml_text(changes),
        PREFIX + "containsSecurityUpdates": "true" if security else "false",
    }
    # parsed once: CRDs are big
    crds = _crds(files, crd_dir, chart_dir, names) if crd_dir is not None else []
    if crd_dir is not None and crds:
        out[PREFIX + "crds"] = to_yaml_text(_crd_entries(crds))
        if (chart_dir / EXAMPLES_DIR).is_dir():
            out[PREFIX + "crdsExamples"] = to_yaml_text(_crd_examples(files, crds, crd_dir,
                                                                      chart_dir, names))
    if isinstance(values, Mapping) and values.get("operators"):
        out[PREFIX + "images"] = to_yaml_text(chart_images(values, app_version or version,
                                                           values_name))
    out[PREFIX + "prerelease"] = "true" if release.version.prerelease else "false"
    return out


# --- writing them into Chart.yaml ------------------------------------------------------------

_TOP_KEY = re.compile(r"annotations[ \t]*:(?P<rest>[^\n]*)")
_ENTRY_KEY = re.compile(r"(?P<key>\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\n]|'')*'|[^\s#'\"][^\n]*?)"
                        r"[ \t]*:(?:[ \t]|$)")
_LITERAL_SAFE = re.compile("[^\t\r\x85\u2028\u2029\ufeff]*")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _blank(line: str) -> bool:
    return not line.strip()


def _comment(line: str) -> bool:
    return line.lstrip(" ").startswith("#")


def _render_entry(key: str, value: str, indent: int, newline: str) -> list[str]:
    """`key: |` + the value's lines when a literal block keeps it exactly (the readable form
    for YAML-valued annotations), else a double-quoted scalar."""
    pad = " " * indent
    head = f"{pad}{_key(key)}:"
    lines = value[:-1].split("\n") if value.endswith("\n") else []
    literal = (
        lines and not value.endswith("\n\n") and _LITERAL_SAFE.fullmatch(value[:-1]) is not None
        and not lines[0].startswith(" ") and all(line.strip() or not line for line in lines)
    )
    if not literal:
        return [f"{head} {quote_yaml(value)}{newline}"]
    body = [f"{pad}  {line}{newline}" if line else newline for line in lines]
    return [f"{head} |{newline}", *body]


def _entry_key(line: str, indent: int, origin: str) -> str:
    import yaml

    m = _ENTRY_KEY.match(line.rstrip("\r\n"), indent)
    if m is None:
        raise BadInput(f"{origin}: cannot read the annotation line {line.strip()!r}",
                       "write each annotation as key: value on its own line")
    key = m.group("key").strip()
    if key[0] in "\"'":
        key = yaml.safe_load(key)
    return str(key)


def apply_annotations(chart: ChartText, annotations: Mapping[str, str],
                      origin: str = CHART_FILE) -> ChartText:
    """Chart.yaml with `annotations` set: entries that exist are rewritten in place, new ones
    appended to the `annotations:` block (sorted by key), every other byte kept. The result is
    re-parsed: it must equal the input plus these annotations, and the whole annotation set
    must pass Artifact Hub's checks. The same inputs always give the same bytes."""
    before = chart.data
    existing = before.get("annotations")
    if existing is not None and not isinstance(existing, dict):
        raise BadInput(f"{origin}: annotations is not a mapping",
                       "write annotations as key: value lines")
    for key, value in annotations.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise BadInput(f"annotation {key!r} is not text", "pass text keys and values")
    if not annotations:
        validate_annotations(existing, str(before.get("name", "")), origin)
        return chart

    chart_yaml_text = chart.text
    newline = "\r\n" if "\r\n" in chart_yaml_text else "\n"
    lines = chart_yaml_text.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    header = next((i for i, line in enumerate(lines) if _TOP_KEY.fullmatch(line.rstrip("\r\n"))),
                  None)
    if header is None:
        lines.append(f"annotations:{newline}")
        header = len(lines) - 1
    else:
        m = _TOP_KEY.fullmatch(lines[header].rstrip("\r\n"))
        assert m is not None
        rest = m.group("rest").strip()
        if rest.startswith("{}"):
            lines[header] = f"annotations:{rest[2:]}{newline}"
        elif rest and not rest.startswith("#"):
            raise BadInput(f"{origin}: annotations is written in flow style",
                           "write annotations: on its own line with one key: value per line")

    end = header + 1  # one past the block's last non-blank line
    for i in range(header + 1, len(lines)):
        if _blank(lines[i]):
            continue
        if _indent(lines[i]) == 0:
            break
        end = i + 1
    body = [i for i in range(header + 1, end) if not _blank(lines[i]) and not _comment(lines[i])]
    child = _indent(lines[body[0]]) if body else 2

    starts = [i for i in body if _indent(lines[i]) == child]
    spans: dict[str, tuple[int, int]] = {}
    for n, start in enumerate(starts):
        stop = starts[n + 1] if n + 1 < len(starts) else end
        # the entry runs while lines are indented deeper (comments at its own level stay put)
        last = start
        for i in range(start + 1, stop):
            if not _blank(lines[i]):
                if _indent(lines[i]) <= child:
                    break
                last = i
        spans[_entry_key(lines[start], child, origin)] = (start, last + 1)

    replacements = [(spans[key], key) for key in annotations if key in spans]
    appended = sorted(key for key in annotations if key not in spans)
    out = list(lines)
    tail = [line for key in appended
            for line in _render_entry(key, annotations[key], child, newline)]
    out[end:end] = tail
    for (start, stop), key in sorted(replacements, reverse=True):
        out[start:stop] = _render_entry(key, annotations[key], child, newline)
    new = "".join(out)

    after = parse_yaml(new, origin)
    expected = {**before, "annotations": {**(existing or {}), **annotations}}
    if after != expected:
        raise BadInput(f"{origin}: could not set the annotations without changing other fields",
                       "write annotations: as a block of key: value lines")
    validate_annotations(after["annotations"], str(after.get("name", "")), origin)
    return ChartText(new, after)
