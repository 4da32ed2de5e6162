"""Contributors: authors and co-authors per release, first contributions offline from git,
logins and pull-request labels through GitHub's REST API (respx, real response shapes)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import respx

from release.contributors import Person, co_authors, is_bot, noreply_login
from release.enrich import GitHubLookup
from release.github import GitHub
from release.gitrepo import GitRepo
from release.notes import History, all_releases, collect, scope_from
from release.render import render_notes
from tests.conftest import run_main
from tests.fakegithub import API, REPO, TOKEN, FakeGitHub
from tests.gitutil import GitBuilder
from tests.notes.conftest import make_settings

BOB_EMAIL = "bob@example.org"


def as_author(g: GitBuilder, name: str, email: str) -> None:
    g.git("config", "user.name", name)
    g.git("config", "user.email", email)


@pytest.fixture
def team(gitrepo: GitBuilder) -> GitBuilder:
    """v1.0.0 by Ada; v1.1.0 by Ada, Bob (co-authored with Carol and Ada under another case),
    renovate[bot], and Dave with a GitHub noreply address; a docs commit by Erin outside chart/."""
    g = gitrepo
    g.write("pyproject.toml", '[tool.ameide-release]\ngithub-repository = "o/r"\n')
    as_author(g, "Ada Lovelace", "ada@example.org")
    g.commit("feat: first", files={"chart/a": "1", "pyproject.toml":
                                   '[tool.ameide-release]\ngithub-repository = "o/r"\n'})
    g.tag("v1.0.0")
    g.commit("fix: second (#5)")
    as_author(g, "Bob", BOB_EMAIL)
    g.commit("feat: pair work (#7)\n\nCo-authored-by: Carol <carol@example.org>\n"
             "Co-authored-by: Ada L <ADA@example.org>")
    as_author(g, "renovate[bot]", "29139614+renovate[bot]@users.noreply.github.com")
    g.commit("chore(deps): bump things (#6)")
    as_author(g, "Dave", "123+dave-d@users.noreply.github.com")
    g.commit("docs: chart readme")
    as_author(g, "Erin", "erin@example.org")
    g.commit("docs: outside the chart", files={"docs/x.md": "x"})
    g.tag("v1.1.0")
    return g


def test_people_of_a_release(team: GitBuilder) -> None:
    s = make_settings(team)
    release = collect(GitRepo(team.root), s, "v1.1.0")
    people = {p.email: p for p in release.people}
    assert set(people) == {"ada@example.org", BOB_EMAIL, "carol@example.org",
                           "29139614+renovate[bot]@users.noreply.github.com",
                           "123+dave-d@users.noreply.github.com"}  # deduplicated; Erin: docs/
    assert [p.first for p in release.people] == [False, True, True, True, True]
    assert people["ada@example.org"].name == "Ada Lovelace" and people[BOB_EMAIL].sha
    assert people["carol@example.org"].sha == "" and people["carol@example.org"].name == "Carol"
    assert people["29139614+renovate[bot]@users.noreply.github.com"].bot
    first = collect(GitRepo(team.root), s, "v1.0.0")
    assert [(p.name, p.first) for p in first.people] == [("Ada Lovelace", False)]  # no previous
    assert [r.people for r in all_releases(GitRepo(team.root), s)] == [release.people,
                                                                       first.people]


def test_contributors_golden(team: GitBuilder, golden: Callable[[str, str], None]) -> None:
    s = make_settings(team)
    text = render_notes(collect(GitRepo(team.root), s, "v1.1.0"), s)
    golden("md-contributors.md", text)
    assert text.endswith("### Contributors\n\nAda Lovelace, Bob (first contribution), Carol (first "
                         "contribution), Dave (first contribution)\n")
    everyone = make_settings(team, contributors="all")
    assert "renovate\\[bot\\] (first contribution)" in render_notes(
        collect(GitRepo(team.root), everyone, "v1.1.0"), everyone)
    nobody = make_settings(team, contributors="none")
    assert "Contributors" not in render_notes(collect(GitRepo(team.root), nobody, "v1.1.0"),
                                              nobody)


def test_trailers_bots_and_noreply() -> None:
    message = ("fix: x\n\nco-authored-by:  Eve  <eve@example.org>\nCo-Authored-By: <x@y.z>\n"
               "Co-authored-by: no email\n" + "Co-authored-by: M <m@x.y>\n" * 40)
    found = co_authors(message)
    assert found[:2] == [("Eve", "eve@example.org"), ("x@y.z", "x@y.z")] and len(found) == 20
    assert is_bot("dependabot[bot]", "49699333+dependabot[bot]@users.noreply.github.com")
    assert is_bot("Renovate", "renovate[bot]@example.org") and not is_bot("Bot Bob", "b@x.y")
    assert noreply_login("123+octo-cat@users.noreply.github.com") == "octo-cat"
    assert noreply_login("octo@users.noreply.ghe.example.com") == "octo"
    assert noreply_login("octo@example.org") is None


def test_first_contribution_walk_on_a_branchy_history(gitrepo: GitBuilder) -> None:
    """Someone whose only earlier commit is on a hotfix line that main never merged is new on
    main: "earlier" means reachable from the previous release."""
    g = gitrepo
    as_author(g, "Ada", "ada@example.org")
    g.commit("feat: a")
    g.tag("v1.0.0")
    g.git("branch", "release-1.0")
    g.commit("feat: b")
    g.checkout("release-1.0")
    as_author(g, "Hot", "hot@example.org")
    g.commit("fix: hot")
    g.tag("v1.0.1")
    g.checkout("main")
    g.commit("fix: main too")
    g.tag("v1.1.0")
    s = make_settings(g)
    repo = GitRepo(g.root)
    every = {r.tag: r for r in all_releases(repo, s)}
    assert [(p.name, p.first) for p in every["v1.0.1"].people] == [("Hot", True)]
    assert [(p.name, p.first) for p in every["v1.1.0"].people] == [("Ada", False), ("Hot", True)]
    for tag, release in every.items():
        assert collect(repo, s, tag) == release
    history = History.read(repo.iter_log([g.head()]), scope_from(repo, s))
    hot = history.ids["hot@example.org"]
    assert not history.contributed_before(hot, history.index[repo.rev_parse("v1.0.0")])


# --- GitHub ------------------------------------------------------------------------------------

def commit_json(sha: str, login: str | None) -> list[dict[str, Any]]:
    """`GET /repos/{o}/{r}/commits?sha=…&per_page=1`: a list of commit objects."""
    user = None if login is None else {
        "login": login, "id": 1, "node_id": "U_1", "type": "User", "site_admin": False,
        "html_url": f"https://github.com/{login}", "url": f"{API}/users/{login}"}
    return [{"sha": sha, "node_id": "C_1", "url": f"{REPO}/commits/{sha}",
             "html_url": f"https://github.com/o/r/commit/{sha}",
             "commit": {"author": {"name": "x", "email": "x@y.z", "date": "2024-01-01T00:00:00Z"},
                        "committer": {"name": "x", "email": "x@y.z",
                                      "date": "2024-01-01T00:00:00Z"},
                        "message": "m", "tree": {"sha": "0" * 40, "url": ""},
                        "comment_count": 0},
             "author": user, "committer": user, "parents": []}]


def labels_json(*names: str) -> list[dict[str, Any]]:
    return [{"id": i, "node_id": f"L_{i}", "url": f"{REPO}/labels/{n}", "name": n,
             "color": "f29513", "default": False, "description": None}
            for i, n in enumerate(names)]


class FakeLookups:
    """Commit and label routes with GitHub's shapes; requests counted."""

    def __init__(self, router: respx.MockRouter, logins: dict[str, str | None],
                 labels: dict[int, tuple[str, ...]]) -> None:
        self.calls: list[str] = []
        self.logins, self.labels = logins, labels
        router.get(f"{REPO}/commits").mock(side_effect=self.commit)
        router.get(url__regex=rf"{REPO}/issues/(?P<n>\d+)/labels").mock(side_effect=self.label)

    def commit(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        sha = request.url.params["sha"]
        assert request.url.params["per_page"] == "1"
        self.calls.append(f"commit {sha[:7]}")
        return httpx.Response(200, json=commit_json(sha, self.logins.get(sha)))

    def label(self, request: httpx.Request, n: str) -> httpx.Response:
        self.calls.append(f"labels {n}")
        if int(n) not in self.labels:
            return httpx.Response(404, json={"message": "Not Found"})
        return httpx.Response(200, json=labels_json(*self.labels[int(n)]))


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    yield


def test_github_logins_and_label_sections(team: GitBuilder, token: None,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    s = make_settings(team)
    release = collect(GitRepo(team.root), s, "v1.1.0")
    bob = next(p for p in release.people if p.email == BOB_EMAIL)
    ada = next(p for p in release.people if p.name == "Ada Lovelace")
    argv = ["--repo", str(team.root), "--label-sections", "security: fix", "notes",
            "--tag", "v1.1.0", "--github"]
    with respx.mock(assert_all_called=False) as router:
        fake = FakeLookups(router, {bob.sha: "bobby", ada.sha: None},
                           {7: ("enhancement", "security"), 5: ()})
        code, out, err = run_main(argv, capsys)
    assert code == 0, err
    assert out.endswith("### Contributors\n\n@bobby (first contribution), @dave-d (first "
                        "contribution), Ada Lovelace, Carol (first contribution)\n")
    # one request per distinct author with a commit (Dave's login is in his email, Carol only
    # co-authored, the bot is left out before any request), one per pull request
    assert sorted(fake.calls) == sorted([f"commit {bob.sha[:7]}", f"commit {ada.sha[:7]}",
                                         "labels 5", "labels 6", "labels 7"])
    fixes = out[out.index("### Bug fixes"):out.index("### Chores")]
    assert "pair work" in fixes and "pair work" not in out[:out.index("### Bug fixes")]
    assert TOKEN not in out + err and err == ""


def test_github_release_body_names_logins(team: GitBuilder, token: None,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    bob_sha = collect(GitRepo(team.root), make_settings(team), "v1.1.0").people[1].sha
    with respx.mock(assert_all_called=False) as router:
        fake = FakeGitHub(router)
        FakeLookups(router, {bob_sha: "bobby"}, {})
        code, _, err = run_main(["--repo", str(team.root), "github-release", "--tag", "v1.1.0",
                                 "--github"], capsys)
        assert code == 0, err
        body = fake.releases["v1.1.0"]["body"]
    assert "### Contributors\n\n@bobby (first contribution), @dave-d (first contribution)" in body
    assert body.rstrip().endswith("**Full changelog**: https://github.com/o/r/compare/"
                                  "v1.0.0...v1.1.0")


def test_github_mentions_in_code_notify_nobody(team: GitBuilder, token: None,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    bob_sha = collect(GitRepo(team.root), make_settings(team), "v1.1.0").people[1].sha
    with respx.mock(assert_all_called=False) as router:
        FakeLookups(router, {bob_sha: "bobby"}, {})
        code, out, _ = run_main(["--repo", str(team.root), "--mentions", "code", "notes",
                                 "--tag", "v1.1.0", "--github"], capsys)
    assert code == 0 and "`@bobby` (first contribution), `@dave-d` (first contribution)" in out


def test_github_without_token_falls_back_to_names(team: GitBuilder,
                                                  capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("GH_TOKEN", raising=False)
    with respx.mock(assert_all_called=False) as router:
        route = router.route()
        code, out, err = run_main(["--repo", str(team.root), "notes", "--tag", "v1.1.0",
                                   "--github"], capsys)
    assert code == 0 and route.call_count == 0
    assert "Ada Lovelace, Bob (first contribution)" in out
    assert err.startswith("--github: no GitHub token") and err.count("\n") == 1


def test_github_failure_falls_back_and_says_why(team: GitBuilder, token: None,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    with respx.mock(assert_all_called=False) as router:
        route = router.get(f"{REPO}/commits").mock(return_value=httpx.Response(
            401, json={"message": "Bad credentials"}))
        code, out, err = run_main(["--repo", str(team.root), "notes", "--tag", "v1.1.0",
                                   "--github"], capsys)
    assert code == 0 and route.call_count == 1  # no more requests after the first failure
    assert "Ada Lovelace, Bob (first contribution)" in out
    assert err.startswith("--github: GitHub rejected the token") and TOKEN not in err


def test_lookup_cap_and_hostile_answers() -> None:
    with respx.mock(assert_all_called=False) as router:
        router.get(f"{REPO}/commits").mock(side_effect=[
            httpx.Response(200, json=commit_json("a" * 40, "not a login!")),
            httpx.Response(200, json=commit_json("b" * 40, "ok")),
        ])
        router.get(f"{REPO}/issues/1/labels").mock(return_value=httpx.Response(
            200, content=b"[" + b'{"name": "x"},' * 100000 + b'{"name": "y"}]'))
        lookup = GitHubLookup(GitHub(API, "o/r", TOKEN, attempts=1), max_requests=2)
        first = Person("A", "a@x.y", False, sha="a" * 40)
        assert lookup.login(first) is None  # not a valid login: shown by name
        assert lookup.labels(1) == ()  # an oversized answer is ignored
        assert lookup.login(Person("B", "b@x.y", False, sha="b" * 40)) is None  # capped
        assert lookup.problem is not None and "stopped after 2" in lookup.problem
        assert lookup.login(first) is None and lookup.requests == 2  # cached
        lookup.close()
