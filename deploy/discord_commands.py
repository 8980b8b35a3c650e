"""Register the bot's slash commands (shared/discord/commands.py) with Discord: `make discord-commands`.

One bulk overwrite of the guild's commands (`PUT /applications/{app}/guilds/{guild}/commands`):
guild commands change at once (global ones take up to an hour), and a command removed from the
list disappears from Discord too. Run it after changing shared/discord/commands.py.

Production: DISCORD_BOT_TOKEN, DISCORD_APPLICATION_ID and DISCORD_GUILD_ID in the environment
(DISCORD_API_URL defaults to Discord's). Without DISCORD_BOT_TOKEN it registers against the local
stack's stand-in (`.dev/stack.json`, `.dev/secrets.json`), as `make dev` does at start.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from typing import Any

from deploy.manifest import ROOT
from shared.config import Settings
from shared.discord.commands import COMMANDS

DEFAULT_API_URL = str(Settings.discord_api_url.default)


def register(api_url: str, application_id: str, guild_id: str, bot_token: str) -> list[dict[str, Any]]:
    from shared.discord.rest import DiscordRest

    rest = DiscordRest(api_url, bot_token, deadline_s=60.0)
    registered = rest.request(
        "PUT",
        "/applications/{application_id}/guilds/{guild_id}/commands",
        {"application_id": application_id, "guild_id": guild_id},
        json=COMMANDS,
    )
    return list(registered)


def register_from_env(env: Mapping[str, str]) -> list[dict[str, Any]]:
    missing = [
        n for n in ("DISCORD_BOT_TOKEN", "DISCORD_APPLICATION_ID", "DISCORD_GUILD_ID") if not env.get(n)
    ]
    if missing:
        raise SystemExit(f"missing {', '.join(missing)}")
    return register(
        env.get("DISCORD_API_URL") or DEFAULT_API_URL,
        env["DISCORD_APPLICATION_ID"],
        env["DISCORD_GUILD_ID"],
        env["DISCORD_BOT_TOKEN"],
    )


def _local_env() -> dict[str, str]:
    stack, local_secrets = ROOT / ".dev" / "stack.json", ROOT / ".dev" / "secrets.json"
    if not stack.exists() or not local_secrets.exists():
        raise SystemExit(
            "DISCORD_BOT_TOKEN is not set and no local stack is running (.dev/stack.json): set "
            "DISCORD_BOT_TOKEN, DISCORD_APPLICATION_ID and DISCORD_GUILD_ID to register in production, "
            "or start `make dev` first"
        )
    discord = json.loads(stack.read_text())["discord"]
    return {
        "DISCORD_API_URL": discord["apiUrl"],
        "DISCORD_APPLICATION_ID": discord["applicationId"],
        "DISCORD_GUILD_ID": discord["guildId"],
        "DISCORD_BOT_TOKEN": json.loads(local_secrets.read_text())["DISCORD_BOT_TOKEN"],
    }


def main() -> int:
    env = dict(os.environ) if os.environ.get("DISCORD_BOT_TOKEN") else _local_env()
    registered = register_from_env(env)
    where = env.get("DISCORD_API_URL") or DEFAULT_API_URL
    print(f"registered {len(registered)} commands in guild {env['DISCORD_GUILD_ID']} at {where}:")
    for command in registered:
        print(f"  /{command['name']}  {command.get('description', '')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
