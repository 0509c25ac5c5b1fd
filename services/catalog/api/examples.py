"""Example bodies for the catalog API's OpenAPI document, taken from a run of the story
(ids, times and tokens made stable). Tests check that each one matches its schema.
"""

from typing import Any

# 4900 EUR a month
MONTHLY: dict[str, Any] = {
    "unit": "month",
    "count": 1,
    "price": {"amount_minor": 4900, "currency": "EUR"},
}

PLAN: dict[str, Any] = {
    "name": "Standard",
    "subscription_method": "subscription",
    "cycles": [
        MONTHLY,
        {"unit": "year", "count": 1, "price": {"amount_minor": 49000, "currency": "EUR"}},
    ],
    "price": None,
    "entitlements": {"devices": 100},
    "retired": False,
    "changes_to": ["pln_7k9m1p3r5t7v9x1z3b5d7f9h"],
    "id": "pln_4d6f8h0j2l4n6p8r0t2v4x6z",
}

# The plan the Standard plan may change to: more devices, and back.
PRO_PLAN: dict[str, Any] = {
    "name": "Pro",
    "subscription_method": "subscription",
    "cycles": [
        {"unit": "month", "count": 1, "price": {"amount_minor": 9900, "currency": "EUR"}},
        {"unit": "year", "count": 1, "price": {"amount_minor": 99000, "currency": "EUR"}},
    ],
    "price": None,
    "entitlements": {"devices": 500},
    "retired": False,
    "changes_to": ["pln_4d6f8h0j2l4n6p8r0t2v4x6z"],
    "id": "pln_7k9m1p3r5t7v9x1z3b5d7f9h",
}

# `agreement: null`: the platform's standard agreement.
ADDON: dict[str, Any] = {
    "compatible_plans": [],
    "max_per_instance": 10,
    "agreement": None,
    "name": "+100 devices",
    "subscription_method": "subscription",
    "cycles": [{"unit": "month", "count": 1, "price": {"amount_minor": 1900, "currency": "EUR"}}],
    "price": None,
    "entitlements": {"devices": 100},
    "retired": False,
    "id": "add_5t7y9u1i3o5p7a9s1d3f5g7h",
}

LIVE_ADDON: dict[str, Any] = {
    "compatible_plans": [],
    "max_per_instance": 10,
    "agreement": {"kind": "platform_standard", "document_id": None},
    "name": "+100 devices",
    "subscription_method": "subscription",
    "cycles": [{"unit": "month", "count": 1, "price": {"amount_minor": 1900, "currency": "EUR"}}],
    "price": None,
    "entitlements": {"devices": 100},
    "retired": False,
    "id": "add_5t7y9u1i3o5p7a9s1d3f5g7h",
}

# A product as its owner sees it: the draft, not yet submitted.
PRODUCT: dict[str, Any] = {
    "id": "prd_x3nq4c5o2b7lzj6v8d1ke9fa",
    "partner_id": "acme",
    "product_type": "marketplace",
    "locked": False,
    "open_submission_id": None,
    "live_revision": None,
    "last_revision": 0,
    "created_at": "2026-11-26T08:00:00Z",
    "updated_at": "2026-11-26T08:00:00Z",
    "draft": {
        "name": "FleetOTA",
        "category": "automotive",
        "description": "Over-the-air updates for connected vehicles.",
        "billing_mode": "online",
        "requires_acceptance": True,
        "acceptance_days": 14,
        "plans": [PLAN, PRO_PLAN],
        "addons": [ADDON],
    },
}

LIVE_PRODUCT: dict[str, Any] = {
    "name": "FleetOTA",
    "category": "automotive",
    "description": "Over-the-air updates for connected vehicles.",
    "billing_mode": "online",
    "requires_acceptance": True,
    "acceptance_days": 14,
    "id": "prd_x3nq4c5o2b7lzj6v8d1ke9fa",
    "partner_id": "acme",
    "product_type": "marketplace",
    "revision": 1,
    "published_at": "2026-11-26T08:00:00Z",
    "plans": [PLAN, PRO_PLAN],
    "addons": [LIVE_ADDON],
}

PRODUCT_SUMMARY: dict[str, Any] = {
    "id": "prd_x3nq4c5o2b7lzj6v8d1ke9fa",
    "partner_id": "acme",
    "product_type": "marketplace",
    "name": "FleetOTA",
    "category": "automotive",
    "description": "Over-the-air updates for connected vehicles.",
    "billing_mode": "online",
    "revision": 1,
    "published_at": "2026-11-26T08:00:00Z",
}

REVISION_SUMMARY: dict[str, Any] = {
    "number": 1,
    "state": "published",
    "live": True,
    "submission_id": "sub_5w7e9r1t3y5u7i9o1p3a5s7d",
    "created_at": "2026-11-26T08:00:00Z",
    "published_at": "2026-11-26T08:00:00Z",
}

SNAPSHOT: dict[str, Any] = {
    "product_id": "prd_x3nq4c5o2b7lzj6v8d1ke9fa",
    "partner_id": "acme",
    "product_type": "marketplace",
    "details": {
        "name": "FleetOTA",
        "category": "automotive",
        "description": "Over-the-air updates for connected vehicles.",
        "billing_mode": "online",
        "requires_acceptance": True,
        "acceptance_days": 14,
    },
    "plans": [PLAN, PRO_PLAN],
    "addons": [LIVE_ADDON],
}

CHANGES: list[dict[str, Any]] = [
    {
        "op": "added",
        "path": "product",
        "field": None,
        "before": None,
        "after": None,
        "summary": "New listing 'FleetOTA'",
    },
    {
        "op": "added",
        "path": "plans/pln_4d6f8h0j2l4n6p8r0t2v4x6z",
        "field": None,
        "before": None,
        "after": PLAN,
        "summary": "Plan 'Standard' added",
    },
    {
        "op": "added",
        "path": "plans/pln_7k9m1p3r5t7v9x1z3b5d7f9h",
        "field": None,
        "before": None,
        "after": PRO_PLAN,
        "summary": "Plan 'Pro' added",
    },
    {
        "op": "added",
        "path": "addons/add_5t7y9u1i3o5p7a9s1d3f5g7h",
        "field": None,
        "before": None,
        "after": LIVE_ADDON,
        "summary": "Add-on '+100 devices' added",
    },
]

REVISION: dict[str, Any] = {
    "number": 1,
    "state": "published",
    "live": True,
    "submission_id": "sub_5w7e9r1t3y5u7i9o1p3a5s7d",
    "created_at": "2026-11-26T08:00:00Z",
    "published_at": "2026-11-26T08:00:00Z",
    "snapshot": SNAPSHOT,
    "changes": CHANGES,
}

DOCUMENT: dict[str, Any] = {
    "id": "doc_1z3x5c7v9b1n3m5q7w9e1r3t",
    "filename": "sla.txt",
    "media_type": "text/plain",
    "size_bytes": 28,
    "sha256": "33de9b95e6f0df30597fa8e6839afa138841dc41486b213e3e0e0b7d3fa61775",
    "public": False,
    "created_at": "2026-11-26T08:00:00Z",
    "content_url": "/v1/documents/doc_1z3x5c7v9b1n3m5q7w9e1r3t/content",
}

FROZEN_REVISION: dict[str, Any] = {
    "product_id": "prd_3f5g7h9j1k3l5z7x9c1v3b5n",
    "revision": 1,
    "snapshot": {
        "product_id": "prd_3f5g7h9j1k3l5z7x9c1v3b5n",
        "partner_id": "acme",
        "product_type": "marketplace",
        "details": {
            "name": "FleetOTA Edge",
            "category": "automotive",
            "description": "Over-the-air updates for connected vehicles.",
            "billing_mode": "online",
            "requires_acceptance": True,
            "acceptance_days": 14,
        },
        "plans": [
            {
                "name": "Standard",
                "subscription_method": "subscription",
                "cycles": [
                    MONTHLY,
                    {
                        "unit": "year",
                        "count": 1,
                        "price": {"amount_minor": 49000, "currency": "EUR"},
                    },
                ],
                "price": None,
                "entitlements": {"devices": 100},
                "retired": False,
                "changes_to": [],
                "id": "pln_2d4f6g8h0j2k4l6z8x0c2v4b",
            }
        ],
        "addons": [],
    },
    "changes": [
        {
            "op": "added",
            "path": "product",
            "field": None,
            "before": None,
            "after": None,
            "summary": "New listing 'FleetOTA Edge'",
        },
        {
            "op": "added",
            "path": "plans/pln_2d4f6g8h0j2k4l6z8x0c2v4b",
            "field": None,
            "before": None,
            "after": {
                "name": "Standard",
                "subscription_method": "subscription",
                "cycles": [
                    MONTHLY,
                    {
                        "unit": "year",
                        "count": 1,
                        "price": {"amount_minor": 49000, "currency": "EUR"},
                    },
                ],
                "price": None,
                "entitlements": {"devices": 100},
                "retired": False,
                "changes_to": [],
                "id": "pln_2d4f6g8h0j2k4l6z8x0c2v4b",
            },
            "summary": "Plan 'Standard' added",
        },
    ],
    "created_at": "2026-11-26T08:00:00Z",
}

PUBLISHED_REVISION: dict[str, Any] = {
    "product_id": "prd_3f5g7h9j1k3l5z7x9c1v3b5n",
    "revision": 2,
    "published_at": "2026-11-26T08:00:00Z",
}

UNLOCKED_DRAFT: dict[str, Any] = {"product_id": "prd_3f5g7h9j1k3l5z7x9c1v3b5n", "locked": False}

# Request bodies, by name: what a partner sends to add a plan or an add-on.
PLAN_REQUESTS: dict[str, Any] = {
    "subscription": {
        "summary": "A subscription plan, monthly or yearly, 100 devices",
        "value": {
            "name": "Standard",
            "subscription_method": "subscription",
            "cycles": [
                MONTHLY,
                {"unit": "year", "count": 1, "price": {"amount_minor": 49000, "currency": "EUR"}},
            ],
            "entitlements": {"devices": 100},
            "changes_to": ["pln_7k9m1p3r5t7v9x1z3b5d7f9h"],
        },
    },
    "one_time": {
        "summary": "A one-time purchase: a single price, no cycles",
        "value": {
            "name": "Perpetual",
            "subscription_method": "one_time",
            "price": {"amount_minor": 99000, "currency": "EUR"},
            "entitlements": {"devices": 100},
        },
    },
}

ADDON_REQUESTS: dict[str, Any] = {
    "pack": {
        "summary": "+100 devices a pack, at most 10 packs an instance",
        "value": {
            "name": "+100 devices",
            "subscription_method": "subscription",
            "cycles": [
                {"unit": "month", "count": 1, "price": {"amount_minor": 1900, "currency": "EUR"}}
            ],
            "entitlements": {"devices": 100},
            "max_per_instance": 10,
        },
    },
    "own_agreement": {
        "summary": "For one plan only, under an uploaded agreement",
        "value": {
            "name": "Priority support",
            "subscription_method": "subscription",
            "cycles": [
                {"unit": "year", "count": 1, "price": {"amount_minor": 12000, "currency": "EUR"}}
            ],
            "entitlements": {"support_hours": 10},
            "compatible_plans": ["pln_4d6f8h0j2l4n6p8r0t2v4x6z"],
            "agreement": {"kind": "custom", "document_id": "doc_1z3x5c7v9b1n3m5q7w9e1r3t"},
        },
    },
}
