#!/usr/bin/env python3
"""Benchmark: the full changelog and one release's notes, beside commitizen and `git log`.

    bench/notes_bench.py [--histories 10000,50000] [--runs 5] [--cz PATH | --no-cz]

Histories come from /work/shared/bench/make-history.py (`--commits 10000` ≈ 10.7k commits and
520 tags; `--commits 50000` ≈ 53k commits and 2,600 tags, hotfix branches, reverts, squash and
merge commits), built once and cached under $TMPDIR. Every figure runs a real command in a fresh
process, interpreter start included; time is the median of --runs runs and peak memory the median
of their largest resident set, the command's or any process it waited for (wait4's rusage, so git
counts too).

Beside ours, in the same run: commitizen 4.19.3 (`cz changelog --dry-run`, and `cz changelog
--dry-run VERSION` for one release) from a scratch venv it installs under $TMPDIR — never a
project dependency — with `tag_format = "v$version"` in an untracked `.cz.toml`; and the floor,
`git log` of every commit with its message. Targets (issue #13): full changelog <= 0.30 s on the
10k history and <= 1.0 s on the 53k one, peak memory no more than commitizen's on each, one
release <= 0.10 s.
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
COMMITIZEN = "commitizen==4.19.3"
TIME_TARGET = {10000: 0.30, 50000: 1.0}
ONE_RELEASE_TARGET = 0.10
CZ_CONFIG = '[tool.commitizen]\nname = "cz_conventional_commits"\ntag_format = "v$version"\n'


def cli() -> list[str]:
    exe = Path(sys.executable).with_name("ameide-release")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "release"]


def compile_bytecode() -> None:
    """Measure the tool as installed: pip compiles a package's bytecode at install time, but an
    editable install compiles on first import, and never keeps it under PYTHONDONTWRITEBYTECODE
    (set on some CI machines): every run would then recompile every changed module."""
    import compileall

    import release

    compileall.compile_dir(Path(release.__file__).parent, quiet=1)


def build(commits: int) -> Path:
    out = Path(tempfile.gettempdir()) / f"ameide-notes-bench-{commits}"
    if not ((out / ".git").is_dir() and (out / ".complete").exists()):
        shutil.rmtree(out, ignore_errors=True)
        print(f"building a {commits}-commit history in {out} ...", file=sys.stderr)
        subprocess.run([sys.executable, str(MAKE_HISTORY), str(out), "--commits", str(commits)],
                       check=True, stdout=subprocess.DEVNULL)
        with (out / ".git" / "info" / "exclude").open("a") as fh:
            fh.write(".complete\n.cz.toml\n")
        (out / ".complete").write_text("")
    (out / ".cz.toml").write_text(CZ_CONFIG)
    return out


def commitizen() -> Path:
    venv = Path(tempfile.gettempdir()) / "ameide-notes-bench-cz"
    cz = venv / "bin" / "cz"
    if not cz.exists():
        print(f"installing {COMMITIZEN} into {venv} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", COMMITIZEN], check=True)
    return cz


def run(argv: list[str], cwd: Path) -> tuple[float, int, int]:
    """Wall seconds, peak RSS in KiB (the process and the children it waited for), bytes out."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        err = proc.stderr.read() if proc.stderr else b""
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(argv)} failed: {err.decode(errors='replace')}")
        return elapsed, usage.ru_maxrss, out.tell()


def measure(argv: list[str], cwd: Path, runs: int) -> tuple[float, float]:
    """(median seconds, median peak MB) after one warm-up run."""
    run(argv, cwd)
    results = [run(argv, cwd) for _ in range(runs)]
    return (statistics.median(r[0] for r in results),
            statistics.median(r[1] for r in results) / 1024)


def latest_final_tag(repo: Path) -> str:
    out = subprocess.run(["git", "-C", str(repo), "tag", "--list", "v*", "--sort=-v:refname"],
                         capture_output=True, text=True, check=True).stdout.split()
    return next(t for t in out if "-" not in t)


def count(repo: Path) -> tuple[str, int]:
    commits = subprocess.run(["git", "-C", str(repo), "rev-list", "--all", "--count"],
                             capture_output=True, text=True, check=True).stdout.strip()
    tags = len(subprocess.run(["git", "-C", str(repo), "tag"], capture_output=True, text=True,
                              check=True).stdout.split())
    return commits, tags


def cell(figures: tuple[float, float] | None) -> str:
    return "—" if figures is None else f"{figures[0]:.3f} s, {figures[1]:.0f} MB"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--histories", default="10000,50000",
                    help="make-history.py --commits values, comma-separated")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--cz", type=Path, help="an existing commitizen `cz` to compare with")
    ap.add_argument("--no-cz", action="store_true", help="skip commitizen")
    args = ap.parse_args()
    cz = None if args.no_cz else (args.cz or commitizen())
    ours = cli()
    compile_bytecode()
    rows: list[tuple[str, str, str, str]] = []
    verdicts: list[str] = []
    for size in (int(n) for n in args.histories.split(",")):
        repo = build(size)
        commits, tags = count(repo)
        label = f"{commits} commits / {tags} tags"
        mine = measure([*ours, "--repo", str(repo), "changelog"], repo, args.runs)
        theirs = measure([str(cz), "changelog", "--dry-run"], repo, args.runs) if cz else None
        floor = measure(["git", "log", "--tags", "--format=%H %P%n%B"], repo, args.runs)
        rows.append((f"full changelog, {label}", cell(mine), cell(theirs), cell(floor)))
        target = TIME_TARGET.get(size)
        if target is not None:
            verdicts.append(f"full changelog {label}: {mine[0]:.3f} s (target {target} s: "
                            f"{'ok' if mine[0] <= target else 'OVER'})")
        if theirs is not None:
            verdicts.append(f"peak memory {label}: {mine[1]:.0f} MB vs commitizen "
                            f"{theirs[1]:.0f} MB ({'ok' if mine[1] <= theirs[1] else 'OVER'})")
        tag = latest_final_tag(repo)
        one = measure([*ours, "--repo", str(repo), "notes", "--tag", tag], repo, args.runs)
        cz_one = (measure([str(cz), "changelog", "--dry-run", tag.removeprefix("v")], repo,
                          args.runs) if cz else None)
        rows.append((f"one release ({tag}), {label}", cell(one), cell(cz_one), ""))
        verdicts.append(f"one release {label}: {one[0]:.3f} s (target {ONE_RELEASE_TARGET} s: "
                        f"{'ok' if one[0] <= ONE_RELEASE_TARGET else 'OVER'})")
    print(f"median of {args.runs} runs, interpreter start included; peak = largest resident set "
          "of the command or any process it waited for\n")
    print("| what | ameide-release | commitizen 4.19.3 | floor (`git log` of all commits) |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    for line in verdicts:
        print(line)
    return 0 if all(v.endswith("ok)") for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
