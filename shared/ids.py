"""Prefixed random identifiers (`prd_…`, `lic_…`): unguessable and never sequential."""

import base64
import secrets


def new_id(prefix: str) -> str:
    """Return `<prefix>_` followed by 24 lowercase base32 characters (120 random bits)."""
    token = base64.b32encode(secrets.token_bytes(15)).decode("ascii").lower()
    return f"{prefix}_{token}"
