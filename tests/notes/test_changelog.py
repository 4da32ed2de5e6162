"""CHANGELOG.md: full rewrite and the idempotent --update that keeps hand edits."""

from __future__ import annotations

from pathlib import Path

from release import changelog
from release.config import Settings
from release.gitrepo import GitRepo
from release.notes import Release, collect
from release.steps.base import Runtime
from release.steps.changelog import changelog_step
from tests.gitutil import GitBuilder
from tests.notes.conftest import make_settings


def update(path: Path, release: Release, s: Settings) -> bool:
    """`changelog --update`: the changelog step, run alone."""
    return changelog_step(s, release, path).run(Runtime(s, {})).wrote


def two_releases(g: GitBuilder) -> None:
    g.commit("feat: one")
    g.tag("v1.0.0")
    g.commit("fix: two")
    g.tag("v1.0.1")


def test_update_inserts_on_top_keeps_hand_edits_and_is_idempotent(gitrepo: GitBuilder) -> None:
    two_releases(gitrepo)
    s = make_settings(gitrepo, github_repository="o/r")
    repo = GitRepo(gitrepo.root)
    path = gitrepo.root / "CHANGELOG.md"
    assert update(path, collect(repo, s, "v1.0.0"), s)
    edited = path.read_text().replace("- one", "- one, hand-edited ✍") + "\nFooter by hand.\n"
    path.write_text(edited)
    assert update(path, collect(repo, s, "v1.0.1"), s)
    text = path.read_text()
    assert text.endswith(edited[edited.index("<!-- release: v1.0.0 -->"):])  # byte for byte
    assert text.index("<!-- release: v1.0.1 -->") < text.index("<!-- release: v1.0.0 -->")
    assert text.startswith("# Changelog\n")
    before = path.read_bytes()
    assert not update(path, collect(repo, s, "v1.0.1"), s)
    assert not update(path, collect(repo, s, "v1.0.0"), s)
    assert path.read_bytes() == before


def test_release_already_listed_by_heading_only() -> None:
    assert changelog.has_release("# C\n\n## [1.2.3](x) (2020-01-01)\n", "v1.2.3", "1.2.3")
    assert changelog.has_release("## v1.2.3\n", "v1.2.3", "1.2.3")
    assert not changelog.has_release("## 1.2.30\n", "v1.2.3", "1.2.3")


def test_insert_into_file_without_releases_and_crlf() -> None:
    out = changelog.insert_release("# Mine\r\n\r\nIntro.\r\n", "<!-- release: v1 -->\n## 1\n",
                                   "# H\n")
    assert out == "# Mine\r\n\r\nIntro.\r\n\r\n<!-- release: v1 -->\r\n## 1\r\n"
    assert changelog.insert_release("", "E\n", "# H\n") == "# H\n\nE\n"


def test_insert_above_hand_written_release_heading() -> None:
    out = changelog.insert_release("# C\n\n## 0.9.0\n\n- old\n", "<!-- release: v1 -->\n## 1\n",
                                   "# H\n")
    assert out == "# C\n\n<!-- release: v1 -->\n## 1\n\n## 0.9.0\n\n- old\n"


def test_an_entry_written_before_the_tag_is_the_entry_after_it(gitrepo: GitBuilder) -> None:
    """`changelog --update --tag vX` (or the release PR) writes the entry before the tag exists;
    it carries the date of the commit the tag will be on, so the file stays equal to the full
    changelog once the tag is made (it had no date, and never matched)."""
    gitrepo.commit("feat: one")
    gitrepo.tag("v1.0.0")
    gitrepo.commit("fix: two")
    s = make_settings(gitrepo, github_repository="o/r")
    repo = GitRepo(gitrepo.root)
    path = gitrepo.root / "CHANGELOG.md"
    update(path, collect(repo, s, "v1.0.0"), s)
    update(path, collect(repo, s, "v1.0.1", planned=True), s)
    gitrepo.tag("v1.0.1")
    from release.notes import all_releases
    from release.render import render_changelog

    assert path.read_text() == render_changelog(all_releases(repo, s), s)


def test_full_changelog_is_the_update_sequence(gitrepo: GitBuilder) -> None:
    """Adding releases one by one from an empty file gives the full changelog."""
    two_releases(gitrepo)
    s = make_settings(gitrepo, github_repository="o/r")
    repo = GitRepo(gitrepo.root)
    path = gitrepo.root / "CHANGELOG.md"
    for tag in ("v1.0.0", "v1.0.1"):
        update(path, collect(repo, s, tag), s)
    from release.notes import all_releases
    from release.render import render_changelog

    assert path.read_text() == render_changelog(all_releases(repo, s), s)
