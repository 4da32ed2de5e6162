from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from release.config import load_settings
from release.errors import BadInput
from tests.conftest import CliResult


def write_pyproject(root: Path, body: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(f"[tool.ameide-release]\n{body}\n", encoding="utf-8")


def test_layers_and_sources(tmp_path: Path) -> None:
    write_pyproject(tmp_path, 'registry = "oci://example.test/a"\nchangelog = "HISTORY.md"')
    s = load_settings(
        tmp_path,
        flags={"changelog": "NEWS.md", "chart": None},
        environ={"AMEIDE_RELEASE_REGISTRY": "oci://env.test/b", "AMEIDE_RELEASE_NOTES_PATHS": "a/, b/"},
    )
    assert s.registry == "oci://env.test/b"
    assert s.sources["registry"] == "env AMEIDE_RELEASE_REGISTRY"
    assert s["changelog"] == "NEWS.md" and s.sources["changelog"] == "flag --changelog"
    assert s["notes-paths"] == ["a/", "b/"]
    assert s["chart"] == "chart" and s.sources["chart"] == "default"
    assert s.chart_dir == (tmp_path / "chart").resolve()


def test_unknown_pyproject_key_is_an_error(tmp_path: Path) -> None:
    write_pyproject(tmp_path, 'regitsry = "oci://typo"')
    with pytest.raises(BadInput, match="unknown key 'regitsry'"):
        load_settings(tmp_path, environ={})


def test_unknown_env_var_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="AMEIDE_RELEASE_REGISTYR"):
        load_settings(tmp_path, environ={"AMEIDE_RELEASE_REGISTYR": "x"})


def test_wrong_types_and_choices(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "tag-prefix = 3")
    with pytest.raises(BadInput, match="must be a string"):
        load_settings(tmp_path, environ={})
    write_pyproject(tmp_path, 'non-conventional = "keep"')
    with pytest.raises(BadInput, match="use one of: other, drop"):
        load_settings(tmp_path, environ={})
    write_pyproject(tmp_path, "notes-paths = [1]")
    with pytest.raises(BadInput, match="list of strings"):
        load_settings(tmp_path, environ={})


def test_broken_toml_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.ameide-release\n", encoding="utf-8")
    with pytest.raises(BadInput) as info:
        load_settings(tmp_path, environ={})
    assert "\n" not in str(info.value)


def test_config_command_shows_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      cli: Callable[..., CliResult]) -> None:
    write_pyproject(tmp_path, 'tag-prefix = "release-"')
    monkeypatch.setenv("AMEIDE_RELEASE_GITHUB_REPOSITORY", "acme/charts")
    result = cli("--repo", str(tmp_path), "--chart", "deploy/x", "config")
    assert result.code == 0, result
    lines = {line.split()[0]: line for line in result.out.splitlines()}
    assert "release-" in lines["tag-prefix"] and "(pyproject.toml)" in lines["tag-prefix"]
    assert "acme/charts" in lines["github-repository"]
    assert "(env AMEIDE_RELEASE_GITHUB_REPOSITORY)" in lines["github-repository"]
    assert "(flag --chart)" in lines["chart"]
    assert "(default)" in lines["registry"]


def test_config_error_exit_code_and_no_traceback(tmp_path: Path) -> None:
    import subprocess
    import sys

    write_pyproject(tmp_path, 'bogus = "x"')
    proc = subprocess.run([sys.executable, "-m", "release", "--repo", str(tmp_path), "config"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: unknown key 'bogus'")
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_every_setting_has_a_global_flag(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    from release.config import DEFAULTS

    valid = {"registry": "oci://127.0.0.1:5000/ns", "github-repository": "o/r",
             "github-api": "https://ghe.example/api/v3", "non-conventional": "drop",
             "notes-paths": "x/,y/", "helm-repo-url": "https://charts.example",
             "release-branches": "main,release-*", "dev-registry": "oci://127.0.0.1:5000/dev",
             "release-pr-branch": "release/next", "mentions": "code", "contributors": "all",
             "label-sections": "sec: v", "expect-public": "true"}
    args = ["--repo", str(tmp_path)]
    for key in DEFAULTS:
        args += [f"--{key}", valid.get(key, "v")]
    result = cli(*args, "config", "--json")
    assert result.code == 0, result
    import json

    data = json.loads(result.out)
    assert {k: v["source"] for k, v in data.items()} == {k: f"flag --{k}" for k in DEFAULTS}
    assert data["notes-paths"]["value"] == ["x/", "y/"]


def test_expect_public_is_a_boolean_in_every_layer(tmp_path: Path) -> None:
    assert load_settings(tmp_path, environ={}).expect_public is False
    write_pyproject(tmp_path, "expect-public = true")
    assert load_settings(tmp_path, environ={}).expect_public is True
    s = load_settings(tmp_path, environ={"AMEIDE_RELEASE_EXPECT_PUBLIC": "false"})
    assert s.expect_public is False and s.sources["expect-public"] == \
        "env AMEIDE_RELEASE_EXPECT_PUBLIC"
    assert load_settings(tmp_path, flags={"expect-public": "false"}, environ={}).expect_public \
        is False
    for layer in ({"environ": {"AMEIDE_RELEASE_EXPECT_PUBLIC": "yes"}},
                  {"flags": {"expect-public": "True"}, "environ": {}}):
        with pytest.raises(BadInput, match="'expect-public' must be true or false"):
            load_settings(tmp_path, **layer)  # type: ignore[arg-type]
    write_pyproject(tmp_path, "expect-public = 1")
    with pytest.raises(BadInput, match=r"pyproject\.toml: 'expect-public' must be true or "
                                       r"false, got 'int'"):
        load_settings(tmp_path, environ={})


def test_config_shows_booleans_as_written(tmp_path: Path, cli: Callable[..., CliResult]) -> None:
    result = cli("--repo", str(tmp_path), "--expect-public", "true", "config")
    assert result.code == 0, result
    line = next(x for x in result.out.splitlines() if x.startswith("expect-public"))
    assert line.split()[1] == "true" and line.endswith("(flag --expect-public)")


def test_helm_repo_url_follows_the_repository_and_is_https(tmp_path: Path) -> None:
    """Default: where GitHub Pages serves the repository's gh-pages branch (a repository named
    OWNER.github.io is served at the root); none on GitHub Enterprise, whose Pages host is not
    known. Whatever the layer, it is https (plain HTTP only to loopback test servers)."""
    def url(**flags: str) -> str:
        return str(load_settings(tmp_path, flags, environ={})["helm-repo-url"])

    assert url() == "https://ameideio.github.io/ameide-core"
    assert url(**{"github-repository": "Acme/Charts"}) == "https://acme.github.io/Charts"
    assert url(**{"github-repository": "Acme/acme.github.io"}) == "https://acme.github.io"
    assert url(**{"github-api": "https://ghe.example.com/api/v3"}) == ""
    assert url(**{"helm-repo-url": "https://charts.example/x"}) == "https://charts.example/x"
    assert url(**{"helm-repo-url": ""}) == ""
    assert url(**{"helm-repo-url": "http://127.0.0.1:8080"}) == "http://127.0.0.1:8080"
    with pytest.raises(BadInput, match=r"helm-repo-url .* is plain HTTP") as info:
        url(**{"helm-repo-url": "http://charts.example"})
    assert "--" not in str(info.value)
