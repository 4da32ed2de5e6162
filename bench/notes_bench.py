#!/usr/bin/env python3
"""Benchmark: full changelog and one release's notes on a huge synthetic history.

    bench/notes_bench.py [--repo DIR] [--commits 50000] [--runs 5]

Without --repo it builds (once, cached under $TMPDIR) the repository that
/work/shared/bench/make-history.py makes: 53,000 commits and 2,600 tags with hotfix branches,
reverts, squash and merge commits. Every measurement runs the real CLI in a fresh subprocess,
so interpreter start and imports are included. Peak memory is the largest resident set of the
command and the git processes it waits for (wait4's rusage). Targets on a 2-core machine:
full changelog <= 1.5 s, one release <= 0.2 s, memory <= 200 MB.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The shared/ folder sits beside the project checkout (here and in CI); MAKE_HISTORY overrides.
MAKE_HISTORY = Path(os.environ.get(
    "MAKE_HISTORY", Path(__file__).resolve().parents[2] / "shared/bench/make-history.py"))
TARGETS = {"changelog": 1.5, "notes": 0.2}
MEMORY_TARGET_MB = 200


def cli() -> list[str]:
    exe = Path(sys.executable).with_name("ameide-release")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "release"]


def build(commits: int) -> Path:
    out = Path(tempfile.gettempdir()) / f"ameide-notes-bench-{commits}"
    if (out / ".git").is_dir() and (out / ".complete").exists():
        return out
    shutil.rmtree(out, ignore_errors=True)
    print(f"building a {commits}-commit history in {out} ...", file=sys.stderr)
    subprocess.run([sys.executable, str(MAKE_HISTORY), str(out), "--commits", str(commits)],
                   check=True, stdout=subprocess.DEVNULL)
    (out / ".git" / "info" / "exclude").open("a").write(".complete\n")
    (out / ".complete").write_text("")
    return out


def run(argv: list[str]) -> tuple[float, int, bytes]:
    """Wall seconds, peak RSS in KiB (the process and the children it waited for), stdout."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read() if proc.stderr else b""
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {err.decode(errors='replace')}")
        out.seek(0)
        return elapsed, usage.ru_maxrss, out.read()


def latest_tag(repo: Path) -> str:
    out = subprocess.run(["git", "-C", str(repo), "tag", "--list", "v*", "--sort=-v:refname"],
                         capture_output=True, text=True, check=True).stdout.split()
    return next(t for t in out if "-" not in t)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repo", type=Path)
    ap.add_argument("--commits", type=int, default=50000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    repo = args.repo or build(args.commits)
    count = subprocess.run(["git", "-C", str(repo), "rev-list", "--all", "--count"],
                           capture_output=True, text=True, check=True).stdout.strip()
    tags = len(subprocess.run(["git", "-C", str(repo), "tag"], capture_output=True, text=True,
                              check=True).stdout.split())
    tag = latest_tag(repo)
    base = [*cli(), "--repo", str(repo)]
    cases = {
        "changelog": [*base, "changelog"],
        "notes": [*base, "notes", "--tag", tag],
    }
    print(f"repository: {repo} ({count} commits, {tags} tags); {args.runs} runs each, "
          f"interpreter start included")
    peak = 0
    ok = True
    for name, argv in cases.items():
        run(argv)  # warm the page cache
        times = []
        size = 0
        for _ in range(args.runs):
            elapsed, rss, out = run(argv)
            times.append(elapsed)
            peak = max(peak, rss)
            size = len(out)
        best, median = min(times), statistics.median(times)
        verdict = "ok" if median <= TARGETS[name] else "OVER"
        ok &= verdict == "ok"
        label = "full changelog" if name == "changelog" else f"one release ({tag})"
        print(f"{label:<28} best {best:.3f} s  median {median:.3f} s  "
              f"(target {TARGETS[name]} s: {verdict}; {size} bytes of Markdown)")
    mem_ok = peak / 1024 <= MEMORY_TARGET_MB
    ok &= mem_ok
    print(f"{'peak memory':<28} {peak / 1024:.0f} MB  (target {MEMORY_TARGET_MB} MB: "
          f"{'ok' if mem_ok else 'OVER'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
