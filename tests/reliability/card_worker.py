"""A review-card worker process for the crash test: posts pending cards, then exits.

    python tests/reliability/card_worker.py SLACK_API_URL LEASE_SECONDS

Configured from the environment like `airlock serve`: DATABASE_URL and AIRLOCK_WORKFLOWS.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.base.config import load_settings
from bot.core.effects import CARD
from bot.core.outbox import OutboxWorker
from bot.core.outbox_giveup import GiveUp
from bot.core.runtime import open_runtime
from bot.slack.client import make_client
from bot.slack.delivery import CardRoute
from tests.card_support import TOKEN, FixedReviewer, waiting_cards


def main() -> None:
    """Deliver until no card is pending; a SIGKILL may land anywhere in between."""
    base_url, lease = sys.argv[1], timedelta(seconds=float(sys.argv[2]))
    rt = open_runtime(load_settings())
    route = CardRoute(rt, make_client(TOKEN, base_url, timeout=2), FixedReviewer()).route()
    worker = OutboxWorker(
        rt.db, {CARD: route}, lease=lease, backoff_base=0.05, on_give_up=GiveUp(rt)
    )
    print("worker ready", flush=True)
    while waiting_cards(rt):
        if not worker.run_once():
            time.sleep(0.05)
    rt.db.dispose()


if __name__ == "__main__":
    main()
