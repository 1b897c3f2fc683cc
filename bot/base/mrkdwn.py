"""Slack's mrkdwn escaping, used wherever agent-written text becomes a message's text."""

from __future__ import annotations


def esc(text: object) -> str:
    """Escape agent-written text for mrkdwn, so it cannot ping @channel or forge links.

    Slack reads &, < and > as control characters and asks for &amp;, &lt; and &gt; instead
    (https://api.slack.com/reference/surfaces/formatting#escaping). Every string an agent (or
    Salesforce) wrote goes through here on its way to mrkdwn or a notification's text.
    """
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
