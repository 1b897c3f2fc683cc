"""The owner hears at once when someone else presses their workflow's stop button."""

from __future__ import annotations

from bot.core import control
from bot.service import Service
from tests import payloads
from tests.test_timers import OWNER, REP, dms, posted_item


def test_rep_pause_tells_owner_with_resume(service: Service, agent_key: str) -> None:
    posted_item(service, agent_key, payloads.field_update())  # Maya now reviews opp-hygiene
    assert control.pause(service.rt, "opp-hygiene", REP, "stages <!channel> look wrong")
    service.worker.drain()
    notices = [t for t in dms(service, OWNER) if "paused `opp-hygiene`" in t]
    assert len(notices) == 1
    assert "<@U0MAYA> paused `opp-hygiene`: stages &lt;!channel&gt; look wrong" in notices[0]
    assert '"action_id": "airlock_home_resume"' in notices[0]


def test_owner_pausing_own_workflow_is_not_told(service: Service) -> None:
    assert control.pause(service.rt, "opp-hygiene", OWNER, "my call")
    service.worker.drain()
    assert [t for t in dms(service, OWNER) if "paused `opp-hygiene`" in t] == []
