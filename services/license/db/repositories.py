"""Queries on the license service's tables. Repositories flush but never commit."""

from datetime import datetime

from sqlalchemy import and_, exists, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.license.db.models import (
    CounterRow,
    InstanceRow,
    LicenseRow,
    LicenseVersionRow,
    UsageRow,
)
from shared.pagination import PageRequest


class InstanceRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, instance_id: str, *, for_update: bool = False) -> InstanceRow | None:
        query = select(InstanceRow).where(InstanceRow.id == instance_id)
        if for_update:
            query = query.with_for_update()
        result = await self.session.execute(query)
        return result.scalar_one_or_none()

    async def add(self, row: InstanceRow) -> None:
        self.session.add(row)
        await self.session.flush()


class LicenseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, license_id: str, *, for_update: bool = False) -> LicenseRow | None:
        query = select(LicenseRow).where(LicenseRow.id == license_id)
        if for_update:
            query = query.with_for_update()
        result = await self.session.execute(query)
        return result.scalar_one_or_none()

    async def get_for_order(self, order_id: str, *, for_update: bool = False) -> LicenseRow | None:
        query = select(LicenseRow).where(LicenseRow.order_id == order_id)
        if for_update:
            query = query.with_for_update()
        result = await self.session.execute(query)
        return result.scalar_one_or_none()

    async def list_for_instance(
        self, instance_id: str, page: PageRequest | None = None
    ) -> list[tuple[LicenseRow, LicenseVersionRow]]:
        """An instance's licenses with their current versions, oldest first.

        With `page`, `page.limit + 1` of them after the page's cursor.
        """
        query = (
            select(LicenseRow, LicenseVersionRow)
            .join(
                LicenseVersionRow,
                and_(
                    LicenseVersionRow.license_id == LicenseRow.id,
                    LicenseVersionRow.version == LicenseRow.version,
                ),
            )
            .where(LicenseRow.instance_id == instance_id)
            .order_by(LicenseRow.created_at, LicenseRow.id)
        )
        if page is not None:
            if page.after is not None:
                query = query.where(
                    tuple_(LicenseRow.created_at, LicenseRow.id) > tuple_(*page.after)
                )
            query = query.limit(page.limit + 1)
        result = await self.session.execute(query)
        return [(row, version) for row, version in result.all()]

    async def revoked(self) -> tuple[list[str], int]:
        """Every revoked license id, in id order, and the highest `revocation_seq` among them.

        One statement, so one snapshot on every database: the ids are exactly those of the
        revocations numbered up to that seq (see `CounterRepository.take`).
        """
        result = await self.session.execute(
            select(LicenseRow.id, LicenseRow.revocation_seq)
            .where(LicenseRow.revoked_at.is_not(None))
            .order_by(LicenseRow.id)
        )
        rows = result.all()
        return [id_ for id_, _ in rows], max((seq or 0 for _, seq in rows), default=0)

    async def add(self, row: LicenseRow) -> None:
        self.session.add(row)
        await self.session.flush()


class CounterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def take(self, name: str) -> int:
        """The counter's next value (1 for a new counter), in the caller's transaction.

        The upsert locks the counter's row until the transaction ends, so a concurrent taker
        waits, then takes the following value: values commit in the order they were taken,
        with no gaps from rolled-back transactions.
        """
        bind = self.session.get_bind()
        insert = postgresql_insert if bind.dialect.name == "postgresql" else sqlite_insert
        statement = (
            insert(CounterRow)
            .values(name=name, value=1)
            .on_conflict_do_update(
                index_elements=[CounterRow.name], set_={"value": CounterRow.value + 1}
            )
            .returning(CounterRow.value)
        )
        return int((await self.session.execute(statement)).scalar_one())


class LicenseVersionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, license_id: str, version: int) -> LicenseVersionRow | None:
        return await self.session.get(LicenseVersionRow, (license_id, version))

    async def get_for_order(self, order_id: str) -> LicenseVersionRow | None:
        """The version a renewal or plan change order made, if any."""
        result = await self.session.execute(
            select(LicenseVersionRow).where(LicenseVersionRow.order_id == order_id)
        )
        return result.scalar_one_or_none()

    async def history(self, license_id: str) -> list[LicenseVersionRow]:
        """Every version of a license, oldest first."""
        result = await self.session.execute(
            select(LicenseVersionRow)
            .where(LicenseVersionRow.license_id == license_id)
            .order_by(LicenseVersionRow.version)
        )
        return list(result.scalars())

    async def signs_live_license(self, kid: str, now: datetime) -> bool:
        """Whether `kid` signed the current version of a license neither revoked nor expired."""
        query = select(
            exists().where(
                LicenseVersionRow.kid == kid,
                LicenseVersionRow.license_id == LicenseRow.id,
                LicenseVersionRow.version == LicenseRow.version,
                LicenseRow.revoked_at.is_(None),
                or_(LicenseVersionRow.expires_at.is_(None), LicenseVersionRow.expires_at > now),
            )
        )
        return bool((await self.session.execute(query)).scalar())

    async def add(self, row: LicenseVersionRow) -> None:
        self.session.add(row)
        await self.session.flush()


class UsageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, instance_id: str, metric: str) -> UsageRow | None:
        return await self.session.get(UsageRow, (instance_id, metric))

    async def list(self, instance_id: str) -> list[UsageRow]:
        result = await self.session.execute(
            select(UsageRow).where(UsageRow.instance_id == instance_id).order_by(UsageRow.metric)
        )
        return list(result.scalars())

    async def add(self, row: UsageRow) -> None:
        self.session.add(row)
        await self.session.flush()
