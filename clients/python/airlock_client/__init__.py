"""Airlock's agent API from Python: submit work for human review, then wait for the verdict."""

from airlock_client.client import AirlockClient, AsyncAirlockClient
from airlock_client.errors import AirlockError
from airlock_client.events import Event, EventPage, InvalidWebhook, verify_webhook
from airlock_client.models import Item

__all__ = [
    "AirlockClient",
    "AirlockError",
    "AsyncAirlockClient",
    "Event",
    "EventPage",
    "InvalidWebhook",
    "Item",
    "verify_webhook",
]
