"""A write-back worker process for the crash test: delivers `salesforce.write` rows, then exits.

    python tests/writeback_worker.py LEASE_SECONDS

Configured from the environment like `airlock serve`: DATABASE_URL, AIRLOCK_WORKFLOWS and
SALESFORCE_INSTANCE_URL / SALESFORCE_ACCESS_TOKEN.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.base.config import load_settings
from bot.core.effects import WRITEBACK
from bot.core.outbox import OutboxWorker
from bot.core.runtime import open_runtime
from bot.delivery.writeback import writeback_route
from bot.salesforce.client import SalesforceClient, config_from_settings
from tests.writeback_support import waiting_writes


def main() -> None:
    """Drain until no write is pending; a SIGKILL may land anywhere in between."""
    lease = timedelta(seconds=float(sys.argv[1]))
    settings = load_settings()
    rt = open_runtime(settings)
    # a long client timeout: the test kills this process while it waits for an answer
    client = SalesforceClient(config_from_settings(settings, timeout=60.0))
    routes = {WRITEBACK: writeback_route(rt, client)}
    worker = OutboxWorker(rt.db, routes, lease=lease, backoff_base=0.05)
    print("worker ready", flush=True)
    while waiting_writes(rt):
        if not worker.run_once():
            time.sleep(0.05)
    client.close()
    rt.db.dispose()


if __name__ == "__main__":
    main()
