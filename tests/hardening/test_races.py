"""Two publishers of one version at the same moment: exactly one reports success.

The OCI protocol has no conditional tag write, so both pass the "is the tag free?" HEAD; the
read-back after writing is what tells the loser. A proxy in front of the real registry makes the
worst interleaving certain: it holds both manifest writes until both have arrived, forwards them
one after the other, and answers neither before both are written.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest

from release.errors import Conflict
from release.oci.publish import PushResult, prepare_upload
from release.package import PackageResult
from release.retry import RetryPolicy
from tests.hostile import Answer, Scripted, Seen
from tests.pushing import push_chart
from tests.registry_fixtures import Registry

pytestmark = pytest.mark.registry


def racing_proxy(upstream: str) -> tuple[Callable[[Seen], Answer], list[str]]:
    both_arrived = threading.Barrier(2, timeout=30)
    both_written = threading.Barrier(2, timeout=30)
    one_at_a_time = threading.Lock()
    order: list[str] = []
    client = httpx.Client(base_url=upstream, timeout=30)
    proxy_netloc: list[str] = []

    def forward(seen: Seen) -> Answer:
        headers = {k: v for k, v in seen.headers.items()
                   if k not in ("host", "content-length", "connection")}
        r = client.request(seen.method, seen.path, headers=headers, content=seen.body)
        out = {k: v for k, v in r.headers.items()
               if k.lower() not in ("content-length", "transfer-encoding", "connection",
                                    "location")}
        if "location" in r.headers:  # keep the client on the proxy's origin
            out["Location"] = r.headers["location"].replace(upstream, f"http://{proxy_netloc[0]}")
        return Answer(r.status_code, out, r.content)

    def handle(seen: Seen) -> Answer:
        if seen.method == "PUT" and "/manifests/" in seen.path:
            both_arrived.wait()
            with one_at_a_time:
                answer = forward(seen)
                order.append(answer.headers.get("docker-content-digest", ""))
            both_written.wait()
            return answer
        return forward(seen)

    handle.netloc = proxy_netloc  # type: ignore[attr-defined]
    return handle, order


def test_exactly_one_of_two_racing_publishers_reports_success(
        open_registry: Registry, namespace: str,
        make_package: Callable[..., PackageResult]) -> None:
    ours, theirs = make_package(extra="ours"), make_package(extra="theirs")
    handle, order = racing_proxy(open_registry.url)
    results: dict[str, PushResult | Exception] = {}
    with Scripted(handle) as proxy:
        handle.netloc.append(proxy.netloc)  # type: ignore[attr-defined]
        registry = f"oci://{proxy.netloc}/{namespace}"

        def publish(name: str, package: PackageResult) -> None:
            try:
                results[name] = push_chart(package, registry, plain_http=True,
                                           retry=RetryPolicy(sleep=lambda _: None))
            except Exception as exc:
                results[name] = exc

        threads = [threading.Thread(target=publish, args=("ours", ours)),
                   threading.Thread(target=publish, args=("theirs", theirs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    winners = [n for n, r in results.items() if isinstance(r, PushResult)]
    losers = [n for n, r in results.items() if isinstance(r, Conflict)]
    assert len(winners) == 1 and len(losers) == 1, results
    loss = str(results[losers[0]])
    assert "another publisher won the race" in loss and "was not kept" in loss
    held = open_registry.manifest_digest(f"{namespace}/demo", "0.1.0")
    winner_pkg = ours if winners[0] == "ours" else theirs
    assert held == prepare_upload(winner_pkg, registry, plain_http=True).digest
    assert order[-1] == held  # the last write is the one kept, and its writer won
