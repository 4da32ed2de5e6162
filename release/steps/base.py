"""What every release step is, and the runtime through which steps reach the outside.

A step is a value built by one function (its module's `*_step` builder) with every input
already decided — digests included — and three behaviours:
- `describe()` / `as_json()`: what `dry-run` prints;
- `check(runtime)`: reads only, and says whether running it would create something, find it
  already done, conflict with what is published (exit 3), or fail (a check the release must
  pass, e.g. an expected public package that is private) (`dry-run --online`);
- `run(runtime)`: asks "already done?" first, then acts; what `publish` and the step's own
  command execute.
`Runtime` builds the registry and GitHub clients on first use, with the credentials given once,
and closes them at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    import httpx

    from release.config import Settings
    from release.github import GitHub
    from release.oci.client import RegistryClient
    from release.oci.credentials import Credentials
    from release.oci.reference import ChartRef

Verdict = Literal["would create", "already done", "would conflict", "would fail", "local",
                  "skipped"]


@dataclass(frozen=True)
class StepCheck:
    """A read-only answer to "what would running this step do?"."""

    step: str
    verdict: Verdict
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {"step": self.step, "verdict": self.verdict, "detail": self.detail}


@dataclass(frozen=True)
class StepOutcome:
    """What running a step did."""

    step: str
    status: str  # e.g. "pushed", "already-published", "added", "present", "created"
    detail: str
    wrote: bool  # did this step change anything anywhere
    outputs: Mapping[str, str] = field(default_factory=dict)  # for $GITHUB_OUTPUT
    details: Mapping[str, Any] = field(default_factory=dict)  # the step's own JSON report

    def as_json(self) -> dict[str, Any]:
        return {"name": self.step, "status": self.status, "detail": self.detail,
                "wrote": self.wrote, **({"outputs": dict(self.outputs)} if self.outputs else {}),
                **({"details": dict(self.details)} if self.details else {})}


class Step(Protocol):
    @property
    def name(self) -> str: ...

    def describe(self) -> str: ...

    def as_json(self) -> dict[str, Any]: ...

    def check(self, runtime: Runtime) -> StepCheck: ...

    def run(self, runtime: Runtime) -> StepOutcome: ...


@dataclass
class Runtime:
    """Clients for the steps, built on first use (a dry run that stays offline builds none)."""

    settings: Settings
    environ: Mapping[str, str]
    registry_login: tuple[str, str] | None = None  # --username / --password-stdin
    registry_options: dict[str, Any] = field(default_factory=dict)  # tests: retry, transport
    github_client: httpx.Client | None = None  # tests inject a respx-mounted client
    github_sleep: Callable[[float], None] | None = None
    _registries: dict[tuple[str, bool, bool], RegistryClient] = field(default_factory=dict)
    _github: GitHub | None = None
    _github_writes: bool = False

    def credentials(self, host: str) -> Credentials | None:
        from release.oci.credentials import resolve_credentials

        user, password = self.registry_login or (None, None)
        return resolve_credentials(host, username=user, password=password, environ=self.environ)

    def registry(self, ref: ChartRef, *, push: bool) -> RegistryClient:
        """One client per registry host (and mode): a publish pays for its token once."""
        from release.oci.publish import registry_client

        key = (ref.host, ref.plain_http, push)
        if key not in self._registries:
            self._registries[key] = registry_client(ref, self.credentials(ref.host), push=push,
                                                    **self.registry_options)
        return self._registries[key]

    def github(self, *, write: bool) -> GitHub:
        """The GitHub client; writing needs a token, reading uses one when there is one."""
        import time

        from release.github import GitHub, token_from_env

        token = token_from_env(self.environ, required=write)
        if self._github is not None and (self._github_writes or not write):
            return self._github
        if self._github is not None:
            self._github.close()
        self._github = GitHub(self.settings.github_api, self.settings.github_repository, token,
                              client=self.github_client, sleep=self.github_sleep or time.sleep)
        self._github_writes = token is not None
        return self._github

    def close(self) -> None:
        for client in self._registries.values():
            client.close()
        self._registries.clear()
        if self._github is not None:
            self._github.close()
            self._github = None
