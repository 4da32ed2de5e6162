"""Real git repositories for tests: real commits, tags and branches in a tmp dir."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


class GitBuilder:
    """A throwaway repository with a deterministic clock, so commit times are known."""

    def __init__(self, root: Path, start: int = 1_700_000_000) -> None:
        self.root = root
        self.clock = start
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.name", "Test Author")
        self.git("config", "user.email", "author@example.com")
        self.git("config", "commit.gpgsign", "false")
        self.git("config", "tag.gpgsign", "false")

    def git(self, *args: str) -> str:
        env = {
            **os.environ,
            "GIT_AUTHOR_DATE": f"@{self.clock} +0000",
            "GIT_COMMITTER_DATE": f"@{self.clock} +0000",
            "LC_ALL": "C",
        }
        out = subprocess.run(["git", *args], cwd=self.root, env=env, check=True,
                             capture_output=True, text=True)
        return out.stdout

    def write(self, path: str, content: str | bytes) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
        return target

    def commit(self, message: str, files: dict[str, str | bytes] | None = None,
               allow_empty: bool = False) -> str:
        """Write files (default: touch a unique file under chart/) and commit; returns the sha."""
        self.clock += 60
        if files is None and not allow_empty:
            files = {f"chart/templates/c{self.clock}.txt": message}
        for path, content in (files or {}).items():
            self.write(path, content)
        self.git("add", "-A")
        # from a file: a message may be longer than one command-line argument can be
        message_file = self.root / ".git" / "COMMIT_MESSAGE_FOR_TEST"
        message_file.write_text(message, encoding="utf-8")
        args = ["commit", "-q", "-F", str(message_file)]
        if allow_empty or not files:
            args.append("--allow-empty")
        self.git(*args)
        return self.head()

    def tag(self, name: str, rev: str = "HEAD", annotated: bool = False) -> None:
        if annotated:
            self.git("tag", "-a", name, "-m", name, rev)
        else:
            self.git("tag", name, rev)

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").strip()

    def checkout(self, *args: str) -> None:
        self.git("checkout", "-q", *args)

    def merge(self, branch: str, message: str) -> str:
        self.clock += 60
        self.git("merge", "-q", "--no-ff", "-m", message, branch)
        return self.head()
