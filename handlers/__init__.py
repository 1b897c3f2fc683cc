"""Every way in: the HTTP API and the Slack listeners. They may import any package of `bot`
(never its entry points) and `models`, and keep no logic of their own beyond parsing a request.
"""
