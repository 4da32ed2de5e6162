"""Merging chart versions into a Helm repository index.yaml (release.index)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from release import index as ix
from release.errors import BadInput, Conflict, SystemFailure
from release.package import read_archive
from tests.index.conftest import ChartFactory, sha256_hex

T0 = 1_700_000_000  # 2023-11-14T22:13:20Z


def add(index_dir: Path, tgz: Path, created: int = T0, base: str = "https://example.test/c"
        ) -> ix.IndexResult:
    package = read_archive(tgz)
    filename = f"{package.name}-{package.version}.tgz"
    result = ix.merge_index(index_dir, ix.index_entry(package.metadata, package.digest, created,
                                                      ix.join_url(base, filename)))
    result.write()
    return result


def read(index_dir: Path) -> dict[str, Any]:
    """Read back with PyYAML, a YAML 1.1 reader like Helm's go-yaml."""
    data: dict[str, Any] = yaml.safe_load((index_dir / "index.yaml").read_text(encoding="utf-8"))
    return data


def versions(index_dir: Path, name: str) -> list[str]:
    return [str(e["version"]) for e in read(index_dir)["entries"][name]]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    d = tmp_path / "site"
    d.mkdir()
    return d


def test_first_release_creates_an_index_with_helms_fields(site: Path,
                                                        make_chart: ChartFactory) -> None:
    tgz = make_chart("demo", "1.2.3", extra="keywords: [operators]\nhome: https://ameide.io\n")
    result = add(site, tgz)

    assert result.status == "added"
    data = read(site)
    assert data["apiVersion"] == "v1"
    assert data["generated"] == "2023-11-14T22:13:20Z"
    [entry] = data["entries"]["demo"]
    assert entry["digest"] == sha256_hex(tgz) == result.digest
    assert entry["created"] == "2023-11-14T22:13:20Z"
    assert entry["urls"] == ["https://example.test/c/demo-1.2.3.tgz"]
    assert entry["version"] == "1.2.3" and entry["appVersion"] == "1.2.3"
    assert entry["apiVersion"] == "v2" and entry["type"] == "application"
    assert entry["keywords"] == ["operators"] and entry["home"] == "https://ameide.io"


def test_entry_matches_what_helm_repo_index_writes(tmp_path: Path, site: Path,
                                                   make_chart: ChartFactory) -> None:
    """Same archive through `helm repo index`: same digest, same metadata fields and values."""
    import helm_python

    tgz = make_chart("demo", "1.2.3", extra=(
        "keywords: [a, b]\nmaintainers:\n- name: Ops\n  email: ops@example.com\n"
        "annotations:\n  category: Infra\nsources: [https://example.com/src]\n"))
    helm_dir = tmp_path / "helm"
    helm_dir.mkdir()
    (helm_dir / tgz.name).write_bytes(tgz.read_bytes())
    helm_python.repo_index_generate(str(helm_dir), base_url="https://example.test/c")
    theirs = read(helm_dir)["entries"]["demo"][0]

    add(site, tgz)
    ours = read(site)["entries"]["demo"][0]

    assert "sha256:" + ours["digest"] == helm_python.digest(str(tgz))
    assert ours["digest"] == theirs["digest"]
    assert ours["urls"] == theirs["urls"]
    for key in ("created",):
        ours.pop(key), theirs.pop(key)
    assert ours == theirs


def test_versions_are_sorted_newest_semver_first(site: Path, make_chart: ChartFactory) -> None:
    for v in ["1.2.3", "1.10.0", "0.9.0", "1.3.0-rc.1", "1.3.0", "1.3.0-rc.2"]:
        add(site, make_chart("demo", v))
    assert versions(site, "demo") == ["1.10.0", "1.3.0", "1.3.0-rc.2", "1.3.0-rc.1", "1.2.3",
                                      "0.9.0"]


def test_same_inputs_give_the_same_bytes_in_any_order(tmp_path: Path,
                                                      make_chart: ChartFactory) -> None:
    charts = [(make_chart("demo", v), T0 + i * 3600) for i, v in
              enumerate(["1.0.0", "1.1.0", "1.0.1"])] + [(make_chart("other", "0.1.0"), T0 + 99)]
    outputs = []
    for order in ([0, 1, 2, 3], [3, 2, 1, 0], [1, 3, 0, 2]):
        d = tmp_path / ("order-" + "".join(map(str, order)))
        d.mkdir()
        for i in order:
            add(d, charts[i][0], created=charts[i][1])
        outputs.append((d / "index.yaml").read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]
    assert read(tmp_path / "order-0123")["generated"] == ix.rfc3339(T0 + 2 * 3600)


def test_existing_entries_are_never_changed(site: Path, make_chart: ChartFactory) -> None:
    """An index written by someone else keeps every entry as it was, oddities included."""
    existing = """\
apiVersion: v1
entries:
  demo:
  - apiVersion: v2
    appVersion: "1.0"
    created: "2022-05-01T10:00:00.123456789+02:00"
    digest: 1111111111111111111111111111111111111111111111111111111111111111
    name: demo
    urls:
    - https://old.example/demo-1.0.0.tgz
    version: 1.0.0
    annotations:
      flag: "yes"
  - name: demo
    version: not-a-semver
    created: 2021-01-01T00:00:00Z
    urls: [https://old.example/weird.tgz]
  legacy:
  - name: legacy
    version: "2.0"
    apiVersion: v1
    urls: [legacy-2.0.tgz]
    created: "2020-01-01T00:00:00Z"
    digest: 2222222222222222222222222222222222222222222222222222222222222222
generated: "2030-01-01T00:00:00Z"
publicKeys: []
"""
    (site / "index.yaml").write_text(existing, encoding="utf-8")
    # Helm reads times as text into time.Time, so compare with times kept as text.
    before = ix.parse_index(existing)

    add(site, make_chart("demo", "1.2.3"))

    after = ix.parse_index((site / "index.yaml").read_text(encoding="utf-8"))
    assert after["entries"]["legacy"] == before["entries"]["legacy"]
    demo = after["entries"]["demo"]
    assert [str(e["version"]) for e in demo] == ["1.2.3", "1.0.0", "not-a-semver"]
    assert demo[1:] == before["entries"]["demo"]
    assert after["publicKeys"] == []
    # generated never goes backwards, and times keep their exact text
    assert after["generated"] == "2030-01-01T00:00:00Z"
    assert "2022-05-01T10:00:00.123456789+02:00" in (site / "index.yaml").read_text()


def test_existing_values_keep_the_meaning_helm_gives_them(site: Path,
                                                          make_chart: ChartFactory) -> None:
    """Helm reads YAML 1.1: a hand-written `deprecated: yes` is true and must stay true."""
    (site / "index.yaml").write_text(
        "apiVersion: v1\nentries:\n  old:\n  - name: old\n    version: 0.1.0\n"
        "    deprecated: yes\n    urls: [old-0.1.0.tgz]\n", encoding="utf-8")
    add(site, make_chart("demo", "1.0.0"))
    assert read(site)["entries"]["old"][0]["deprecated"] is True


def test_same_version_same_digest_is_a_no_op(site: Path, make_chart: ChartFactory) -> None:
    tgz = make_chart("demo", "1.2.3")
    add(site, tgz)
    path = site / "index.yaml"
    first, stat = path.read_bytes(), path.stat()

    result = add(site, tgz, created=T0 + 500, base="https://elsewhere.test")

    assert result.status == "present"
    assert path.read_bytes() == first
    assert path.stat().st_mtime_ns == stat.st_mtime_ns and path.stat().st_ino == stat.st_ino


def test_same_version_other_digest_is_a_conflict(site: Path, make_chart: ChartFactory) -> None:
    add(site, make_chart("demo", "1.2.3"))
    before = (site / "index.yaml").read_bytes()
    changed = make_chart("demo", "1.2.3", template="kind: Changed\n")

    with pytest.raises(Conflict) as info:
        add(site, changed)

    message = str(info.value)
    assert "\n" not in message
    assert "demo 1.2.3" in message and sha256_hex(changed) in message
    assert info.value.exit_code == 3
    assert (site / "index.yaml").read_bytes() == before


def test_entry_without_digest_is_not_silently_accepted(site: Path,
                                                       make_chart: ChartFactory) -> None:
    (site / "index.yaml").write_text(
        "apiVersion: v1\nentries:\n  demo:\n  - name: demo\n    version: 1.2.3\n"
        "    urls: [x.tgz]\n", encoding="utf-8")
    with pytest.raises(Conflict, match="no digest"):
        add(site, make_chart("demo", "1.2.3"))


def test_several_charts_live_side_by_side(site: Path, make_chart: ChartFactory) -> None:
    add(site, make_chart("zeta", "0.1.0"))
    add(site, make_chart("alpha", "2.0.0"))
    add(site, make_chart("zeta", "0.2.0"))
    add(site, make_chart("alpha", "1.9.9"))

    data = read(site)
    assert list(data["entries"]) == ["alpha", "zeta"]
    assert versions(site, "alpha") == ["2.0.0", "1.9.9"]
    assert versions(site, "zeta") == ["0.2.0", "0.1.0"]
    assert all(e["name"] == n for n, es in data["entries"].items() for e in es)


def test_older_hotfix_keeps_generated(site: Path, make_chart: ChartFactory) -> None:
    add(site, make_chart("demo", "1.3.0"), created=T0 + 1000)
    add(site, make_chart("demo", "1.2.4"), created=T0 + 2000)
    add(site, make_chart("demo", "1.2.5"), created=T0 + 500)
    assert read(site)["generated"] == ix.rfc3339(T0 + 2000)
    assert versions(site, "demo") == ["1.3.0", "1.2.5", "1.2.4"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"apiVersion: v1\nentries:\n  demo: [\n", "not valid YAML"),
        (b"- just\n- a list\n", "no mapping at the top"),
        (b"entries: {}\n", "no apiVersion"),
        (b"apiVersion: v1\nentries: [1, 2]\n", "entries is not a mapping"),
        (b"apiVersion: v1\nentries:\n  demo: {version: 1.0.0}\n", "entries.demo"),
        (b"apiVersion: v1\nentries: {}\napiVersion: v1\n", "not valid YAML"),
        (b"", "is empty"),
        (b"\xff\xfe\x00garbage", "not UTF-8"),
    ],
)
def test_corrupt_index_is_one_line_bad_input(site: Path, make_chart: ChartFactory,
                                             content: bytes, problem: str) -> None:
    (site / "index.yaml").write_bytes(content)
    with pytest.raises(BadInput) as info:
        add(site, make_chart("demo", "1.2.3"))
    assert problem in str(info.value)
    assert "\n" not in str(info.value) and "restore" in str(info.value)
    assert (site / "index.yaml").read_bytes() == content


def test_strings_yaml_1_1_would_misread_are_quoted(site: Path, make_chart: ChartFactory) -> None:
    tgz = make_chart("demo", "1.2.3", extra=(
        "keywords: ['on', 'no', '1:20', '0x1F', '2024-01-01', plain]\n"
        "annotations:\n  enabled: 'yes'\n  count: '010'\n"))
    add(site, tgz)
    entry = read(site)["entries"]["demo"][0]
    assert entry["keywords"] == ["on", "no", "1:20", "0x1F", "2024-01-01", "plain"]
    assert entry["annotations"] == {"enabled": "yes", "count": "010"}
    assert entry["appVersion"] == "1.2.3" and isinstance(entry["version"], str)


@pytest.mark.parametrize("char", ["\ufffe", "\uffff", "\u2028", "\x85", "\ufeff"])
def test_characters_yaml_cannot_hold_raw_are_escaped_and_read_back(
        site: Path, make_chart: ChartFactory, char: str) -> None:
    """A keyword holding a character YAML forbids raw (non-characters, C1 controls, line
    separators, BOM) is written escaped: the next release can still read the index."""
    package = read_archive(make_chart("demo", "1.2.3"))  # Helm's packager drops them itself
    metadata = {**package.metadata, "keywords": [f"x{char}y"]}
    ix.merge_index(site, ix.index_entry(metadata, package.digest, T0,
                                        "https://example.test/a.tgz")).write()
    add(site, make_chart("demo", "1.2.4"))
    assert read(site)["entries"]["demo"][1]["keywords"] == [f"x{char}y"]
    assert char not in (site / "index.yaml").read_text(encoding="utf-8")


def test_only_fields_helm_knows_go_into_an_entry() -> None:
    """Helm parses index.yaml strictly: an unknown field would break `helm repo update`."""
    entry = ix.index_entry(
        {"name": "demo", "version": "1.0.0", "apiVersion": "v2", "custom": 1, "deprecated": False,
         "maintainers": [{"name": "a", "email": "a@x", "twitter": "@a"}],
         "dependencies": [{"name": "dep", "version": "1.x", "repository": "oci://r", "extra": 2}]},
        "sha256:" + "ab" * 32, T0, "https://x/demo-1.0.0.tgz")
    assert "custom" not in entry and "deprecated" not in entry
    assert entry["maintainers"] == [{"name": "a", "email": "a@x"}]
    assert entry["dependencies"] == [{"name": "dep", "version": "1.x", "repository": "oci://r"}]
    assert entry["digest"] == "ab" * 32


def test_numbers_in_text_fields_are_written_as_text() -> None:
    """Helm's strict parser wants strings; Helm's packager turns appVersion: 1.10 into "1.1"."""
    assert ix.index_entry({"name": "demo", "version": "1.0.0", "appVersion": 0}, "ab" * 32, T0,
                          "https://x/demo-1.0.0.tgz")["appVersion"] == "0"
    entry = ix.index_entry({"name": "demo", "version": "1.0.0", "appVersion": 1.1,
                            "keywords": [2024, "x"], "annotations": {"rev": 7}},
                           "ab" * 32, T0, "https://x/demo-1.0.0.tgz")
    assert entry["appVersion"] == "1.1"
    assert entry["keywords"] == ["2024", "x"] and entry["annotations"] == {"rev": "7"}
    with pytest.raises(BadInput, match="appVersion is True, not text"):
        ix.index_entry({"name": "demo", "version": "1.0.0", "appVersion": True},
                       "ab" * 32, T0, "https://x/demo-1.0.0.tgz")
    with pytest.raises(BadInput, match="has no version"):
        ix.index_entry({"name": "demo"}, "ab" * 32, T0, "https://x/demo.tgz")


def test_failed_write_leaves_the_old_index_and_no_temp_files(
        site: Path, make_chart: ChartFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    add(site, make_chart("demo", "1.0.0"))
    before = (site / "index.yaml").read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(SystemFailure, match=r"cannot write .*index.yaml \(No space left on device\)"):
        add(site, make_chart("demo", "1.1.0"))
    assert (site / "index.yaml").read_bytes() == before
    assert sorted(p.name for p in site.iterdir()) == ["index.yaml"]


def test_written_file_is_world_readable(site: Path, make_chart: ChartFactory) -> None:
    add(site, make_chart("demo", "1.0.0"))
    assert (site / "index.yaml").stat().st_mode & 0o777 == 0o644


def test_missing_index_dir_is_bad_input(tmp_path: Path, make_chart: ChartFactory) -> None:
    with pytest.raises(BadInput, match="does not exist"):
        add(tmp_path / "nope", make_chart("demo", "1.0.0"))


def test_urls() -> None:
    assert (ix.github_asset_url("https://github.com/ameideio/ameide-core", "v1.2.3",
                                "ameide-operators-1.2.3.tgz")
            == "https://github.com/ameideio/ameide-core/releases/download/v1.2.3/"
               "ameide-operators-1.2.3.tgz")
    assert ix.join_url("https://h/charts/", "a-1.0.0.tgz") == "https://h/charts/a-1.0.0.tgz"
    assert ix.join_url("http://127.0.0.1:8080", "a-1.0.0+b.1.tgz") == \
        "http://127.0.0.1:8080/a-1.0.0%2Bb.1.tgz"
    for bad in ("charts/", "javascript:alert(1)//", "ftp://h/x", "https://h/x?y=1"):
        with pytest.raises(BadInput, match="not an http\\(s\\) URL"):
            ix.join_url(bad, "a.tgz")
    with pytest.raises(BadInput, match="credentials") as info:
        ix.join_url("https://me:s3cr3t@h/charts", "a.tgz")
    assert "s3cr3t" not in str(info.value)


@pytest.mark.parametrize("digest", ["sha256:" + "AB" * 32, "ab" * 32])
def test_digest_forms(digest: str) -> None:
    assert ix.bare_digest(digest) == "ab" * 32


def test_bad_digest() -> None:
    with pytest.raises(BadInput, match="not a sha256 digest"):
        ix.bare_digest("sha512:abc")


def test_archive_metadata_errors(tmp_path: Path) -> None:
    bogus = tmp_path / "x.tgz"
    bogus.write_bytes(b"not a tarball")
    with pytest.raises(BadInput, match="not a gzipped chart archive"):
        read_archive(bogus)
    with pytest.raises(BadInput, match="does not exist"):
        read_archive(tmp_path / "missing.tgz")
