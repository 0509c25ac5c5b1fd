"""Example bodies for the orders API's OpenAPI document, taken from a run of the story
(ids, times and tokens made stable). Tests check that each one matches its schema.
"""

from typing import Any

MONTHLY: dict[str, Any] = {"unit": "month", "count": 1}

PAYMENT: dict[str, Any] = {
    "id": "pay_3k5m7n9p1r3t5v7x9z1b3d5f",
    "provider": "sandbox",
    "status": "settled",
    "amount": {"amount_minor": 4900, "currency": "EUR"},
    "created_at": "2026-11-26T08:00:00Z",
    "settled_at": "2026-11-26T08:00:00Z",
    "failed_at": None,
}

# A paid and fulfilled order for a new instance, waiting for acceptance.
ORDER: dict[str, Any] = {
    "id": "ord_2m4kq7x9c3v5b8n1z6l0p4w2",
    "type": "new",
    "status": "fulfilled",
    "customer_id": "globex",
    "partner_id": "acme",
    "product_id": "prd_x3nq4c5o2b7lzj6v8d1ke9fa",
    "revision": 1,
    "plan_id": "pln_4d6f8h0j2l4n6p8r0t2v4x6z",
    "addon_id": None,
    "instance_id": "ins_7h2k9d4f1s6g3j8l5q0w2e4r",
    "cycle": MONTHLY,
    "quantity": 1,
    "amount": {"amount_minor": 4900, "currency": "EUR"},
    "entitlements": {"devices": 100},
    "requires_acceptance": True,
    "acceptance_days": 14,
    "license_id": "lic_6r8t0y2u4i6o8p0a2s4d6f8g",
    "payment": PAYMENT,
    "refund": None,
    "created_at": "2026-11-26T08:00:00Z",
    "paid_at": "2026-11-26T08:00:00Z",
    "fulfilled_at": "2026-11-26T08:00:00Z",
    "accepted_at": None,
    "completed_at": None,
    "cancelled_at": None,
    "refunded_at": None,
}

ORDER_QUOTE: dict[str, Any] = {
    "type": "new",
    "product_id": "prd_x3nq4c5o2b7lzj6v8d1ke9fa",
    "revision": 1,
    "plan_id": "pln_4d6f8h0j2l4n6p8r0t2v4x6z",
    "addon_id": None,
    "instance_id": None,
    "cycle": MONTHLY,
    "quantity": 1,
    "amount": {"amount_minor": 4900, "currency": "EUR"},
    "license": {
        "level": "base",
        "plan_id": "pln_4d6f8h0j2l4n6p8r0t2v4x6z",
        "addon_id": None,
        "entitlements": {"devices": 100},
        "mode": "acceptance",
        "valid_from": "2026-11-26T07:59:59Z",
        "valid_until": "2026-12-26T07:59:59Z",
        "acceptance_deadline": "2026-12-10T07:59:59Z",
    },
    "entitlement_before": {},
    "entitlement_after": {"devices": 100},
}

INSTANCE: dict[str, Any] = {
    "id": "ins_7h2k9d4f1s6g3j8l5q0w2e4r",
    "customer_id": "globex",
    "partner_id": "acme",
    "product_id": "prd_x3nq4c5o2b7lzj6v8d1ke9fa",
    "plan_id": "pln_4d6f8h0j2l4n6p8r0t2v4x6z",
    "base_order_id": "ord_2m4kq7x9c3v5b8n1z6l0p4w2",
    "status": "active",
    "created_at": "2026-11-26T08:00:00Z",
    "ended_at": None,
    "licenses": [
        {
            "id": "lic_6r8t0y2u4i6o8p0a2s4d6f8g",
            "order_id": "ord_2m4kq7x9c3v5b8n1z6l0p4w2",
            "level": "base",
            "plan_id": "pln_4d6f8h0j2l4n6p8r0t2v4x6z",
            "addon_id": None,
            "quantity": 1,
            "entitlements": {"devices": 100},
            "mode": "acceptance",
            "status": "active",
            "valid_from": "2026-11-26T07:59:59Z",
            "valid_until": "2026-12-26T07:59:59Z",
            "acceptance_deadline": "2026-12-10T07:59:59Z",
            "accepted_at": None,
            "version": 1,
        }
    ],
    "entitlement": {"devices": 100},
    "licenses_available": True,
}

WEBHOOK_RECEIPT: dict[str, Any] = {"event_id": "evt_1QxYz2345", "status": "processed"}

# Request bodies: the ways to place an order, and to refund one.
PRODUCT_ID = "prd_x3nq4c5o2b7lzj6v8d1ke9fa"
PLAN_ID = "pln_4d6f8h0j2l4n6p8r0t2v4x6z"
INSTANCE_ID = "ins_7h2k9d4f1s6g3j8l5q0w2e4r"
ADDON_ID = "add_5t7y9u1i3o5p7a9s1d3f5g7h"

CREATE_EXAMPLES = {
    "new": {
        "summary": "A new instance on a plan, billed monthly",
        "value": {
            "type": "new",
            "product_id": PRODUCT_ID,
            "plan_id": PLAN_ID,
            "cycle": {"unit": "month", "count": 1},
        },
    },
    "addon": {
        "summary": "Two packs of an add-on for an instance",
        "value": {
            "type": "addon",
            "instance_id": INSTANCE_ID,
            "addon_id": ADDON_ID,
            "cycle": {"unit": "month", "count": 1},
            "quantity": 2,
        },
    },
    "one_time": {
        "summary": "A one-time purchase: no cycle",
        "value": {"type": "new", "product_id": PRODUCT_ID, "plan_id": PLAN_ID},
    },
}

REFUND_EXAMPLES = {
    "full": {
        "summary": "A full refund",
        "value": {"amount_minor": 4900, "reason": "The customer's fleet can't use OTA yet."},
    },
    "partial": {
        "summary": "A partial refund",
        "value": {"amount_minor": 1000, "reason": "Goodwill for a late start."},
    },
}
