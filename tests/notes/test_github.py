"""GitHub releases against a respx mock shaped like the real REST API (2022-11-28)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from release.errors import BadInput, Conflict, RemoteError
from release.ghrelease import (
    MAX_BODY,
    GitHubReleaseSpec,
    asset_specs,
    decide_make_latest,
    spec_github_release,
    sync_github_release,
    truncate_body,
)
from release.github import GitHub, token_from_env
from release.gitrepo import GitRepo
from release.notes import collect, release_tags
from release.version import parse_version
from tests.fakegithub import API, REPO, TOKEN, FakeGitHub
from tests.gitutil import GitBuilder
from tests.notes.conftest import make_settings


@pytest.fixture
def fake() -> Any:
    with respx.mock(assert_all_called=False) as router:
        yield FakeGitHub(router)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(sleep: Sleeps | None = None, **kw: Any) -> GitHub:
    return GitHub(API, "o/r", TOKEN, sleep=sleep if sleep is not None else Sleeps(),
                  clock=lambda: 1000.0, **kw)


def make_plan(tmp_path: Path, tag: str = "v1.0.0", body: str = "notes\n",
              tgz: bytes = b"chart-bytes", prerelease: bool = False,
              make_latest: str = "true") -> GitHubReleaseSpec:
    (tmp_path / "c-1.0.0.tgz").write_bytes(tgz)
    (tmp_path / "c-1.0.0.tgz.prov").write_bytes(b"-----BEGIN PGP SIGNED MESSAGE-----\n")
    return GitHubReleaseSpec("o/r", tag, tag, body, prerelease, make_latest, "f" * 40,
                       asset_specs([tmp_path / "c-1.0.0.tgz", tmp_path / "c-1.0.0.tgz.prov"]))


def test_create_then_rerun_is_a_single_get(fake: FakeGitHub, tmp_path: Path) -> None:
    plan = make_plan(tmp_path)
    result = sync_github_release(plan, client())
    assert result.action == "created" and result.release_id == 1
    assert result.uploaded == ["c-1.0.0.tgz", "c-1.0.0.tgz.prov", "SHA256SUMS"]
    assert fake.calls == ["GET /repos/o/r/releases/tags/v1.0.0", "GET /repos/o/r/releases/latest",
                          "POST /repos/o/r/releases"] + [
        "POST /repos/o/r/releases/1/assets"] * 3
    created = fake.releases["v1.0.0"]
    assert (created["body"], created["prerelease"], created["target_commitish"],
            created["_make_latest"]) == ("notes\n", False, "f" * 40, "true")
    sums = next(a for a in fake.assets.values() if a["name"] == "SHA256SUMS")
    assert sums["content_type"] == "text/plain"
    fake.calls.clear()
    again = sync_github_release(plan, client())
    assert again.action == "unchanged" and again.uploaded == [] and len(again.skipped) == 3
    assert fake.calls == ["GET /repos/o/r/releases/tags/v1.0.0"]


def test_sha256sums_content(tmp_path: Path) -> None:
    plans = asset_specs([tmp_path / n for n in ("b.tgz", "a.prov")
                         if (tmp_path / n).write_bytes(n.encode()) or True])
    sums = plans[-1]
    assert sums.name == "SHA256SUMS" and [p.name for p in plans] == ["a.prov", "b.tgz",
                                                                     "SHA256SUMS"]
    assert sums.data().decode() == (f"{hashlib.sha256(b'a.prov').hexdigest()}  a.prov\n"
                                    f"{hashlib.sha256(b'b.tgz').hexdigest()}  b.tgz\n")
    with pytest.raises(BadInput, match="does not exist"):
        asset_specs([tmp_path / "missing.tgz"])
    assert asset_specs([]) == ()


def test_different_asset_needs_force(fake: FakeGitHub, tmp_path: Path) -> None:
    sync_github_release(make_plan(tmp_path), client())
    changed = make_plan(tmp_path, tgz=b"other-bytes!")
    fake.calls.clear()
    with pytest.raises(Conflict, match=r"c-1\.0\.0\.tgz .*differs.*--force"):
        sync_github_release(changed, client())
    assert all(c.startswith("GET") for c in fake.calls)  # nothing written
    result = sync_github_release(changed, client(), force=True)
    assert result.replaced == ["c-1.0.0.tgz", "SHA256SUMS"] and result.skipped == [
        "c-1.0.0.tgz.prov"]
    tgz = next(a for a in fake.assets.values() if a["name"] == "c-1.0.0.tgz")
    assert tgz["size"] == len(b"other-bytes!")


def test_different_body_needs_force(fake: FakeGitHub, tmp_path: Path) -> None:
    sync_github_release(make_plan(tmp_path), client())
    with pytest.raises(Conflict, match="different body"):
        sync_github_release(make_plan(tmp_path, body="new notes\n"), client())
    result = sync_github_release(make_plan(tmp_path, body="new notes\n"), client(), force=True)
    assert result.action == "updated" and fake.releases["v1.0.0"]["body"] == "new notes\n"
    assert "PATCH /repos/o/r/releases/1" in fake.calls


def test_broken_leftover_asset_is_replaced_without_force(fake: FakeGitHub,
                                                         tmp_path: Path) -> None:
    plan = make_plan(tmp_path)
    sync_github_release(plan, client())
    tgz = next(a for a in fake.assets.values() if a["name"] == "c-1.0.0.tgz")
    tgz["state"] = "starter"
    tgz["size"] = 0
    result = sync_github_release(plan, client())
    assert result.uploaded == ["c-1.0.0.tgz"] and result.replaced == []


class FlakyUploads(FakeGitHub):
    """The first upload arrives but answers 502, as a proxy timing out would."""

    failed = False

    def upload(self, request: httpx.Request) -> httpx.Response:
        resp = super().upload(request)
        if not self.failed:
            self.failed = True
            return httpx.Response(502, text="Bad Gateway")
        return resp


def test_upload_already_exists_after_retry_is_resolved(tmp_path: Path) -> None:
    """The retried upload gets 422 already_exists; the arrived asset is checked and kept."""
    with respx.mock(assert_all_called=False) as router:
        fake = FlakyUploads(router)
        sleeps = Sleeps()
        result = sync_github_release(make_plan(tmp_path), client(sleeps))
    assert result.uploaded == ["c-1.0.0.tgz", "c-1.0.0.tgz.prov", "SHA256SUMS"]
    assert len([a for a in fake.assets.values() if a["name"] == "c-1.0.0.tgz"]) == 1
    assert sleeps == [1.0]
    assert fake.calls.count("GET /repos/o/r/releases/1/assets") == 1


def test_prerelease_and_make_latest(fake: FakeGitHub, tmp_path: Path) -> None:
    sync_github_release(make_plan(tmp_path, tag="v1.3.0"), client())
    # hotfix lower than GitHub's latest: make_latest false even if local tags said true
    sync_github_release(make_plan(tmp_path, tag="v1.2.4"), client())
    assert fake.releases["v1.2.4"]["_make_latest"] == "false" and fake.latest == "v1.3.0"
    sync_github_release(make_plan(tmp_path, tag="v1.4.0-rc.1", prerelease=True, make_latest="false"),
            client())
    assert fake.releases["v1.4.0-rc.1"]["prerelease"] is True
    assert fake.releases["v1.4.0-rc.1"]["_make_latest"] == "false"


def test_retries_on_5xx_and_secondary_rate_limit(tmp_path: Path) -> None:
    plan = make_plan(tmp_path)
    with respx.mock(assert_all_called=False) as router:
        route = router.get(f"{REPO}/releases/tags/v1.0.0")
        fake = FakeGitHub(router)
        route.side_effect = [
            httpx.Response(503, text="unavailable"),
            httpx.Response(403, headers={"retry-after": "7"}, json={
                "message": "You have exceeded a secondary rate limit.",
                "documentation_url": "https://docs.github.com/rest"}),
            httpx.Response(403, headers={"x-ratelimit-remaining": "0",
                                         "x-ratelimit-reset": "1030"},
                           json={"message": "API rate limit exceeded"}),
            httpx.Response(404, json={"message": "Not Found"}),
        ]
        sleeps = Sleeps()
        result = sync_github_release(plan, client(sleeps))
    assert result.action == "created" and route.call_count == 4
    assert sleeps == [1.0, 7.0, 31.0]
    assert fake.releases["v1.0.0"]


def test_gives_up_after_attempts_without_leaking_the_token(tmp_path: Path) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.get(f"{REPO}/releases/tags/v1.0.0").mock(
            return_value=httpx.Response(500, json={"message": "Server Error"}))
        sleeps = Sleeps()
        with pytest.raises(RemoteError, match="after 3 attempts") as info:
            sync_github_release(make_plan(tmp_path), client(sleeps, attempts=3))
    assert route.call_count == 3 and sleeps == [1.0, 2.0]
    assert TOKEN not in str(info.value)


def test_rate_limit_reset_too_far_away(tmp_path: Path) -> None:
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{REPO}/releases/tags/v1.0.0").mock(return_value=httpx.Response(
            429, headers={"retry-after": "3600"}, json={"message": "slow down"}))
        with pytest.raises(RemoteError, match="retry allowed in 3600 s"):
            sync_github_release(make_plan(tmp_path), client())


@pytest.mark.parametrize(("status", "message", "expected"), [
    (401, "Bad credentials", "rejected the token.*GITHUB_TOKEN or GH_TOKEN"),
    (403, "Resource not accessible by integration", "refused.*contents: write"),
    (404, "Not Found", "does not exist or the token cannot see it"),
    (422, "Validation Failed", "422 Validation Failed \\(Release tag_name invalid\\)"),
])
def test_errors_explained(tmp_path: Path, status: int, message: str, expected: str) -> None:
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{REPO}/releases/tags/v1.0.0").mock(return_value=httpx.Response(404, json={
            "message": "Not Found"}))
        router.get(f"{REPO}/releases/latest").mock(return_value=httpx.Response(404, json={
            "message": "Not Found"}))
        router.post(f"{REPO}/releases").mock(return_value=httpx.Response(status, json={
            "message": message, "errors": [{"resource": "Release", "code": "invalid",
                                            "field": "tag_name"}] if status == 422 else None,
            "documentation_url": "https://docs.github.com/rest"}))
        with pytest.raises(RemoteError, match=expected) as info:
            sync_github_release(make_plan(tmp_path), client())
    assert TOKEN not in str(info.value) and "\n" not in str(info.value)


def test_transport_errors_are_retried_then_explained(tmp_path: Path) -> None:
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{REPO}/releases/tags/v1.0.0").mock(side_effect=httpx.ConnectError("boom"))
        with pytest.raises(RemoteError, match="could not reach GitHub"):
            sync_github_release(make_plan(tmp_path), client(attempts=2))


def test_token_from_env() -> None:
    assert token_from_env({"GITHUB_TOKEN": "a", "GH_TOKEN": "b"}) == "a"
    assert token_from_env({"GH_TOKEN": "b"}) == "b"
    with pytest.raises(BadInput, match="GITHUB_TOKEN"):
        token_from_env({"GITHUB_TOKEN": " "})


def test_bad_repository_name() -> None:
    with pytest.raises(BadInput, match="owner/name"):
        GitHub(API, "just-a-name", TOKEN)


def test_truncate_body() -> None:
    body = "- line\n" * 30000
    cut = truncate_body(body)
    assert len(cut) <= MAX_BODY and cut.endswith("CHANGELOG.md.)_\n")
    assert truncate_body("short") == "short"


def test_plan_release_offline(gitrepo: GitBuilder, tmp_path: Path) -> None:
    gitrepo.commit("feat: a")
    gitrepo.tag("v1.2.3")
    gitrepo.git("branch", "release-1.2")
    gitrepo.commit("feat: b")
    gitrepo.tag("v1.3.0")
    gitrepo.checkout("release-1.2")
    gitrepo.commit("fix: hot")
    gitrepo.tag("v1.2.4")
    gitrepo.tag("v2.0.0-rc.1")
    repo = GitRepo(gitrepo.root)
    s = make_settings(gitrepo, github_repository="o/r")
    tags = release_tags(repo, "v")
    (tmp_path / "c.tgz").write_bytes(b"x")
    with respx.mock(assert_all_called=False) as router:  # any request would fail the test
        hot = spec_github_release(collect(repo, s, "v1.2.4", tags=tags), s, tags, [tmp_path / "c.tgz"])
        rc = spec_github_release(collect(repo, s, "v2.0.0-rc.1", tags=tags), s, tags)
        planned = spec_github_release(collect(repo, s, "v1.4.0", planned=True, tags=tags), s, tags)
        assert not router.calls
    assert (hot.make_latest, hot.prerelease, hot.name) == ("false", False, "v1.2.4")
    assert [a.name for a in hot.assets] == ["c.tgz", "SHA256SUMS"]
    assert "hot" in hot.body and hot.target_commitish == repo.rev_parse("v1.2.4")
    assert (rc.make_latest, rc.prerelease) == ("false", True)
    assert planned.make_latest == "true" and planned.to_json()["assets"] == []


def test_decide_make_latest_without_tags() -> None:
    assert decide_make_latest(parse_version("0.1.0"), False, []) == "true"
    assert decide_make_latest(parse_version("0.1.0"), False, [],
                              remote_latest=parse_version("0.2.0")) == "false"
