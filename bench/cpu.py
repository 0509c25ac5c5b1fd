"""What the processes under load spend: CPU time read from /proc, and py-spy profiles."""

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.system import BenchService

WARM_UP_SECONDS = 1.0


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
