"""Headless Chromium (Debian's `chromium`) driven over the DevTools protocol on a pipe.

One browser start serves a whole test: load a page, read the rendered DOM and layout with
`Runtime.evaluate`, switch between desktop and phone viewports, take screenshots. The pipe
(`--remote-debugging-pipe`: the browser reads commands on fd 3 and writes answers on fd 4, each
a JSON text ended by NUL) needs no port and no network. Every wait is bounded by a deadline; no
sleeps.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio")


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("chromium is not installed (apt-get install chromium; scripts/test does it)")
    return found


class Browser:
    def __init__(self, profile: Path, deadline: float = 90.0) -> None:
        self.deadline = time.monotonic() + deadline
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # The shell moves the pipes from stdin/stdout to fds 3/4, then execs the browser.
        self.proc = subprocess.Popen(
            ["sh", "-c", 'exec "$@" 3<&0 4>&1 0</dev/null 1>/dev/null', "sh", chromium(), *FLAGS,
             f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            stdin=to_browser_r, stdout=from_browser_w, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.session = ""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget",
                                 {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable")

    def _read(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("chromium did not answer in time")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"chromium closed the pipe (exit {self.proc.poll()})")
                self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        data: dict[str, Any] = json.loads(message)
        return data

    def call(self, method: str, params: dict[str, Any] | None = None,
             wait_event: str | None = None) -> dict[str, Any]:
        """Send one command (in the page's session once attached); wait for its answer and,
        when asked, for an event of the page that follows it."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if self.session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        result: dict[str, Any] | None = None
        seen_event = wait_event is None
        while result is None or not seen_event:
            data = self._read()
            if data.get("id") == self._next_id:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                result = data.get("result", {})
            elif wait_event and data.get("method") == wait_event:
                seen_event = True
        return result

    def open(self, url: str, width: int, height: int, mobile: bool) -> None:
        self.viewport(width, height, mobile)
        self.call("Page.navigate", {"url": url}, wait_event="Page.loadEventFired")

    def viewport(self, width: int, height: int, mobile: bool) -> None:
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    def evaluate(self, expression: str) -> Any:
        answer = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in answer:
            raise RuntimeError(f"page script failed: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    def screenshot(self, path: Path) -> Path:
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        try:
            self.session = ""
            if self.proc.poll() is None:
                self.call("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        finally:
            for fd in (self._to_browser, self._from_browser):
                with contextlib.suppress(OSError):
                    os.close(fd)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
