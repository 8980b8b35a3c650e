"""A private PostgreSQL 15 cluster for the local stack: a folder of its own, a port of its own,
the database created and migrated to the newest schema, and one login per function holding its
database roles, as in production (the owner migrates; functions never log in as it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from deploy import database_roles
from deploy.manifest import ROOT, FunctionSpec
from devstack.processes import tcp_ok

DB_NAME = "vchat"
SUPERUSER = "postgres"


@dataclass(frozen=True)
class LocalPostgres:
    data_dir: Path
    port: int

    @property
    def url(self) -> str:
        """The migrating owner's URL (the local superuser)."""
        return f"postgresql+pg8000://{SUPERUSER}@127.0.0.1:{self.port}/{DB_NAME}"

    def login_url(self, login: str) -> str:
        """The URL a function logs in with: its own login, no password (trust auth on loopback)."""
        return database_roles.local_database_url(login, self.port, DB_NAME)

    def _as_db_user(self, argv: list[str]) -> list[str]:
        # PostgreSQL refuses to run as root; CI and the dev container run as root.
        return ["runuser", "-u", "nobody", "--", *argv] if os.geteuid() == 0 else argv

    def init(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.data_dir, "nobody")
            os.chmod(self.data_dir, 0o700)
        subprocess.run(
            self._as_db_user(
                [
                    "initdb",
                    "-D",
                    str(self.data_dir),
                    "-U",
                    SUPERUSER,
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def argv(self) -> list[str]:
        return self._as_db_user(
            [
                shutil.which("postgres") or "/usr/lib/postgresql/15/bin/postgres",
                "-D",
                str(self.data_dir),
                "-p",
                str(self.port),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_directories=",
                "-c",
                "max_connections=300",
                "-c",
                "shared_buffers=256MB",
                # A disposable local cluster: durability traded for speed.
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]
        )

    def ready(self) -> bool:
        if not tcp_ok(self.port)():
            return False
        result = subprocess.run(
            ["pg_isready", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER],
            capture_output=True,
        )
        return result.returncode == 0

    def migrate(self, env: dict[str, str]) -> None:
        """Create the database if needed and bring its schema to the newest migration."""
        import pg8000.native

        admin = pg8000.native.Connection(SUPERUSER, host="127.0.0.1", port=self.port, database="postgres")
        try:
            if not admin.run("SELECT 1 FROM pg_database WHERE datname = :name", name=DB_NAME):
                admin.run(f"CREATE DATABASE {DB_NAME}")
        finally:
            admin.close()
        subprocess.run(
            [sys.executable, "-m", "alembic", "-c", str(ROOT / "alembic.ini"), "upgrade", "head"],
            cwd=ROOT,
            env={**env, "DATABASE_URL": self.url, "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
            check=True,
            capture_output=True,
        )

    def provision_logins(self, functions: Mapping[str, FunctionSpec], project: str) -> list[str]:
        """After `migrate`: a LOGIN role per Postgres-using function, named as its production IAM
        database user, granted the manifest's roles by the same code production's bootstrap runs."""
        import pg8000.native

        conn = pg8000.native.Connection(SUPERUSER, host="127.0.0.1", port=self.port, database=DB_NAME)
        try:
            return database_roles.grant(
                conn,
                database_roles.logins(functions, database_roles.LOCAL_ENVIRONMENT, project),
                create_missing=True,
            )
        finally:
            conn.close()
