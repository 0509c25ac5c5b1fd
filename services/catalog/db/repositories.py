"""Queries on the catalog's tables. Repositories flush but never commit."""

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import undefer

from services.catalog.db.models import DocumentRow, LiveProductRow, ProductRow, RevisionRow
from shared.pagination import PageRequest

# The PostgreSQL NOTIFY channel on which a product id is sent when its public view changes.
LIVE_PRODUCT_CHANNEL = "catalog_live_products"


class ProductRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, product_id: str, *, for_update: bool = False) -> ProductRow | None:
        query = select(ProductRow).where(ProductRow.id == product_id)
        if for_update:
            query = query.with_for_update()
        result = await self.session.execute(query)
        return result.scalar_one_or_none()

    async def add(self, row: ProductRow) -> None:
        self.session.add(row)
        await self.session.flush()


class RevisionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, product_id: str, number: int) -> RevisionRow | None:
        return await self.session.get(RevisionRow, (product_id, number))

    async def list(self, product_id: str) -> list[RevisionRow]:
        result = await self.session.execute(
            select(RevisionRow)
            .where(RevisionRow.product_id == product_id)
            .order_by(RevisionRow.number.desc())
        )
        return list(result.scalars())

    async def add(self, row: RevisionRow) -> None:
        self.session.add(row)
        await self.session.flush()


class LiveProductRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @staticmethod
    async def head(conn: AsyncConnection, product_id: str) -> tuple[int, datetime] | None:
        """Which revision of a product is live, and since when (no ORM session: a hot path)."""
        row = (
            await conn.execute(
                select(LiveProductRow.revision, LiveProductRow.published_at).where(
                    LiveProductRow.product_id == product_id
                )
            )
        ).first()
        return (row[0], row[1]) if row else None

    async def get(self, product_id: str) -> LiveProductRow | None:
        return await self.session.get(LiveProductRow, product_id)

    async def save(self, row: LiveProductRow) -> None:
        await self.session.merge(row)
        await self.session.flush()

    async def announce_change(self, product_id: str) -> None:
        """Notify every catalog process when this transaction commits (PostgreSQL only)."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(select(func.pg_notify(LIVE_PRODUCT_CHANNEL, product_id)))

    async def search(
        self,
        page: PageRequest,
        *,
        category: str | None,
        partner_id: str | None,
        query: str | None,
    ) -> list[LiveProductRow]:
        """Live products in listing order, `page.limit + 1` of them to tell if more follow."""
        statement = select(LiveProductRow)
        if category:
            statement = statement.where(LiveProductRow.category_key == category.strip().casefold())
        if partner_id:
            statement = statement.where(LiveProductRow.partner_id == partner_id)
        if query:
            pattern = "%" + _escape_like(query.strip().casefold()) + "%"
            statement = statement.where(LiveProductRow.search_text.like(pattern, escape="\\"))
        if page.after is not None:
            listed_at, product_id = page.after
            statement = statement.where(
                tuple_(LiveProductRow.listed_at, LiveProductRow.product_id)
                > tuple_(listed_at, product_id)
            )
        statement = statement.order_by(LiveProductRow.listed_at, LiveProductRow.product_id)
        result = await self.session.execute(statement.limit(page.limit + 1))
        return list(result.scalars())


class DocumentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, document_id: str, *, with_content: bool = False) -> DocumentRow | None:
        query = select(DocumentRow).where(DocumentRow.id == document_id)
        if with_content:
            query = query.options(undefer(DocumentRow.content))
        result = await self.session.execute(query)
        return result.scalar_one_or_none()

    async def owned_ids(self, partner_id: str, ids: Collection[str]) -> set[str]:
        """Which of `ids` are documents of this partner."""
        if not ids:
            return set()
        result = await self.session.execute(
            select(DocumentRow.id).where(
                DocumentRow.partner_id == partner_id, DocumentRow.id.in_(ids)
            )
        )
        return set(result.scalars())

    async def publish(self, ids: Collection[str]) -> None:
        """Make documents readable by anyone (they are agreements of a live product)."""
        if ids:
            await self.session.execute(
                update(DocumentRow).where(DocumentRow.id.in_(ids)).values(public=True)
            )

    async def add(self, row: DocumentRow) -> None:
        self.session.add(row)
        await self.session.flush()


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
