"""The base every package stands on: settings, the database, errors and the shared vocabulary.

It owns configuration (`config`), the engine and sessions (`db`), the error classes, the event
log, the workflow spec model and its loader, levels and statuses, submissions, quiet hours and
deadlines, metrics, the HTTP helpers and the people table. It may import `models` and nothing else
of Airlock: every other package may import it.
"""
