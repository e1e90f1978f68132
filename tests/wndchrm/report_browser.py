"""A headless chromium driven through its DevTools protocol: load a page, time it, collect its console
errors, exceptions and failed loads, take screenshots (desktop and phone width) and print it to PDF.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websocket

#: The flags a sandbox-less, offline headless chromium needs (the profile folder is added per run).
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0"]


def chromium() -> str | None:
    """The chromium binary, or None where it is not installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass
class Loaded:
    """What loading a page gave: seconds to its load event, and every error the page reported."""

    seconds: float
    errors: list[str] = field(default_factory=list)


class Browser:
    """One chromium process and one page tab, for ``with`` use."""

    def __init__(self, timeout: float = 60.0) -> None:
        binary = chromium()
        if binary is None:
            raise RuntimeError("chromium is not installed (apt-get install chromium)")
        self._profile = tempfile.TemporaryDirectory(prefix="chromium-profile-")
        # A session of its own: chromium's helper processes (renderer, GPU, crash handler) go with it at the end.
        self._process = subprocess.Popen([binary, *FLAGS, f"--user-data-dir={self._profile.name}", "about:blank"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self._timeout = timeout
        self._next = 0
        self.events: list[dict[str, Any]] = []
        self._socket = websocket.create_connection(self._page_socket(), timeout=timeout)
        for domain in ("Page", "Runtime", "Log"):
            self.call(f"{domain}.enable")

    def _page_socket(self) -> str:
        port_file = Path(self._profile.name) / "DevToolsActivePort"
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if port_file.exists() and port_file.read_text().strip():
                port = port_file.read_text().split()[0]
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as answer:
                    pages = [t for t in json.load(answer) if t["type"] == "page"]
                if pages:
                    return str(pages[0]["webSocketDebuggerUrl"])
            time.sleep(0.1)
        raise RuntimeError("chromium did not open its DevTools port")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and wait for its answer, keeping the events that arrive meanwhile."""
        self._next += 1
        self._socket.send(json.dumps({"id": self._next, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv())
            if message.get("id") == self._next:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            self.events.append(message)

    def _wait_for(self, event: str) -> None:
        while not any(e.get("method") == event for e in self.events):
            self.events.append(json.loads(self._socket.recv()))

    def load(self, page: Path) -> Loaded:
        """Navigate to ``page`` and wait for its load event; the errors are those seen until then."""
        self.events.clear()
        start = time.monotonic()
        self.call("Page.navigate", url=page.resolve().as_uri())
        self._wait_for("Page.loadEventFired")
        seconds = time.monotonic() - start
        self.call("Runtime.evaluate", expression="1")  # lets events queued during load arrive
        return Loaded(seconds, errors_in(self.events))

    def screenshot(self, out: Path, width: int, height: int, mobile: bool = False) -> None:
        """A full-page PNG at ``width`` CSS pixels (``mobile``: a phone's viewport and scale)."""
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height,
                  deviceScaleFactor=2 if mobile else 1, mobile=mobile)
        shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(shot["data"]))
        self.call("Emulation.clearDeviceMetricsOverride")

    def pdf(self, out: Path) -> None:
        """The page as printed (print style, ``beforeprint`` handlers run), A4."""
        printed = self.call("Page.printToPDF", paperWidth=8.27, paperHeight=11.69, printBackground=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(printed["data"]))

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop chromium and every helper it started, then remove its profile: a helper that outlives the
        browser can still be writing there (the profile's removal then fails on a non-empty folder)."""
        self._socket.close()
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._process.pid, signal.SIGKILL)
        for attempt in range(20):  # the killed helpers' last writes settle within a moment
            try:
                self._profile.cleanup()
                return
            except OSError:
                if attempt == 19:
                    raise
                time.sleep(0.1)


def errors_in(events: list[dict[str, Any]]) -> list[str]:
    """Console errors and warnings, uncaught exceptions, and browser log errors (e.g. a missing file)."""
    found = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
            found.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            found.append("exception: " + str(details.get("exception", {}).get("description", details.get("text"))))
        elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
            found.append(f"log: {params['entry']['text']} {params['entry'].get('url', '')}")
    return found
