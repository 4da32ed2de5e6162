"""Origins (scheme, host, port): what a credential is bound to.

A registry login belongs to the registry's origin, a GitHub token to GitHub's API and upload
origins; `release.sender` and the clients' `httpx.Auth` objects compare every request's origin
with these before attaching anything. Plain HTTP carries a secret only to loopback (tests).
Pure functions on text, so settings can be checked without importing an HTTP library.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

Origin = tuple[str, str, int]

_DEFAULT_PORTS = {"https": 443, "http": 80}


def origin_of(url: object) -> Origin:
    """(scheme, host, port) with the scheme's default port filled in."""
    parts = urlsplit(str(url))
    try:
        port = parts.port
    except ValueError:
        port = None
    scheme = parts.scheme.lower()
    return (scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme, 0))


def show_origin(origin: Origin) -> str:
    scheme, host, port = origin
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}" + ("" if port == _DEFAULT_PORTS.get(scheme) else f":{port}")


def is_loopback_host(host: str) -> bool:
    """localhost, 127.0.0.0/8 and ::1, with or without brackets or a port."""
    name = host.strip()
    if name.startswith("["):
        name = name[1:].split("]", 1)[0]
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def secure_origin(origin: Origin) -> bool:
    """May a secret travel to this origin? HTTPS anywhere, plain HTTP to loopback only."""
    return origin[0] == "https" or (origin[0] == "http" and is_loopback_host(origin[1]))
