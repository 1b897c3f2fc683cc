"""The core: an item's life from intake through gates and decisions to its queued side effects.

It owns the runtime, intake, the gates (checks, policy, field values), the lifecycle and its
decisions, autonomy and auto-pause, the stop button and release, rights, agent keys, the outbox
that side effects are queued in (in the same transaction as the change), and the audit trail.
It may import `bot.base`, `bot.salesforce` (the field cache) and `models`; it never imports Slack,
delivery, reporting, the sandbox or an entry point.
"""
