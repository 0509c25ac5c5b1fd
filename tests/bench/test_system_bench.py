"""`make bench` runs `bench/system_bench.py` as a script: it must start from a fresh interpreter
with every bench module importable (no run: that takes minutes and is not a test)."""

import subprocess
import sys

from harness.processes import REPO_ROOT


def test_the_system_bench_starts_as_make_bench_runs_it() -> None:
    done = subprocess.run(
        [sys.executable, "bench/system_bench.py", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert "--scenarios" in done.stdout
