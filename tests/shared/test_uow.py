"""The unit of work commits on success, rolls back on error, and reads without writing."""

from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database
from shared.outbox import Outbox
from shared.uow import UnitOfWork, UnitsOfWork

metadata = MetaData()
notes = Table("notes", metadata, Column("id", Integer, primary_key=True), Column("text", String))


class NotesUnit(UnitOfWork):
    def __init__(self, session: AsyncSession, outbox: Outbox | None = None) -> None:
        super().__init__(session, outbox)

    async def add(self, text: str) -> None:
        await self.session.execute(insert(notes).values(text=text))

    async def texts(self) -> list[str]:
        return list((await self.session.execute(select(notes.c.text))).scalars())


@pytest.fixture
async def uow(tmp_path: Path):
    # A scratch table in a scratch SQLite file: the unit of work is infrastructure and knows no
    # service's schema (the services' own units are tested on their migrated databases).
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'uow.db'}")
    async with db.engine.begin() as conn:
        await conn.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, text VARCHAR)")
    yield UnitsOfWork(db, NotesUnit)
    await db.dispose()


async def test_a_unit_commits_when_its_block_ends(uow: UnitsOfWork[NotesUnit]) -> None:
    async with uow() as unit:
        await unit.add("kept")

    async with uow(read=True) as unit:
        assert await unit.texts() == ["kept"]


async def test_a_unit_rolls_back_when_its_block_raises(uow: UnitsOfWork[NotesUnit]) -> None:
    async def fail() -> None:
        async with uow() as unit:
            await unit.add("lost")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await fail()

    async with uow(read=True) as unit:
        assert await unit.texts() == []


async def test_a_unit_without_an_outbox_says_so(uow: UnitsOfWork[NotesUnit]) -> None:
    async with uow(read=True) as unit:
        with pytest.raises(RuntimeError, match="no outbox"):
            unit.outbox  # noqa: B018 (the property is the test)
