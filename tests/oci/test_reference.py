"""oci:// references → repository and tag, as Helm resolves them."""

from __future__ import annotations

import pytest

from release.errors import BadInput
from release.oci.reference import chart_ref, split_registry, tag_for_version
from release.origin import is_loopback_host as is_loopback


def test_helm_layout_and_plus_becomes_underscore() -> None:
    ref = chart_ref("oci://ghcr.io/ameideio/charts", "operators", "1.2.3+build.5")
    assert (ref.host, ref.repository, ref.tag) == ("ghcr.io", "ameideio/charts/operators",
                                                   "1.2.3_build.5")
    assert ref.oci == "oci://ghcr.io/ameideio/charts/operators:1.2.3_build.5"
    assert str(ref) == "ghcr.io/ameideio/charts/operators:1.2.3_build.5"


def test_port_and_empty_namespace() -> None:
    assert split_registry("oci://localhost:5000") == ("localhost:5000", "")
    assert chart_ref("oci://localhost:5000/", "demo", "0.1.0").repository == "demo"


@pytest.mark.parametrize("registry", ["https://ghcr.io/x", "ghcr.io/x", "oci://", "oci://ghcr.io/X",
                                      "oci://ghcr.io/x:1.0", "oci://ghcr.io/x@sha256:ab",
                                      "oci://bad host/x"])
def test_bad_registries_are_refused_with_the_form(registry: str) -> None:
    with pytest.raises(BadInput) as err:
        chart_ref(registry, "demo", "0.1.0")
    assert "\n" not in str(err.value)


def test_tag_grammar() -> None:
    assert tag_for_version("1.0.0-rc.1") == "1.0.0-rc.1"
    with pytest.raises(BadInput):
        tag_for_version("1.0.0/evil")
    with pytest.raises(BadInput):
        tag_for_version("1" * 129)


def test_plain_http_only_for_loopback() -> None:
    assert chart_ref("oci://127.0.0.1:5000/x", "demo", "1.0.0", plain_http=True).plain_http
    with pytest.raises(BadInput, match="loopback"):
        chart_ref("oci://ghcr.io/x", "demo", "1.0.0", plain_http=True)
    assert is_loopback("localhost") and is_loopback("[::1]:5000") and is_loopback("127.1.2.3:1")
    assert not is_loopback("10.0.0.1:5000") and not is_loopback("ghcr.io")


def test_uppercase_chart_name_is_refused() -> None:
    with pytest.raises(BadInput, match="chart name"):
        chart_ref("oci://ghcr.io/x", "Demo", "1.0.0")
