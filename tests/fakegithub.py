"""A stand-in for GitHub's releases REST API (2022-11-28) on respx: state kept between calls,
requests counted. Shared by the notes and pipeline tests."""

from __future__ import annotations

import hashlib
import json
from typing import Any

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
        r = router
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
