"""The license service's `market` subcommands: `keys rotate` and `license verify`.

market keys rotate [--dir DIR]
market license verify --jwks FILE [--revocations FILE [--state FILE] [--stale-grace SECONDS]]
                      [--issuer ISS] [--audience PRODUCT] [--leeway SECONDS] TOKEN...

`license verify` needs no network: it checks each token (a license or an entitlement bundle;
`@FILE` reads tokens from a file, `-` from standard input) against a saved JWKS and, if given,
a saved revocation list, prints each token's code, then the summed entitlements per instance.

With `--state FILE` it keeps the highest revocation list `seq` it has seen in FILE (created if
missing, replaced atomically) and refuses a list with a lower one: a replayed old list can't
bring a revoked license back. `--stale-grace` trusts a list that many seconds past its `exp`.

Exit codes:
  0  every token is VALID;
  1  some token is not valid (REVOKED, EXPIRED, SUPERSEDED, BAD_SIGNATURE, ...);
  2  the JWKS, the revocation list or the state file can't be used (a list older than the
     state's seq included);
  3  every token checks out but the revocation list is past its `exp` (STALE): fetch a fresh
     one (GET /v1/revocations) and run again.
"""

import argparse
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from services.license.keyring import KeyRing, create_signing_key, ensure_signing_key
from services.license.settings import LicenseSettings
from services.license.verifier import (
    DEFAULT_ISSUER,
    Code,
    InvalidRevocationListError,
    OfflineVerifier,
    RevocationListRolledBackError,
    read_seen_seq,
    record_seen_seq,
)

EXIT_VALID = 0
EXIT_NOT_VALID = 1
EXIT_UNUSABLE_INPUT = 2
EXIT_STALE = 3


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
    verify.add_argument(
        "--state",
        type=Path,
        help="file keeping the highest revocation list seq seen (created if missing); a list "
        "with a lower seq is refused",
    )
    verify.add_argument(
        "--stale-grace",
        type=int,
        default=0,
        metavar="SECONDS",
        help="trust the revocation list this long past its exp (default 0)",
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
    if args.state is not None and args.revocations is None:
        print(
            "error: --state keeps what revocation lists said: give --revocations", file=sys.stderr
        )
        return EXIT_UNUSABLE_INPUT
    try:
        verifier = OfflineVerifier.from_files(
            args.jwks,
            args.revocations,
            issuer=args.issuer,
            leeway_seconds=args.leeway,
            seen_seq=read_seen_seq(args.state) if args.state else 0,
            stale_grace_seconds=args.stale_grace,
        )
        if args.state is not None:
            record_seen_seq(args.state, verifier.seq)
        tokens = list(_read_tokens(args.tokens))
    except RevocationListRolledBackError as exc:
        print(
            f"error: refused revocation list ({args.state} has seen newer): {exc}", file=sys.stderr
        )
        return EXIT_UNUSABLE_INPUT
    except (OSError, ValueError, KeyError) as exc:
        kind = "revocation list" if isinstance(exc, InvalidRevocationListError) else "input"
        print(f"error: bad {kind}: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE_INPUT
    revocations = verifier.revocation_list
    if revocations is not None:
        stale = verifier.revocations_stale()
        expiry = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(revocations.expires_at))
        print(
            f"revocation list seq {revocations.seq}, "
            f"{'expired' if stale else 'expires'} {expiry}{': stale' if stale else ''}"
        )
        if stale:
            print(
                "warning: the revocation list is past its exp; fetch a fresh one "
                "(GET /v1/revocations)",
                file=sys.stderr,
            )
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
    if report.all_valid:
        return EXIT_VALID
    if all(v.code in (Code.VALID, Code.STALE) for v in report.verdicts):
        return EXIT_STALE
    return EXIT_NOT_VALID


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
