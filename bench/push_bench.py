"""Our push vs Helm's (helm_python = Helm 4.2.3's engine) against the same local registries.

For each mode (open, token auth) and client: HTTP requests of a first publish and of a repeat,
counted at a loopback proxy (token requests counted at the token server), and the median wall
time over --runs publishes. Prints a table; nothing is asserted (speed is not a test).

    .venv/bin/python bench/push_bench.py --runs 7
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from release.oci.credentials import Credentials  # noqa: E402
from release.package import PackageResult, build  # noqa: E402
from tests.oci.conftest import COMMIT_TIME, write_chart  # noqa: E402
from tests.pushing import push_chart  # noqa: E402
from tests.registry_fixtures import (  # noqa: E402
    TEST_PASSWORD,
    TEST_USER,
    FaultProxy,
    Registry,
    start_registry,
)


def measure(push: Callable[[str], None], proxy: FaultProxy, registry: Registry,
            runs: int) -> dict[str, float]:
    firsts, repeats, first_times, repeat_times = [], [], [], []
    for _ in range(runs):
        namespace = "b" + uuid.uuid4().hex[:10]
        for bucket, times in ((firsts, first_times), (repeats, repeat_times)):
            proxy.reset()
            tokens_before = len(registry.token_server.requests) if registry.token_server else 0
            start = time.perf_counter()
            push(namespace)
            times.append(time.perf_counter() - start)
            tokens = (len(registry.token_server.requests) - tokens_before
                      if registry.token_server else 0)
            bucket.append(proxy.count + tokens)
    return {"first": statistics.median(firsts), "repeat": statistics.median(repeats),
            "first_ms": statistics.median(first_times) * 1000,
            "repeat_ms": statistics.median(repeat_times) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import helm_python

    with tempfile.TemporaryDirectory(prefix="push-bench-") as tmp_name:
        tmp = Path(tmp_name)
        package: PackageResult = build(write_chart(tmp / "src"), tmp / "dist", COMMIT_TIME)
        rows = []
        for mode in ("open", "token"):
            registry = start_registry(mode, tmp / f"registry-{mode}")
            proxy = FaultProxy(registry.host)
            creds = Credentials(TEST_USER, TEST_PASSWORD, "bench") if mode != "open" else None
            try:
                def ours(namespace: str, creds: Credentials | None = creds,
                         proxy: FaultProxy = proxy) -> None:
                    push_chart(package, proxy.oci(namespace), plain_http=True,
                               credentials=creds)

                helm = helm_python.RegistryClient(plain_http=True,
                                                  credentials_file=str(tmp / f"helm-{mode}.json"))
                if creds:
                    helm.login(proxy.host, TEST_USER, TEST_PASSWORD, plain_http=True)

                def helms(namespace: str, helm: helm_python.RegistryClient = helm,
                          proxy: FaultProxy = proxy) -> None:
                    helm.push(str(package.path), proxy.oci(namespace), plain_http=True)

                rows.append((mode, "ameide-release", measure(ours, proxy, registry, args.runs)))
                rows.append((mode, "helm (4.2.3)", measure(helms, proxy, registry, args.runs)))
            finally:
                proxy.stop()
                registry.stop()
                if registry.token_server:
                    registry.token_server.stop()

    print(f"chart archive {package.size} bytes, {args.runs} runs each, medians")
    print(f"{'registry':<8} {'client':<15} {'first req':>9} {'repeat req':>10} "
          f"{'first ms':>9} {'repeat ms':>10}")
    for mode, client, m in rows:
        print(f"{mode:<8} {client:<15} {m['first']:>9.0f} {m['repeat']:>10.0f} "
              f"{m['first_ms']:>9.1f} {m['repeat_ms']:>10.1f}")


if __name__ == "__main__":
    main()
