from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from release.errors import BadInput
from release.version import Version, bump_version, image_tags, parse_tag, tag_key, try_parse_tag
from tests.conftest import CliResult


@pytest.mark.parametrize(
    ("tag", "expected"),
    [("v1.2.3", "1.2.3"), ("v0.0.0", "0.0.0"), ("v1.2.3-rc.1", "1.2.3-rc.1"),
     ("v10.20.30-alpha.beta-1", "10.20.30-alpha.beta-1")],
)
def test_valid_tags(tag: str, expected: str) -> None:
    assert str(parse_tag(tag)) == expected


@pytest.mark.parametrize(
    "tag",
    ["v1.2", "1.2.3", "v01.2.3", "v1.2.3.4", "", "v", "V1.2.3", "v1.2.3-", "v1.2.3-01",
     "v\uff11.2.3",  # fullwidth digit one
     "v1.\u0662.3",  # arabic-indic two
     "\u03bd1.2.3",  # greek nu looks like v
     "v1.2.3 ", " v1.2.3", "v1.2.3\n"],
)
def test_invalid_tags_name_the_tag_and_the_form(tag: str) -> None:
    with pytest.raises(BadInput) as info:
        parse_tag(tag)
    message = str(info.value)
    assert repr(tag) in message
    assert "v1.2.3" in message  # the expected form is shown
    assert "\n" not in message


def test_build_metadata_in_a_tag_is_refused() -> None:
    with pytest.raises(BadInput, match=r"build metadata \(\+build\).*v1\.2\.3"):
        parse_tag("v1.2.3+build")


def test_custom_prefix() -> None:
    assert str(parse_tag("chart-1.0.0", "chart-")) == "1.0.0"
    assert str(parse_tag("1.0.0", "")) == "1.0.0"
    with pytest.raises(BadInput):
        parse_tag("v1.0.0", "chart-")


@pytest.mark.parametrize(
    ("current", "level", "expected"),
    [(None, "major", "0.1.0"), ("1.2.3", "patch", "1.2.4"), ("1.2.3", "minor", "1.3.0"),
     ("1.2.3", "major", "2.0.0"), ("0.4.1", "major", "0.5.0"), ("0.4.1", "minor", "0.5.0"),
     ("0.4.1", "patch", "0.4.2"), ("1.3.0-rc.2", "patch", "1.3.0"), ("1.2.3", None, "1.2.4")],
)
def test_bump_version(current: str | None, level: str | None, expected: str) -> None:
    cur = Version.parse(current) if current else None
    assert str(bump_version(cur, level)) == expected


@pytest.mark.parametrize(
    ("ref", "expected"),
    [("refs/heads/dev", ["dev"]), ("refs/heads/main", ["main"]), ("main", ["main"]),
     ("refs/heads/feature/x", []), ("refs/tags/v1.2.3", ["1.2.3", "1.2"]),
     ("v1.2.3", ["1.2.3", "1.2"]), ("refs/tags/v1.2.3-rc.1", ["1.2.3-rc.1"])],
)
def test_image_tags(ref: str, expected: list[str]) -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert list(image_tags(ref, sha).tags) == [*expected, sha]


def test_image_tags_reject_bad_tag_ref_and_sha() -> None:
    with pytest.raises(BadInput, match=r"'v1\.2'"):
        image_tags("refs/tags/v1.2", "abcdef1")
    with pytest.raises(BadInput, match="not a git commit id"):
        image_tags("main", "not-a-sha")


def test_image_tags_cli_github_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      cli: Callable[..., CliResult]) -> None:
    out = tmp_path / "out.txt"
    monkeypatch.setenv("GITHUB_OUTPUT", str(out))
    result = cli("--repo", str(tmp_path), "image-tags", "--ref", "refs/tags/v2.0.0", "--sha",
                 "ABCDEF1", "--format", "github")
    assert result.code == 0, result
    lines = out.read_text().splitlines()
    assert "tags=2.0.0,2.0,abcdef1" in lines
    assert json.loads(lines[1].split("=", 1)[1]) == ["2.0.0", "2.0", "abcdef1"]


def test_image_tags_cli_text_and_bad_format(tmp_path: Path,
                                            cli: Callable[..., CliResult]) -> None:
    ok = cli("--repo", str(tmp_path), "image-tags", "--ref", "dev", "--sha", "abcdef1")
    assert ok.code == 0 and ok.out.split() == ["dev", "abcdef1"]
    bad = cli("--repo", str(tmp_path), "image-tags", "--ref", "dev", "--sha", "abcdef1",
              "--format", "yaml")
    assert bad.code == 2 and "invalid choice: 'yaml'" in bad.err and bad.out == ""


def test_version_precedence_is_semver_s_own_example() -> None:
    """semver.org §11: 1.0.0-alpha < 1.0.0-alpha.1 < 1.0.0-alpha.beta < 1.0.0-beta <
    1.0.0-beta.2 < 1.0.0-beta.11 < 1.0.0-rc.1 < 1.0.0, and 1.0.0 < 2.0.0 < 2.1.0 < 2.1.1."""
    order = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
             "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "2.0.0", "2.1.0", "2.1.1"]
    versions = [Version.parse(v) for v in order]
    assert sorted(reversed(versions)) == versions
    assert [str(v) for v in sorted(reversed(versions))] == order
    for low, high in itertools.pairwise(versions):
        assert low < high and low <= high and high > low and high >= low and low != high


def test_version_build_metadata_takes_no_part_in_precedence() -> None:
    a, b = Version.parse("1.2.3+a"), Version.parse("1.2.3+b")
    assert a == b and hash(a) == hash(b) and not a < b
    assert (str(a), str(b)) == ("1.2.3+a", "1.2.3+b")
    assert a.build == "a" and a.prerelease is None
    assert Version.parse("1.2.3") != "1.2.3"  # a version is not its text


def test_version_operations() -> None:
    v = Version.parse("1.2.3-rc.1+sha")
    assert (v.major, v.minor, v.patch, v.prerelease, v.build) == (1, 2, 3, "rc.1", "sha")
    assert str(v.finalize_version()) == "1.2.3"
    assert [str(f(v)) for f in (Version.bump_major, Version.bump_minor, Version.bump_patch)] == [
        "2.0.0", "1.3.0", "1.2.4"]
    assert str(Version(1, 2, 3, prerelease="dev.4", build="abc1234")) == "1.2.3-dev.4+abc1234"
    assert repr(v) == "Version('1.2.3-rc.1+sha')"
    with pytest.raises(AttributeError):
        v.major = 2  # type: ignore[misc]
    with pytest.raises(ValueError):
        Version(1, -1, 0)


@pytest.mark.parametrize("text", ["1.2", "1", "01.2.3", "1.2.3-", "1.2.3-01", "1.2.3+",
                                  "v1.2.3", "1.2.3.4", "\uff11.2.3", "1.2.3\n", ""])
def test_version_parse_is_strict(text: str) -> None:
    with pytest.raises(ValueError):
        Version.parse(text)


@pytest.mark.parametrize(("text", "expected"), [("1", "1.0.0"), ("1.2", "1.2.0"),
                                                ("1.2-rc.1", "1.2.0-rc.1"), ("1.2.3+b", "1.2.3+b")])
def test_version_lenient_parse_fills_minor_and_patch(text: str, expected: str) -> None:
    assert str(Version.parse(text, optional_minor_and_patch=True)) == expected
    with pytest.raises(ValueError):
        Version.parse("01.2", optional_minor_and_patch=True)


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet="v0123456789.-+a٣ ", max_size=14), st.sampled_from(["v", "", "chart-v"]))
def test_tag_key_is_parse_tag_s_rule(tag: str, prefix: str) -> None:
    """The scan key of thousands of tags (a fast path for finals) says exactly what parse_tag
    says of each one."""
    version = try_parse_tag(tag, prefix)
    expected = None if version is None else (version.key, tag[len(prefix):])
    assert tag_key(tag, prefix) == expected


@pytest.mark.parametrize("tag", ["v1.2.3", "v0.0.0", "v01.2.3", "v1.2.03", "v1..3", "v1.2.",
                                 "v1.2.3.", "v\u0661.2.3", "v18446744073709551616.0.0",
                                 "v18446744073709551615.0.0", "v1.2.3-rc.1", "v1.2.3+b"])
def test_tag_key_edges(tag: str) -> None:
    version = try_parse_tag(tag)
    assert tag_key(tag, "v") == (None if version is None else (version.key, tag[1:]))


def test_a_version_compared_with_something_else_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        _ = Version.parse("1.2.3") < "1.2.4"  # type: ignore[operator]
