"""python -m deploy package | grant-roles | dead-letters | suspension-markers (docs/deploy.md)

`package [--out DIR]`: one deployable folder + zip per function into build/.
`grant-roles --project P --environment E [--dry-run]`: give each function's IAM database user the
group roles of its manifest entry (as the owner through the Cloud SQL Auth Proxy, after migrating).
`dead-letters --project P [--region R]`: print the gcloud commands that attach the dead-letter
topics to Eventarc's delivery subscriptions (pipe to bash after `terraform apply`).
`suspension-markers --project P [--dry-run]`: move suspension markers left on public profiles to
`users/{uid}/private/suspension` (once, with the owner's application-default credentials).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from deploy.manifest import ROOT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy")
    commands = parser.add_subparsers(dest="command", required=True)
    pack = commands.add_parser("package", help="build deployable bundles")
    pack.add_argument("--out", default=str(ROOT / "build"))
    roles = commands.add_parser("grant-roles", help="grant the functions' database logins their roles")
    roles.add_argument("--project", required=True, help="Google Cloud project id")
    roles.add_argument(
        "--environment", required=True, help="environment name of the Terraform root (dev, prod)"
    )
    roles.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL"),
        help="the owner's postgresql+pg8000://postgres:PASSWORD@127.0.0.1:5432/vchat (default: $DATABASE_URL)",
    )
    roles.add_argument("--dry-run", action="store_true", help="print the statements, change nothing")
    letters = commands.add_parser("dead-letters", help="print the commands attaching the dead-letter topics")
    letters.add_argument("--project", required=True, help="Google Cloud project id")
    letters.add_argument("--region", default="asia-northeast1", help="region of the functions")
    markers = commands.add_parser("suspension-markers", help="move suspension markers off public profiles")
    markers.add_argument("--project", required=True, help="Google Cloud project id")
    markers.add_argument("--dry-run", action="store_true", help="count them, change nothing")
    args = parser.parse_args(argv)
    if args.command == "suspension-markers":
        return suspension_markers(args.project, args.dry_run)
    if args.command == "dead-letters":
        from deploy import dead_letters
        from deploy.manifest import load_manifest

        print("\n".join(dead_letters.commands(load_manifest(), args.project, args.region)))
        return 0
    if args.command == "package":
        from deploy import package

        for path in package.build_all(Path(args.out)):
            print(path)
        return 0
    return grant_roles(args.project, args.environment, args.database_url, args.dry_run)


def suspension_markers(project: str, dry_run: bool) -> int:
    from deploy import suspension_markers

    os.environ["GOOGLE_CLOUD_PROJECT"] = project  # what shared.config reads, as a function does
    outcomes = suspension_markers.move_all(dry_run)
    print(" ".join(f"{name}={count}" for name, count in sorted(outcomes.items())) or "none found")
    return 0


def grant_roles(project: str, environment: str, url: str | None, dry_run: bool) -> int:
    from deploy import database_roles
    from deploy.manifest import load_manifest

    if not url:
        print("grant-roles: no --database-url and no DATABASE_URL", file=sys.stderr)
        return 2
    wanted = database_roles.logins(load_manifest(), environment, project)
    conn = database_roles.connect(url)
    try:
        if dry_run:
            statements = database_roles.plan(conn, wanted, create_missing=False)
        else:
            statements = database_roles.grant(conn, wanted)
    except database_roles.GrantError as exc:
        print(f"grant-roles: {exc}", file=sys.stderr)
        return 1
    finally:
        conn.close()
    for statement in statements:
        print(f"{statement};")
    print(
        f"-- {len(wanted)} logins, {len(statements)} changes{' (dry run)' if dry_run else ''}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
