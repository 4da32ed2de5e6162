"""artifacthub-repo.yml: parsed, checked and turned into the exact bytes to push."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from release.artifacthub_repo import (
    MAX_SIZE,
    IgnoreEntry,
    Owner,
    RepositoryMetadata,
    load_repository_metadata,
    parse_repository_metadata,
)
from release.errors import BadInput
from tests.gitutil import GitBuilder
from tests.oci.conftest import CHART_YAML

ID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
DOCUMENTED = f"""\
# Artifact Hub repository metadata file
repositoryID: {ID}
owners: # (optional, used to claim repository ownership)
  - name: user1
    email: user1@email.com
  - name: user2
    email: user2@email.com
ignore: # (optional, packages that should not be indexed by Artifact Hub)
  - name: package1
  - name: package2 # Exact match
    version: beta # Regular expression (when omitted, all versions are ignored)
"""


def test_the_documented_file_parses() -> None:
    md = parse_repository_metadata(DOCUMENTED)
    assert md == RepositoryMetadata(
        ID, (Owner("user1", "user1@email.com"), Owner("user2", "user2@email.com")),
        (IgnoreEntry("package1", ""), IgnoreEntry("package2", "beta")))


def test_the_bytes_to_push_are_canonical_and_round_trip() -> None:
    md = parse_repository_metadata(DOCUMENTED)
    data = md.to_bytes()
    assert data == (
        f'repositoryID: "{ID}"\n'
        'owners:\n  - name: "user1"\n    email: "user1@email.com"\n'
        '  - name: "user2"\n    email: "user2@email.com"\n'
        'ignore:\n  - name: "package1"\n  - name: "package2"\n    version: "beta"\n').encode()
    assert parse_repository_metadata(data.decode()) == md
    # the same metadata written differently gives the same bytes: a re-push is a no-op
    flow = (f'{{"ignore": [{{name: package1}}, {{name: package2, version: beta}}], '
            f'repositoryID: {ID}, owners: [{{name: user1, email: user1@email.com}}, '
            f'{{email: user2@email.com, name: user2}}]}}')
    assert parse_repository_metadata(flow).to_bytes() == data


def test_optional_parts() -> None:
    md = parse_repository_metadata("owners:\n  - email: me@example.org\n")
    assert md == RepositoryMetadata(None, (Owner("", "me@example.org"),))
    assert md.to_bytes() == b'owners:\n  - email: "me@example.org"\n'
    assert parse_repository_metadata("repositoryID: ''\n").to_bytes() == b"{}\n"


@pytest.mark.parametrize(("text", "needle"), [
    ("", "is not a YAML mapping"),
    ("- a\n", "is not a YAML mapping"),
    ("repositoryID: invalid\n", "repositoryID 'invalid' is not a lowercase UUID"),
    (f"repositoryID: {ID.upper()}\n", "not a lowercase UUID"),
    (f"repositoryID: '{{{ID}}}'\n", "not a lowercase UUID"),
    ("repositoryID: [a]\n", "repositoryID is not text"),
    ("owner:\n  - email: a@b.c\n", "unknown key 'owner'"),
    ("owners: a@b.c\n", "owners is not a list"),
    ("owners:\n  - a@b.c\n", "owners entry 1 is not a mapping"),
    ("owners:\n  - name: x\n", "owners entry 1 has no valid email"),
    ("owners:\n  - email: a@b.c\n    mail: x\n", "unknown key 'mail'"),
    ("ignore:\n  - version: beta\n", "ignore entry 1 has no name"),
    ("ignore:\n  - name: x\n    version: '(unclosed'\n", "is not a regexp"),
    ("ignore:\n  - name: x\n    version: '^(?!rc).*'\n", "Go's regexp lacks"),
    ("ignore:\n  - name: x\n    version: '(a)\\1'\n", "Go's regexp lacks"),
    ("repositoryID: a\nrepositoryID: b\n", "is not valid YAML"),
    ("{\"\n", "is not valid YAML"),
], ids=["empty", "list", "invalid-id", "upper-id", "braced-id", "list-id", "typo", "not-list",
        "not-mapping", "no-email", "unknown-owner-key", "no-name", "bad-regexp", "lookahead",
        "backreference", "duplicate", "syntax"])
def test_what_would_fail_or_silently_not_work_is_refused(text: str, needle: str) -> None:
    with pytest.raises(BadInput, match=re.escape(needle)) as info:
        parse_repository_metadata(text, "artifacthub-repo.yml")
    assert "artifacthub-repo.yml" in str(info.value)


def test_loading_from_disk(tmp_path: Path) -> None:
    assert load_repository_metadata(tmp_path / "artifacthub-repo.yml") is None
    path = tmp_path / "artifacthub-repo.yml"
    path.write_bytes(b"\xef\xbb\xbf" + DOCUMENTED.encode())
    assert load_repository_metadata(path) == parse_repository_metadata(DOCUMENTED)
    path.write_bytes(b"owners: \xff\n")
    with pytest.raises(BadInput, match="not UTF-8"):
        load_repository_metadata(path)
    path.write_bytes(b"#" * (MAX_SIZE + 1))
    with pytest.raises(BadInput, match=f"over the {MAX_SIZE}-byte limit"):
        load_repository_metadata(path)
    with pytest.raises(BadInput, match="not a regular file"):
        load_repository_metadata(tmp_path)
    with pytest.raises(BadInput, match="larger than"):
        parse_repository_metadata("#" * (MAX_SIZE + 1))


# The CLI with at most 1 GiB of address space, so that a regression reading /dev/zero fails
# instead of exhausting the host (Helm's Go engine, which `dry-run` loads, needs more).
_LIMIT_MEMORY = """
import resource, runpy, sys
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
sys.argv = ["ameide-release", *sys.argv[1:]]
runpy.run_module("release", run_name="__main__")
"""


@pytest.mark.parametrize(("kind", "command"), [("fifo", "dry-run"), ("dev-zero", "artifacthub")])
def test_a_fifo_or_a_device_is_refused_in_one_line(gitrepo: GitBuilder, kind: str,
                                                   command: str) -> None:
    """Planning reads artifacthub-repo.yml: a FIFO there would block the release forever, a
    link to /dev/zero would read until memory runs out. Both are one line and exit 2."""
    gitrepo.commit("feat: chart", {"chart/Chart.yaml": CHART_YAML.format(version="0.1.0"),
                                   "chart/values.yaml": "a: 1\n",
                                   "chart/templates/cm.yaml": "kind: ConfigMap\n"})
    path = gitrepo.root / "artifacthub-repo.yml"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path.symlink_to("/dev/zero")
    cli = ["-c", _LIMIT_MEMORY] if kind == "dev-zero" else ["-m", "release"]
    proc = subprocess.run([sys.executable, *cli, "--repo", str(gitrepo.root),
                           "--registry", "oci://127.0.0.1:9/ns", command, "--plain-http"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2, proc
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert f"{path} is not a regular file" in proc.stderr
