"""Bundle placement under concurrency: many workers placing one reviewer's items at once.

On PostgreSQL (READ COMMITTED) each worker's transaction counts the open bundle's rows from
its own snapshot; without serialising the placement, several join the same bundle on the same
count and it ends up with more rows than one Slack message holds.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.core import bundles, lifecycle
from bot.core.bundles import ROWS_PER_MESSAGE
from bot.core.runtime import Runtime
from bot.sandbox.slack_standin import SlackStandin
from bot.slack.blocks_bundle import bundle_messages
from bot.slack.blocks_text import text_length
from models import Item
from tests.card_support import REVIEWER, card_worker, deliver_cards, pending_items
from tests.test_bundles import BUNDLING, bundles_in, row_buttons, stored
from tests.test_bundles import standin as standin  # the Slack stand-in, not conftest's
from tests.test_lifecycle import assign
from tests.writeback_support import respec

WORKERS = 6
ROUNDS = 9  # 54 items: three full bundles if every placement sees the rows before it


def test_concurrent_placement_never_overfills_a_bundle(
    rt: Runtime, agent_key: str, workflows_dir: Path
) -> None:
    respec(rt, workflows_dir, review={"bundle_after": 1, "bundle_window": "10m"})
    ids = pending_items(rt, agent_key, WORKERS * ROUNDS, prefix="race")
    for item_id in ids:
        assign(rt, item_id, REVIEWER)
    review = rt.spec("opp-hygiene").spec.review
    items = [stored(rt, item_id) for item_id in ids]
    now = rt.clock()
    start = threading.Barrier(WORKERS)

    def place(share: list[Item]) -> None:
        for item in share:
            start.wait()  # every worker places one item at the same moment, round after round
            with rt.db.write() as session:
                bundles.bundle_for(session, item, review, now)

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(place, [items[k::WORKERS] for k in range(WORKERS)]))

    sizes = Counter(stored(rt, item_id).bundle_id for item_id in ids)
    assert None not in sizes  # more than bundle_after wait: every one joins a bundle
    assert max(sizes.values()) <= ROWS_PER_MESSAGE, sorted(sizes.values())
    # placed one after another, each sees the rows before it: full bundles, no stray ones
    assert sorted(sizes.values()) == [ROWS_PER_MESSAGE] * (len(ids) // ROWS_PER_MESSAGE)


def overfilled(rt: Runtime, agent_key: str, workflows_dir: Path, count: int) -> list[Item]:
    """`count` of the reviewer's items in one bundle, as an unserialised placement left them."""
    respec(rt, workflows_dir, review=BUNDLING)
    ids = pending_items(rt, agent_key, count, prefix="over")
    with rt.db.write() as session:
        for item_id in ids:
            lifecycle.update_item(
                session,
                item_id,
                actor="system",
                event="bundled",
                data={"bundle": "bdl_overfilled", "to": REVIEWER},
                assignee=REVIEWER,
                bundle_id="bdl_overfilled",
            )
    return [stored(rt, item_id) for item_id in ids]


def test_overfilled_bundle_renders_in_messages_that_fit(
    rt: Runtime, agent_key: str, workflows_dir: Path
) -> None:
    items = overfilled(rt, agent_key, workflows_dir, 2 * ROWS_PER_MESSAGE + 1)
    messages = bundle_messages("bdl_overfilled", "Opp hygiene", items)
    assert [len(part) for part, _, _ in messages] == [ROWS_PER_MESSAGE, ROWS_PER_MESSAGE, 1]
    assert [i.id for part, _, _ in messages for i in part] == [i.id for i in items]
    for number, (_part, blocks, text) in enumerate(messages, start=1):
        assert len(blocks) <= 50 and text_length(blocks) <= 12_000
        assert blocks[0]["text"]["text"].endswith(f"({number} of 3)")
        assert text.endswith(f"({number} of 3): {len(items)} waiting")  # the whole bundle's


def test_overfilled_bundle_reaches_its_reviewer(
    rt: Runtime, agent_key: str, workflows_dir: Path, standin: SlackStandin
) -> None:
    items = overfilled(rt, agent_key, workflows_dir, ROWS_PER_MESSAGE + 2)
    deliver_cards(rt, card_worker(rt, standin), timeout=10)
    messages = bundles_in(standin, REVIEWER)
    assert sorted(len(row_buttons(m)) // 3 for m in messages) == [2, ROWS_PER_MESSAGE]
    shown = Counter(value for m in messages for _action, value in row_buttons(m))
    assert shown == {i.id: 3 for i in items}  # each row's three buttons, in one message only
    assert all(stored(rt, i.id).card_ts for i in items)  # timers start: each row was seen
