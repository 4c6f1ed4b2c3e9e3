"""A small client of Chromium's DevTools protocol over ``--remote-debugging-pipe``, for the
catalog's browser tests: Debian's ``/usr/bin/chromium`` headless, nothing downloaded.

Why the pipe and not chromedriver or selenium: the protocol's events are what the tests check
(console errors, uncaught exceptions, CSP refusals, failed requests), which WebDriver only
exposes through vendor log endpoints; the pipe needs no WebSocket library, no port and no
driver whose version must match the browser's. Messages are JSON, each ended by a NUL byte:
we write to the browser's fd 3 and read its fd 4 (as Puppeteer and Playwright do).
"""

from __future__ import annotations

import base64
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
FLAGS = (  # as root on this machine: see the brief / the machine notes
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--mute-audio",
    "--remote-debugging-pipe",
)


def available() -> bool:
    return shutil.which(CHROMIUM) is not None or Path(CHROMIUM).exists()


class CdpError(RuntimeError):
    pass


class Browser:
    """One headless Chromium with a fresh profile; ``page()`` opens a tab."""

    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="catalog-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def child_fds() -> None:  # the browser reads commands on fd 3, writes on fd 4
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.proc = subprocess.Popen(  # noqa: S603 - argv list, our own flags
            [CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=child_fds,  # noqa: PLW1509 - before exec, in the child only
            pass_fds=(3, 4),
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next = 0
        self._replies: dict[int, dict[str, Any]] = {}
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._cond = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_browser, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                with self._cond:
                    self._replies[-1] = {"closed": True}
                    self._cond.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._cond:
                        self._replies[message["id"]] = message
                        self._cond.notify_all()
                else:
                    self._events.put(message)

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None) -> dict[str, Any]:  # fmt: skip
        self._next += 1
        ident = self._next
        message: dict[str, Any] = {"id": ident, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        with self._cond:
            while ident not in self._replies:
                if -1 in self._replies:
                    raise CdpError(f"the browser closed the pipe while {method} ran")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CdpError(f"{method}: no answer in {self.timeout}s")
                self._cond.wait(left)
            reply = self._replies.pop(ident)
        if "error" in reply:
            raise CdpError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def event(self, timeout: float) -> dict[str, Any] | None:
        try:
            return self._events.get(timeout=timeout)
        except queue.Empty:
            return None

    def page(self, width: int = 1200, height: int = 900, dark: bool = False) -> Page:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})
        return Page(self, target, session["sessionId"], width, height, dark)

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except CdpError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)


class Page:
    """A tab: navigate, evaluate, and what went wrong while its pages loaded."""

    def __init__(
        self, browser: Browser, target: str, session: str, width: int, height: int, dark: bool
    ) -> None:
        self.browser, self.target, self.session = browser, target, session
        self.problems: list[str] = []  # console errors, exceptions, CSP refusals, failed loads
        self.requests: list[str] = []  # every URL the page asked for
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable")
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1,
                   "mobile": width < 600})  # fmt: skip
        scheme = "dark" if dark else "light"
        self.send("Emulation.setEmulatedMedia",
                  {"features": [{"name": "prefers-color-scheme", "value": scheme}]})  # fmt: skip

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.browser.send(method, params, self.session)

    def _note(self, event: dict[str, Any]) -> bool:
        """Record one event; True when it is this tab's load event."""
        if event.get("sessionId") != self.session:
            return False
        method, p = event["method"], event.get("params", {})
        if method == "Page.loadEventFired":
            return True
        if method == "Runtime.exceptionThrown":
            details = p.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text")
            self.problems.append(f"exception: {text}")
        elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            args = " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
            self.problems.append(f"console.{p['type']}: {args}")
        elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
            entry = p["entry"]
            self.problems.append(
                f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}"
            )
        elif method == "Network.requestWillBeSent":
            self.requests.append(p["request"]["url"])
        elif method == "Network.loadingFailed":
            self.problems.append(
                f"failed request: {p.get('errorText')} {p.get('blockedReason', '')}"
            )
        elif method == "Network.responseReceived":
            status = p["response"].get("status", 0)
            if status >= 400:
                self.problems.append(f"HTTP {status}: {p['response'].get('url')}")
        return False

    def drain(self, seconds: float = 0.2) -> None:
        """Take in the events that arrive within ``seconds``."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            event = self.browser.event(left)
            if event is not None:
                self._note(event)

    def goto(self, url: str) -> None:
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            self.problems.append(f"navigation to {url}: {result['errorText']}")
            return
        deadline = time.monotonic() + self.browser.timeout
        while time.monotonic() < deadline:
            event = self.browser.event(deadline - time.monotonic())
            if event is not None and self._note(event):
                break
        else:
            raise CdpError(f"{url} did not finish loading")
        self.drain(0.3)  # late console messages, chart drawing

    def js(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate",
                           {"expression": expression, "returnByValue": True,
                            "awaitPromise": True})  # fmt: skip
        if "exceptionDetails" in result:
            raise CdpError(f"{expression[:60]}...: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, path: Path, full_page: bool = True) -> None:
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            size = self.js(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
            )
            params["clip"] = {"x": 0, "y": 0, "width": size[0], "height": size[1], "scale": 1}
        data = self.send("Page.captureScreenshot", params)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})
