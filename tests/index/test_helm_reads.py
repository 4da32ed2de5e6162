"""Helm's own engine reads our index.yaml over HTTP and fetches the chart the entry names.

The repository is served from a loopback HTTP server: index.yaml at the repository root, the
archives at a GitHub-release-like path (`/releases/download/<tag>/<file>`), as on gh-pages with
assets on the release.

Helm's engine is a Go library that takes its environment from the process start, so HELM_*_HOME
set from Python has no effect: `pull` leaves an empty ~/.cache/helm/repository behind.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from release import index as ix
from release.package import read_archive
from tests.index.conftest import ChartFactory, sha256_hex


class Site:
    """A tiny static web server on 127.0.0.1: path -> file on disk; logs every GET."""

    def __init__(self) -> None:
        self.files: dict[str, Path] = {}
        self.requests: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(self.path)
                target = site.files.get(self.path.split("?")[0])
                if target is None or not target.is_file():
                    self.send_error(404)
                    return
                body = target.read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Site:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as s:
        yield s


def publish(site: Site, pages: Path, tgz: Path, created: int) -> ix.IndexResult:
    """What a release does: asset on the release URL, entry merged into the pages index."""
    package = read_archive(tgz)
    tag = f"v{package.version}"
    filename = f"{package.name}-{package.version}.tgz"
    base = f"{site.base}/releases/download/{tag}"
    site.files[f"/releases/download/{tag}/{filename}"] = tgz
    site.files["/index.yaml"] = pages / "index.yaml"
    result = ix.merge_index(pages, ix.index_entry(package.metadata, package.digest, created,
                                                  ix.join_url(base, filename)))
    result.write()
    return result


def test_helm_reads_the_index_and_pulls_each_version(site: Site, tmp_path: Path,
                                                     make_chart: ChartFactory) -> None:
    import helm_python

    pages = tmp_path / "pages"
    pages.mkdir()
    archives = {v: make_chart("ameide-operators", v, extra="keywords: ['on', operators]\n")
                for v in ["1.2.3", "1.3.0", "1.2.4"]}
    for i, (_, tgz) in enumerate(archives.items()):
        publish(site, pages, tgz, 1_700_000_000 + i * 60)

    index = helm_python.repo_index(site.base)

    assert index["apiVersion"] == "v1"
    entries = index["entries"]["ameide-operators"]
    assert [e["version"] for e in entries] == ["1.3.0", "1.2.4", "1.2.3"]
    for entry in entries:
        assert entry["digest"] == sha256_hex(archives[entry["version"]])
        assert entry["keywords"] == ["on", "operators"]

    for version, tgz in archives.items():
        dest = tmp_path / "pulled" / version
        dest.mkdir(parents=True)
        helm_python.pull("ameide-operators", repo_url=site.base, version=version,
                         destination=str(dest))
        pulled = dest / f"ameide-operators-{version}.tgz"
        assert pulled.read_bytes() == tgz.read_bytes()
        assert hashlib.sha256(pulled.read_bytes()).hexdigest() == sha256_hex(tgz)
    assert "/releases/download/v1.2.4/ameide-operators-1.2.4.tgz" in site.requests


def test_helm_pulls_the_newest_when_no_version_is_given(site: Site, tmp_path: Path,
                                                        make_chart: ChartFactory) -> None:
    import helm_python

    pages = tmp_path / "pages"
    pages.mkdir()
    for i, v in enumerate(["2.0.0", "2.1.0-rc.1", "1.9.0"]):
        publish(site, pages, make_chart("demo", v), 1_700_000_000 + i)

    dest = tmp_path / "pulled"
    dest.mkdir()
    helm_python.pull("demo", repo_url=site.base, destination=str(dest))

    assert [p.name for p in dest.iterdir()] == ["demo-2.0.0.tgz"]  # stable beats prerelease


def test_helm_renders_the_pulled_chart(site: Site, tmp_path: Path,
                                       make_chart: ChartFactory) -> None:
    import helm_python

    pages = tmp_path / "pages"
    pages.mkdir()
    publish(site, pages, make_chart("demo", "1.0.0"), 1_700_000_000)
    dest = tmp_path / "pulled"
    dest.mkdir()
    helm_python.pull("demo", repo_url=site.base, version="1.0.0", destination=str(dest))

    with helm_python.Chart.load(str(dest / "demo-1.0.0.tgz")) as chart:
        rendered = chart.render({"replicas": 3}, name="rel", namespace="ns")
    assert 'replicas: "3"' in rendered["demo/templates/cm.yaml"]


TRICKY = ["yes", "No", "on", "~", "null", "", "  lead", "a: b", "a #b", "#x", "- x", "1.2.3",
          "0x1F", "1:20", "2024-01-01", "=", "<<", "'q'", '"d"', "multi\nline", "tab\tx",
          "ünïcode", "emoji😀", "\\back", "%x", "!x", "&x", "*x", "|x", ">x", "{x}", "[x]",
          "trailing ", "http://h:80/p?q=1#f", "1e3", "0o17", ".inf", "NaN", "Y"]


def test_helm_reads_back_every_string_as_written(site: Site, tmp_path: Path) -> None:
    """Our YAML writer against Helm's YAML 1.1 reader: no string turns into something else."""
    import helm_python

    pages = tmp_path / "pages"
    pages.mkdir()
    site.files["/index.yaml"] = pages / "index.yaml"
    metadata = {"apiVersion": "v2", "name": "demo", "version": "1.0.0", "appVersion": "010",
                "description": "line one\nline two: with colon # and hash",
                "keywords": [t for t in TRICKY if t],
                "annotations": {f"k{i}": t for i, t in enumerate(TRICKY)}}
    ix.merge_index(pages, ix.index_entry(metadata, "ab" * 32, 1_700_000_000,
                                         f"{site.base}/demo-1.0.0.tgz")).write()

    [entry] = helm_python.repo_index(site.base)["entries"]["demo"]

    # Helm's Metadata.Validate turns whitespace in keywords/description into spaces; the
    # annotations it leaves alone.
    def sanitized(text: str) -> str:
        return "".join(" " if c.isspace() else c for c in text)

    assert entry["keywords"] == [sanitized(k) for k in metadata["keywords"]]
    assert entry["annotations"] == metadata["annotations"]
    assert entry["description"] == "line one line two: with colon # and hash"
    assert entry["appVersion"] == "010" and entry["version"] == "1.0.0"
    assert entry["digest"] == "ab" * 32
