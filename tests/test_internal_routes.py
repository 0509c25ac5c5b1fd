"""Service tokens are accepted on internal routes only, and each internal route admits only the
callers it expects: catalog's are review's, license's are orders'. Walked over every route of
every app, so a new route can't admit services by accident."""

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from services.catalog.main import create_app as create_catalog
from services.license.main import create_app as create_license
from services.orders.main import create_app as create_orders
from services.review.main import create_app as create_review
from shared.security import INTERNAL_PREFIX

EXPECTED_CALLERS: dict[str, frozenset[str]] = {
    "catalog": frozenset({"review"}),
    "review": frozenset(),
    "orders": frozenset(),
    "license": frozenset({"orders"}),
}
APPS: dict[str, Callable[[], FastAPI]] = {
    "catalog": create_catalog,
    "review": create_review,
    "orders": create_orders,
    "license": create_license,
}


def calls(dependant: Dependant) -> Iterator[object]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from calls(sub)


def admitted_services(route: APIRoute) -> frozenset[str]:
    found: set[str] = set()
    for call in calls(route.dependant):
        found |= getattr(call, "internal_callers", frozenset())
    return frozenset(found)


@pytest.mark.parametrize("service", list(APPS))
def test_only_internal_routes_admit_services_and_only_the_expected_ones(service: str) -> None:
    contexts = iter_route_contexts(APPS[service]().routes)
    routes = [c.original_route for c in contexts if isinstance(c.original_route, APIRoute)]
    internal = [r for r in routes if r.path.startswith(INTERNAL_PREFIX)]

    for route in routes:
        callers = admitted_services(route)
        if route.path.startswith(INTERNAL_PREFIX):
            assert callers, f"{route.path} admits no service"
            assert callers <= EXPECTED_CALLERS[service], (route.path, callers)
        else:
            assert not callers, f"{route.path} is public but admits {sorted(callers)}"
    assert bool(internal) == bool(EXPECTED_CALLERS[service])
