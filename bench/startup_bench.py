#!/usr/bin/env python3
"""Cold start of `ameide-release --help` (target <= 0.3 s): median of N fresh interpreters.

Usage: python bench/startup_bench.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    cmd = [sys.executable, "-m", "release", "--help"]
    subprocess.run(cmd, capture_output=True, check=True)  # warm the OS file cache once
    times = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    base = []
    for _ in range(args.runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], capture_output=True, check=True)
        base.append(time.perf_counter() - t0)
    print(f"ameide-release --help: median {statistics.median(times) * 1000:.0f} ms, "
          f"max {max(times) * 1000:.0f} ms over {args.runs} runs")
    print(f"bare interpreter:      median {statistics.median(base) * 1000:.0f} ms")
    heavy = subprocess.run(
        [sys.executable, "-c", "import sys, release.cli; print(sorted(m for m in sys.modules "
         "if m.split('.')[0] in {'httpx','jinja2','ruamel','git','helm_python'}))"],
        capture_output=True, text=True, check=True).stdout.strip()
    print(f"heavy modules imported by --help: {heavy}")


if __name__ == "__main__":
    main()
