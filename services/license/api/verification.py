"""Public routes for verifiers: the signing keys, online verification, the revocation list."""

from fastapi import APIRouter, Response

from services.license.api.deps import Licenses, Reads
from services.license.api.schemas import (
    JwksView,
    JwkView,
    RevocationListView,
    VerificationView,
    VerifyRequest,
)
from shared.problems import ValidationProblem, problem_responses

router = APIRouter(tags=["verification"])

# Verifiers may keep the key set a while: a key stays listed while any license needs it.
JWKS_CACHE_CONTROL = "public, max-age=300"


@router.get(
    "/.well-known/jwks.json",
    summary="The public keys that sign licenses (JWKS)",
    description="The current key and every key that signed a license still valid: OKP "
    "Ed25519 keys with `kid`, `alg` EdDSA and `use` sig. Public.",
    operation_id="getJwks",
)
async def get_jwks(licenses: Licenses, response: Response) -> JwksView:
    response.headers["Cache-Control"] = JWKS_CACHE_CONTROL
    return JwksView(keys=[JwkView.model_validate(k) for k in await licenses.jwks()])


@router.post(
    "/v1/verify",
    summary="Verify a license token",
    description="Public. `code` is `VALID`, `EXPIRED`, `REVOKED`, `SUPERSEDED` (a newer "
    "version replaces it), `BAD_SIGNATURE` (also any algorithm but EdDSA), `UNKNOWN_KEY`, "
    "`WRONG_TYPE` (not a license token: an access token, say) or `MALFORMED`. Always 200 for "
    "a token that could be read as a string; `license` holds its claims once it is authentic.",
    operation_id="verifyToken",
    responses=problem_responses(ValidationProblem),
)
async def verify_token(body: VerifyRequest, reads: Reads) -> VerificationView:
    return VerificationView.of(await reads.verify(body.token))


@router.get(
    "/v1/revocations",
    summary="The signed list of revoked licenses, for offline verifiers",
    description="Public. Every revoked license id, as plain fields and as a token "
    "(`revocation-list+jwt`) signed like the licenses, with `iat`, `exp` and `seq`. Fetch it "
    "again before `expires_at`: past it, offline verifiers answer `STALE` instead of `VALID`. "
    "`seq` grows with every revocation; keep the highest seen and refuse a list below it.",
    operation_id="getRevocations",
)
async def get_revocations(licenses: Licenses) -> RevocationListView:
    return RevocationListView.of(await licenses.revocations())
