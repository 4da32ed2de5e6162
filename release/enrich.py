"""GitHub facts for the notes (`--github`): contributors' logins and pull-request labels.

Offline first: a `users.noreply` email already names its login. Everything else costs one
request per distinct person (their newest commit in the release) or per pull request, cached for
the run and capped at `max_requests`; past the cap, or after a GitHub failure, the notes go on
with names and without labels, and `problem` says why so the command can tell the user.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

from release.contributors import Person, noreply_login
from release.errors import RemoteError

if TYPE_CHECKING:
    from release.config import Settings
    from release.github import GitHub

T = TypeVar("T")
MAX_REQUESTS = 300
NO_TOKEN = ("--github: no GitHub token (GITHUB_TOKEN or GH_TOKEN); contributors are shown by "
            "name and pull-request labels are not read")


class GitHubLookup:
    """`release.render.Lookup` backed by the REST API."""

    def __init__(self, gh: GitHub, max_requests: int = MAX_REQUESTS) -> None:
        self.gh = gh
        self.max_requests = max_requests
        self.requests = 0
        self.problem: str | None = None
        self._logins: dict[str, str | None] = {}
        self._labels: dict[int, tuple[str, ...]] = {}

    def _ask(self, call: Callable[[], T], fallback: T) -> T:
        if self.problem is not None:
            return fallback
        if self.requests >= self.max_requests:
            self.problem = (f"--github: stopped after {self.max_requests} GitHub requests; the "
                            "rest is shown by name and without pull-request labels")
            return fallback
        self.requests += 1
        try:
            return call()
        except RemoteError as exc:
            self.problem = f"--github: {exc}; the notes show names and no pull-request labels"
            return fallback

    def login(self, person: Person) -> str | None:
        if person.email in self._logins:
            return self._logins[person.email]
        login = noreply_login(person.email)
        if login is None and person.sha:
            sha = person.sha
            login = self._ask(lambda: self.gh.commit_author_login(sha), None)
        self._logins[person.email] = login
        return login

    def labels(self, pr: int) -> tuple[str, ...]:
        found = self._labels.get(pr)
        if found is None:
            found = self._labels[pr] = self._ask(lambda: self.gh.issue_labels(pr), ())
        return found

    def close(self) -> None:
        self.gh.close()


def github_lookup(settings: Settings, environ: Mapping[str, str]) -> GitHubLookup | None:
    """A lookup when a token is set, else None (the caller prints `NO_TOKEN`). Lookups retry
    little and never wait long: they decorate notes, they must not hold a release up."""
    from release.github import GitHub, token_from_env

    token = token_from_env(environ, required=False)
    if not token:
        return None
    return GitHubLookup(GitHub(str(settings["github-api"]), settings.github_repository, token,
                               attempts=2, max_wait=10.0))
