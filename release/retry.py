"""When and how long to wait before trying an HTTP request again (used by `release.sender`).

Registries, like oras-go: at most 5 tries, 250 ms doubling, 10% jitter; GitHub: 1 s doubling, no
jitter. A `Retry-After` from the server wins (capped, so a hostile value cannot park a release
for hours). `sleep` and `rng` are parameters so tests run without waiting.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from release import limits

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass
class RetryPolicy:
    max_tries: int = limits.RETRY_TRIES
    base: float = 0.25
    factor: float = 2.0
    jitter: float = 0.1
    max_delay: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def retryable_status(self, status: int) -> bool:
        return status in RETRY_STATUSES or status >= 500

    def delay(self, attempt: int, headers: Mapping[str, str] | None = None) -> float:
        """Pause before try `attempt + 1` (attempt counts from 1)."""
        hinted = retry_after(headers) if headers is not None else None
        if hinted is not None:
            return min(hinted, self.max_delay)
        base = min(self.base * self.factor ** (attempt - 1), self.max_delay)
        return base * (1 + self.rng.uniform(-self.jitter, self.jitter))

    def pause(self, seconds: float) -> None:
        self.sleep(seconds)


def retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or an HTTP date), if any."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return max(0.0, when.timestamp() - time.time())
