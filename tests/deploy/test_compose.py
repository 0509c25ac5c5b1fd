"""deploy/compose.yaml: PostgreSQL, a migration per service, then the four services.

Docker can't run here, so the file is parsed and checked: the start order (depends_on and its
conditions), ports, secrets, and every variable against the services' settings classes, so
that a renamed setting breaks this test rather than the stack.
"""

import re
from pathlib import PurePosixPath
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from shared.settings import CALLING_SERVICES
from tests.deploy.support import (
    BY_NAME,
    DEPLOY,
    ENTRYPOINT_VARIABLES,
    SERVICES,
    Service,
    load_yaml,
)

COMPOSE = DEPLOY / "compose.yaml"
SECRETS_DIR = DEPLOY / "secrets"


def compose() -> dict[str, Any]:
    return load_yaml(COMPOSE)


def services() -> dict[str, Any]:
    result: dict[str, Any] = compose()["services"]
    return result


def interpolated(value: str) -> str:
    """A value as Compose sees it with no variable set: `${NAME:-default}` is `default`."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def environment(name: str) -> dict[str, str]:
    env = services()[name]["environment"]
    assert isinstance(env, dict), f"{name}: write environment as a mapping"
    return {key: interpolated(str(value)) for key, value in env.items()}


def test_the_stack_is_postgres_four_migrations_and_four_services() -> None:
    expected = {"postgres"} | {s.name for s in SERVICES} | {f"{s.name}-migrate" for s in SERVICES}
    assert set(services()) == expected


def test_postgres_15_is_healthchecked_and_creates_one_database_per_service() -> None:
    postgres = services()["postgres"]
    assert postgres["image"].startswith("postgres:15")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    (init,) = [v for v in postgres["volumes"] if "/docker-entrypoint-initdb.d/" in v]
    script = (DEPLOY / init.split(":")[0]).read_text(encoding="utf-8")
    created = set(re.findall(r"CREATE DATABASE (\w+);", script))
    assert created == {s.name for s in SERVICES}


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_the_migration_waits_for_a_healthy_postgres(service: Service) -> None:
    migration = services()[f"{service.name}-migrate"]
    assert migration["command"] == ["migrate"]
    assert migration["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert migration["restart"] == "no"
    env = environment(f"{service.name}-migrate")
    assert env["SERVICE"] == service.name
    assert set(env) == {"SERVICE", f"{service.prefix}DATABASE_URL"}


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_the_service_starts_once_its_migration_completed(service: Service) -> None:
    spec = services()[service.name]
    assert spec["command"] == ["serve"]
    depends_on = spec["depends_on"]
    assert depends_on[f"{service.name}-migrate"] == {"condition": "service_completed_successfully"}
    assert spec["ports"] == [f"127.0.0.1:{service.port}:{service.port}"]
    assert spec["image"] == services()[f"{service.name}-migrate"]["image"]
    assert spec["read_only"] is True
    assert "/tmp" in spec["tmpfs"]


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_every_variable_is_a_setting_of_the_service(service: Service) -> None:
    for name in (service.name, f"{service.name}-migrate"):
        for variable in environment(name):
            assert variable in ENTRYPOINT_VARIABLES or variable in service.variables, (
                f"{name}: {variable} is no setting of {service.settings.__name__}"
            )
    assert environment(service.name)["SERVICE"] == service.name


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_the_database_url_is_the_services_own_postgres_database(service: Service) -> None:
    urls = {
        environment(name)[f"{service.prefix}DATABASE_URL"]
        for name in (service.name, f"{service.name}-migrate")
    }
    assert len(urls) == 1
    url = make_url(urls.pop())
    assert url.drivername == "postgresql+asyncpg"
    assert (url.host, url.port, url.database) == ("postgres", 5432, service.name)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_every_upstream_url_names_the_upstream_compose_service(service: Service) -> None:
    env = environment(service.name)
    for variable in service.upstream_url_variables:
        upstream = BY_NAME[variable.removeprefix(service.prefix).removesuffix("_URL").lower()]
        assert env[variable] == f"http://{upstream.name}:{upstream.port}", variable
        assert upstream.name in services()[service.name]["depends_on"]


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_key_files_are_secrets_the_service_mounts(service: Service) -> None:
    spec = services()[service.name]
    defined = compose()["secrets"]
    mounted = set(spec["secrets"])
    assert mounted <= set(defined)
    env = environment(service.name)
    assert f"{service.prefix}AUTH_PUBLIC_KEY_FILE" in env
    for variable, value in env.items():
        if variable.endswith(("_FILE", "_DIR")):
            path = PurePosixPath(value)
            assert path.parent == PurePosixPath("/run/secrets"), variable
            assert path.name in mounted, variable
    if service.name in CALLING_SERVICES:
        assert f"{service.prefix}SERVICE_TOKEN_KEY_FILE" in env


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_no_service_mounts_another_services_private_key_or_the_user_issuers(
    service: Service,
) -> None:
    private = {
        name
        for name, secret in compose()["secrets"].items()
        if secret["file"].endswith((".key.pem", "license-keys"))
    }
    own = {f"{service.name}-service-key"} if service.name in CALLING_SERVICES else set()
    if service.name == "license":
        own.add("license-signing-keys")

    assert set(services()[service.name]["secrets"]) & private == own
    assert not any("access-issuer.key" in s["file"] for s in compose()["secrets"].values())


def test_the_secrets_come_from_the_ignored_secrets_folder() -> None:
    for name, secret in compose()["secrets"].items():
        source = (DEPLOY / secret["file"]).resolve()
        assert source.is_relative_to(SECRETS_DIR), name
    assert "/secrets/" in (DEPLOY / ".gitignore").read_text(encoding="utf-8").split()


def test_the_image_is_built_from_the_repository_root_with_the_deploy_dockerfile() -> None:
    for name, spec in services().items():
        if name == "postgres":
            continue
        build = spec["build"]
        assert (DEPLOY / build["context"]).resolve() == DEPLOY.parent
        assert (DEPLOY.parent / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
