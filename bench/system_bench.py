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
and on what else it runs; the goals are checked and reported as met or not, never
enforced.

With `--profile`, py-spy (a dev dependency) samples the services each scenario loads while it
runs and writes flame graphs to `bench-results/profiles/` (the sampling costs the services a
little: take the numbers of such a run with a grain of salt); `BENCH_PROFILE_FORMAT=raw` writes
collapsed stacks instead. `--scenarios` runs only some of the loads.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Run as a script (`python bench/system_bench.py`): the repository's root is not on the path.
sys.path.insert(0, str(ROOT))

from bench.loadgen import LoadPool  # noqa: E402
from bench.report import LABELS, SCENARIOS, goals, table  # noqa: E402
from bench.scenarios import Row, bench_database  # noqa: E402
from bench.system import DEFAULT_PG_URL  # noqa: E402


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
