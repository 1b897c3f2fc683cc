"""SQLModel tables; importing this package registers them all on SQLModel.metadata."""

from models.agent_event import AgentEvent
from models.agent_key import AgentKey
from models.audit_checkpoint import AuditCheckpoint, SlackSignature
from models.event import Event
from models.item import Item
from models.outbox import Outbox, OutboxAttempt
from models.person import Person
from models.slack_event import SlackEvent
from models.stat_count import StatCount
from models.workflow import Workflow, WorkflowVersion

__all__ = [
    "AgentEvent",
    "AgentKey",
    "AuditCheckpoint",
    "Event",
    "Item",
    "Outbox",
    "OutboxAttempt",
    "Person",
    "SlackEvent",
    "SlackSignature",
    "StatCount",
    "Workflow",
    "WorkflowVersion",
]
