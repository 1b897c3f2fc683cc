"""`python -m bot` is the `airlock` command."""

from bot.cli import main

main()
