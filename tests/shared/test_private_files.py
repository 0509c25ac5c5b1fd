"""The embedded databases and their folder are owner-only: `var/` 0700, the files 0600."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from shared.db import Database, upgrade
from tests.conftest import SERVICES_DIR


@pytest.fixture
def in_tmp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty working folder, under the umask most machines have (022: files 0644)."""
    monkeypatch.chdir(tmp_path)
    previous = os.umask(0o022)
    try:
        yield tmp_path
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_migrations_make_var_and_the_database_owner_only(in_tmp_dir: Path) -> None:
    await upgrade(SERVICES_DIR / "catalog" / "migrations", "sqlite+aiosqlite:///var/catalog.db")

    assert mode(in_tmp_dir / "var") == 0o700
    assert mode(in_tmp_dir / "var" / "catalog.db") == 0o600


async def test_a_running_service_keeps_its_wal_and_shm_files_owner_only(in_tmp_dir: Path) -> None:
    db = Database("sqlite+aiosqlite:///var/catalog.db")
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (x INTEGER)"))
            await conn.execute(text("INSERT INTO t VALUES (1)"))
        files = sorted((in_tmp_dir / "var").iterdir())
        assert [f.name for f in files] == ["catalog.db", "catalog.db-shm", "catalog.db-wal"]
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        await db.dispose()


async def test_a_database_made_before_the_rule_is_tightened_at_start(in_tmp_dir: Path) -> None:
    var = in_tmp_dir / "var"
    var.mkdir(mode=0o755)
    for name in ("orders.db", "orders.db-wal", "orders.db-shm"):
        (var / name).touch(mode=0o644)
    var.chmod(0o755)

    db = Database("sqlite+aiosqlite:///var/orders.db")
    await db.dispose()

    assert mode(var) == 0o700
    assert {f.name: mode(f) for f in var.iterdir()} == {
        "orders.db": 0o600,
        "orders.db-wal": 0o600,
        "orders.db-shm": 0o600,
    }


async def test_a_folder_outside_var_is_left_as_its_owner_set_it(in_tmp_dir: Path) -> None:
    shared = in_tmp_dir / "srv"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)

    db = Database(f"sqlite+aiosqlite:///{shared / 'catalog.db'}")
    await db.dispose()

    assert mode(shared) == 0o755
    assert mode(shared / "catalog.db") == 0o600
