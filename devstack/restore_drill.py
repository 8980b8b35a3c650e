"""`make restore-drill`: a backup restored into a fresh cluster and proved identical, row for row.

The rehearsal of docs/operations.md's restore runbook with PostgreSQL's own tools:
1. in one REPEATABLE READ snapshot of the source: every table's row count and checksum (md5 of
   its rows as text, ordered by primary key), then `pg_dump --snapshot` of exactly that state;
   `pg_dumpall --roles-only` for the roles (group roles, function logins, their memberships);
2. `initdb` of a fresh cluster on a free port, the roles replayed, `pg_restore --create`;
3. the same counts and checksums, and the privileges of every `vchat_*` role, read back and compared.

Timings are printed per step: the drill is also the measure of the restore part of the RTO.

    python -m devstack.restore_drill                  # seeds a private source cluster of its own
    python -m devstack.restore_drill --port 54329     # the running `make dev` database
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from devstack.ports import free_port
from devstack.postgres import DB_NAME, SUPERUSER, LocalPostgres

if TYPE_CHECKING:
    import pg8000.native

# One row per table: its primary key columns, for a stable order (a table without one is ordered
# by its whole row).
PRIMARY_KEYS = """
SELECT c.relname,
       COALESCE((SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.ord)
                 FROM pg_index i
                 CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                 WHERE i.indrelid = c.oid AND i.indisprimary), '') AS pk
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r'
ORDER BY c.relname
"""

# Who may do what: table and column grants of the vchat_* groups, and which login holds which group.
PRIVILEGES = """
SELECT 'table' AS kind, g.rolname, c.relname, a.privilege_type
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(c.relacl) a JOIN pg_roles g ON g.oid = a.grantee
WHERE n.nspname = 'public' AND g.rolname LIKE 'vchat\\_%'
UNION
SELECT 'column', g.rolname, c.relname || '.' || att.attname, a.privilege_type
FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
CROSS JOIN LATERAL aclexplode(att.attacl) a JOIN pg_roles g ON g.oid = a.grantee
WHERE n.nspname = 'public' AND g.rolname LIKE 'vchat\\_%'
UNION
SELECT 'member', u.rolname, g.rolname, ''
FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
WHERE g.rolname LIKE 'vchat\\_%'
UNION
SELECT 'database', g.rolname, d.datname, a.privilege_type
FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a JOIN pg_roles g ON g.oid = a.grantee
WHERE d.datname = current_database() AND g.rolname LIKE 'vchat\\_%'
"""


@dataclass(frozen=True)
class Fingerprint:
    rows: int
    checksum: str


@dataclass
class DrillReport:
    source: dict[str, Fingerprint]
    restored: dict[str, Fingerprint]
    source_privileges: set[tuple[str, ...]]
    restored_privileges: set[tuple[str, ...]]
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def mismatched_tables(self) -> list[str]:
        return sorted(
            t for t in self.source.keys() | self.restored.keys() if self.source.get(t) != self.restored.get(t)
        )

    @property
    def ok(self) -> bool:
        return not self.mismatched_tables and self.source_privileges == self.restored_privileges

    def lines(self) -> list[str]:
        out = [f"{'table':<20} {'rows':>8} {'restored':>8}  checksum"]
        for table in sorted(self.source.keys() | self.restored.keys()):
            before, after = self.source.get(table), self.restored.get(table)
            same = "equal" if before == after else "DIFFERENT"
            out.append(
                f"{table:<20} {before.rows if before else '-':>8} {after.rows if after else '-':>8}  "
                f"{(before or after).checksum[:12] if (before or after) else ''} {same}"  # type: ignore[union-attr]
            )
        privileges = "equal" if self.source_privileges == self.restored_privileges else "DIFFERENT"
        out.append(f"privileges of the vchat_* roles: {len(self.source_privileges)} grants, {privileges}")
        out.append(
            "timings: " + ", ".join(f"{step} {seconds:.2f} s" for step, seconds in self.timings_s.items())
        )
        out.append("restore drill: " + ("OK" if self.ok else "FAILED"))
        return out


def _connect(port: int, database: str, host: str = "127.0.0.1") -> pg8000.native.Connection:
    import pg8000.native

    return pg8000.native.Connection(SUPERUSER, host=host, port=port, database=database)


def fingerprints(conn: pg8000.native.Connection) -> dict[str, Fingerprint]:
    """Row count and md5 of every public table's rows (as text, in primary key order)."""
    found = {}
    for table, pk in conn.run(PRIMARY_KEYS):
        order = pk or "t"
        rows, checksum = conn.run(
            f"SELECT count(*), md5(COALESCE(string_agg(t::text, E'\\n' ORDER BY {order}), '')) "
            f"FROM public.{_ident(table)} AS t"
        )[0]
        found[table] = Fingerprint(int(rows), str(checksum))
    return found


def privileges(conn: pg8000.native.Connection) -> set[tuple[str, ...]]:
    return {tuple(str(value) for value in row) for row in conn.run(PRIVILEGES)}


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _run(argv: list[str], **kwargs: object) -> str:
    result = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed: {result.stderr.strip()[-2000:]}")
    return str(result.stdout)


@contextmanager
def running_cluster(data_dir: Path) -> Iterator[LocalPostgres]:
    """A fresh cluster on a free port, stopped (and its folder left to the caller) on exit."""
    cluster = LocalPostgres(data_dir, free_port())
    cluster.init()
    process = subprocess.Popen(cluster.argv(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not cluster.ready():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the fresh PostgreSQL cluster did not start")
            time.sleep(0.1)
        yield cluster
    finally:
        process.terminate()  # SIGTERM: PostgreSQL's smart shutdown
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _workspace(parent: Path | None) -> Path:
    work = Path(tempfile.mkdtemp(prefix="restore-drill-", dir=parent))
    work.chmod(0o755)  # the server runs as `nobody` when we are root: it must reach its data folder
    return work


def drill(
    source_port: int, database: str = DB_NAME, source_host: str = "127.0.0.1", work_parent: Path | None = None
) -> DrillReport:
    """Dump `database` of the cluster at source_host:source_port, restore it into a fresh cluster,
    compare. The source is only read."""
    work = _workspace(work_parent)
    timings: dict[str, float] = {}
    target = ["-h", source_host, "-p", str(source_port), "-U", SUPERUSER]
    try:
        started = time.perf_counter()
        source = _connect(source_port, database, source_host)
        try:
            source.run("BEGIN ISOLATION LEVEL REPEATABLE READ")
            ((snapshot,),) = source.run("SELECT pg_export_snapshot()")
            before, before_privileges = fingerprints(source), privileges(source)
            _run(
                [
                    "pg_dump",
                    *target,
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    "--file",
                    str(work / "db.dump"),
                    database,
                ]
            )
            source.run("COMMIT")
        finally:
            source.close()
        roles = _run(["pg_dumpall", *target, "--roles-only", "--no-role-passwords"])
        timings["dump"] = time.perf_counter() - started

        started = time.perf_counter()
        with running_cluster(work / "cluster") as cluster:
            timings["fresh cluster"] = time.perf_counter() - started
            started = time.perf_counter()
            fresh = ["-h", "127.0.0.1", "-p", str(cluster.port), "-U", SUPERUSER]
            # The bootstrap superuser exists already in a fresh cluster; every other role is replayed.
            roles = "\n".join(
                line for line in roles.splitlines() if line.strip() != f"CREATE ROLE {SUPERUSER};"
            )
            (work / "roles.sql").write_text(roles)
            _run(
                [
                    "psql",
                    *fresh,
                    "-X",
                    "-q",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-d",
                    "postgres",
                    "-f",
                    str(work / "roles.sql"),
                ]
            )
            _run(
                ["pg_restore", *fresh, "--create", "--exit-on-error", "-d", "postgres", str(work / "db.dump")]
            )
            timings["restore"] = time.perf_counter() - started
            started = time.perf_counter()
            restored_conn = _connect(cluster.port, database)
            try:
                after, after_privileges = fingerprints(restored_conn), privileges(restored_conn)
            finally:
                restored_conn.close()
            timings["compare"] = time.perf_counter() - started
        return DrillReport(before, after, before_privileges, after_privileges, timings)
    finally:
        shutil.rmtree(work, ignore_errors=True)


SEED = """
INSERT INTO invitations (id, thread_id, host_id, host_name, event_name, start_time, end_time, world_name,
  world_link, tag, description, instance_type, max_participants, status)
SELECT (1000000000000000000 + g)::text, (2000000000000000000 + g)::text, (g % 97)::text, 'ホスト' || g,
  'イベント ' || g, timestamp '2030-01-01' + g * interval '1 hour', timestamp '2030-01-01' + g * interval '1 hour'
  + interval '2 hours', 'world ' || g, CASE WHEN g % 3 = 0 THEN NULL ELSE 'https://vrchat.com/w/' || g END,
  (ARRAY['観光', 'ゲーム', 'まったり', '撮影会', 'イベント', 'その他'])[1 + g % 6], repeat('説明 ', g % 20),
  (ARRAY['group', 'friend', 'friendplus', 'public'])[1 + g % 4], 10, 'recruiting'
FROM generate_series(1, :n) AS g;
INSERT INTO participants (invitation_id, user_id, user_name, status)
SELECT (1000000000000000000 + g)::text, (3000 + u)::text, 'user ' || u, CASE WHEN u % 2 = 0 THEN 'joined' ELSE 'interested' END
FROM generate_series(1, :n) AS g CROSS JOIN generate_series(1, 3) AS u;
INSERT INTO tickets (id, user_id, user_name, category, status, closed_at)
SELECT (4000000000000000000 + g)::text, (g % 50)::text, 'user', 'question',
  CASE WHEN g % 2 = 0 THEN 'closed' ELSE 'open' END, CASE WHEN g % 2 = 0 THEN now() + interval '1 day' END
FROM generate_series(1, :n / 10) AS g;
INSERT INTO call_sessions (session_id, room_id, room_type, participant_count, started_at, ended_at,
  duration_seconds, end_reason, avg_fps)
SELECT 'session-' || g, 'room-' || g, 'random', 2, now() - interval '1 hour', now(), 3600, 'normal', 29.5 + g % 3
FROM generate_series(1, :n) AS g;
"""


def seed(port: int, rows: int = 1000) -> None:
    """Rows in every table of a migrated database (names in Japanese, NULLs, times)."""
    conn = _connect(port, DB_NAME)
    try:
        for statement in SEED.split(";\n"):
            if statement.strip():
                conn.run(statement, n=rows)
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.restore_drill", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--port", type=int, help="source cluster port (default: seed a private one)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--database", default=DB_NAME)
    parser.add_argument("--rows", type=int, default=2000, help="rows per table when seeding")
    args = parser.parse_args(argv)
    if args.port is not None:
        report = drill(args.port, args.database, args.host)
    else:
        import os

        from deploy.manifest import load_manifest
        from devstack.config import DEFAULT_PROJECT

        work = _workspace(None)
        try:
            with running_cluster(work / "source") as source:
                started = time.perf_counter()
                source.migrate(dict(os.environ))
                source.provision_logins(load_manifest(), DEFAULT_PROJECT)
                seed(source.port, args.rows)
                print(
                    f"source: migrated, function logins, {args.rows} invitations seeded in {time.perf_counter() - started:.2f} s"
                )
                report = drill(source.port, args.database, work_parent=work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
