"""`push` and `verify`: publish the packaged chart to an OCI registry and check what is there.

Exit codes: 0 pushed / already published / verified, 2 bad input, 3 the registry holds different
content under the tag (nothing was written), or `verify --require-signature` found no signature
naming the digest, 4 the registry failed or refused (or `verify --anonymous` found the package
private while `expect-public` is true).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from release.commands.common import (
    CliState,
    Command,
    check_sign,
    echo,
    emit_json,
    info,
    json_option,
    plain_http_option,
    registry_login_options,
    run_alone,
    runtime,
    settings,
    sign_options,
    target,
)

if TYPE_CHECKING:
    from argparse import ArgumentParser

    from release.config import Settings
    from release.oci.protections import ProtectionReport
    from release.target import ReleaseTarget


def to_option(p: ArgumentParser) -> None:
    p.add_argument("--to", help="oci://HOST/NAMESPACE (default: the registry setting).")


def archive_option(p: ArgumentParser) -> None:
    p.add_argument("--archive", type=Path, metavar="PATH",
                   help="Use this packaged .tgz instead of packaging the chart.")


def push_options(p: ArgumentParser) -> None:
    p.add_argument("--tag", help="Release tag, e.g. v1.2.3 (default: the chart's version at "
                   "HEAD).")
    to_option(p)
    plain_http_option(p)
    p.add_argument("--force", action="store_true", help="Overwrite a tag that holds different "
                   "content (says what it replaces).")
    sign_options(p)
    archive_option(p)
    registry_login_options(p)
    json_option(p)


def push_cmd(state: CliState, *, tag: str | None, to: str | None, plain_http: bool, force: bool,
             sign: bool, key: str | None, keyring: Path | None, passphrase_file: Path | None,
             archive: Path | None, username: str | None, password_stdin: bool,
             as_json: bool) -> None:
    """Push the packaged chart; a re-run is safe (same content: 'already published')."""
    import tempfile

    from release.render import web_url
    from release.steps.build import archive_step, package_step, sign_step
    from release.steps.push import push_step

    check_sign(sign, key)
    s = settings(state, registry=to)
    rt = runtime(s, username, password_stdin)
    with tempfile.TemporaryDirectory(prefix="ameide-release-push-") as tmp:
        if archive is not None:
            package = archive_step(archive).package
            if sign:  # the signature goes beside a copy, never beside the user's file
                import dataclasses
                import shutil

                local = Path(tmp) / package.path.name
                shutil.copyfile(package.path, local)
                package = dataclasses.replace(package, path=local)
        else:
            package = package_step(_push_target(s, tag), s, Path(tmp)).package
        prov = sign_step(package, str(key), keyring, passphrase_file).prov if sign else None
        step = push_step(package, s.registry, prov=prov, plain_http=plain_http, force=force,
                         source=web_url(s))
        outcome = run_alone(step, rt)
    if as_json:
        emit_json(outcome.details)
        return
    info(outcome.detail)
    echo(f"{step.reference}@{outcome.outputs['manifest-digest']}")


def _push_target(s: Settings, tag: str | None) -> ReleaseTarget:
    """The release to push: `tag`, or the chart's own version at HEAD. Without a tag to build
    from, uncommitted chart changes are refused: the archive would match no commit."""
    from release.chart import load_metadata
    from release.errors import BadInput

    repo, release_target = target(s, tag if tag is not None
                                  else s.tag_prefix + str(load_metadata(s.chart_dir)["version"]))
    if not release_target.tag_exists and repo.is_dirty(repo.relpath(s.chart_dir)):
        raise BadInput("the chart has uncommitted changes, so the archive would not match any "
                       "commit", "commit or stash the changes under the chart directory first")
    return release_target


def artifacthub_options(p: ArgumentParser) -> None:
    to_option(p)
    plain_http_option(p)
    registry_login_options(p)
    json_option(p)


def artifacthub_cmd(state: CliState, *, to: str | None, plain_http: bool, username: str | None,
                    password_stdin: bool, as_json: bool) -> None:
    """Push artifacthub-repo.yml to the chart's `artifacthub.io` tag (idempotent)."""
    from release.chart import load_metadata
    from release.errors import BadInput
    from release.steps.artifacthub import artifacthub_step

    s = settings(state, registry=to)
    step = artifacthub_step(s, str(load_metadata(s.chart_dir)["name"]), plain_http=plain_http)
    if step is None:
        raise BadInput(f"there is no artifacthub-repo.yml in {s.root}",
                       "create it (owners, optional repositoryID): "
                       "https://artifacthub.io/docs/topics/repositories/")
    rt = runtime(s, username, password_stdin)
    outcome = run_alone(step, rt)
    if as_json:
        emit_json(outcome.as_json())
        return
    info(f"{outcome.status}: {outcome.detail}")
    echo(f"{step.ref.oci}@{step.digest}")


def verify_options(p: ArgumentParser) -> None:
    p.add_argument("--tag", required=True, help="Release tag to check, e.g. v1.2.3.")
    to_option(p)
    plain_http_option(p)
    archive_option(p)
    p.add_argument("--require-signature", action="store_true",
                   help="Exit 3 unless a signature naming the published digest is found (found, "
                   "not cryptographically checked: the output says how to check it).")
    p.add_argument("--anonymous", action="store_true",
                   help="Only check that anyone can pull the tag, without credentials: public or "
                   "private (no rebuild, no pull).")
    registry_login_options(p)
    json_option(p)


def verify_cmd(state: CliState, *, tag: str, to: str | None, plain_http: bool,
               archive: Path | None, require_signature: bool, anonymous: bool,
               username: str | None, password_stdin: bool, as_json: bool) -> None:
    """Pull the published chart, check every digest, compare with a rebuild of the tag, and
    list the signatures and attestations that name its digest."""
    import tempfile

    from release.errors import BadInput, Conflict
    from release.ghactions import signing_identity_regexp
    from release.oci.protections import find_protections, verify_commands
    from release.oci.publish import verify_chart
    from release.oci.reference import chart_ref
    from release.render import web_url
    from release.steps.build import archive_step, package_step

    if anonymous and (require_signature or username or password_stdin):
        raise BadInput("--anonymous checks without credentials and reads no signatures",
                       "drop --require-signature, --username and --password-stdin, or run "
                       "verify twice")
    s = settings(state, registry=to)
    if anonymous:
        _verify_anonymous(s, tag, archive, plain_http, as_json)
        return
    repo_web = web_url(s)
    rt = runtime(s, username, password_stdin)
    with tempfile.TemporaryDirectory(prefix="ameide-release-verify-") as tmp:
        if archive is not None:
            expected = archive_step(archive).package
        else:
            _, release_target = target(s, tag, must_exist=True)
            expected = package_step(release_target, s, Path(tmp)).package
        ref = chart_ref(s.registry, expected.name, expected.version, plain_http=plain_http)
        try:
            client = rt.registry(ref, push=False)
            result = verify_chart(ref, expected, client=client, source=repo_web)
            report = find_protections(client, ref.repository, result.digest) \
                if result.match and result.digest else None
            requests = client.requests
        finally:
            rt.close()
    commands = verify_commands(ref, result.digest or "", repo_web,
                               signing_identity_regexp(repo_web, list(s["release-branches"])))
    if as_json:
        emit_json({**result.as_dict(), "requests": requests,
                   "protections": report.as_json() if report else None,
                   "not_verified_here": NOT_VERIFIED_HERE, "verify_commands": commands})
    if not result.match:
        raise Conflict(f"oci://{result.reference} ({result.digest}) differs from the rebuild "
                       f"of {tag}: {result.difference}",
                       "find out who published it; never overwrite a release silently")
    assert report is not None
    if not as_json:
        info(f"verified oci://{result.reference}: {result.digest} matches the rebuild of {tag}")
        for line in _protection_lines(report, commands):
            info(line)
    if require_signature and not report.signatures:
        raise Conflict(f"no signature naming {result.digest} was found for "
                       f"oci://{result.reference} ({_found_summary(report)})",
                       "sign the digest in the release workflow (cosign sign --yes "
                       "REF@DIGEST), or drop --require-signature")
    if not as_json:
        echo(f"oci://{result.reference}@{result.digest}")


NOT_VERIFIED_HERE = (
    "found in the registry, not cryptographically verified: checking a keyless (Fulcio/Rekor) "
    "signature or attestation needs the network to sigstore, which this tool does not use; "
    "run the commands below")


def _found_summary(report: ProtectionReport) -> str:
    if not report.found:
        return "nothing found"
    kinds = [f"{p.kind} in the {p.place}" + ("" if p.names_digest else " naming another digest"
                                             if p.names else " naming no digest")
             for p in report.found]
    return "found: " + "; ".join(kinds[:5]) + (f"; {len(kinds) - 5} more" if len(kinds) > 5
                                                else "")


def _protection_lines(report: ProtectionReport, commands: dict[str, str]) -> list[str]:
    """The report for people: where was looked, what was found, and what is left to check."""
    lines = [f"protections of {report.digest}:",
             "  referrers API: " + ("yes" if report.referrers_api else "no")
             + f"; referrers tag {report.referrers_tag}; legacy tags: "
             + (", ".join(report.legacy_tags) or "none")]
    for p in report.found:
        names = "names this digest" if p.names_digest else \
            f"names {', '.join(p.names[:3])}, NOT this digest" if p.names else \
            "names no digest"
        where = f"{p.place} {p.where}"
        detail = [p.media_type] + ([f"predicate {p.predicate_type}"] if p.predicate_type else [])
        lines.append(f"  {p.kind:<11}  {names}  ({where}; {'; '.join(detail)}"
                     + (f"; {p.note}" if p.note else "") + ")")
    if not report.found:
        lines.append("  no signature or attestation found")
    lines += [f"  note: {note}" for note in report.notes]
    count = len(report.signatures)
    lines.append(f"signed: {count} signature(s) name this digest" if count
                 else "signed: no signature names this digest")
    lines += [f"not verified here: {NOT_VERIFIED_HERE}:", f"  {commands['cosign']}",
              f"  {commands['gh']}"]
    return lines


def _verify_anonymous(s: Settings, tag: str, archive: Path | None, plain_http: bool,
                      as_json: bool) -> None:
    """`verify --anonymous`: the anonymous pull check alone (release.oci.visibility)."""
    from release.oci.reference import chart_ref
    from release.oci.visibility import anonymous_access

    if archive is not None:
        from release.steps.build import archive_step

        package = archive_step(archive).package
        name, version = package.name, package.version
    else:
        name, version = _chart_at_tag(s, tag)
    access = anonymous_access(chart_ref(s.registry, name, version, plain_http=plain_http))
    if as_json:
        emit_json(access.as_json())
    else:
        info(access.detail)
    if s.expect_public:
        access.require_public(published=False)
    if not as_json:
        echo(access.state)


def _chart_at_tag(s: Settings, tag: str) -> tuple[str, str]:
    """The chart name in Chart.yaml at the tag's commit, and the tag's version: the reference
    the release was published under, without packaging it."""
    from release import limits
    from release.chart import validate_metadata
    from release.errors import BadInput
    from release.yamlread import parse_yaml

    repo, release_target = target(s, tag, must_exist=True)
    path = f"{repo.relpath(s.chart_dir)}/Chart.yaml"
    data = repo.read_blob(release_target.commit, path, limits.CHART_FILE_MAX)
    if data is None:
        raise BadInput(f"{path} does not exist at {tag}", "check --chart and the tag")
    metadata = parse_yaml(data.decode("utf-8", "replace"), f"{path} at {tag}")
    validate_metadata(metadata, f"{path} at {tag}")
    return str(metadata["name"]), str(release_target.version)


# The commands this module adds to `ameide-release`.
COMMANDS = {
    "push": Command(push_options, push_cmd),
    "verify": Command(verify_options, verify_cmd),
    "artifacthub": Command(artifacthub_options, artifacthub_cmd),
}
