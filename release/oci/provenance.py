"""Helm provenance (`<chart>.tgz.prov`) signed with GnuPG, for the OCI provenance layer.

Helm's format: a PGP clear-signed message whose text is the chart metadata as YAML, a `...` line
(YAML's document end: `---` is not allowed inside a clear-signed block), then
`files: {"<name>-<version>.tgz": "sha256:<hex>"}`. `helm verify` checks the signature and that
the archive's file name and digest match. Like `helm package --sign`, the key comes from a
secret keyring file (`--keyring`, gpg's exported format) or, without one, the user's gpg home.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from release.errors import BadInput
from release.oci.artifact import helm_config
from release.oci.content import Blob


def message_block(archive: Path, metadata: Mapping[str, Any]) -> bytes:
    """The text Helm signs: metadata YAML, `...`, then the archive's file name and digest."""
    import json

    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    buf = io.StringIO()
    yaml.dump(json.loads(helm_config(metadata)), buf)
    digest = Blob.from_file(archive, "").digest
    sums = io.StringIO()
    yaml.dump({"files": {archive.name: digest}}, sums)
    return (buf.getvalue() + "\n...\n" + sums.getvalue()).encode("utf-8")


def _gpg() -> str:
    found = shutil.which("gpg")
    if not found:
        raise BadInput("gpg is not installed, so the chart cannot be signed",
                       "install gnupg (apt-get install gnupg) or drop --sign")
    return found


@contextlib.contextmanager
def _home(keyring: Path | None) -> Iterator[list[str]]:
    """gpg options selecting the key source: a throwaway home with the keyring imported."""
    if keyring is None:
        yield []
        return
    if not keyring.is_file():
        raise BadInput(f"keyring {keyring} does not exist",
                       "pass the secret keyring (gpg --export-secret-keys > secring.gpg)")
    home = Path(tempfile.mkdtemp(prefix="ar-gpg-"))
    os.chmod(home, 0o700)
    try:
        proc = subprocess.run([_gpg(), "--batch", "--quiet", "--homedir", str(home), "--import",
                               str(keyring)], capture_output=True, check=False, timeout=60)
        if proc.returncode != 0:
            raise BadInput(f"gpg could not import keyring {keyring}",
                           "pass a keyring written by gpg --export-secret-keys")
        yield ["--homedir", str(home)]
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"],
                       capture_output=True, check=False)
        shutil.rmtree(home, ignore_errors=True)


def sign_chart(archive: Path, metadata: Mapping[str, Any], *, key: str,
               keyring: Path | None = None, passphrase_file: Path | None = None) -> Path:
    """Write `<archive>.prov` next to the archive and return its path."""
    message = message_block(archive, metadata)
    with _home(keyring) as home:
        args = [_gpg(), "--batch", "--yes", *home, "--local-user", key, "--digest-algo",
                "SHA512", "--armor", "--clearsign", "--output", "-"]
        if passphrase_file is not None:
            args[1:1] = ["--pinentry-mode", "loopback", "--passphrase-file",
                         str(passphrase_file)]
        proc = subprocess.run(args, input=message, capture_output=True, check=False,
                              timeout=120)
    if proc.returncode != 0 or b"BEGIN PGP SIGNED MESSAGE" not in proc.stdout:
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        last = reason[-1] if reason else f"exit {proc.returncode}"
        raise BadInput(f"gpg could not sign with key {key!r} ({last[:160]})",
                       "check --key names a secret key in --keyring and that it is not "
                       "passphrase-protected (or pass --passphrase-file)")
    prov = archive.with_name(archive.name + ".prov")
    prov.write_bytes(proc.stdout)
    return prov
