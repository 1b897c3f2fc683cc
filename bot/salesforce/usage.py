"""The org's daily API allowance: write-backs wait above a ceiling, and people can see usage.

Every REST answer carries `Sforce-Limit-Info: api-usage=N/M`, the org's requests in the last
24 hours against its allowance (REST API Developer Guide, "Limit Info Header"). Past the
allowance Salesforce refuses calls (REQUEST_LIMIT_EXCEEDED) for every integration of the org,
so Airlock slows down before that: above SALESFORCE_API_USAGE_CEILING its write-backs wait
(unclaimed, so no retry is used up), while the reads that route new cards to reviewers go on.
"""

from __future__ import annotations

import logging
import threading

from bot.salesforce.client import SalesforceClient, SalesforceError
from bot.salesforce.transport import LimitInfo

log = logging.getLogger(__name__)

RECHECK_SECONDS = 300.0  # while over the ceiling, ask Salesforce again this often


class UsageGate:
    """Whether write-backs may call Salesforce now, judged from the last usage seen."""

    def __init__(
        self, client: SalesforceClient, ceiling: float, recheck: float = RECHECK_SECONDS
    ) -> None:
        self.client, self.ceiling, self.recheck = client, ceiling, recheck
        self.waiting = False
        self._lock = threading.Lock()

    def __call__(self) -> bool:
        """True when usage is under the ceiling (or unknown); else False, and write-backs wait."""
        with self._lock:
            info = self.client.last_limit_info
            if info is None or info.share < self.ceiling:
                return self._set(info, waiting=False)
            if self.client.limit_info_age() >= self.recheck:
                # Usage falls as the 24-hour window moves on: one cheap call tells.
                try:
                    info = self.client.api_usage()
                except SalesforceError as error:
                    log.warning("could not read Salesforce API usage: %s", error)
                    return self._set(info, waiting=True)
            return self._set(info, waiting=info.share >= self.ceiling)

    def _set(self, info: LimitInfo | None, *, waiting: bool) -> bool:
        if waiting != self.waiting and info is not None:
            if waiting:
                log.warning("%s: Salesforce write-backs wait", usage_text(info, self.ceiling))
            else:
                log.info("%s: Salesforce write-backs resume", usage_text(info, self.ceiling))
        self.waiting = waiting
        return not waiting


def usage_text(info: LimitInfo | None, ceiling: float) -> str:
    """One line for people: requests used of the daily allowance, and the ceiling."""
    if info is None:
        return "Salesforce API requests: not known yet (no call made)"
    head = (
        f"Salesforce API requests in the last 24 h: {info.used:,} of {info.total:,} "
        f"({info.share:.0%})"
    )
    if info.share >= ceiling:
        return f"{head}; over the {ceiling:.0%} ceiling, so write-backs wait"
    return f"{head}; write-backs wait above {ceiling:.0%}"


def usage_gauges(client: SalesforceClient) -> dict[str, float]:
    """Gauge values for /metrics: requests used and allowed (empty before the first call)."""
    info = client.last_limit_info
    if info is None:
        return {}
    return {"used": float(info.used), "limit": float(info.total)}
