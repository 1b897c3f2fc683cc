"""`/airlock`: parse the text, run it in the runtime, answer in the ack (or by DM if it is slow)."""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as Late
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.core.runtime import Runtime
from bot.slack import commands
from bot.slack.delivery import ReviewerSource
from bot.slack.ids import ARRIVED, SLASH_COMMAND

# Slack wants the acknowledgement within 3000 ms, or the person sees "operation_timeout"
# (https://api.slack.com/interactivity/slash-commands#responding_basic_receipt), and Bolt gives
# up on an ack after 3 s. A command that needs the database while a long write holds it answers
# "working on it" inside this budget and sends its real answer by DM when it has one. The
# budget counts from the request's arrival (bot.app stamps it in Bolt's context), so the
# signature and replay checks come out of it; the other half of Slack's 3 s is for the network
# and a loaded machine.
log = logging.getLogger(__name__)
ACK_BUDGET_S = 1.5
WORKING = ":hourglass_flowing_sand: Working on it: I'll send you the answer in a DM."


def _quick(running: Future[commands.Answer], deadline: float) -> commands.Answer | None:
    """The command's answer if it comes before the deadline, else None."""
    left = deadline - time.monotonic()
    if left <= 0:
        return None
    try:
        return running.result(timeout=left)
    except Late:
        return None


def _late_answer(running: Future[commands.Answer]) -> commands.Answer:
    """The answer of a command already acked as "working on it": the person was promised a DM,
    so a crash is told too (and logged with its traceback)."""
    try:
        return running.result()
    except Exception:
        log.exception("/airlock command failed after its 'working on it' answer")
        return commands.Answer(":warning: That command failed; the error is in Airlock's log.")


def register(app: App, rt: Runtime, people: ReviewerSource) -> None:
    """The slash command listener."""

    @app.command(SLASH_COMMAND)
    def airlock(
        ack: Ack, command: dict[str, Any], client: WebClient, context: dict[str, Any]
    ) -> None:
        # The quick part of every sub-command rides on the ack (Slack shows it at once, no
        # response_url round trip). Long work (`then`) runs after it: Bolt has already answered
        # Slack once ack() is called, and the person gets a DM when it is done. Nothing that
        # can wait (not even the time zone read) runs here before the budget is armed.
        deadline = context.get(ARRIVED, time.monotonic()) + ACK_BUDGET_S
        user = command["user_id"]
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="airlock-command") as pool:
            running = pool.submit(_run, rt, people, user, command.get("text", ""))
            answer = _quick(running, deadline)
            if answer is None:
                ack(text=WORKING, response_type="ephemeral")
                answer = _late_answer(running)
                client.chat_postMessage(channel=user, text=answer.text)
            else:
                ack(text=answer.text, response_type="in_channel" if answer.public else "ephemeral")
        if answer.then is not None:
            client.chat_postMessage(channel=user, text=answer.then())


def _run(rt: Runtime, people: ReviewerSource, user: str, text: str) -> commands.Answer:
    """One command, with the person's time zone for the times it shows."""
    return commands.run(rt, user, text, people.timezone_of(user, cached_only=True))
