"""Names that explain themselves: no two public classes or functions of the package share a
name across modules, so an import never means one thing here and another there."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "release"


def public_names() -> dict[str, list[str]]:
    where: dict[str, list[str]] = defaultdict(list)
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_") \
                    and module not in where[node.name]:  # typing.overload repeats a name
                where[node.name].append(module)
    return where


def test_no_two_public_names_alike() -> None:
    twice = {name: modules for name, modules in public_names().items() if len(modules) > 1}
    assert twice == {}


def test_the_check_sees_the_package() -> None:
    names = public_names()
    assert names["make_plan"] == ["release.plan"] and "ReleaseTarget" in names
