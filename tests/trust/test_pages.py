"""index.html for people, generated from the Helm repository's index.yaml.

Unit tests check the exact commands and links and the escaping; the browser test renders a
500-version page in Debian's headless Chromium (one start), reads the DOM and the layout at
desktop and phone widths, and keeps screenshots (in $PAGES_SCREENSHOTS when set) to look at.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from release.config import Settings, load_settings
from release.errors import BadInput
from release.index import dump_index, load_index, new_index, parse_index
from release.pages import CSP, render_index_html, write_index_html
from tests.trust.browser import Browser

HOSTILE = "<script>window.__pwned = 1; document.title = 'pwned'</script>" \
          "<img src=x onerror=\"window.__pwned = 2\">"
IDENTITY = (r"^https://github\.com/ameideio/ameide-core/\.github/workflows/"
            r"(release\.yml|release-pr\.yml)@refs/(tags/.+|heads/(main|release-.*))$")


def settings(tmp_path: Path, **flags: str) -> Settings:
    return load_settings(tmp_path, {"github-repository": "ameideio/ameide-core",
                                    "registry": "oci://ghcr.io/ameideio/charts", **flags},
                         environ={})


def entry(version: str, i: int = 0, **extra: Any) -> dict[str, Any]:
    return {"apiVersion": "v2", "name": "ameide-operators", "version": version,
            "appVersion": version, "description": "The AMEIDE operators.",
            "created": f"2025-{1 + i // 28 % 12:02d}-{1 + i % 28:02d}T10:00:00Z",
            "digest": f"{i:064x}", "urls": [f"https://x/ameide-operators-{version}.tgz"], **extra}


def index_of(entries: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Through the real writer and parser, as the page generator meets it on gh-pages."""
    data = new_index()
    data["entries"] = entries
    data["generated"] = "2025-06-01T00:00:00Z"
    return parse_index(dump_index(data).decode())


def big_index() -> dict[str, Any]:
    versions = []
    for i in range(500):
        version = f"1.{i // 10}.{i % 10}" + ("-rc.1" if i % 7 == 3 else "")
        extra: dict[str, Any] = {}
        if i == 250:
            extra["description"] = HOSTILE
        if i == 100:
            extra["deprecated"] = True
        versions.append(entry(version, i, **extra))
    versions.reverse()  # the page sorts, not the input
    return index_of({"ameide-operators": versions})


def test_commands_links_and_marks(tmp_path: Path) -> None:
    page = render_index_html(index_of({"ameide-operators": [
        entry("1.0.0", 1), entry("1.1.0-rc.1", 2), entry("0.9.0", 0, deprecated=True)]}),
        settings(tmp_path))
    # the install section names the newest final version
    assert ("<h3>Install 1.0.0</h3>" in page)
    for command in (
        "helm install ameide-operators oci://ghcr.io/ameideio/charts/ameide-operators "
        "--version 1.0.0",
        "helm repo add ameide-core https://ameideio.github.io/ameide-core\n"
        "helm repo update ameide-core\n"
        "helm install ameide-operators ameide-core/ameide-operators --version 1.1.0-rc.1",
        "cosign verify ghcr.io/ameideio/charts/ameide-operators:1.1.0-rc.1 \\\n"
        "  --certificate-identity-regexp '" + IDENTITY + "' \\\n"
        "  --certificate-oidc-issuer https://token.actions.githubusercontent.com",
        "gh attestation verify oci://ghcr.io/ameideio/charts/ameide-operators:0.9.0 "
        "-R ameideio/ameide-core",
    ):
        assert html.escape(command) in page
    assert '<a href="https://github.com/ameideio/ameide-core/releases/tag/v1.1.0-rc.1">' \
           "1.1.0-rc.1</a>" in page
    rows = re.findall(r'<tbody id="v-ameide-operators-([^"]+)" class="([^"]+)"', page)
    assert rows == [("1.1.0-rc.1", "version prerelease"), ("1.0.0", "version"),
                    ("0.9.0", "version deprecated")]
    assert '<time datetime="2025-01-03T10:00:00Z">2025-01-03</time>' in page
    assert f"<code>{2:064x}</code>" in page
    assert f'content="{CSP}"' in page and "script-src" not in CSP


def test_same_index_same_bytes_and_atomic_write(tmp_path: Path) -> None:
    s = settings(tmp_path)
    index_dir = tmp_path / "gh-pages"
    index_dir.mkdir()
    (index_dir / "index.yaml").write_bytes(dump_index(big_index()))
    (index_dir / "index.html").write_text("old page", encoding="utf-8")
    (index_dir / "index.html").chmod(0o640)
    written = write_index_html(index_dir, render_index_html(
        load_index(index_dir / "index.yaml"), s))
    path = written.path
    assert path == index_dir / "index.html" and written.changed
    assert path.read_text(encoding="utf-8") == render_index_html(big_index(), s)
    assert path.stat().st_mode & 0o777 == 0o640  # atomic_write keeps the mode
    assert sorted(p.name for p in index_dir.iterdir()) == ["index.html", "index.yaml"]
    before = path.stat().st_mtime_ns
    assert not write_index_html(index_dir, render_index_html(big_index(), s)).changed
    assert path.stat().st_mtime_ns == before
    with pytest.raises(BadInput, match="does not exist"):
        write_index_html(tmp_path / "missing", "page")


def test_hostile_metadata_is_text_and_gets_no_commands(tmp_path: Path) -> None:
    evil_name = '<b onmouseover="x()">evil</b>'
    page = render_index_html(index_of({
        "ameide-operators": [entry("1.0.0", 0, appVersion='"><script>x()</script>',
                                   description=HOSTILE),
                             entry("1.0.1; rm -rf ~", 1),
                             entry("2.0.0", 2, created="yesterday", home="javascript:alert(1)",
                                   sources=["https://ok.example/src"])],
        evil_name: [entry("1.0.0", 3)]}), settings(tmp_path))
    assert "<script" not in page.lower().replace("&lt;script", "")
    assert "<img" not in page and "<b " not in page
    assert html.escape(HOSTILE) in page
    assert "javascript:" not in page
    assert '<a href="https://ok.example/src">Source</a>' in page
    assert "1.0.1; rm -rf ~" in page
    assert "--version '1.0.1" not in page and "--version 1.0.1" not in page
    assert page.count("no commands: the version is not SemVer") == 2  # bad version, bad name
    assert '<td data-label="Date">—</td>' in page


def test_repository_url(tmp_path: Path) -> None:
    """The page offers `helm repo add` for the helm-repo-url setting (`release.config` derives
    its default and requires https), and nothing of the kind when it is empty."""
    assert settings(tmp_path)["helm-repo-url"] == "https://ameideio.github.io/ameide-core"
    assert settings(tmp_path, **{"github-repository": "Org/org.github.io"})["helm-repo-url"] \
        == "https://org.github.io"
    ghes = settings(tmp_path, **{"github-api": "https://ghe.example.com/api/v3"})
    page = html.unescape(render_index_html(index_of({"c": [entry("1.0.0")]}), ghes))
    assert "helm repo add" not in page and "Helm repository" not in page
    assert 'class="cmd-repo"' not in page and "From the Helm repository" not in page
    assert "helm install c oci://ghcr.io/ameideio/charts/c --version 1.0.0" in page
    assert "^https://ghe\\.example\\.com/ameideio/ameide-core/\\.github" in page
    served = settings(tmp_path, **{"github-api": "https://ghe.example.com/api/v3",
                                   "helm-repo-url": "https://charts.example.com/"})
    page = html.unescape(render_index_html(index_of({"c": [entry("1.0.0")]}), served))
    assert "helm repo add ameide-core https://charts.example.com\n" in page
    with pytest.raises(BadInput, match="plain HTTP"):
        settings(tmp_path, **{"helm-repo-url": "http://charts.example.com"})
    assert "No chart has been published here yet." in render_index_html(new_index(),
                                                                       settings(tmp_path))
    # the helm-repo-url setting names where the repository is served
    custom = settings(tmp_path, **{"helm-repo-url": "https://charts.example.org/ameide"})
    assert "helm repo add ameide-core https://charts.example.org/ameide\n" in html.unescape(
        render_index_html(index_of({"c": [entry("1.0.0")]}), custom))


# --- in a real browser -----------------------------------------------------------------------

PROBE = """JSON.stringify((() => {
  const rows = [...document.querySelectorAll('table.versions tbody.version')];
  return {
    pwned: window.__pwned === undefined ? null : window.__pwned,
    title: document.title,
    scripts: document.scripts.length,
    images: document.images.length,
    rows: rows.length,
    firstVersions: rows.slice(0, 3).map(r => r.rows[0].cells[0].querySelector('a').textContent),
    preRows: document.querySelectorAll('tbody.prerelease').length,
    preBadges: document.querySelectorAll('tbody.prerelease .badge.pre').length,
    deprecated: [...document.querySelectorAll('tbody.deprecated')].map(r => r.id),
    hostile: [...document.querySelectorAll('.vdesc')].map(d => d.textContent),
    links: rows.filter(r => r.rows[0].cells[0].querySelector(
      'a[href^="https://github.com/ameideio/ameide-core/releases/tag/v"]')).length,
    commandRows: rows.filter(r => r.querySelector('tr.cmds details pre.cmd-cosign')).length,
    install: document.querySelector('pre.cmd-oci code').textContent,
    detailsOpen: document.querySelectorAll('details[open]').length,
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    rowDisplay: getComputedStyle(rows[0].rows[0]).display,
    cardBorder: getComputedStyle(rows[0]).borderTopStyle,
    bodyFont: parseFloat(getComputedStyle(document.body).fontSize),
    selectAll: getComputedStyle(document.querySelector('pre code')).userSelect,
  };
})())"""


def test_page_renders_in_headless_chromium(tmp_path: Path) -> None:
    page = tmp_path / "site" / "index.html"
    page.parent.mkdir()
    page.write_text(render_index_html(big_index(), settings(tmp_path)), encoding="utf-8")
    browser = Browser(tmp_path / "profile")
    try:
        browser.open(page.as_uri(), 1280, 900, mobile=False)
        desktop = json.loads(browser.evaluate(PROBE))
        shots = [browser.screenshot(tmp_path / "desktop.png")]
        browser.viewport(390, 844, mobile=True)
        phone = json.loads(browser.evaluate(PROBE))
        shots.append(browser.screenshot(tmp_path / "phone.png"))
    finally:
        browser.close()
    keep = os.environ.get("PAGES_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for shot in shots:
            shutil.copy(shot, keep)

    assert desktop["pwned"] is None and desktop["title"] == "Helm charts of ameideio/ameide-core"
    assert desktop["scripts"] == 0 and desktop["images"] == 0
    assert desktop["hostile"] == [HOSTILE]  # shown as text, exactly
    assert desktop["rows"] == desktop["links"] == desktop["commandRows"] == 500
    assert desktop["firstVersions"] == ["1.49.9", "1.49.8", "1.49.7"]
    assert desktop["preRows"] == desktop["preBadges"] == len([i for i in range(500) if i % 7 == 3])
    assert desktop["deprecated"] == ["v-ameide-operators-1.10.0"]
    assert desktop["install"] == ("helm install ameide-operators "
                                  "oci://ghcr.io/ameideio/charts/ameide-operators --version 1.49.9")
    assert desktop["detailsOpen"] == 0
    assert desktop["rowDisplay"] == "table-row"
    assert desktop["scrollWidth"] <= desktop["innerWidth"] == 1280
    # a phone: cards instead of a table, nothing wider than the screen, text stays readable
    assert phone["innerWidth"] == 390 and phone["scrollWidth"] <= 390
    assert phone["rowDisplay"] == "block" and phone["cardBorder"] == "solid"
    assert phone["bodyFont"] >= 16
    assert phone["selectAll"] == "all"
    for shot in shots:
        assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000


def test_a_huge_index_gives_a_bounded_page(tmp_path: Path) -> None:
    """One budget of rows for the whole page (limits.PAGE_ROWS_MAX: a chart's section counts
    as one, each version as one): what does not fit is counted and left to index.yaml."""
    from release import limits

    n = limits.PAGE_ROWS_MAX
    index = index_of({f"c{c}": [entry(f"1.{i // 100}.{i % 100}", i) for i in range(n + 5)]
                      for c in range(3)})
    index["entries"].update({f"z{c}": [entry("1.0.0")] for c in range(n)})
    page = render_index_html(index, settings(tmp_path))
    rows = page.count('<tbody id="v-')
    sections = page.count('<section class="chart"')
    assert rows + sections == n and sections == 1  # c0's section and its newest versions
    assert "6 older versions are not listed" in page  # n + 5 versions, n - 1 rows
    assert f"{2 + n} more charts are not shown" in page
    assert page.count('<a href="index.yaml">index.yaml</a>') == 2
    assert len(page) < 2_500 * n  # bytes: a row with its commands is about 2 KB
