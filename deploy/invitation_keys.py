"""Operator command: re-encrypt the invitations' sensitive columns under the newest key.

    DATABASE_URL=... INVITATIONS_ENCRYPTION_KEYS=new,old python -m deploy.invitation_keys reencrypt

Run it (against production through the Cloud SQL Auth Proxy, as the migrating owner) after putting a
new key first in INVITATIONS_ENCRYPTION_KEYS and before dropping the old one; `check` counts what is
still under an older key. docs/invitations.md walks through the whole rotation.
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.invitation_keys")
    commands = parser.add_subparsers(dest="command", required=True)
    reencrypt = commands.add_parser("reencrypt", help="re-encrypt every value not under the newest key")
    reencrypt.add_argument("--batch-size", type=int, default=500)
    commands.add_parser("check", help="count the rows still encrypted under an older key")
    args = parser.parse_args(argv)

    from shared.clients.postgres import get_engine
    from shared.invitations.key_rotation import reencrypt_all, stale_rows

    engine = get_engine()
    if args.command == "check":
        stale = stale_rows(engine)
        print(f"{stale} invitation(s) still encrypted under an older key")
        return 1 if stale else 0
    print(f"re-encrypted {reencrypt_all(engine, batch_size=args.batch_size)} invitation(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
