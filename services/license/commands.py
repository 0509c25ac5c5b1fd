"""The license service's `market` subcommands: `keys rotate` and `license verify`.

market keys rotate [--dir DIR]
market license verify --jwks FILE [--revocations FILE] [--issuer ISS] [--audience PRODUCT]
                      [--leeway SECONDS] TOKEN...

`license verify` needs no network: it checks each token (a license or an entitlement bundle;
`@FILE` reads tokens from a file, `-` from standard input) against a saved JWKS and, if given,
a saved revocation list, prints each token's code, then the summed entitlements per instance.
It exits 1 if any token is not VALID, 2 if the JWKS or the revocation list can't be used.
"""

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from services.license.keyring import KeyRing, create_signing_key, ensure_signing_key
from services.license.settings import LicenseSettings
from services.license.verifier import DEFAULT_ISSUER, InvalidRevocationListError, OfflineVerifier


def register(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    """Add `keys` and `license` to the `market` parser."""
    keys = commands.add_parser("keys", help="license signing keys")
    keys_commands = keys.add_subparsers(dest="keys_command", required=True)
    rotate = keys_commands.add_parser(
        "rotate", help="add a new license signing key (older keys stay, so tokens keep verifying)"
    )
    rotate.add_argument(
        "--dir", type=Path, default=None, help="the key folder (default: LICENSE_SIGNING_KEYS_DIR)"
    )
    rotate.set_defaults(run=rotate_keys)

    license_ = commands.add_parser("license", help="license tokens")
    license_commands = license_.add_subparsers(dest="license_command", required=True)
    verify = license_commands.add_parser(
        "verify", help="verify license tokens offline and sum their entitlements per instance"
    )
    verify.add_argument("--jwks", type=Path, required=True, help="saved /.well-known/jwks.json")
    verify.add_argument(
        "--revocations", type=Path, help="saved GET /v1/revocations (its JSON or its token)"
    )
    verify.add_argument("--issuer", default=DEFAULT_ISSUER, help="expected `iss`")
    verify.add_argument("--audience", help="expected product id (`aud`)")
    verify.add_argument("--leeway", type=int, default=0, help="clock leeway in seconds")
    verify.add_argument("tokens", nargs="+", metavar="TOKEN", help="a token, @FILE or -")
    verify.set_defaults(run=verify_tokens)


def rotate_keys(args: argparse.Namespace) -> int:
    folder: Path = args.dir or LicenseSettings().signing_keys_dir
    key = create_signing_key(folder)
    count = len(KeyRing(folder).kids)
    print(f"new license signing key {key.kid} ({folder / key.file_name})")
    print(f"{count} key(s) in {folder}; the new one signs from now on, the others still verify")
    return 0


def ensure_dev_key() -> None:
    """For `market dev-setup`: the license signing key, created if there is none."""
    folder = LicenseSettings().signing_keys_dir
    key = ensure_signing_key(folder)
    print(f"license signing key: {key.kid} ({folder})")


def verify_tokens(args: argparse.Namespace) -> int:
    try:
        verifier = OfflineVerifier.from_files(
            args.jwks, args.revocations, issuer=args.issuer, leeway_seconds=args.leeway
        )
        tokens = list(_read_tokens(args.tokens))
    except (OSError, ValueError, KeyError) as exc:
        kind = "revocation list" if isinstance(exc, InvalidRevocationListError) else "input"
        print(f"error: bad {kind}: {exc}", file=sys.stderr)
        return 2
    report = verifier.entitlements(tokens, audience=args.audience)
    for verdict in report.verdicts:
        claims: dict[str, Any] = dict(verdict.claims or {})
        name = claims.get("jti", "-")
        print(f"{verdict.code.value:<13} {name}  {verdict.detail}")
    for instance in report.instances.values():
        amounts = ", ".join(f"{k}={v}" for k, v in sorted(instance.entitlements.items()))
        print(
            f"instance {instance.instance_id} (product {instance.product_id}): "
            f"{amounts or 'nothing'}; licenses: {', '.join(instance.licenses) or 'none'}"
        )
    return 0 if report.all_valid else 1


def _read_tokens(arguments: Iterable[str]) -> Iterable[str]:
    for argument in arguments:
        if argument == "-":
            yield from sys.stdin.read().split()
        elif argument.startswith("@"):
            text = Path(argument[1:]).read_text(encoding="utf-8").strip()
            if text.startswith("{"):
                yield str(json.loads(text)["token"])
            else:
                yield from text.split()
        else:
            yield argument
