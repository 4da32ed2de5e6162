"""A CRD's openAPIV3Schema as a JSON Schema, so jsonschema checks an object as the API server would.

Why: the chart's examples and its Prometheus Operator objects must be accepted by the CRDs that
serve them; no API server runs here, so the CRD schema is translated (objects reject unknown
fields like kubectl's strict field validation, int32/int64 become bounds, the x-kubernetes list
semantics become keywords) and checked offline.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import jsonschema
from jsonschema import FormatChecker
from jsonschema.protocols import Validator

Schema = dict[str, Any]


_INT_BOUNDS = {"int32": (-(2**31), 2**31 - 1), "int64": (-(2**63), 2**63 - 1)}


def to_json_schema(node: Schema, *, root: bool = True) -> Schema:
    """Translate a CRD schema node: objects reject unknown fields (kubectl's strict field
    validation), root metadata accepts any ObjectMeta field but keeps the name rules, int32/int64
    become numeric bounds, and the x-kubernetes list semantics become custom keywords."""
    out: Schema = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {}
            for name, child in value.items():
                if root and name == "metadata":
                    meta = copy.deepcopy(child)
                    meta.pop("properties", None)
                    meta["properties"] = {
                        n: to_json_schema(s, root=False)
                        for n, s in child.get("properties", {}).items()
                    }
                    out[key][name] = meta  # open: ObjectMeta has many more fields
                else:
                    out[key][name] = to_json_schema(child, root=False)
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = to_json_schema(value, root=False)
        elif key in ("allOf", "anyOf", "oneOf"):
            out[key] = [to_json_schema(v, root=False) for v in value]
        elif key == "pattern":
            out[key] = _python_pattern(value)
        else:
            out[key] = copy.deepcopy(value)
    if node.get("type") == "object" and "properties" in node and "additionalProperties" not in node:
        out["additionalProperties"] = False
    fmt = node.get("format")
    if node.get("type") == "integer" and fmt in _INT_BOUNDS:
        lo, hi = _INT_BOUNDS[fmt]
        out["minimum"] = max(node.get("minimum", lo), lo)
        out["maximum"] = min(node.get("maximum", hi), hi)
    return out


def _python_pattern(pattern: str) -> str:
    """Go's RE2 accepts a flag group like `(?i)` anywhere (`^(?i)(abort|warn)?$` in the
    PrometheusRule CRD); Python wants global flags first. Moving it is equivalent for these."""
    if "(?i)" in pattern and not pattern.startswith("(?i)"):
        return "(?i)" + pattern.replace("(?i)", "")
    return pattern


def _list_type(
    validator: Validator, list_type: str, instance: Any, schema: Schema
) -> Iterator[jsonschema.ValidationError]:
    if not isinstance(instance, list):
        return
    if list_type == "set":
        seen: list[Any] = []
        for item in instance:
            if item in seen:
                yield jsonschema.ValidationError(f"duplicate entry {item!r} in a set list")
            seen.append(item)
    elif list_type == "map":
        keys = schema.get("x-kubernetes-list-map-keys", [])
        seen_keys: set[tuple[Any, ...]] = set()
        for item in instance:
            if not isinstance(item, dict):
                continue
            ident = tuple(item.get(k) for k in keys)
            if ident in seen_keys:
                yield jsonschema.ValidationError(f"duplicate map-list key {ident!r}")
            seen_keys.add(ident)


CRDValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, {"x-kubernetes-list-type": _list_type}
)
FORMATS = FormatChecker(formats=())


def _date_time(value: object) -> bool:
    """RFC 3339 with a zone, as metav1.Time serialises."""
    if not isinstance(value, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", value):
        raise ValueError(f"{value!r} is not an RFC 3339 date-time")
    dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


FORMATS.checks("date-time", raises=ValueError)(_date_time)



def crd_validator(doc: dict[str, Any], version: str | None = None) -> Validator:
    """A validator for objects of the CRD `doc` (its only version, or the one named)."""
    versions = doc["spec"]["versions"]
    chosen = versions[0] if version is None else next(v for v in versions if v["name"] == version)
    schema = to_json_schema(chosen["schema"]["openAPIV3Schema"])
    CRDValidator.check_schema(schema)
    validator: Validator = CRDValidator(schema, format_checker=FORMATS)
    return validator


def crd_errors(doc: dict[str, Any], obj: dict[str, Any]) -> list[str]:
    """Every schema error of `obj` against the CRD `doc`, as `path: message` lines."""
    return [
        f"{'.'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in crd_validator(doc).iter_errors(obj)
    ]
