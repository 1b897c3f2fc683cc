"""`airlock demo`: a scripted review loop on the local stand-ins, in a throwaway database.

Approve, a revert, edit, reject, escalation, pause and resume, a write-back conflict and an
auto-pause; then the audit trail of one item and the metrics per workflow. Only the clock is moved
(for the timers).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from bot.base.config import Settings
from bot.core.audit import verify
from bot.core.trace import item_view, render_trace
from bot.delivery import revert_watch, timers
from bot.demo_driver import DemoDriver, DemoError
from bot.demo_outcomes import show_outcomes, with_outcome_workflow
from bot.demo_text import name, stats_table
from bot.reporting.queries import stats
from bot.sandbox.live import LiveServer
from bot.sandbox.samples import (
    GLOBEX_OPP_ID,
    OPP_ID,
    PLANT_OPP_ID,
    UMBRELLA_OPP_ID,
    decision,
    field_update,
    opportunity,
    recommendation,
    task,
)
from bot.sandbox.session import SANDBOX_ADMIN
from bot.sandbox.slack_payloads import select_state, text_state
from bot.scaffold import EXAMPLE_WORKFLOWS
from bot.service import Service, build_service
from bot.slack.ids import REJECT_BLOCK, REJECT_TEXT_BLOCK, Action
from models.types import utcnow

MAYA, LEO, SAM, OLIVIA = "U0MAYA", "U0LEO", "U0SAM", SANDBOX_ADMIN
GRID_OPP_ID = "006Ai0000000003IAA"  # Globex - Grid Analytics, Maya, "Needs Analysis"
INITECH_OPP_ID = "006Ai0000000005IAA"  # Initech - TPS Automation, Maya
MAYA_OPPS = {n: f"006Ai{n:010d}IAA" for n in range(1, 6)}  # seeded: Maya owns the first five


def demo_settings(folder: Path, workflows: Path) -> Settings:
    """Stand-ins for Slack and Salesforce whatever the environment says; a private database."""
    return Settings(
        _env_file=None,
        DATABASE_URL=f"sqlite:///{folder / 'demo.db'}",
        AIRLOCK_WORKFLOWS=workflows,
        AIRLOCK_ADMINS=OLIVIA,
        AIRLOCK_TICK_SECONDS=0.2,
        SLACK_BOT_TOKEN=None,
        SLACK_SIGNING_SECRET=None,
        SLACK_APP_TOKEN=None,
        SALESFORCE_INSTANCE_URL=None,
    )


def run_demo(workflows: Path | None = None, out: Callable[[str], None] = print) -> None:
    """Run the whole scenario on a fresh service; raises DemoError if any step goes wrong."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="airlock-demo-") as folder:
        specs = with_outcome_workflow(Path(folder), workflows or EXAMPLE_WORKFLOWS)
        service = build_service(demo_settings(Path(folder), specs))
        try:
            with LiveServer(service.app) as live:
                out(f"airlock demo: Airlock on {live.url} with the Slack and Salesforce stand-ins")
                out(f"              database {folder}/demo.db (deleted at the end)")
                driver = DemoDriver(service, live.url, out)
                try:
                    Story(driver).run()
                finally:
                    driver.close()
            check_trail(service, out)
        finally:
            service.rt.db.dispose()
    out(f"\ndemo finished in {time.monotonic() - started:.1f}s")


def check_trail(service: Service, out: Callable[[str], None]) -> None:
    """`airlock audit verify` over everything the scenario did: every chain and row intact."""
    with service.rt.db.read() as session:
        report = verify(session, service.rt.settings.audit_key_value)
    if report.problems:
        raise DemoError(f"the audit trail does not verify: {report.problems[0]}")
    out(
        f"\nairlock audit verify: {report.events} events of {report.checked} items and "
        "workflows, every chain intact"
    )


class Story:
    """The scripted scenario, one method per step."""

    def __init__(self, driver: DemoDriver) -> None:
        self.d = driver
        self.steps = 0
        self.traced: str | None = None
        self.approved = ""

    def run(self) -> None:
        """Every step, then the trace of the conflicted item and the metrics table."""
        for step in (
            self.approve,
            self.revert,
            self.edit,
            self.reject,
            self.escalate,
            self.pause_and_resume,
            self.conflict,
            self.auto_pause,
            self.outcomes,
        ):
            step()
        self.heading("Audit trail of the conflicted item (airlock trace)")
        with self.d.rt.db.read() as session:
            self.d.out(render_trace(item_view(session, self.traced or "")))
        self.heading("Metrics per workflow (airlock report, /airlock stats)")
        self.d.out(stats_table(stats(self.d.rt, w) for w in sorted(self.d.rt.specs.specs)))

    def heading(self, title: str) -> None:
        """A section title in the transcript."""
        self.steps += 1
        self.d.out(f"\n== {self.steps}. {title}")

    def approve(self) -> None:
        """A rep approves a stage change; Salesforce is updated."""
        self.heading("Approve: the agent moves Maya's Acme renewal to Negotiation")
        item_id = self.approved = self.d.submit(field_update())
        self.d.click(MAYA, Action.APPROVE, self.d.card(item_id))
        self.d.settle(item_id)

    def revert(self) -> None:
        """Maya later moves the stage back in Salesforce: Airlock records it as a revert."""
        self.heading("Revert: a day later Maya moves the Acme renewal back in Salesforce")
        self.d.org.set_field("Opportunity", OPP_ID, "StageName", "Proposal/Price Quote")
        self.d.say("Salesforce", "Maya sets StageName = 'Proposal/Price Quote' on the record")
        salesforce = self.d.service.integrations.salesforce
        revert_watch.sweep(self.d.rt, salesforce, utcnow())  # what the 30-minute check does
        item = self.d.item(self.approved)
        if item.writeback_state != "reverted":
            raise DemoError(f"expected a revert, got {item.writeback_state!r}")
        self.d.say("Airlock", f"re-reads the fields it wrote: {item.id} is reverted")
        self.d.command(MAYA, "stats opp-hygiene")

    def edit(self) -> None:
        """A rep corrects an over-optimistic stage before approving; her value is written."""
        self.heading("Edit: the agent says Closed Won, Maya knows better")
        change = {"field": "StageName", "value": "Closed Won", "observed": "Needs Analysis"}
        body = field_update(
            title="Mark Globex grid analytics as won",
            summary="Champion said 'we are going ahead'.",
            record=opportunity(GRID_OPP_ID),
            changes=[change],
        )
        item_id = self.d.submit(body)
        trigger = self.d.click(MAYA, Action.EDIT, self.d.card(item_id))
        view = self.d.modal(trigger)
        values = {"edit:StageName": select_state("Proposal/Price Quote")}
        self.d.fill(
            MAYA, view, values, "sets StageName to Proposal/Price Quote, [Approve with edits]"
        )
        self.d.settle(item_id)

    def reject(self) -> None:
        """A rep turns down a recommendation with a reason that becomes feedback."""
        self.heading("Reject: a recommendation Maya already acted on")
        body = recommendation(
            title="Send Initech the security pack",
            record=opportunity(INITECH_OPP_ID),
        )
        item_id = self.d.submit(body)
        trigger = self.d.click(MAYA, Action.REJECT, self.d.card(item_id))
        view = self.d.modal(trigger)
        values = {
            REJECT_BLOCK: select_state("already_done"),
            REJECT_TEXT_BLOCK: text_state("Sent it on Monday with the SOC 2 report"),
        }
        self.d.fill(MAYA, view, values, "picks 'Already done', explains, [Reject]")
        self.d.settle(item_id)

    def escalate(self) -> None:
        """Nobody answers: a reminder, then the card goes to the rep's manager, who decides."""
        self.heading("Escalation: Leo does not answer, so his manager Sam decides")
        body = task(
            title="Book the security review with Umbrella's CISO",
            record=opportunity(UMBRELLA_OPP_ID),
            task={"subject": "Security review with CISO", "due_date": "2026-12-04"},
        )
        item_id = self.d.submit(body)
        self.d.card(item_id)
        start = self.d.item(item_id).pending_since or utcnow()
        for hours in (5, 25):
            report = timers.sweep(
                self.d.rt, self.d.service.integrations.people, start + timedelta(hours=hours)
            )
            done = [f"{what} {', '.join(ids)}" for what, ids in vars(report).items() if ids]
            self.d.say("timers", f"sweep at +{hours}h: {'; '.join(done) or 'nothing due'}")
        manager_card = self.d.card(item_id, manager=True)
        self.d.click(SAM, Action.APPROVE, manager_card)
        self.d.settle(item_id)

    def pause_and_resume(self) -> None:
        """The stop button: new items are held, nothing posts; resume releases them in order."""
        self.heading("Pause and resume: Maya stops opp-hygiene, Olivia (owner) resumes it")
        self.d.command(MAYA, "pause opp-hygiene stale call data")
        change = {
            "field": "NextStep",
            "value": "Confirm scope of lines 4-5",
            "observed": "Discovery call with ops",
        }
        held = self.d.submit(
            field_update(
                title="Update plant expansion next step",
                record=opportunity(PLANT_OPP_ID),
                changes=[change],
            )
        )
        self.d.command(OLIVIA, "status opp-hygiene")
        self.d.command(OLIVIA, "resume opp-hygiene")
        done = self.d.last_dm(OLIVIA, "released in order")  # the release runs after the answer
        self.d.say("Slack", f"DM to {name(OLIVIA)}: {done}")
        message = self.d.card(held)
        self.d.click(MAYA, Action.APPROVE, message)
        self.d.settle(held)

    def conflict(self) -> None:
        """Someone edits the record in Salesforce after the agent looked: nothing is overwritten."""
        self.heading("Conflict: the record changed in Salesforce before Maya approved")
        change = {
            "field": "NextStep",
            "value": "Send final order form",
            "observed": "Legal review of terms",
        }
        body = field_update(
            title="Globex renewal: send the order form",
            record=opportunity(GLOBEX_OPP_ID),
            changes=[change],
        )
        item_id = self.d.submit(body)
        message = self.d.card(item_id)
        self.d.org.set_field(
            "Opportunity", GLOBEX_OPP_ID, "NextStep", "Legal signed; waiting for PO"
        )
        self.d.say(
            "Salesforce", "a person sets NextStep = 'Legal signed; waiting for PO' on the record"
        )
        self.d.click(MAYA, Action.APPROVE, message)
        self.d.settle(item_id)
        state = self.d.item(item_id).writeback_state
        if state != "conflict":
            raise DemoError(f"expected a write-back conflict, got {state!r}")
        self.traced = item_id

    def auto_pause(self) -> None:
        """Too many rejections trip the spec's threshold: the workflow stops itself."""
        self.heading("Auto-pause: Sam rejects most renewal-risk escalations; the workflow stops")
        self.d.quiet = True
        for number, reject in enumerate((True, False, True, False, True), start=1):
            body = decision(title=f"Renewal risk #{number}", record=opportunity(MAYA_OPPS[number]))
            item_id = self.d.submit(body)
            message = self.d.card(item_id)
            trigger = self.d.click(SAM, Action.REJECT if reject else Action.APPROVE, message)
            if reject:
                values = {REJECT_BLOCK: select_state("inaccurate")}
                self.d.fill(SAM, self.d.modal(trigger), values, "picks 'Inaccurate', [Reject]")
            if number < 5:  # the fifth decision trips the pause: its card update then waits
                self.d.settle(item_id)
        self.d.quiet = False
        reason = self.d.wait(lambda: self.d.paused_reason("renewal-risk"), "the auto-pause")
        self.d.say("Airlock", f"auto-pauses renewal-risk: {reason}")
        notice = self.d.last_dm(OLIVIA, "Auto-paused")
        self.d.say("Slack", f"DM to {name(OLIVIA)}: {notice}")
        self.d.submit(decision(title="Renewal risk #6", record=opportunity(OPP_ID)))
        self.d.command(OLIVIA, "status renewal-risk")

    def outcomes(self) -> None:
        """A measured workflow: treated vs held-out deals, and the lift (bot/demo_outcomes.py)."""
        show_outcomes(self.d, self.heading)


__all__ = ["DemoError", "run_demo"]
