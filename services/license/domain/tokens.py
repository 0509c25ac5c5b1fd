"""The claims of the tokens the license service signs: licenses, bundles, revocation lists.

A license token (`typ license+jwt`) carries DESIGN.md's claims: `iss`, `sub` (the instance),
`aud` (the product), `jti` (`<license id>.<version>`), `iat`, `nbf` (the start of the term),
`exp` (absent only for a permanent license; in acceptance mode the earlier of the term's end
and the deadline) and `lic`. Times in claims are NumericDates (whole seconds since the epoch);
`lic.acceptance_deadline` too, and it is null outside acceptance mode.

A bundle (`typ license-bundle+jwt`) holds the `lic` claims of every license of an instance
that counts, the summed `entitlements`, and expires with the first of them to expire.

A revocation list (`typ revocation-list+jwt`) holds every revoked license id, `iat`, `exp` (a
verifier calls the list stale after it) and `seq`, the number of the newest revocation it
includes: revocations are never undone, so a list with a higher `seq` says everything a lower
one says, and a verifier that has seen `seq` n refuses any list below n (a replay).
"""

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from services.license.domain.model import LicenseTerms, Mode
from services.license.domain.rules import entitlement


def numeric_date(moment: datetime) -> int:
    """A datetime as a JWT NumericDate."""
    return int(moment.timestamp())


def lic_claim(terms: LicenseTerms) -> dict[str, Any]:
    """The `lic` claim: what the license grants, as of this version."""
    claim: dict[str, Any] = {
        "id": terms.id,
        "level": terms.level.value,
        "parent": terms.parent_id,
        "order": terms.order_id,
    }
    if terms.addon_id is not None:
        claim["addon"] = terms.addon_id
    else:
        claim["plan"] = terms.plan_id
    claim["entitlements"] = dict(terms.entitlements)
    claim["mode"] = terms.mode.value
    deadline = terms.acceptance_deadline if terms.mode is Mode.acceptance else None
    claim["acceptance_deadline"] = numeric_date(deadline) if deadline is not None else None
    claim["version"] = terms.version
    return claim


def license_claims(terms: LicenseTerms, *, issuer: str, issued_at: datetime) -> dict[str, Any]:
    """Every claim of the token of this version of a license."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": terms.instance_id,
        "aud": terms.product_id,
        "jti": f"{terms.id}.{terms.version}",
        "iat": numeric_date(issued_at),
        "nbf": numeric_date(terms.valid_from),
    }
    expires = terms.expires_at
    if expires is not None:
        claims["exp"] = numeric_date(expires)
    claims["lic"] = lic_claim(terms)
    return claims


def bundle_claims(
    *,
    instance_id: str,
    product_id: str,
    licenses: Sequence[LicenseTerms],
    issuer: str,
    issued_at: datetime,
    bundle_id: str,
) -> dict[str, Any]:
    """The claims of an instance's bundle; `licenses` are those that count (`rules.in_effect`)."""
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": instance_id,
        "aud": product_id,
        "jti": bundle_id,
        "iat": numeric_date(issued_at),
        "nbf": numeric_date(issued_at),
    }
    expiries = [e for t in licenses if (e := t.expires_at) is not None]
    if expiries:
        claims["exp"] = numeric_date(min(expiries))
    claims["entitlements"] = entitlement(licenses)
    claims["licenses"] = [lic_claim(t) for t in licenses]
    return claims


def revocation_list_claims(
    *,
    issuer: str,
    revoked: Collection[str],
    seq: int,
    issued_at: datetime,
    expires_at: datetime,
) -> dict[str, Any]:
    """The claims of the signed revocation list: every revoked license id, as of `seq`."""
    return {
        "iss": issuer,
        "sub": "revocations",
        "iat": numeric_date(issued_at),
        "exp": numeric_date(expires_at),
        "seq": seq,
        "revoked": sorted(revoked),
    }
