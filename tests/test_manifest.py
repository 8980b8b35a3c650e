"""The manifest is the one source of truth: folders, entry points, requirements and schedules agree."""

from __future__ import annotations

import ast
import itertools
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter

from deploy.manifest import ROOT, FunctionSpec, ManifestError, load_manifest, load_services

MANIFEST = load_manifest()
SERVICES = load_services()
FUNCTIONS_DIR = ROOT / "functions"
PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;#]+)$")


def dev_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements" / "dev.txt").read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[normalize(match.group(1))] = match.group(2)
    return pins


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()


def test_every_function_folder_has_a_manifest_entry_and_the_reverse() -> None:
    folders = {p.name for p in FUNCTIONS_DIR.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))}
    assert folders == set(MANIFEST), (
        f"only folders: {folders - set(MANIFEST)}; only manifest: {set(MANIFEST) - folders}"
    )


def test_the_issue_functions_are_all_there() -> None:
    expected = {
        "issue_tokens": "http",
        "matching_api": "http",
        "invitations_api": "http",
        "on_user_written": "firestore",
        "on_room_written": "firestore",
        "matching_worker": "pubsub",
        "sync_vrm_models": "pubsub",
        "auto_close": "pubsub",
        "account_api": "http",
        "account_deletion": "pubsub",
        "discord_interactions": "http",
        "discord_worker": "pubsub",
        "discord_auth": "http",
    }
    assert {name: spec.trigger_type for name, spec in MANIFEST.items()} == expected
    assert MANIFEST["on_user_written"].document == "users/{userId}"
    assert MANIFEST["on_room_written"].document == "rooms/{roomId}"
    assert MANIFEST["matching_worker"].topic == "matching-requests"
    assert {s.cron for s in MANIFEST["sync_vrm_models"].schedules} == {"0 */6 * * *"}
    assert {s.cron for s in MANIFEST["auto_close"].schedules} == {"* * * * *"}
    assert MANIFEST["matching_worker"].schedules, "the worker also sweeps on a schedule"
    assert MANIFEST["account_deletion"].topic == "account-deletions"
    assert "auth" in MANIFEST["account_api"].stores and "auth" in MANIFEST["account_deletion"].stores
    assert MANIFEST["discord_worker"].topic == "discord-outbox"


@pytest.mark.parametrize("spec", MANIFEST.values(), ids=list(MANIFEST))
def test_entry_point_exists_with_the_right_signature(spec: FunctionSpec) -> None:
    tree = ast.parse((spec.source_dir / "main.py").read_text())
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert spec.entry_point in functions, f"{spec.name}: main.py defines no {spec.entry_point}()"
    decorators = {ast.unparse(d) for d in functions[spec.entry_point].decorator_list}
    expected = (
        "functions_framework.http" if spec.trigger_type == "http" else "functions_framework.cloud_event"
    )
    assert expected in decorators


@pytest.mark.parametrize("spec", MANIFEST.values(), ids=list(MANIFEST))
def test_requirements_are_exact_pins_equal_to_the_dev_lock(spec: FunctionSpec) -> None:
    pins = dev_pins()
    lines = [
        line.strip()
        for line in (spec.source_dir / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines, f"{spec.name}: empty requirements.txt"
    for line in lines:
        match = PIN.match(line)
        assert match, f"{spec.name}: {line!r} is not an exact pin"
        name, version = normalize(match.group(1)), match.group(2)
        assert pins.get(name) == version, (
            f"{spec.name}: {name}=={version} but requirements/dev.txt has {pins.get(name)}"
        )


@pytest.mark.parametrize("spec", MANIFEST.values(), ids=list(MANIFEST))
def test_limits_schedules_and_secrets_are_sane(spec: FunctionSpec) -> None:
    assert 128 <= spec.memory_mb <= 32768
    assert 1 <= spec.timeout_s <= (3600 if spec.trigger_type == "http" else 540)
    assert 0 <= spec.min_instances <= spec.max_instances
    assert 1 <= spec.concurrency <= 1000
    for schedule in spec.schedules:
        assert croniter.is_valid(schedule.cron), schedule
        ZoneInfo(schedule.time_zone)
        assert re.fullmatch(r"[a-z][a-z0-9-]{0,62}", schedule.name)
    for env_name, secret_id in spec.secrets.items():
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", env_name)
        assert re.fullmatch(r"[a-z][a-z0-9-]{0,254}", secret_id)
    assert not set(spec.secrets) & set(spec.env), "a variable is either a secret or plain, not both"


def test_schedule_names_are_unique() -> None:
    names = [s.name for spec in MANIFEST.values() for s in spec.schedules]
    assert len(names) == len(set(names))


def test_readme_function_table_matches_the_manifest() -> None:
    readme = (ROOT / "README.md").read_text()
    rows = {
        match.group(1): match.group(2)
        for match in re.finditer(r"^\| `(\w+)` \| (http|firestore|pubsub) \|", readme, flags=re.MULTILINE)
    }
    assert rows == {name: spec.trigger_type for name, spec in MANIFEST.items()}


def test_manifest_path_is_where_terraform_reads_it() -> None:
    assert (FUNCTIONS_DIR / "manifest.yaml").is_file()
    assert Path(ROOT / "firestore.rules").is_file() and Path(ROOT / "firestore.indexes.json").is_file()


def test_schedule_interval_is_the_crons_period() -> None:
    """The alerts are sized from interval_s, so it must be what the cron really does."""
    for spec in MANIFEST.values():
        for schedule in spec.schedules:
            times = croniter(schedule.cron, datetime(2026, 1, 1, tzinfo=ZoneInfo(schedule.time_zone)))
            fired = [times.get_next(datetime) for _ in range(6)]
            gaps = {int((later - earlier).total_seconds()) for earlier, later in itertools.pairwise(fired)}
            assert gaps == {schedule.interval_s}, (schedule.name, gaps)


def test_every_schedule_names_a_success_line_its_function_logs() -> None:
    for spec in MANIFEST.values():
        for schedule in spec.schedules:
            assert f'"{schedule.success_log}"' in (spec.source_dir / "main.py").read_text(), schedule.name


def test_postgres_functions_name_roles_a_migration_creates() -> None:
    migrations = "".join(p.read_text() for p in (ROOT / "migrations" / "versions").glob("*.py"))
    for spec in MANIFEST.values():
        assert bool(spec.database_roles) == spec.uses_postgres, spec.name
        for role in spec.database_roles:
            assert f'"{role}"' in migrations, f"{spec.name}: no migration creates {role}"


def _manifest_with(tmp_path: Path, entry: str) -> Path:
    path = tmp_path / "manifest.yaml"
    path.write_text(
        f"defaults: {{memory_mb: 256, timeout_s: 60, min_instances: 0, max_instances: 1, concurrency: 1}}\nfunctions:\n  f:\n{entry}"
    )
    return path


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("    trigger: {type: http}\n    stores: [postgres]\n", "must name its database_roles"),
        (
            "    trigger: {type: http}\n    stores: [redis]\n    database_roles: [vchat_x]\n",
            "without postgres",
        ),
        ("    trigger: {type: http}\n    stores: [postgres]\n    database_roles: [admin]\n", "not a vchat_"),
        ("    trigger: {type: http}\n    env: {FIRESTORE_EMULATOR_HOST: 'h:1'}\n", "local/development"),
        ("    trigger: {type: http}\n    env: {DATABASE_URL: 'postgresql://u@h/db'}\n", "local/development"),
        ("    trigger: {type: http}\n    env: {LIVEKIT_URL: 'ws://h'}\n", "plain-text"),
        (
            "    trigger: {type: pubsub, topic: t}\n    schedules: [{name: s, cron: '* * * * *'}]\n",
            "interval_s",
        ),
    ],
)
def test_the_loader_refuses_an_unfit_entry(tmp_path: Path, entry: str, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        load_manifest(_manifest_with(tmp_path, entry))


def test_only_urls_a_function_connects_to_must_be_tls() -> None:
    from deploy.manifest import deployed_env_problems

    assert deployed_env_problems({"CORS_ALLOWED_ORIGINS": "http://localhost:5173"}) == []
    assert deployed_env_problems({"VROID_API_URL": "https://hub.vroid.com"}) == []
    assert deployed_env_problems({"VROID_API_URL": "http://hub.vroid.com"}) == [
        "VROID_API_URL uses a plain-text URL"
    ]
    assert deployed_env_problems({"PUBSUB_EMULATOR_HOST": "127.0.0.1:8085", "VCHAT_GATEWAY_PORT": "1"}) == [
        "PUBSUB_EMULATOR_HOST is a local/development variable",
        "VCHAT_GATEWAY_PORT is a local/development variable",
    ]


# -- Cloud Run services (`services:`) ----------------------------------------------------------------
def test_the_realtime_service_is_described_beside_the_functions() -> None:
    spec = SERVICES["realtime"]
    assert spec.kind == "cloud_run_service" and spec.module == "realtime"
    assert (spec.source_dir / "Dockerfile").is_file() and (spec.source_dir / "__main__.py").is_file()
    assert spec.min_instances == 0 <= spec.max_instances and spec.max_instances >= 1
    assert 1 <= spec.concurrency <= 1000  # Cloud Run's per-instance maximum
    assert spec.timeout_s <= 3600 and spec.session_affinity
    assert spec.jwks_from == "issue_tokens" and spec.stores == ("redis",)
    assert spec.secrets == {"REDIS_URL": "redis-url"}
    assert {"WS_TOKEN_ISSUER", "WS_TOKEN_AUDIENCE"} <= set(spec.env)
    assert not set(spec.secrets) & set(spec.env)
    for env_name, secret_id in spec.secrets.items():
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", env_name) and re.fullmatch(
            r"[a-z][a-z0-9-]{0,254}", secret_id
        )


def test_service_requirements_are_exact_pins_equal_to_the_dev_lock() -> None:
    pins = dev_pins()
    for spec in SERVICES.values():
        lines = [
            line.strip()
            for line in (spec.source_dir / "requirements.txt").read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
        assert lines
        for line in lines:
            match = PIN.match(line)
            assert match, line
            assert pins.get(normalize(match.group(1))) == match.group(2), line


def test_service_manifest_errors_name_the_problem(tmp_path: Path) -> None:
    base = (FUNCTIONS_DIR / "manifest.yaml").read_text()
    for broken, message in (
        ("kind: cloud_run_service", "kind: cloud_run_job"),
        ("jwks_from: issue_tokens", "jwks_from: on_room_written"),
    ):
        path = tmp_path / "manifest.yaml"
        path.write_text(base.replace(broken, message))
        with pytest.raises(ManifestError, match=r"realtime\.(kind|jwks_from)"):
            load_services(path)


def test_readme_lists_the_service_beside_the_functions() -> None:
    readme = (ROOT / "README.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| cloud_run_service \|", readme, flags=re.MULTILINE)
    assert rows == list(SERVICES)
