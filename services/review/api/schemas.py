"""Request and response bodies of the review API."""

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from services.review.api import examples
from services.review.db.models import EventRow, SubmissionRow
from services.review.domain.submission import Status
from shared.text import LABEL, TEXT, ObjectId

# A note, a reason or a message is text (line breaks kept); a field path is a label.
Note = Annotated[str, StringConstraints(max_length=2000), TEXT]
Message = Annotated[str, StringConstraints(min_length=1, max_length=2000), TEXT]
FieldPath = Annotated[str, StringConstraints(min_length=1, max_length=200), LABEL]


class StrictBody(BaseModel):
    """The base of request bodies: an unknown field is a 422, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class SubmissionCreate(StrictBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"product_id": "prd_x3nq4c5o2b7lzj6v8d1ke9fa", "note": "First listing"}]
        },
    )

    product_id: ObjectId
    note: Note | None = None


class FieldNote(StrictBody):
    field: FieldPath = Field(examples=["addons/add_x/agreement"])
    message: Message


class RejectRequest(StrictBody):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "reason": "The add-on's support agreement is missing its SLA.",
                    "notes": [{"field": "addons/add_x/agreement", "message": "Add the SLA."}],
                }
            ]
        },
    )

    reason: Message
    notes: list[FieldNote] = Field(default_factory=list, max_length=100)


class PublicationView(BaseModel):
    state: Literal["not_applicable", "pending", "live"] = Field(
        description="For an approved submission: `live` once the catalog has published it."
    )
    published_at: datetime | None = None


class RevisionChangeView(BaseModel):
    op: str
    path: str
    field: str | None = None
    before: Any = None
    after: Any = None
    summary: str


class SubmissionView(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.SUBMISSION]})

    id: str
    product_id: str
    partner_id: str
    revision: int | None
    status: Status
    note: str | None
    changes: list[RevisionChangeView]
    submitted_at: datetime | None
    reviewer_id: str | None
    claimed_at: datetime | None
    decided_at: datetime | None
    reason: str | None
    notes: list[FieldNote]
    publication: PublicationView

    @classmethod
    def of(cls, row: SubmissionRow) -> "SubmissionView":
        if row.status != Status.approved:
            publication = PublicationView(state="not_applicable")
        elif row.published_at is None:
            publication = PublicationView(state="pending")
        else:
            publication = PublicationView(state="live", published_at=row.published_at)
        return cls(
            id=row.id,
            product_id=row.product_id,
            partner_id=row.partner_id,
            revision=row.revision,
            status=Status(row.status),
            note=row.note,
            changes=[RevisionChangeView.model_validate(c) for c in row.changes or []],
            submitted_at=row.submitted_at,
            reviewer_id=row.reviewer_id,
            claimed_at=row.claimed_at,
            decided_at=row.decided_at,
            reason=row.reason,
            notes=[FieldNote.model_validate(n) for n in row.notes or []],
            publication=publication,
        )


class EventView(BaseModel):
    at: datetime
    kind: str = Field(description="submitted, claimed, withdrawn, approved, rejected or published.")
    actor_id: str
    actor_role: str
    details: dict[str, Any]

    @classmethod
    def of(cls, row: EventRow) -> "EventView":
        return cls(
            at=row.at,
            kind=row.kind,
            actor_id=row.actor_id,
            actor_role=row.actor_role,
            details=row.details,
        )


class SubmissionDetailView(SubmissionView):
    model_config = ConfigDict(json_schema_extra={"examples": [examples.SUBMISSION_DETAIL]})

    snapshot: dict[str, Any] | None = Field(description="The frozen revision under review.")
    timeline: list[EventView]

    @classmethod
    def full(cls, row: SubmissionRow, events: list[EventRow]) -> "SubmissionDetailView":
        return cls(
            **SubmissionView.of(row).model_dump(),
            snapshot=row.snapshot,
            timeline=[EventView.of(e) for e in events],
        )
