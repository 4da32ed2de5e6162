"""A stand-in for GitHub's releases REST API (2022-11-28) on respx: state kept between calls,
requests counted. Shared by the notes and pipeline tests."""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import respx

API = "https://api.github.com"
REPO = f"{API}/repos/o/r"
UPLOADS = "https://uploads.github.com/repos/o/r/releases/"
TOKEN = "ghp_SECRETSECRETSECRET"


class FakeGitHub:
    """Just enough of GitHub's releases API: state kept between calls, requests counted."""

    def __init__(self, router: respx.MockRouter, token: str = TOKEN) -> None:
        self.token = token
        self.releases: dict[str, dict[str, Any]] = {}
        self.assets: dict[int, dict[str, Any]] = {}
        self.latest: str | None = None
        self.next_asset = 100
        self.calls: list[str] = []
        self.uploaded: dict[str, bytes] = {}  # asset name -> bytes, as a download would give
        self.pulls: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[str]] = {}
        r = router
        r.get(url__startswith=f"{REPO}/pulls").mock(side_effect=self.list_pulls)
        r.post(f"{REPO}/pulls").mock(side_effect=self.create_pull)
        r.patch(url__regex=rf"{REPO}/pulls/(?P<number>\d+)$").mock(side_effect=self.update_pull)
        r.post(url__regex=rf"{REPO}/issues/(?P<number>\d+)/labels$").mock(
            side_effect=self.add_labels)
        r.delete(url__regex=rf"{REPO}/issues/(?P<number>\d+)/labels/(?P<name>[^/]+)$").mock(
            side_effect=self.remove_label)
        r.post(url__regex=rf"{REPO}/issues/(?P<number>\d+)/comments$").mock(
            side_effect=self.comment)
        r.get(url__regex=rf"{REPO}/releases/tags/(?P<tag>[^/]+)$").mock(side_effect=self.by_tag)
        r.get(f"{REPO}/releases/latest").mock(side_effect=self.get_latest)
        r.post(f"{REPO}/releases").mock(side_effect=self.create)
        r.patch(url__regex=rf"{REPO}/releases/(?P<rid>\d+)$").mock(side_effect=self.update)
        r.get(url__regex=rf"{REPO}/releases/(?P<rid>\d+)/assets").mock(side_effect=self.list)
        r.delete(url__regex=rf"{REPO}/releases/assets/(?P<aid>\d+)$").mock(side_effect=self.delete)
        r.post(url__startswith=UPLOADS).mock(side_effect=self.upload)

    def _log(self, request: httpx.Request) -> None:
        assert request.headers["authorization"] == f"Bearer {self.token}"
        assert request.headers["accept"] == "application/vnd.github+json"
        assert request.headers["x-github-api-version"] == "2022-11-28"
        self.calls.append(f"{request.method} {request.url.path}")

    @staticmethod
    def error(status: int, message: str, **extra: Any) -> httpx.Response:
        return httpx.Response(status, json={
            "message": message, **extra,
            "documentation_url": "https://docs.github.com/rest/releases/releases"})

    def release_json(self, rel: dict[str, Any]) -> dict[str, Any]:
        return {**rel, "assets": [a for a in self.assets.values() if a["rid"] == rel["id"]]}

    def by_tag(self, request: httpx.Request, tag: str) -> httpx.Response:
        self._log(request)
        rel = self.releases.get(tag)
        return self.release_json(rel) and httpx.Response(200, json=self.release_json(rel)) \
            if rel else self.error(404, "Not Found")

    def get_latest(self, request: httpx.Request) -> httpx.Response:
        self._log(request)
        if self.latest is None:
            return self.error(404, "Not Found")
        return httpx.Response(200, json=self.release_json(self.releases[self.latest]))

    def create(self, request: httpx.Request) -> httpx.Response:
        self._log(request)
        data = json.loads(request.content)
        tag = data["tag_name"]
        if tag in self.releases:
            return self.error(422, "Validation Failed", errors=[
                {"resource": "Release", "code": "already_exists", "field": "tag_name"}])
        rid = len(self.releases) + 1
        self.releases[tag] = {
            "url": f"{REPO}/releases/{rid}", "id": rid, "tag_name": tag,
            "html_url": f"https://github.com/o/r/releases/tag/{tag}",
            "upload_url": f"https://uploads.github.com/repos/o/r/releases/{rid}/assets"
                          "{?name,label}",
            "target_commitish": data.get("target_commitish", "main"), "name": data.get("name"),
            "body": data.get("body"), "draft": False, "prerelease": data.get("prerelease", False),
            "created_at": "2024-01-01T00:00:00Z", "published_at": "2024-01-01T00:00:00Z",
            "author": {"login": "bot"}, "tarball_url": "", "zipball_url": "",
            "_make_latest": data.get("make_latest")}
        if data.get("make_latest") == "true" and not data.get("prerelease"):
            self.latest = tag
        return httpx.Response(201, json=self.release_json(self.releases[tag]))

    def update(self, request: httpx.Request, rid: str) -> httpx.Response:
        self._log(request)
        rel = next(r for r in self.releases.values() if r["id"] == int(rid))
        rel.update({k: v for k, v in json.loads(request.content).items() if k != "make_latest"})
        return httpx.Response(200, json=self.release_json(rel))

    def list(self, request: httpx.Request, rid: str) -> httpx.Response:
        self._log(request)
        return httpx.Response(200, json=[a for a in self.assets.values() if a["rid"] == int(rid)])

    def delete(self, request: httpx.Request, aid: str) -> httpx.Response:
        self._log(request)
        del self.assets[int(aid)]
        return httpx.Response(204)

    def upload(self, request: httpx.Request) -> httpx.Response:
        self._log(request)
        name = request.url.params["name"]
        rid = int(request.url.path.split("/")[-2])
        if any(a["name"] == name and a["rid"] == rid for a in self.assets.values()):
            return self.error(422, "Validation Failed", errors=[
                {"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}])
        aid = self.next_asset
        self.next_asset += 1
        self.uploaded[name] = request.content
        self.assets[aid] = {
            "url": f"{REPO}/releases/assets/{aid}", "id": aid, "name": name, "label": "",
            "state": "uploaded", "content_type": request.headers["content-type"],
            "size": len(request.content), "digest": "sha256:"
            + hashlib.sha256(request.content).hexdigest(), "download_count": 0,
            "browser_download_url": f"https://github.com/o/r/releases/download/x/{name}",
            "rid": rid}
        return httpx.Response(201, json=self.assets[aid])

    # --- pull requests, labels, comments (what the release PR flow uses) ---------------------
    @property
    def writes(self) -> list[str]:
        return [c for c in self.calls if not c.startswith("GET ")]

    def list_pulls(self, request: httpx.Request) -> httpx.Response:
        self._log(request)
        params = request.url.params
        head = params.get("head", "").split(":", 1)[-1]
        state = params.get("state", "open")
        found = [p for p in sorted(self.pulls.values(), key=lambda p: -p["number"])
                 if (not head or p["head"]["ref"] == head)
                 and (not params.get("base") or p["base"]["ref"] == params["base"])
                 and (state == "all" or p["state"] == state)]
        return httpx.Response(200, json=found)

    PULL_BODY_MAX = 65_536  # code points; GitHub refuses a longer pull request body

    def _too_long(self, data: dict[str, Any]) -> httpx.Response | None:
        if len(data.get("body") or "") <= self.PULL_BODY_MAX:
            return None
        return self.error(422, "Validation Failed", errors=[
            {"resource": "Issue", "code": "custom", "field": "body",
             "message": "body is too long (maximum is 65536 characters)"}])

    def create_pull(self, request: httpx.Request) -> httpx.Response:
        self._log(request)
        data = json.loads(request.content)
        if (refused := self._too_long(data)) is not None:
            return refused
        if any(p["head"]["ref"] == data["head"] and p["state"] == "open"
               for p in self.pulls.values()):
            return self.error(422, "Validation Failed", errors=[
                {"resource": "PullRequest", "code": "custom",
                 "message": "A pull request already exists"}])
        number = len(self.pulls) + 1
        self.pulls[number] = {
            "number": number, "state": "open", "title": data["title"], "body": data["body"],
            "head": {"ref": data["head"]}, "base": {"ref": data["base"]}, "labels": [],
            "merged_at": None, "merge_commit_sha": None,
            "html_url": f"https://github.com/o/r/pull/{number}"}
        return httpx.Response(201, json=self.pulls[number])

    def update_pull(self, request: httpx.Request, number: str) -> httpx.Response:
        self._log(request)
        pr = self.pulls[int(number)]
        data = json.loads(request.content)
        if (refused := self._too_long(data)) is not None:
            return refused
        pr.update(data)
        return httpx.Response(200, json=pr)

    def add_labels(self, request: httpx.Request, number: str) -> httpx.Response:
        self._log(request)
        pr = self.pulls[int(number)]
        for name in json.loads(request.content)["labels"]:
            if all(label["name"] != name for label in pr["labels"]):
                pr["labels"].append({"name": name})
        return httpx.Response(200, json=pr["labels"])

    def remove_label(self, request: httpx.Request, number: str, name: str) -> httpx.Response:
        self._log(request)
        pr = self.pulls[int(number)]
        from urllib.parse import unquote

        before = len(pr["labels"])
        pr["labels"] = [label for label in pr["labels"] if label["name"] != unquote(name)]
        if len(pr["labels"]) == before:
            return self.error(404, "Label does not exist")
        return httpx.Response(200, json=pr["labels"])

    def comment(self, request: httpx.Request, number: str) -> httpx.Response:
        self._log(request)
        self.comments.setdefault(int(number), []).append(json.loads(request.content)["body"])
        return httpx.Response(201, json={"id": 1})

    def merge(self, number: int, merge_commit_sha: str) -> None:
        """What GitHub does when a person merges the pull request (the git side is the test's)."""
        pr = self.pulls[number]
        pr.update(state="closed", merged_at="2024-01-02T00:00:00Z",
                  merge_commit_sha=merge_commit_sha)


F = TypeVar("F", bound=FakeGitHub)


@contextlib.contextmanager
def fake_github(kind: Callable[[respx.MockRouter], F] = FakeGitHub) -> Iterator[F]:  # type: ignore[assignment]
    """A FakeGitHub on respx while loopback requests (the real test registry) go through."""
    with respx.mock(assert_all_called=False) as router:
        router.route(host="127.0.0.1").pass_through()
        yield kind(router)
