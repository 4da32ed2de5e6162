"""The local steps: package the chart, lint it with Helm's engine, sign it (GnuPG `.prov`).

They act while the plan is made (into a directory the caller owns), so that every later step's
inputs — the archive's digest, the manifest digest, the asset digests — are known before the
first request. Running them afterwards only reports what they made.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.errors import BadInput
from release.steps.base import Runtime, StepCheck, StepOutcome

if TYPE_CHECKING:
    from release.config import Settings
    from release.lint import LintResult
    from release.notes import Release
    from release.package import PackageResult
    from release.target import ReleaseTarget


@dataclass(frozen=True)
class PackageStep:
    package: PackageResult
    source: str  # where the files came from, for people
    name: str = "package"

    def describe(self) -> str:
        p = self.package
        return (f"{p.path.name} {p.digest} ({p.size} bytes, {len(p.files)} files) "
                f"from {self.source}")

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, **self.package.as_json()}

    def check(self, runtime: Runtime) -> StepCheck:
        return StepCheck(self.name, "local", self.describe())

    def run(self, runtime: Runtime) -> StepOutcome:
        return StepOutcome(self.name, "built", self.describe(), False,
                           {"chart-digest": self.package.digest})


def package_step(target: ReleaseTarget, settings: Settings, out_dir: Path,
                 release: Release | None = None, app_version: str | None = None,
                 ) -> PackageStep:
    """The archive of a release: the chart as committed at the target's commit, with the
    target's version and its generated Artifact Hub annotations (changes, prerelease, images,
    CRDs and examples: `release.artifacthub`). The working tree plays no part (a dirty one is
    only reported). `release` is the target's notes data, when the caller has it already;
    `app_version` overrides the version as appVersion (a dev chart's images are the commit's)."""
    from release.artifacthub import release_annotations
    from release.notes import collect
    from release.package import package_commit

    notes = release or collect(target.repo, settings, target.tag, rev=target.commit,
                               planned=not target.tag_exists, tags=target.tags)
    app = app_version or str(target.version)
    package = package_commit(settings, target.repo, target.commit, str(target.version), out_dir,
                             lambda chart_dir, names: release_annotations(
                                 notes, settings, chart_dir, app_version=app, names=names),
                             app_version=app, tag=target.tag if target.tag_exists else None)
    if target.tag_exists:
        source = f"{target.tag} ({target.commit[:12]})"
    else:
        source = f"HEAD {target.commit[:12]}, where {target.tag} would be created"
    if target.repo.is_dirty(target.repo.relpath(settings.chart_dir)):
        source += "; uncommitted chart changes are not part of it"
    return PackageStep(package, source)


def archive_step(path: Path) -> PackageStep:
    """A chart archive made elsewhere (`push --archive`, `index --package`)."""
    from release.package import read_archive

    return PackageStep(read_archive(path), f"archive {path}")


@dataclass(frozen=True)
class LintStep:
    result: LintResult
    what: str
    name: str = "lint"

    def describe(self) -> str:
        r = self.result
        if r.skipped:
            return "skipped: no Helm engine (pip install 'ameide-release[helm]')"
        if r.errors:
            return (f"{len(r.errors)} error(s) from {r.engine}: {r.errors[0]}"
                    " — publish refuses this chart")
        return f"ok ({r.engine}, {len(r.warnings)} warning(s))"

    def as_json(self) -> dict[str, Any]:
        r = self.result
        return {"name": self.name, "engine": r.engine, "errors": list(r.errors),
                "warnings": list(r.warnings), "skipped": r.skipped}

    def check(self, runtime: Runtime) -> StepCheck:
        return StepCheck(self.name, "local", self.describe())

    def run(self, runtime: Runtime) -> StepOutcome:
        self.require_clean()
        return StepOutcome(self.name, "skipped" if self.result.skipped else "ok",
                           self.describe(), False)

    def require_clean(self) -> None:
        errors = self.result.errors
        if errors:
            raise BadInput(f"{self.what} fails helm lint: {errors[0]}"
                           + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""),
                           "fix the chart, commit, and tag again")


def lint_step(package: PackageResult, what: str) -> LintStep:
    """Helm's engine on the very archive that would be published."""
    from release.lint import lint_chart

    return LintStep(lint_chart(package.path), what)


@dataclass(frozen=True)
class SignStep:
    prov: Path
    key: str
    digest: str  # sha256 of the .prov (a new signature on every run)
    name: str = "sign"

    def describe(self) -> str:
        return f"{self.prov.name} signed with key {self.key!r} ({self.digest})"

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "prov": self.prov.name, "key": self.key,
                "digest": self.digest}

    def check(self, runtime: Runtime) -> StepCheck:
        return StepCheck(self.name, "local", self.describe())

    def run(self, runtime: Runtime) -> StepOutcome:
        return StepOutcome(self.name, "signed", self.describe(), False)


def sign_step(package: PackageResult, key: str, keyring: Path | None = None,
              passphrase_file: Path | None = None) -> SignStep:
    """A Helm provenance file beside the archive, signed with GnuPG now."""
    from release.oci.provenance import sign_chart

    prov = sign_chart(package.path, package.metadata, key=key, keyring=keyring,
                      passphrase_file=passphrase_file)
    return SignStep(prov, key, "sha256:" + hashlib.sha256(prov.read_bytes()).hexdigest())
