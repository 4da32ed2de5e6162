#!/usr/bin/env python3
"""Package a chart with our packager and with Helm's engine (helm_python); print medians and ratio.

Usage: python bench/package_bench.py [CHART_DIR] [--runs N]
Default chart: this repository's chart/ (falls back to the test demo chart when absent).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("chart", nargs="?", type=Path, default=ROOT / "chart")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    import helm_python

    from release.package import build

    with tempfile.TemporaryDirectory() as tmp:
        chart = args.chart
        if not (chart / "Chart.yaml").is_file():
            from tests.charts import DEMO

            for rel, text in DEMO.items():
                (Path(tmp) / rel).parent.mkdir(parents=True, exist_ok=True)
                (Path(tmp) / rel).write_text(text)
            chart = Path(tmp) / "chart"
        files = sum(1 for p in chart.rglob("*") if p.is_file())
        ours, helms = [], []
        for i in range(args.runs):
            out = Path(tmp) / f"o{i}"
            t0 = time.perf_counter()
            build(chart, out / "ours", 1_700_000_000, "1.2.3")
            t1 = time.perf_counter()
            helm_python.package(str(chart), destination=str(out / "helm"), version="1.2.3",
                                app_version="1.2.3")
            t2 = time.perf_counter()
            ours.append(t1 - t0)
            helms.append(t2 - t1)
    mo, mh = statistics.median(ours), statistics.median(helms)
    print(f"chart: {args.chart} ({files} files), runs: {args.runs}")
    print(f"ours (builtin, reproducible): median {mo * 1000:.1f} ms")
    print(f"helm_python.package:          median {mh * 1000:.1f} ms")
    print(f"ratio ours/helm: {mo / mh:.2f}")


if __name__ == "__main__":
    main()
