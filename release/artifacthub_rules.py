"""Artifact Hub's checks of a Helm chart's `artifacthub.io/*` annotations, ported from its Go code.

Why a port: Artifact Hub drops a chart version whose annotations it cannot use (the tracker's
`EnrichPackageFromAnnotations` returns an error and the version is not indexed), and nobody sees
that until the version is missing from the hub. Checking the same rules before publishing turns
that silent loss into a one-line `BadInput` naming the annotation and the fix.

Sources (artifacthub/hub at 0d8b1c0b, 2026; go-containerregistry v0.21.2; go-yaml v2.4/v3.0):
- internal/tracker/source/helm/helm.go, `EnrichPackageFromAnnotations`: which annotation is
  decoded how (yaml.v3 into typed structs, `strconv.ParseBool`, the operator capability list);
- internal/tracker/source/helpers.go, `ParseChangesAnnotation`: `changes` is decoded with
  yaml.v2, first as a list of objects, then as a list of strings;
- internal/pkg/metadata.go, `ValidateChange` (kind, description, link name/url) and
  `ValidateContainersImages` (`name.ParseReference` on every image);
- internal/hub/pkg.go: the structs (`Change`, `Link`, `ContainerImage`, `Maintainer`, `SignKey`,
  `Recommendation`, `Screenshot`) and `PackageCategoryFromName`;
- internal/pkg/manager.go, `Register`: `alternativeName` must be a substring of the name or the
  name a substring of it;
- google/go-containerregistry pkg/name (ref.go, tag.go, digest.go, repository.go, registry.go,
  check.go): the image reference grammar, ported in `image_reference_problem`.

How the Go decoders behave, and so what is checked here: a scalar decodes into a string field
as its raw text (`replicas: 1` → "1"), null into "", a mapping or list into a string is a type
error; yaml.v3 refuses a mapping that repeats a key; a null entry in a list of objects is a nil
pointer that the hub then dereferences (a panic: counted as invalid here). Where this module is
stricter than the hub it says so: a missing link URL, a multi-document value, an unknown
`artifacthub.io/` key (a typo is silently ignored by the hub and so never does what was meant).
Stricter only ever refuses; nothing the hub refuses passes here.

Helm itself reads annotations as `map[string]string`: a value that is not text makes the chart
unloadable, so that is checked for every annotation, not only Artifact Hub's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal, NoReturn

from release import limits
from release.errors import BadInput

if TYPE_CHECKING:
    from yaml.nodes import Node

PREFIX = "artifacthub.io/"

_NULL = "tag:yaml.org,2002:null"
# strconv.ParseBool
_GO_BOOLS = {"1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
             "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False}
# yaml.v3 into a typed bool: YAML 1.2 booleans, plus YAML 1.1 words when the target is a bool
_V3_TRUE = {"true", "True", "TRUE", "y", "Y", "yes", "Yes", "YES", "on", "On", "ON"}
_V3_FALSE = {"false", "False", "FALSE", "n", "N", "no", "No", "NO", "off", "Off", "OFF"}
CHANGE_KINDS = ("added", "changed", "deprecated", "removed", "fixed", "security")
OPERATOR_CAPABILITIES = ("basic install", "seamless upgrades", "full lifecycle", "deep insights",
                         "auto pilot")
CATEGORIES = ("skip-prediction", "ai-machine-learning", "database", "integration-delivery",
              "monitoring-logging", "networking", "security", "storage", "streaming-messaging")

# go-containerregistry pkg/name
_TAG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-.ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_REPOSITORY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-./")
_HEX = frozenset("0123456789abcdef")
_DEFAULT_REGISTRY = "index.docker.io"
# net/url: bytes below 0x80 that may stand in a host without escaping (shouldEscape, encodeHost)
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                        "-_.~!$&'()*+,;=:[]<>\"")

Say = Callable[[str], NoReturn]


# --- image references (go-containerregistry pkg/name, weak validation as the hub calls it) ---

def _element_problem(what: str, element: str, allowed: frozenset[str], most: int) -> str | None:
    if not 1 <= len(element) <= most:
        return f"{what} must be between 1 and {most} characters in length"
    if any(c not in allowed for c in element):
        return f"{what} can only contain the characters {''.join(sorted(allowed))!r}"
    return None


def _registry_problem(name: str) -> str | None:
    """`url.Parse("//" + name).Host == name`: an RFC 3986 authority, host[:port], nothing else."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return "registry contains a control character"
    if any(c in name for c in "#?@/%"):
        return "registries must be valid RFC 3986 URI authorities"
    host = name
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            return "registry has a '[' without ']'"
        port = host[end + 1:]
    else:
        colon = host.rfind(":")
        port = host[colon:] if colon >= 0 else ""
    if port and (not port.startswith(":") or not port[1:].isascii() or not
                 (port[1:].isdigit() or port[1:] == "")):
        return "registry has an invalid port"
    if any(ord(c) < 0x80 and c not in _HOST_CHARS for c in host):
        return "registry has an invalid character in the host name"
    return None


def _repository(name: str) -> tuple[str | None, str]:
    """NewRepository: (problem, canonical name)."""
    if not name:
        return "a repository name must be specified", ""
    registry, repo = "", name
    first, sep, rest = name.partition("/")
    if sep and (first == "localhost" or "." in first or ":" in first):
        registry, repo = first, rest
    problem = _element_problem("repository", repo, _REPOSITORY_CHARS, 255)
    if problem is None:
        problem = _registry_problem(registry)
    if problem is not None:
        return problem, ""
    registry = registry or _DEFAULT_REGISTRY
    if registry == "docker.io":
        registry = _DEFAULT_REGISTRY
    if "/" not in repo and registry == _DEFAULT_REGISTRY:
        repo = f"library/{repo}"  # hasImplicitNamespace
    return None, f"{registry}/{repo}"


def _tag(name: str) -> tuple[str | None, str]:
    """NewTag: (problem, the repository's canonical name)."""
    base, tag = name, ""
    parts = name.split(":")
    if len(parts) > 1 and "/" not in parts[-1]:
        base, tag = ":".join(parts[:-1]), parts[-1]
        if not tag:
            return f"{name} must specify a tag name after the colon", ""
    if tag:
        problem = _element_problem("tag", tag, _TAG_CHARS, 128)
        if problem is not None:
            return problem, ""
    return _repository(base)


def _digest_problem(name: str) -> str | None:
    parts = name.split("@")
    if len(parts) != 2:
        return "a digest must contain exactly one '@' separator"
    base, digest = parts
    if not digest.startswith("sha256:"):
        return f"unsupported digest algorithm: {digest}"
    hexpart = digest[len("sha256:"):]
    if len(hexpart) != 64 or not set(hexpart) <= _HEX:
        return "invalid checksum digest format (sha256 needs 64 lowercase hex digits)"
    problem, canonical = _tag(base)
    if problem is None:
        base = canonical
    return _repository(base)[0]


def image_reference_problem(ref: str) -> str | None:
    """Why `name.ParseReference(ref)` (weak validation) would fail, or None when it parses.

    The registry check approximates Go's `net/url` authority parsing: control characters,
    `# ? @ / %`, a bad port and characters net/url escapes in hosts are refused."""
    problem, _ = _tag(ref)
    if problem is None:
        return None
    digest_problem = _digest_problem(ref)
    if digest_problem is None:
        return None
    return problem if "@" not in ref else digest_problem


# --- YAML nodes, decoded the way go-yaml decodes into the hub's structs ---------------------

@functools.cache
def _yaml() -> Any:
    """PyYAML, imported on first use so it stays out of `--help`."""
    import yaml

    return yaml


def _compose(text: str, say: Say) -> Node | None:
    yaml = _yaml()
    if len(text) > limits.ANNOTATION_VALUE_MAX:
        say(f"is {len(text)} characters long (at most {limits.ANNOTATION_VALUE_MAX})")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        node: Node | None = yaml.compose(text, Loader=loader)
    except yaml.composer.ComposerError as exc:
        if "single document" in str(exc):
            say("holds more than one YAML document")
        say(f"is not valid YAML ({_reason(exc)})")
    except yaml.YAMLError as exc:
        say(f"is not valid YAML ({_reason(exc)})")
    return node


def _reason(exc: Exception) -> str:
    problem = getattr(exc, "problem", None) or "syntax error"
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} at line {mark.line + 1}" if mark is not None else str(problem)


def _is_null(node: Node | None) -> bool:
    return node is None or (isinstance(node, _yaml().ScalarNode) and node.tag == _NULL)


def _walk_checks(root: Node, say: Say, *, unique_keys: bool) -> None:
    """Bound the work on hostile input and, for yaml.v3, refuse repeated mapping keys."""
    yaml = _yaml()
    stack = [root]
    seen = 0
    while stack:
        node = stack.pop()
        seen += 1
        if seen > limits.ANNOTATION_NODES_MAX:
            say(f"has more than {limits.ANNOTATION_NODES_MAX} YAML nodes (aliases count each time "
                "they are used)")
        if isinstance(node, yaml.MappingNode):
            keys: set[tuple[str, str]] = set()
            for key, value in node.value:
                ident = (type(key).__name__,
                         key.value if isinstance(key, yaml.ScalarNode) else "")
                if unique_keys and ident in keys:
                    say(f"repeats the key {ident[1]!r} at line {key.start_mark.line + 1}")
                keys.add(ident)
                stack.extend((key, value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _list(node: Node | None, say: Say, what: str = "value") -> list[Node]:
    if _is_null(node):
        return []
    if not isinstance(node, _yaml().SequenceNode):
        say(f"{what} must be a YAML list")
    items: list[Node] = node.value
    return items


def _fields(node: Node | None, names: tuple[str, ...], say: Say,
            what: str) -> dict[str, Node]:
    """A mapping decoded into a struct: known keys picked (the last one wins), others ignored."""
    yaml = _yaml()
    if _is_null(node):
        say(f"{what} is empty")
    if not isinstance(node, yaml.MappingNode):
        say(f"{what} must be a mapping with keys {', '.join(names)}")
    out: dict[str, Node] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode):
            say(f"{what} has a key that is not text")
        if key.value in names:
            out[key.value] = value
    return out


def _text(node: Node | None, say: Say, what: str) -> str:
    if _is_null(node):
        return ""
    if not isinstance(node, _yaml().ScalarNode):
        say(f"{what} must be text, not a {'list' if isinstance(node, _yaml().SequenceNode) else 'mapping'}")
    value: str = node.value
    return value


def _v3_bool(node: Node | None, say: Say, what: str) -> bool:
    if _is_null(node):
        return False
    if isinstance(node, _yaml().ScalarNode):
        quoted = bool(node.style)  # None (PyYAML) or "" (libyaml) when plain
        if node.value in _V3_TRUE and not (quoted and node.value.lower() == "true"):
            return True
        if node.value in _V3_FALSE and not (quoted and node.value.lower() == "false"):
            return False
    say(f"{what} must be true or false")


# --- the annotations -------------------------------------------------------------------------

def _changes(value: str, say: Say) -> None:
    """yaml.v2 into []*hub.Change, else []string; then ValidateChange on each."""
    root = _compose(value, say)
    if root is None:
        return
    _walk_checks(root, say, unique_keys=False)
    items = _list(root, say)
    yaml = _yaml()
    if all(isinstance(n, yaml.ScalarNode) and not _is_null(n) for n in items):
        for i, node in enumerate(items, 1):
            if not node.value:
                say(f"entry {i}: description not provided")
        return
    if not all(isinstance(n, yaml.MappingNode) or _is_null(n) for n in items):
        say("mixes plain text entries with other entries: use one form, and quote text "
            "holding any of {}:[],&*#?|-<>=!%@")
    for i, node in enumerate(items, 1):
        what = f"entry {i}"
        fields = _fields(node, ("kind", "description", "links"), say, what)
        kind = _text(fields.get("kind"), say, f"{what} kind")
        if kind and kind.lower() not in CHANGE_KINDS:
            say(f"{what}: invalid kind {kind!r} (one of {', '.join(CHANGE_KINDS)})")
        if not _text(fields.get("description"), say, f"{what} description"):
            say(f"{what}: description not provided (a plain '- word: text' line is read as a "
                "mapping: quote it)")
        for j, link in enumerate(_list(fields.get("links"), say, f"{what} links"), 1):
            sub = f"{what} link {j}"
            link_fields = _fields(link, ("name", "url"), say, sub)
            if not _text(link_fields.get("name"), say, f"{sub} name"):
                say(f"{sub}: link name not provided")
            if not _text(link_fields.get("url"), say, f"{sub} url"):
                say(f"{sub}: link url not provided")


Field = Literal["text", "required", "bool", "texts"]


def _objects(value: str, say: Say, fields: Mapping[str, Field]) -> list[dict[str, Node]]:
    """yaml.v3 into []*Struct: a list of mappings whose fields decode into their Go types.
    "required" text must be non-empty: the hub's own rule for an image (an empty reference
    does not parse) and a sign key url, stricter than the hub for link and screenshot urls,
    which go nowhere when empty."""
    root = _compose(value, say)
    if root is None:
        return []
    _walk_checks(root, say, unique_keys=True)
    out = []
    for i, node in enumerate(_list(root, say), 1):
        found = _fields(node, tuple(fields), say, f"entry {i}")
        for name, kind in fields.items():
            what = f"entry {i} {name}"
            if kind == "bool":
                _v3_bool(found.get(name), say, what)
            elif kind == "texts":
                for j, item in enumerate(_list(found.get(name), say, what), 1):
                    _text(item, say, f"{what} {j}")
            elif not _text(found.get(name), say, what) and kind == "required":
                say(f"entry {i}: {name} not provided")
        out.append(found)
    return out


def _images(value: str, say: Say) -> None:
    fields: dict[str, Field] = {"name": "text", "image": "required", "whitelisted": "bool",
                                "platforms": "texts"}
    for i, found in enumerate(_objects(value, say, fields), 1):
        image = _text(found.get("image"), say, f"entry {i} image")
        problem = image_reference_problem(image)
        if problem is not None:
            say(f"entry {i}: invalid image reference {image!r}: {problem}")


def _links(value: str, say: Say) -> None:
    _objects(value, say, {"name": "text", "url": "required"})


def _maintainers(value: str, say: Say) -> None:
    _objects(value, say, {"name": "text", "email": "text"})


def _recommendations(value: str, say: Say) -> None:
    _objects(value, say, {"url": "required"})


def _screenshots(value: str, say: Say) -> None:
    _objects(value, say, {"title": "text", "url": "required"})


def _any_list(value: str, say: Say) -> None:
    """yaml.v3 into []interface{}: any list (or nothing)."""
    root = _compose(value, say)
    if root is not None:
        _walk_checks(root, say, unique_keys=True)
        _list(root, say)


def _sign_key(value: str, say: Say) -> None:
    root = _compose(value, say)
    if root is not None:
        _walk_checks(root, say, unique_keys=True)
    fields = _fields(root, ("fingerprint", "url"), say, "value")
    _text(fields.get("fingerprint"), say, "fingerprint")
    if not _text(fields.get("url"), say, "url"):
        say("sign key url not provided")


def _go_bool(value: str, say: Say) -> None:
    if value not in _GO_BOOLS:
        say(f"is {value!r}, not a boolean")


def _capabilities(value: str, say: Say) -> None:
    if value.lower() not in OPERATOR_CAPABILITIES:
        say(f"is {value!r}, not an operator capability")


def _category(value: str, say: Say) -> None:
    if value not in CATEGORIES:
        say(f"is {value!r}, not a category")


def _no_check(value: str, say: Say) -> None:
    """The hub takes any text here (license is not checked against SPDX by the tracker)."""


# annotation → (check, what to write instead)
_RULES: dict[str, tuple[Callable[[str, Say], None], str]] = {
    "alternativeName": (_no_check, "use a substring or superstring of the chart name"),
    "category": (_category, f"use one of: {', '.join(CATEGORIES)}"),
    "changes": (_changes, "write a list of {kind, description, links: [{name, url}]} objects "
                          "(kind: " + "/".join(CHANGE_KINDS) + ") or a list of quoted strings"),
    "containsSecurityUpdates": (_go_bool, 'write "true" or "false"'),
    "crds": (_any_list, "write a YAML list of {kind, version, name, displayName, description}"),
    "crdsExamples": (_any_list, "write a YAML list of example custom resources"),
    "images": (_images, "write a list of {name, image: registry/repository:tag[@sha256:...], "
                        "whitelisted, platforms}"),
    "license": (_no_check, "use an SPDX identifier"),
    "links": (_links, "write a list of {name, url}"),
    "maintainers": (_maintainers, "write a list of {name, email}"),
    "operator": (_go_bool, 'write "true" or "false"'),
    "operatorCapabilities": (_capabilities, f"use one of: {', '.join(OPERATOR_CAPABILITIES)}"),
    "prerelease": (_go_bool, 'write "true" or "false"'),
    "recommendations": (_recommendations, "write a list of {url} of Artifact Hub packages"),
    "screenshots": (_screenshots, "write a list of {title, url}"),
    "signKey": (_sign_key, "write a mapping {fingerprint, url} with the public key's url"),
}
KNOWN = tuple(PREFIX + name for name in _RULES)


def validate_annotations(annotations: Any, chart_name: str, origin: str) -> None:
    """Every annotation is text (Helm), every `artifacthub.io/*` one passes Artifact Hub's
    decoding and checks. The first problem is raised as a one-line BadInput."""
    if annotations is None:
        return
    if not isinstance(annotations, Mapping):
        raise BadInput(f"{origin}: annotations is not a mapping",
                       "write annotations as key: value lines")
    for key, value in annotations.items():
        if not isinstance(key, str) or not isinstance(value, str):
            shown = key if isinstance(key, str) else repr(key)
            raise BadInput(f"{origin}: annotation {shown} is {type(value).__name__}, not text "
                           "(Helm cannot load the chart)",
                           f'quote the value: {shown}: "..."')
    for key, value in annotations.items():
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX):]
        if name not in _RULES:
            raise BadInput(f"{origin}: unknown annotation {key} (Artifact Hub ignores it)",
                           f"use one of: {', '.join(KNOWN)}")
        check, fix = _RULES[name]

        def say(problem: str, key: str = key, fix: str = fix) -> NoReturn:
            raise BadInput(f"{origin}: annotation {key} {problem}; Artifact Hub would drop "
                           "this chart version", fix)

        check(value, say)
        if name == "alternativeName" and value and value not in chart_name \
                and chart_name not in value:
            say(f"{value!r} is neither part of the chart name {chart_name!r} nor contains it")
