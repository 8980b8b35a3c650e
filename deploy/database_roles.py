"""The functions' database logins and the group roles they hold, from the manifest.

Each function that uses PostgreSQL logs in as its own user: in production the Cloud SQL IAM database
user of its service account (terraform/modules/vchat/database.tf, `google_sql_user.function`), named
like the account's email without `.gserviceaccount.com`; locally a LOGIN role of the same name that
the local stack creates. The group roles (NOLOGIN, created by the migrations) carry the privileges;
`grant()` makes each login a member of exactly the roles its manifest entry names.

Production runs this once after every migration, as the owner through the Cloud SQL Auth Proxy
(`python -m deploy grant-roles`, docs/deploy.md); the local stack runs the same function after
migrating, so a missing GRANT fails `make test` before it fails a deployment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from deploy.manifest import FunctionSpec

if TYPE_CHECKING:
    import pg8000.native

LOCAL_ENVIRONMENT = "local"
SERVICE_ACCOUNT_DOMAIN = ".gserviceaccount.com"
# Cloud SQL names a service account's IAM user after its email; PostgreSQL cuts names at 63 bytes.
MAX_ROLE_NAME = 63


class GrantError(RuntimeError):
    """The database is not in a state where the logins can be granted their roles."""


def service_account_id(function: str, environment: str) -> str:
    """The account id terraform/modules/vchat/iam.tf gives the function's service account.

    Same expression: substr("fn-${replace(name, "_", "-")}-${environment}", 0, 30).
    """
    return f"fn-{function.replace('_', '-')}-{environment}"[:30]


def iam_database_user(function: str, environment: str, project: str) -> str:
    """The Cloud SQL IAM database user of the function (database.tf: the email less its domain)."""
    return f"{service_account_id(function, environment)}@{project}.iam"


@dataclass(frozen=True)
class Login:
    function: str
    name: str
    roles: tuple[str, ...]


def logins(functions: Mapping[str, FunctionSpec], environment: str, project: str) -> list[Login]:
    """One login per function with postgres in its stores, holding the manifest's database_roles."""
    found = [
        Login(name, iam_database_user(name, environment, project), spec.database_roles)
        for name, spec in functions.items()
        if spec.uses_postgres
    ]
    for login in found:
        if len(login.name.encode()) > MAX_ROLE_NAME:
            raise GrantError(f"{login.name}: longer than PostgreSQL's {MAX_ROLE_NAME}-byte role names")
    return found


def local_database_url(login: str, port: int, database: str) -> str:
    """A trust-auth URL of the local cluster for `login` (the `@` of IAM names percent-encoded)."""
    return f"postgresql+pg8000://{quote(login, safe='')}@127.0.0.1:{port}/{database}"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _one_column(conn: pg8000.native.Connection, sql: str, **params: Any) -> set[str]:
    return {row[0] for row in conn.run(sql, **params) or []}


def plan(conn: pg8000.native.Connection, wanted: Iterable[Login], create_missing: bool) -> list[str]:
    """The statements that make every login hold exactly its roles (none when it already does).

    Only `vchat_*` memberships are managed: Cloud SQL's own (cloudsqliamserviceaccount) stay.
    """
    statements: list[str] = []
    existing_groups = _one_column(conn, "SELECT rolname FROM pg_roles WHERE NOT rolcanlogin")
    for login in wanted:
        missing = set(login.roles) - existing_groups
        if missing:
            raise GrantError(
                f"{login.function}: roles {sorted(missing)} do not exist: run the migrations first "
                "(or add the role in a migration)"
            )
        rows = conn.run(
            "SELECT rolsuper OR rolcreaterole OR rolcreatedb OR rolbypassrls OR rolreplication "
            "FROM pg_roles WHERE rolname = :name",
            name=login.name,
        )
        if not rows:
            if not create_missing:
                raise GrantError(
                    f"{login.function}: login {login.name} does not exist: `terraform apply` creates it "
                    "(google_sql_user.function)"
                )
            statements.append(
                f"CREATE ROLE {quote_ident(login.name)} LOGIN INHERIT NOSUPERUSER NOCREATEDB "
                "NOCREATEROLE NOREPLICATION NOBYPASSRLS"
            )
            held: set[str] = set()
        else:
            if rows[0][0]:
                raise GrantError(f"{login.function}: login {login.name} has administrative attributes")
            held = _one_column(
                conn,
                "SELECT g.rolname FROM pg_auth_members m "
                "JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member "
                "WHERE u.rolname = :name AND g.rolname LIKE 'vchat\\_%'",
                name=login.name,
            )
        statements += [
            f"GRANT {role} TO {quote_ident(login.name)}" for role in sorted(set(login.roles) - held)
        ]
        statements += [
            f"REVOKE {role} FROM {quote_ident(login.name)}" for role in sorted(held - set(login.roles))
        ]
    return statements


def grant(conn: pg8000.native.Connection, wanted: Iterable[Login], create_missing: bool = False) -> list[str]:
    """Apply `plan()` in one transaction; returns the statements it ran."""
    conn.run("BEGIN")
    try:
        statements = plan(conn, list(wanted), create_missing)
        for statement in statements:
            conn.run(statement)
    except BaseException:
        conn.run("ROLLBACK")
        raise
    conn.run("COMMIT")
    return statements


def connect(url: str) -> pg8000.native.Connection:
    """A pg8000 connection from a `postgresql[+pg8000]://user[:password]@host:port/db` URL."""
    import pg8000.native

    parts = urlsplit(url)
    if not parts.scheme.startswith("postgresql") or not parts.username:
        raise GrantError("the database URL must be postgresql+pg8000://OWNER[:PASSWORD]@HOST:PORT/DATABASE")
    return pg8000.native.Connection(
        unquote(parts.username),
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        database=parts.path.lstrip("/") or "vchat",
        password=unquote(parts.password) if parts.password else None,
    )
