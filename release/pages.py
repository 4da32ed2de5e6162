"""`index.html` beside a Helm repository's `index.yaml`: the page a person reads before installing.

`index.yaml` is for Helm; people landing on the gh-pages URL get a 404 or raw YAML. This page is
generated from the same index (so it can never disagree with it): every chart, its versions
newest first with date, app version, archive digest, pre-release and deprecation marks, a link
to each GitHub release, and commands to copy: `helm install` the OCI way and (when the
`helm-repo-url` setting names one) the repository way, `cosign verify` (keyless: the certificate
identity is this repository's release workflow at that very tag, issuer GitHub Actions) and
`gh attestation verify`.

The page is static: no JavaScript (its Content-Security-Policy allows none, and only the one
inline stylesheet, by hash), no external requests, CSS that turns the table into cards on a
phone. Everything taken from the index is hostile until proven otherwise: all text is
HTML-escaped, a command is only offered for a chart name and a version that pass Helm's and
SemVer's grammar (so nothing copied can smuggle a shell command), only https links are linked,
and long texts and huge indexes are cut. Same index and settings, same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from release import limits
from release.errors import BadInput
from release.files import atomic_write
from release.ghactions import signing_identity_regexp
from release.index import sort_versions
from release.oci.reference import split_registry
from release.render import shorten, web_url
from release.version import SEMVER_RE, tag_name

if TYPE_CHECKING:
    from release.config import Settings

PAGE_FILE = "index.html"
ISSUER = "https://token.actions.githubusercontent.com"

_INDEX_LINK = '<a href="index.yaml">index.yaml</a>'
_CHART_NAME = re.compile(r"[a-z0-9]+(?:[._-][a-z0-9]+)*")
_RE2_SPECIAL = re.compile(r"([\\.+*?()|\[\]{}^$])")
_ID_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

_CSS = """
:root { color-scheme: light dark; --fg: #1f2328; --bg: #fff; --muted: #59636e; --line: #d1d9e0;
  --code: #f6f8fa; --pre: #9a6700; --dep: #cf222e; --link: #0969da; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1;
  --line: #3d444d; --code: #161b22; --pre: #d29922; --dep: #f85149; --link: #4493f8; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 72rem; padding: 1rem; font: 16px/1.5 system-ui, sans-serif;
  color: var(--fg); background: var(--bg); }
a { color: var(--link); }
h1 { font-size: 1.6rem; margin: .5rem 0; overflow-wrap: anywhere; }
h2 { font-size: 1.35rem; margin-top: 2rem; border-bottom: 1px solid var(--line);
  overflow-wrap: anywhere; }
h3 { font-size: 1.1rem; margin-bottom: .25rem; }
p, li { overflow-wrap: anywhere; }
.muted { color: var(--muted); }
pre { background: var(--code); border: 1px solid var(--line); border-radius: 6px; padding: .6rem;
  margin: .25rem 0 .75rem; white-space: pre-wrap; overflow-wrap: anywhere; }
code { font: .875rem/1.45 ui-monospace, monospace; }
pre code { user-select: all; }
.badge { display: inline-block; font-size: .75rem; padding: 0 .45rem; border-radius: 1rem;
  border: 1px solid currentColor; margin-left: .35rem; white-space: nowrap; }
.pre { color: var(--pre); }
.dep { color: var(--dep); }
.banner { border: 1px solid var(--dep); color: var(--dep); border-radius: 6px; padding: .5rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .4rem .5rem 0; }
thead th, tbody.version tr.cmds td { padding-bottom: .4rem; border-bottom: 1px solid var(--line); }
th, time { white-space: nowrap; }
td.digest code { overflow-wrap: anywhere; font-size: .75rem; }
summary { cursor: pointer; color: var(--link); }
details pre { font-size: .8rem; }
@media (max-width: 48rem) {
  table, thead, tbody, tr, td { display: block; }
  thead { position: absolute; left: -9999px; }
  tbody.version { border: 1px solid var(--line); border-radius: 6px; margin-bottom: .75rem;
    padding: .3rem 0; }
  td, tbody.version tr.cmds td { border: 0; padding: .2rem .6rem; }
  td[data-label]::before { content: attr(data-label) ": "; color: var(--muted); }
}
""".strip()
_CSS_HASH = base64.b64encode(hashlib.sha256(_CSS.encode("utf-8")).digest()).decode("ascii")
CSP = (f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; img-src 'none'; "
       "base-uri 'none'; form-action 'none'")


def _e(value: Any, limit: int = limits.PAGE_FIELD_MAX) -> str:
    """Escaped, one line, at most `limit` characters: safe as element text and attribute."""
    return html.escape(shorten(str(value), limit), quote=True)


def _https(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith("https://") and len(value) <= 2000 \
            and not any(c.isspace() for c in value):
        return value
    return None


def _date(value: Any) -> tuple[str, str] | None:
    """(machine, shown) dates of an RFC 3339 `created`, or None."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    when = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ"), when.strftime("%Y-%m-%d")


class _Page:
    """What every chart section shares: the settings, resolved once."""

    def __init__(self, settings: Settings) -> None:
        host, namespace = split_registry(settings.registry)
        self.oci_base = f"{host}/{namespace}" if namespace else host
        self.repo_web = web_url(settings)
        self.github_repository = settings.github_repository
        self.tag_prefix = settings.tag_prefix
        # `helm-repo-url` (https, checked by release.config); empty: no Helm repository
        self.repository_url = str(settings["helm-repo-url"]).rstrip("/")
        self.alias = settings.github_repository.rsplit("/", 1)[-1].lower()
        self.identity = signing_identity_regexp(self.repo_web, list(settings["release-branches"]))

    def commands(self, name: str, version: str) -> dict[str, str]:
        """The copyable commands for one chart version; name and version already checked. The
        Helm repository way only when there is one."""
        oci_ref = f"{self.oci_base}/{name}"
        oci_tag = version.replace("+", "_")  # Helm's OCI tags cannot hold "+"
        q = shlex.quote
        cmds = {"oci": f"helm install {q(name)} {q('oci://' + oci_ref)} --version {q(version)}"}
        if self.repository_url:
            cmds["repo"] = (
                f"helm repo add {q(self.alias)} {q(self.repository_url)}\n"
                f"helm repo update {q(self.alias)}\n"
                f"helm install {q(name)} {q(self.alias + '/' + name)} --version {q(version)}")
        cmds["cosign"] = (f"cosign verify {q(oci_ref + ':' + oci_tag)} \\\n"
                          f"  --certificate-identity-regexp {q(self.identity)} \\\n"
                          f"  --certificate-oidc-issuer {ISSUER}")
        cmds["attestation"] = (f"gh attestation verify {q('oci://' + oci_ref + ':' + oci_tag)} "
                               f"-R {q(self.github_repository)}")
        return cmds

    def release_url(self, version: str) -> str | None:
        m = SEMVER_RE.fullmatch(version)
        if m is None or m.group(5):  # release tags carry no build metadata
            return None
        return f"{self.repo_web}/releases/tag/{quote(tag_name(version, self.tag_prefix), safe='')}"


def _blocks(cmds: Mapping[str, str], heading: str) -> list[str]:
    labels = (("oci", "From the OCI registry (Helm 3.8+)"), ("repo", "From the Helm repository"),
              ("cosign", "Check the keyless cosign signature"),
              ("attestation", "Check the build provenance attestation"))
    out = [heading] if heading else []
    for key, label in labels:
        if key not in cmds:
            continue
        out.append(f'<p class="muted">{label}:</p>')
        out.append(f'<pre class="cmd-{key}"><code>{html.escape(cmds[key])}</code></pre>')
    return out


def _installable(name: str, version: Any) -> str | None:
    """The version when a command may be offered for it: a Helm chart name and strict SemVer,
    nothing a shell could read as anything else."""
    if (_CHART_NAME.fullmatch(name) is not None and len(name) <= 250
            and isinstance(version, str) and len(version) <= 128
            and SEMVER_RE.fullmatch(version) is not None):
        return version
    return None


def _row(page: _Page, name: str, entry: Mapping[str, Any], chart_description: str) -> str:
    raw = entry.get("version")
    shown = _e(raw if raw is not None else "?", 128)
    version = _installable(name, raw)
    release = page.release_url(version) if version else None
    cell = f'<a href="{html.escape(release)}">{shown}</a>' if release else shown
    prerelease = version is not None and "-" in version.split("+", 1)[0]
    if prerelease:
        cell += '<span class="badge pre">pre-release</span>'
    if entry.get("deprecated") is True:
        cell += '<span class="badge dep">deprecated</span>'
    description = entry.get("description")
    if isinstance(description, str) and description and description != chart_description:
        cell += f'<div class="muted vdesc">{_e(description, limits.PAGE_DESCRIPTION_MAX)}</div>'
    app = entry.get("appVersion")
    date = _date(entry.get("created"))
    digest = entry.get("digest")
    classes = " ".join(c for c, on in (("version", True), ("prerelease", prerelease),
                                       ("deprecated", entry.get("deprecated") is True)) if on)
    anchor = _ID_UNSAFE.sub("-", f"{name}-{raw}")[:200]
    tds = [
        f'<td data-label="Version">{cell}</td>',
        f'<td data-label="App version">{_e(app) if app is not None else "—"}</td>',
        (f'<td data-label="Date"><time datetime="{date[0]}">{date[1]}</time></td>' if date
         else '<td data-label="Date">—</td>'),
        f'<td class="digest" data-label="sha256"><code>{_e(digest, 80) if digest else "—"}'
        "</code></td>",
    ]
    if version is not None:
        inner = "".join(_blocks(page.commands(name, version), ""))
        cmds = f"<details><summary>Install and verify {shown}</summary>{inner}</details>"
    else:
        cmds = '<span class="muted">no commands: the version is not SemVer</span>'
    # one tbody per version: a row of facts, then the commands across the whole width
    return (f'<tbody id="v-{html.escape(anchor)}" class="{classes}"><tr>{"".join(tds)}</tr>'
            f'<tr class="cmds"><td colspan="4">{cmds}</td></tr></tbody>')


def _latest(versions: Sequence[Mapping[str, Any]], name: str) -> Mapping[str, Any] | None:
    """The newest final version with a valid name and version, else the newest valid one."""
    valid = [v for v in versions if _installable(name, v.get("version"))]
    finals = [v for v in valid if "-" not in str(v.get("version")).split("+", 1)[0]]
    chosen = finals or valid
    return chosen[0] if chosen else None


def _chart(page: _Page, name: str, versions: Sequence[Any], room: int) -> tuple[list[str], int]:
    """The chart's section, with at most `room - 1` version rows (the section counts as one:
    see limits.PAGE_ROWS_MAX), and the rows it used."""
    ordered = sort_versions([v for v in versions if isinstance(v, Mapping)])
    newest = ordered[0] if ordered else {}
    found = newest.get("description")
    description = found if isinstance(found, str) else ""
    out = [f'<section class="chart" id="chart-{html.escape(_ID_UNSAFE.sub("-", name)[:200])}">',
           f"<h2>{_e(name)}</h2>"]
    if description:
        out.append(f'<p class="description">{_e(description, limits.PAGE_DESCRIPTION_MAX)}</p>')
    links = [(label, _https(url)) for label, url in (
        ("Home", newest.get("home")),
        ("Source", (newest.get("sources") or [None])[0]
         if isinstance(newest.get("sources"), list) else None))]
    shown_links = [f'<a href="{html.escape(url)}">{label}</a>' for label, url in links if url]
    if shown_links:
        out.append(f"<p>{' · '.join(shown_links)}</p>")
    if newest.get("deprecated") is True:
        out.append('<p class="banner">This chart is deprecated: its newest version is marked '
                   "deprecated.</p>")
    latest = _latest(ordered, name)
    if latest is not None:
        version = str(latest["version"])
        out.extend(_blocks(page.commands(name, version),
                           f"<h3>Install {_e(version, 128)}</h3>"))
    else:
        out.append('<p class="muted">No version of this chart has a valid name and SemVer '
                   "version, so no commands are shown.</p>")
    rows = ordered[:max(room - 1, 0)]
    out.append(f"<h3>Versions ({len(ordered)})</h3>")
    out.append('<table class="versions"><thead><tr><th>Version</th><th>App version</th>'
               "<th>Date</th><th>Archive sha256</th></tr></thead>")
    out.extend(_row(page, name, entry, description) for entry in rows)
    out.append("</table>")
    if len(ordered) > len(rows):
        out.append(f'<p class="muted">{len(ordered) - len(rows)} older versions are not listed; '
                   f"{_INDEX_LINK} has them all.</p>")
    out.append("</section>")
    return out, 1 + len(rows)


def render_index_html(index: Mapping[str, Any], settings: Settings) -> str:
    """The page for a parsed index (`release.index.parse_index`/`load_index`): the Helm
    repository way of installing is offered for the `helm-repo-url` setting (none when it is
    empty); the cosign command names the identity the release workflows sign with."""
    page = _Page(settings)
    entries = index.get("entries")
    charts = sorted((str(k), v) for k, v in entries.items()) if isinstance(entries, Mapping) else []
    title = f"Helm charts of {settings.github_repository}"
    generated = _date(index.get("generated"))
    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        f"<title>{_e(title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{_e(title)}</h1>",
        '<p class="muted">'
        + (f"Helm repository <code>{_e(page.repository_url)}</code> · "
           if page.repository_url else "")
        + f'<a href="{html.escape(page.repo_web)}">source on GitHub</a>'
        + (f' · index updated <time datetime="{generated[0]}">{generated[1]}</time>'
           if generated else "") + "</p>",
        "</header>",
        "<main>",
    ]
    if not charts:
        out.append("<p>No chart has been published here yet.</p>")
    room = limits.PAGE_ROWS_MAX  # one budget for the page: a huge index gives a bounded page
    for shown, (name, versions) in enumerate(charts):
        if room <= 0:
            out.append(f'<p class="muted">{len(charts) - shown} more charts are not shown; '
                       f"{_INDEX_LINK} lists them all.</p>")
            break
        section, used = _chart(page, name, versions if isinstance(versions, list) else [], room)
        out.extend(section)
        room -= used
    out += [
        "</main>",
        '<footer class="muted"><p>Generated from index.yaml by ameide-release. Signatures are '
        "keyless (Sigstore): the identity is this repository's release workflow at the "
        "version's tag.</p></footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class WrittenPage:
    path: Path
    changed: bool  # False: the file already held these bytes and was left alone


def write_index_html(index_dir: Path, page: str) -> WrittenPage:
    """`page` (`render_index_html`) as `<index_dir>/index.html`, written atomically and only
    when its bytes differ (whatever the file held before, UTF-8 or not)."""
    if not index_dir.is_dir():
        raise BadInput(f"index directory {index_dir} does not exist",
                       "check out the gh-pages branch there first")
    path = index_dir / PAGE_FILE
    data = page.encode("utf-8")
    # a file of another size differs: it is not read at all (it may be huge)
    same = (path.is_file() and not path.is_symlink() and path.stat().st_size == len(data)
            and path.read_bytes() == data)
    if not same:
        atomic_write(path, data)
    return WrittenPage(path, not same)
