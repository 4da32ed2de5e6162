#!/usr/bin/env python3
"""`dry-run` and `publish` on this project's chart, for one or more builds of the CLI, in one run.

    .venv/bin/python bench/release_bench.py [--runs 7] [--cli NAME=PATH ...]

Each CLI (default: this checkout's) runs as a fresh process, so start-up and imports count:
- `dry-run --tag v1.2.3` offline;
- `publish --tag v1.2.3` to a fresh namespace of a real open registry (Debian docker-registry on
  loopback) with a small GitHub stand-in on loopback (the releases endpoints, in memory), then
  the same `publish` again (everything already done).
To compare with an earlier commit, build it beside this one and name both, e.g.
    git worktree add /tmp/before <commit> && python3 -m venv /tmp/before/.venv \
      && /tmp/before/.venv/bin/pip install -q -e '/tmp/before[helm]'
    .venv/bin/python bench/release_bench.py --cli before=/tmp/before/.venv/bin/ameide-release \
      --cli after=.venv/bin/ameide-release
Prints medians in seconds; nothing is asserted (speed is not a test).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.hostile import send_json  # noqa: E402
from tests.registry_fixtures import Registry, start_registry  # noqa: E402


class GitHubStandIn:
    """Releases, assets and uploads of one repository (o/r), kept in memory."""

    def __init__(self) -> None:
        self.releases: dict[str, dict[str, Any]] = {}
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def reply(self, status: int, data: Any) -> None:
                send_json(self, status, data)

            def do_GET(self) -> None:
                if self.path.startswith("/repos/o/r/releases/tags/"):
                    rel = outer.releases.get(self.path.rsplit("/", 1)[1])
                    self.reply(200, rel) if rel else self.reply(404, {"message": "Not Found"})
                else:
                    self.reply(404, {"message": "Not Found"})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/repos/o/r/releases":
                    data = json.loads(body)
                    rid = len(outer.releases) + 1
                    rel = {"id": rid, "tag_name": data["tag_name"], "name": data["name"],
                           "body": data["body"], "prerelease": data["prerelease"],
                           "html_url": f"http://github.invalid/o/r/releases/{rid}",
                           "upload_url": f"http://{self.headers['Host']}/uploads/{rid}"
                                         "/assets{?name,label}", "assets": []}
                    outer.releases[data["tag_name"]] = rel
                    self.reply(201, rel)
                elif self.path.startswith("/uploads/"):
                    rid = int(self.path.split("/")[2])
                    name = self.path.split("name=", 1)[1]
                    rel = next(r for r in outer.releases.values() if r["id"] == rid)
                    import hashlib

                    asset = {"id": 1000 + len(rel["assets"]), "name": name, "state": "uploaded",
                             "size": len(body),
                             "digest": "sha256:" + hashlib.sha256(body).hexdigest()}
                    rel["assets"].append(asset)
                    self.reply(201, asset)
                else:
                    self.reply(404, {"message": "Not Found"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.api = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def project(tmp: Path) -> Path:
    repo = tmp / "project"
    shutil.copytree(ROOT / "chart", repo / "chart")
    (repo / "CHANGELOG.md").write_text("# Changelog\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@x",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@x"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["commit", "-qm", "feat(chart): operators"], ["tag", "-a", "v1.2.3", "-m", "x"]):
        subprocess.run(["git", *args], cwd=repo, env=env, check=True)
    return repo


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])}… failed: {proc.stderr.strip()[-500:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--cli", action="append", default=[],
                        help="NAME=PATH of an ameide-release executable (repeatable)")
    args = parser.parse_args()
    clis = dict(c.split("=", 1) for c in args.cli) or {
        "this": str(Path(sys.executable).with_name("ameide-release"))}
    with tempfile.TemporaryDirectory(prefix="release-bench-") as tmp:
        repo = project(Path(tmp))
        registry: Registry = start_registry("open", Path(tmp) / "registry")
        github = GitHubStandIn()
        env = {**os.environ, "GITHUB_TOKEN": "bench-token", "GITHUB_ACTIONS": ""}
        rows = []
        try:
            for name, exe in clis.items():
                base = [exe, "--repo", str(repo), "--github-repository", "o/r",
                        "--github-api", github.api]
                dry = [timed([*base, "dry-run", "--tag", "v1.2.3"], env)
                       for _ in range(args.runs)]
                first, again = [], []
                for _ in range(args.runs):
                    github.releases.clear()
                    ns = f"bench{uuid.uuid4().hex[:8]}"
                    cmd = [*base, "--registry", registry.oci(ns), "publish", "--tag", "v1.2.3",
                           "--plain-http"]
                    first.append(timed(cmd, env))
                    again.append(timed(cmd, env))
                    subprocess.run(["git", "checkout", "-q", "CHANGELOG.md"], cwd=repo,
                                   check=True)
                rows.append((name, statistics.median(dry), statistics.median(first),
                             statistics.median(again)))
        finally:
            registry.stop()
            github.server.shutdown()
    print(f"median of {args.runs} runs, seconds, fresh process each (start-up included)")
    print(f"{'cli':<10} {'dry-run':>9} {'publish':>9} {'re-run':>9}")
    for name, dry_s, first_s, again_s in rows:
        print(f"{name:<10} {dry_s:>9.3f} {first_s:>9.3f} {again_s:>9.3f}")


if __name__ == "__main__":
    main()
