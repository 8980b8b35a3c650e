"""The DISCORD_* settings (declared with the others in shared/config.py), as one object."""

from __future__ import annotations

from dataclasses import dataclass

from shared.config import Settings, settings


@dataclass(frozen=True)
class DiscordConfig:
    source: Settings

    @property
    def api_url(self) -> str:
        return self.source.discord_api_url.rstrip("/")

    @property
    def authorize_url(self) -> str:
        return self.source.discord_authorize_url

    @property
    def application_id(self) -> str:
        return self.source.discord_application_id

    @property
    def client_id(self) -> str:
        return self.source.discord_client_id

    @property
    def guild_id(self) -> str:
        return self.source.discord_guild_id

    @property
    def channel_id(self) -> str:
        return self.source.discord_channel_id

    @property
    def staff_channel_id(self) -> str:
        return self.source.discord_staff_channel_id

    @property
    def staff_role_id(self) -> str:
        return self.source.discord_staff_role_id

    @property
    def public_key(self) -> str:
        return self.source.discord_public_key

    @property
    def bot_token(self) -> str:
        return self.source.discord_bot_token

    @property
    def client_secret(self) -> str:
        return self.source.discord_client_secret


def discord_config() -> DiscordConfig:
    return DiscordConfig(settings())
