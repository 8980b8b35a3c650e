"""Configuration the local stack generates: the environment of functions and clients (the same
variable names production uses), the hub's and the Auth emulator's config files, and the
`stack.json` a frontend developer or a test reads the endpoints from."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deploy import database_roles
from deploy.manifest import ROOT, FunctionSpec
from devstack import secrets, services, webapp
from devstack.ports import Ports
from devstack.postgres import LocalPostgres

DEFAULT_PROJECT = "demo-vchat"
# The local Discord application and guild the stand-in plays (ids are snowflakes, as Discord's are).
DISCORD_IDS = {
    "applicationId": "1180000000000000001",
    "guildId": "1180000000000000010",
    "channelId": "1180000000000000020",
    "staffChannelId": "1180000000000000030",
    "staffRoleId": "1180000000000000040",
}


@dataclass
class StackConfig:
    state_dir: Path
    ports: Ports
    functions: dict[str, FunctionSpec]
    project: str = DEFAULT_PROJECT
    with_auth: bool = True
    scheduler_auto: bool = True
    retry: dict[str, float] = field(
        default_factory=lambda: {"initial_s": 1.0, "max_s": 30.0, "max_attempts": 10}
    )
    extra_env: dict[str, str] = field(default_factory=dict)
    # Folders searched before the repository by every function process (benchmarks put
    # instrumentation there, e.g. bench/firestore_counter).
    extra_python_path: tuple[Path, ...] = ()
    _secrets: dict[str, str] | None = field(default=None, repr=False)

    # -- addresses ------------------------------------------------------------------------------
    def port(self, service: str) -> int:
        return self.ports.services[service]

    def host(self, service: str) -> str:
        return f"127.0.0.1:{self.port(service)}"

    @property
    def gateway_url(self) -> str:
        return f"http://{self.host('gateway')}"

    @property
    def router_url(self) -> str:
        return f"http://{self.host('router')}"

    @property
    def postgres(self) -> LocalPostgres:
        return LocalPostgres(self.state_dir / "postgres", self.port("postgres"))

    @property
    def redis_url(self) -> str:
        return f"redis://{self.host('redis')}/0"

    @property
    def discord_api_url(self) -> str:
        return f"http://{self.host('discord')}/api/v10"

    def _local_secrets(self) -> dict[str, str]:
        if self._secrets is None:
            self._secrets = secrets.local_secrets(self.state_dir)
        return self._secrets

    # -- environments ---------------------------------------------------------------------------
    def service_env(self) -> dict[str, str]:
        """What a client of the stack (a function, a test, a script) needs in its environment."""
        env = {
            "GOOGLE_CLOUD_PROJECT": self.project,
            "FIRESTORE_EMULATOR_HOST": self.host("firestore"),
            "PUBSUB_EMULATOR_HOST": self.host("pubsub"),
            "FIREBASE_AUTH_EMULATOR_HOST": self.host("auth"),
            "DATABASE_URL": self.postgres.url,
            "REDIS_URL": self.redis_url,
            "VROID_API_URL": f"http://{self.host('vroid')}",
            "DISCORD_API_URL": self.discord_api_url,
            "DISCORD_AUTHORIZE_URL": f"{self.discord_api_url}/oauth2/authorize",
            "DISCORD_APPLICATION_ID": DISCORD_IDS["applicationId"],
            "DISCORD_CLIENT_ID": DISCORD_IDS["applicationId"],
            "DISCORD_GUILD_ID": DISCORD_IDS["guildId"],
            "DISCORD_CHANNEL_ID": DISCORD_IDS["channelId"],
            "DISCORD_STAFF_CHANNEL_ID": DISCORD_IDS["staffChannelId"],
            "DISCORD_STAFF_ROLE_ID": DISCORD_IDS["staffRoleId"],
            # Browsers may call the functions from the reference web app (production: Terraform's list).
            "CORS_ALLOWED_ORIGINS": webapp.cors_origins(self.ports),
        }
        # The Discord test signing key plays Discord's side: it is for stack.json, not for functions.
        env.update({k: v for k, v in self._local_secrets().items() if k != secrets.TEST_SIGNING_KEY})
        env.update(self.extra_env)
        return env

    def database_login(self, spec: FunctionSpec) -> str:
        """The function's own login (the name its production IAM database user has)."""
        return database_roles.iam_database_user(spec.name, database_roles.LOCAL_ENVIRONMENT, self.project)

    def function_env(self, spec: FunctionSpec) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("VCHAT_", "PYTEST"))}
        env.update(spec.env)
        env.update(self.service_env())
        # No K_SERVICE: Cloud Run sets it on every deployed function, and its absence is what lets
        # the auth code accept the Auth emulator's unsigned tokens here and nowhere else.
        env.pop("K_SERVICE", None)
        # Functions never see the owner's URL: a Postgres user gets its own least-privilege login,
        # any other function no database at all.
        env.pop("DATABASE_URL", None)
        if spec.uses_postgres:
            env["DATABASE_URL"] = self.postgres.login_url(self.database_login(spec))
        env.update(
            {
                "FUNCTION_TARGET": spec.entry_point,
                "FUNCTION_SIGNATURE_TYPE": spec.signature_type,
                "PYTHONPATH": os.pathsep.join([*map(str, self.extra_python_path), str(ROOT)]),
                "PYTHONUNBUFFERED": "1",
                # gunicorn threads = the manifest's per-instance concurrency, as on Cloud Run.
                "THREADS": str(spec.concurrency),
                # A read stream outliving the function's timeout holds a thread nobody waits on.
                "FIRESTORE_READ_DEADLINE_S": str(spec.firestore_read_deadline_s),
            }
        )
        return env

    # -- generated files ------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        env = self.service_env()
        return {
            "projectId": self.project,
            "gatewayUrl": self.gateway_url,
            "eventRouterUrl": self.router_url,
            "FIRESTORE_EMULATOR_HOST": env["FIRESTORE_EMULATOR_HOST"],
            "PUBSUB_EMULATOR_HOST": env["PUBSUB_EMULATOR_HOST"],
            "FIREBASE_AUTH_EMULATOR_HOST": env["FIREBASE_AUTH_EMULATOR_HOST"] if self.with_auth else None,
            "DATABASE_URL": self.postgres.url,
            "REDIS_URL": self.redis_url,
            "vroidHubUrl": env["VROID_API_URL"],
            "livekit": {"url": env.get("LIVEKIT_URL"), "apiKey": env.get("LIVEKIT_API_KEY")},
            "discord": {
                "apiUrl": self.discord_api_url,
                "applicationId": DISCORD_IDS["applicationId"],
                "publicKey": env["DISCORD_PUBLIC_KEY"],
                "testSigningKey": self._local_secrets()[secrets.TEST_SIGNING_KEY],
                "guildId": DISCORD_IDS["guildId"],
                "channelId": DISCORD_IDS["channelId"],
                "staffChannelId": DISCORD_IDS["staffChannelId"],
                "staffRoleId": DISCORD_IDS["staffRoleId"],
                "interactionsUrl": f"{self.gateway_url}/discord_interactions",
            },
            "functions": {
                name: {
                    "trigger": spec.trigger_type,
                    "url": f"{self.gateway_url}/{name}" if spec.trigger_type == "http" else None,
                    "directUrl": f"http://127.0.0.1:{self.ports.functions[name]}",
                }
                for name, spec in self.functions.items()
            },
            "realtimeUrl": services.urls(self)["realtime"],
            "logs": str(self.state_dir / "logs"),
        }

    def write_info(self) -> Path:
        path = self.state_dir / "stack.json"
        path.write_text(json.dumps(self.info(), indent=2) + "\n")
        return path

    def hub_config(self) -> Path:
        path = self.state_dir / "hub.json"
        path.write_text(
            json.dumps(
                {
                    "project": self.project,
                    "gateway_port": self.port("gateway"),
                    "router_port": self.port("router"),
                    "pubsub_host": self.host("pubsub"),
                    "retry": self.retry,
                    "scheduler": {"auto": self.scheduler_auto},
                    "functions": {
                        name: {
                            "port": self.ports.functions[name],
                            "trigger_type": spec.trigger_type,
                            "topic": spec.topic,
                            "timeout_s": spec.timeout_s,
                            "schedules": [
                                {"name": s.name, "cron": s.cron, "time_zone": s.time_zone, "data": s.data}
                                for s in spec.schedules
                            ],
                        }
                        for name, spec in self.functions.items()
                    },
                },
                indent=2,
            )
        )
        return path

    def discord_config(self) -> Path:
        """The stand-in's view of the application: ids, bot token and OAuth client."""
        path = self.state_dir / "discord.json"
        local = self._local_secrets()
        path.write_text(
            json.dumps(
                {
                    **DISCORD_IDS,
                    "clientId": DISCORD_IDS["applicationId"],
                    "botToken": local["DISCORD_BOT_TOKEN"],
                    "clientSecret": local["DISCORD_CLIENT_SECRET"],
                },
                indent=2,
            )
        )
        path.chmod(0o600)
        return path

    def firebase_config(self) -> Path:
        path = self.state_dir / "firebase.json"
        path.write_text(
            json.dumps(
                {
                    "emulators": {
                        "auth": {"host": "127.0.0.1", "port": self.port("auth")},
                        "hub": {"host": "127.0.0.1", "port": self.port("auth_hub")},
                        "logging": {"host": "127.0.0.1", "port": self.port("auth_logging")},
                        "ui": {"enabled": False},
                        "singleProjectMode": True,
                    }
                }
            )
        )
        return path
