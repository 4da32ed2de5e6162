"""Effective settings: built-in defaults < `[tool.ameide-release]` < `AMEIDE_RELEASE_*` < flags.

Each value remembers where it came from, so `ameide-release config` can say why a value is what it
is. Unknown keys are errors: a misspelt key silently ignored would publish to the wrong place.
Every rule a value must follow is checked here, once, whatever layer it came from: URLs are
http(s) (plain HTTP only to loopback where a token goes) and never carry credentials — a
`user:token@` in a URL would be echoed by `config`, by error messages and into release notes —,
the repository is `owner/name`, the tag prefix cannot be read by git as an option.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

from release import limits
from release.errors import BadInput

ENV_PREFIX = "AMEIDE_RELEASE_"

# key -> default. Lists are comma-separated in the environment; booleans are true/false
# (TOML booleans in pyproject.toml, the words "true" and "false" in the environment and flags).
DEFAULTS: dict[str, Any] = {
    "chart": "chart",
    "registry": "oci://ghcr.io/ameideio/charts",
    "github-repository": "ameideio/ameide-core",
    "github-api": "https://api.github.com",
    "tag-prefix": "v",
    "changelog": "CHANGELOG.md",
    "notes-paths": ["chart/"],
    "non-conventional": "other",
    "templates": "",
    "helm-repo-url": "",  # default: github_pages_url(), see _check_rules
    "release-branches": ["main", "release-*"],
    "release-pr-branch": "release/next",
    "dev-registry": "oci://ghcr.io/ameideio/charts-dev",
    "mentions": "keep",
    "contributors": "humans",
    # "type: Title" in display order; "a+b: Title" shares a section; "breaking" (always first)
    # only renames its section; "*" = every type not listed (one section each, or one titled
    # section); "other" = non-conventional commits. A type not listed (and no "*") is hidden.
    "sections": ["breaking: Breaking changes", "feat: Features", "fix: Bug fixes",
                 "perf: Performance", "revert: Reverts", "refactor: Refactoring",
                 "docs: Documentation", "build: Build", "ci: Continuous integration",
                 "test: Tests", "style: Style", "chore: Chores", "*", "other: Other"],
    # "label: section" — with --github, a pull request carrying the label goes to that section.
    "label-sections": [],
    "expect-public": False,
}

CHOICES: dict[str, tuple[str, ...]] = {"non-conventional": ("other", "drop"),
                                       "mentions": ("keep", "code"),
                                       "contributors": ("humans", "all", "none")}
MAX_SECTIONS = 64
_SECTION = re.compile(r"(\*|[a-z][a-z0-9-]*(?:\+[a-z][a-z0-9-]*)*)(?:: *(\S.{0,79}))?")


class Settings:
    """The effective configuration of one run, rooted at the project directory. Immutable: one
    object is shared by every step. (A plain class: defining a dataclass costs every start, see
    `release.notes.ReleaseTag`.)"""

    __slots__ = ("root", "sources", "values")
    root: Path
    values: Mapping[str, Any]
    sources: Mapping[str, str]  # key → where its value came from; "default" when absent

    def __init__(self, root: Path, values: Mapping[str, Any],
                 sources: Mapping[str, str] | None = None) -> None:
        for name, value in (("root", root), ("values", values), ("sources", sources or {})):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"settings are immutable: {name} cannot be set")

    def __repr__(self) -> str:
        return f"Settings(root={self.root!r}, values={dict(self.values)!r})"

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def chart_dir(self) -> Path:
        return (self.root / str(self.values["chart"])).resolve()

    @property
    def changelog_path(self) -> Path:
        return self.root / str(self.values["changelog"])

    @property
    def tag_prefix(self) -> str:
        return str(self.values["tag-prefix"])

    @property
    def registry(self) -> str:
        return str(self.values["registry"])

    @property
    def github_repository(self) -> str:
        return str(self.values["github-repository"])

    @property
    def expect_public(self) -> bool:
        return bool(self.values["expect-public"])

    @property
    def github_api(self) -> str:
        return str(self.values["github-api"]).rstrip("/")

    def describe(self) -> list[tuple[str, Any, str]]:
        """(key, value, source) rows in a stable order."""
        return [(k, self.values[k], self.sources.get(k, "default")) for k in DEFAULTS]


def env_name(key: str) -> str:
    return ENV_PREFIX + key.upper().replace("-", "_")


def _coerce(key: str, value: Any, origin: str) -> Any:
    default = DEFAULTS[key]
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        shown = value[:20] if isinstance(value, str) else type(value).__name__
        raise BadInput(f"{origin}: '{key}' must be true or false, got {shown!r}",
                       f"write it as {key} = true in pyproject.toml, or true/false in the "
                       "environment and on the command line")
    if isinstance(default, list):
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise BadInput(
                f"{origin}: '{key}' must be a list of strings",
                'write it as ["a", "b"] in pyproject.toml or a,b in the environment',
            )
        return value
    if not isinstance(value, str):
        raise BadInput(f"{origin}: '{key}' must be a string, got {type(value).__name__}",
                       f'write it as {key} = "..."')
    if key in CHOICES and value not in CHOICES[key]:
        raise BadInput(f"{origin}: '{key}' is '{value}'",
                       f"use one of: {', '.join(CHOICES[key])}")
    return value


def read_pyproject(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    import tomllib  # here: 10 ms of start-up a project without pyproject.toml does not pay

    from release.yamlread import read_text_file

    text = read_text_file(path, "pyproject.toml", max_bytes=limits.YAML_DOCUMENT_MAX)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadInput(f"{path} is not valid TOML ({exc})", "fix the file's syntax") from None
    tool = data.get("tool", {})
    section = tool.get("ameide-release", {}) if isinstance(tool, dict) else None
    if not isinstance(section, dict):
        raise BadInput(f"{path}: [tool.ameide-release] must be a table", "see README 'Configuration'")
    return section


def load_settings(
    root: Path | str = ".",
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Merge the layers; flags whose value is None are treated as not given."""
    root = Path(root).resolve()
    environ = os.environ if environ is None else environ
    values = dict(DEFAULTS)
    sources = dict.fromkeys(DEFAULTS, "default")

    for key, value in read_pyproject(root).items():
        if key not in DEFAULTS:
            raise BadInput(
                f"unknown key '{key}' in [tool.ameide-release] of {root / 'pyproject.toml'}",
                f"remove it or use one of: {', '.join(DEFAULTS)}",
            )
        values[key] = _coerce(key, value, "pyproject.toml")
        sources[key] = "pyproject.toml"

    known_env = {env_name(k): k for k in DEFAULTS}
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in IGNORED_ENV:
            continue
        if name not in known_env:
            raise BadInput(f"unknown environment variable {name}",
                           f"unset it or use one of: {', '.join(known_env)}")
        key = known_env[name]
        values[key] = _coerce(key, value, name)
        sources[key] = f"env {name}"

    for key, value in (flags or {}).items():
        if value is None:
            continue
        if key not in DEFAULTS:
            raise BadInput(f"unknown setting '{key}'", f"use one of: {', '.join(DEFAULTS)}")
        values[key] = _coerce(key, value, f"--{key}")
        sources[key] = f"flag --{key}"

    _check_rules(values, sources)
    check_sections(values["sections"], values["label-sections"])
    return Settings(root=root, values=values, sources=sources)


def parse_sections(entries: list[str]) -> list[tuple[tuple[str, ...], str | None]]:
    """`sections` entries → (types, title or None) in order; raises BadInput on a bad entry."""
    out: list[tuple[tuple[str, ...], str | None]] = []
    seen: set[str] = set()
    if len(entries) > MAX_SECTIONS:
        raise BadInput(f"'sections' has {len(entries)} entries", f"keep at most {MAX_SECTIONS}")
    for entry in entries:
        m = _SECTION.fullmatch(entry.strip())
        if m is None:
            raise BadInput(f"'sections' entry {entry!r} is not 'type: Title'",
                           'write e.g. "feat: Features", "refactor+style: Internals" or "*"')
        types = tuple(m.group(1).split("+"))
        if seen & set(types):
            raise BadInput(f"'sections' lists {', '.join(sorted(seen & set(types)))} twice",
                           "give each type one section")
        if "breaking" in types and (len(types) > 1 or out):
            raise BadInput("'sections': breaking must be first and alone",
                           'write "breaking: Title" as the first entry, or leave it out')
        seen.update(types)
        out.append((types, m.group(2)))
    return out


def parse_label_sections(entries: list[str]) -> list[tuple[str, str]]:
    """`label-sections` entries ("label: section") → (label, section type) pairs. The label is
    what precedes the last colon, so labels such as "type: bug" work."""
    out: list[tuple[str, str]] = []
    for entry in entries:
        label, sep, key = entry.rpartition(":")
        if not sep or not label.strip() or not key.strip():
            raise BadInput(f"'label-sections' entry {entry!r} is not 'label: section'",
                           'write e.g. "security: fix" (the section is a type from sections)')
        out.append((label.strip(), key.strip()))
    return out


def check_sections(sections: list[str], label_sections: list[str]) -> None:
    listed = {t for types, _ in parse_sections(sections) for t in types}
    for label, key in parse_label_sections(label_sections):
        if key not in listed or key in ("*", "breaking"):
            raise BadInput(f"'label-sections' sends {label!r} to {key!r}, which 'sections' "
                           "does not list", "use a type listed in sections (not * or breaking)")


# Variables under our prefix that are not settings (behaviour switches read elsewhere).
IGNORED_ENV = frozenset({ENV_PREFIX + "DEBUG"})


_OWNER_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}")
_REGISTRY_CREDENTIALS = ("put registry credentials in AMEIDE_REGISTRY_USERNAME/"
                         "AMEIDE_REGISTRY_PASSWORD, --username/--password-stdin or `helm "
                         "registry login`")
_CREDENTIALS_GO = {
    "registry": _REGISTRY_CREDENTIALS,
    "dev-registry": _REGISTRY_CREDENTIALS,
    "github-api": "put the token in GITHUB_TOKEN (or GH_TOKEN)",
    "helm-repo-url": "a Helm repository read by this tool needs no credentials",
}


def _check_rules(values: dict[str, Any], sources: Mapping[str, str]) -> None:
    """The rules of every setting (see the module docstring); messages never echo a URL that
    might hold a secret."""
    repository = str(values["github-repository"])
    if not _OWNER_NAME.fullmatch(repository) or repository.split("/")[1] in (".", ".."):
        raise BadInput(f"github-repository {repository[:100]!r} is not owner/name",
                       "set it like ameideio/ameide-core")
    if sources.get("helm-repo-url", "default") == "default":
        values["helm-repo-url"] = github_pages_url(repository, str(values["github-api"]))
    for key in ("registry", "dev-registry", "github-api", "helm-repo-url"):
        check_url_without_credentials(str(values[key]), f"{key} ({sources.get(key, 'default')})",
                                      _CREDENTIALS_GO[key])
    from release.oci.reference import split_registry

    split_registry(str(values["registry"]))
    split_registry(str(values["dev-registry"]))
    from release.gitrepo import check_branch_name

    check_branch_name(str(values["release-pr-branch"]))
    check_http_url(str(values["github-api"]), "github-api",
                   https_because="the token would travel in clear text")
    if values["helm-repo-url"]:
        # index.html offers `helm repo add <it>` to everyone: charts fetched over plain HTTP
        # could be swapped on the way
        check_http_url(str(values["helm-repo-url"]), "helm-repo-url",
                       https_because="Helm would fetch the charts unprotected")
    prefix = str(values["tag-prefix"])
    if prefix not in ("", "v"):
        if not all(c.isascii() and (c.isalnum() or c in "-_/.") for c in prefix):
            raise BadInput(f"tag-prefix '{prefix[:40]}' has characters git tags cannot hold",
                           "use letters, digits, '-', '_', '/' or '.'")
        if prefix.startswith(("-", "/", ".")) or ".." in prefix or "//" in prefix \
                or len(prefix) > 40:
            raise BadInput(f"tag-prefix '{prefix[:40]}' cannot start a git tag name",
                           "start it with a letter or digit, e.g. v or chart-v")
    for pattern in values["release-branches"]:
        if not pattern or pattern.startswith("-") or any(c.isspace() for c in pattern):
            raise BadInput(f"release-branches holds {pattern[:60]!r}, not a branch pattern",
                           'list branch names or fnmatch patterns, e.g. ["main", "release-*"]')


def check_url_without_credentials(url: str, what: str, where_they_go: str) -> None:
    """Refuse `scheme://user:secret@host` without repeating the URL."""
    rest = url.split("://", 1)[1] if "://" in url else url
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    if "@" in authority:
        raise BadInput(f"{what} holds credentials in its URL (user:secret@host); they would be "
                       "printed and logged", f"remove them from the URL: {where_they_go}")


def github_pages_url(repository: str, github_api: str) -> str:
    """Where GitHub Pages serves the gh-pages branch of `repository` (owner/name):
    https://OWNER.github.io/NAME, or the root for a repository named OWNER.github.io. Empty
    on GitHub Enterprise, whose Pages host is not known."""
    if github_api.rstrip("/") != "https://api.github.com":
        return ""
    owner, _, name = repository.partition("/")
    host = f"{owner.lower()}.github.io"
    return f"https://{host}" if name.lower() == host else f"https://{host}/{name}"


def check_http_url(url: str, what: str, *, https_because: str | None = None) -> None:
    """An absolute http(s) URL with a host and no query or fragment; with `https_because` (why
    plain HTTP is refused), plain HTTP only to loopback test servers."""
    from urllib.parse import urlsplit

    from release.origin import is_loopback_host

    try:
        parsed = urlsplit(url)
        port_ok = parsed.port is None or 0 < parsed.port < 65536
    except ValueError:
        port_ok = False
    if not port_ok or parsed.scheme not in ("http", "https") or not parsed.hostname \
            or parsed.query or parsed.fragment or any(c.isspace() or ord(c) < 32 for c in url):
        raise BadInput(f"{what} {url[:100]!r} is not an http(s) URL",
                       "write it as https://host[/path]")
    if https_because and parsed.scheme == "http" and not is_loopback_host(parsed.hostname):
        raise BadInput(f"{what} {url[:100]!r} is plain HTTP; {https_because}",
                       "use https:// (plain HTTP is only for loopback test servers)")
