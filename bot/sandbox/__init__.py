"""The sandbox: local stand-ins for Slack and Salesforce, and the /sandbox page that drives them.

The stand-ins model the real APIs closely enough for `airlock serve` to run with no account; the
page turns clicks into the signed requests Slack would send. It may import `bot.delivery`,
`bot.slack`, `bot.reporting`, `bot.core`, `bot.salesforce`, `bot.base` and `models`; it reaches
the running service only through the `Host` protocol in `bot.sandbox.host`.
"""
