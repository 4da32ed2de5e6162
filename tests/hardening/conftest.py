"""The adversarial suite (issue #14): hostile servers, crafted files, races and failing disks.

Every test asserts the exit code (or the error class behind it), a one-line message, that no
secret appears anywhere, and that nothing published was changed."""

from tests.oci.conftest import fast_retry, make_package, package  # noqa: F401 (fixtures)
