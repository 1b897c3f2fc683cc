"""Read-side figures: the queues and stats people see, and the report and evals of the CLI.

It may import `bot.core`, `bot.salesforce`, `bot.base` and `models`; it changes nothing.
"""
