"""`market outbox`: the entries a service still has to deliver, and a retry for failed ones.

    market outbox list [SERVICE] [--failed] [--limit N]
    market outbox retry ID [--service SERVICE]

They work on each service's own database, found from its settings (`ORDERS_DATABASE_URL`,
...) as `market db upgrade` does. `retry` makes an entry due again with its attempts reset;
the service's running relay delivers it within a poll (`<SVC>_OUTBOX_POLL_SECONDS`).
"""

import argparse
import asyncio
import json
from collections.abc import Callable

from sqlalchemy import MetaData

from services.orders.settings import OrdersSettings
from services.review.settings import ReviewSettings
from shared.db import Database
from shared.outbox import EntryView, get_entry, list_entries, outbox_table, retry_entry
from shared.settings import ServiceSettings

# The services with an outbox, and how to read their settings (and so their database URL).
SERVICES: dict[str, Callable[[], ServiceSettings]] = {
    "review": ReviewSettings,
    "orders": OrdersSettings,
}

# Every service's outbox has the same shape (shared.outbox.outbox_table).
OUTBOX = outbox_table(MetaData())


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `market outbox list|retry` to the CLI."""
    outbox = commands.add_parser("outbox", help="list outbox entries, retry failed ones")
    sub = outbox.add_subparsers(dest="outbox_command", required=True)

    listing = sub.add_parser("list", help="entries not delivered yet, oldest first")
    listing.add_argument("service", nargs="?", choices=list(SERVICES), metavar="SERVICE")
    listing.add_argument("--failed", action="store_true", help="only entries that failed")
    listing.add_argument("--limit", type=int, default=100, help="per service (default 100)")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(run=_list)

    retry = sub.add_parser("retry", help="make an entry due again, its attempts reset")
    retry.add_argument("entry_id", metavar="ID")
    retry.add_argument("--service", choices=list(SERVICES), help="where to look (default all)")
    retry.set_defaults(run=_retry)


def _list(args: argparse.Namespace) -> int:
    names = [args.service] if args.service else list(SERVICES)
    found = asyncio.run(_entries(names, failed_only=args.failed, limit=args.limit))
    if args.json:
        for service, entry in found:
            print(json.dumps(_as_json(service, entry)))
        return 0
    if not found:
        print("no failed entries" if args.failed else "no entries waiting")
        return 0
    for service, entry in found:
        print(
            f"{entry.id}  {service}  {entry.topic}  {entry.state}  attempts={entry.attempts}  "
            f"created={entry.created_at.isoformat()}  payload={json.dumps(entry.payload)}"
        )
        if entry.last_error:
            print(f"    last error: {entry.last_error}")
    return 0


def _retry(args: argparse.Namespace) -> int:
    names = [args.service] if args.service else list(SERVICES)
    service, entry = asyncio.run(_retry_in(names, args.entry_id))
    if entry is None:
        print(f"no outbox entry {args.entry_id} in {', '.join(names)}")
        return 1
    if entry.delivered_at is not None:
        print(f"{entry.id} ({service}) was delivered at {entry.delivered_at.isoformat()}")
        return 1
    print(f"{entry.id} ({service}, {entry.topic}) is due again; the {service} relay delivers it")
    return 0


async def _entries(
    names: list[str], *, failed_only: bool, limit: int
) -> list[tuple[str, EntryView]]:
    found: list[tuple[str, EntryView]] = []
    for name in names:
        db = Database(SERVICES[name]().database_url, pool_size=1)
        try:
            async with db.sessionmaker() as session, session.begin():
                entries = await list_entries(session, OUTBOX, failed_only=failed_only, limit=limit)
        finally:
            await db.dispose()
        found.extend((name, entry) for entry in entries)
    return found


async def _retry_in(names: list[str], entry_id: str) -> tuple[str, EntryView | None]:
    for name in names:
        db = Database(SERVICES[name]().database_url, pool_size=1)
        try:
            async with db.sessionmaker() as session, session.begin():
                if await get_entry(session, OUTBOX, entry_id) is not None:
                    return name, await retry_entry(session, OUTBOX, entry_id)
        finally:
            await db.dispose()
    return "", None


def _as_json(service: str, entry: EntryView) -> dict[str, object]:
    return {
        "id": entry.id,
        "service": service,
        "topic": entry.topic,
        "state": entry.state,
        "attempts": entry.attempts,
        "payload": entry.payload,
        "created_at": entry.created_at.isoformat(),
        "available_at": entry.available_at.isoformat(),
        "failed_at": entry.failed_at.isoformat() if entry.failed_at else None,
        "last_error": entry.last_error,
    }
