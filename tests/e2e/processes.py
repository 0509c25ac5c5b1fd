"""Moved to `harness.processes` (the benchmarks use it too); these names stay importable from
here for the tests that still import them from this module."""

from harness.processes import REPO_ROOT, ServiceProcess, free_port

__all__ = ["REPO_ROOT", "ServiceProcess", "free_port"]
