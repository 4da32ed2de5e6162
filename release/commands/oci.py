"""`push` and `verify`: publish the packaged chart to an OCI registry and check what is there.

Exit codes: 0 pushed / already published / verified, 2 bad input, 3 the registry holds different
content under the tag (nothing was written), 4 the registry failed or refused.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from release.commands.common import emit_json, info, settings

if TYPE_CHECKING:
    from release.oci.credentials import Credentials
    from release.oci.publish import PackageLike


def register(app: typer.Typer) -> None:
    app.command("push")(push_cmd)
    app.command("verify")(verify_cmd)


ToOpt = Annotated[str | None, typer.Option("--to", help="oci://HOST/NAMESPACE (default: the "
                                           "registry setting).")]
PlainOpt = Annotated[bool, typer.Option("--plain-http", help="HTTP, for loopback test "
                                        "registries only.")]
UserOpt = Annotated[str | None, typer.Option("--username", help="Registry user (else "
                                             "AMEIDE_REGISTRY_USERNAME, GITHUB_TOKEN for ghcr.io, "
                                             "Helm or Docker logins).")]
PwStdinOpt = Annotated[bool, typer.Option("--password-stdin", help="Read the registry password "
                                          "or token from stdin.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ArchiveOpt = Annotated[Path | None, typer.Option("--archive", help="Use this packaged .tgz "
                                                 "instead of packaging the chart.")]


def _credentials(host: str, username: str | None, password_stdin: bool) -> Credentials | None:
    from release.errors import BadInput
    from release.oci.credentials import resolve_credentials

    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not username:
            raise BadInput("--password-stdin needs --username", "pass --username USER too")
    elif username:
        raise BadInput("--username needs a password", "pipe it to --password-stdin")
    return resolve_credentials(host, username=username, password=password)


def _package(ctx: typer.Context, tag: str | None, archive: Path | None, out_dir: Path,
             registry: str | None) -> tuple[PackageLike, str]:
    from release.errors import BadInput
    from release.package import read_archive

    s = settings(ctx, registry=registry)
    if archive is not None:
        return read_archive(archive), s.registry
    from release.package import build_package

    package = build_package(s, tag, out_dir)
    if package.dirty:
        raise BadInput("the chart has uncommitted changes, so the archive would not match any "
                       "commit", "commit or stash the changes under the chart directory first")
    return package, s.registry


def push_cmd(
    ctx: typer.Context,
    tag: Annotated[str | None, typer.Option(help="Release tag, e.g. v1.2.3 (default: the "
                                            "chart's version at HEAD).")] = None,
    to: ToOpt = None,
    plain_http: PlainOpt = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite a tag that holds different "
                                        "content (says what it replaces).")] = False,
    sign: Annotated[bool, typer.Option("--sign", help="Sign with GnuPG and push the Helm "
                                       "provenance layer.")] = False,
    key: Annotated[str | None, typer.Option(help="Signing key name (with --sign).")] = None,
    keyring: Annotated[Path | None, typer.Option(help="Secret keyring file (with --sign); "
                                                 "default: the gpg home.")] = None,
    passphrase_file: Annotated[Path | None, typer.Option(help="File holding the key's "
                                                         "passphrase.")] = None,
    archive: ArchiveOpt = None,
    username: UserOpt = None,
    password_stdin: PwStdinOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Push the packaged chart; a re-run is safe (same content: 'already published')."""
    from release.errors import BadInput
    from release.oci.publish import push_chart
    from release.oci.reference import split_registry

    if sign and not key:
        raise BadInput("--sign needs --key NAME", "name the GnuPG key to sign with")
    if key and not sign:
        raise BadInput("--key is only used with --sign", "add --sign or drop --key")
    with tempfile.TemporaryDirectory(prefix="ameide-release-push-") as tmp:
        package, registry = _package(ctx, tag, archive, Path(tmp), to)
        host, _ = split_registry(registry)
        prov = None
        if sign:
            import shutil

            from release.oci.provenance import sign_chart

            local = Path(tmp) / package.path.name
            if local != package.path:
                shutil.copyfile(package.path, local)
            prov = sign_chart(local, package.metadata, key=str(key), keyring=keyring,
                              passphrase_file=passphrase_file)
        creds = _credentials(host, username, password_stdin)
        result = push_chart(package, registry, credentials=creds, plain_http=plain_http,
                            force=force, prov=prov)
    if as_json:
        emit_json(result.as_dict())
        return
    info(result.message())
    typer.echo(f"oci://{result.reference}@{result.digest}")


def verify_cmd(
    ctx: typer.Context,
    tag: Annotated[str, typer.Option(help="Release tag to check, e.g. v1.2.3.")],
    to: ToOpt = None,
    plain_http: PlainOpt = False,
    archive: ArchiveOpt = None,
    username: UserOpt = None,
    password_stdin: PwStdinOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Pull the published chart, check every digest and compare with a rebuild of the tag."""
    from release.errors import Conflict
    from release.oci.publish import verify_chart
    from release.oci.reference import chart_ref, split_registry
    from release.package import read_archive

    s = settings(ctx, registry=to)
    with tempfile.TemporaryDirectory(prefix="ameide-release-verify-") as tmp:
        expected: Any
        if archive is not None:
            expected = read_archive(archive)
        else:
            from release.package import package_at_commit

            expected = package_at_commit(s, f"refs/tags/{tag}", Path(tmp))
        host, _ = split_registry(s.registry)
        ref = chart_ref(s.registry, expected.name, expected.version, plain_http=plain_http)
        creds = _credentials(host, username, password_stdin)
        result = verify_chart(ref, expected, credentials=creds)
    if as_json:
        emit_json(result.as_dict())
    if not result.match:
        raise Conflict(f"oci://{result.reference} ({result.digest}) differs from the rebuild "
                       f"of {tag}: {result.difference}",
                       "find out who published it; never overwrite a release silently")
    if not as_json:
        info(f"verified oci://{result.reference}: {result.digest} matches the rebuild of {tag}")
        typer.echo(f"oci://{result.reference}@{result.digest}")
