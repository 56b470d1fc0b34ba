"""Enumerations of the domain. Values are the wire values of the API."""

from __future__ import annotations

from enum import StrEnum


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.LOW: 0, Severity.MEDIUM: 1, Severity.HIGH: 2, Severity.CRITICAL: 3}


class ExceptionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    PENDING_REVIEW = "pending_review"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CLOSED = "closed"


# Legal status transitions (BEHAVIOUR.md); anything else is a 409.
STATUS_TRANSITIONS: dict[ExceptionStatus, frozenset[ExceptionStatus]] = {
    ExceptionStatus.OPEN: frozenset({ExceptionStatus.IN_PROGRESS, ExceptionStatus.ESCALATED}),
    ExceptionStatus.IN_PROGRESS: frozenset(
        {ExceptionStatus.PENDING_REVIEW, ExceptionStatus.ESCALATED, ExceptionStatus.RESOLVED}
    ),
    ExceptionStatus.PENDING_REVIEW: frozenset(
        {ExceptionStatus.IN_PROGRESS, ExceptionStatus.RESOLVED, ExceptionStatus.ESCALATED}
    ),
    ExceptionStatus.ESCALATED: frozenset({ExceptionStatus.IN_PROGRESS, ExceptionStatus.RESOLVED}),
    ExceptionStatus.RESOLVED: frozenset({ExceptionStatus.CLOSED, ExceptionStatus.IN_PROGRESS}),
    ExceptionStatus.CLOSED: frozenset(),
}


def is_legal_transition(current: ExceptionStatus, target: ExceptionStatus) -> bool:
    return target in STATUS_TRANSITIONS[current]


class ActorType(StrEnum):
    HUMAN = "human"
    AGENT = "agent"
    SYSTEM = "system"


class ActionType(StrEnum):
    NOTIFY = "notify"
    ASSIGN_OWNER = "assign_owner"
    SET_STATUS = "set_status"
    ADD_COMMENT = "add_comment"
    CALL_TOOL = "call_tool"


class StepStatus(StrEnum):
    PENDING = "pending"
    COMPLETED = "completed"
    SKIPPED = "skipped"
    AWAITING_APPROVAL = "awaiting_approval"  # only with the policy's two_person_approval


class ToolRisk(StrEnum):
    LOW = "low"
    HIGH = "high"


class NotifyChannel(StrEnum):
    EMAIL = "email"
    SLACK = "slack"
    SMS = "sms"
    LOG = "log"


class EventType(StrEnum):
    EXCEPTION_CREATED = "ExceptionCreated"
    EXCEPTION_UPDATED = "ExceptionUpdated"
    COMMENT_ADDED = "CommentAdded"
    TRIAGE_COMPLETED = "TriageCompleted"
    POLICY_EVALUATED = "PolicyEvaluated"
    PLAYBOOK_STARTED = "PlaybookStarted"
    PLAYBOOK_STEP_COMPLETED = "PlaybookStepCompleted"
    PLAYBOOK_STEP_SKIPPED = "PlaybookStepSkipped"
    PLAYBOOK_COMPLETED = "PlaybookCompleted"
    PLAYBOOK_RECALCULATED = "PlaybookRecalculated"
    NOTIFICATION_SENT = "NotificationSent"
    OWNER_ASSIGNED = "OwnerAssigned"
    STATUS_CHANGED = "StatusChanged"
    TOOL_CALL_RECORDED = "ToolCallRecorded"
    RESOLUTION_SUGGESTED = "ResolutionSuggested"
    FEEDBACK_CAPTURED = "FeedbackCaptured"
    APPROVAL_REQUESTED = "ApprovalRequested"
    APPROVAL_GRANTED = "ApprovalGranted"
    APPROVAL_REJECTED = "ApprovalRejected"
    APPROVAL_EXPIRED = "ApprovalExpired"
    SLA_WARNING = "SlaWarning"
    SLA_BREACHED = "SlaBreached"


PLAYBOOK_EVENT_TYPES = frozenset(
    {
        EventType.PLAYBOOK_STARTED,
        EventType.PLAYBOOK_STEP_COMPLETED,
        EventType.PLAYBOOK_STEP_SKIPPED,
        EventType.PLAYBOOK_COMPLETED,
        EventType.PLAYBOOK_RECALCULATED,
        EventType.APPROVAL_REQUESTED,
        EventType.APPROVAL_GRANTED,
        EventType.APPROVAL_REJECTED,
        EventType.APPROVAL_EXPIRED,
    }
)


class Role(StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"
    AUTOMATION = "automation"
    APPROVER = "approver"  # may approve two-person steps (tenant policy two_person_approval)
