"""`publish` refusals (before any request), conflicts, and finishing after a failed step."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import helm_python
import httpx
import pytest

from tests.charts import DEMO
from tests.conftest import CliResult
from tests.fakegithub import TOKEN, FakeGitHub, fake_github
from tests.gitutil import GitBuilder
from tests.registry_fixtures import Registry

NOWHERE = "oci://127.0.0.1:9/nothing-listens"  # any request here would fail with exit 4


class FlakyCreate(FakeGitHub):
    """Creating a release is refused the first `failures` times (as a token without
    contents: write is)."""

    failures = 1

    def create(self, request: httpx.Request) -> httpx.Response:
        if self.failures:
            self.failures -= 1
            self._log(request)
            return self.error(403, "Resource not accessible by integration")
        return super().create(request)


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FlakyCreate]:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    with fake_github(FlakyCreate) as fake:
        fake.failures = 0
        yield fake


@pytest.fixture
def tagged(gitrepo: GitBuilder) -> GitBuilder:
    gitrepo.commit("feat(chart): demo", dict(DEMO))
    gitrepo.tag("v1.0.0")
    return gitrepo


def run(cli: Callable[..., CliResult], g: GitBuilder, registry: str, *extra: str) -> CliResult:
    return cli("--repo", str(g.root), "--registry", registry, "--github-repository", "o/r",
               "publish", "--tag", "v1.0.0", "--plain-http", *extra)


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda g: g.write("chart/values.yaml", "dirty: true\n"), "uncommitted changes"),
        (lambda g: g.commit("fix: after the tag"), "not at HEAD"),
        (lambda g: g.git("tag", "-d", "v1.0.0"), "tag v1.0.0 does not exist"),
    ],
)
def test_refusals_happen_before_any_request(tagged: GitBuilder, github: FlakyCreate,
                                            cli: Callable[..., CliResult],
                                            setup: Callable[[GitBuilder], Any], message: str) -> None:
    setup(tagged)
    result = run(cli, tagged, NOWHERE)
    assert result.code == 2, result
    assert message in result.err and "Traceback" not in result.err
    assert github.calls == []


def test_missing_token_is_refused_before_pushing(tagged: GitBuilder, github: FlakyCreate,
                                                 cli: Callable[..., CliResult],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    monkeypatch.delenv("GH_TOKEN", raising=False)
    result = run(cli, tagged, NOWHERE)
    assert result.code == 2 and "GITHUB_TOKEN" in result.err


def test_chart_failing_lint_is_refused(tagged: GitBuilder, github: FlakyCreate,
                                       cli: Callable[..., CliResult]) -> None:
    tagged.commit("fix(chart): oops", {"chart/templates/broken.yaml": "{{ if }}\n"})
    tagged.git("tag", "-f", "v1.0.0")
    result = run(cli, tagged, NOWHERE)
    assert result.code == 2 and "fails helm lint" in result.err and "broken.yaml" in result.err
    assert github.calls == []


def test_error_is_an_actions_annotation_in_ci(tagged: GitBuilder, github: FlakyCreate,
                                             cli: Callable[..., CliResult],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    tagged.commit("fix: after the tag")
    result = run(cli, tagged, NOWHERE)
    assert result.code == 2
    assert result.out.startswith("::error title=ameide-release::tag v1.0.0 points at ")


def test_different_content_under_the_tag_is_a_conflict(
        tagged: GitBuilder, github: FlakyCreate, open_registry: Registry, namespace: str,
        cli: Callable[..., CliResult]) -> None:
    registry = open_registry.oci(namespace)
    assert run(cli, tagged, registry).code == 0
    published = open_registry.manifest_digest(f"{namespace}/demo", "1.0.0")
    calls = len(github.calls)
    # Someone moves the tag to different chart content: the registry must not be overwritten.
    tagged.commit("fix(chart): changed", {"chart/values.yaml": "replicas: 5\n"})
    tagged.git("tag", "-f", "v1.0.0")
    result = run(cli, tagged, registry)
    assert result.code == 3, result
    assert "already published" in result.err and "nothing was written" in result.err
    assert open_registry.manifest_digest(f"{namespace}/demo", "1.0.0") == published
    assert len(github.calls) == calls  # stopped before GitHub


def test_rerun_after_a_failed_github_step_finishes_the_release(
        tagged: GitBuilder, github: FlakyCreate, open_registry: Registry, namespace: str,
        cli: Callable[..., CliResult]) -> None:
    github.failures = 1
    registry = open_registry.oci(namespace)
    first = run(cli, tagged, registry)
    assert first.code == 4, first
    assert "403" in first.err or "permission" in first.err.lower()
    assert TOKEN not in first.err + first.out
    digest = open_registry.manifest_digest(f"{namespace}/demo", "1.0.0")
    assert digest is not None and "v1.0.0" not in github.releases
    second = run(cli, tagged, registry, "--json")
    assert second.code == 0, second
    steps = {s["name"]: s["status"] for s in json.loads(second.out)["steps"]}
    assert steps["push"] == "already-published" and steps["github"] == "created"
    assert steps["changelog"] == "unchanged"  # written by the first run, before GitHub failed
    assert open_registry.manifest_digest(f"{namespace}/demo", "1.0.0") == digest
    assert {a["name"] for a in github.assets.values()} == {"demo-1.0.0.tgz", "SHA256SUMS"}


def test_signed_release_rerun_keeps_the_published_signature(
        tagged: GitBuilder, github: FlakyCreate, open_registry: Registry, namespace: str,
        keyrings: tuple[Path, Path], cli: Callable[..., CliResult], tmp_path: Path) -> None:
    secring, pubring = keyrings
    registry = open_registry.oci(namespace)
    sign = ("--sign", "--key", "Release Bot", "--keyring", str(secring))
    first = run(cli, tagged, registry, *sign)
    assert first.code == 0, first
    names = {a["name"] for a in github.assets.values()}
    assert names == {"demo-1.0.0.tgz", "demo-1.0.0.tgz.prov", "SHA256SUMS"}
    prov_before = {a["name"]: a["digest"] for a in github.assets.values()}
    digest = open_registry.manifest_digest(f"{namespace}/demo", "1.0.0")

    # Helm verifies the released pair as a user downloading the assets would.
    tgz = tmp_path / "demo-1.0.0.tgz"
    tgz.write_bytes(github.uploaded["demo-1.0.0.tgz"])
    (tmp_path / "demo-1.0.0.tgz.prov").write_bytes(github.uploaded["demo-1.0.0.tgz.prov"])
    assert helm_python.verify(str(tgz), keyring=str(pubring))["file_name"] == "demo-1.0.0.tgz"

    again = run(cli, tagged, registry, *sign, "--json")
    assert again.code == 0, again  # a new signature is made, but nothing is replaced
    steps = {s["name"]: s["status"] for s in json.loads(again.out)["steps"]}
    assert steps["push"] == "already-published" and steps["github"] == "unchanged"
    assert {a["name"]: a["digest"] for a in github.assets.values()} == prov_before
    assert open_registry.manifest_digest(f"{namespace}/demo", "1.0.0") == digest


def test_progress_on_a_terminal_shows_a_detail_as_written(monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    """Brackets in a step's detail (a path, a server's words) are text: as rich markup, `[x]`
    vanished and `[/]` ended a half-done publish with exit 1."""
    import sys

    from release.commands.pipeline import progress
    from release.steps.base import StepOutcome

    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    show = progress(False)
    assert show is not None
    show(StepOutcome("index", "added", "/srv/[x]/index.yaml [/] [bold]", True))
    err = capsys.readouterr().err
    assert "\x1b[" in err  # the terminal rendering, not the plain lines
    assert "added: /srv/[x]/index.yaml [/] [bold]" in err


def test_progress_on_a_terminal_without_colour_when_no_color_is_set(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import sys

    from release.commands.pipeline import progress
    from release.steps.base import StepOutcome

    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    show = progress(False)
    assert show is not None
    show(StepOutcome("push", "pushed", "oci://r/ns/demo:1.0.0\x1b[2J", True))
    assert capsys.readouterr().err == "✓ push      pushed: oci://r/ns/demo:1.0.0?[2J\n"


def test_progress_in_a_log_cannot_start_a_workflow_command(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """In CI logs a line that starts with `::` is a command to the runner: a step detail with a
    line break (a server's words) must not start one."""
    import sys

    from release.commands.pipeline import progress
    from release.steps.base import StepOutcome

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    show = progress(False)
    assert show is not None
    show(StepOutcome("github", "updated", "body\n::add-mask::x\r\n::warning::y", True))
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\n::" not in err and "\r" not in err, repr(err)
