from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from release.errors import BadInput
from release.lint import lint_chart
from release.steps.build import LintStep
from tests.charts import DEMO


def write_chart(root: Path, extra: dict[str, str] | None = None) -> Path:
    for rel, text in {**DEMO, **(extra or {})}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root / "chart"


def test_clean_chart_passes_with_helm_engine(tmp_path: Path) -> None:
    step = LintStep(lint_chart(write_chart(tmp_path)), "chart")
    step.require_clean()
    result = step.result
    assert result.engine == "helm_python" and result.errors == ()


def test_broken_template_is_refused_with_helms_message(tmp_path: Path) -> None:
    chart = write_chart(tmp_path, {"chart/templates/broken.yaml": "{{ if }}\n"})
    with pytest.raises(BadInput) as info:
        LintStep(lint_chart(chart), "v1.2.3's chart").require_clean()
    assert "v1.2.3's chart fails helm lint" in str(info.value)
    assert "broken.yaml:1" in str(info.value)


def test_without_any_engine_lint_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "helm_python" else real(name, *a))
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    result = lint_chart(write_chart(tmp_path, {"chart/templates/broken.yaml": "{{ if }}\n"}))
    assert result.skipped and result.errors == ()
