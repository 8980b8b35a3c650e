"""Bad configuration fails fast at first use, naming the variable, never leaking a secret."""

from __future__ import annotations

import pytest

from shared.config import ConfigError, Settings


def test_missing_variable_is_named() -> None:
    settings = Settings(environ={})
    for attribute, variable in [
        ("redis_url", "REDIS_URL"),
        ("database_url", "DATABASE_URL"),
        ("project_id", "GOOGLE_CLOUD_PROJECT"),
    ]:
        with pytest.raises(ConfigError, match=variable):
            getattr(settings, attribute)
    with pytest.raises(ConfigError, match="LIVEKIT_API_SECRET"):
        settings.livekit_api_secret  # noqa: B018


def test_empty_counts_as_missing() -> None:
    with pytest.raises(ConfigError, match="missing required environment variable LIVEKIT_API_SECRET"):
        Settings(environ={"LIVEKIT_API_SECRET": "  "}).livekit_api_secret  # noqa: B018


@pytest.mark.parametrize(
    ("variable", "attribute", "value"),
    [
        ("REDIS_URL", "redis_url", "http://example.com"),
        ("REDIS_URL", "redis_url", "redis://"),
        ("DATABASE_URL", "database_url", "mysql://u@h/db"),
        ("FIRESTORE_EMULATOR_HOST", "firestore_emulator_host", "localhost"),
        ("CLOUD_SQL_INSTANCE", "cloud_sql_instance", "just-a-name"),
        ("DB_POOL_SIZE", "db_pool_size", "many"),
        ("DB_POOL_SIZE", "db_pool_size", "0"),
    ],
)
def test_malformed_values_are_named_without_echoing_urls(variable: str, attribute: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable) as error:
        getattr(Settings(environ={variable: value}), attribute)
    if "://" in value:
        assert value not in str(error.value)  # URLs may carry passwords


@pytest.mark.parametrize(
    "url",
    [
        "redis://default:secret@eu1-x.upstash.io:6379",
        "redis://10.0.0.5:6379/0",
        "redis://redis.internal/0",
        "redis://127.0.0.1.example.com/0",
    ],
)
def test_plain_text_redis_is_refused_off_this_machine(url: str) -> None:
    with pytest.raises(ConfigError, match=r"REDIS_URL must use rediss:// \(TLS\)") as error:
        _ = Settings(environ={"REDIS_URL": url}).redis_url
    assert "secret" not in str(error.value) and url not in str(error.value)


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6390/0",
        "redis://localhost:6379",
        "redis://[::1]:6379/0",
        "rediss://default:pw@eu1-x.upstash.io:6379",
        "rediss://127.0.0.1:6380",
    ],
)
def test_tls_anywhere_and_plain_text_on_loopback_are_accepted(url: str) -> None:
    assert Settings(environ={"REDIS_URL": url}).redis_url == url


def test_good_values_are_parsed_and_cached() -> None:
    environ = {"REDIS_URL": "rediss://default:pw@eu1-x.upstash.io:6379", "DB_POOL_SIZE": "7"}
    settings = Settings(environ=environ)
    assert settings.redis_url.startswith("rediss://")
    assert settings.db_pool_size == 7
    environ["DB_POOL_SIZE"] = "9"
    assert settings.db_pool_size == 7  # read once per instance
    assert settings.rate_limit_livekit_per_min == 30  # the default of an unset setting


def test_http_function_answers_a_misconfiguration_with_a_named_error(tmp_path: object) -> None:
    """A function whose REDIS_URL is malformed answers /healthz 503 and names nothing secret."""
    import os

    from flask import Flask

    from shared.config import reset_settings
    from shared.http import Api

    saved = dict(os.environ)
    try:
        os.environ["GOOGLE_CLOUD_PROJECT"] = "demo-vchat"
        os.environ["REDIS_URL"] = "not-a-url"
        reset_settings()
        from shared.clients.redis import get_redis

        get_redis.reset()
        api = Api("probe", stores=("redis",))
        with Flask(__name__).test_request_context("/healthz"):
            from flask import request

            response = api(request)
        assert response.status_code == 503
        assert response.get_json()["stores"]["redis"] == {
            "status": "down",
            "latencyMs": response.get_json()["stores"]["redis"]["latencyMs"],
            "error": "ConfigError",
        }
    finally:
        os.environ.clear()
        os.environ.update(saved)
        reset_settings()
        get_redis.reset()


def test_the_readme_configuration_table_is_generated_from_the_settings() -> None:
    """One place defines the settings; the README's table is its output, never hand-kept."""
    from deploy.settings_table import README, readme_table, render

    assert readme_table(README.read_text()) == render(), "run: python -m deploy.settings_table --write"


def test_every_setting_is_read_through_the_settings_object() -> None:
    """No module of shared/ or functions/ reads the environment itself (shared/config.py does)."""
    import re

    from deploy.manifest import ROOT

    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("shared", "functions")
        for path in (ROOT / folder).rglob("*.py")
        if path != ROOT / "shared" / "config.py" and re.search(r"os\.environ|os\.getenv", path.read_text())
    ]
    assert offenders == []
