"""Chart archives made by Helm's own packager, so the index is tested against real `.tgz` files."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

ChartFactory = Callable[..., Path]


def sha256_hex(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def make_chart(tmp_path: Path) -> ChartFactory:
    """`make_chart(name, version, **chart_yaml_extras)` -> path of `<name>-<version>.tgz`."""
    import helm_python

    out = tmp_path / "archives"
    out.mkdir()
    count = iter(range(1_000_000))

    def build(name: str = "demo", version: str = "1.2.3", *, extra: str = "",
              template: str = "") -> Path:
        n = next(count)
        src = tmp_path / "src" / str(n) / name
        (src / "templates").mkdir(parents=True)
        (src / "Chart.yaml").write_text(
            f"apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"{version}\"\n"
            f"description: Test chart {name}\ntype: application\n{extra}",
            encoding="utf-8",
        )
        (src / "values.yaml").write_text("replicas: 1\n", encoding="utf-8")
        (src / "templates" / "cm.yaml").write_text(
            template or "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
                        "data:\n  replicas: \"{{ .Values.replicas }}\"\n",
            encoding="utf-8",
        )
        dest = out / str(n)
        dest.mkdir()
        return Path(helm_python.package(str(src), destination=str(dest)))

    return build
