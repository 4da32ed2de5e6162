"""Fault injection at every request of a publish: it completes with the right digest or fails
with a clear error, and no tag ever points at a missing blob."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from release.errors import ReleaseError
from release.package import PackageResult
from release.retry import RetryPolicy
from tests.pushing import expected_digest, push_chart
from tests.registry_fixtures import Fault, FaultProxy, Registry

pytestmark = pytest.mark.registry
FIRST_PUBLISH = 6  # HEAD tag, POST+PUT config, POST+PUT chart, PUT manifest

FAULTS = {
    "500": Fault("status", 500),
    "429-retry-after": Fault("status", 429, headers={"Retry-After": "7"},
                             body=b'{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}'),
    "503": Fault("status", 503),
    "drop-before": Fault("drop-before"),
    "drop-after": Fault("drop-after"),
}


@pytest.mark.parametrize("index", range(FIRST_PUBLISH))
@pytest.mark.parametrize("kind", sorted(FAULTS))
def test_one_fault_at_each_request(open_registry: Registry, namespace: str,
                                   package: PackageResult,
                                   fault_proxy: Callable[..., FaultProxy], index: int,
                                   kind: str) -> None:
    proxy = fault_proxy(open_registry.host, {index: FAULTS[kind]})
    waited: list[float] = []
    retry = RetryPolicy(sleep=waited.append)
    result = push_chart(package, proxy.oci(namespace), plain_http=True, retry=retry)
    assert result.digest == expected_digest(package)
    assert open_registry.manifest_digest(f"{namespace}/demo", "0.1.0") == result.digest
    open_registry.assert_tags_complete(f"{namespace}/demo")
    assert proxy.seen[index].fault == FAULTS[kind].kind
    if kind == "429-retry-after":
        assert waited == [7.0]  # the registry's Retry-After, not our backoff
    else:
        assert len(waited) == 1 and 0.2 <= waited[0] <= 0.3  # 250 ms ± 10%


@pytest.mark.parametrize("kind", ["503", "drop-before", "drop-after"])
def test_a_registry_that_keeps_failing_gives_up_cleanly(open_registry: Registry,
                                                        namespace: str, package: PackageResult,
                                                        fault_proxy: Callable[..., FaultProxy],
                                                        kind: str) -> None:
    # healthy for the HEAD, then every request fails
    proxy = fault_proxy(open_registry.host, {i: FAULTS[kind] for i in range(1, 200)})
    waited: list[float] = []
    retry = RetryPolicy(sleep=waited.append)
    with pytest.raises(ReleaseError) as err:
        push_chart(package, proxy.oci(namespace), plain_http=True, retry=retry)
    message = str(err.value)
    assert "\n" not in message and "re-run" in message
    assert err.value.exit_code == 4
    assert len(waited) <= 2 * (retry.max_tries - 1)  # bounded: no retry storm
    pauses = waited[:4]
    assert all(b > a for a, b in itertools.pairwise(pauses))  # backing off
    assert open_registry.manifest_digest(f"{namespace}/demo", "0.1.0") is None
    open_registry.assert_tags_complete(f"{namespace}/demo")


def test_a_request_that_hangs_times_out_and_is_retried(open_registry: Registry, namespace: str,
                                                       package: PackageResult,
                                                       fault_proxy: Callable[..., FaultProxy]
                                                       ) -> None:
    import httpx

    proxy = fault_proxy(open_registry.host, {0: Fault("hold")})  # first HEAD never answers
    waited: list[float] = []
    retry = RetryPolicy(sleep=waited.append)
    result = push_chart(package, proxy.oci(namespace), plain_http=True, retry=retry,
                        timeout=httpx.Timeout(0.5))
    assert result.status == "pushed" and len(waited) == 1
    assert proxy.held.is_set()
