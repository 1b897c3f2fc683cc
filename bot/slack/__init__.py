"""Slack: the Block Kit builders, the slash commands and the delivery of queued cards and notices.

It owns the cards, modals and Home tab (`blocks*`), the `/airlock` command texts, the Slack client,
the delivery of `slack.*` outbox rows with their error classes, the event guard and the action ids
Slack sends back. It may import `bot.reporting`, `bot.core`, `bot.salesforce`, `bot.base` and
`models`; the listeners that receive Slack's requests live in `handlers`.
"""
