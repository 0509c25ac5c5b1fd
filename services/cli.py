"""`market`, the project's command line: dev tokens, migrations, local setup.

market token --role partner --sub acme [--ttl 3600]
market token --role service --sub orders --to license
market db upgrade [catalog ...]
market dev-setup
market keys rotate
market license verify --jwks FILE [--revocations FILE] TOKEN...
market outbox list [SERVICE] [--failed]; market outbox retry ID
"""

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from services import outbox_commands
from services.catalog.settings import CatalogSettings
from services.license import commands as license_commands
from services.license.settings import LicenseSettings
from services.orders.settings import OrdersSettings
from services.review.settings import ReviewSettings
from shared.auth import MAX_TTL_SECONDS, USER_ROLES, Role, issue_access_token, issue_service_token
from shared.db import upgrade
from shared.keys import ensure_key_pair
from shared.private_files import VAR_DIR, private_folder
from shared.settings import (
    CALLING_SERVICES,
    DEV_ISSUER_KEY_FILE,
    DEV_ISSUER_PUBLIC_KEY_FILE,
    ServiceSettings,
    dev_service_key_file,
    dev_service_public_key_file,
)

SERVICES_DIR = Path(__file__).parent

# Each service with a database: how to read its settings (and so its database URL).
DATABASES: dict[str, Callable[[], ServiceSettings]] = {
    "catalog": CatalogSettings,
    "review": ReviewSettings,
    "orders": OrdersSettings,
    "license": LicenseSettings,
}


def _callees() -> dict[str, list[str]]:
    """Which services each calling service may call, as the services' trusted callers say."""
    callees: dict[str, list[str]] = {}
    for service, settings in DATABASES.items():
        for caller in settings().trusted_callers():
            callees.setdefault(caller, []).append(service)
    return callees


def _token(args: argparse.Namespace) -> int:
    role = Role(args.role)
    if role in USER_ROLES:
        if args.to is not None:
            raise SystemExit("market token: --to is for --role service only")
        settings = CatalogSettings()
        key = ensure_key_pair(DEV_ISSUER_KEY_FILE, DEV_ISSUER_PUBLIC_KEY_FILE)
        token = issue_access_token(
            key,
            issuer=settings.auth_issuer,
            audience=settings.auth_audience,
            sub=args.sub,
            role=role,
            ttl_seconds=args.ttl,
        )
    else:
        # A service token is signed with that service's own dev key, never the user issuer's.
        callees = _callees()
        to = callees.get(args.sub, [])
        if args.to is None and len(to) == 1:
            args.to = to[0]  # a caller with one callee needs no --to
        if args.to not in to:
            pairs = ", ".join(f"--sub {c} --to {t}" for c, ts in callees.items() for t in ts)
            raise SystemExit(f"market token: a service token is one of: {pairs}")
        key = ensure_key_pair(dev_service_key_file(args.sub), dev_service_public_key_file(args.sub))
        token = issue_service_token(key, caller=args.sub, callee=args.to, ttl_seconds=args.ttl)
    print(token)
    return 0


def _db_upgrade(args: argparse.Namespace) -> int:
    names = args.services or list(DATABASES)
    for name in names:
        url = DATABASES[name]().database_url
        asyncio.run(upgrade(SERVICES_DIR / name / "migrations", url))
        print(f"{name}: database at head")
    return 0


def _dev_setup(_args: argparse.Namespace) -> int:
    private_folder(VAR_DIR)
    ensure_key_pair(DEV_ISSUER_KEY_FILE, DEV_ISSUER_PUBLIC_KEY_FILE)
    print(f"user access-token issuer key: {DEV_ISSUER_KEY_FILE}")
    for service in CALLING_SERVICES:
        path = dev_service_key_file(service)
        ensure_key_pair(path, dev_service_public_key_file(service))
        print(f"{service} service-token key: {path}")
    license_commands.ensure_dev_key()
    return _db_upgrade(argparse.Namespace(services=[]))


def _ttl(value: str) -> int:
    ttl = int(value)
    if not 1 <= ttl <= MAX_TTL_SECONDS:
        raise argparse.ArgumentTypeError(f"between 1 and {MAX_TTL_SECONDS} seconds")
    return ttl


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="market", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    token = commands.add_parser("token", help="print an access token the running services accept")
    token.add_argument("--role", required=True, choices=[r.value for r in Role])
    token.add_argument(
        "--sub", required=True, help="the principal's id (partner, customer, …; a service's name)"
    )
    token.add_argument("--to", help="with --role service: the service the token is for")
    token.add_argument("--ttl", type=_ttl, default=3600, help="lifetime in seconds (default 3600)")
    token.set_defaults(run=_token)

    db = commands.add_parser("db", help="database migrations")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_upgrade = db_commands.add_parser("upgrade", help="migrate databases to head")
    db_upgrade.add_argument("services", nargs="*", choices=[[], *DATABASES], metavar="SERVICE")
    db_upgrade.set_defaults(run=_db_upgrade)

    setup = commands.add_parser("dev-setup", help="create dev keys and migrate every database")
    setup.set_defaults(run=_dev_setup)

    license_commands.register(commands)
    outbox_commands.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.run(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
