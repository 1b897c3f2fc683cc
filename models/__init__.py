"""SQLModel tables; importing this package registers them all on SQLModel.metadata."""

from models.agent_event import AgentEvent
from models.agent_key import AgentKey
from models.audit_checkpoint import AuditCheckpoint, SlackSignature
from models.delegation import Delegation
from models.event import Event
from models.item import Item
from models.outbox import Outbox, OutboxAttempt
from models.pause_scope import PauseScope
from models.person import Person
from models.slack_event import SlackEvent
from models.stat_count import StatCount
from models.workflow import Workflow, WorkflowVersion

__all__ = [
    "AgentEvent",
    "AgentKey",
    "AuditCheckpoint",
    "Delegation",
    "Event",
    "Item",
    "Outbox",
    "OutboxAttempt",
    "PauseScope",
    "Person",
    "SlackEvent",
    "SlackSignature",
    "StatCount",
    "Workflow",
    "WorkflowVersion",
]
