"""Airlock's runtime. The packages, bottom up: base, salesforce, core, reporting, slack, delivery,
sandbox (each one's docstring says what it owns and may import); the modules left here are the
entry points (cli, service, server, app, demo), which may import any of them and `handlers`.
"""
