"""Benchmark of the license service (not a test): verify rates and read throughput.

    .venv/bin/python bench/license_bench.py [--licenses 100000] [--seconds 5] [--connections 16]

In one run it reports:

1. the raw Ed25519 verify rate (`cryptography`, the signature of a real license token);
2. the offline verifier's rate on that token (`services/license/verifier.py`), and its share
   of the raw rate (goal: at least 85%), both measured in alternating rounds;
3. on one real uvicorn server (a subprocess on loopback, its own temporary SQLite database with
   `--licenses` licenses inserted first): the throughput of `GET /healthz` (the trivial
   endpoint), `POST /v1/verify`, and `GET /v1/instances/{id}/entitlement`, each next to
   `/healthz` (goal for entitlement reads: at least 35% of `/healthz`): for one instance read
   over and over, for 2,000 instances picked at random (each read once before the clock
   starts, as installed applications read theirs again and again), and for 2,000 other
   instances read for the first time (no cached bundle, no remembered access token: the cold
   path, shown for what it costs).

The load comes from a separate process: the small HTTP/1.1 keep-alive client on raw asyncio
sockets in `bench/loadgen.py`, so that the client costs little next to the server. Each
endpoint is loaded for `--seconds` after a warm-up (every distinct request once, then one
second of load), except the first-read scenario. Numbers depend on the machine; what matters
are the ratios, measured on the same server in the same run.
"""

import argparse
import asyncio
import base64
import contextlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
# Run as a script (`python bench/license_bench.py`): the repository's root is not on the path,
# so the imports below (E402) come after it is put there.
sys.path.insert(0, str(ROOT))

from bench.loadgen import (  # noqa: E402
    LoadPool,
    LoadResult,
    free_port,
    request_bytes,
    request_worker,
)
from services.license.db.models import (  # noqa: E402
    InstanceRow,
    LicenseRow,
    LicenseVersionRow,
)
from services.license.domain.model import Level, LicenseTerms, Mode  # noqa: E402
from services.license.domain.tokens import license_claims  # noqa: E402
from services.license.keyring import KeyRing, create_signing_key  # noqa: E402
from services.license.verifier import LICENSE_TOKEN_TYPE, OfflineVerifier  # noqa: E402
from shared.auth import Role, issue_access_token  # noqa: E402
from shared.db import create_engine, upgrade  # noqa: E402
from shared.keys import private_key_pem, public_key_pem  # noqa: E402
from shared.settings import API_AUDIENCE, DEV_ISSUER  # noqa: E402

LICENSES_PER_INSTANCE = 4  # a base license and three add-on packs
BATCH = 5_000


# -- 1 and 2: signature verification in this process -----------------------------------------


def rate(function: Any, seconds: float) -> float:
    """Calls per second of `function()` over about `seconds`."""
    calls, started = 0, time.perf_counter()
    deadline = started + seconds
    while True:
        for _ in range(200):
            function()
        calls += 200
        now = time.perf_counter()
        if now >= deadline:
            return calls / (now - started)


def verify_rates(ring: KeyRing, token: str, seconds: float) -> tuple[float, float, float]:
    """Raw and offline verify rates, and the offline/raw ratio.

    Measured in alternating short rounds, so that the load other processes put on the machine
    weighs on both alike; each figure is the median over the rounds.
    """
    head, payload, signature = token.split(".")
    message = f"{head}.{payload}".encode()
    raw_signature = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    public = ring.current.public
    verifier = OfflineVerifier({kid: ring.current.public for kid in ring.kids})
    assert verifier.verify(token).valid

    raws, offlines, ratios = [], [], []
    rounds = 20
    for _ in range(rounds):
        raw = rate(lambda: public.verify(raw_signature, message), seconds / rounds)
        offline = rate(lambda: verifier.verify(token), seconds / rounds)
        raws.append(raw)
        offlines.append(offline)
        ratios.append(offline / raw)
    return statistics.median(raws), statistics.median(offlines), statistics.median(ratios)


# -- 3: a populated database and a real server ------------------------------------------------


def terms_for(instance: int, index: int, start: datetime) -> LicenseTerms:
    base_id = f"lic_b{instance:023d}"
    is_base = index == 0
    return LicenseTerms(
        id=base_id if is_base else f"lic_a{instance:020d}{index:03d}",
        order_id=f"ord_{instance:020d}{index:03d}",
        instance_id=f"ins_{instance:024d}",
        product_id=f"prd_{instance % 500:024d}",
        level=Level.base if is_base else Level.addon,
        parent_id=None if is_base else base_id,
        plan_id="pln_standard" if is_base else None,
        addon_id=None if is_base else f"add_pack{index}",
        entitlements={"devices": 100 if is_base else 50 * index},
        mode=Mode.subscription,
        valid_from=start,
        valid_until=start + timedelta(days=365),
        acceptance_deadline=None,
        original_acceptance_deadline=None,
        accepted_at=None,
        revoked_at=None,
        version=1,
    )


async def populate(url: str, ring: KeyRing, licenses: int) -> list[str]:
    """Insert `licenses` signed licenses, four per instance; returns the instance ids."""
    await upgrade(ROOT / "services" / "license" / "migrations", url)
    engine = create_engine(url)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    instances = licenses // LICENSES_PER_INSTANCE
    ids: list[str] = []
    try:
        for first in range(0, instances, BATCH // LICENSES_PER_INSTANCE):
            last = min(first + BATCH // LICENSES_PER_INSTANCE, instances)
            instance_rows, license_rows, version_rows = [], [], []
            for n in range(first, last):
                for index in range(LICENSES_PER_INSTANCE):
                    terms = terms_for(n, index, start)
                    token, kid = ring.sign(
                        license_claims(terms, issuer="market-license", issued_at=start),
                        LICENSE_TOKEN_TYPE,
                    )
                    license_rows.append(_license_row(terms, start))
                    version_rows.append(
                        {
                            "license_id": terms.id,
                            "version": 1,
                            "change": "minted",
                            "kid": kid,
                            "token": token,
                            "issued_at": start,
                            "expires_at": terms.expires_at,
                            "reason": None,
                            "details": {},
                            "recorded_by": "bench",
                        }
                    )
                instance_rows.append(
                    {
                        "id": f"ins_{n:024d}",
                        "product_id": f"prd_{n % 500:024d}",
                        "plan_id": "pln_standard",
                        "customer_id": f"customer{n}",
                        "partner_id": f"partner{n % 500}",
                        "base_license_id": f"lic_b{n:023d}",
                        "version": LICENSES_PER_INSTANCE,
                        "created_at": start,
                        "updated_at": start,
                    }
                )
                ids.append(f"ins_{n:024d}")
            async with engine.begin() as conn:
                await conn.execute(insert(InstanceRow), instance_rows)
                await conn.execute(insert(LicenseRow), license_rows)
                await conn.execute(insert(LicenseVersionRow), version_rows)
    finally:
        await engine.dispose()
    return ids


def _license_row(terms: LicenseTerms, start: datetime) -> dict[str, Any]:
    return {
        "id": terms.id,
        "order_id": terms.order_id,
        "instance_id": terms.instance_id,
        "level": terms.level.value,
        "parent_id": terms.parent_id,
        "product_id": terms.product_id,
        "plan_id": terms.plan_id,
        "addon_id": terms.addon_id,
        "customer_id": f"customer{int(terms.instance_id[4:])}",
        "partner_id": f"partner{int(terms.instance_id[4:]) % 500}",
        "quantity": 1,
        "entitlements": terms.entitlements,
        "mode": terms.mode.value,
        "valid_from": terms.valid_from,
        "valid_until": terms.valid_until,
        "acceptance_deadline": None,
        "original_acceptance_deadline": None,
        "accepted_at": None,
        "revoked_at": None,
        "revocation_reason": None,
        "version": 1,
        "created_at": start,
        "updated_at": start,
    }


@contextlib.contextmanager
def server(env: dict[str, str], port: int, log: Path) -> Iterator[None]:
    """A uvicorn process running the license app, as the Procfile starts it."""
    command = [
        str(Path(sys.executable).parent / "uvicorn"),
        "services.license.main:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 (our own command line)
            command, cwd=ROOT, env={**os.environ, **env}, stdout=output, stderr=output
        )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with contextlib.suppress(OSError):
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                if process.poll() is not None:
                    raise RuntimeError(f"the server exited; see {log}")
                time.sleep(0.1)
            yield
        finally:
            process.terminate()
            process.wait(timeout=10)


# -- the run ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--licenses", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="license-bench-") as folder:
        tmp = Path(folder)
        create_signing_key(tmp / "license-keys")
        ring = KeyRing(tmp / "license-keys")
        issuer_key = Ed25519PrivateKey.generate()
        (tmp / "issuer.pub.pem").write_bytes(public_key_pem(issuer_key.public_key()))
        (tmp / "issuer.key.pem").write_bytes(private_key_pem(issuer_key))

        start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
        sample = terms_for(0, 0, start)
        token, _ = ring.sign(
            license_claims(sample, issuer="market-license", issued_at=start), LICENSE_TOKEN_TYPE
        )
        print(f"license token: {len(token)} characters")
        raw, offline, ratio = verify_rates(ring, token, seconds=2 * args.seconds)
        print(f"raw Ed25519 verify      {raw:>10,.0f} /s   (median of 20 alternating rounds)")
        print(f"offline verifier        {offline:>10,.0f} /s   {ratio:6.1%} of raw (goal 85%)")

        url = f"sqlite+aiosqlite:///{tmp / 'license.db'}"
        began = time.perf_counter()
        instances = asyncio.run(populate(url, ring, args.licenses))
        print(
            f"inserted {len(instances) * LICENSES_PER_INSTANCE:,} licenses for "
            f"{len(instances):,} instances in {time.perf_counter() - began:.1f} s"
        )

        env = {
            "LICENSE_DATABASE_URL": url,
            "LICENSE_SIGNING_KEYS_DIR": str(tmp / "license-keys"),
            "LICENSE_AUTH_PUBLIC_KEY_FILE": str(tmp / "issuer.pub.pem"),
            # No service calls it here; a SQLite database, so no dev defaults to allow.
            "LICENSE_ORDERS_PUBLIC_KEY_FILE": str(tmp / "issuer.pub.pem"),
        }

        def bearer(n: int) -> dict[str, str]:
            access = issue_access_token(
                issuer_key,
                issuer=DEV_ISSUER,
                audience=API_AUDIENCE,
                sub=f"customer{n}",
                role=Role.customer,
                ttl_seconds=3600,
            )
            return {"Authorization": f"Bearer {access}"}

        hot = 7
        sampler = random.Random(1)  # noqa: S311 (picks instances, not secrets)
        picks = sampler.sample(range(len(instances)), min(4000, len(instances)))
        warm_picks, cold_picks = picks[: len(picks) // 2], picks[len(picks) // 2 :]
        verify_body = json.dumps({"token": token}).encode()
        scenarios = {
            "GET /healthz": [request_bytes("GET", "/healthz", {})],
            "POST /v1/verify": [
                request_bytes(
                    "POST", "/v1/verify", {"Content-Type": "application/json"}, verify_body
                )
            ],
            "GET entitlement (one instance)": [
                request_bytes("GET", f"/v1/instances/{instances[hot]}/entitlement", bearer(hot))
            ],
            "GET entitlement (2,000 instances)": [
                request_bytes("GET", f"/v1/instances/{instances[n]}/entitlement", bearer(n))
                for n in warm_picks
            ],
            "GET entitlement (first reads)": [
                request_bytes("GET", f"/v1/instances/{instances[n]}/entitlement", bearer(n))
                for n in cold_picks
            ],
        }

        port = free_port()
        results: dict[str, LoadResult] = {}
        with server(env, port, tmp / "server.log"), LoadPool() as pool:
            for name, requests in scenarios.items():
                warm = "first reads" not in name
                results[name] = pool.call(
                    request_worker, port, requests, args.seconds, args.connections, warm
                )
            # /healthz again at the end: the trivial rate is the best of the two runs.
            again = pool.call(
                request_worker, port, scenarios["GET /healthz"], args.seconds, args.connections
            )
        if again.rate > results["GET /healthz"].rate:
            results["GET /healthz"] = again
        trivial = results["GET /healthz"].rate

        print(
            f"server: uvicorn, 1 process, SQLite; load: 1 process, {args.connections} "
            f"keep-alive connections, {args.seconds:g} s each"
        )
        for name, result in results.items():
            share = result.rate / trivial
            goal = "   (goal 35%)" if "entitlement" in name and "first" not in name else ""
            outcomes = ", ".join(f"{k}: {v}" for k, v in result.outcomes.items())
            print(
                f"{name:<36} {result.rate:>8,.0f} /s  {share:6.1%} of /healthz{goal}"
                f"  p50 {result.p50_ms:.1f} ms  p99 {result.p99_ms:.1f} ms  [{outcomes}]"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
