"""`ameide-release index`: tag → archive → index entry, through the real CLI entry point."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import run_main
from tests.gitutil import GitBuilder
from tests.index.conftest import ChartFactory, sha256_hex

run = run_main


@pytest.fixture
def project(gitrepo: GitBuilder) -> GitBuilder:
    gitrepo.write("pyproject.toml", '[tool.ameide-release]\ngithub-repository = "acme/charts"\n')
    gitrepo.commit("feat: first")
    gitrepo.tag("v1.2.3")
    return gitrepo


def index_of(site: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((site / "index.yaml").read_text(encoding="utf-8"))
    return data


def test_index_with_package_points_at_the_github_release_asset(
        project: GitBuilder, tmp_path: Path, make_chart: ChartFactory,
        capsys: pytest.CaptureFixture[str]) -> None:
    tgz = make_chart("demo", "1.2.3")
    site = tmp_path / "site"
    site.mkdir()

    code, out, err = run(["--repo", str(project.root), "index", "--tag", "v1.2.3",
                          "--index-dir", str(site), "--package", str(tgz)], capsys)

    assert code == 0, err
    assert out.startswith("added demo 1.2.3 to ")
    [entry] = index_of(site)["entries"]["demo"]
    assert entry["urls"] == ["https://github.com/acme/charts/releases/download/v1.2.3/"
                             "demo-1.2.3.tgz"]
    assert entry["digest"] == sha256_hex(tgz)
    # created is the tag's commit time from git, not the clock of the run
    assert entry["created"] == "2023-11-14T22:14:20Z"  # GitBuilder: start + 60 s


def test_rerun_says_nothing_to_do_and_json_reports_status(
        project: GitBuilder, tmp_path: Path, make_chart: ChartFactory,
        capsys: pytest.CaptureFixture[str]) -> None:
    tgz = make_chart("demo", "1.2.3")
    site = tmp_path / "site"
    site.mkdir()
    args = ["--repo", str(project.root), "index", "--tag", "v1.2.3", "--index-dir", str(site),
            "--package", str(tgz), "--url", "https://charts.example/"]
    assert run([*args, "--json"], capsys)[0] == 0
    first = (site / "index.yaml").read_bytes()

    code, out, _ = run([*args, "--json"], capsys)
    report = json.loads(out)
    assert code == 0
    assert report["status"] == "present"
    assert report["digest"] == "sha256:" + sha256_hex(tgz)
    assert report["url"] == "https://charts.example/demo-1.2.3.tgz"
    assert (site / "index.yaml").read_bytes() == first

    code, out, _ = run(args, capsys)
    assert code == 0 and "nothing to do" in out


def test_conflict_exits_3_with_one_line(project: GitBuilder, tmp_path: Path,
                                        make_chart: ChartFactory,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    site.mkdir()
    base = ["--repo", str(project.root), "index", "--tag", "v1.2.3", "--index-dir", str(site)]
    assert run([*base, "--package", str(make_chart("demo", "1.2.3"))], capsys)[0] == 0
    before = (site / "index.yaml").read_bytes()

    other = make_chart("demo", "1.2.3", template="kind: Different\n")
    code, _, err = run([*base, "--package", str(other)], capsys)

    assert code == 3
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert (site / "index.yaml").read_bytes() == before


def test_corrupt_index_exits_2(project: GitBuilder, tmp_path: Path, make_chart: ChartFactory,
                               capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.yaml").write_text("apiVersion: v1\nentries: {demo: [\n", encoding="utf-8")
    code, _, err = run(["--repo", str(project.root), "index", "--tag", "v1.2.3",
                        "--index-dir", str(site), "--package", str(make_chart())], capsys)
    assert code == 2
    assert err.startswith("error: ") and "not valid YAML" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("tag", "chart_version", "problem"),
    [
        ("v9.9.9", "9.9.9", "tag v9.9.9 does not exist"),
        ("v1.2.3", "1.2.4", "holds demo 1.2.4, but tag v1.2.3 is 1.2.3"),
        ("1.2.3", "1.2.3", "1.2.3"),
    ],
)
def test_bad_input_exits_2(project: GitBuilder, tmp_path: Path, make_chart: ChartFactory,
                           capsys: pytest.CaptureFixture[str], tag: str, chart_version: str,
                           problem: str) -> None:
    site = tmp_path / "site"
    site.mkdir()
    code, _, err = run(["--repo", str(project.root), "index", "--tag", tag, "--index-dir",
                        str(site), "--package", str(make_chart("demo", chart_version))], capsys)
    assert code == 2, err
    assert problem in err and err.count("\n") == 1
    assert not (site / "index.yaml").exists()


def test_without_package_builds_the_tag(gitrepo: GitBuilder, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """No --package: the archive is the reproducible build of the tag's commit."""
    from tests.charts import DEMO
    from tests.conftest import release_archive

    gitrepo.commit("feat(chart): demo", dict(DEMO))
    gitrepo.tag("v1.2.3")
    expected = release_archive(gitrepo.root, "v1.2.3", tmp_path / "pkg")
    site = tmp_path / "site"
    site.mkdir()

    code, _, err = run(["--repo", str(gitrepo.root), "index", "--tag", "v1.2.3",
                        "--index-dir", str(site)], capsys)

    assert code == 0, err
    [entry] = index_of(site)["entries"]["demo"]
    assert entry["digest"] == expected.digest.removeprefix("sha256:")
    commit_time = int(gitrepo.git("show", "-s", "--format=%ct", "v1.2.3"))
    assert entry["created"] == datetime.fromtimestamp(commit_time, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert entry["urls"] == [
        "https://github.com/ameideio/ameide-core/releases/download/v1.2.3/demo-1.2.3.tgz"]


def test_the_page_for_people_is_written_beside_the_index(gitrepo: GitBuilder, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str],
                                                         ) -> None:
    from tests.charts import DEMO

    gitrepo.commit("feat(chart): demo", dict(DEMO))
    gitrepo.tag("v1.2.3")
    site = tmp_path / "site"
    site.mkdir()
    code, _, err = run(["--repo", str(gitrepo.root), "index", "--tag", "v1.2.3",
                        "--index-dir", str(site)], capsys)
    assert code == 0, err
    page = (site / "index.html").read_text()
    assert "demo" in page and "1.2.3" in page and "helm install" in page
    before = (site / "index.html").stat().st_mtime_ns
    code, _, err = run(["--repo", str(gitrepo.root), "index", "--tag", "v1.2.3",
                        "--index-dir", str(site)], capsys)
    assert code == 0 and (site / "index.html").stat().st_mtime_ns == before  # not rewritten


def test_a_plain_http_helm_repository_is_refused_before_anything_is_written(
        project: GitBuilder, tmp_path: Path, make_chart: ChartFactory,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The page offers `helm repo add <helm-repo-url>` to everyone: the setting must be https,
    and that is a rule of the setting (exit 2 before the step runs), not a failure of the page
    after index.yaml was written."""
    site = tmp_path / "site"
    site.mkdir()
    code, _, err = run(["--repo", str(project.root), "--helm-repo-url", "http://charts.example",
                        "index", "--tag", "v1.2.3", "--index-dir", str(site), "--package",
                        str(make_chart("demo", "1.2.3"))], capsys)
    assert code == 2, err
    assert "helm-repo-url" in err and "plain HTTP" in err and err.count("\n") == 1
    assert list(site.iterdir()) == []


def test_an_index_html_that_is_not_utf8_is_replaced(
        project: GitBuilder, tmp_path: Path, make_chart: ChartFactory,
        capsys: pytest.CaptureFixture[str]) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_bytes(b"<html>caf\xe9</html>\n")  # a Latin-1 page
    args = ["--repo", str(project.root), "index", "--tag", "v1.2.3", "--index-dir", str(site),
            "--package", str(make_chart("demo", "1.2.3")), "--json"]
    code, out, err = run(args, capsys)
    assert code == 0, err
    page = (site / "index.html").read_text(encoding="utf-8")
    assert "helm install demo" in page
    code, out, err = run(args, capsys)
    assert code == 0 and json.loads(out)["status"] == "present"
