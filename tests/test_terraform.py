"""terraform/: parsed with python-hcl2 (providers cannot be downloaded here, so no `terraform
validate`) and checked against the files it deploys from: the manifest, the rules, the indexes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml

from deploy.manifest import ROOT

MODULE = ROOT / "terraform" / "modules" / "vchat"
ENVIRONMENTS = ("dev", "prod")


@cache
def parsed(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        return _plain(hcl2.load(handle))  # type: ignore[no-any-return]


def _plain(node: Any) -> Any:
    """python-hcl2 keeps the quotes of labels and string literals ('"main"'): drop them."""
    if isinstance(node, dict):
        return {_unquote(k): _plain(v) for k, v in node.items() if k != "__is_block__"}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return _unquote(node) if isinstance(node, str) else node


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def tf_files() -> list[Path]:
    return sorted((ROOT / "terraform").rglob("*.tf"))


def module_blocks(kind: str) -> dict[str, dict[str, Any]]:
    """Every `resource`/`data`/`variable`/`output` block of the module by "type.name" (or name)."""
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(MODULE.glob("*.tf")):
        for block in parsed(path).get(kind, []):
            for key, body in block.items():
                if kind in ("resource", "data"):
                    ((name, inner),) = body.items()
                    found[f"{key}.{name}"] = inner
                else:
                    found[key] = body
    return found


def text(value: Any) -> str:
    return json.dumps(value)


def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "functions" / "manifest.yaml").read_text())  # type: ignore[no-any-return]


def test_every_file_parses_and_is_formatted() -> None:
    assert len(tf_files()) >= 14
    for path in tf_files():
        parsed(path)
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed: formatting not checked")
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", str(ROOT / "terraform")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout


def test_the_module_reads_the_manifest_rules_and_indexes() -> None:
    source = (MODULE / "locals.tf").read_text() + (MODULE / "firestore.tf").read_text()
    assert 'yamldecode(file("${var.repo_root}/functions/manifest.yaml"))' in source
    assert 'jsondecode(file("${var.repo_root}/firestore.indexes.json"))' in source
    assert 'file("${var.repo_root}/firestore.rules")' in source


def test_every_manifest_function_becomes_a_function_through_for_each() -> None:
    resources = module_blocks("resource")
    function = resources["google_cloudfunctions2_function.function"]
    assert function["for_each"] == "${local.functions}"
    body = text(function)
    for attribute in (
        "entry_point",
        "runtime",
        "memory_mb",
        "timeout_s",
        "min_instances",
        "max_instances",
        "concurrency",
    ):
        assert f"each.value.{attribute}" in body, attribute
    assert "secret_environment_variables" in body and "each.value.secrets" in body
    # The manifest's keys are the ones locals.tf reads (a renamed key would silently default).
    locals_text = (MODULE / "locals.tf").read_text()
    for spec in manifest()["functions"].values():
        for key in spec:
            assert f"spec.{key}" in locals_text, key
    for key in manifest()["defaults"]:
        if key != "region":  # the region is a variable of the environment
            assert f"local.defaults.{key}" in locals_text, key


def test_triggers_schedules_and_topics_follow_the_manifest() -> None:
    functions = manifest()["functions"]
    kinds = {spec["trigger"]["type"] for spec in functions.values()}
    assert kinds == {"http", "firestore", "pubsub"}
    body = text(module_blocks("resource")["google_cloudfunctions2_function.function"])
    assert "match-path-pattern" in body and "event_trigger.value.document" in body
    assert "google.cloud.pubsub.topic.v1.messagePublished" in body and "RETRY_POLICY_RETRY" in body
    for spec in functions.values():
        if spec["trigger"]["type"] == "firestore":
            assert spec["trigger"]["event_type"].startswith("google.cloud.firestore.document.v1.")
            assert re.fullmatch(r"[a-zA-Z]+/\{\w+\}", spec["trigger"]["document"])
    resources = module_blocks("resource")
    assert resources["google_pubsub_topic.topics"]["for_each"] == "${local.topics}"
    job = resources["google_cloud_scheduler_job.jobs"]
    assert job["for_each"] == "${local.schedules}"
    assert "each.value.cron" in text(job) and "each.value.time_zone" in text(job)
    assert any(spec.get("schedules") for spec in functions.values())


def test_indexes_and_rules_are_deployed_from_their_files() -> None:
    resources = module_blocks("resource")
    assert resources["google_firestore_index.indexes"]["for_each"] == "${local.indexes}"
    assert resources["google_firestore_field.exempt"]["for_each"] == "${local.exempt_fields}"
    assert resources["google_firestore_field.indexed"]["for_each"] == "${local.indexed_fields}"
    release = resources["google_firebaserules_release.firestore"]
    assert release["name"] == "cloud.firestore"
    assert "google_firebaserules_ruleset.firestore" in text(release["lifecycle"])


def test_stateful_resources_are_protected() -> None:
    resources = module_blocks("resource")
    sql = resources["google_sql_database_instance.main"]
    assert sql["deletion_protection"] == "${var.deletion_protection}"
    assert sql["database_version"] == "POSTGRES_15"
    settings = text(sql["settings"])
    assert "cloudsql.iam_authentication" in settings and '"ipv4_enabled": false' in settings
    assert "point_in_time_recovery_enabled" in settings
    assert "DELETE_PROTECTION_ENABLED" in text(resources["google_firestore_database.main"])
    assert module_blocks("variable")["deletion_protection"]["default"] is True
    prod = (ROOT / "terraform" / "environments" / "prod" / "main.tf").read_text()
    assert re.search(r"deletion_protection\s*=\s*true", prod)


def test_no_secret_value_is_in_terraform() -> None:
    resources = module_blocks("resource")
    # The one secret version Terraform writes is the Upstash URL, built from the database it
    # creates (so its password is in the state: docs/deploy.md); every other secret is added by hand.
    versions = [name for name in resources if name.startswith("google_secret_manager_secret_version")]
    assert versions == ["google_secret_manager_secret_version.redis_url"]
    redis_url = resources["google_secret_manager_secret_version.redis_url"]
    assert redis_url["count"] == "${var.upstash.enabled ? 1 : 0}"
    assert redis_url["secret_data"].startswith("rediss://default:${upstash_redis_database.main[0].password}@")
    for path in tf_files():
        source = path.read_text()
        if path.name != "redis.tf":
            assert "secret_data" not in source, path
        assert not re.search(r"\bpassword\s*=", source), path
    # Every secret a function reads is a Secret Manager secret, granted per function.
    assert resources["google_secret_manager_secret.secrets"]["for_each"] == "${local.secret_ids}"
    assert resources["google_secret_manager_secret_iam_member.access"]["for_each"] == "${local.secret_access}"


def test_least_privilege_roles_come_from_the_manifest_stores() -> None:
    stores = {store for spec in manifest()["functions"].values() for store in spec.get("stores", [])}
    locals_text = (MODULE / "locals.tf").read_text()
    for store in stores:
        assert re.search(rf"^\s*{store}\s*=", locals_text, re.MULTILINE), f"no roles for store {store}"
    assert "roles/owner" not in locals_text and "roles/editor" not in locals_text
    resources = module_blocks("resource")
    assert resources["google_service_account.function"]["for_each"] == "${local.functions}"
    assert resources["google_project_iam_member.function"]["for_each"] == "${local.function_roles}"


def test_variables_have_types_and_descriptions_and_environments_use_the_module() -> None:
    for name, body in module_blocks("variable").items():
        assert body.get("description") and body.get("type"), name
    for env in ENVIRONMENTS:
        root = parsed(ROOT / "terraform" / "environments" / env / "main.tf")
        ((module,),) = [list(block.values()) for block in root["module"]]
        assert module["source"] == "../../modules/vchat"
        assert module["environment"] == env
        required = {name for name, body in module_blocks("variable").items() if "default" not in body}
        assert required <= set(module), required - set(module)
        for variable in root.get("variable", []):
            ((name, body),) = variable.items()
            assert body.get("description") and body.get("type"), (env, name)


# -- production shape: fail-safe env, IAM names, database, alerts, dead letters, Redis ------------
def test_deployed_function_env_is_fail_safe() -> None:
    """Manifest env + what Terraform adds: no emulator, no development flag, no plain-text URL; and
    Terraform itself refuses one (a precondition with the same rule as deploy/manifest.py)."""
    from deploy.manifest import DEVELOPMENT_ONLY_VARIABLES, deployed_env_problems, load_manifest

    locals_text = (MODULE / "locals.tf").read_text()
    added = set(re.findall(r"^\s+([A-Z][A-Z0-9_]+)\s+=", locals_text.split("function_env = {", 1)[1], re.M))
    assert {"GOOGLE_CLOUD_PROJECT", "CLOUD_SQL_INSTANCE", "DB_IAM_USER"} <= added
    # gunicorn's threads are the manifest's concurrency when deployed, as the local stack runs them
    assert re.search(r"THREADS\s+=\s+tostring\(f\.concurrency\)", locals_text)
    for name, spec in load_manifest().items():
        env = {**spec.env, **dict.fromkeys(added, "set-by-terraform")}
        assert deployed_env_problems(env) == [], name
    pattern = re.search(r'development_only_env = "\^\((.*)\)\$"', locals_text)
    assert pattern and pattern.group(1) == DEVELOPMENT_ONLY_VARIABLES.pattern
    function = text(module_blocks("resource")["google_cloudfunctions2_function.function"])
    assert "local.function_env[each.key]" in function and "precondition" in function
    assert "local.development_only_env" in function and "local.plain_text_url" in function
    livekit = text(module_blocks("variable")["livekit_url"])
    assert "wss://" in livekit and "validation" in livekit


def test_a_firestore_read_lasts_no_longer_than_its_function_deployed_and_local(tmp_path: Path) -> None:
    """FIRESTORE_READ_DEADLINE_S is each function's timeout (within the library's 300 s) in both
    places: Terraform computes it in HCL, the local stack from the manifest."""
    from deploy.manifest import LIBRARY_READ_DEADLINE_S, load_manifest
    from devstack.stack import Ports, Stack
    from shared.config import Settings

    locals_text = (MODULE / "locals.tf").read_text()
    deployed = re.search(
        r"FIRESTORE_READ_DEADLINE_S\s+=\s+tostring\(min\(f\.timeout_s, (\d+)\)\)", locals_text
    )
    assert deployed and int(deployed.group(1)) == LIBRARY_READ_DEADLINE_S
    assert Settings.firestore_read_deadline_s.bounds == f"1..{LIBRARY_READ_DEADLINE_S}"

    manifest = load_manifest()
    stack = Stack(tmp_path, Ports.free(manifest), echo=lambda _: None)
    local = {p.name.removeprefix("fn:"): p.env for p in stack._plan() if p.name.startswith("fn:")}
    assert set(local) == set(manifest)
    for name, spec in manifest.items():
        assert local[name]["FIRESTORE_READ_DEADLINE_S"] == str(
            min(spec.timeout_s, LIBRARY_READ_DEADLINE_S)
        ), name
    assert manifest["issue_tokens"].firestore_read_deadline_s == manifest["issue_tokens"].timeout_s < 60
    assert (
        manifest["sync_vrm_models"].firestore_read_deadline_s == LIBRARY_READ_DEADLINE_S
    )  # its timeout is longer


def test_iam_database_user_names_are_the_ones_the_grant_code_uses() -> None:
    from deploy import database_roles

    iam = (MODULE / "iam.tf").read_text()
    assert 'account_id   = substr("fn-${replace(each.key, "_", "-")}-${var.environment}", 0, 30)' in iam
    database = (MODULE / "database.tf").read_text()
    assert 'trimsuffix(google_service_account.function[each.key].email, ".gserviceaccount.com")' in database
    assert database_roles.iam_database_user("invitations_api", "prod", "p") == "fn-invitations-api-prod@p.iam"
    # Account ids are cut at 30 characters, so every name fits PostgreSQL's 63-byte role names
    # when the project id has at most 28; a longer one is refused by a precondition before apply.
    longest = max((name for name in manifest()["functions"]), key=len)
    assert len(database_roles.iam_database_user(longest, "a" * 11, "p" * 28)) <= 63
    assert len(database_roles.iam_database_user(longest, "a" * 11, "p" * 30)) > 63
    user = text(module_blocks("resource")["google_sql_user.function"])
    assert "precondition" in user and "<= 63" in user


def test_no_project_wide_impersonation_roles() -> None:
    for name, body in module_blocks("resource").items():
        if name.startswith("google_project_iam_member"):
            assert "serviceAccountTokenCreator" not in text(body) and "serviceAccountUser" not in text(
                body
            ), name
    grant = module_blocks("resource")["google_service_account_iam_member.pubsub_token_creator"]
    assert grant["service_account_id"] == "${google_service_account.events.name}"


def _local_postgres_major() -> int:
    postgres = shutil.which("postgres") or "/usr/lib/postgresql/15/bin/postgres"
    version = subprocess.run([postgres, "--version"], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"(\d+)\.\d+", version).group(1))  # type: ignore[union-attr]


def test_database_backups_versions_flags_and_budget_inputs() -> None:
    sql = module_blocks("resource")["google_sql_database_instance.main"]
    assert sql["database_version"] == f"POSTGRES_{_local_postgres_major()}"  # what the tests ran on
    backups = sql["settings"][0]["backup_configuration"][0]
    assert backups["point_in_time_recovery_enabled"] is True and backups["enabled"] is True
    assert backups["backup_retention_settings"][0] == {"retained_backups": 30, "retention_unit": "COUNT"}
    assert backups["transaction_log_retention_days"] == 7
    flags = {f["name"]: f["value"] for f in sql["settings"][0]["database_flags"]}
    assert flags["max_connections"] == "${tostring(var.sql_max_connections)}"
    assert flags["log_min_duration_statement"] == "-1"  # no statement with its values in the logs
    assert flags["cloudsql.iam_authentication"] == "on"
    insights = sql["settings"][0]["insights_config"][0]
    assert insights["query_insights_enabled"] is True and insights["record_client_address"] is False
    assert sql["settings"][0]["ip_configuration"][0]["ssl_mode"] == "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"


RUNBOOK_LINK = re.compile(r"\$\{var\.runbook_url\}#([a-z0-9-]+)")


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes."""
    headings = re.findall(r"^#{1,6} (.+)$", markdown, re.M)
    return {re.sub(r"[^a-z0-9 -]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_every_alert_links_a_runbook_section_that_exists() -> None:
    anchors = _anchors((ROOT / "docs" / "operations.md").read_text())
    policies = {
        k: v for k, v in module_blocks("resource").items() if k.startswith("google_monitoring_alert_policy")
    }
    assert len(policies) >= 8
    for name, policy in policies.items():
        content = policy["documentation"][0]["content"]
        links = RUNBOOK_LINK.findall(content)
        assert links, f"{name}: no runbook link"
        assert set(links) <= anchors, f"{name}: {set(links) - anchors} is not a heading of docs/operations.md"
        assert policy["notification_channels"] == "${local.notification_channels}", name


def test_alerts_cover_jobs_database_events_http_and_dead_letters() -> None:
    resources = module_blocks("resource")
    for kind in ("job_absent", "job_failing"):
        assert resources[f"google_monitoring_alert_policy.{kind}"]["for_each"] == "${local.schedules}"
    absent = resources["google_monitoring_alert_policy.job_absent"]["conditions"][0]
    assert "condition_absent" in absent and "local.job_alerts[each.key].absent_s" in text(absent)
    assert "3 * s.interval_s" in (MODULE / "alerts.tf").read_text()
    success = resources["google_logging_metric.job_success"]
    assert success["for_each"] == "${local.schedules}" and "each.value.success_log" in text(success)
    assert "severity<ERROR" in text(success)
    connections = text(resources["google_monitoring_alert_policy.sql_connections"])
    assert "postgresql/num_backends" in connections and "local.sql_connection_alert_threshold" in connections
    assert "floor(var.sql_max_connections * 0.8)" in (MODULE / "alerts.tf").read_text()
    slow = text(resources["google_monitoring_alert_policy.sql_slow_queries"])
    assert "insights/aggregate/latencies" in slow and "REDUCE_PERCENTILE_95" in slow
    assert "oldest_unacked_message_age" in text(resources["google_monitoring_alert_policy.event_backlog"])
    http = resources["google_monitoring_alert_policy.http_5xx"]
    assert http["for_each"] == "${local.http_functions}" and "denominator_filter" in text(http)
    letters = resources["google_monitoring_alert_policy.dead_letters"]
    assert letters["for_each"] == "${local.event_functions}" and "num_undelivered_messages" in text(letters)


def test_dead_letter_topics_for_every_event_trigger_with_scoped_iam() -> None:
    from deploy import dead_letters
    from deploy.manifest import load_manifest

    resources = module_blocks("resource")
    for name in ("google_pubsub_topic.dead_letter", "google_pubsub_subscription.dead_letter_hold"):
        assert resources[name]["for_each"] == "${local.event_functions}"
    assert (
        resources["google_pubsub_topic.dead_letter"]["name"] == 'dead-letter-${replace(each.key, "_", "-")}'
    )
    assert dead_letters.topic_name("on_room_written") == "dead-letter-on-room-written"
    publisher = resources["google_pubsub_topic_iam_member.dead_letter_publisher"]
    assert publisher["role"] == "roles/pubsub.publisher" and "dead_letter[each.key]" in publisher["topic"]
    attempts = re.search(r"dead_letter_max_delivery_attempts = (\d+)", (MODULE / "locals.tf").read_text())
    assert attempts and int(attempts.group(1)) == dead_letters.MAX_DELIVERY_ATTEMPTS
    script = "\n".join(dead_letters.commands(load_manifest(), "proj", "asia-northeast1"))
    events = [n for n, s in load_manifest().items() if s.trigger_type != "http"]
    for name in events:
        assert f"--dead-letter-topic=projects/proj/topics/dead-letter-{name.replace('_', '-')}" in script
    assert script.count("roles/pubsub.subscriber") == len(events)


def test_upstash_redis_is_tls_without_eviction_and_optional() -> None:
    versions = text(parsed(MODULE / "versions.tf"))
    assert "upstash/upstash" in versions
    redis = module_blocks("resource")["upstash_redis_database.main"]
    assert redis["tls"] is True and redis["eviction"] is False
    assert redis["count"] == "${var.upstash.enabled ? 1 : 0}"
    for env in ENVIRONMENTS:
        root = (ROOT / "terraform" / "environments" / env / "main.tf").read_text()
        assert 'provider "upstash"' in root
        assert re.search(r"upstash\s+= \{ enabled = var.upstash_enabled \}", root), env


def test_ttl_policies_are_the_servers_ttl_fields() -> None:
    """Retention: one google_firestore_field with ttl_config per collection group, from the index
    file's `"ttl": true` overrides, which are exactly the fields the server writes (vocab.TTL_FIELDS)
    and the emulator's sweep deletes by."""
    from shared import vocab

    ttl = module_blocks("resource")["google_firestore_field.ttl"]
    assert ttl["for_each"] == "${local.ttl_fields}"
    assert "ttl_config" in ttl and "index_config" in ttl  # exempt from indexing, as Google advises
    overrides = json.loads((ROOT / "firestore.indexes.json").read_text())["fieldOverrides"]
    declared = {o["collectionGroup"]: o["fieldPath"] for o in overrides if o.get("ttl")}
    assert declared == vocab.TTL_FIELDS
    assert all(o["indexes"] == [] for o in overrides if o.get("ttl"))
    locals_text = (MODULE / "locals.tf").read_text()
    assert "ttl_fields" in locals_text and "try(o.ttl, false)" in locals_text


def test_the_realtime_service_follows_the_manifest_services_section() -> None:
    spec = manifest()["services"]["realtime"]
    resources = module_blocks("resource")
    service = resources["google_cloud_run_v2_service.realtime"]
    body = text(service)
    template = service["template"][0] if isinstance(service["template"], list) else service["template"]
    # Scaling, concurrency, timeout and affinity come from the manifest, not from literals.
    assert template["timeout"] == "${local.realtime.timeout_s}s"
    assert template["max_instance_request_concurrency"] == "${local.realtime.concurrency}"
    assert template["session_affinity"] == "${local.realtime.session_affinity}"
    assert "local.realtime.min_instances" in body and "local.realtime.max_instances" in body
    assert "local.realtime.memory_mb" in body and "var.realtime_image" in body
    assert spec["min_instances"] == 0, "scale to zero"
    assert 3600 >= spec["timeout_s"] >= 1800, "a call lasts; Cloud Run caps a request at 60 minutes"
    assert spec["session_affinity"] is True and spec["kind"] == "cloud_run_service"
    # Secrets from Secret Manager (never values), the JWKS URL derived from the function that serves it.
    assert "secret_key_ref" in body and "local.realtime.secrets" in body
    assert ".well-known/jwks.json" in body and "local.realtime.jwks_from" in body
    assert spec["jwks_from"] in manifest()["functions"]
    assert "http_get" in body and "local.realtime.health_path" in body
    # Its own identity with only its secrets; public invoker since browsers connect directly.
    assert resources["google_service_account.service"]["for_each"] == "${local.services}"
    access = resources["google_secret_manager_secret_iam_member.service_access"]
    assert access["for_each"] == "${local.service_secret_access}"
    assert not any(
        "google_service_account.service" in text(body)
        for name, body in resources.items()
        if name.startswith("google_project_iam_member")
    ), "the realtime service needs no project role"
    public = resources["google_cloud_run_v2_service_iam_member.realtime_public"]
    assert public["member"] == "allUsers" and public["role"] == "roles/run.invoker"
    locals_text = (MODULE / "locals.tf").read_text()
    assert "local.manifest.services" in locals_text, "service secrets are Secret Manager secrets too"
    realtime_text = (MODULE / "realtime.tf").read_text()
    for key in spec:
        if key not in ("source", "module"):  # the image is built from these (docs/deploy.md)
            assert f"spec.{key}" in realtime_text, key
    assert "realtime_url" in module_blocks("output")
