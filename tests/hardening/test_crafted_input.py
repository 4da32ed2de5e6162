"""Crafted flags, charts, archives and YAML: refused in one line (exit 2), in bounded time and
memory, with nothing run, published or changed."""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from release.config import load_settings
from release.errors import BadInput
from release.helmignore import IgnoreRules, glob_match
from release.package import build, chart_files
from tests.charts import DEMO
from tests.conftest import CliResult
from tests.gitutil import GitBuilder

BOMB = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True))  # 10^9 nodes once expanded


def one_line(result: CliResult, code: int = 2) -> str:
    assert result.code == code, result
    assert result.err.count("\n") == 1 and "Traceback" not in result.err, result
    return result.err


@pytest.fixture
def demo(gitrepo: GitBuilder) -> GitBuilder:
    gitrepo.commit("feat: demo chart", dict(DEMO))
    gitrepo.tag("v0.1.0", annotated=True)
    return gitrepo


# --- git argument injection ---------------------------------------------------------------------

def test_a_remote_that_is_an_option_runs_nothing(demo: GitBuilder, tmp_path: Path,
                                                 cli: Callable[..., CliResult]) -> None:
    pwned = tmp_path / "PWNED"
    fix = demo.commit("fix: x", {"chart/values.yaml": "replicas: 2\n"})
    branches = demo.git("branch", "--list")
    err = one_line(cli("--repo", str(demo.root), "hotfix", "--from", "v0.1.0", "--pick", fix,
                       "--push", f"--remote=--receive-pack=touch {pwned}"))
    assert "is not a remote name or URL" in err
    assert not pwned.exists() and demo.git("branch", "--list") == branches


def test_a_pick_that_is_an_option_is_not_a_commit(demo: GitBuilder, tmp_path: Path,
                                                 cli: Callable[..., CliResult]) -> None:
    pwned = tmp_path / "PWNED"
    err = one_line(cli("--repo", str(demo.root), "hotfix", "--from", "v0.1.0",
                       "--pick", f"--exec=touch {pwned}"))
    assert "is not a commit" in err and not pwned.exists()


@pytest.mark.parametrize("prefix", ["-m", "--output=x", "../v", "v..", "/v", ".v"])
def test_a_tag_prefix_git_would_read_as_an_option_is_refused(
        tmp_path: Path, cli: Callable[..., CliResult], prefix: str) -> None:
    err = one_line(cli("--repo", str(tmp_path), "--tag-prefix", prefix, "config"))
    assert "tag-prefix" in err


@pytest.mark.parametrize("command", [["dry-run"], ["package"], ["notes"], ["index",
                                     "--index-dir", "."], ["publish"], ["push"], ["bump"]])
def test_an_empty_tag_is_refused_not_defaulted(demo: GitBuilder, cli: Callable[..., CliResult],
                                               command: list[str]) -> None:
    err = one_line(cli("--repo", str(demo.root), *command, "--tag", ""))
    assert "''" in err


@pytest.mark.parametrize("tag", ["v18446744073709551616.0.0", "v1.18446744073709551616.0"])
def test_versions_helm_cannot_load_are_refused(demo: GitBuilder, cli: Callable[..., CliResult],
                                              tag: str) -> None:
    err = one_line(cli("--repo", str(demo.root), "dry-run", "--tag", tag))
    assert "2^64-1" in err


def test_a_chart_version_helm_cannot_load_is_refused(demo: GitBuilder, tmp_path: Path,
                                                      cli: Callable[..., CliResult]) -> None:
    chart = (demo.root / "chart/Chart.yaml").read_text()
    demo.write("chart/Chart.yaml", chart.replace("version: 0.1.0", "version: 99999999999999999999.0.0"))
    err = one_line(cli("--repo", str(demo.root), "package", "--out", str(tmp_path)))
    assert "2^64-1" in err


@pytest.mark.parametrize(("flag", "value", "needle"), [
    ("--github-repository", "o/..", "owner/name"),
    ("--github-repository", "-o/r", "owner/name"),
    ("--github-repository", "o/r/x", "owner/name"),
    ("--github-api", "javascript:alert(1)//", "not an http(s) URL"),
    ("--helm-repo-url", "file:///etc", "not an http(s) URL"),
    ("--registry", "oci://ghcr.io/../x", "not a valid OCI repository path"),
])
def test_bases_that_are_not_what_they_claim_are_refused(tmp_path: Path, flag: str, value: str,
                                                        needle: str,
                                                        cli: Callable[..., CliResult]) -> None:
    assert needle in one_line(cli("--repo", str(tmp_path), flag, value, "config"))


def test_an_index_url_that_is_not_http_is_refused(demo: GitBuilder, tmp_path: Path,
                                                  cli: Callable[..., CliResult]) -> None:
    err = one_line(cli("--repo", str(demo.root), "index", "--tag", "v0.1.0", "--index-dir",
                       str(tmp_path), "--url", "javascript:alert(1)//"))
    assert "not an http(s) URL" in err and not (tmp_path / "index.yaml").exists()


# --- archives -----------------------------------------------------------------------------------

def tgz(members: list[tuple[tarfile.TarInfo, bytes]]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return gzip.compress(raw.getvalue())


def member(name: str, data: bytes = b"", kind: bytes = tarfile.REGTYPE,
           target: str = "") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    info.linkname = target
    return info, data


CHART = b"apiVersion: v2\nname: demo\nversion: 0.1.0\n"


@pytest.mark.parametrize(("evil", "needle"), [
    (member("demo/../../etc/cron.d/x", b"x"), "parent directory"),
    (member("/etc/passwd", b"x"), "absolute path"),
    (member("demo/templates/link.yaml", kind=tarfile.SYMTYPE, target="/etc/passwd"), "link"),
    (member("demo/templates/hard.yaml", kind=tarfile.LNKTYPE, target="demo/Chart.yaml"), "link"),
    (member("demo/dev", kind=tarfile.CHRTYPE), "special file"),
    (member("demo/fifo", kind=tarfile.FIFOTYPE), "special file"),
    (member("Chart.yaml", CHART), "outside the chart directory"),
])
def test_push_archive_refuses_unsafe_members(tmp_path: Path, cli: Callable[..., CliResult],
                                             evil: tuple[tarfile.TarInfo, bytes],
                                             needle: str) -> None:
    archive = tmp_path / "demo-0.1.0.tgz"
    archive.write_bytes(tgz([member("demo/Chart.yaml", CHART), evil]))
    err = one_line(cli("--repo", str(tmp_path), "push", "--archive", str(archive), "--to",
                       "oci://127.0.0.1:9/ns", "--plain-http"))  # port 9: any request fails
    assert needle in err


def gzip_bomb(path: Path, inner_size: int) -> None:
    """One tar member of `inner_size` zero bytes, gzipped to a few hundred KiB."""
    with gzip.open(path, "wb", compresslevel=9) as gz:
        info = tarfile.TarInfo("demo/Chart.yaml")
        info.size = len(CHART)
        gz.write(info.tobuf() + CHART + b"\0" * (512 - len(CHART)))
        info = tarfile.TarInfo("demo/templates/zeros")
        info.size = inner_size
        gz.write(info.tobuf())
        block = b"\0" * (1 << 20)
        for _ in range(inner_size >> 20):
            gz.write(block)


_CHILD = """
def peak():
    # VmHWM: this process's own peak (ru_maxrss can carry the forking parent's across exec)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
import resource, sys
from release.cli import main
try:
    main(sys.argv[1:])
except SystemExit as e:
    code = e.code
print("MAXRSS_KB", peak(), file=sys.stderr)
sys.exit(code)
"""


@pytest.mark.parametrize("command", ["push", "index"])
def test_a_gzip_bomb_stops_at_helms_limit_in_bounded_memory(tmp_path: Path, command: str,
                                                            demo: GitBuilder) -> None:
    bomb = tmp_path / "demo-0.1.0.tgz"
    gzip_bomb(bomb, 300 << 20)  # 300 MiB inside
    assert bomb.stat().st_size < 1 << 20
    args = (["push", "--archive", str(bomb), "--to", "oci://127.0.0.1:9/ns", "--plain-http"]
            if command == "push" else
            ["index", "--tag", "v0.1.0", "--index-dir", str(tmp_path), "--package", str(bomb)])
    proc = subprocess.run([sys.executable, "-c", _CHILD, "--repo", str(demo.root), *args],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 2, proc.stderr
    assert "more than" in proc.stderr and "Traceback" not in proc.stderr
    peak_mb = int(proc.stderr.split("MAXRSS_KB")[1]) / 1024
    assert peak_mb < 250, f"peak {peak_mb:.0f} MB"


def test_a_subchart_archive_with_a_huge_member_is_refused(demo: GitBuilder,
                                                          tmp_path: Path) -> None:
    bomb = demo.root / "chart/charts/big-0.1.0.tgz"
    gzip_bomb(bomb, 200 << 20)
    with pytest.raises(BadInput, match="decompresses to more than"):
        build(demo.root / "chart", tmp_path, 1_700_000_000)


def test_a_chart_over_helms_total_limit_is_refused(demo: GitBuilder, tmp_path: Path) -> None:
    files = demo.root / "chart/files"
    files.mkdir()
    for i in range(21):  # 21 x 5 MiB (sparse): under the per-file limit, over 100 MiB in all
        with (files / f"part{i}.bin").open("wb") as fh:
            fh.truncate(5 * 1024 * 1024)
    with pytest.raises(BadInput, match="over Helm's 104857600-byte limit"):
        build(demo.root / "chart", tmp_path, 1_700_000_000)


@pytest.mark.parametrize("name", [".", "..", "a/b", "a\\\\b"])
def test_subcharts_with_path_names_are_refused(demo: GitBuilder, tmp_path: Path,
                                               name: str) -> None:
    demo.write("chart/charts/sub/Chart.yaml", f"apiVersion: v2\nname: '{name}'\nversion: 0.2.0\n")
    with pytest.raises(BadInput, match="no valid name"):
        build(demo.root / "chart", tmp_path, 1_700_000_000)


# --- YAML -----------------------------------------------------------------------------------

def test_an_alias_bomb_in_chart_yaml_is_refused(demo: GitBuilder, tmp_path: Path,
                                               cli: Callable[..., CliResult]) -> None:
    text = (demo.root / "chart/Chart.yaml").read_text()
    demo.write("chart/Chart.yaml", text + "x-bomb:\n" + "".join(
        "  " + line + "\n" for line in BOMB.splitlines()))
    err = one_line(cli("--repo", str(demo.root), "package", "--out", str(tmp_path)))
    assert "expands to more than" in err


def test_an_alias_bomb_in_values_yaml_is_refused(demo: GitBuilder,
                                                cli: Callable[..., CliResult]) -> None:
    demo.write("chart/values.yaml", BOMB)
    demo.write("chart/README.md", "<!-- chart-docs:values:begin -->\n"
                                  "<!-- chart-docs:values:end -->\n")
    assert "expands to more than" in one_line(cli("--repo", str(demo.root), "chart-docs"))


def test_an_alias_bomb_in_index_yaml_is_refused(demo: GitBuilder, tmp_path: Path,
                                               cli: Callable[..., CliResult]) -> None:
    (tmp_path / "index.yaml").write_text("apiVersion: v1\nentries: {}\n" + BOMB)
    before = (tmp_path / "index.yaml").read_bytes()
    err = one_line(cli("--repo", str(demo.root), "index", "--tag", "v0.1.0", "--index-dir",
                       str(tmp_path)))
    assert "expands to more than" in err and (tmp_path / "index.yaml").read_bytes() == before


def test_recursive_and_deep_yaml_are_refused(demo: GitBuilder, tmp_path: Path) -> None:
    from release.yamlread import parse_yaml

    with pytest.raises(BadInput, match="recursive alias"):
        parse_yaml("a: &a [*a]\n", "x.yaml")
    with pytest.raises(BadInput, match="nests deeper"):
        parse_yaml("a: " + "[" * 500 + "]" * 500 + "\n", "x.yaml")
    with pytest.raises(BadInput, match="over 5242880 bytes"):
        parse_yaml("a: " + "x" * (6 << 20), "x.yaml")


@pytest.mark.parametrize(("chart_yaml", "needle"), [
    ("? [a, b]\n: c\napiVersion: v2\nname: demo\nversion: 0.1.0\n", "unhashable key"),
    ("apiVersion: v2\nname: demo\nversion: 0.1.0\nannotations:\n  1: x\n", "map text to text"),
    ("apiVersion: v2\nname: demo\nversion: 0.1.0\nannotations:\n  a: [1]\n", "map text to text"),
    ("apiVersion: v2\nname: demo\nversion: 0.1.0\nsources: {a: b}\n", "list of text"),
    ("apiVersion: v2\nname: demo\nversion: 0.1.0\nmaintainers: [x]\n", "list of mappings"),
    ("apiVersion: v2\nname: demo\nversion: 0.1.0\nhome: [x]\n", "must be text"),
])
def test_chart_yaml_of_the_wrong_shape_is_bad_input(demo: GitBuilder, tmp_path: Path,
                                                    cli: Callable[..., CliResult],
                                                    chart_yaml: str, needle: str) -> None:
    demo.write("chart/Chart.yaml", chart_yaml)
    assert needle in one_line(cli("--repo", str(demo.root), "package", "--out", str(tmp_path)))


@pytest.mark.parametrize("path", ["chart/values.yaml", "chart/.helmignore", "chart/Chart.yaml"])
def test_non_utf8_chart_files_are_bad_input(demo: GitBuilder, tmp_path: Path, path: str,
                                            cli: Callable[..., CliResult]) -> None:
    demo.write(path, b"\xff\xfe\x00broken: \xc3\x28\n")
    demo.write("chart/README.md", "<!-- chart-docs:values:begin -->\n"
                                  "<!-- chart-docs:values:end -->\n")
    command = ["chart-docs"] if path.endswith("values.yaml") else ["package", "--out",
                                                                    str(tmp_path)]
    assert "not UTF-8" in one_line(cli("--repo", str(demo.root), *command))


# --- .helmignore --------------------------------------------------------------------------------

def test_many_stars_match_in_linear_time() -> None:
    """The old regex translation took 42 s on this; Go's algorithm does not backtrack."""
    name = "a" * 60 + "b"
    assert not glob_match("*a*a*a*a*a*a*c", name)
    assert glob_match("*a*a*a*a*a*a*b", name)
    assert IgnoreRules(["*a*a*a*a*a*a*c"]).ignored("x/" + name, False) is False


@pytest.mark.parametrize("patterns", [
    "*.b?k\n[^n]otes.*\n", "templates/*.yaml\n!templates/cm.yaml\n", "[m-o]*\n\\#literal\n",
    "/README.md\nci/\n", "*\n!*.yaml\n!*.tpl\n!*.txt\n!*.json\n!*.md\n",
])
def test_helmignore_matches_what_helms_engine_packages(demo: GitBuilder, tmp_path: Path,
                                                       patterns: str) -> None:
    helm_python = pytest.importorskip("helm_python")
    chart = demo.root / "chart"
    (chart / ".helmignore").write_text(patterns)
    try:
        ours = {rel for rel, _ in chart_files(chart)}
    except BadInput:
        ours = None  # our clear error where Helm would drop Chart.yaml
    out = tmp_path / "helm"
    out.mkdir()
    try:
        with tarfile.open(helm_python.package(str(chart), destination=str(out))) as tar:
            theirs = {m.name.split("/", 1)[1] for m in tar.getmembers() if m.isfile()}
    except Exception:
        theirs = None
    if ours is None or theirs is None:
        assert ours is None and theirs is None
        return
    # Helm expands subcharts from charts/; compare the rest file for file
    assert {p for p in ours if not p.startswith("charts/")} == \
        {p for p in theirs if not p.startswith("charts/")}


# --- files that are not files ---------------------------------------------------------------

def test_a_fifo_in_place_of_index_yaml_is_refused_not_waited_on(
        demo: GitBuilder, tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    os.mkfifo(tmp_path / "index.yaml")
    err = one_line(cli("--repo", str(demo.root), "index", "--tag", "v0.1.0", "--index-dir",
                       str(tmp_path)))
    assert "not a regular file" in err


def test_a_fifo_in_place_of_the_changelog_is_refused_not_waited_on(
        demo: GitBuilder, cli: Callable[..., CliResult]) -> None:
    os.mkfifo(demo.root / "CHANGELOG.md")
    err = one_line(cli("--repo", str(demo.root), "changelog", "--update", "--tag", "v0.1.0"))
    assert "not a regular file" in err


def test_atomic_write_never_replaces_a_special_file(tmp_path: Path) -> None:
    from release.files import atomic_write

    os.mkfifo(tmp_path / "out")
    with pytest.raises(BadInput, match="not a regular file"):
        atomic_write(tmp_path / "out", b"x")


def test_settings_rules_hold_for_every_source(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.ameide-release]\ntag-prefix = "-x"\n')
    with pytest.raises(BadInput, match="tag-prefix"):
        load_settings(tmp_path, environ={})
    (tmp_path / "pyproject.toml").write_text("tool = 5\n")
    with pytest.raises(BadInput, match="must be a table"):
        load_settings(tmp_path, environ={})
