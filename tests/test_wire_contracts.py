"""Every call between services: whatever the sender may send, the receiver accepts.

A wire model lives once, in the provider's client.py; the provider's API and its callers use
that one definition. These tests hold each call to it: the receiving route validates with the
very type the sender builds with (or, where the sender's value comes from elsewhere, such as
a token's `sub` or a catalog entitlement, generated values of the sender's kind are accepted by
the receiver's model). Calls covered: orders -> license mint, accept, revoke; review ->
catalog freeze, publish, unlock; license -> catalog and orders -> catalog reads; orders ->
license reads; and the reasons orders writes by code.
"""

from datetime import UTC, datetime, timedelta
from typing import Any, get_type_hints

from hypothesis import given, settings
from hypothesis import strategies as st

from services.catalog import client as catalog_client
from services.catalog.api import examples as catalog_examples
from services.catalog.api import internal as catalog_internal
from services.catalog.domain import model as catalog_model
from services.license import client as license_client
from services.license.api import examples as license_examples
from services.license.api import internal as license_internal
from services.license.api import schemas as license_schemas
from services.orders import service as orders_service
from services.orders.api import schemas as orders_schemas
from shared.ids import new_id
from shared.text import ID_PATTERN, SUBJECT

SUBJECTS = st.from_regex(SUBJECT, fullmatch=True)
OBJECT_IDS = st.from_regex(ID_PATTERN, fullmatch=True)


def body_type(route: Any) -> Any:
    return get_type_hints(route)["body"]


def field_type(model: Any, name: str) -> Any:
    return get_type_hints(model, include_extras=True)[name]


def upper_bound(model: Any, name: str) -> int:
    return int(next(m.le for m in model.model_fields[name].metadata if hasattr(m, "le")))


# -- orders -> license: revoke -------------------------------------------------------------


def test_a_refunds_reason_is_typed_as_licenses_revocation_reason() -> None:
    assert body_type(license_internal.revoke_order_license) is license_client.RevokeRequest
    assert field_type(license_client.RevokeRequest, "reason") is license_client.Reason
    assert field_type(orders_schemas.RefundRequest, "reason") is license_client.Reason
    assert field_type(license_schemas.ExtensionRequest, "reason") is license_client.Reason


def test_the_reasons_orders_writes_by_code_are_revocation_reasons() -> None:
    for reason in (orders_service.INSTANCE_ENDED_REASON, orders_service.INSTANCE_REFUNDED_REASON):
        assert license_client.RevokeRequest(reason=reason).reason == reason


@settings(max_examples=300, database=None)
@given(reason=st.text(max_size=520))
def test_every_refund_reason_orders_accepts_license_accepts(reason: str) -> None:
    try:
        accepted = orders_schemas.RefundRequest(amount_minor=1, reason=reason)
    except ValueError:
        return
    assert license_client.RevokeRequest(reason=accepted.reason).reason == accepted.reason


# -- orders -> license: mint and accept ----------------------------------------------------


def test_licenses_internal_routes_validate_with_its_own_request_models() -> None:
    assert body_type(license_internal.mint_license) is license_schemas.MintRequest
    for name in ("customer_id", "partner_id"):
        assert field_type(license_schemas.MintRequest, name) is license_client.Subject


def test_quantities_and_entitlements_have_one_bound() -> None:
    assert upper_bound(orders_schemas.AddonOrderCreate, "quantity") == license_client.MAX_QUANTITY
    assert upper_bound(license_schemas.MintRequest, "quantity") == license_client.MAX_QUANTITY
    assert license_client.MAX_ENTITLEMENT == (
        catalog_model.MAX_ENTITLEMENT * license_client.MAX_QUANTITY
    )
    assert license_client.Dimension is catalog_model.Dimension
    for name in ("product_id", "plan_id"):
        assert field_type(orders_schemas.NewOrderCreate, name) is license_client.ObjectId


@settings(max_examples=200, database=None)
@given(
    customer=SUBJECTS,
    partner=SUBJECTS,
    product=OBJECT_IDS,
    addon=OBJECT_IDS,
    quantity=st.integers(1, license_client.MAX_QUANTITY),
    increments=st.dictionaries(
        st.from_regex(r"^[a-z][a-z0-9_]{0,39}$", fullmatch=True),
        st.integers(0, catalog_model.MAX_ENTITLEMENT),
        max_size=catalog_model.MAX_DIMENSIONS,
    ),
)
def test_every_license_orders_can_ask_for_license_mints(
    customer: str, partner: str, product: str, addon: str, quantity: int, increments: dict[str, int]
) -> None:
    # What a paid add-on order holds: ids orders accepted or made, the token's `sub`, the
    # catalog product's partner (itself a partner's `sub`), increments times packs.
    catalog_model.Configuration(  # the catalog's own rule for the increments
        name="x",
        subscription_method="one_time",
        price={"amount_minor": 1, "currency": "EUR"},
        entitlements=increments,
    )
    now = datetime(2026, 11, 1, tzinfo=UTC)
    license_schemas.MintRequest.model_validate(
        {
            "order_id": new_id("ord"),
            "instance_id": new_id("ins"),
            "customer_id": customer,
            "partner_id": partner,
            "product_id": product,
            "level": "addon",
            "addon_id": addon,
            "quantity": quantity,
            "entitlements": {k: v * quantity for k, v in increments.items()},
            "valid_from": now.isoformat(),
            "valid_until": (now + timedelta(days=3660)).isoformat(),
            "requires_acceptance": True,
            "acceptance_days": 90,
        }
    )


# -- review -> catalog: freeze, publish, unlock --------------------------------------------


def test_catalogs_internal_routes_validate_with_the_clients_models() -> None:
    assert body_type(catalog_internal.freeze) is catalog_client.FreezeRequest
    assert body_type(catalog_internal.unlock) is catalog_client.UnlockRequest


@settings(max_examples=200, database=None)
@given(partner=SUBJECTS, product=OBJECT_IDS)
def test_every_partner_review_knows_can_freeze_and_unlock(partner: str, product: str) -> None:
    submission = new_id("sub")
    catalog_client.FreezeRequest(partner_id=partner, submission_id=submission)
    catalog_client.UnlockRequest(submission_id=submission)
    assert len(product) <= 64  # the catalog's path parameter takes 64 characters


# -- reads: license and orders read the catalog, orders reads license ----------------------


def test_what_the_catalog_and_license_answer_their_clients_read() -> None:
    live = catalog_client.LiveProduct.model_validate(catalog_examples.LIVE_PRODUCT)
    assert live.addons
    assert live.plans
    catalog_client.FrozenRevision.model_validate(catalog_examples.FROZEN_REVISION)
    catalog_client.PublishedRevision.model_validate(catalog_examples.PUBLISHED_REVISION)
    license_client.License.model_validate(license_examples.LICENSE)
    license_client.Entitlement.model_validate(license_examples.ENTITLEMENT)
