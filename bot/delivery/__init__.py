"""The workers: the scheduler's clock, timers, digests, webhooks and the Salesforce write-back.

It owns what runs in the background on the queued effects and on time: reminders, escalation and
expiry, the daily digest, webhook posts and the write-back of decided items to Salesforce (order,
isolation, related tasks, outcomes). It may import `bot.slack`, `bot.reporting`, `bot.core`,
`bot.salesforce`, `bot.base` and `models`.
"""
