"""Example bodies for the license API's OpenAPI document, taken from a run of the story
(ids, times and tokens made stable). Tests check that each one matches its schema.
"""

from typing import Any

# An add-on license in its acceptance period.
LICENSE: dict[str, Any] = {
    "id": "lic_1h3j5k7l9z1x3c5v7b9n1m3q",
    "order_id": "ord_7b9n1m3q5w7e9r1t3y5u7i9o",
    "instance_id": "ins_7h2k9d4f1s6g3j8l5q0w2e4r",
    "product_id": "prd_x3nq4c5o2b7lzj6v8d1ke9fa",
    "customer_id": "globex",
    "partner_id": "acme",
    "level": "addon",
    "parent_id": "lic_6r8t0y2u4i6o8p0a2s4d6f8g",
    "plan_id": None,
    "addon_id": "add_5t7y9u1i3o5p7a9s1d3f5g7h",
    "quantity": 1,
    "entitlements": {"devices": 100},
    "mode": "acceptance",
    "status": "active",
    "valid_from": "2026-11-26T07:59:59Z",
    "valid_until": "2026-12-26T07:59:59Z",
    "acceptance_deadline": "2026-12-10T07:59:59Z",
    "original_acceptance_deadline": "2026-12-10T07:59:59Z",
    "accepted_at": None,
    "revoked_at": None,
    "revocation_reason": None,
    "version": 1,
    "expires_at": "2026-12-10T07:59:59Z",
    "token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ijk1cV9X….eyJpc3MiOiJtYXJrZXQt….krZhCD5NHoKh…",
    "created_at": "2026-11-26T08:00:00Z",
    "updated_at": "2026-11-26T08:00:00Z",
    "history": [
        {
            "version": 1,
            "change": "minted",
            "kid": "95q_WSSMR55NKAVdfIgGtFLYCPBd8wGuSVyzbG5CVWA",
            "issued_at": "2026-11-26T07:59:59Z",
            "expires_at": "2026-12-10T07:59:59Z",
            "reason": None,
            "details": {},
        }
    ],
}

ENTITLEMENT: dict[str, Any] = {
    "instance_id": "ins_7h2k9d4f1s6g3j8l5q0w2e4r",
    "product_id": "prd_x3nq4c5o2b7lzj6v8d1ke9fa",
    "plan_id": "pln_4d6f8h0j2l4n6p8r0t2v4x6z",
    "entitlements": {"devices": 200},
    "licenses": ["lic_6r8t0y2u4i6o8p0a2s4d6f8g", "lic_1h3j5k7l9z1x3c5v7b9n1m3q"],
    "token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ijk1cV9X….eyJpc3MiOiJtYXJrZXQt….9tGVv32lhjGm…",
    "issued_at": "2026-11-26T07:59:59Z",
    "expires_at": "2026-12-10T07:59:59Z",
}

JWKS: dict[str, Any] = {
    "keys": [
        {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": "JSvesI0ctnT6DXKRvlT0B6KUwz_tMtC7dQq5R0ucn44",
            "kid": "95q_WSSMR55NKAVdfIgGtFLYCPBd8wGuSVyzbG5CVWA",
            "alg": "EdDSA",
            "use": "sig",
        }
    ]
}

REVOCATIONS: dict[str, Any] = {
    "issuer": "market-license",
    "issued_at": "2026-11-26T07:59:59Z",
    "expires_at": "2026-11-27T07:59:59Z",
    "seq": 1,
    "revoked": ["lic_1h3j5k7l9z1x3c5v7b9n1m3q"],
    "token": "eyJhbGciOiJFZERTQSIsImtpZCI6Ijk1cV9X….eyJpc3MiOiJtYXJrZXQt….sotLhi-XcFH9…",
}

VERIFY_RESULT: dict[str, Any] = {
    "valid": True,
    "code": "VALID",
    "detail": "The token is valid.",
    "license": {
        "id": "lic_6r8t0y2u4i6o8p0a2s4d6f8g",
        "instance_id": "ins_7h2k9d4f1s6g3j8l5q0w2e4r",
        "product_id": "prd_x3nq4c5o2b7lzj6v8d1ke9fa",
        "level": "base",
        "parent": None,
        "order": "ord_2m4kq7x9c3v5b8n1z6l0p4w2",
        "plan": "pln_4d6f8h0j2l4n6p8r0t2v4x6z",
        "addon": None,
        "entitlements": {"devices": 100},
        "mode": "subscription",
        "acceptance_deadline": None,
        "version": 2,
        "issued_at": "2026-11-26T07:59:59Z",
        "not_before": "2026-11-26T07:59:59Z",
        "expires_at": "2026-12-26T07:59:59Z",
    },
}

# 130 devices on a plan of 100: over, and the pack that covers it.
USAGE: dict[str, Any] = {
    "metric": "devices",
    "used": 130,
    "limit": 100,
    "remaining": 0,
    "exceeded": True,
    "reported_at": "2026-11-26T08:00:00Z",
    "suggestions": [
        {
            "addon_id": "add_5t7y9u1i3o5p7a9s1d3f5g7h",
            "name": "+100 devices",
            "raises": 100,
            "entitlements": {"devices": 100},
            "subscription_method": "subscription",
            "cycles": [
                {"unit": "month", "count": 1, "price": {"amount_minor": 1900, "currency": "EUR"}}
            ],
            "price": None,
            "max_per_instance": 10,
            "packs_owned": 0,
            "packs_to_cover": 1,
        }
    ],
    "suggestions_available": True,
}

USAGE_LIST: dict[str, Any] = {
    "instance_id": "ins_7h2k9d4f1s6g3j8l5q0w2e4r",
    "items": [
        {
            "metric": "devices",
            "used": 130,
            "limit": 100,
            "remaining": 0,
            "exceeded": True,
            "reported_at": "2026-11-26T08:00:00Z",
        }
    ],
}
