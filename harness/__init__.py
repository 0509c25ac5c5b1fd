"""What runs the system from outside it, for the end-to-end tests and the benchmarks.

- `harness.processes`: a service as a real uvicorn process on a free loopback port, started,
  waited for until ready, stopped or killed;
- `harness.databases`: PostgreSQL databases created and dropped on a server.

Neither the services nor `shared` import it; `tests/` and `bench/` both do.
"""
