from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from release.config import load_settings
from release.errors import BadInput
from release.package import build_package
from tests.charts import DEMO
from tests.conftest import CliResult, release_archive
from tests.gitutil import GitBuilder

helm_python = pytest.importorskip("helm_python")


@pytest.fixture
def demo(gitrepo: GitBuilder) -> GitBuilder:
    gitrepo.commit("feat: demo chart", dict(DEMO))
    return gitrepo


def members(path: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: m for m in tar.getmembers()}


def contains(big: object, small: object) -> bool:
    """`big` holds everything `small` does (Helm adds empty defaults such as repository: "")."""
    if isinstance(small, dict):
        return isinstance(big, dict) and all(k in big and contains(big[k], v) for k, v in small.items())
    if isinstance(small, list):
        return isinstance(big, list) and len(big) == len(small) and all(
            contains(b, s) for b, s in zip(big, small, strict=True))
    return big == small


def package_in_subprocess(root: Path, out: Path, umask: int, env: dict[str, str]) -> dict[str, str]:
    code = (f"import os; os.umask({umask}); from release.cli import main; "
            f"main(['--repo', {str(root)!r}, 'package', '--tag', 'v1.2.3', '--out', {str(out)!r}, '--json'])")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, check=False)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, str] = json.loads(proc.stdout)
    return result


def test_same_commit_same_bytes_whatever_the_machine(demo: GitBuilder, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(demo.root), str(clone)], check=True)
    # A second checkout with different mtimes, modes from a different umask, another locale/TZ.
    for i, path in enumerate(sorted((clone / "chart").rglob("*"))):
        os.utime(path, (1_000_000 + i * 7919, 1_000_000 + i * 7919))
    a = package_in_subprocess(demo.root, tmp_path / "a", 0o022, {"LC_ALL": "C", "TZ": "UTC"})
    b = package_in_subprocess(clone, tmp_path / "b", 0o077,
                              {"LC_ALL": "C.UTF-8", "TZ": "Asia/Kolkata", "LANG": "de_DE.UTF-8"})
    assert a["digest"] == b["digest"]
    assert Path(a["path"]).read_bytes() == Path(b["path"]).read_bytes()
    assert a["digest"] == "sha256:" + hashlib.sha256(Path(a["path"]).read_bytes()).hexdigest()


def test_archive_is_normalised(demo: GitBuilder, tmp_path: Path) -> None:
    (demo.root / "chart/templates/cm.yaml").chmod(0o600)
    hook = demo.root / "chart/scripts/hook.sh"
    hook.parent.mkdir()
    hook.write_text("#!/bin/sh\n")
    hook.chmod(0o700)
    demo.git("add", "-A")
    demo.git("commit", "-qm", "chore: hook")
    settings = load_settings(demo.root, environ={})
    result = build_package(settings, "v1.2.3", tmp_path / "out")
    commit_time = int(demo.git("show", "-s", "--format=%ct", "HEAD"))
    assert result.created == commit_time
    entries = members(result.path)
    names = list(entries)
    assert names == sorted(names)
    for info in entries.values():
        assert info.isfile()  # no directory entries, no links
        assert (info.uid, info.gid, info.uname, info.gname) == (0, 0, "", "")
        assert info.mtime == commit_time
        assert info.mode in (0o644, 0o755)
    assert entries["demo/scripts/hook.sh"].mode == 0o755
    assert entries["demo/templates/cm.yaml"].mode == 0o644
    raw = result.path.read_bytes()
    assert raw[3] & 0x08 == 0  # gzip FNAME flag unset: no file name
    assert raw[4:8] == b"\0\0\0\0"  # gzip MTIME zero
    assert gzip.decompress(raw)  # valid gzip


def test_source_date_epoch_wins(demo: GitBuilder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1234567890")
    result = build_package(load_settings(demo.root, environ={}), None, tmp_path)
    assert result.created == 1234567890
    assert {m.mtime for m in members(result.path).values()} == {1234567890}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(BadInput, match="SOURCE_DATE_EPOCH"):
        build_package(load_settings(demo.root, environ={}), None, tmp_path)


def test_same_file_list_and_metadata_as_helm(demo: GitBuilder, tmp_path: Path) -> None:
    settings = load_settings(demo.root, environ={})
    ours = build_package(settings, "v1.2.3", tmp_path / "ours")
    helm_tgz = Path(helm_python.package(str(demo.root / "chart"), destination=str(tmp_path / "helm"),
                                       version="1.2.3", app_version="1.2.3"))
    assert ours.path.name == helm_tgz.name == "demo-1.2.3.tgz"
    helm_files = sorted(n for n, m in members(helm_tgz).items() if m.isfile())
    assert sorted(members(ours.path)) == helm_files
    assert "demo/ci/test-values.yaml" not in helm_files  # .helmignore really applied
    assert "demo/templates/.hidden.yaml" not in helm_files
    assert "demo/crds/demo.example.io.yaml" in helm_files
    import yaml

    with tarfile.open(ours.path) as a, tarfile.open(helm_tgz) as b:
        for name in helm_files:
            ours_data = a.extractfile(name).read()  # type: ignore[union-attr]
            helm_data = b.extractfile(name).read()  # type: ignore[union-attr]
            if name.endswith("Chart.yaml"):
                ours_meta, helm_meta = yaml.safe_load(ours_data), yaml.safe_load(helm_data)
                # Helm re-serialises Chart.yaml and fills empty defaults; the meaning must match.
                assert contains(helm_meta, ours_meta), name
            else:
                assert ours_data == helm_data, name


def test_helm_loads_lints_and_renders_our_archive(demo: GitBuilder, tmp_path: Path) -> None:
    result = build_package(load_settings(demo.root, environ={}), "v1.2.3", tmp_path)
    lint = helm_python.lint(str(result.path), {})
    assert lint["errors"] == [], lint
    assert not [m for m in lint["messages"] if m["severity"] >= 3]
    with helm_python.Chart.load(str(result.path)) as chart:
        rendered = chart.render({}, name="rel", namespace="ns")
    cm = rendered["demo/templates/cm.yaml"]
    assert "name: rel-demo" in cm and 'version: "1.2.3"' in cm and 'app: "1.2.3"' in cm
    assert any(key.startswith("demo/charts/sub/") for key in rendered)


def test_rebuild_from_commit_matches(demo: GitBuilder, tmp_path: Path) -> None:
    demo.tag("v1.2.3")
    settings = load_settings(demo.root, environ={})
    first = release_archive(demo.root, "v1.2.3", tmp_path / "a")
    # Later work moves HEAD and edits the chart; the tag's archive must still rebuild identically.
    demo.commit("feat: more", {"chart/templates/extra.yaml": "kind: List\n"})
    again = release_archive(demo.root, "v1.2.3", tmp_path / "b")
    assert again.digest == first.digest
    # The working tree moved on, so packaging it differs: the rebuild really used the commit.
    assert build_package(settings, "v1.2.3", tmp_path / "c").digest != first.digest


def test_subchart_archives_are_expanded_like_helm(demo: GitBuilder, tmp_path: Path) -> None:
    sub_tgz = Path(helm_python.package(str(demo.root / "chart/charts/sub"), destination=str(tmp_path)))
    shutil.rmtree(demo.root / "chart/charts/sub")
    shutil.copy(sub_tgz, demo.root / "chart/charts/sub-0.2.0.tgz")
    demo.git("add", "-A")
    demo.git("commit", "-qm", "chore: vendored subchart")
    ours = build_package(load_settings(demo.root, environ={}), None, tmp_path / "ours")
    helm_tgz = helm_python.package(str(demo.root / "chart"), destination=str(tmp_path / "helm"))
    assert sorted(members(ours.path)) == sorted(n for n, m in members(Path(helm_tgz)).items() if m.isfile())
    assert "demo/charts/sub/templates/sa.yaml" in members(ours.path)


def test_symlink_outside_the_chart_is_refused(demo: GitBuilder, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not ship")
    (demo.root / "chart/templates/leak.yaml").symlink_to(secret)
    with pytest.raises(BadInput, match=r"templates/leak.yaml is a symlink .* outside the chart"):
        build_package(load_settings(demo.root, environ={}), None, tmp_path / "out")
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_symlink_inside_the_chart_is_followed(demo: GitBuilder, tmp_path: Path) -> None:
    (demo.root / "chart/files").mkdir()
    (demo.root / "chart/files/values-copy.yaml").symlink_to("../values.yaml")
    result = build_package(load_settings(demo.root, environ={}), None, tmp_path)
    with tarfile.open(result.path) as tar:
        data = tar.extractfile("demo/files/values-copy.yaml").read()  # type: ignore[union-attr]
    assert data == DEMO["chart/values.yaml"].encode()


@pytest.mark.parametrize(
    ("chart_yaml", "message"),
    [
        ("apiVersion: v1\nname: demo\nversion: 0.1.0\n", "apiVersion is 'v1'"),
        ("apiVersion: v2\nversion: 0.1.0\n", "name is missing"),
        ("apiVersion: v2\nname: Demo_Chart\nversion: 0.1.0\n", "name 'Demo_Chart'"),
        ("apiVersion: v2\nname: demo\nversion: 1.2\n", "version is 1.2"),
        ("apiVersion: v2\nname: demo\nversion: v1.2.3\n", "version 'v1.2.3' is not strict SemVer"),
        ("apiVersion: v2\nname: demo\nversion: 1.0.0\nappVersion: 1.10\n", "quote it"),
        ("apiVersion: v2\nname: demo\nversion: 1.0.0\ntype: plugin\n", "type is 'plugin'"),
        ("apiVersion: v2\nname: [demo\n", "is not valid YAML"),
        ("apiVersion: v2\nname: demo\nversion: 0.1.0\nversion: 0.2.0\n", "line 4 is not valid YAML"),
    ],
)
def test_invalid_chart_yaml_names_file_and_field(
    gitrepo: GitBuilder, tmp_path: Path, chart_yaml: str, message: str
) -> None:
    gitrepo.commit("chore: chart", {"chart/Chart.yaml": chart_yaml})
    with pytest.raises(BadInput) as info:
        build_package(load_settings(gitrepo.root, environ={}), None, tmp_path / "out")
    assert message in str(info.value)
    assert "Chart.yaml" in str(info.value)


def test_helmignore_negation_that_drops_chart_yaml_is_explained(demo: GitBuilder, tmp_path: Path) -> None:
    (demo.root / "chart/.helmignore").write_text("*.md\n!README.md\n")
    with pytest.raises(BadInput, match=r"excludes Chart\.yaml"):
        build_package(load_settings(demo.root, environ={}), None, tmp_path)
    with pytest.raises(helm_python.HelmError):  # Helm itself fails the same way, less clearly
        helm_python.package(str(demo.root / "chart"), destination=str(tmp_path))


def test_not_a_git_repo_needs_source_date_epoch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for path, content in DEMO.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(content)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    with pytest.raises(BadInput, match="set SOURCE_DATE_EPOCH"):
        build_package(load_settings(tmp_path, environ={}), None, tmp_path / "out")


def test_package_cli_prints_path_and_digest(demo: GitBuilder, cli: Callable[..., CliResult],
                                            tmp_path: Path) -> None:
    result = cli("--repo", str(demo.root), "package", "--tag", "v2.0.0", "--out", str(tmp_path))
    assert result.code == 0, result
    path, digest = result.out.split()
    assert path == str(tmp_path / "demo-2.0.0.tgz")
    assert digest == "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()
    as_json = cli("--repo", str(demo.root), "package", "--tag", "v2.0.0", "--out", str(tmp_path), "--json")
    data = json.loads(as_json.out)
    assert data["digest"] == digest and data["version"] == "2.0.0" and data["dirty"] is False


def test_package_cli_warns_on_dirty_chart(demo: GitBuilder, cli: Callable[..., CliResult],
                                          tmp_path: Path) -> None:
    (demo.root / "chart/values.yaml").write_text("replicas: 3\n")
    result = cli("--repo", str(demo.root), "package", "--out", str(tmp_path))
    assert result.code == 0 and "uncommitted changes" in result.err


@pytest.mark.parametrize(("files", "named", "message"), [
    ({"chart/Chart.yaml": "apiVersion: v2\nname: demo\nversion: 1.0\n"},
     "chart/Chart.yaml", "version is 1.0"),
    ({"chart/Chart.yaml": b"apiVersion: v2\nname: demo\nversion: 0.1.0\ndescription: caf\xe9\n"},
     "chart/Chart.yaml", "is not UTF-8 text"),
    ({"chart/Chart.yaml": "apiVersion: v2\nname: demo\nversion: 0.1.0\nannotations: {a: b}\n"},
     "chart/Chart.yaml", "annotations is written in flow style"),
    ({"chart/values.yaml": "replicas: [1\n"}, "chart/values.yaml", "is not valid YAML"),
    ({"chart/.helmignore": "**/x\n"}, "chart/.helmignore", "uses '**'"),
    ({"chart/crds/bad.yaml": "kind: CustomResourceDefinition\nspec: {}\n"},
     "chart/crds/bad.yaml", "spec.names.kind is missing"),
    ({"chart/examples/x.yaml": "apiVersion: example.io/v9\nkind: Demo\n"},
     "chart/examples/x.yaml", "served version of a CRD in chart/crds at v1.0.0"),
], ids=["version", "not-utf8", "flow-annotations", "values", "helmignore", "crd", "example"])
def test_a_committed_chart_error_names_the_file_at_the_tag(
        demo: GitBuilder, cli: Callable[..., CliResult], tmp_path: Path,
        files: dict[str, str | bytes], named: str, message: str) -> None:
    """The archive is built from the tag's files exported into a temporary directory; a message
    names the file in the repository and the commit, never that directory (gone by then)."""
    demo.commit("fix: break the chart", files)
    demo.tag("v1.0.0")
    sha = demo.head()
    result = cli("--repo", str(demo.root), "package", "--tag", "v1.0.0", "--out",
                 str(tmp_path / "out"))
    assert result.code == 2, result
    assert f"{named} at v1.0.0 ({sha[:12]})" in result.err
    assert message in result.err
    assert "ameide-release-src" not in result.err and tempfile.gettempdir() not in result.err


def test_an_archive_is_read_once_so_metadata_and_digest_are_of_the_same_bytes(
        demo: GitBuilder, tmp_path: Path) -> None:
    """`read_archive` takes Chart.yaml and the digest from one read of the file: read twice, a
    file replaced in between would give one archive's metadata with another's digest. Python's
    audit hook sees every open of the path."""
    from release.package import read_archive

    built = build_package(load_settings(demo.root, environ={}), None, tmp_path / "out")
    opened: list[str] = []
    watching = [True]

    def hook(event: str, args: tuple[object, ...]) -> None:
        if watching[0] and event == "open" and str(args[0]) == str(built.path):
            opened.append(event)

    sys.addaudithook(hook)
    try:
        found = read_archive(built.path)
    finally:
        watching[0] = False
    assert len(opened) == 1
    assert (found.digest, found.size, found.version) == (built.digest, built.size, "0.1.0")
