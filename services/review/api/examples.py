"""Example bodies for the review API's OpenAPI document, taken from a run of the story
(ids, times and tokens made stable). Tests check that each one matches its schema.
"""

from typing import Any

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
        "after": {
            "name": "Standard",
            "subscription_method": "subscription",
            "cycles": [
                {"unit": "month", "count": 1, "price": {"amount_minor": 4900, "currency": "EUR"}},
                {"unit": "year", "count": 1, "price": {"amount_minor": 49000, "currency": "EUR"}},
            ],
            "price": None,
            "entitlements": {"devices": 100},
            "retired": False,
            "id": "pln_4d6f8h0j2l4n6p8r0t2v4x6z",
        },
        "summary": "Plan 'Standard' added",
    },
    {
        "op": "added",
        "path": "addons/add_5t7y9u1i3o5p7a9s1d3f5g7h",
        "field": None,
        "before": None,
        "after": {
            "compatible_plans": [],
            "max_per_instance": 10,
            "agreement": {"kind": "platform_standard", "document_id": None},
            "name": "+100 devices",
            "subscription_method": "subscription",
            "cycles": [
                {"unit": "month", "count": 1, "price": {"amount_minor": 1900, "currency": "EUR"}}
            ],
            "price": None,
            "entitlements": {"devices": 100},
            "retired": False,
            "id": "add_5t7y9u1i3o5p7a9s1d3f5g7h",
        },
        "summary": "Add-on '+100 devices' added",
    },
]

# A submission just made: pending, its changes against what is live.
SUBMISSION: dict[str, Any] = {
    "id": "sub_5w7e9r1t3y5u7i9o1p3a5s7d",
    "product_id": "prd_x3nq4c5o2b7lzj6v8d1ke9fa",
    "partner_id": "acme",
    "revision": 1,
    "status": "pending",
    "note": "First listing",
    "changes": CHANGES,
    "submitted_at": "2026-11-26T08:00:00Z",
    "reviewer_id": None,
    "claimed_at": None,
    "decided_at": None,
    "reason": None,
    "notes": [],
    "publication": {"state": "not_applicable", "published_at": None},
}

# An approved submission, with its snapshot and timeline.
SUBMISSION_DETAIL: dict[str, Any] = {
    "id": "sub_5w7e9r1t3y5u7i9o1p3a5s7d",
    "product_id": "prd_x3nq4c5o2b7lzj6v8d1ke9fa",
    "partner_id": "acme",
    "revision": 1,
    "status": "approved",
    "note": "First listing",
    "changes": CHANGES,
    "submitted_at": "2026-11-26T08:00:00Z",
    "reviewer_id": "rita",
    "claimed_at": "2026-11-26T08:00:00Z",
    "decided_at": "2026-11-26T08:00:00Z",
    "reason": None,
    "notes": [],
    "publication": {"state": "live", "published_at": "2026-11-26T08:00:00Z"},
    "snapshot": {
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
        "plans": [
            {
                "name": "Standard",
                "subscription_method": "subscription",
                "cycles": [
                    {
                        "unit": "month",
                        "count": 1,
                        "price": {"amount_minor": 4900, "currency": "EUR"},
                    },
                    {
                        "unit": "year",
                        "count": 1,
                        "price": {"amount_minor": 49000, "currency": "EUR"},
                    },
                ],
                "price": None,
                "entitlements": {"devices": 100},
                "retired": False,
                "id": "pln_4d6f8h0j2l4n6p8r0t2v4x6z",
            }
        ],
        "addons": [
            {
                "compatible_plans": [],
                "max_per_instance": 10,
                "agreement": {"kind": "platform_standard", "document_id": None},
                "name": "+100 devices",
                "subscription_method": "subscription",
                "cycles": [
                    {
                        "unit": "month",
                        "count": 1,
                        "price": {"amount_minor": 1900, "currency": "EUR"},
                    }
                ],
                "price": None,
                "entitlements": {"devices": 100},
                "retired": False,
                "id": "add_5t7y9u1i3o5p7a9s1d3f5g7h",
            }
        ],
    },
    "timeline": [
        {
            "at": "2026-11-26T08:00:00Z",
            "kind": "submitted",
            "actor_id": "acme",
            "actor_role": "partner",
            "details": {"revision": 1, "note": "First listing"},
        },
        {
            "at": "2026-11-26T08:00:00Z",
            "kind": "claimed",
            "actor_id": "rita",
            "actor_role": "reviewer",
            "details": {"revision": 1},
        },
        {
            "at": "2026-11-26T08:00:00Z",
            "kind": "approved",
            "actor_id": "rita",
            "actor_role": "reviewer",
            "details": {"revision": 1},
        },
        {
            "at": "2026-11-26T08:00:00Z",
            "kind": "published",
            "actor_id": "review",
            "actor_role": "service",
            "details": {"revision": 1},
        },
    ],
}
