"""The changelog's in-memory range walk agrees with git's own ranges on a messy history."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import pytest

from release import notes, render
from release.gitrepo import GitRepo
from release.notes import History, all_releases, collect, scope_from
from release.render import render_changelog, write_changelog
from tests.gitutil import GitBuilder
from tests.notes.conftest import make_settings

KINDS = ["feat", "fix", "perf", "docs", "chore", "Update"]
PEOPLE = [f"p{n}@example.org" for n in range(12)] + ["renovate[bot]@example.org"]


def build(g: GitBuilder, seed: int, skew: bool = True) -> None:
    """Seeded history: topic branches merged back, reverts, squash bodies, files in and out of
    chart/, releases with pre-releases, hotfix lines that are sometimes merged back, people
    joining over time (authors and co-authors), and committer clocks that sometimes go back."""
    rng = random.Random(seed)
    version = [0, 1, 0]
    shas: list[str] = []
    hotfix_lines: list[str] = []
    g.commit("feat: initial chart")
    for step in range(70):
        who = rng.choice(PEOPLE[: 2 + step // 6])
        g.git("config", "user.name", who.split("@")[0].title())
        g.git("config", "user.email", who)
        if rng.random() < 0.1 and skew:
            g.clock -= 3600  # this commit's clock is behind its parent's
        coauthor = (f"\n\nCo-authored-by: Someone <{rng.choice(PEOPLE).upper()}>"
                    if rng.random() < 0.2 else "")
        roll = rng.random()
        path = f"chart/f{step}" if rng.random() < 0.6 else f"src/f{step}"
        if roll < 0.08 and shas:
            target = rng.choice(shas[-10:])
            g.commit(f'Revert "x"\n\nThis reverts commit {target}.', files={path: "r"})
        elif roll < 0.18:
            g.git("checkout", "-q", "-b", f"topic{step}")
            for k in range(rng.randint(1, 3)):
                shas.append(g.commit(f"{rng.choice(KINDS)}: topic {step}.{k}",
                                     files={f"{path}.{k}": "t"}))
            g.checkout("main")
            g.merge(f"topic{step}", f"Merge topic{step}")
        elif roll < 0.25:
            g.commit(f"feat: squash {step}\n\n* feat: a{step}\n\n* fix(s): b{step}\n",
                     files={path: "s"})
        elif roll < 0.30 and hotfix_lines:
            g.merge(hotfix_lines.pop(0), "Merge hotfix line")
        else:
            shas.append(g.commit(f"{rng.choice(KINDS)}: change {step}{coauthor}",
                                 files={path: "c"}))
        if step % 7 == 6:
            version = [version[0], version[1] + 1, 0]
            if rng.random() < 0.3:
                g.tag("v{}.{}.{}-rc.1".format(*version))
                g.commit(f"fix: rc fix {step}", files={f"chart/rc{step}": "x"})
            g.tag("v{}.{}.{}".format(*version), annotated=rng.random() < 0.5)
            if rng.random() < 0.4:
                line = f"release-{version[1]}"
                g.git("checkout", "-q", "-b", line)
                g.commit(f"fix: hotfix {step}", files={f"chart/h{step}": "h"})
                g.tag(f"v{version[0]}.{version[1]}.1")
                g.checkout("main")
                hotfix_lines.append(line)


def test_random_histories_agree_with_git_ranges(tmp_path: Path) -> None:
    for seed in (1, 2):
        g = GitBuilder(tmp_path / f"repo{seed}")
        build(g, seed)
        repo = GitRepo(g.root)
        # clocks that go back make git's date order non-topological: the re-read is exercised
        tips = [t.sha for t in repo.tags()]
        assert not History.read(repo.iter_log(tips), scope_from(repo, make_settings(g))).topological
        for kw in ({}, {"since_prerelease": True}, {"all_paths": True}):
            s = make_settings(g)
            every = list(all_releases(repo, s, **kw))  # type: ignore[arg-type]
            assert len(every) >= 10
            for release in every:
                assert release == collect(repo, s, release.tag, **kw)  # type: ignore[arg-type]
            # people join as the history grows: git's own log and the graph walk agree on who
            # is new where (the equality above), and some are
            assert any(p.first for r in every for p in r.people)


def late_skew(g: GitBuilder) -> None:
    """Clean recent releases above one old commit whose clock is behind its parent's: git's date
    order meets that commit only near the end, after the recent releases could be finished."""
    g.commit("feat: root")
    g.tag("v0.1.0")
    g.commit("fix: parent")
    g.clock -= 7200
    g.commit("fix: child older than its parent")
    g.clock += 100_000
    for n in range(2, 8):
        g.commit(f"feat: release {n}")
        g.tag(f"v0.{n}.0")


@pytest.mark.parametrize("skew", [False, True])
def test_releases_finished_while_git_reads_are_the_same(tmp_path: Path, skew: bool,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Written while git still streams (a try after every commit), the changelog is the one
    built from the whole history; when a commit turns up after its parent, the writer is cut
    back and everything is written again."""
    g = GitBuilder(tmp_path / "repo")
    if skew:
        late_skew(g)
    else:
        build(g, 3, skew=False)
    repo = GitRepo(g.root)
    s = make_settings(g)
    late = render_changelog(list(all_releases(repo, s)), s)
    monkeypatch.setattr(notes, "EARLY_EVERY", 1)
    early: list[str] = []
    cuts: list[int] = []
    real_release_at, real_cut = notes._release_at, render._cut

    def release_at(history: History, *args: Any) -> notes.Release | None:
        release = real_release_at(history, *args)
        if release is not None and not history.complete:
            early.append(release.tag or "")
        return release

    def cut(out: Any, mark: int) -> None:
        cuts.append(mark)
        real_cut(out, mark)

    monkeypatch.setattr(notes, "_release_at", release_at)
    monkeypatch.setattr(render, "_cut", cut)
    out = io.StringIO()
    count = write_changelog(all_releases(repo, s), s, out)
    assert out.getvalue() == late
    assert count == late.count("<!-- release: ")  # a restart forgets what it cut back
    assert len(early) >= 5  # most releases were finished before git was done
    assert len(cuts) == (1 if skew else 0)
