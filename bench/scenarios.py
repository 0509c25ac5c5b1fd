"""The scenarios: each one's load from the load process, its baseline, and the CPU the
processes spent on it, for one database."""

import argparse
import json
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.cpu import cpu_used, profiled
from bench.fixture import prepare
from bench.loadgen import (
    Connection,
    LoadPool,
    LoadResult,
    Outcome,
    measure,
    request_bytes,
    request_worker,
    run,
)
from bench.system import databases, make_keys, system

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
    """Every wanted scenario on one kind of database: its rows, and each service's peak RSS."""
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
