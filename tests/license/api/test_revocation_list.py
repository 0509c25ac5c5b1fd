"""The signed revocation list: `iat`, `exp` and a `seq` that grows with every revocation, so
that an offline verifier can tell a stale list and refuse one older than it has seen."""

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
from asgi_lifespan import LifespanManager

from services.license.main import create_app
from services.license.settings import LicenseSettings
from services.license.verifier import (
    Code,
    OfflineVerifier,
    RevocationListRolledBackError,
)
from tests.conftest import TestKeys
from tests.license.factories import LicenseDriver


@pytest.fixture
async def other_replica(
    license_settings: LicenseSettings, catalog_http: httpx.AsyncClient, keys: TestKeys
) -> AsyncIterator[LicenseDriver]:
    app = create_app(license_settings, http_client=catalog_http)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://replica.test") as client:
            yield LicenseDriver(client, keys)


async def test_the_list_carries_iat_exp_and_a_seq_that_counts_revocations(
    lic: LicenseDriver,
) -> None:
    first, second = await lic.base(), await lic.base()
    empty = await lic.revocations()

    await lic.revoke(first["order_id"])
    await lic.revoke(first["order_id"])  # a retry revokes nothing more
    one = await lic.revocations()
    await lic.revoke(second["order_id"])
    two = await lic.revocations()

    assert [empty["seq"], one["seq"], two["seq"]] == [0, 1, 2]
    assert two["revoked"] == sorted([first["id"], second["id"]])
    for body in (empty, one, two):
        issued = datetime.fromisoformat(str(body["issued_at"]))
        expires = datetime.fromisoformat(str(body["expires_at"]))
        assert (expires - issued).total_seconds() == 86400
    claims = OfflineVerifier.from_jwks(await lic.jwks()).read_revocation_list(str(two["token"]))
    assert (claims.seq, claims.expires_at - claims.issued_at) == (2, 86400)
    assert claims.revoked == {first["id"], second["id"]}


async def test_the_lists_lifetime_is_a_setting(
    license_settings: LicenseSettings, catalog_http: httpx.AsyncClient, keys: TestKeys
) -> None:
    settings = license_settings.model_copy(update={"revocations_ttl_seconds": 600})
    app = create_app(settings, http_client=catalog_http)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://short.test") as client:
            body = await LicenseDriver(client, keys).revocations()

    issued = datetime.fromisoformat(body["issued_at"])
    assert (datetime.fromisoformat(body["expires_at"]) - issued).total_seconds() == 600


async def test_a_replayed_older_list_does_not_make_a_revoked_permanent_license_valid(
    lic: LicenseDriver,
) -> None:
    base = await lic.base(valid_until=None)
    assert base["mode"] == "permanent"
    jwks = await lic.jwks()
    before = await lic.revocations()
    await lic.revoke(base["order_id"])
    after = await lic.revocations()

    verifier = OfflineVerifier.from_jwks(jwks, revocation_list=after["token"])
    assert verifier.verify(base["token"]).code is Code.REVOKED
    # The application kept the seq it saw; the older list is refused, in place or anew.
    with pytest.raises(RevocationListRolledBackError):
        verifier.load_revocation_list(before["token"])
    with pytest.raises(RevocationListRolledBackError):
        OfflineVerifier.from_jwks(jwks, revocation_list=before["token"], seen_seq=verifier.seq)
    assert verifier.verify(base["token"]).code is Code.REVOKED
    # A verifier that has seen nothing newer finds the old list stale once it expires.
    naive = OfflineVerifier.from_jwks(jwks, revocation_list=before["token"])
    late = datetime.fromisoformat(before["expires_at"]).timestamp() + 1
    assert naive.verify(base["token"], now=late).code is Code.STALE
    assert not naive.verify(base["token"], now=late).valid


async def test_seq_counts_every_revocation_once_across_replicas_and_restarts(
    lic: LicenseDriver, other_replica: LicenseDriver
) -> None:
    licenses = [await lic.base() for _ in range(8)]

    responses = await asyncio.gather(
        *(
            (lic if i % 2 else other_replica).revoke(license["order_id"])
            for i, license in enumerate(licenses)
        )
    )

    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    here, there = await lic.revocations(), await other_replica.revocations()
    assert here["seq"] == there["seq"] == 8
    assert len(here["revoked"]) == 8
