"""Lint the archive we are about to publish with Helm's own engine.

Helm's engine is `helm_python` (the `helm` extra) or, failing that, a `helm` binary on PATH. With
neither, the release is not blocked: the result says lint was skipped and how to enable it.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LintResult:
    engine: str  # "helm_python", "helm", or "none"
    errors: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def skipped(self) -> bool:
        return self.engine == "none"


def load_engine() -> bool:
    """Load Helm's engine (a Go shared library: ~80 ms), so a caller can start it early on a
    thread while it builds what is to be linted. True when it is there."""
    import importlib.util

    if importlib.util.find_spec("helm_python") is None:
        return False
    import helm_python  # noqa: F401

    return True


def lint_chart(path: Path) -> LintResult:
    if load_engine():
        import helm_python

        report = helm_python.lint(str(path), {})
        messages = report.get("messages", [])
        errors = tuple(str(e) for e in report.get("errors", []))
        warnings = tuple(f"{m['path']}: {m['error']}" for m in messages if m.get("severity") == 2)
        return LintResult("helm_python", errors, warnings)
    helm = shutil.which("helm")
    if helm is not None:
        proc = subprocess.run([helm, "lint", str(path)], capture_output=True, text=True, check=False)
        lines = proc.stdout.splitlines()
        errors = tuple(line for line in lines if line.startswith("[ERROR]"))
        if proc.returncode != 0 and not errors:
            errors = (proc.stderr.strip() or "helm lint failed",)
        warnings = tuple(line for line in lines if line.startswith("[WARNING]"))
        return LintResult("helm", errors, warnings)
    return LintResult("none", (), ())
