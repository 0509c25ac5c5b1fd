"""The Kustomize base in deploy/k8s/base: valid against the Kubernetes schemas, and consistent.

The manifests are read as plain YAML (no kustomize binary), validated offline with
kubernetes-validate, then checked against each other and against the code: probes on the
paths the apps serve, ports matching the Services, settings that exist, secrets that the
example defines, and an Ingress that routes every public operation to the service owning it.
"""

import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import kubernetes_validate
import pytest
from fastapi import FastAPI

from services.catalog.main import create_app as create_catalog
from services.catalog.settings import CatalogSettings
from services.license.main import create_app as create_license
from services.license.settings import LicenseSettings
from services.orders.main import create_app as create_orders
from services.orders.settings import OrdersSettings
from services.review.main import create_app as create_review
from services.review.settings import ReviewSettings
from shared.settings import CALLING_SERVICES, ServiceSettings
from tests.conftest import CALLER_KEY_FIELDS
from tests.deploy.support import (
    BY_NAME,
    ENTRYPOINT_VARIABLES,
    K8S_BASE,
    SECRETS_EXAMPLE,
    SERVICE_NAMES,
    SERVICES,
    Service,
    cpu_millicores,
    load_documents,
    load_yaml,
    memory_bytes,
    service_of_variable,
)

# The oldest Kubernetes minor the base is meant for (deploy/README.md) and the newest the
# schemas cover.
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
OPERATIONS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
MIGRATION_HOOK = {
    "argocd.argoproj.io/hook": "PreSync",
    "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
}

Manifest = dict[str, Any]
CALLERS = {service: set(callers) for service, callers in CALLER_KEY_FIELDS.items()}


def kustomization() -> Manifest:
    return load_yaml(K8S_BASE / "kustomization.yaml")


def resource_files() -> list[Path]:
    return [K8S_BASE / name for name in kustomization()["resources"]]


def manifests() -> list[Manifest]:
    return [doc for path in resource_files() for doc in load_documents(path)]


def find(kind: str, name: str) -> Manifest:
    found = [m for m in manifests() if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(found) == 1, f"{len(found)} {kind} named {name!r} in the base"
    return found[0]


def of_kind(kind: str) -> list[Manifest]:
    return [m for m in manifests() if m["kind"] == kind]


def example_secrets() -> dict[str, set[str]]:
    """Each example Secret's name and its keys."""
    secrets: dict[str, set[str]] = {}
    for doc in load_documents(SECRETS_EXAMPLE):
        assert doc["kind"] == "Secret"
        secrets[doc["metadata"]["name"]] = set(doc.get("stringData", {})) | set(doc.get("data", {}))
    return secrets


def config() -> dict[str, str]:
    data: dict[str, str] = find("ConfigMap", "market-config")["data"]
    return data


def only_container(pod_spec: Manifest) -> Manifest:
    containers: list[Manifest] = pod_spec["containers"]
    assert len(containers) == 1
    return containers[0]


def env_of(container: Manifest) -> dict[str, Manifest]:
    return {entry["name"]: entry for entry in container.get("env", [])}


def secret_refs(container: Manifest) -> Iterator[tuple[str, str]]:
    for entry in container.get("env", []):
        ref = entry.get("valueFrom", {}).get("secretKeyRef")
        if ref:
            yield ref["name"], ref["key"]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def openapi_paths() -> dict[str, set[str]]:
    """Each service's operation paths, from the apps themselves (nothing is started)."""
    url = "sqlite+aiosqlite://"
    apps: dict[str, FastAPI] = {
        "catalog": create_catalog(CatalogSettings(database_url=url)),
        "review": create_review(ReviewSettings(database_url=url)),
        "orders": create_orders(OrdersSettings(database_url=url)),
        "license": create_license(LicenseSettings(database_url=url)),
    }
    return {name: set(app.openapi()["paths"]) for name, app in apps.items()}


def example_path(template: str) -> str:
    """An OpenAPI path template with every parameter filled in."""
    return re.sub(r"\{[^}]+\}", "ins_01J9ZQ4T7B", template)


def ingress_paths() -> list[Manifest]:
    rules = find("Ingress", "market")["spec"]["rules"]
    return [p for rule in rules for p in rule["http"]["paths"]]


def ingress_match(path: str, *, nginx_regex: bool) -> Manifest | None:
    """The Ingress path entry that `path` is routed by, if any.

    Both readings are checked: the API's (Prefix matches whole path elements) and
    ingress-nginx's with `use-regex` (every path a case-insensitive regex anchored at the
    start, tried longest first).
    """
    for entry in sorted(ingress_paths(), key=lambda p: len(p["path"]), reverse=True):
        pattern, kind = entry["path"], entry["pathType"]
        if nginx_regex or kind == "ImplementationSpecific":
            matched = re.match(pattern, path, re.IGNORECASE) is not None
        elif kind == "Prefix":
            prefix = pattern.rstrip("/")
            matched = path == prefix or path.startswith(prefix + "/")
        else:
            matched = path == pattern
        if matched:
            return entry
    return None


def backend_of(entry: Manifest | None) -> str | None:
    return None if entry is None else str(entry["backend"]["service"]["name"])


# --- the kustomization ---------------------------------------------------------------------


def test_the_kustomization_lists_every_resource_file_and_nothing_else() -> None:
    listed = kustomization()["resources"]
    assert len(listed) == len(set(listed)), "a resource is listed twice"
    on_disk = {p.name for p in K8S_BASE.glob("*.y*ml")} - {"kustomization.yaml"}
    assert set(listed) == on_disk
    assert {p.name for p in K8S_BASE.iterdir()} == on_disk | {"kustomization.yaml"}


def test_no_secret_value_is_in_the_base_and_the_example_is_outside_it() -> None:
    assert not of_kind("Secret")
    assert SECRETS_EXAMPLE.parent != K8S_BASE
    assert "EXAMPLE ONLY" in SECRETS_EXAMPLE.read_text(encoding="utf-8")
    for doc in load_documents(SECRETS_EXAMPLE):
        for value in doc.get("stringData", {}).values():
            assert "REPLACE-ME" in value, "the example must hold placeholders only"


def test_the_image_is_one_for_every_container_and_named_in_the_kustomization() -> None:
    images = {
        container["image"]
        for m in manifests()
        if m["kind"] in {"Deployment", "Job"}
        for container in m["spec"]["template"]["spec"]["containers"]
    }
    assert len(images) == 1
    (image,) = images
    assert image.split(":")[0] in {entry["name"] for entry in kustomization()["images"]}


def test_every_object_is_labelled_part_of_market() -> None:
    for m in manifests():
        assert m["metadata"]["labels"]["app.kubernetes.io/part-of"] == "market", m["kind"]


# --- schemas -------------------------------------------------------------------------------


def schema_cases() -> Iterator[Any]:
    for path in [*resource_files(), SECRETS_EXAMPLE]:
        for doc in load_documents(path):
            for version in KUBERNETES_VERSIONS:
                label = f"{path.name}:{doc['kind']}/{doc['metadata']['name']}@{version}"
                yield pytest.param(doc, version, id=label)


@pytest.mark.parametrize(("manifest", "version"), list(schema_cases()))
def test_every_manifest_is_valid_against_the_kubernetes_schema(
    manifest: Manifest, version: str
) -> None:
    # Strict: an unknown field (a typo) is an error, not silently dropped by the API server.
    kubernetes_validate.validate(manifest, version, strict=True)


# --- per service ---------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_the_deployment_probes_and_ports_match_the_service(service: Service) -> None:
    deployment = find("Deployment", service.name)
    spec = deployment["spec"]
    assert spec["replicas"] == 2
    template_labels = spec["template"]["metadata"]["labels"]
    assert selects(spec["selector"]["matchLabels"], template_labels)

    container = only_container(spec["template"]["spec"])
    env = env_of(container)
    assert env["SERVICE"]["value"] == service.name
    assert int(env["PORT"]["value"]) == service.port
    assert container["args"] == ["serve"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": service.port}

    probes = {kind: container[kind]["httpGet"] for kind in ("readinessProbe", "livenessProbe")}
    assert probes["readinessProbe"]["path"] == "/readyz"
    assert probes["livenessProbe"]["path"] == "/healthz"
    for probe in probes.values():
        assert probe["port"] in ("http", service.port)

    k8s_service = find("Service", service.name)
    assert selects(k8s_service["spec"]["selector"], template_labels)
    (port,) = k8s_service["spec"]["ports"]
    assert port["port"] == service.port
    assert port["targetPort"] in ("http", service.port)
    # The Service must never send traffic to a migration Job's pod.
    job_labels = find("Job", f"{service.name}-migrate")["spec"]["template"]["metadata"]["labels"]
    assert not selects(k8s_service["spec"]["selector"], job_labels)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_the_pods_run_as_non_root_on_a_read_only_root_with_a_tmp_volume(service: Service) -> None:
    for manifest in (find("Deployment", service.name), find("Job", f"{service.name}-migrate")):
        pod = manifest["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        container = only_container(pod)
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True
        assert security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        (tmp,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
        assert "emptyDir" in volumes[tmp["name"]]


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_resources_are_sized_for_about_150_mb(service: Service) -> None:
    container = only_container(find("Deployment", service.name)["spec"]["template"]["spec"])
    requests, limits = container["resources"]["requests"], container["resources"]["limits"]
    assert 150 * 10**6 <= memory_bytes(requests["memory"]) <= memory_bytes(limits["memory"])
    assert memory_bytes(limits["memory"]) <= 512 * 2**20
    assert 0 < cpu_millicores(requests["cpu"]) <= cpu_millicores(limits["cpu"])


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_the_autoscaler_and_disruption_budget_cover_the_deployment(service: Service) -> None:
    deployment = find("Deployment", service.name)
    hpa = find("HorizontalPodAutoscaler", service.name)
    assert hpa["apiVersion"] == "autoscaling/v2"
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["apiVersion"], target["kind"], target["name"]) == (
        "apps/v1",
        "Deployment",
        service.name,
    )
    assert hpa["spec"]["minReplicas"] >= 2
    assert hpa["spec"]["maxReplicas"] >= hpa["spec"]["minReplicas"]
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]

    pdb = find("PodDisruptionBudget", service.name)
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["minAvailable"] == 1
    assert pdb["spec"]["selector"] == deployment["spec"]["selector"]


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_a_migration_job_migrates_the_same_database_before_the_rollout(service: Service) -> None:
    job = find("Job", f"{service.name}-migrate")
    for key, value in MIGRATION_HOOK.items():
        assert job["metadata"]["annotations"][key] == value
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    container = only_container(pod)
    assert container["args"] == ["migrate"]
    assert env_of(container)["SERVICE"]["value"] == service.name
    deployment_container = only_container(
        find("Deployment", service.name)["spec"]["template"]["spec"]
    )
    database = f"{service.prefix}DATABASE_URL"
    assert env_of(container)[database] == env_of(deployment_container)[database]
    assert container["image"] == deployment_container["image"]


def test_there_is_one_migration_job_per_service_and_no_other() -> None:
    assert {job["metadata"]["name"] for job in of_kind("Job")} == {
        f"{name}-migrate" for name in SERVICE_NAMES
    }


# --- settings and secrets ------------------------------------------------------------------


def test_every_configmap_key_is_a_setting_of_the_service_its_prefix_names() -> None:
    for key in config():
        service = service_of_variable(key)
        assert service is not None, f"{key} has no service prefix"
        assert key in service.variables, f"{service.settings.__name__} has no setting {key}"


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_every_pod_variable_is_a_setting_of_its_own_service(service: Service) -> None:
    for manifest in (find("Deployment", service.name), find("Job", f"{service.name}-migrate")):
        container = only_container(manifest["spec"]["template"]["spec"])
        for name in env_of(container):
            assert name in ENTRYPOINT_VARIABLES or name in service.variables, name
        for source in container.get("envFrom", []):
            assert source["configMapRef"]["name"] == "market-config"


def test_the_upstream_urls_name_the_in_cluster_services() -> None:
    data = config()
    for service in SERVICES:
        for variable in service.upstream_url_variables:
            upstream = BY_NAME[variable.removeprefix(service.prefix).removesuffix("_URL").lower()]
            assert data[variable] == f"http://{upstream.name}:{upstream.port}", variable
            find("Service", upstream.name)


def test_every_secret_reference_is_one_the_example_defines() -> None:
    secrets = example_secrets()
    for m in manifests():
        if m["kind"] not in {"Deployment", "Job"}:
            continue
        pod = m["spec"]["template"]["spec"]
        for name, key in secret_refs(only_container(pod)):
            assert key in secrets.get(name, set()), f"{m['metadata']['name']}: {name}/{key}"
        for volume in pod.get("volumes", []):
            if "secret" in volume:
                assert volume["secret"]["secretName"] in secrets


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_every_file_setting_points_into_a_secret_the_pod_mounts(service: Service) -> None:
    """`*_FILE` and `*_DIR` settings in the ConfigMap land in this service's mounted secrets."""
    secrets = example_secrets()
    pod = find("Deployment", service.name)["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: volumes[m["name"]] for m in only_container(pod)["volumeMounts"]}
    file_settings = {
        key: PurePosixPath(value)
        for key, value in config().items()
        if key.startswith(service.prefix) and key.endswith(("_FILE", "_DIR"))
    }
    assert f"{service.prefix}AUTH_PUBLIC_KEY_FILE" in file_settings
    for key, path in file_settings.items():
        # A folder setting is the mount itself; a file setting is one key of the mount.
        folder = path if key.endswith("_DIR") else path.parent
        assert str(folder) in mounts, f"{key}: nothing is mounted at {folder}"
        volume = mounts[str(folder)]
        assert "secret" in volume, f"{key}: {folder} is no secret"
        if folder != path:
            assert path.name in secrets[volume["secret"]["secretName"]], key


def test_the_services_that_call_internal_routes_can_sign_service_tokens() -> None:
    data = config()
    for service in SERVICES:
        signs = service.name in CALLING_SERVICES
        assert (f"{service.prefix}SERVICE_TOKEN_KEY_FILE" in data) == signs, service.name


def private_key_secrets() -> set[str]:
    """The example Secrets that hold a private key."""
    return {
        doc["metadata"]["name"]
        for doc in load_documents(SECRETS_EXAMPLE)
        if any("PRIVATE KEY" in str(value) for value in doc.get("stringData", {}).values())
    }


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_no_pod_mounts_another_services_private_key_or_the_user_issuers(
    service: Service,
) -> None:
    own = {f"market-{service.name}-service-key"} if service.name in CALLING_SERVICES else set()
    if service.name == "license":
        own.add("market-license-signing-keys")
    pod = find("Deployment", service.name)["spec"]["template"]["spec"]
    mounted = {v["secret"]["secretName"] for v in pod["volumes"] if "secret" in v}

    assert mounted & private_key_secrets() == own
    # Public keys of callers: only the caller this service trusts.
    for volume in pod["volumes"]:
        if volume.get("secret", {}).get("secretName") == "market-service-public-keys":
            items = {item["key"] for item in volume["secret"]["items"]}
            assert items == {f"{caller}.pem" for caller in CALLERS[service.name]}


def test_the_example_secrets_hold_no_user_issuer_private_key() -> None:
    assert private_key_secrets() == {
        "market-review-service-key",
        "market-orders-service-key",
        "market-license-signing-keys",
    }


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_the_base_ships_no_development_default(service: Service) -> None:
    """The ConfigMap plus the Secrets the Deployment refers to: a service on PostgreSQL starts.

    A secret reference stands for a production value (placeholders here).
    """
    container = only_container(find("Deployment", service.name)["spec"]["template"]["spec"])
    values: dict[str, str] = {
        key.removeprefix(service.prefix).lower(): value
        for key, value in config().items()
        if key.startswith(service.prefix)
    }
    for name in env_of(container):
        if name.startswith(service.prefix):
            secret = "postgresql+asyncpg://u:p@db/x" if name.endswith("_URL") else "from-a-secret"
            values[name.removeprefix(service.prefix).lower()] = secret
    settings = service.settings.model_validate(values)

    assert isinstance(settings, ServiceSettings)
    assert settings.dev_defaults_in_use() == []
    assert not settings.allow_dev_defaults
    settings.check_production_ready()


# --- ingress -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def operations() -> dict[str, set[str]]:
    return openapi_paths()


@pytest.mark.parametrize("nginx_regex", [False, True], ids=["api", "ingress-nginx"])
def test_the_ingress_routes_every_public_path_to_its_service(
    operations: dict[str, set[str]], nginx_regex: bool
) -> None:
    for owner, paths in operations.items():
        for template in paths:
            routed = backend_of(ingress_match(example_path(template), nginx_regex=nginx_regex))
            if template.startswith("/v1/internal/") or template in OPERATIONS_PATHS:
                assert routed is None, f"{template} must not be public"
            else:
                assert routed == owner, f"{template} goes to {routed}, not {owner}"


def test_the_instance_paths_are_split_between_orders_and_license() -> None:
    expected = {
        "/v1/instances": "orders",
        "/v1/instances/ins_1": "orders",
        "/v1/instances/ins_1/licenses": "license",
        "/v1/instances/ins_1/entitlement": "license",
        "/v1/instances/ins_1/usage": "license",
        "/v1/instances/ins_1/usage/": "license",
        "/v1/instances/ins_1/usages": "orders",
    }
    for nginx_regex in (False, True):
        routed = {p: backend_of(ingress_match(p, nginx_regex=nginx_regex)) for p in expected}
        assert routed == expected


def test_every_ingress_path_routes_some_operation_of_its_backend(
    operations: dict[str, set[str]],
) -> None:
    for entry in ingress_paths():
        backend = entry["backend"]["service"]
        find("Service", backend["name"])
        assert backend["port"]["name"] == "http"
        routed_here = [
            t
            for t in operations[backend["name"]]
            if ingress_match(example_path(t), nginx_regex=False) == entry
        ]
        assert routed_here, f"{entry['path']} routes nothing that {backend['name']} serves"
