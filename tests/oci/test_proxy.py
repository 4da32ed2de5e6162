"""The registry client goes through the proxy the environment names, as the GitHub client does:
behind a corporate proxy, registry traffic that ignored HTTPS_PROXY would fail (or leave the
network by a way the operator did not allow) while the GitHub steps work. NO_PROXY is honoured.

The proxies here are loopback servers: a `Listener` that records the CONNECT a client sends for
an HTTPS origin, and a scripted server that answers a plain-HTTP request in absolute form."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from release.errors import RemoteError
from release.oci.client import RegistryClient
from release.retry import RetryPolicy
from tests.hostile import Answer, Listener, Scripted, Seen

DIGEST = "sha256:" + "d" * 64
_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


@pytest.fixture
def proxy_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No proxy variable from the machine leaks in (either spelling); each test sets its own."""
    for name in _VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    yield monkeypatch


def _answer(seen: Seen) -> Answer:
    return Answer(200, {"Docker-Content-Digest": DIGEST})


def test_https_registry_traffic_tunnels_through_https_proxy(
        proxy_env: pytest.MonkeyPatch) -> None:
    proxy = Listener()
    try:
        proxy_env.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.port}")
        with RegistryClient("registry.example", retry=RetryPolicy(max_tries=1)) as client, \
                pytest.raises(RemoteError):
            client.manifest_digest("ns/demo", "1.0.0")  # this proxy hangs up on everyone
    finally:
        proxy.stop()
    assert proxy.connections == 1
    assert proxy.received[0].startswith(b"CONNECT registry.example:443 HTTP/1.1\r\n")


def test_plain_http_registry_traffic_goes_through_http_proxy_and_is_counted(
        proxy_env: pytest.MonkeyPatch) -> None:
    with Scripted(_answer) as proxy:
        proxy_env.setenv("HTTP_PROXY", f"http://{proxy.netloc}")
        with RegistryClient("registry.example:5000", plain_http=True) as client:
            assert client.manifest_digest("ns/demo", "1.0.0") == DIGEST
            assert client.requests == 1
    assert [s.path for s in proxy.seen] == ["http://registry.example:5000/v2/ns/demo/"
                                            "manifests/1.0.0"]


def test_no_proxy_keeps_loopback_direct(proxy_env: pytest.MonkeyPatch) -> None:
    proxy = Listener()
    try:
        proxy_env.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        proxy_env.setenv("NO_PROXY", "127.0.0.1")
        with Scripted(_answer) as registry, \
                RegistryClient(registry.netloc, plain_http=True) as client:
            assert client.manifest_digest("ns/demo", "1.0.0") == DIGEST
            assert client.requests == 1
        assert len(registry.seen) == 1
    finally:
        proxy.stop()
    assert proxy.connections == 0
