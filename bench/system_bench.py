"""Benchmark of the whole system (not a test): `make bench`.

    .venv/bin/python bench/system_bench.py [--seconds 4] [--databases sqlite,postgresql]

For each database (SQLite files, then PostgreSQL databases created fresh on `--pg-url` and
dropped afterwards) it starts the four services as real uvicorn processes on loopback, each
with its own database migrated by its own migrations and configured only by environment
variables, as production runs them (one process each, `--no-access-log`, JSON logs at INFO).
Then, outside the timed part, it lists a product through the real review flow (submit, claim,
approve), has customers buy base instances and one add-on pack each, and collects their
licenses. The load comes from a separate process (`bench/loadgen.py`), scenario by scenario:

- `GET /healthz` of the service loaded next, at the same concurrency: the baseline;
- `GET /v1/products/{id}` on catalog (public product read);
- `GET /v1/instances/{id}/entitlement` on license (as each instance's customer);
- `POST /v1/verify` on license (the instances' license tokens);
- the full add-on purchase on orders: `POST /v1/orders` for one pack of an instance, then
  `POST /v1/orders/{id}/pay` until it answers 200 with a `license_id` (the license exists),
  both with an `Idempotency-Key` as the contract asks of a client that moves money; the
  latency is that of the pair.

Each scenario gets one second of unmeasured warm-up, then `--seconds` of load. Reported: units
per second, p50/p95/p99 latency, each figure's ratio to its baseline, errors, the CPU
milliseconds each process (services, PostgreSQL on its run, the load process) spent per request
or purchase in the measured seconds, and each service's peak RSS (VmHWM). The table is printed
and written with the run's details to `bench-results/bench.json`. Numbers depend on the machine
and on what else it runs; the goals (issue 6) are checked and reported as met or not, never
enforced.

With `--profile`, py-spy (a dev dependency) samples the services each scenario loads while it
runs and writes flame graphs to `bench-results/profiles/` (the sampling costs the services a
little: take the numbers of such a run with a grain of salt); `BENCH_PROFILE_FORMAT=raw` writes
collapsed stacks instead. `--scenarios` runs only some of the loads.
"""

import argparse
import asyncio
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadgen import (  # noqa: E402
    Connection,
    LoadPool,
    LoadResult,
    Outcome,
    measure,
    request_bytes,
    request_worker,
    run,
)
from services.license.keyring import ensure_signing_key  # noqa: E402
from shared.auth import Role, issue_access_token  # noqa: E402
from shared.db import upgrade  # noqa: E402
from shared.keys import ensure_key_pair, private_key_pem, public_key_pem  # noqa: E402
from shared.settings import API_AUDIENCE, CALLING_SERVICES, DEV_ISSUER  # noqa: E402
from tests.databases import run_on_server  # noqa: E402
from tests.e2e.processes import ServiceProcess  # noqa: E402

SERVICES = ("catalog", "review", "orders", "license")
# The services whose service tokens each service accepts.
CALLERS = {"catalog": ("review",), "license": ("orders",)}
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432"
PARTNER = "bench-partner"
REVIEWER = "bench-reviewer"

GOAL_PRODUCT_SHARE = 0.50
GOAL_PURCHASES_PER_SECOND = 300.0
GOAL_PURCHASE_P99_MS = 150.0
GOAL_RSS_MB = 150.0
WARM_UP_SECONDS = 1.0


# -- the system under test --------------------------------------------------------------------


class BenchService(ServiceProcess):
    """A service process whose memory can be read."""

    @property
    def pid(self) -> int:
        return self._running().pid

    def peak_rss_mb(self) -> float:
        """VmHWM: the most resident memory the process has had, in MiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmHWM in /proc status")


@dataclass
class Keys:
    issuer: Ed25519PrivateKey
    private_file: Path
    public_file: Path
    signing_dir: Path

    def token(self, role: Role, sub: str) -> str:
        return issue_access_token(
            self.issuer,
            issuer=DEV_ISSUER,
            audience=API_AUDIENCE,
            sub=sub,
            role=role,
            ttl_seconds=3600,
        )

    def headers(self, role: Role, sub: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, sub)}"}

    def env(self, service: str) -> dict[str, str]:
        """The key settings of a service: the user issuer's public key, its own service-token
        key if it calls others, its callers' public keys; dev defaults explicitly allowed
        (the bench's issuer is `market-dev`, and it runs on PostgreSQL too)."""
        prefix = service.upper()
        env = {
            f"{prefix}_AUTH_PUBLIC_KEY_FILE": str(self.public_file),
            f"{prefix}_ALLOW_DEV_DEFAULTS": "true",
        }
        if service in CALLING_SERVICES:
            env[f"{prefix}_SERVICE_TOKEN_KEY_FILE"] = str(self.service_key_file(service))
        for caller in CALLERS.get(service, ()):
            env[f"{prefix}_{caller.upper()}_PUBLIC_KEY_FILE"] = str(
                self.service_key_file(caller).with_suffix(".pub")
            )
        return env

    def service_key_file(self, service: str) -> Path:
        return self.signing_dir.parent / f"{service}-service.pem"


def make_keys(folder: Path) -> Keys:
    issuer = Ed25519PrivateKey.generate()
    private_file, public_file = folder / "issuer.key.pem", folder / "issuer.pub.pem"
    private_file.write_bytes(private_key_pem(issuer))
    public_file.write_bytes(public_key_pem(issuer.public_key()))
    private_file.chmod(0o600)
    signing_dir = folder / "license-keys"
    ensure_signing_key(signing_dir)
    keys = Keys(issuer, private_file, public_file, signing_dir)
    for service in CALLING_SERVICES:
        private = keys.service_key_file(service)
        ensure_key_pair(private, private.with_suffix(".pub"))
    return keys


@contextmanager
def databases(kind: str, folder: Path, pg_url: str) -> Iterator[dict[str, str]]:
    """A migrated database per service: SQLite files, or fresh PostgreSQL databases."""
    if kind == "sqlite":
        urls = {name: f"sqlite+aiosqlite:///{folder / name}.db" for name in SERVICES}
    else:
        names = {name: f"market_bench_{name}_{os.getpid()}" for name in SERVICES}
        for name in names.values():
            asyncio.run(
                run_on_server(
                    pg_url,
                    f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                    f'CREATE DATABASE "{name}"',
                )
            )
        base = make_url(pg_url)
        urls = {
            service: base.set(database=name).render_as_string(hide_password=False)
            for service, name in names.items()
        }
    try:
        for service, url in urls.items():
            asyncio.run(upgrade(ROOT / "services" / service / "migrations", url))
        yield urls
    finally:
        if kind != "sqlite":
            for name in names.values():
                asyncio.run(run_on_server(pg_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def system(
    urls: dict[str, str], keys: Keys, folder: Path, extra_env: dict[str, str] | None = None
) -> Iterator[dict[str, BenchService]]:
    """The four services as uvicorn processes on free loopback ports, ready.

    `extra_env` is laid over every service's environment (to try a setting).
    """
    processes = {
        name: BenchService(name, f"services.{name}.main:create_app", log_dir=folder)
        for name in SERVICES
    }
    envs: dict[str, dict[str, str]] = {}
    for name in SERVICES:
        prefix = name.upper()
        envs[name] = {
            "UVICORN_ACCESS_LOG": "false",  # as the Procfile and the image run them
            f"{prefix}_DATABASE_URL": urls[name],
            **keys.env(name),
        }
    catalog_url = processes["catalog"].base_url
    envs["review"]["REVIEW_CATALOG_URL"] = catalog_url
    envs["license"].update(
        {"LICENSE_SIGNING_KEYS_DIR": str(keys.signing_dir), "LICENSE_CATALOG_URL": catalog_url}
    )
    envs["orders"].update(
        {"ORDERS_CATALOG_URL": catalog_url, "ORDERS_LICENSE_URL": processes["license"].base_url}
    )
    try:
        for name, process in processes.items():
            process.start({**envs[name], **(extra_env or {})})
        for process in processes.values():
            process.wait_ready(timeout=60)
        yield processes
    finally:
        for process in processes.values():
            process.stop()


@contextmanager
def profiled(folder: Path | None, label: str, processes: list[BenchService]) -> Iterator[None]:
    """py-spy flame graphs of `processes` while the block runs (nothing if `folder` is None)."""
    if folder is None:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    # py-spy's format: flame graphs by default; `raw` (collapsed stacks) to add up by hand.
    form = os.environ.get("BENCH_PROFILE_FORMAT", "flamegraph")
    suffix = {"flamegraph": "svg", "speedscope": "json"}.get(form, "txt")
    spies = [
        subprocess.Popen(  # noqa: S603 (our own command line)
            [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--pid",
                str(process.pid),
                "--rate",
                "200",
                "--nonblocking",
                "--format",
                form,
                "--output",
                str(folder / f"{slug}-{process.name}.{suffix}"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for process in processes
    ]
    try:
        yield
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)  # py-spy writes its output when interrupted
        for spy in spies:
            spy.wait(timeout=30)


def _proc_cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User + system CPU of a process (and of its reaped children), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _postgres_cpu_seconds() -> float:
    """CPU of the local PostgreSQL server: live processes, plus the backends that exited
    (counted in the postmaster's children's time). 0 when no server runs on this machine."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() != "postgres":
                continue
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            postmaster = Path(f"/proc/{parent}/comm").read_text().strip() != "postgres"
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        total += _proc_cpu_seconds(int(entry.name), children=postmaster)
    return total


@contextmanager
def cpu_used(
    processes: dict[str, BenchService], kind: str, load_pid: int
) -> Iterator[dict[str, float]]:
    """CPU seconds each service, the load process (and PostgreSQL, on its run) spend in the
    measured part of the load the block runs: sampled once the warm-up second has passed, and
    at the end."""

    def sample() -> dict[str, float]:
        used = {name: _proc_cpu_seconds(p.pid) for name, p in processes.items()}
        used["load"] = _proc_cpu_seconds(load_pid)
        if kind == "postgresql":
            used["postgresql"] = _postgres_cpu_seconds()
        return used

    before: dict[str, float] = {}
    timer = threading.Timer(WARM_UP_SECONDS, lambda: before.update(sample()))
    timer.start()
    spent: dict[str, float] = {}
    try:
        yield spent
    finally:
        timer.cancel()
    after = sample()
    if before:
        spent.update({name: after[name] - before[name] for name in before})


# -- setup, outside the timed part ------------------------------------------------------------


@dataclass
class Fixture:
    """What the scenarios need: the live product, the instances, their tokens and licenses."""

    product_id: str
    plan_id: str
    addon_id: str
    customers: list[str] = field(default_factory=list)
    customer_tokens: list[str] = field(default_factory=list)
    # Per customer, the instances it owns.
    instances: list[list[str]] = field(default_factory=list)
    license_tokens: list[str] = field(default_factory=list)


def _ok(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    if response.status_code not in (statuses or (200,)):
        raise RuntimeError(
            f"{response.request.method} {response.request.url} answered "
            f"{response.status_code}: {response.text[:500]}"
        )
    return dict(response.json())


def list_product(processes: dict[str, BenchService], keys: Keys) -> tuple[str, str, str]:
    """A live product (a plan, an add-on of up to 1000 packs) through the real review flow."""
    partner = keys.headers(Role.partner, PARTNER)
    reviewer = keys.headers(Role.reviewer, REVIEWER)
    with (
        httpx.Client(base_url=processes["catalog"].base_url, timeout=30) as catalog,
        httpx.Client(base_url=processes["review"].base_url, timeout=30) as review,
    ):
        product = _ok(
            catalog.post(
                "/v1/products",
                headers=partner,
                json={
                    "product_type": "marketplace",
                    "name": "FleetOTA",
                    "category": "automotive",
                    "description": "Over-the-air updates for connected vehicles.",
                    "billing_mode": "online",
                    "requires_acceptance": False,
                },
            ),
            201,
        )
        draft = f"/v1/products/{product['id']}/draft"
        monthly = {"unit": "month", "count": 1}
        plan = _ok(
            catalog.post(
                f"{draft}/plans",
                headers=partner,
                json={
                    "name": "Standard",
                    "subscription_method": "subscription",
                    "cycles": [
                        {**monthly, "price": {"amount_minor": 4900, "currency": "EUR"}},
                        {
                            "unit": "year",
                            "count": 1,
                            "price": {"amount_minor": 49000, "currency": "EUR"},
                        },
                    ],
                    "entitlements": {"devices": 100},
                },
            ),
            201,
        )
        addon = _ok(
            catalog.post(
                f"{draft}/addons",
                headers=partner,
                json={
                    "name": "+100 devices",
                    "subscription_method": "subscription",
                    "cycles": [{**monthly, "price": {"amount_minor": 1900, "currency": "EUR"}}],
                    "entitlements": {"devices": 100},
                    "max_per_instance": 1000,
                },
            ),
            201,
        )
        submission = _ok(
            review.post("/v1/submissions", headers=partner, json={"product_id": product["id"]}),
            201,
        )
        _ok(review.post(f"/v1/submissions/{submission['id']}/claim", headers=reviewer))
        approved = _ok(review.post(f"/v1/submissions/{submission['id']}/approve", headers=reviewer))
        if approved["publication"]["state"] != "live":
            raise RuntimeError(f"the approved revision is not live: {approved['publication']}")
        _ok(catalog.get(f"/v1/products/{product['id']}"))
    return str(product["id"]), str(plan["id"]), str(addon["id"])


async def _buy(
    orders: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    key = {"Idempotency-Key": uuid.uuid4().hex}
    order = _ok(await orders.post("/v1/orders", headers={**headers, **key}, json=body), 201)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    paid = _ok(await orders.post(f"/v1/orders/{order['id']}/pay", headers={**headers, **key}))
    if not paid.get("license_id"):
        raise RuntimeError(f"pay answered without a license: {paid}")
    return paid


async def _populate(
    processes: dict[str, BenchService], keys: Keys, fixture: Fixture, clients: int, per_client: int
) -> None:
    """Each customer buys `per_client` base instances, and one add-on pack for each."""
    monthly = {"unit": "month", "count": 1}
    limit = asyncio.Semaphore(16)
    async with (
        httpx.AsyncClient(base_url=processes["orders"].base_url, timeout=60) as orders,
        httpx.AsyncClient(base_url=processes["license"].base_url, timeout=60) as license,
    ):

        async def instance_of(customer: int) -> tuple[int, str, str, str]:
            headers = {"Authorization": f"Bearer {fixture.customer_tokens[customer]}"}
            async with limit:
                base = await _buy(
                    orders,
                    headers,
                    {
                        "type": "new",
                        "product_id": fixture.product_id,
                        "plan_id": fixture.plan_id,
                        "cycle": monthly,
                    },
                )
                pack = await _buy(
                    orders,
                    headers,
                    {
                        "type": "addon",
                        "instance_id": base["instance_id"],
                        "addon_id": fixture.addon_id,
                        "cycle": monthly,
                        "quantity": 1,
                    },
                )
                tokens = []
                for license_id in (base["license_id"], pack["license_id"]):
                    found = _ok(await license.get(f"/v1/licenses/{license_id}", headers=headers))
                    tokens.append(str(found["token"]))
            return customer, str(base["instance_id"]), *tokens  # type: ignore[return-value]

        made = await asyncio.gather(
            *(instance_of(c) for c in range(clients) for _ in range(per_client))
        )
    fixture.instances = [[] for _ in range(clients)]
    for customer, instance_id, base_token, pack_token in made:
        fixture.instances[customer].append(instance_id)
        fixture.license_tokens += [base_token, pack_token]


def prepare(
    processes: dict[str, BenchService], keys: Keys, clients: int, per_client: int
) -> Fixture:
    product_id, plan_id, addon_id = list_product(processes, keys)
    fixture = Fixture(product_id, plan_id, addon_id)
    fixture.customers = [f"bench-customer-{n:02d}" for n in range(clients)]
    fixture.customer_tokens = [keys.token(Role.customer, c) for c in fixture.customers]
    asyncio.run(_populate(processes, keys, fixture, clients, per_client))
    return fixture


# -- the purchase, in the load process --------------------------------------------------------


@dataclass
class Purchase:
    """The full add-on purchase as a flow: client n buys packs for its customer's instances."""

    addon_id: str
    tokens: list[str]
    instances: list[list[str]]
    bought: list[int] = field(default_factory=list)

    async def __call__(self, connection: Connection, number: int) -> Outcome:
        if not self.bought:
            self.bought = [0] * len(self.tokens)
        mine = self.instances[number % len(self.instances)]
        instance_id = mine[self.bought[number] % len(mine)]
        self.bought[number] += 1
        auth = f"Bearer {self.tokens[number % len(self.tokens)]}"
        body = json.dumps(
            {
                "type": "addon",
                "instance_id": instance_id,
                "addon_id": self.addon_id,
                "cycle": {"unit": "month", "count": 1},
                "quantity": 1,
            }
        ).encode()
        headers = {
            "Authorization": auth,
            "Content-Type": "application/json",
            "Idempotency-Key": uuid.uuid4().hex,
        }
        status, answer = await connection.request("POST", "/v1/orders", headers, body)
        if status != 201:
            return f"create {status}"
        order_id = json.loads(answer)["id"]
        headers = {"Authorization": auth, "Idempotency-Key": uuid.uuid4().hex}
        status, answer = await connection.request("POST", f"/v1/orders/{order_id}/pay", headers)
        if status != 200:
            return f"pay {status}"
        if not json.loads(answer).get("license_id"):
            return "pay 200 without license"
        return "ok"


def purchase_worker(port: int, flow: Purchase, seconds: float, connections: int) -> LoadResult:
    """In the load process: `connections` customers buying packs, after a second of warm-up."""

    async def go() -> LoadResult:
        return await measure(port, flow, seconds=seconds, connections=connections, warm_seconds=1.0)

    return run(go)


# -- the run ----------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    service: str
    result: LoadResult
    baseline: "Row | None" = None
    # CPU seconds spent per process during the measured part of the scenario.
    cpu: dict[str, float] = field(default_factory=dict)

    def cpu_ms_per_unit(self) -> dict[str, float]:
        """CPU milliseconds per unit (request or purchase) of each process."""
        units = self.result.completed
        return {name: 1000 * used / units for name, used in self.cpu.items()} if units else {}

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"scenario": self.name, "service": self.service}
        out.update(self.result.as_dict())
        out["cpu_ms_per_unit"] = self.cpu_ms_per_unit()
        if self.baseline is not None:
            base = self.baseline.result
            out["baseline"] = self.baseline.name
            out["ratio"] = {
                "rate": self.result.rate / base.rate,
                "p50": self.result.p50_ms / base.p50_ms,
                "p95": self.result.p95_ms / base.p95_ms,
                "p99": self.result.p99_ms / base.p99_ms,
            }
        return out


def bench_database(
    kind: str, args: argparse.Namespace, pool: LoadPool
) -> tuple[list[Row], dict[str, float]]:
    reads, buyers, seconds = args.read_connections, args.purchase_connections, args.seconds
    with tempfile.TemporaryDirectory(prefix=f"market-bench-{kind}-") as name:
        folder = Path(name)
        keys = make_keys(folder)
        extra_env = dict(item.split("=", 1) for item in args.env)
        with (
            databases(kind, folder, args.pg_url) as urls,
            system(urls, keys, folder, extra_env) as procs,
        ):
            began = time.perf_counter()
            fixture = prepare(procs, keys, buyers, args.instances_per_client)
            count = sum(len(i) for i in fixture.instances)
            print(
                f"  [{kind}] set up: a product through review, {count} instances with a pack "
                f"each, in {time.perf_counter() - began:.1f} s",
                flush=True,
            )

            profiles = args.output.parent / "profiles" if args.profile else None

            def requests_load(
                name: str,
                service: str,
                requests: list[bytes],
                connections: int,
                *,
                label: str = "",
                baseline: Row | None = None,
            ) -> Row:
                port = procs[service].port
                spied = [procs[service]] if label else []
                with (
                    profiled(profiles if label else None, f"{kind} {label}", spied),
                    cpu_used(procs, kind, pool.pid) as cpu,
                ):
                    result: LoadResult = pool.call(
                        request_worker, port, requests, seconds, connections
                    )
                return Row(name, service, result, baseline, cpu)

            def baseline(service: str, connections: int) -> Row:
                healthz = [request_bytes("GET", "/healthz", {})]
                name = f"GET /healthz ({service}, {connections} conn.)"
                return requests_load(name, service, healthz, connections)

            rows: list[Row] = []
            wanted = set(args.scenarios.split(","))
            if "catalog" in wanted:
                catalog_base = baseline("catalog", reads)
                product = [request_bytes("GET", f"/v1/products/{fixture.product_id}", {})]
                rows += [
                    catalog_base,
                    requests_load(
                        "GET /v1/products/{id}",
                        "catalog",
                        product,
                        reads,
                        label="product read",
                        baseline=catalog_base,
                    ),
                ]
            if "license" in wanted:
                license_base = baseline("license", reads)
                entitlement = [
                    request_bytes(
                        "GET",
                        f"/v1/instances/{instance_id}/entitlement",
                        {"Authorization": f"Bearer {token}"},
                    )
                    for token, mine in zip(fixture.customer_tokens, fixture.instances, strict=True)
                    for instance_id in mine
                ]
                verify = [
                    request_bytes(
                        "POST",
                        "/v1/verify",
                        {"Content-Type": "application/json"},
                        json.dumps({"token": token}).encode(),
                    )
                    for token in fixture.license_tokens
                ]
                rows += [
                    license_base,
                    requests_load(
                        "GET /v1/instances/{id}/entitlement",
                        "license",
                        entitlement,
                        reads,
                        label="entitlement read",
                        baseline=license_base,
                    ),
                    requests_load(
                        "POST /v1/verify",
                        "license",
                        verify,
                        reads,
                        label="verify",
                        baseline=license_base,
                    ),
                ]
            if "purchase" in wanted:
                orders_base = baseline("orders", buyers)
                flow = Purchase(fixture.addon_id, fixture.customer_tokens, fixture.instances)
                involved = [procs["orders"], procs["license"], procs["catalog"]]
                with (
                    profiled(profiles, f"{kind} purchase", involved),
                    cpu_used(procs, kind, pool.pid) as cpu,
                ):
                    bought = pool.call(purchase_worker, procs["orders"].port, flow, seconds, buyers)
                rows += [
                    orders_base,
                    Row("add-on purchase (create + pay)", "orders", bought, orders_base, cpu),
                ]
            rss = {name: process.peak_rss_mb() for name, process in procs.items()}
    return rows, rss


def _ratio(value: float, base: float) -> str:
    return f"{value / base:5.2f}x" if base else "    -"


def table(results: dict[str, tuple[list[Row], dict[str, float]]]) -> str:
    lines = []
    header = (
        f"{'scenario':<38} {'conn':>4} {'per s':>8} {'x base':>7} "
        f"{'p50 ms':>8} {'x base':>7} {'p95 ms':>8} {'x base':>7} "
        f"{'p99 ms':>8} {'x base':>7} {'errors':>6}"
    )
    for kind, (rows, _rss) in results.items():
        lines += ["", f"{LABELS[kind]}", header, "-" * len(header)]
        for row in rows:
            r = row.result
            b = row.baseline.result if row.baseline else r
            lines.append(
                f"{row.name:<38} {r.connections:>4} {r.rate:>8,.0f} {_ratio(r.rate, b.rate):>7} "
                f"{r.p50_ms:>8.1f} {_ratio(r.p50_ms, b.p50_ms):>7} "
                f"{r.p95_ms:>8.1f} {_ratio(r.p95_ms, b.p95_ms):>7} "
                f"{r.p99_ms:>8.1f} {_ratio(r.p99_ms, b.p99_ms):>7} {r.errors:>6}"
            )
    lines += [
        "",
        f"{'CPU ms per request or purchase':<38}" + "".join(f"{s:>11}" for s in CPU_COLUMNS),
    ]
    for kind, (rows, _rss) in results.items():
        for row in rows:
            per_unit = row.cpu_ms_per_unit()
            cells = "".join(
                f"{per_unit[s]:>11.2f}" if s in per_unit else f"{'-':>11}" for s in CPU_COLUMNS
            )
            lines.append(f"{LABELS[kind] + ': ' + row.name:<38.38}" + cells)
    lines += ["", f"{'peak RSS (VmHWM), MiB':<38}" + "".join(f"{s:>10}" for s in SERVICES)]
    for kind, (_rows, rss) in results.items():
        lines.append(f"{LABELS[kind]:<38}" + "".join(f"{rss[s]:>10.1f}" for s in SERVICES))
    return "\n".join(lines)


LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
SCENARIOS = ("catalog", "license", "purchase")
CPU_COLUMNS = (*SERVICES, "postgresql", "load")


def goals(results: dict[str, tuple[list[Row], dict[str, float]]]) -> list[dict[str, Any]]:
    checks: list[dict[str, Any]] = []
    for kind, (rows, rss) in results.items():
        by_name = {row.name: row for row in rows}
        product = by_name.get("GET /v1/products/{id}")
        if product is not None:
            assert product.baseline is not None
            share = product.result.rate / product.baseline.result.rate
            checks.append(
                {
                    "database": kind,
                    "goal": "product read >= 50% of baseline",
                    "measured": f"{share:.0%}",
                    "met": share >= GOAL_PRODUCT_SHARE,
                }
            )
        if kind == "postgresql" and "add-on purchase (create + pay)" in by_name:
            bought = by_name["add-on purchase (create + pay)"].result
            checks.append(
                {
                    "database": kind,
                    "goal": "add-on purchases >= 300/s at 32 clients",
                    "measured": f"{bought.rate:.0f}/s",
                    "met": bought.rate >= GOAL_PURCHASES_PER_SECOND and bought.errors == 0,
                }
            )
            checks.append(
                {
                    "database": kind,
                    "goal": "add-on purchase p99 <= 150 ms",
                    "measured": f"{bought.p99_ms:.0f} ms",
                    "met": bought.p99_ms <= GOAL_PURCHASE_P99_MS,
                }
            )
        worst = max(rss.values())
        checks.append(
            {
                "database": kind,
                "goal": "each service < 150 MB RSS",
                "measured": f"max {worst:.0f} MiB",
                "met": worst < GOAL_RSS_MB,
            }
        )
    return checks


def _commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 (git from PATH)
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="measured seconds a scenario")
    parser.add_argument("--read-connections", type=int, default=16)
    parser.add_argument("--purchase-connections", type=int, default=32)
    parser.add_argument("--instances-per-client", type=int, default=4)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help="which loads to run: catalog (product read), license (entitlement, verify), purchase",
    )
    parser.add_argument("--pg-url", default=os.environ.get("PG_URL") or DEFAULT_PG_URL)
    parser.add_argument("--output", type=Path, default=ROOT / "bench-results" / "bench.json")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="flame graphs (py-spy) of the loaded services into bench-results/profiles/",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an environment variable for every service (repeatable), to try a setting",
    )
    args = parser.parse_args()
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    unknown = set(kinds) - set(LABELS)
    if unknown:
        parser.error(f"unknown database(s): {', '.join(sorted(unknown))}")
    unknown = set(args.scenarios.split(",")) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")

    started = time.perf_counter()
    print(
        f"make bench: {', '.join(LABELS[k] for k in kinds)}; {args.seconds:g} s a scenario "
        f"after 1 s of warm-up; reads at {args.read_connections} connections, purchases at "
        f"{args.purchase_connections}",
        flush=True,
    )
    results: dict[str, tuple[list[Row], dict[str, float]]] = {}
    with LoadPool() as pool:
        for kind in kinds:
            results[kind] = bench_database(kind, args, pool)
    print(table(results))
    checks = goals(results)
    print()
    for check in checks:
        verdict = "met" if check["met"] else "NOT met"
        print(
            f"goal ({LABELS[check['database']]}): {check['goal']}: {check['measured']} -> {verdict}"
        )
    elapsed = time.perf_counter() - started
    print(f"\n{elapsed:.0f} s in all; written to {args.output}")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "settings": {
            "seconds": args.seconds,
            "warm_up_seconds": 1.0,
            "read_connections": args.read_connections,
            "purchase_connections": args.purchase_connections,
            "instances_per_client": args.instances_per_client,
            "server": "uvicorn, one process a service, --no-access-log, JSON logs at INFO",
            "extra_env": args.env,
            "scenarios": args.scenarios,
            "profiled": args.profile,
        },
        "results": {
            kind: {
                "scenarios": [row.as_dict() for row in rows],
                "peak_rss_mb": rss,
            }
            for kind, (rows, rss) in results.items()
        },
        "goals": checks,
        "elapsed_seconds": elapsed,
    }
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
