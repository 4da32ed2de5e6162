"""Times as the formats we write them: one definition, so OCI `created`, index `created` and
`generated` always agree for one commit, and a release's date is that commit's UTC day."""

from __future__ import annotations

import time


def rfc3339(epoch: int) -> str:
    """Seconds since the epoch as RFC 3339 UTC, e.g. 2024-01-02T03:04:05Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def utc_day(epoch: int) -> str:
    """Seconds since the epoch as the UTC calendar day, e.g. 2024-01-02 (a release's date)."""
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))
