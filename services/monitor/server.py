"""The monitor's HTTP endpoint: ``/metrics`` from the registry, ``/healthz`` for probes.

``/healthz`` answers 200 whenever this process can serve HTTP, whether or not beanstalkd is reachable.
A liveness probe that failed with beanstalkd would restart a healthy monitor in a loop during every
beanstalkd outage, and a readiness probe that failed would take the monitor out of its Service exactly
when Prometheus most needs ``wndchrm_queue_beanstalkd_up 0``. beanstalkd's health is a metric, not a probe.
The body says whether the last scrape reached beanstalkd, for humans.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app
from prometheus_client.registry import CollectorRegistry

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes and scrapes every few seconds would drown the log."""


def make_app(registry: CollectorRegistry, health: Callable[[], str]) -> WSGIApp:
    """``/healthz`` (always 200, body from ``health()``) in front of prometheus-client's metrics app."""
    metrics = make_wsgi_app(registry)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return [health().encode() + b"\n"]
        return metrics(environ, start_response)  # type: ignore[no-any-return]

    return app


def serve(registry: CollectorRegistry, health: Callable[[], str], host: str, port: int,
          background: bool = False) -> WSGIServer:
    """Serve until the process ends; ``background=True`` returns at once with a daemon thread serving."""
    server = make_server(host, port, make_app(registry, health), _ThreadingServer,
                         handler_class=_QuietHandler)
    if background:
        threading.Thread(target=server.serve_forever, name="monitor-http", daemon=True).start()
    else:
        server.serve_forever()
    return server
