"""Queries on the review service's tables. Repositories never commit."""

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.db.models import EventRow, SubmissionRow
from services.review.domain.submission import VISIBLE, Status
from shared.ids import new_id
from shared.pagination import PageRequest


class SubmissionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, submission_id: str, *, for_update: bool = False) -> SubmissionRow | None:
        query = select(SubmissionRow).where(SubmissionRow.id == submission_id)
        if for_update:
            query = query.with_for_update()
        return (await self.session.execute(query)).scalar_one_or_none()

    async def unfinished(self, partner_id: str, product_id: str) -> SubmissionRow | None:
        """The partner's submission of this product still being frozen, if any."""
        query = (
            select(SubmissionRow)
            .where(
                SubmissionRow.product_id == product_id,
                SubmissionRow.partner_id == partner_id,
                SubmissionRow.status == Status.freezing.value,
            )
            .order_by(SubmissionRow.updated_at.desc())
            .limit(1)
            .with_for_update()
        )
        return (await self.session.execute(query)).scalars().first()

    async def add(self, row: SubmissionRow) -> None:
        self.session.add(row)
        await self.session.flush()

    async def remove(self, submission_id: str) -> None:
        await self.session.execute(delete(EventRow).where(EventRow.submission_id == submission_id))
        await self.session.execute(delete(SubmissionRow).where(SubmissionRow.id == submission_id))

    async def move(
        self, submission_id: str, from_status: Status, values: dict[str, Any], **where: Any
    ) -> bool:
        """Conditionally update a submission still in `from_status`; True if this call won."""
        statement = (
            update(SubmissionRow)
            .where(SubmissionRow.id == submission_id, SubmissionRow.status == from_status.value)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        for column, value in where.items():
            statement = statement.where(getattr(SubmissionRow, column) == value)
        result = await self.session.execute(statement)
        return bool(getattr(result, "rowcount", 0) == 1)

    async def search(
        self,
        page: PageRequest,
        *,
        partner_id: str | None,
        status: Status | None,
        product_id: str | None,
    ) -> list[SubmissionRow]:
        """Visible submissions, oldest submitted first, `page.limit + 1` of them."""
        query = select(SubmissionRow).where(SubmissionRow.status.in_(list(VISIBLE)))
        if partner_id is not None:
            query = query.where(SubmissionRow.partner_id == partner_id)
        if status is not None:
            query = query.where(SubmissionRow.status == status.value)
        if product_id is not None:
            query = query.where(SubmissionRow.product_id == product_id)
        if page.after is not None:
            query = query.where(
                tuple_(SubmissionRow.submitted_at, SubmissionRow.id) > tuple_(*page.after)
            )
        query = query.order_by(SubmissionRow.submitted_at, SubmissionRow.id).limit(page.limit + 1)
        return list((await self.session.execute(query)).scalars())


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        submission_id: str,
        kind: str,
        *,
        actor_id: str,
        actor_role: str,
        at: datetime,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.session.add(
            EventRow(
                id=new_id("evt"),
                submission_id=submission_id,
                at=at,
                kind=kind,
                actor_id=actor_id,
                actor_role=actor_role,
                details=details or {},
            )
        )
        await self.session.flush()

    async def timeline(self, submission_id: str) -> list[EventRow]:
        query = (
            select(EventRow)
            .where(EventRow.submission_id == submission_id)
            .order_by(EventRow.at, EventRow.id)
        )
        return list((await self.session.execute(query)).scalars())
