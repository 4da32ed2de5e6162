"""OCI tests: small chart packages (registry fixtures come from tests/registry_fixtures.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from release.package import PackageResult, build
from release.retry import RetryPolicy

COMMIT_TIME = 1_700_000_000

CHART_YAML = """apiVersion: v2
name: demo
description: A demo <chart> & friends
version: {version}
appVersion: "1.0.0"
home: https://example.com/demo
sources: [https://github.com/ameideio/ameide-core, https://example.com/mirror]
maintainers:
  - name: Ann
    email: ann@example.com
  - name: Bob
annotations:
  org.opencontainers.image.description: Operators chart
  org.opencontainers.image.title: cannot-override
  example.com/team: platform
"""


def write_chart(root: Path, version: str = "0.1.0", extra: str = "") -> Path:
    chart = root / "chart"
    (chart / "templates").mkdir(parents=True, exist_ok=True)
    (chart / "Chart.yaml").write_text(CHART_YAML.format(version=version))
    (chart / "values.yaml").write_text(f"replicas: 1\nextra: {extra!r}\n")
    (chart / "templates" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-demo\n"
        "data:\n  version: {{ .Chart.Version | quote }}\n  extra: {{ .Values.extra | quote }}\n")
    return chart


@pytest.fixture
def make_package(tmp_path: Path) -> Callable[..., PackageResult]:
    """`make_package(version="0.1.0", extra="", created=COMMIT_TIME)` → a reproducible archive."""
    counter = iter(range(1000))

    def make(version: str = "0.1.0", extra: str = "", created: int = COMMIT_TIME,
             padding: int = 0) -> PackageResult:
        root = tmp_path / f"src{next(counter)}"
        chart = write_chart(root, version, extra)
        if padding:  # incompressible bytes, to make a big layer
            import random

            data = random.Random(padding).randbytes(padding)
            (chart / "files").mkdir()
            (chart / "files" / "blob.bin").write_bytes(data)
        return build(chart, root / "dist", created)

    return make


@pytest.fixture
def package(make_package: Callable[..., PackageResult]) -> PackageResult:
    return make_package()


@pytest.fixture
def fast_retry() -> RetryPolicy:
    """Retries that do not sleep."""
    return RetryPolicy(sleep=lambda _: None)


def with_created(package: PackageResult, created: int) -> PackageResult:
    return dataclasses.replace(package, created=created)
