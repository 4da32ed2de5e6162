"""A loopback Kubernetes API server answering reads of a fixed set of objects.

Why: the chart's NetworkPolicy looks up the `kubernetes` Service and its EndpointSlices at install
time. Helm's `lookup` asks the API server for discovery (`/api/v1`, `/apis/<group>/<version>`)
and then GETs the object or the list; this server answers exactly those reads with Kubernetes'
own response shapes (APIResourceList, the objects, a `<Kind>List`, a NotFound Status), so Helm's
real lookup code runs end to end. It serves only loopback and stops with the context.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.hostile import send_json

# kind -> (group/version, plural, namespaced): what discovery tells the client
RESOURCES: dict[str, tuple[str, str, bool]] = {
    "Service": ("v1", "services", True),
    "EndpointSlice": ("discovery.k8s.io/v1", "endpointslices", True),
}


def _discovery(group_version: str) -> dict[str, Any]:
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": [
            {
                "name": plural,
                "singularName": kind.lower(),
                "namespaced": namespaced,
                "kind": kind,
                "verbs": ["get", "list", "watch"],
            }
            for kind, (gv, plural, namespaced) in RESOURCES.items()
            if gv == group_version
        ],
    }


def _prefix(group_version: str) -> str:
    return "/api/v1" if group_version == "v1" else f"/apis/{group_version}"


def _routes(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Path -> response body: discovery, each object, and each namespace's list (empty in `default`)."""
    routes: dict[str, dict[str, Any]] = {}
    for kind, (gv, plural, _) in RESOURCES.items():
        routes[_prefix(gv)] = _discovery(gv)
        empty = {"kind": f"{kind}List", "apiVersion": gv, "metadata": {}, "items": []}
        routes[f"{_prefix(gv)}/namespaces/default/{plural}"] = empty
    for obj in objects:
        gv, plural, _ = RESOURCES[obj["kind"]]
        base = f"{_prefix(gv)}/namespaces/{obj['metadata']['namespace']}/{plural}"
        routes[f"{base}/{obj['metadata']['name']}"] = obj
        listing = routes.setdefault(
            base, {"kind": f"{obj['kind']}List", "apiVersion": gv, "metadata": {}, "items": []}
        )
        listing["items"] = [*listing["items"], obj]
    return routes


@contextmanager
def serve(objects: list[dict[str, Any]]) -> Iterator[tuple[str, list[str]]]:
    """Serve `objects`; yields the server URL and the list of paths requested."""
    routes = _routes(objects)
    requested: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            requested.append(path)
            body = routes.get(path)
            status = 200 if body is not None else 404
            if body is None:
                body = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                        "status": "Failure", "reason": "NotFound", "code": 404,
                        "message": f"{path} not found"}  # fmt: skip
            send_json(self, status, body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requested
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
