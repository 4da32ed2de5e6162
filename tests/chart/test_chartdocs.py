"""The generated values table in chart/README.md and the `chart-docs` command."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from release.chartdocs import BEGIN, END, parse_values, regenerate, render_readme, values_table
from release.cli import main
from release.errors import BadInput
from tests.chart.helpers import CHART


def test_readme_values_table_is_fresh() -> None:
    current, fresh = regenerate(CHART)
    assert current == fresh, "run `ameide-release chart-docs` and commit chart/README.md"


def test_every_value_is_documented() -> None:
    rows = {r.key: r for r in parse_values((CHART / "values.yaml").read_text())}
    assert rows["podDisruptionBudget.minAvailable"].type == "int or string"
    assert rows["operators.uisurface.image.tag"].default == '""'
    assert rows["networkPolicy.apiServer.ports"].default == "[443,6443]"
    assert len(rows) > 100


def test_readme_documents_crd_lifecycle_and_gitops() -> None:
    readme = (CHART / "README.md").read_text()
    assert "**`helm upgrade`\nupgrades them**" in readme
    assert "--take-ownership" in readme  # the upgrade from 0.1.0, tested in test_lifecycle
    assert "**every\n  custom resource of the four kinds in every namespace**" in readme
    assert "## GitOps (Argo CD)" in readme
    for env in ("dev", "staging", "production"):
        assert f"| {env} |" in readme


def test_undocumented_value_is_an_error() -> None:
    text = "# -- documented\na: 1\nb:\n  # -- inner\n  c: 2\n  d: 3\n"
    with pytest.raises(BadInput, match=r"1 undocumented value\(s\): b\.d"):
        parse_values(text)


def test_documented_map_covers_children_and_multiline_docs() -> None:
    text = (
        "# -- (object) whole map\n# spanning two lines\nres:\n  limits:\n    cpu: 1\n"
        "list:\n  # -- items\n  items:\n    - name: x\n      value: y\n"
        "  # -- after list\n  z: true\n"
    )
    table = values_table(text)
    assert '| `res` | object | `{"limits":{"cpu":1}}` | whole map spanning two lines |' in table
    assert '| `list.items` | list | `[{"name":"x","value":"y"}]` | items |' in table
    assert "| `list.z` | bool | `true` | after list |" in table


def test_render_readme_needs_markers() -> None:
    with pytest.raises(BadInput, match="no values markers"):
        render_readme("# title\n", "table\n")
    out = render_readme(f"x\n{BEGIN}\nold\n{END}\ny\n", "| new |\n")
    assert out == f"x\n{BEGIN}\n| new |\n{END}\ny\n"


def _chart_copy(tmp_path: Path) -> Path:
    dest = tmp_path / "chart"
    shutil.copytree(CHART, dest)
    return dest


def _run(tmp_path: Path, *args: str) -> int:
    try:
        main(["--repo", str(tmp_path), "--chart", "chart", "chart-docs", *args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_cli_check_fails_on_stale_readme_and_regenerates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = _chart_copy(tmp_path)
    values = chart / "values.yaml"
    values.write_text(
        values.read_text().replace(
            "Pull policy of every operator image.", "Pull policy of all operator images."
        )
    )
    before = (chart / "README.md").read_text()
    assert _run(tmp_path, "--check") == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("error: ") and "values table is stale" in err and len(err.splitlines()) == 1
    )
    assert (chart / "README.md").read_text() == before  # --check writes nothing
    assert _run(tmp_path) == 0
    after = (chart / "README.md").read_text()
    assert after != before and "Pull policy of all operator images." in after
    assert _run(tmp_path, "--check") == 0


def test_cli_reports_undocumented_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    chart = _chart_copy(tmp_path)
    values = chart / "values.yaml"
    values.write_text(values.read_text() + "extra: 1\n")
    assert _run(tmp_path, "--check") == 2
    assert "undocumented value(s): extra" in capsys.readouterr().err


def test_block_scalar_text_is_not_read_as_comments_or_keys(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Lines inside a `|` block that look like a `# --` comment and a key are the value's text:
    `chart-docs --check` used to crash on them (exit 1). A block scalar's last line that looks
    like a comment documents nothing."""
    text = ("# -- a script\nscript: |\n  # -- not a comment\n  key: not a key\n"
            "# -- a number\nport: 80\n"
            "other: |\n  echo\n  # -- inside the block\nundocumented: 1\n")
    with pytest.raises(BadInput, match=r"2 undocumented value\(s\): other, undocumented: "):
        parse_values(text)
    good = text.replace("other: |", "# -- other\nother: |").replace(
        "undocumented: 1", "# -- now documented\nundocumented: 1")
    assert [(r.key, r.description) for r in parse_values(good)] == [
        ("script", "a script"), ("port", "a number"), ("other", "other"),
        ("undocumented", "now documented")]
    assert parse_values(good)[0].default == '"# -- not a comment\\nkey: not a key\\n"'
    chart = _chart_copy(tmp_path)
    (chart / "values.yaml").write_text(good)
    assert _run(tmp_path, "--check") == 2  # stale, not a crash
    assert "values table is stale" in capsys.readouterr().err


def test_a_list_at_its_keys_indent_does_not_hide_the_next_key() -> None:
    text = ("top:\n  # -- the list\n  x:\n  - a\n  - b\n  # -- the next key\n  y: 1\n"
            "# -- after\nz:\n- 1\n# -- last\nw: 2\n")
    assert [(r.key, r.default, r.description) for r in parse_values(text)] == [
        ("top.x", '["a","b"]', "the list"), ("top.y", "1", "the next key"),
        ("z", "[1]", "after"), ("w", "2", "last")]


def test_keys_are_named_as_written_and_flow_maps_are_one_value() -> None:
    text = ('# -- yes as a key\nyes: 1\n# -- a port\n80: http\n# -- flow\nimage: {a: 1, b: ""}\n'
            "# -- quoted\n\"dotted.key\": x\n")
    assert [(r.key, r.default) for r in parse_values(text)] == [
        ("yes", "1"), ("80", '"http"'), ("image", '{"a":1,"b":""}'), ("dotted.key", '"x"')]
