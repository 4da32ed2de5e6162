"""The chart's CustomResourceDefinitions and their sample CRs.

Why these tests exist: Helm installs `chart/crds/` verbatim (never templated, never upgraded), so a
mistake there reaches every cluster unchanged. The API server refuses a CRD whose schema is not
structural, whose defaults do not validate or whose list-map keys are optional; an example that
drifts from its schema fails `kubectl apply` in the README's own walkthrough. Everything here
runs offline: `kubernetes-validate` carries the Kubernetes OpenAPI schemas, `jsonschema` checks
the samples, and `helm_python` (Helm v4's engine) loads and lints a chart holding the CRDs.
"""

from __future__ import annotations

import copy
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import latest_version
from packaging.version import Version

from tests.chart.crdschema import FORMATS, CRDValidator, crd_errors, to_json_schema

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "chart"
CRD_DIR = CHART / "files" / "crds"
EXAMPLES = CHART / "examples"
DOCS = ROOT / "docs" / "crds.md"

GROUP = "ameide.io"
VERSION = "v1alpha1"
OLDEST_K8S = "1.28.0"
NEWEST_K8S = latest_version()  # the newest schema set kubernetes-validate ships offline

# kind, plural, short name, example file stem
KINDS: list[tuple[str, str, str, str]] = [
    ("Domain", "domains", "dom", "domain"),
    ("Process", "processes", "proc", "process"),
    ("Agent", "agents", "agt", "agent"),
    ("UISurface", "uisurfaces", "uis", "uisurface"),
]
KIND_IDS = [k[0] for k in KINDS]

Schema = dict[str, Any]


# --------------------------------------------------------------------------------------------
# loading


def _load_one(path: Path) -> dict[str, Any]:
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    assert len(docs) == 1, f"{path.name}: expected exactly one YAML document, found {len(docs)}"
    doc = docs[0]
    assert isinstance(doc, dict)
    return doc


def crd(kind: str) -> dict[str, Any]:
    plural = next(k[1] for k in KINDS if k[0] == kind)
    return _load_one(CRD_DIR / f"{GROUP}_{plural}.yaml")


def example(kind: str) -> dict[str, Any]:
    stem = next(k[3] for k in KINDS if k[0] == kind)
    return _load_one(EXAMPLES / f"{stem}-sample.yaml")


def version_of(doc: dict[str, Any]) -> dict[str, Any]:
    versions = doc["spec"]["versions"]
    assert len(versions) == 1
    v = versions[0]
    assert isinstance(v, dict)
    return v


def schema_of(doc: dict[str, Any]) -> Schema:
    s = version_of(doc)["schema"]["openAPIV3Schema"]
    assert isinstance(s, dict)
    return s


def walk(node: Schema, path: str = "") -> Iterator[tuple[str, Schema]]:
    """Every schema node below `node` (structural children only), with a readable path."""
    yield path or ".", node
    for name, child in node.get("properties", {}).items():
        yield from walk(child, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from walk(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from walk(node["additionalProperties"], f"{path}{{*}}")


# --------------------------------------------------------------------------------------------
# a structural-schema checker (rules of k8s.io/apiextensions-apiserver: structural/validation.go
# and apis/apiextensions/validation/validation.go, re-stated here, not copied)

JSON_SCHEMA_PROPS_KEYS = {
    "$ref", "$schema", "additionalItems", "additionalProperties", "allOf", "anyOf", "default",
    "definitions", "dependencies", "description", "enum", "example", "exclusiveMaximum",
    "exclusiveMinimum", "externalDocs", "format", "id", "items", "maxItems", "maxLength",
    "maxProperties", "maximum", "minItems", "minLength", "minProperties", "minimum", "multipleOf",
    "not", "nullable", "oneOf", "pattern", "patternProperties", "properties", "required", "title",
    "type", "uniqueItems", "x-kubernetes-embedded-resource", "x-kubernetes-int-or-string",
    "x-kubernetes-list-map-keys", "x-kubernetes-list-type", "x-kubernetes-map-type",
    "x-kubernetes-preserve-unknown-fields", "x-kubernetes-validations",
}  # fmt: skip
TYPES = {"string", "number", "integer", "boolean", "array", "object"}
# fields allowed at the root when the status subresource is on (status is cut out of the root)
ROOT_ALLOWED = {
    "description", "type", "format", "title", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems",
    "multipleOf", "required", "items", "properties", "externalDocs", "example",
    "x-kubernetes-preserve-unknown-fields", "x-kubernetes-validations",
}  # fmt: skip
# inside allOf/anyOf/oneOf/not only value validations may appear
NESTED_FORBIDDEN = {"type", "description", "title", "default", "nullable", "additionalProperties"}
INT_OR_STRING = [{"type": "integer"}, {"type": "string"}]
# paths where x-kubernetes-preserve-unknown-fields is intended; none today: every field is typed
PRESERVE_UNKNOWN_ALLOWED: frozenset[str] = frozenset()
# a JSON path the printer columns may use: dotted names, [n] and [?(@.type=="X")] filters
_COLUMN_STEP = re.compile(r'\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[\?\(@\.type=="([A-Za-z]+)"\)\]')


def structural_errors(root: Schema, *, status_subresource: bool = True) -> list[str]:
    """What the API server would refuse in `root` as a CRD openAPIV3Schema (empty when fine)."""
    errs: list[str] = []
    if root.get("type") != "object":
        errs.append(".: type must be object at the root")
    if "additionalProperties" in root:
        errs.append(".: additionalProperties must not be used at the root")
    if status_subresource:
        extra = sorted(set(root) - ROOT_ALLOWED)
        if extra:
            errs.append(f".: only {sorted(ROOT_ALLOWED)} are allowed at the root, not {extra}")
    props = root.get("properties", {})
    for meta in ("kind", "apiVersion"):
        if meta in props and props[meta].get("type") != "string":
            errs.append(f".{meta}: must be string")
    if "metadata" in props:
        errs.extend(_metadata_errors(props["metadata"]))
    _check_node(root, ".", errs, root_level=True)
    return errs


def _metadata_errors(meta: Schema) -> list[str]:
    """Root metadata may only say it is an object and restrict name/generateName."""
    errs: list[str] = []
    if meta.get("type") != "object":
        errs.append(".metadata: type must be object")
    only = ".metadata: only name and generateName may be restricted, found"
    if set(meta) - {"type", "properties"}:
        errs.append(f"{only} {sorted(meta)}")
    extra = set(meta.get("properties", {})) - {"name", "generateName"}
    if extra:
        errs.append(f"{only} {sorted(extra)}")
    for name, sub in meta.get("properties", {}).items():
        if "default" in sub:
            errs.append(f".metadata.{name}: default must not be set in top-level metadata")
        if sub.get("type") != "string":
            errs.append(f".metadata.{name}: type must be string")
    return errs


def _check_node(node: Schema, path: str, errs: list[str], *, root_level: bool = False) -> None:
    unknown = set(node) - JSON_SCHEMA_PROPS_KEYS
    if unknown:
        errs.append(f"{path}: unknown schema keys {sorted(unknown)}")
    for key in ("id", "$ref", "$schema", "definitions", "dependencies", "additionalItems",
                "patternProperties"):  # fmt: skip
        if key in node:
            errs.append(f"{path}: {key} is not supported")
    if node.get("uniqueItems") is True:
        errs.append(f"{path}: uniqueItems cannot be true")
    if node.get("x-kubernetes-preserve-unknown-fields") is not None:
        if node["x-kubernetes-preserve-unknown-fields"] is not True:
            errs.append(f"{path}: x-kubernetes-preserve-unknown-fields must be true or undefined")
        elif path not in PRESERVE_UNKNOWN_ALLOWED:
            errs.append(f"{path}: x-kubernetes-preserve-unknown-fields where it is not intended")

    int_or_string = node.get("x-kubernetes-int-or-string") is True
    typ = node.get("type")
    if int_or_string:
        if typ is not None:
            errs.append(f"{path}: type must be empty with x-kubernetes-int-or-string")
        any_of = node.get("anyOf")
        all_of = node.get("allOf") or [{}]
        if any_of != INT_OR_STRING and all_of[0].get("anyOf") != INT_OR_STRING:
            errs.append(f"{path}: x-kubernetes-int-or-string needs anyOf [integer, string]")
        if node.get("x-kubernetes-preserve-unknown-fields"):
            errs.append(f"{path}: int-or-string and preserve-unknown-fields exclude each other")
    elif typ is None and not node.get("x-kubernetes-preserve-unknown-fields"):
        errs.append(f"{path}: type must not be empty")
    elif typ is not None and typ not in TYPES:
        errs.append(f"{path}: type {typ!r} is not one of {sorted(TYPES)}")

    if typ == "array":
        if not isinstance(node.get("items"), dict):
            errs.append(f"{path}: arrays must have a single items schema")
    elif "items" in node:
        errs.append(f"{path}: items on a non-array")
    if "properties" in node and typ != "object":
        errs.append(f"{path}: properties on a non-object")
    if "properties" in node and node.get("additionalProperties", True) is not True:
        errs.append(f"{path}: additionalProperties and properties are mutually exclusive")
    for req in node.get("required", []):
        if req not in node.get("properties", {}):
            errs.append(f"{path}: required {req!r} is not a property")

    if "x-kubernetes-map-type" in node:
        if typ != "object":
            errs.append(f"{path}: x-kubernetes-map-type needs type object")
        if node["x-kubernetes-map-type"] not in ("atomic", "granular"):
            errs.append(f"{path}: x-kubernetes-map-type must be atomic or granular")
    _check_list_type(node, path, errs)

    if "enum" in node and typ in TYPES:
        py: dict[str, type | tuple[type, ...]] = {
            "string": str, "integer": int, "boolean": bool, "number": (int, float),
        }  # fmt: skip
        want = py.get(typ)
        if want is not None and not all(isinstance(v, want) for v in node["enum"]):
            errs.append(f"{path}: enum values must be of type {typ}")
    if "pattern" in node:
        errs.extend(_pattern_errors(node["pattern"], path))

    for key in ("allOf", "anyOf", "oneOf"):
        for i, sub in enumerate(node.get(key, [])):
            if int_or_string and key == "anyOf" and node["anyOf"] == INT_OR_STRING:
                continue
            if int_or_string and key == "allOf" and i == 0 and sub.get("anyOf") == INT_OR_STRING:
                continue
            _check_nested(sub, node, f"{path}.{key}[{i}]", errs)
    if "not" in node:
        _check_nested(node["not"], node, f"{path}.not", errs)

    for name, child in node.get("properties", {}).items():
        if root_level and name == "metadata":
            continue  # checked by _metadata_errors
        _check_node(child, f"{path.rstrip('.')}.{name}", errs)
    if isinstance(node.get("items"), dict):
        _check_node(node["items"], f"{path.rstrip('.')}[]", errs)
    if isinstance(node.get("additionalProperties"), dict):
        _check_node(node["additionalProperties"], f"{path.rstrip('.')}{{*}}", errs)


def _check_list_type(node: Schema, path: str, errs: list[str]) -> None:
    list_type = node.get("x-kubernetes-list-type")
    keys = node.get("x-kubernetes-list-map-keys")
    if keys and list_type != "map":
        errs.append(f"{path}: x-kubernetes-list-map-keys needs x-kubernetes-list-type map")
    if list_type is None:
        return
    if node.get("type") != "array":
        errs.append(f"{path}: x-kubernetes-list-type needs type array")
    if list_type not in ("atomic", "set", "map"):
        errs.append(f"{path}: x-kubernetes-list-type must be atomic, set or map")
    items = node.get("items") if isinstance(node.get("items"), dict) else {}
    assert isinstance(items, dict)
    atomic = items.get("x-kubernetes-map-type") == "atomic"
    if list_type == "set" and items.get("type") == "object" and not atomic:
        errs.append(f"{path}: items of a set must be scalars or atomic objects")
    if list_type == "map":
        if not keys:
            errs.append(f"{path}: x-kubernetes-list-map-keys must not be empty for a map list")
        if items.get("type") != "object":
            errs.append(f"{path}: items of a map list must be objects")
        props = items.get("properties", {})
        for k in keys or []:
            if k not in props:
                errs.append(f"{path}: list-map key {k!r} is not an item property")
                continue
            if props[k].get("type") in ("array", "object"):
                errs.append(f"{path}: list-map key {k!r} must be a scalar")
            if k not in items.get("required", []) and "default" not in props[k]:
                errs.append(f"{path}: list-map key {k!r} must be required or have a default")
            if props[k].get("nullable"):
                errs.append(f"{path}: list-map key {k!r} must not be nullable")


def _check_nested(sub: Schema, outer: Schema, path: str, errs: list[str]) -> None:
    """Value validations under a junctor: no types, no metadata, nothing the outer lacks."""
    for key in sorted(NESTED_FORBIDDEN & set(sub)):
        errs.append(f"{path}: {key} must not appear in a value validation")
    for key in sorted(k for k in sub if k.startswith("x-kubernetes-")):
        errs.append(f"{path}: {key} must not appear in a value validation")
    outer_props = outer.get("properties", {})
    for name, inner in sub.get("properties", {}).items():
        if name == "metadata":
            errs.append(f"{path}.metadata: must not be specified in a nested context")
        if name not in outer_props:
            errs.append(f"{path}.{name}: not specified outside the value validation")
            continue
        _check_nested(inner, outer_props[name], f"{path}.{name}", errs)
    if "items" in sub:
        if not isinstance(outer.get("items"), dict):
            errs.append(f"{path}.items: not specified outside the value validation")
        else:
            _check_nested(sub["items"], outer["items"], f"{path}.items", errs)
    for key in ("allOf", "anyOf", "oneOf"):
        for i, inner in enumerate(sub.get(key, [])):
            _check_nested(inner, outer, f"{path}.{key}[{i}]", errs)
    if "not" in sub:
        _check_nested(sub["not"], outer, f"{path}.not", errs)
    if "pattern" in sub:
        errs.extend(_pattern_errors(sub["pattern"], path))


def _pattern_errors(pattern: str, path: str) -> list[str]:
    """The API server compiles patterns with Go's RE2: no lookaround, no backreferences."""
    if re.search(r"\(\?[=!<]|\\[1-9]", pattern):
        return [f"{path}: pattern uses lookaround or backreferences, which RE2 lacks"]
    try:
        re.compile(pattern)
    except re.error as exc:
        return [f"{path}: pattern does not compile: {exc}"]
    return []


def cr_errors(kind: str, obj: dict[str, Any]) -> list[str]:
    return crd_errors(crd(kind), obj)


# --------------------------------------------------------------------------------------------
# the files themselves


def test_crd_and_example_files_are_exactly_the_four_kinds() -> None:
    assert sorted(p.name for p in CRD_DIR.iterdir()) == sorted(
        f"{GROUP}_{plural}.yaml" for _, plural, _, _ in KINDS
    )
    assert sorted(p.name for p in EXAMPLES.iterdir()) == sorted(
        f"{stem}-sample.yaml" for *_, stem in KINDS
    )


@pytest.mark.parametrize(("kind", "plural", "short", "stem"), KINDS, ids=KIND_IDS)
def test_names_group_and_scope_match_the_file(
    kind: str, plural: str, short: str, stem: str
) -> None:
    doc = crd(kind)
    assert doc["apiVersion"] == "apiextensions.k8s.io/v1"
    assert doc["kind"] == "CustomResourceDefinition"
    assert doc["metadata"]["name"] == f"{plural}.{GROUP}"
    spec = doc["spec"]
    assert spec["group"] == GROUP
    assert spec["scope"] == "Namespaced"
    assert spec["names"] == {
        "kind": kind,
        "listKind": f"{kind}List",
        "plural": plural,
        "singular": kind.lower(),
        "shortNames": [short],
        "categories": ["ameide"],
    }
    v = version_of(doc)
    assert (v["name"], v["served"], v["storage"]) == (VERSION, True, True)
    assert example(kind)["apiVersion"] == f"{GROUP}/{VERSION}"
    assert example(kind)["kind"] == kind


def test_short_names_are_unique_across_the_crds() -> None:
    names = [n for k in KIND_IDS for n in crd(k)["spec"]["names"]["shortNames"]]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("kind", KIND_IDS)
def test_labels_and_keep_annotations(kind: str) -> None:
    meta = crd(kind)["metadata"]
    assert meta["labels"]["app.kubernetes.io/part-of"] == "ameide"
    # Helm never deletes crds/ itself; the annotations protect every CR from a GitOps prune or an
    # Application deletion (Argo CD honours both), see docs/crds.md.
    assert meta["annotations"]["helm.sh/resource-policy"] == "keep"
    assert meta["annotations"]["argocd.argoproj.io/sync-options"] == "Prune=false"
    # crds/ is not templated: nothing that only makes sense rendered may appear
    text = (CRD_DIR / f"{GROUP}_{meta['name'].split('.')[0]}.yaml").read_text(encoding="utf-8")
    assert "{{" not in text
    assert "helm.sh/chart" not in meta["labels"]


# --------------------------------------------------------------------------------------------
# Kubernetes' own OpenAPI schemas


def test_newest_kubernetes_schema_is_newer_than_the_oldest_supported() -> None:
    assert Version(NEWEST_K8S) > Version(OLDEST_K8S)


@pytest.mark.parametrize("k8s", [OLDEST_K8S, NEWEST_K8S])
@pytest.mark.parametrize("kind", KIND_IDS)
def test_crd_validates_against_kubernetes_openapi_strict(kind: str, k8s: str) -> None:
    used = kubernetes_validate.validate(crd(kind), k8s, strict=True)
    assert used == ".".join(k8s.split(".")[:2])  # validated against that very version


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda d: schema_of(d)["properties"]["spec"].update({"x-kubernetes-list-typ": "map"}),
         "x-kubernetes-list-typ"),
        (lambda d: version_of(d).update({"servd": True}), "servd"),
        (lambda d: d["spec"].update({"scope": 7}), "7"),
    ],
    ids=["misspelt-schema-key", "unknown-version-field", "wrong-type"],
)  # fmt: skip
def test_kubernetes_openapi_strict_rejects_broken_crds(
    mutate: Callable[[dict[str, Any]], None], needle: str
) -> None:
    doc = crd("Domain")
    mutate(doc)
    with pytest.raises(kubernetes_validate.ValidationError) as info:
        kubernetes_validate.validate(doc, NEWEST_K8S, strict=True)
    assert needle in str(info.value.message)


# --------------------------------------------------------------------------------------------
# structural schema


@pytest.mark.parametrize("kind", KIND_IDS)
def test_schema_is_structural(kind: str) -> None:
    doc = crd(kind)
    assert structural_errors(schema_of(doc), status_subresource=True) == []


def _domain_schema() -> Schema:
    return copy.deepcopy(schema_of(crd("Domain")))


def _spec(s: Schema) -> Schema:
    spec = s["properties"]["spec"]
    assert isinstance(spec, dict)
    return spec


STRUCTURAL_BREAKS: list[tuple[str, Callable[[Schema], None], str]] = [
    ("untyped-field", lambda s: _spec(s)["properties"]["image"].pop("type"),
     ".spec.image: type must not be empty"),
    ("props-and-additional",
     lambda s: _spec(s).update({"additionalProperties": {"type": "string"}}),
     ".spec: additionalProperties and properties are mutually exclusive"),
    ("metadata-labels", lambda s: s["properties"]["metadata"]["properties"].update(
        {"labels": {"type": "object"}}), "only name and generateName may be restricted"),
    ("metadata-description", lambda s: s["properties"]["metadata"].update({"description": "x"}),
     "only name and generateName may be restricted"),
    ("metadata-default", lambda s: s["properties"]["metadata"]["properties"]["name"].update(
        {"default": "x"}), "default must not be set in top-level metadata"),
    ("type-in-anyof", lambda s: _spec(s)["properties"]["replicas"].update(
        {"anyOf": [{"type": "integer"}]}), "type must not appear in a value validation"),
    ("unknown-in-not", lambda s: _spec(s).update({"not": {"properties": {"nope": {}}}}),
     ".spec.not.nope: not specified outside the value validation"),
    ("map-key-optional", lambda s: _spec(s)["properties"]["env"]["items"].update({"required": []}),
     "list-map key 'name' must be required or have a default"),
    ("map-keys-without-map", lambda s: _spec(s)["properties"]["env"].update(
        {"x-kubernetes-list-type": "atomic"}), "needs x-kubernetes-list-type map"),
    ("array-without-items", lambda s: _spec(s)["properties"]["env"].pop("items"),
     ".spec.env: arrays must have a single items schema"),
    ("preserve-unknown", lambda s: _spec(s).update({"x-kubernetes-preserve-unknown-fields": True}),
     ".spec: x-kubernetes-preserve-unknown-fields where it is not intended"),
    ("ref", lambda s: _spec(s)["properties"]["image"].update({"$ref": "#/x"}),
     "$ref is not supported"),
    ("root-additional", lambda s: s.update({"additionalProperties": False}),
     "additionalProperties must not be used at the root"),
    ("unique-items", lambda s: _spec(s)["properties"]["env"].update({"uniqueItems": True}),
     "uniqueItems cannot be true"),
    ("lookahead", lambda s: _spec(s)["properties"]["image"].update({"pattern": "^(?!x).*$"}),
     "RE2 lacks"),
    ("int-or-string-typed", lambda s: _spec(s)["properties"]["resources"]["properties"]["limits"][
        "additionalProperties"].update({"type": "string"}),
     "type must be empty with x-kubernetes-int-or-string"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [(m, e) for _, m, e in STRUCTURAL_BREAKS],
    ids=[i for i, _, _ in STRUCTURAL_BREAKS],
)
def test_structural_checker_catches_what_the_api_server_refuses(
    mutate: Callable[[Schema], None], expected: str
) -> None:
    s = _domain_schema()
    mutate(s)
    errs = structural_errors(s)
    assert any(expected in e for e in errs), errs


@pytest.mark.parametrize("kind", KIND_IDS)
def test_every_default_validates_against_its_own_field(kind: str) -> None:
    """The API server rejects a CRD whose defaults do not validate (defaults are not pruned)."""
    checked = 0
    for path, node in walk(schema_of(crd(kind))):
        if "default" in node:
            sub = to_json_schema({k: v for k, v in node.items() if k != "default"}, root=False)
            errors = list(CRDValidator(sub, format_checker=FORMATS).iter_errors(node["default"]))
            assert errors == [], f"{path}: {[e.message for e in errors]}"
            checked += 1
    assert checked >= 3


@pytest.mark.parametrize("kind", KIND_IDS)
def test_every_field_is_documented_and_bounded(kind: str) -> None:
    """`kubectl explain` shows descriptions; strings and lists have upper bounds (CEL cost and
    etcd object size both depend on them)."""
    for path, node in walk(schema_of(crd(kind))):
        if path.startswith(".metadata") or path in (".", ".apiVersion", ".kind"):
            continue
        if path.endswith("{*}") or node.get("x-kubernetes-int-or-string"):
            continue  # map values and quantities are described by their parent
        is_item = path.endswith("[]") and node.get("type") != "object"
        if not is_item:
            assert node.get("description"), f"{path} has no description"
        if node.get("type") == "array":
            assert "maxItems" in node, f"{path} has no maxItems"
        if node.get("type") == "string" and "enum" not in node:
            assert "maxLength" in node or "format" in node or "pattern" in node, path


# --------------------------------------------------------------------------------------------
# status, subresources, printer columns


def _resolve(root: Schema, json_path: str) -> Schema:
    """The schema node a printer-column / scale JSON path points at."""
    node = root
    pos = 0
    while pos < len(json_path):
        m = _COLUMN_STEP.match(json_path, pos)
        assert m, f"unsupported JSON path {json_path!r} at {json_path[pos:]!r}"
        name, _index, cond_type = m.groups()
        if name is not None:
            props = node.get("properties", {})
            if name == "creationTimestamp" and node is root["properties"]["metadata"]:
                return {"type": "string", "format": "date-time"}
            assert name in props, f"{json_path}: no field {name!r}"
            node = props[name]
        else:
            assert node.get("type") == "array", f"{json_path}: indexing a non-array"
            if cond_type is not None:
                assert node.get("x-kubernetes-list-map-keys") == ["type"], json_path
            node = node["items"]
        pos = m.end()
    return node


@pytest.mark.parametrize("kind", KIND_IDS)
def test_status_and_scale_subresources_point_at_real_fields(kind: str) -> None:
    v = version_of(crd(kind))
    root = schema_of(crd(kind))
    assert v["subresources"]["status"] == {}
    scale = v["subresources"]["scale"]
    spec_replicas = _resolve(root, scale["specReplicasPath"])
    status_replicas = _resolve(root, scale["statusReplicasPath"])
    selector = _resolve(root, scale["labelSelectorPath"])
    assert scale["specReplicasPath"].startswith(".spec.")
    assert scale["statusReplicasPath"].startswith(".status.")
    assert (spec_replicas["type"], spec_replicas["format"]) == ("integer", "int32")
    assert (status_replicas["type"], status_replicas["format"]) == ("integer", "int32")
    assert selector["type"] == "string"
    assert "spec" in root["required"]


@pytest.mark.parametrize("kind", KIND_IDS)
def test_printer_columns_resolve_and_have_matching_types(kind: str) -> None:
    v = version_of(crd(kind))
    root = schema_of(crd(kind))
    columns = v["additionalPrinterColumns"]
    names = [c["name"] for c in columns]
    assert names[0] == "Ready" and names[-1] == "Age"
    assert len(names) == len(set(names))
    column_type = {"string": "string", "integer": "integer", "boolean": "boolean"}
    for col in columns:
        node = _resolve(root, col["jsonPath"])
        if col["type"] == "date":
            assert node.get("format") == "date-time", col
        else:
            assert column_type[node["type"]] == col["type"], col
        assert " " not in col["name"]
    ready = next(c for c in columns if c["name"] == "Ready")
    assert ready["jsonPath"] == '.status.conditions[?(@.type=="Ready")].status'


@pytest.mark.parametrize("kind", KIND_IDS)
def test_conditions_have_the_metav1_condition_shape(kind: str) -> None:
    status = schema_of(crd(kind))["properties"]["status"]
    assert set(status["properties"]) >= {"observedGeneration", "conditions"}
    assert status["properties"]["observedGeneration"]["format"] == "int64"
    cond = status["properties"]["conditions"]
    assert (cond["x-kubernetes-list-type"], cond["x-kubernetes-list-map-keys"]) == ("map", ["type"])
    item = cond["items"]
    assert sorted(item["required"]) == sorted(
        ["type", "status", "lastTransitionTime", "reason", "message"]
    )
    props = item["properties"]
    assert set(props) == {
        "type", "status", "observedGeneration", "lastTransitionTime", "reason", "message",
    }  # fmt: skip
    assert props["status"]["enum"] == ["True", "False", "Unknown"]
    assert props["lastTransitionTime"]["format"] == "date-time"
    assert (props["type"]["maxLength"], props["reason"]["maxLength"]) == (316, 1024)
    assert props["message"]["maxLength"] == 32768


# --------------------------------------------------------------------------------------------
# the examples against their CRD


@pytest.mark.parametrize(("kind", "plural", "short", "stem"), KINDS, ids=KIND_IDS)
def test_example_validates_against_its_crd(kind: str, plural: str, short: str, stem: str) -> None:
    ex = example(kind)
    assert ex["metadata"]["name"] == f"sample-{stem}"
    assert "namespace" not in ex["metadata"]  # lands in the namespace of the kubectl context
    assert "status" not in ex  # written only by the operator, through the status subresource
    assert cr_errors(kind, ex) == []


def _status(kind: str) -> dict[str, Any]:
    status: dict[str, Any] = {
        "observedGeneration": 3,
        "replicas": 1,
        "readyReplicas": 1,
        "selector": f"app.kubernetes.io/name={kind.lower()},app.kubernetes.io/instance=sample",
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "observedGeneration": 3,
                "lastTransitionTime": "2025-01-02T03:04:05Z",
                "reason": "Reconciled",
                "message": "all resources are up to date",
            },
            {
                "type": "ameide.io/Progressing",
                "status": "False",
                "lastTransitionTime": "2025-01-02T03:04:05.123+01:00",
                "reason": "RolloutComplete",
                "message": "",
            },
        ],
    }
    return status


@pytest.mark.parametrize("kind", KIND_IDS)
def test_example_with_an_operator_written_status_validates(kind: str) -> None:
    ex = example(kind)
    ex["status"] = _status(kind)
    assert cr_errors(kind, ex) == []


def _set(obj: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node: Any = obj
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


def _del(obj: dict[str, Any], dotted: str) -> None:
    *parents, last = dotted.split(".")
    node: Any = obj
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    del node[last]


_DELETE = object()

# (kind, dotted path, new value or _DELETE, substring of the expected error)
NEGATIVE: list[tuple[str, str, Any, str]] = [
    # common to all: wrong type, unknown field, missing required, bounds
    *[(k, "spec.replicas", "two", "is not of type 'integer'") for k in KIND_IDS],
    *[(k, "spec.replicaz", 2, "Additional properties are not allowed") for k in KIND_IDS],
    *[(k, "spec.image", _DELETE, "'image' is a required property") for k in KIND_IDS],
    *[(k, "spec", _DELETE, "'spec' is a required property") for k in KIND_IDS],
    ("Domain", "spec.replicas", 101, "is greater than the maximum"),
    ("Domain", "spec.replicas", -1, "is less than the minimum"),
    ("Domain", "spec.image", "GHCR.io/Ameide/Domain:1", "does not match"),
    ("Domain", "spec.imagePullPolicy", "Sometimes", "is not one of"),
    ("Domain", "metadata.name", "Sample_Domain", "does not match"),
    ("Domain", "metadata.name", "d" * 64, "is too long"),
    ("Domain", "spec.grpc.port", 70000, "is greater than the maximum"),
    ("Domain", "spec.database.clusterRef", _DELETE, "'clusterRef' is a required property"),
    ("Domain", "spec.database.name", "Sample-DB", "does not match"),
    ("Domain", "spec.env.1.value", "both", "should not be valid"),
    ("Domain", "spec.env.1.valueFrom.secretKeyRef", {"name": "s", "key": "k"},
     "has too many properties"),
    ("Domain", "spec.env.1.name", "LOG_LEVEL", "duplicate map-list key"),
    ("Domain", "spec.resources.limits.memory", "lots", "does not match"),
    ("Process", "spec.temporal.address", "temporal-frontend", "does not match"),
    ("Process", "spec.temporal.taskQueue", _DELETE, "'taskQueue' is a required property"),
    ("Process", "spec.temporal.taskQueue", "", "should be non-empty"),
    ("Process", "spec.concurrency.activities", 0, "is less than the minimum"),
    ("Agent", "spec.model.provider", "skynet", "is not one of"),
    ("Agent", "spec.model", _DELETE, "'model' is a required property"),
    ("Agent", "spec.tools.1.url", _DELETE, "is not valid under any of the given schemas"),
    ("Agent", "spec.tools.0.type", "plugin", "is not one of"),
    ("Agent", "spec.secrets.0.storeRef.kind", "Vault", "is not one of"),
    ("Agent", "spec.secrets.0.remoteRef", _DELETE, "'remoteRef' is a required property"),
    ("Agent", "spec.secrets.0.value", "sk-plaintext", "Additional properties are not allowed"),
    ("Agent", "spec.secrets.0.refreshInterval", "hourly", "does not match"),
    ("UISurface", "spec.hostnames", [], "should be non-empty"),
    ("UISurface", "spec.hostnames.0", "Sample.Example.com", "does not match"),
    ("UISurface", "spec.hostnames", ["a.example.com", "a.example.com"], "duplicate entry"),
    ("UISurface", "spec.parentRef.name", _DELETE, "'name' is a required property"),
    ("UISurface", "spec.parentRef", _DELETE, "'parentRef' is a required property"),
    ("UISurface", "spec.path", "app", "does not match"),
    ("UISurface", "spec.port", "3000", "is not of type 'integer'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "path", "value", "expected"),
    NEGATIVE,
    ids=[f"{k}-{p}-{'delete' if v is _DELETE else 'set'}" for k, p, v, _ in NEGATIVE],
)
def test_a_broken_example_is_rejected(kind: str, path: str, value: Any, expected: str) -> None:
    ex = example(kind)
    if value is _DELETE:
        _del(ex, path)
    else:
        _set(ex, path, value)
    errs = cr_errors(kind, ex)
    assert any(expected in e for e in errs), errs


STATUS_NEGATIVE: list[tuple[str, Any, str]] = [
    ("conditions.0.status", "Maybe", "is not one of"),
    ("conditions.0.reason", "not camel case", "does not match"),
    ("conditions.0.lastTransitionTime", "yesterday", "is not a 'date-time'"),
    ("conditions.0.lastTransitionTime", _DELETE, "'lastTransitionTime' is a required property"),
    ("conditions.1.type", "Ready", "duplicate map-list key"),
    ("observedGeneration", -1, "is less than the minimum"),
    ("phase", "Running", "Additional properties are not allowed"),
]


@pytest.mark.parametrize("kind", KIND_IDS)
@pytest.mark.parametrize(
    ("path", "value", "expected"), STATUS_NEGATIVE, ids=[p for p, _, _ in STATUS_NEGATIVE]
)
def test_a_broken_status_is_rejected(kind: str, path: str, value: Any, expected: str) -> None:
    ex = example(kind)
    ex["status"] = _status(kind)
    if value is _DELETE:
        _del(ex["status"], path)
    else:
        _set(ex["status"], path, value)
    errs = cr_errors(kind, ex)
    assert any(expected in e for e in errs), errs


# --------------------------------------------------------------------------------------------
# Helm's own engine


def _crd_chart(tmp_path: Path, extra: dict[str, str] | None = None) -> Path:
    chart = tmp_path / "crds-only"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(
        "apiVersion: v2\nname: crds-only\nversion: 0.1.0\ndescription: CRDs under test\n"
        "icon: https://example.com/icon.png\n",
        encoding="utf-8",
    )
    (chart / "values.yaml").write_text("{}\n", encoding="utf-8")
    (chart / "templates" / "NOTES.txt").write_text("CRDs installed.\n", encoding="utf-8")
    shutil.copytree(CRD_DIR, chart / "crds")
    for name, text in (extra or {}).items():
        (chart / name).write_text(text, encoding="utf-8")
    return chart


def test_helm_loads_the_crds_and_lints_clean(tmp_path: Path) -> None:
    chart = _crd_chart(tmp_path)
    with helm.Chart.load(chart) as loaded:
        assert sorted(c["name"] for c in loaded.crds) == sorted(
            f"crds/{GROUP}_{plural}.yaml" for _, plural, _, _ in KINDS
        )
        for c in loaded.crds:
            assert yaml.safe_load(c["data"])["kind"] == "CustomResourceDefinition"
        rendered = loaded.render({}, name="crds", namespace="ameide")
        assert list(rendered) == ["crds-only/templates/NOTES.txt"]  # crds/ is never rendered
    for k8s in (OLDEST_K8S, NEWEST_K8S):
        report = helm.lint(chart, strict=True, kube_version=f"v{k8s}")
        assert report["errors"] == [], report
        assert [m for m in report["messages"] if m["severity"] >= 2] == [], report


def test_helm_lint_does_read_the_crds(tmp_path: Path) -> None:
    """Guards the test above: a broken file in crds/ must make Helm's lint fail."""
    chart = _crd_chart(tmp_path, {"crds/broken.yaml": "apiVersion: v1\nkind: ConfigMap\n"})
    report = helm.lint(chart, strict=True)
    assert any(m["path"] == "crds/broken.yaml" and m["severity"] == 3 for m in report["messages"])


# --------------------------------------------------------------------------------------------
# the reference page


@pytest.mark.parametrize("kind", KIND_IDS)
def test_reference_page_names_every_spec_field(kind: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert f"## {kind}" in text
    section = text.split(f"## {kind}", 1)[1].split("\n## ", 1)[0]
    for name in schema_of(crd(kind))["properties"]["spec"]["properties"]:
        assert f"`spec.{name}`" in section, f"spec.{name} is missing from docs/crds.md"
