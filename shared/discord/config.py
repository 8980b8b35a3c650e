"""DISCORD_* settings, each read on first use (a function that never needs one never fails on it)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.config import ConfigError, Settings, settings

DEFAULT_API_URL = "https://discord.com/api/v10"
DEFAULT_AUTHORIZE_URL = "https://discord.com/oauth2/authorize"
_SNOWFLAKE = re.compile(r"[0-9]{1,20}")
_HEX_KEY = re.compile(r"[0-9a-fA-F]{64}")


@dataclass(frozen=True)
class DiscordConfig:
    source: Settings

    def _snowflake(self, name: str) -> str:
        value = self.source.require(name)
        if not _SNOWFLAKE.fullmatch(value):
            raise ConfigError(f"{name} must be a Discord id (1 to 20 digits)")
        return value

    @property
    def api_url(self) -> str:
        raw = self.source.optional("DISCORD_API_URL") or DEFAULT_API_URL
        if not raw.startswith(("https://", "http://")):
            raise ConfigError("DISCORD_API_URL must be an http(s) URL")
        return raw.rstrip("/")

    @property
    def authorize_url(self) -> str:
        return self.source.optional("DISCORD_AUTHORIZE_URL") or DEFAULT_AUTHORIZE_URL

    @property
    def application_id(self) -> str:
        return self._snowflake("DISCORD_APPLICATION_ID")

    @property
    def client_id(self) -> str:
        # The OAuth2 client id of a Discord application is its application id; a separate variable
        # keeps sign-in configurable on its own.
        return self.source.optional("DISCORD_CLIENT_ID") or self.application_id

    @property
    def guild_id(self) -> str:
        return self._snowflake("DISCORD_GUILD_ID")

    @property
    def channel_id(self) -> str:
        return self._snowflake("DISCORD_CHANNEL_ID")

    @property
    def staff_channel_id(self) -> str:
        return self._snowflake("DISCORD_STAFF_CHANNEL_ID")

    @property
    def staff_role_id(self) -> str:
        return self._snowflake("DISCORD_STAFF_ROLE_ID")

    @property
    def public_key(self) -> str:
        value = self.source.require("DISCORD_PUBLIC_KEY")
        if not _HEX_KEY.fullmatch(value):
            raise ConfigError("DISCORD_PUBLIC_KEY must be the application's public key (64 hex digits)")
        return value

    @property
    def bot_token(self) -> str:
        return self.source.require("DISCORD_BOT_TOKEN")

    @property
    def client_secret(self) -> str:
        return self.source.require("DISCORD_CLIENT_SECRET")


def discord_config() -> DiscordConfig:
    return DiscordConfig(settings())
