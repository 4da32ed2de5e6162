"""Releases without hand work: the release pull request, and releasing when it is merged.

Run on every push to a release branch (`main`, `release-X.Y`), `release_pr`:

0. **Leaves the work to a newer run** when HEAD is not the branch's tip any more (exit 0,
   "superseded"): another push came first, and the run of the tip does everything below.
1. **Releases a merged release commit.** A commit is a release commit when it changes
   Chart.yaml's version (against its first parent) to V and the CHANGELOG it holds has V's
   entry: recognised by what the commit does, not by a PR title or label someone can edit
   (release-please's failure modes: an edited title silently skips the release; a merged PR
   still labelled pending blocks every later one). The oldest untagged release commit on the
   branch's first-parent history since the release tags (HEAD, or one merged just before
   another push overtook its run) gets the annotated tag, pushed, and the outcome names it for
   the caller to publish (the workflow's publish job, in the protected `release` environment):
   a tag pushed with `GITHUB_TOKEN` starts no workflow, so a `v*` tag workflow would never run.
   A re-run finds the tag ("already released") and names it again; a tag a person pushed is
   not named (the `v*` workflow its push started publishes it); a tag of V at another commit is
   a conflict (exit 3).
2. **Otherwise proposes the next release.** The next version comes from the conventional
   commits since the last release (or the next pre-release of a channel); nothing releasable:
   no PR, and an open one is closed with a comment saying why. The proposal is one commit
   `chore(release): vX.Y.Z` on the bot branch (`release/next`, or `release/next-<base>` for
   another base) holding the Chart.yaml bump and the CHANGELOG entry, written with git's
   plumbing (no working tree touched). The branch is force-pushed only when the files it would
   hold differ from what it holds; the PR (title, body = the notes and the plan, label
   `release: pending`) is opened or edited only when something differs: an unchanged run makes
   no write request and pushes nothing. A branch holding a commit that is not ours (a person's
   fix, an amended commit) is never overwritten: the run stops with exit 3 and says what to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from release.errors import BadInput, Conflict
from release.version import parse_version

if TYPE_CHECKING:
    from collections.abc import Mapping

    from release.config import Settings
    from release.github import GitHub
    from release.gitrepo import GitRepo
    from release.notes import Release, ReleaseTag
    from release.target import NextVersion

BOT = ("github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com")
TRAILER = "Release-Prepared-By: ameide-release"
PENDING = "release: pending"
TAGGED = "release: tagged"
_SUBJECT = re.compile(r"chore\(release\): (\S+)")

Action = Literal["released", "already released", "proposed", "unchanged", "closed", "nothing",
                 "superseded"]


@dataclass
class ReleasePrOutcome:
    action: Action
    detail: str
    tag: str | None = None  # a tag to publish: one release-pr made ("released", "already
    #                          released"); a tag a person pushed is the tag workflow's
    pr_number: int | None = None
    pushed: bool = False
    writes: list[str] = field(default_factory=list)  # GitHub write requests made

    def as_json(self) -> dict[str, Any]:
        return {"action": self.action, "detail": self.detail, "tag": self.tag,
                "pr": self.pr_number, "pushed": self.pushed, "writes": self.writes}


def bot_branch(settings: Settings, base: str) -> str:
    """`release/next` for the default branch (the first `release-branches` entry), else
    `release/next-<base>`."""
    branch = str(settings["release-pr-branch"])
    default = (list(settings["release-branches"]) or ["main"])[0]
    return branch if base == default else f"{branch}-{base}"


def _chart_yaml_path(settings: Settings, repo: GitRepo) -> str:
    return f"{repo.relpath(settings.chart_dir)}/Chart.yaml".removeprefix("./")


def _version_at(repo: GitRepo, rev: str, path: str, *, strict: bool = False) -> str | None:
    """The version Chart.yaml declares at `rev`, read with the loader every command uses;
    None when it has none or an invalid one (bad input only when `strict`: an invalid
    Chart.yaml deep in the history must not block every later run)."""
    from release import limits
    from release.chart import parse_chart_yaml

    try:
        text = repo.read_text_blob(rev, path, limits.CHART_FILE_MAX)
        return None if text is None else str(
            parse_chart_yaml(text, f"{path} at {rev[:12]}").data["version"])
    except BadInput:
        if strict:
            raise
        return None


# --- 1. a merged release commit ----------------------------------------------------------------

@dataclass(frozen=True)
class MergedRelease:
    tag: str
    commit: str


def merged_release(settings: Settings, repo: GitRepo, commit: str, *,
                   strict: bool = True) -> MergedRelease | None:
    """The release `commit` is, when it is a release commit (see the module docstring).
    `strict` (HEAD): a commit that says it releases but does not is bad input; deeper in the
    history such a commit is just not a release (it must not block every later run)."""
    from release import limits
    from release.changelog import has_release
    from release.version import tag_name

    chart = _chart_yaml_path(settings, repo)
    now = _version_at(repo, commit, chart, strict=strict)
    parents, _, message = repo.git("show", "-s", "--format=%P%x00%B", commit, "--").partition(
        "\0")
    first = parents.split()[:1]
    before = _version_at(repo, first[0], chart) if first else None
    subject = message.split("\n", 1)[0].strip()
    claimed = _SUBJECT.fullmatch(subject) if strict else None
    if now is None or now == before:
        if claimed:
            raise BadInput(f"HEAD says {subject!r} but does not change Chart.yaml's version "
                           f"({now})", "merge the release pull request as it was proposed")
        return None
    version = parse_version(now, f"Chart.yaml version at {commit[:12]}")
    tag = tag_name(version, settings.tag_prefix)
    if claimed and claimed.group(1) != tag:
        raise BadInput(f"HEAD says {subject!r} but sets Chart.yaml's version to {now}",
                       f"make the subject and the version agree ({tag}), then push again")
    changelog = repo.read_blob(commit, repo.relpath(settings.changelog_path),
                               limits.INDEX_DOCUMENT_MAX) or b""
    if not has_release(changelog.decode("utf-8", "replace"), tag, str(version)):
        if claimed:
            raise BadInput(f"HEAD releases {tag} but its CHANGELOG has no entry for it",
                           "merge the release pull request as it was proposed")
        return None  # a version bump by hand, without a changelog entry: not a release commit
    return MergedRelease(tag, commit)


def untagged_releases(settings: Settings, repo: GitRepo, head: str,
                      tags: list[ReleaseTag]) -> list[MergedRelease]:
    """Release commits without a tag on `head`'s first-parent history (the commits that
    landed on the branch, merges included) since the release tags, oldest first.

    A merged release pull request whose job found the branch already moved on (another push
    came first) is released by the next run: it is found here, not only at HEAD. Only the
    commits that change Chart.yaml against their first parent are looked at closely (one
    `rev-list`); usually there are none."""
    chart = _chart_yaml_path(settings, repo)
    tagged = sorted({t.sha for t in tags})
    found = repo.git("rev-list", "--first-parent", "--end-of-options", head,
                     *(f"^{sha}" for sha in tagged), "--", chart).split()
    if head not in found and head not in tagged and _SUBJECT.fullmatch(
            repo.git("show", "-s", "--format=%s", head, "--").strip()):
        found.insert(0, head)  # says it releases but changes no version: merged_release says so
    out = []
    for commit in reversed(found):
        merged = merged_release(settings, repo, commit, strict=commit == head)
        if merged is not None:
            out.append(merged)
    return out


@dataclass(frozen=True)
class Tagged:
    """What `tag_release` found or did."""

    pushed: bool  # this run pushed the tag
    tagger: str  # "name <email>" of the tag on the remote ("" for a lightweight tag)
    fetched: bool = False  # the checkout has a tag it did not have before (made or fetched)

    @property
    def ours(self) -> bool:
        """Made by release-pr (this run or an earlier one): pushed with GITHUB_TOKEN, so no tag
        workflow runs for it and release-pr's caller must publish it. Any other tag was
        pushed by a person (`hotfix --push`, by hand), which starts the `v*` workflow:
        publishing it here too would race that workflow."""
        return self.pushed or self.tagger.endswith(f"<{BOT[1]}>")


def tag_release(repo: GitRepo, release: MergedRelease, remote: str,
                token: tuple[str, str] | None, remote_refs: Mapping[str, str]) -> Tagged:
    """Make the release's annotated tag exist on `remote` at its commit; `remote_refs` is what
    the run's one `ls-remote` listed (the tag and its peeled `^{}` among them). The remote is
    asked first, so a conflict leaves no local tag behind; a tag the remote already holds is
    not pushed again, and is fetched when the checkout lacks it, to read who made it."""
    ref = f"refs/tags/{release.tag}"
    there_object = remote_refs.get(ref)
    there = remote_refs.get(f"{ref}^{{}}") or there_object
    local = repo.tag_commit(release.tag)
    for where, found in ((f" on {remote}", there), ("", local)):
        if found is not None and found != release.commit:
            raise Conflict(f"tag {release.tag} already exists{where} at {found[:12]}, not at the "
                           f"release commit {release.commit[:12]}; nothing was tagged or "
                           "published", "find out who tagged it; bump the version if that "
                           "release stands")
    if there is not None:
        have = _tag_object(repo, ref) if local is not None else None
        if have is None or have[0] != there_object:
            repo.fetch(remote, f"+{ref}:{ref}", token=token)
            have = _tag_object(repo, ref)
        return Tagged(False, have[1], fetched=local is None)
    if local is None:
        repo.create_tag(release.tag, release.commit, f"Release {release.tag}", tagger=BOT)
    repo.push(remote, ref, token=token)
    return Tagged(True, f"{BOT[0]} <{BOT[1]}>" if local is None else _tag_object(repo, ref)[1],
                  fetched=local is None)


def _tag_object(repo: GitRepo, ref: str) -> tuple[str, str]:
    """(object id, "tagger name <email>") of a local tag."""
    # --count=1: the pattern also matches refs below it (a tag named v1.2.3/x sorts after)
    line = repo.git("for-each-ref", "--count=1",
                    "--format=%(objectname)%00%(taggername) %(taggeremail)", ref).strip()
    sha, _, tagger = line.partition("\0")
    return sha, tagger.strip()[:200]


def relabel_merged(gh: GitHub, prs: list[dict[str, Any]], commit: str) -> list[str]:
    """`release: pending` → `release: tagged` on the merged PR this release came from (labels
    are for people; the release never depends on them). `prs`: the bot branch's pull requests,
    as listed once for the run. Returns the write requests made."""
    writes: list[str] = []
    for pr in prs:
        labels = _labels(pr)
        if pr.get("state") != "closed" or not pr.get("merged_at") or (
                pr.get("merge_commit_sha") != commit and PENDING not in labels):
            continue
        number = int(pr["number"])
        if PENDING in labels:
            gh.remove_label(number, PENDING)
            writes.append(f"unlabel #{number}")
        if TAGGED not in labels:
            gh.add_labels(number, [TAGGED])
            writes.append(f"label #{number}")
    return writes


def _labels(pr: Mapping[str, Any]) -> set[str]:
    return {str(label.get("name")) for label in pr.get("labels") or [] if isinstance(label, dict)}


# --- 2. the proposal ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Proposal:
    tag: str
    files: dict[str, bytes]  # path → content the release commit holds
    message: str
    title: str
    body: str


def propose(settings: Settings, repo: GitRepo, head: str, decided: NextVersion,
            tags: list[ReleaseTag]) -> Proposal:
    """The release commit and pull request of the next release `decided` at `head`."""
    from release import limits
    from release.changelog import changelog_with_entry
    from release.chart import edit_versions, parse_chart_yaml
    from release.notes import collect
    from release.render import render_changelog_entry

    tag, version = decided.tag, str(decided.version)
    chart = _chart_yaml_path(settings, repo)
    # parsed and checked once; the edit proves what its result parses to
    parsed = parse_chart_yaml(repo.read_text_blob(head, chart, limits.CHART_FILE_MAX) or "",
                              f"{chart} at {head[:12]}")
    changelog_path = repo.relpath(settings.changelog_path)
    # both files as committed at head: the working tree plays no part
    current = repo.read_text_blob(head, changelog_path, limits.INDEX_DOCUMENT_MAX) or ""
    release: Release = collect(repo, settings, tag, rev=head, planned=True, tags=tags)
    entry = render_changelog_entry(release, settings)
    changelog = changelog_with_entry(current, tag, version, entry, settings) or current
    files = {chart: edit_versions(parsed, version, version, chart).text.encode(),
             changelog_path: changelog.encode()}
    title = f"chore(release): {tag}"
    message = f"{title}\n\n{TRAILER}\n"
    name = str(parsed.data["name"])
    return Proposal(tag, files, message, title, _body(settings, release, decided, name))


PULL_BODY_MAX = 65_536  # code points: GitHub refuses a longer pull request body (422)


def _body(settings: Settings, release: Release, decided: NextVersion, chart: str) -> str:
    """The pull request's body: what merging it releases, then the notes, cut to fit GitHub's
    limit (the release commit's CHANGELOG.md keeps them whole)."""
    from release.ghrelease import truncate_body
    from release.oci.reference import tag_for_version
    from release.render import render_notes
    from release.version import image_tags

    version, tag = decided.version, decided.tag
    # the plan's own rule; the sha it ends with is the release commit's, not known yet
    images = image_tags(f"refs/tags/{tag}", release.sha, settings.tag_prefix).tags[:-1]
    lines = [f"Merging this pull request releases **{tag}**: the release job tags the merge "
             "commit and publishes it (chart, GitHub release, index).", "",
             "| | |", "| --- | --- |",
             f"| version | `{version}` (appVersion `\"{version}\"`) |",
             f"| previous | {decided.previous_tag or '(first release)'} |",
             # the level, not NextVersion.explain(): its commit count changes with every push,
             # a docs commit included, and the pull request would be edited each time
             f"| level | {decided.level or 'patch (default)'} |",
             f"| pre-release | {'yes' if version.prerelease else 'no'} |",
             f"| chart | `{settings.registry}/{chart}:{tag_for_version(str(version))}` |",
             f"| image tags | {', '.join([*images, '(the release commit sha)'])} |",
             "", "The CHANGELOG entry and the Chart.yaml bump are in this pull request's commit; "
             "edit the notes by editing commits on the base branch, not this branch.", "", ""]
    head = "\n".join(lines)
    tail = f"\n\n<!-- {TRAILER} -->\n"
    notes = render_notes(release, settings).rstrip("\n")
    return head + truncate_body(notes, PULL_BODY_MAX - len(head) - len(tail)) + tail


def _ours(repo: GitRepo, commit: str) -> bool:
    author, _, message = repo.git("show", "-s", "--format=%ae%x00%B", commit, "--").partition(
        "\0")
    return TRAILER in message and author == BOT[1]


def _holds(repo: GitRepo, commit: str, files: Mapping[str, bytes]) -> bool:
    """Does `commit` hold exactly these file contents? One `ls-tree`, the blob ids compared with
    the ids of `files` computed here (git's own object hashing, SHA-1 or SHA-256 as the
    repository uses), instead of reading every file back."""
    import hashlib

    listed: dict[str, str] = {}
    for line in repo.git("ls-tree", "-z", "--full-tree", "--end-of-options", commit, "--",
                         *files).split("\0"):
        meta, _, path = line.partition("\t")
        if path:
            listed[path] = meta.split()[-1]
    for path, data in files.items():
        found = listed.get(path)
        if found is None:
            return False
        digest = hashlib.sha1 if len(found) == 40 else hashlib.sha256  # git's object id
        if digest(b"blob %d\0" % len(data) + data).hexdigest() != found:
            return False
    return True


def sync_branch(repo: GitRepo, remote: str, branch: str, base: str, head: str,
                proposal: Proposal, token: tuple[str, str] | None, existing: str | None) -> bool:
    """Make the bot branch hold the proposal; True when it pushed. `existing`: the branch's
    commit on the remote, from the run's one `ls-remote` (fetched only when the checkout lacks
    it). Refuses a branch holding commits that are not ours."""
    if existing is not None:
        if repo.resolve(existing) is None:
            repo.fetch(remote, f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}",
                       token=token)
        ahead = repo.git("rev-list", "--end-of-options", existing, f"^{head}").split()
        if len(ahead) > 1 or (ahead and not _ours(repo, ahead[0])):
            shown = next((c for c in ahead if not _ours(repo, c)), ahead[0])
            subject = repo.message(shown).split("\n", 1)[0][:80]
            raise Conflict(f"{branch} holds a commit ameide-release did not make ({shown[:12]} "
                           f"{subject!r}); nothing was overwritten",
                           f"merge the pull request as it is, or move that change to {base} and "
                           f"delete {branch} (git push {remote} --delete {branch}) so the next "
                           "run proposes the release afresh")
        if ahead and _holds(repo, existing, proposal.files):
            return False
    commit = repo.write_commit(head, proposal.files, proposal.message, author=BOT,
                               when=repo.commit_time(head))
    repo.push(remote, f"{commit}:refs/heads/{branch}",
              force_with_lease=f"refs/heads/{branch}:{existing or ''}", token=token)
    return True


def sync_pull(gh: GitHub, open_prs: list[dict[str, Any]], branch: str, base: str,
              proposal: Proposal) -> tuple[int, list[str]]:
    """Open or edit the release PR (`open_prs`: the bot branch's open ones, newest first);
    (number, write requests made)."""
    writes: list[str] = []
    if not open_prs:
        pr = gh.create_pull(title=proposal.title, head=branch, base=base, body=proposal.body)
        writes.append("create pull request")
    else:
        pr = open_prs[0]
        changed = {k: v for k, v in (("title", proposal.title), ("body", proposal.body))
                   if (pr.get(k) or "").replace("\r\n", "\n") != v}
        if changed:
            pr = gh.update_pull(int(pr["number"]), changed)
            writes.append("update pull request")
    number = int(pr["number"])
    if PENDING not in _labels(pr):
        gh.add_labels(number, [PENDING])
        writes.append("label pull request")
    return number, writes


def close_stale(gh: GitHub, open_prs: list[dict[str, Any]], why: str) -> list[str]:
    writes = []
    for pr in open_prs:
        number = int(pr["number"])
        gh.comment(number, f"Closed by ameide-release: {why}")
        gh.update_pull(number, {"state": "closed"})
        writes.append(f"close #{number}")
    return writes


def release_pr(settings: Settings, repo: GitRepo, gh: GitHub, *, base: str, remote: str,
               prerelease: str | None, token: tuple[str, str] | None) -> ReleasePrOutcome:
    """The whole run (see the module docstring); the caller publishes `outcome.tag`.

    What the run asks the outside for, once each: one `ls-remote` (the base's tip, the bot
    branch and the release tag together) and one listing of the bot branch's pull requests
    (all states when a release was merged, else the open ones)."""
    from release.gitrepo import check_branch_name
    from release.notes import release_tags

    check_branch_name(base)
    head = repo.head()
    branch = bot_branch(settings, base)
    tags = release_tags(repo, settings.tag_prefix)
    pending = untagged_releases(settings, repo, head, tags)
    merged = pending[0] if pending else (
        merged_release(settings, repo, head) if any(t.sha == head for t in tags) else None)
    wanted = [f"refs/heads/{base}", f"refs/heads/{branch}"]
    if merged is not None:
        wanted += [f"refs/tags/{merged.tag}", f"refs/tags/{merged.tag}^{{}}"]
    refs = repo.remote_refs(remote, *wanted, token=token)
    tip = refs.get(f"refs/heads/{base}")
    if tip is None:
        raise BadInput(f"{remote} has no branch {base}", "pass --base with an existing branch")
    if head != tip:
        # Another push came first; its run (never cancelled: one run per branch at a time, the
        # newest waiting one kept) releases what this one would have and proposes from the tip.
        return ReleasePrOutcome("superseded", f"HEAD ({head[:12]}) is not the tip of "
                                f"{remote}/{base} ({tip[:12]}): the run of the tip does the work")
    prs: list[dict[str, Any]] | None = None
    outcome = ReleasePrOutcome("nothing", "")
    if merged is not None:
        tagged = tag_release(repo, merged, remote, token, refs)
        prs = gh.pulls(head=branch, base=base, state="all")
        outcome.writes += relabel_merged(gh, prs, merged.commit)
        if tagged.fetched:
            tags = release_tags(repo, settings.tag_prefix)  # with the tag just made or fetched
        outcome.action = "released" if tagged.pushed else "already released"
        outcome.pushed = tagged.pushed
        outcome.detail = f"{merged.tag} at {merged.commit[:12]}"
        if tagged.ours:
            outcome.tag = merged.tag
        else:
            outcome.detail += (f" was tagged by {tagged.tagger or 'a lightweight tag'}, not by "
                               "ameide-release: the v* tag workflow publishes it")
    if len(pending) > 1:
        # One release per run (the workflow publishes one tag); proposing now would propose the
        # next one again. A re-run of this job releases it.
        outcome.detail += (f"; {pending[1].tag} at {pending[1].commit[:12]} is merged but not "
                           "tagged yet: re-run this job to release it")
        return outcome
    # Then, like after any push: propose what comes next (nothing, right after a final release).
    from release.target import next_version

    decided = next_version(settings, repo, tags, rev=head, prerelease=prerelease)
    if prs is None:
        prs = gh.pulls(head=branch, base=base, state="open")
    open_prs = [pr for pr in prs if pr.get("state") == "open"]
    why = _nothing_new(settings, repo, head, decided, tags, prerelease)
    if why is not None:
        closed = close_stale(gh, open_prs, why)
        outcome.writes += closed
        if merged is None:
            outcome.action = "closed" if closed else "nothing"
        outcome.detail = f"{outcome.detail}; {why}" if merged else why
        return outcome
    proposal = propose(settings, repo, head, decided, tags)
    pushed = sync_branch(repo, remote, branch, base, head, proposal, token,
                         refs.get(f"refs/heads/{branch}"))
    number, pr_writes = sync_pull(gh, open_prs, branch, base, proposal)
    outcome.writes += pr_writes
    outcome.pushed = outcome.pushed or pushed
    outcome.pr_number = number
    if merged is None:
        outcome.action = "proposed" if pushed or pr_writes else "unchanged"
    proposed = f"{proposal.tag} in #{number} ({branch} → {base})"
    outcome.detail = f"{outcome.detail}; next: {proposed}" if merged else proposed
    return outcome


def _nothing_new(settings: Settings, repo: GitRepo, head: str, decided: NextVersion,
                 tags: list[ReleaseTag], prerelease: str | None) -> str | None:
    """Why nothing is to be proposed, or None. A final release needs a bump-worthy change since
    the previous final release (what `decided` already counted); a pre-release one since the
    previous release of any kind (rc.2 needs a change after rc.1), read only then."""
    if decided.previous_tag is None:
        return None
    since = decided.previous_tag
    if decided.level is not None:
        if prerelease is None:
            return None
        from release.commits import bump_level
        from release.notes import collect

        since_any = collect(repo, settings, None, rev=head, since_prerelease=True,
                            all_paths=True, tags=tags)
        if bump_level(since_any.changes) is not None:
            return None
        since = since_any.previous_tag or since
    return (f"nothing since {since} warrants a release (no feat, fix, perf, revert or breaking "
            "change)")
