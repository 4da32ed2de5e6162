"""Generated Artifact Hub annotations: from a real git history to the bytes of Chart.yaml.

The annotations are computed from the release (real commits and tags), values.yaml, CRD files
and example resources; they must pass Artifact Hub's checks, come out byte-identical for the
same inputs, and survive hostile commit messages and files.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from release.artifacthub import (
    MAX_CHANGES,
    apply_annotations,
    change_entries,
    chart_images,
    release_annotations,
    to_yaml_text,
)
from release.artifacthub_rules import validate_annotations
from release.chart import ChartText, set_versions
from release.commits import Change
from release.config import Settings, load_settings
from release.errors import BadInput
from release.gitrepo import GitRepo
from release.notes import Release, collect
from release.package import build
from release.version import Version
from tests.chart.helpers import objects, render
from tests.chart.test_crds import FORMATS, CRDValidator, to_json_schema
from tests.gitutil import GitBuilder

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "chart"
URL = "https://github.com/o/r"

WIDGET_CRD = """\
# a CRD of the test's own
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.test.io
spec:
  group: test.io
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
    - name: v1beta1
      served: true
      storage: false
      schema: {openAPIV3Schema: {type: object}}
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          description: A widget of some size.
          type: object
          properties:
            apiVersion: {type: string}
            kind: {type: string}
            metadata: {type: object}
            spec:
              type: object
              required: [size]
              properties:
                size: {type: integer, minimum: 1}
                color: {type: string, enum: [red, blue]}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.test.io
spec:
  group: test.io
  names: {kind: Gadget, listKind: GadgetList, plural: gadgets, singular: gadget}
  scope: Cluster
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, description: "  "}}
"""
GOOD_WIDGET = """\
# comments are not part of the annotation
apiVersion: test.io/v1
kind: Widget
metadata:
  name: small
spec:
  size: 3
  color: red
"""
BAD_WIDGET = """\
apiVersion: test.io/v1
kind: Widget
metadata:
  name: wrong
spec:
  size: 0
  color: green
"""
VALUES = """\
global:
  imageRegistry: registry.example.com/team/
operators:
  alpha:
    image: {registry: "", repository: alpha-operator, tag: "", digest: ""}
  beta:
    enabled: true
    image:
      registry: other.io
      repository: sub/beta
      tag: 9.9.9
      digest: sha256:%s
  gamma:
    enabled: false
    image: {repository: gamma}
""" % ("ab" * 32)
CHART_YAML = """\
apiVersion: v2
name: demo  # the chart
description: >-
  A demo chart.
version: 0.1.0
appVersion: "0.1.0"
annotations:
  # kept by hand
  artifacthub.io/license: Apache-2.0
  artifacthub.io/operator: "true"
  artifacthub.io/images: |
    - name: old
      image: ghcr.io/o/old:0.1.0

  artifacthub.io/prerelease: "false"   # stale
keywords:
  - demo
"""


def annotate(text: str, annotations: dict[str, Any], origin: str = "Chart.yaml") -> str:
    """`apply_annotations` on Chart.yaml text, as `release.package.build` calls it."""
    return apply_annotations(ChartText.parse(text, origin), annotations, origin).text


def make_settings(root: Path) -> Settings:
    return load_settings(root, {"github-repository": "o/r"}, environ={})


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path, Path]:
    """(a chart, its crds/ and examples/ directories)."""
    chart = tmp_path / "c"
    crds, examples = chart / "crds", chart / "examples"
    for d in (chart, crds / "nested", examples):
        d.mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 0.1.0\n",
                                      encoding="utf-8")
    (chart / "values.yaml").write_text(VALUES, encoding="utf-8")
    (crds / "nested" / "test.io_widgets.yaml").write_text(WIDGET_CRD, encoding="utf-8")
    (crds / "README.md").write_text("not YAML, not read", encoding="utf-8")
    (examples / "widget.yaml").write_text(GOOD_WIDGET, encoding="utf-8")
    return chart, crds, examples


@pytest.fixture
def history(gitrepo: GitBuilder) -> GitBuilder:
    """v1.0.0, then a range with every kind of change, tagged v1.1.0-rc.1 and v1.1.0."""
    gitrepo.commit("feat: first")
    gitrepo.tag("v1.0.0")
    gitrepo.commit("feat(agent): add tools (#12)")
    gitrepo.commit("fix: crash on empty values")
    gitrepo.commit("perf: render faster")
    gitrepo.commit("refactor: split helpers")
    gitrepo.commit("docs: explain values")
    gitrepo.commit("chore(deps): bump things")
    gitrepo.commit("not conventional at all")
    gitrepo.commit("feat!: rename the values\n\nBREAKING CHANGE: operators.x moved to y")
    gitrepo.commit("fix(security): escape the label")
    gitrepo.commit("fix: patch CVE-2024-12345 in the base image")
    gitrepo.commit("feat: deprecate the legacy flag (#13)")
    gone = gitrepo.commit("feat: a feature that gets reverted")
    gitrepo.commit(f'Revert "feat: a feature that gets reverted"\n\nThis reverts commit {gone}.')
    first = gitrepo.git("rev-parse", "v1.0.0").strip()
    gitrepo.commit(f'Revert "feat: first"\n\nThis reverts commit {first}.')
    gitrepo.tag("v1.1.0-rc.1")
    gitrepo.commit("fix: last minute")
    gitrepo.tag("v1.1.0")
    return gitrepo


def crd_annotations(chart: Path) -> tuple[Any, Any]:
    """(`artifacthub.io/crds`, `artifacthub.io/crdsExamples`) as `release_annotations` makes
    them for the chart in `chart`, parsed back (None when left out)."""
    release = Release(tag="v1.2.3", version=Version.parse("1.2.3"), sha="b" * 40,
                      date=None, previous_tag=None, previous_version=None)
    out = release_annotations(release, make_settings(chart), chart)
    crds, examples = (out.get(f"artifacthub.io/{key}") for key in ("crds", "crdsExamples"))
    return (yaml.safe_load(crds) if crds else None,
            yaml.safe_load(examples) if examples else None)


def annotations_of(repo: GitBuilder, tag: str, dirs: tuple[Path, Path, Path]) -> dict[str, str]:
    settings = make_settings(repo.root)
    release = collect(GitRepo(repo.root), settings, tag)
    return release_annotations(release, settings, dirs[0])


def test_changes_follow_the_documented_mapping(history: GitBuilder,
                                               dirs: tuple[Path, Path, Path]) -> None:
    annotations = annotations_of(history, "v1.1.0-rc.1", dirs)
    changes = yaml.safe_load(annotations["artifacthub.io/changes"])
    assert [(c.get("kind"), c["description"]) for c in changes] == [
        ("security", "security: escape the label"),
        ("security", "patch CVE-2024-12345 in the base image"),
        ("changed", "BREAKING: rename the values (operators.x moved to y)"),
        ("added", "agent: add tools"),
        ("changed", "render faster"),
        ("deprecated", "deprecate the legacy flag"),
        ("removed", 'Revert "feat: first"'),
        ("fixed", "crash on empty values"),
    ]
    tools = changes[3]
    sha = history.git("log", "--format=%H", "--grep", "add tools").strip()
    assert tools["links"] == [{"name": "PR #12", "url": f"{URL}/pull/12"},
                              {"name": f"Commit {sha[:7]}", "url": f"{URL}/commit/{sha}"}]
    assert annotations["artifacthub.io/containsSecurityUpdates"] == "true"
    assert annotations["artifacthub.io/prerelease"] == "true"


def test_generated_annotations_validate_and_mark_prereleases(
        history: GitBuilder, dirs: tuple[Path, Path, Path]) -> None:
    for tag, pre in (("v1.1.0-rc.1", "true"), ("v1.1.0", "false")):
        annotations = annotations_of(history, tag, dirs)
        validate_annotations(annotations, "demo", "generated")
        assert annotations["artifacthub.io/prerelease"] == pre
        text = annotate(CHART_YAML, annotations, "Chart.yaml")
        parsed = yaml.safe_load(text)
        assert parsed["annotations"]["artifacthub.io/prerelease"] == pre
        assert parsed["annotations"]["artifacthub.io/license"] == "Apache-2.0"
        images = yaml.safe_load(parsed["annotations"]["artifacthub.io/images"])
        version = tag.removeprefix("v")
        assert images == [
            {"name": "alpha-operator", "image": f"registry.example.com/team/alpha-operator:{version}"},
            {"name": "beta", "image": f"other.io/sub/beta:9.9.9@sha256:{'ab' * 32}"},
        ]
    # v1.1.0 covers the whole range since v1.0.0 (pre-releases are not previous releases)
    final = yaml.safe_load(annotations_of(history, "v1.1.0", dirs)["artifacthub.io/changes"])
    assert ("fixed", "last minute") in [(c["kind"], c["description"]) for c in final]


def test_crds_and_examples_come_from_their_directories(dirs: tuple[Path, Path, Path]) -> None:
    entries, examples = crd_annotations(dirs[0])
    assert entries == [
        {"kind": "Widget", "version": "v1", "name": "widgets.test.io", "displayName": "Widget",
         "description": "A widget of some size."},
        {"kind": "Gadget", "version": "v1", "name": "gadgets.test.io", "displayName": "Gadget"},
    ]
    assert examples == [yaml.safe_load(GOOD_WIDGET)]


def _crd_validator(crd: dict[str, Any], version: str) -> Any:
    served = next(v for v in crd["spec"]["versions"] if v["name"] == version)
    schema = to_json_schema(served["schema"]["openAPIV3Schema"])
    CRDValidator.check_schema(schema)
    return CRDValidator(schema, format_checker=FORMATS)


def _example_errors(examples: list[dict[str, Any]], crd_dir: Path) -> dict[str, list[str]]:
    """Each example's schema errors against the CRD that defines its kind and version."""
    crds = [doc for path in sorted(crd_dir.rglob("*.yaml"))
            for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
            if doc and doc.get("kind") == "CustomResourceDefinition"]
    out = {}
    for ex in examples:
        group, version = ex["apiVersion"].split("/")
        crd = next(c for c in crds if c["spec"]["group"] == group
                   and c["spec"]["names"]["kind"] == ex["kind"])
        out[ex["metadata"]["name"]] = [
            f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
            for e in _crd_validator(crd, version).iter_errors(ex)]
    return out


def test_each_example_is_checked_against_its_crd_schema(dirs: tuple[Path, Path, Path]) -> None:
    _, crds, examples = dirs
    (examples / "wrong.yml").write_text(BAD_WIDGET, encoding="utf-8")
    _, found = crd_annotations(dirs[0])
    errors = _example_errors(found, crds)
    assert errors["small"] == []
    assert sorted(errors["wrong"]) == ["spec.color: 'green' is not one of ['red', 'blue']",
                                       "spec.size: 0 is less than the minimum of 1"]


@pytest.mark.parametrize(("doc", "needle"), [
    ("apiVersion: test.io/v2\nkind: Widget\n", "not a kind and served version"),
    ("apiVersion: test.io/v1\nkind: Sprocket\n", "Sprocket test.io/v1 is not a kind"),
    ("- a list\n", "a document"),
    ("a: [unclosed\n", "is not valid YAML"),
    ("a: 1\na: 2\n", "is not valid YAML"),  # a repeated key
], ids=["unserved-version", "unknown-kind", "not-a-mapping", "syntax", "duplicate-key"])
def test_an_example_without_its_crd_is_refused(dirs: tuple[Path, Path, Path], doc: str,
                                               needle: str) -> None:
    examples = dirs[2]
    (examples / "odd.yaml").write_text(doc, encoding="utf-8")
    with pytest.raises(BadInput, match=re.escape(needle)):
        crd_annotations(dirs[0])


def test_real_chart_examples_validate_against_the_real_crds() -> None:
    """Compares against the real files: chart/examples and chart/crds as they are today."""
    crds, examples = crd_annotations(CHART)  # files/crds and examples, found in the chart
    kinds = {e["kind"] for e in examples}
    assert kinds == {c["kind"] for c in crds}
    assert _example_errors(examples, CHART / "files" / "crds") == {e["metadata"]["name"]: []
                                                         for e in examples}


def test_real_chart_images_are_what_helm_renders(tmp_path: Path) -> None:
    """The images annotation names exactly the images Helm's engine puts into the Deployments."""
    copy = tmp_path / "chart"
    shutil.copytree(CHART, copy)
    chart_yaml = copy / "Chart.yaml"
    chart_yaml.write_text(set_versions(chart_yaml.read_text(encoding="utf-8"), "2.3.4-rc.1",
                                       "2.3.4-rc.1"), encoding="utf-8")
    values = yaml.safe_load((copy / "values.yaml").read_text(encoding="utf-8"))
    values["operators"]["agent"]["image"].update(registry="mirror.example/", tag="7.7.7")
    values["operators"]["process"]["image"]["digest"] = "sha256:" + "cd" * 32
    values["operators"]["uisurface"]["enabled"] = False
    (copy / "values.yaml").write_text(yaml.safe_dump(values), encoding="utf-8")

    rendered = {c["image"] for o in objects(render(chart=copy)) if o["kind"] == "Deployment"
                for c in o["spec"]["template"]["spec"]["containers"]}
    ours = chart_images(values, "2.3.4-rc.1")
    assert {i["image"] for i in ours} == rendered
    assert rendered == {"ghcr.io/ameideio/domain-operator:2.3.4-rc.1",
                        "ghcr.io/ameideio/process-operator:2.3.4-rc.1@sha256:" + "cd" * 32,
                        "mirror.example/agent-operator:7.7.7"}
    default = chart_images(yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8")),
                           "1.0.0")
    assert [i["image"] for i in default] == [f"ghcr.io/ameideio/{n}-operator:1.0.0" for n in
                                             ("domain", "process", "agent", "uisurface")]


def test_real_chart_gets_valid_annotations_in_place(history: GitBuilder) -> None:
    annotations = annotations_of(history, "v1.1.0", (CHART, CHART / "files" / "crds", CHART / "examples"))
    original = (CHART / "Chart.yaml").read_text(encoding="utf-8")
    text = annotate(original, annotations, "chart/Chart.yaml")
    head = original[: original.index("annotations:")]
    assert text.startswith(head)  # everything before the block is untouched
    for kept in ("artifacthub.io/license: Apache-2.0\n", 'artifacthub.io/operator: "true"\n',
                 "artifacthub.io/operatorCapabilities: Basic Install\n"):
        assert f"  {kept}" in text
    parsed = yaml.safe_load(text)["annotations"]
    assert set(parsed) == {"artifacthub.io/license", "artifacthub.io/operator",
                           "artifacthub.io/operatorCapabilities", *annotations}
    assert "ghcr.io/ameideio/agent-operator:1.1.0" in parsed["artifacthub.io/images"]


def test_same_tag_twice_gives_the_same_bytes_and_archive(history: GitBuilder, tmp_path: Path,
                                                         dirs: tuple[Path, Path, Path]) -> None:
    texts, digests = [], []
    for run in range(2):
        annotations = annotations_of(history, "v1.1.0", dirs)
        text = annotate(set_versions(CHART_YAML, "1.1.0", "1.1.0"), annotations)
        chart = tmp_path / f"run{run}" / "demo"
        chart.mkdir(parents=True)
        (chart / "Chart.yaml").write_text(text, encoding="utf-8")
        (chart / "values.yaml").write_text("{}\n", encoding="utf-8")
        texts.append(text)
        digests.append(build(chart, tmp_path / f"out{run}", 1_700_000_000).digest)
    assert texts[0] == texts[1]
    assert digests[0] == digests[1]
    assert annotate(texts[0], annotations_of(history, "v1.1.0", dirs)) == texts[0]


# --- Chart.yaml editing ----------------------------------------------------------------------

def test_apply_rewrites_only_its_entries() -> None:
    text = annotate(CHART_YAML, {"artifacthub.io/prerelease": "true",
                                          "artifacthub.io/images": "- image: a/b:1\n",
                                          "artifacthub.io/changes": "- kind: added\n  description: x\n"})
    assert text == CHART_YAML.replace(
        '  artifacthub.io/images: |\n    - name: old\n      image: ghcr.io/o/old:0.1.0\n',
        '  artifacthub.io/images: |\n    - image: a/b:1\n').replace(
        '  artifacthub.io/prerelease: "false"   # stale\n',
        '  artifacthub.io/prerelease: "true"\n'
        '  artifacthub.io/changes: |\n    - kind: added\n      description: x\n')


@pytest.mark.parametrize(("original", "expected"), [
    ("apiVersion: v2\nname: demo\nversion: 0.1.0", "apiVersion: v2\nname: demo\nversion: 0.1.0\n"
     'annotations:\n  artifacthub.io/prerelease: "true"\n'),
    ("apiVersion: v2\nname: demo\nannotations: {}  # none yet\nversion: 0.1.0\n",
     'apiVersion: v2\nname: demo\nannotations:  # none yet\n  artifacthub.io/prerelease: "true"\n'
     "version: 0.1.0\n"),
    ("apiVersion: v2\nname: demo\nannotations:\nversion: 0.1.0\n",
     'apiVersion: v2\nname: demo\nannotations:\n  artifacthub.io/prerelease: "true"\nversion: 0.1.0\n'),
    ("apiVersion: v2\r\nname: demo\r\nversion: 0.1.0\r\nannotations:\r\n    a/b: c\r\n",
     'apiVersion: v2\r\nname: demo\r\nversion: 0.1.0\r\nannotations:\r\n    a/b: c\r\n'
     '    artifacthub.io/prerelease: "true"\r\n'),
], ids=["no-block", "empty-flow", "null-block", "crlf-and-wide-indent"])
def test_apply_adds_a_block_where_needed(original: str, expected: str) -> None:
    assert annotate(original, {"artifacthub.io/prerelease": "true"}) == expected


@pytest.mark.parametrize(("original", "annotations", "needle"), [
    ("name: demo\nannotations: {a: b}\n", {"artifacthub.io/prerelease": "true"}, "flow style"),
    ("name: demo\nannotations: [a]\n", {"artifacthub.io/prerelease": "true"}, "not a mapping"),
    ("- a\n", {"artifacthub.io/prerelease": "true"}, "must be a YAML mapping"),
    ("name: demo\nannotations:\n  artifacthub.io/operator: true\n",
     {"artifacthub.io/prerelease": "true"}, "annotation artifacthub.io/operator is bool"),
    ("name: demo\n", {"artifacthub.io/prerelease": 1}, "is not text"),
    ("name: demo\n", {"artifacthub.io/prerelease": "maybe"}, "not a boolean"),
    ("name: demo\nannotations:\n  a: 1\n  a: 2\n", {"x/y": "z"}, "not valid YAML"),
], ids=["flow", "list", "not-mapping", "bool-kept-value", "int-value", "invalid", "duplicate"])
def test_apply_refuses_what_it_cannot_write_faithfully(original: str, annotations: dict[str, Any],
                                                        needle: str) -> None:
    with pytest.raises(BadInput, match=re.escape(needle)):
        annotate(original, annotations)


# --- hostile input ---------------------------------------------------------------------------

HOSTILE = [
    'quotes "double" and \'single\': {flow: [map]} & *alias !tag | > % @ ` # not a comment',
    "- starts like a list item",
    "yes",
    "ünïcødé 🚀 and right-to-left \u202eabc",
    "line\u2028separator and next\x85line and bom\ufeff and c1\x9b",
    "lone surrogate \udc80 from undecodable git bytes",
    "control \x00\x01\x1b[31m chars",
    "x" * 10_000,
]


def _release(changes: list[Change], version: str = "1.2.3") -> Release:
    return Release(tag=f"v{version}", version=Version.parse(version), sha="b" * 40,
                   date=None, previous_tag=None, previous_version=None, changes=tuple(changes))


def test_hostile_descriptions_stay_text(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    changes = [Change(f"{i:040x}", "fix", None, subject) for i, subject in enumerate(HOSTILE)]
    entries = change_entries(_release(changes), settings)
    text = to_yaml_text(entries)
    validate_annotations({"artifacthub.io/changes": text}, "demo", "generated")
    parsed = yaml.safe_load(text)
    assert len(parsed) == len(HOSTILE)
    assert parsed[0]["description"] == HOSTILE[0]
    assert parsed[1]["description"] == HOSTILE[1]
    assert parsed[2]["description"] == "yes"  # text, not a boolean
    assert parsed[3]["description"] == HOSTILE[3]
    assert "\ufffd" in parsed[5]["description"]
    assert parsed[4]["description"] == "line separator and next line and bom\ufeff and c1"
    assert parsed[6]["description"] == "control [31m chars"  # the escape byte is gone
    assert len(parsed[7]["description"]) == 300
    chart = annotate(CHART_YAML, {"artifacthub.io/changes": text})
    assert yaml.safe_load(chart)["annotations"]["artifacthub.io/changes"] == text


def test_a_huge_release_is_cut_with_a_link_to_its_notes(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    changes = [Change(f"{i:040x}", "feat", None, f"feature {i}") for i in range(5000)]
    entries = change_entries(_release(changes), settings)
    assert len(entries) == MAX_CHANGES
    assert entries[-1] == {
        "description": f"… and {5000 - MAX_CHANGES + 1} more changes: see the release notes",
        "links": [{"name": "Release notes", "url": f"{URL}/releases/tag/v1.2.3"}]}
    text = to_yaml_text(entries)
    assert len(text) < 20_000
    validate_annotations({"artifacthub.io/changes": text}, "demo", "generated")


def test_unreleased_changes_have_no_version_to_annotate(tmp_path: Path,
                                                        dirs: tuple[Path, Path, Path]) -> None:
    unreleased = Release(tag=None, version=None, sha="b" * 40, date=None, previous_tag=None,
                         previous_version=None)
    with pytest.raises(BadInput, match="need the release's version"):
        release_annotations(unreleased, make_settings(tmp_path), dirs[0])


@pytest.mark.parametrize(("value", "expected"), [
    ({"f": 1e-05, "g": 1e20, "h": 2.5, "i": float("inf"), "j": -float("inf")},
     {"f": 1e-05, "g": 1e20, "h": 2.5, "i": float("inf"), "j": -float("inf")}),
    ({2: "int key", True: "bool key", None: "null key", "yes": "word key", 1.5: "float key"},
     {2: "int key", True: "bool key", None: "null key", "yes": "word key", 1.5: "float key"}),
    ([[], {}, [[1]], {"a": {}}], [[], {}, [[1]], {"a": {}}]),
], ids=["floats", "keys", "empty-and-nested"])
def test_values_round_trip_through_yaml_1_1(value: Any, expected: Any) -> None:
    assert yaml.safe_load(to_yaml_text(value)) == expected


@pytest.mark.parametrize(("text", "needle"), [
    ("apiVersion: test.io/v1\nkind: Widget\nspec: !!binary aGVsbG8=\n", "type bytes"),
    ("apiVersion: test.io/v1\nkind: Widget\nspec: " + "[" * 100 + "]" * 100 + "\n",
     "nests deeper"),
    ("apiVersion: test.io/v1\nkind: Widget\nspec:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n"
     + "".join(f"  {c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
               for p, c in zip("abcdef", "bcdefg", strict=True)), "expands to more than"),
], ids=["binary", "deep", "alias-bomb"])
def test_hostile_examples_are_refused(dirs: tuple[Path, Path, Path], text: str,
                                      needle: str) -> None:
    examples = dirs[2]
    (examples / "widget.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(BadInput, match=needle):
        crd_annotations(dirs[0])


@pytest.mark.parametrize(("values", "needle"), [
    ("operators: [a]\n", "operators is not a mapping"),
    ("operators:\n  a:\n    image: {repository: ''}\n", "repository is empty"),
    ("operators:\n  a:\n    image: {repository: x, tag: [1]}\n", "tag is not text"),
], ids=["list", "empty-repository", "list-tag"])
def test_odd_values_are_refused(values: str, needle: str) -> None:
    with pytest.raises(BadInput, match=needle):
        chart_images(yaml.safe_load(values), "1.0.0")


def test_a_chart_without_crds_gets_no_crd_annotations(dirs: tuple[Path, Path, Path]) -> None:
    chart, crds, examples = dirs
    shutil.rmtree(crds)
    assert crd_annotations(chart) == (None, None)
    (chart / "files" / "crds").mkdir(parents=True)  # the first of CRD_DIRS, and empty
    (crds / "nested").mkdir(parents=True)
    (crds / "nested" / "test.io_widgets.yaml").write_text(WIDGET_CRD, encoding="utf-8")
    assert crd_annotations(chart) == (None, None)
    shutil.rmtree(examples)
    shutil.rmtree(chart / "files")
    found, none = crd_annotations(chart)
    assert [c["kind"] for c in found] == ["Widget", "Gadget"] and none is None
