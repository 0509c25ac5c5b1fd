"""What license publishes for verifiers: the public keys (JWKS) and the signed revocation list.

JWKS lists the current key plus every key that signed the current version of a license that
is neither revoked nor expired. A superseded version's key may drop out: such a token is no
longer valid anyway. An old bundle whose key dropped out is refreshed by fetching a new one.
The revocation list's `seq` is the number of the newest revocation it includes, and it lasts
`revocations_ttl` (`exp`).
"""

from services.license.domain.model import whole_seconds
from services.license.domain.tokens import revocation_list_claims
from services.license.service.base import UseCases
from services.license.service.results import Revocations
from services.license.verifier import REVOCATION_LIST_TOKEN_TYPE
from shared.clock import utcnow


class Publishing(UseCases):
    """The key set and the revocation list."""

    async def jwks(self) -> list[dict[str, str]]:
        """The public keys verifiers need: the current one and those of live licenses."""
        self.ring.refresh()
        current = self.ring.current.kid
        now = utcnow()
        kids = [current]
        async with self.uow(read=True) as uow:
            for kid in reversed(self.ring.kids):
                if kid != current and await uow.versions.signs_live_license(kid, now):
                    kids.append(kid)
        return [self.ring.jwk(kid) for kid in kids]

    async def revocations(self) -> Revocations:
        """Every revoked license id, signed for offline verifiers with its `seq` and `exp`."""
        now = whole_seconds(utcnow())
        expires = now + self.revocations_ttl
        async with self.uow(read=True) as uow:
            revoked, seq = await uow.licenses.revoked()
        self.ring.refresh()
        claims = revocation_list_claims(
            issuer=self.issuer, revoked=revoked, seq=seq, issued_at=now, expires_at=expires
        )
        token, _ = self.ring.sign(claims, REVOCATION_LIST_TOKEN_TYPE)
        return Revocations(
            issuer=self.issuer,
            issued_at=now,
            expires_at=expires,
            seq=seq,
            revoked=revoked,
            token=token,
        )
