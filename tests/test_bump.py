from __future__ import annotations

from collections.abc import Callable

from tests.conftest import CliResult
from tests.gitutil import GitBuilder

CHART = """\
# The AMEIDE operators chart.
apiVersion: v2
name: demo   # keep this comment
description: 'single-quoted: stays'
type: application
version: 0.1.0 # bumped by ameide-release
appVersion: "0.1.0"
keywords:
    - operators   # odd indentation survives
annotations:
  artifacthub.io/license: Apache-2.0
  version: "not-the-top-level-key"
"""


def make(gitrepo: GitBuilder, chart: str = CHART) -> GitBuilder:
    gitrepo.commit("chore: chart", {"chart/Chart.yaml": chart, "chart/values.yaml": "a: 1\n"})
    return gitrepo


def test_bump_preserves_everything_else(gitrepo: GitBuilder, cli: Callable[..., CliResult]) -> None:
    make(gitrepo)
    result = cli("--repo", str(gitrepo.root), "bump", "--tag", "v1.2.3")
    assert result.code == 0, result
    text = (gitrepo.root / "chart/Chart.yaml").read_text()
    expected = CHART.replace("version: 0.1.0 # bumped", "version: 1.2.3 # bumped").replace(
        'appVersion: "0.1.0"', 'appVersion: "1.2.3"')
    assert text == expected


def test_bump_is_a_noop_when_already_set(gitrepo: GitBuilder, cli: Callable[..., CliResult]) -> None:
    make(gitrepo)
    assert cli("--repo", str(gitrepo.root), "bump", "--tag", "v1.2.3").code == 0
    gitrepo.git("commit", "-qam", "chore: bump")
    before = (gitrepo.root / "chart/Chart.yaml").stat().st_mtime_ns
    result = cli("--repo", str(gitrepo.root), "bump", "--tag", "v1.2.3")
    assert result.code == 0 and "nothing to do" in result.out
    assert (gitrepo.root / "chart/Chart.yaml").stat().st_mtime_ns == before


def test_bump_adds_missing_app_version(gitrepo: GitBuilder, cli: Callable[..., CliResult]) -> None:
    make(gitrepo, "apiVersion: v2\nname: demo\nversion: 0.1.0\n")
    assert cli("--repo", str(gitrepo.root), "bump", "--tag", "v0.2.0").code == 0
    assert (gitrepo.root / "chart/Chart.yaml").read_text() == (
        'apiVersion: v2\nname: demo\nversion: 0.2.0\nappVersion: "0.2.0"\n')


def test_bump_refuses_downgrade_unless_allowed(gitrepo: GitBuilder, cli: Callable[..., CliResult]) -> None:
    make(gitrepo, CHART.replace("0.1.0", "2.0.0"))
    result = cli("--repo", str(gitrepo.root), "bump", "--tag", "v1.9.9")
    assert result.code == 2 and "lower than the chart's current version 2.0.0" in result.err
    assert "2.0.0" in (gitrepo.root / "chart/Chart.yaml").read_text()
    assert cli("--repo", str(gitrepo.root), "bump", "--tag", "v1.9.9", "--allow-downgrade").code == 0
    assert "version: 1.9.9" in (gitrepo.root / "chart/Chart.yaml").read_text()


def test_bump_refuses_dirty_chart_yaml(gitrepo: GitBuilder, cli: Callable[..., CliResult]) -> None:
    make(gitrepo)
    path = gitrepo.root / "chart/Chart.yaml"
    path.write_text(CHART + "home: https://example.test\n")
    result = cli("--repo", str(gitrepo.root), "bump", "--tag", "v1.0.0")
    assert result.code == 2 and "uncommitted changes" in result.err
    assert "version: 0.1.0" in path.read_text()


def test_bump_rejects_bad_tag_without_touching(gitrepo: GitBuilder, cli: Callable[..., CliResult]) -> None:
    make(gitrepo)
    result = cli("--repo", str(gitrepo.root), "bump", "--tag", "v1.2")
    assert result.code == 2 and "'v1.2'" in result.err and "Traceback" not in result.err
    assert gitrepo.git("status", "--porcelain") == ""


def test_bump_leaves_no_temp_files(gitrepo: GitBuilder, cli: Callable[..., CliResult]) -> None:
    make(gitrepo)
    (gitrepo.root / "chart/Chart.yaml").chmod(0o640)
    assert cli("--repo", str(gitrepo.root), "bump", "--tag", "v3.0.0").code == 0
    assert sorted(p.name for p in (gitrepo.root / "chart").iterdir()) == ["Chart.yaml", "values.yaml"]
    assert (gitrepo.root / "chart/Chart.yaml").stat().st_mode & 0o777 == 0o640


def test_bump_refuses_flow_style(gitrepo: GitBuilder, cli: Callable[..., CliResult]) -> None:
    make(gitrepo, "{apiVersion: v2, name: demo, version: 0.1.0}\n")
    result = cli("--repo", str(gitrepo.root), "bump", "--tag", "v1.0.0")
    assert result.code == 2 and "version:" in result.err


def test_bump_reads_chart_yaml_once_and_bounded(gitrepo: GitBuilder,
                                                cli: Callable[..., CliResult]) -> None:
    """The bump edits the text it checked (it read Chart.yaml a second time, unbounded)."""
    make(gitrepo, CHART + "# " + "x" * (6 << 20) + "\n")
    result = cli("--repo", str(gitrepo.root), "bump", "--tag", "v1.2.3")
    assert result.code == 2 and "byte limit" in result.err and result.err.count("\n") == 1
