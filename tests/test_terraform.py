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
    assert resources["google_firestore_field.exempt"]["for_each"] == "${local.field_overrides}"
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
    assert not any(name.startswith("google_secret_manager_secret_version") for name in resources)
    for path in tf_files():
        source = path.read_text()
        assert "secret_data" not in source and not re.search(r"\bpassword\s*=", source), path
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
