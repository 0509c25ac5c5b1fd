"""The claims of license tokens, bundles and revocation lists, as DESIGN.md fixes them."""

from services.license.domain.model import Mode
from services.license.domain.tokens import (
    bundle_claims,
    license_claims,
    numeric_date,
    revocation_list_claims,
)
from tests.license.unit.terms import DAY, T0, addon, in_acceptance, make_terms


def test_license_claims_of_a_base_subscription() -> None:
    claims = license_claims(make_terms(), issuer="market-license", issued_at=T0 + DAY)

    assert claims == {
        "iss": "market-license",
        "sub": "ins_1",
        "aud": "prd_1",
        "jti": "lic_base.1",
        "iat": numeric_date(T0 + DAY),
        "nbf": numeric_date(T0),
        "exp": numeric_date(T0 + 30 * DAY),
        "lic": {
            "id": "lic_base",
            "level": "base",
            "parent": None,
            "order": "ord_1",
            "plan": "pln_1",
            "entitlements": {"devices": 100},
            "mode": "subscription",
            "acceptance_deadline": None,
            "version": 1,
        },
    }


def test_an_addon_license_names_its_addon_and_parent_not_a_plan() -> None:
    lic = license_claims(addon(version=3), issuer="i", issued_at=T0)["lic"]

    assert lic["addon"] == "add_1"
    assert "plan" not in lic
    assert lic["parent"] == "lic_base"
    assert lic["version"] == 3


def test_a_permanent_license_has_no_exp() -> None:
    claims = license_claims(
        make_terms(mode=Mode.permanent, valid_until=None), issuer="i", issued_at=T0
    )

    assert "exp" not in claims


def test_acceptance_mode_exp_is_the_earlier_of_deadline_and_term_end() -> None:
    short_term = license_claims(
        in_acceptance(days=14, valid_until=T0 + 7 * DAY), issuer="i", issued_at=T0
    )
    long_term = license_claims(in_acceptance(days=14), issuer="i", issued_at=T0)
    one_time = license_claims(in_acceptance(days=14, valid_until=None), issuer="i", issued_at=T0)

    assert short_term["exp"] == numeric_date(T0 + 7 * DAY)
    assert long_term["exp"] == numeric_date(T0 + 14 * DAY)
    assert one_time["exp"] == numeric_date(T0 + 14 * DAY)
    assert long_term["lic"]["mode"] == "acceptance"
    assert long_term["lic"]["acceptance_deadline"] == numeric_date(T0 + 14 * DAY)


def test_bundle_sums_and_expires_with_its_first_license() -> None:
    claims = bundle_claims(
        instance_id="ins_1",
        product_id="prd_1",
        licenses=[make_terms(), addon(valid_until=T0 + 10 * DAY)],
        issuer="i",
        issued_at=T0,
        bundle_id="bdl_1",
    )

    assert claims["entitlements"] == {"devices": 300}
    assert claims["exp"] == numeric_date(T0 + 10 * DAY)
    assert [lic["id"] for lic in claims["licenses"]] == ["lic_base", "lic_addon"]
    assert (claims["sub"], claims["aud"], claims["jti"]) == ("ins_1", "prd_1", "bdl_1")


def test_revocation_list_is_sorted_and_carries_its_lifetime_and_seq() -> None:
    claims = revocation_list_claims(
        issuer="i", revoked=["lic_b", "lic_a"], seq=7, issued_at=T0, expires_at=T0 + DAY
    )

    assert claims["revoked"] == ["lic_a", "lic_b"]
    assert claims["iat"] == numeric_date(T0)
    assert claims["exp"] == numeric_date(T0 + DAY)
    assert claims["seq"] == 7
