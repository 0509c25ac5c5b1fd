"""The bench's results: the table it prints, and the goals checked (reported, never
enforced)."""

from typing import Any

from bench.scenarios import Row
from bench.system import SERVICES

GOAL_PRODUCT_SHARE = 0.50
GOAL_PURCHASES_PER_SECOND = 300.0
GOAL_PURCHASE_P99_MS = 150.0
GOAL_RSS_MB = 150.0

LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
SCENARIOS = ("catalog", "license", "purchase")
CPU_COLUMNS = (*SERVICES, "postgresql", "load")


def _ratio(value: float, base: float) -> str:
    return f"{value / base:5.2f}x" if base else "    -"


def table(results: dict[str, tuple[list[Row], dict[str, float]]]) -> str:
    """The printed table: rates and latencies, CPU per unit, peak RSS."""
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


def goals(results: dict[str, tuple[list[Row], dict[str, float]]]) -> list[dict[str, Any]]:
    """Each goal, per database, as measured: met or not."""
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
