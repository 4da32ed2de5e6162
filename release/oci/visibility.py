"""Can anyone pull the chart? The anonymous pull check of `verify --anonymous` and of the
publish plan's visibility step.

GHCR creates a new package private, so a first release can be published and still unreachable
for every user. The check is what `helm pull` does without a login, with the project's own
client and no credentials at all, reading only: HEAD the manifest; on a Bearer challenge ask the
token service without credentials (GHCR: `GET https://ghcr.io/token?scope=repository:OWNER/
NAME:pull&service=ghcr.io`, 200 with a token for a public package, 401 for a private one) and
HEAD again with that token. A refused token, a 401 or 403 answer, or a Basic challenge (no
credentials to answer it with) mean private; a 404 means the tag cannot be seen anonymously
(not published yet, or a registry that hides private packages). Against GHCR that is 3 requests
for a public package and 2 for a private one; 1 against a registry without auth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from release.errors import RemoteError
from release.oci.auth import TokenRefused

if TYPE_CHECKING:
    from release.oci.reference import ChartRef

Visibility = Literal["public", "private", "absent"]
MAKE_PUBLIC = "make it public under Package settings → Change visibility (one-way)"


@dataclass(frozen=True)
class AnonymousAccess:
    """What an anonymous client could do with one published tag."""

    reference: str  # oci://host/repository:tag
    state: Visibility
    detail: str
    requests: int

    def as_json(self) -> dict[str, Any]:
        return {"reference": self.reference, "visibility": self.state, "detail": self.detail,
                "requests": self.requests}

    def require_public(self, *, published: bool) -> None:
        """The `expect-public` rule, for `verify --anonymous` and the publish plan's visibility
        step alike: exit 4 unless anonymous users can pull the tag. `published`: the check
        runs right after our push, so the tag exists and the way out ends with a re-run that
        finishes the release."""
        if self.state == "public":
            return
        what = ("was published, but anonymous users cannot pull it" if published
                else f"is not public ({self.state})")
        raise RemoteError(f"{self.reference} {what} and expect-public is true",
                          MAKE_PUBLIC + (", then re-run to finish the release (what was "
                                         "published stays published)" if published else ""))


def anonymous_access(ref: ChartRef, **client_options: Any) -> AnonymousAccess:
    """The anonymous pull check of `ref` (see the module docstring); `client_options` as for
    `RegistryClient` (tests pass retries and transports)."""
    from release.oci.publish import registry_client

    with registry_client(ref, None, **client_options) as client:
        try:
            status = client.manifest_access(ref.repository, ref.tag)
            refused_token = False
        except TokenRefused:
            status, refused_token = 401, True
        requests = client.requests
    if status == 200:
        return AnonymousAccess(ref.oci, "public", f"public: anyone can pull {ref.oci}", requests)
    if status == 404:
        return AnonymousAccess(ref.oci, "absent", f"{ref.oci} cannot be seen anonymously (not "
                               "published yet, or hidden as private)", requests)
    how = "the token service refused an anonymous token" if refused_token \
        else f"the registry answered HTTP {status} without credentials"
    return AnonymousAccess(ref.oci, "private", f"private: {how} for {ref.oci}; {MAKE_PUBLIC}",
                           requests)
