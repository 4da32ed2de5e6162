"""Chart archives for the gh-pages script tests: the same Helm-built fixture as tests/index."""

from tests.index.conftest import make_chart

__all__ = ["make_chart"]
