"""Artifact Hub's annotation checks, as ported in release.artifacthub_rules.

The cases come from the hub's Go code (helm.go, helpers.go, metadata.go, pkg.go) and
go-containerregistry's own name tests (ref_test.go, tag_test.go, digest_test.go,
repository_test.go, registry_test.go): what the hub accepts must pass, what it drops must be a
BadInput naming the annotation.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from release.artifacthub_rules import image_reference_problem, validate_annotations
from release.errors import BadInput

ROOT = Path(__file__).resolve().parents[2]
DIGEST = "sha256:deadb33fdeadb33fdeadb33fdeadb33fdeadb33fdeadb33fdeadb33fdeadb33f"

GOOD_REFERENCES = [
    # tag_test.go goodStrictValidationTagNames + goodWeakValidationTagNames
    "gcr.io/g-convoy/hello-world:latest", "gcr.io/google.com/g-convoy/hello-world:latest",
    "gcr.io/project-id/with-nums:v2", "us.gcr.io/project-id/image:with.period.in.tag",
    "gcr.io/project-id/image:w1th-alpha_num3ric.PLUScaps", "domain.with.port:9001/image:latest",
    "namespace/pathcomponent/image", "library/ubuntu", "gcr.io/project-id/implicit-latest",
    "www.example.test:12345/repo/path",
    # digest_test.go good names (strict, weak, tag+digest)
    f"gcr.io/g-convoy/hello-world@{DIGEST}", f"us.gcr.io/project-id/sub-repo@{DIGEST}",
    f"example.text/foo/bar:latest@{DIGEST}", f"example.text:8443/foo/bar:latest@{DIGEST}",
    f"namespace/pathcomponent/image@{DIGEST}", f"nginx:latest@{DIGEST}",
    # repository_test.go weak names; the hub's docs example; this chart's images
    "ubuntu", "a", "0", "repo/img1:1.0.0", "ghcr.io/ameideio/domain-operator:1.2.0-rc.1",
    "localhost:5000/x/y:1", "[::1]:5000/x:1",
]
BAD_REFERENCES = [
    # tag_test.go badTagNames
    "gcr.io/project-id/bad_chars:c@n'tuse", "gcr.io/project-id/wrong-length:white space",
    "gcr.io/project-id/too-many-chars:" + "x" * 129, "library/ubuntu:",
    # digest_test.go badDigestNames
    "gcr.io/project-id/unknown-alg@unknown:abc123",
    "gcr.io/project-id/wrong-length@sha256:d34db33fd34db33f", "gcr.io/project-id/missing-digest@",
    "repo@sha256:" + ":" * 64, "repo@sha256:" + "sh" * 32, f"repo@{DIGEST}@{DIGEST}",
    f"library/nginx:@{DIGEST}",
    # repository_test.go / registry_test.go bad names
    "white space", "b@char/image", "", "gcr?com/x:1", "white space.io/x",
    # uppercase repository, "+" in a tag (SemVer build metadata must become "_"), bad port
    "ghcr.io/Org/img:1", "ghcr.io/org/img:1.0.0+build", "host.io:50a/x:1",
    "r" * 256,
]


@pytest.mark.parametrize("ref", GOOD_REFERENCES)
def test_references_go_containerregistry_accepts(ref: str) -> None:
    assert image_reference_problem(ref) is None


@pytest.mark.parametrize("ref", BAD_REFERENCES)
def test_references_go_containerregistry_refuses(ref: str) -> None:
    assert image_reference_problem(ref)


def check(annotations: dict[str, object], name: str = "ameide-operators") -> None:
    validate_annotations(annotations, name, "Chart.yaml")


VALID = [
    # changes: both forms, kinds case-insensitive, kind optional, links optional
    ("changes", "- Added cool feature\n- Fixed minor bug\n"),
    ("changes", "- kind: Added\n  description: Cool feature\n  links:\n    - name: GitHub PR\n"
                "      url: https://github.com/pr-url\n- description: no kind\n"),
    ("changes", ""),
    ("changes", "[]"),
    ("changes", "- 42\n"),  # yaml.v2 reads the scalar's text into []string
    ("changes", "- kind: fixed\n  description: dup\n  description: last wins\n"),  # v2, not strict
    ("containsSecurityUpdates", "true"), ("prerelease", "False"), ("operator", "1"),
    ("operator", "T"),
    ("operatorCapabilities", "Basic Install"), ("operatorCapabilities", "auto pilot"),
    ("category", "monitoring-logging"),
    ("images", "- name: img1\n  image: repo/img1:1.0.0\n  platforms:\n    - linux/amd64\n"
               "- name: img2\n  image: repo/img2:2.0.0\n  whitelisted: true\n"),
    ("images", "- image: repo/x:1\n  whitelisted: yes\n"),  # v3 takes YAML 1.1 words for bools
    ("images", "- image: repo/x:1\n  whitelisted: \"on\"\n"),
    ("crds", "- kind: MyKind\n  version: v1\n  name: mykind\n  displayName: My Kind\n"),
    ("crdsExamples", "- apiVersion: v1\n  kind: MyKind\n  metadata:\n    name: mykind\n"),
    ("links", "- name: link1\n  url: https://link1.url\n"),
    ("maintainers", "- name: user1\n  email: user1@email.com\n"),
    ("recommendations", "- url: https://artifacthub.io/packages/helm/artifact-hub/artifact-hub\n"),
    ("screenshots", "- title: Sample\n  url: https://example.com/screenshot1.jpg\n"),
    ("signKey", "fingerprint: C874011F0AB405110D02105534365D9472D7468F\n"
                "url: https://keybase.io/hashicorp/pgp_keys.asc\n"),
    ("license", "Apache-2.0"),
    ("alternativeName", "ameide"),
    ("alternativeName", "ameide-operators-chart"),
]


@pytest.mark.parametrize(("name", "value"), VALID, ids=[f"{n}-{i}" for i, (n, _) in
                                                        enumerate(VALID)])
def test_what_artifact_hub_accepts_passes(name: str, value: str) -> None:
    check({f"artifacthub.io/{name}": value})


INVALID = [
    ("changes", "- kind: added\n  description: x\n- plain text\n", "mixes plain text"),
    ("changes", "- Added: a feature\n", "description not provided"),
    ("changes", "- kind: improved\n  description: x\n", "invalid kind 'improved'"),
    ("changes", "- kind: added\n  description: x\n  links:\n    - name: PR\n",
     "link url not provided"),
    ("changes", "- kind: added\n  description: x\n  links:\n    - url: https://x\n",
     "link name not provided"),
    ("changes", "- kind: added\n  description:\n    nested: map\n", "must be text"),
    ("changes", "- kind: added\n  description: x\n  links:\n    -\n", "is empty"),
    ("changes", "- \n", "is empty"),
    ("changes", "kind: added\n", "must be a YAML list"),
    ("changes", "- [unclosed\n", "not valid YAML"),
    ("changes", "- ''\n", "description not provided"),
    ("prerelease", "yes", "not a boolean"),  # strconv.ParseBool, not YAML
    ("containsSecurityUpdates", "", "not a boolean"),
    ("operator", "TRUE ", "not a boolean"),
    ("operatorCapabilities", "basic", "not an operator capability"),
    ("category", "Security", "not a category"),  # PackageCategoryFromName is case-sensitive
    ("images", "- name: x\n  image: ghcr.io/Org/x:1\n", "invalid image reference"),
    ("images", "- name: x\n", "image not provided"),
    ("images", "- image: repo/x:1\n  whitelisted: maybe\n", "true or false"),
    ("images", "- image: repo/x:1\n  whitelisted: \"true\"\n", "true or false"),  # v3 quirk
    ("images", "- image: repo/x:1\n  platforms: linux/amd64\n", "must be a YAML list"),
    ("images", "- image: repo/x:1\n  image: repo/y:1\n", "repeats the key 'image'"),
    ("images", "-\n", "is empty"),
    ("crds", "kind: MyKind\n", "must be a YAML list"),
    ("crds", "- a: 1\n  a: 2\n", "repeats the key 'a'"),
    ("crdsExamples", "just text", "must be a YAML list"),
    ("crdsExamples", "- a: 1\n---\n- b: 2\n", "more than one YAML document"),
    ("links", "- name: x\n", "url not provided"),
    ("links", "-\n", "is empty"),
    ("maintainers", "- name: [a]\n", "must be text"),
    ("signKey", "fingerprint: ABC\n", "sign key url not provided"),
    ("signKey", "", "is empty"),
    ("signKey", "- url: https://x\n", "must be a mapping"),
    ("alternativeName", "postgres", "neither part of the chart name"),
    ("notAnAnnotation", "x", "unknown annotation artifacthub.io/notAnAnnotation"),
]


@pytest.mark.parametrize(("name", "value", "needle"), INVALID,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(INVALID)])
def test_what_artifact_hub_drops_is_bad_input(name: str, value: str, needle: str) -> None:
    with pytest.raises(BadInput) as info:
        check({f"artifacthub.io/{name}": value})
    message = str(info.value)
    assert f"artifacthub.io/{name}" in message
    assert needle in message
    assert "\n" not in message
    assert info.value.fix  # the fix is named


@pytest.mark.parametrize("value", [True, 1, 1.5, None, ["a"], {"a": "b"}])
def test_every_annotation_must_be_text_for_helm(value: object) -> None:
    with pytest.raises(BadInput, match="not text"):
        check({"example.com/mine": value})


def test_annotations_must_be_a_mapping() -> None:
    with pytest.raises(BadInput, match="not a mapping"):
        check(["artifacthub.io/license"])  # type: ignore[arg-type]
    check(None)  # type: ignore[arg-type]


def test_other_annotations_are_left_alone() -> None:
    check({"example.com/whatever": "{not: [yaml", "artifacthub.io/license": ""})


def test_hostile_values_are_bounded() -> None:
    # a billion-laughs list: every alias use is walked, so the walk stops at the bound
    levels = ["- &l0 [" + ", ".join(["x"] * 10) + "]"]
    levels += [f"- &l{n} [" + ", ".join([f"*l{n - 1}"] * 10) + "]" for n in range(1, 8)]
    with pytest.raises(BadInput, match="more than 200000 YAML nodes"):
        check({"artifacthub.io/crds": "\n".join(levels) + "\n"})
    with pytest.raises(BadInput, match="characters long"):
        check({"artifacthub.io/crds": "- " + "x" * (1 << 20) + "\n"})


def test_the_hand_written_annotations_of_the_chart_pass() -> None:
    """What chart/Chart.yaml holds today is accepted (the generated ones replace some)."""
    data = yaml.safe_load((ROOT / "chart" / "Chart.yaml").read_text(encoding="utf-8"))
    check(data["annotations"], data["name"])
