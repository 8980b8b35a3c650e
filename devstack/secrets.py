"""Secrets of the local stack, generated once per state folder and kept in STATE_DIR/secrets.json.

Production reads the same variables from Secret Manager (see the manifest's `secrets`).
- LIVEKIT_API_KEY / LIVEKIT_API_SECRET: LiveKit's own development credentials (`livekit-server --dev`).
- WS_SIGNING_KEYS: JSON list of {"kid", "privateKey" (PKCS#8 PEM, Ed25519)}; the last is the newest.
- INVITATIONS_ENCRYPTION_KEYS: comma-separated Fernet keys, newest first (MultiFernet rotation).
- DISCORD_BOT_TOKEN / DISCORD_CLIENT_SECRET: what the Discord stand-in accepts.
- DISCORD_PUBLIC_KEY: hex Ed25519 public key interactions are verified with; its private seed,
  DISCORD_TEST_SIGNING_KEY (local only, never given to a function), signs what the stand-in tools send.
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def _ed25519_key() -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return {"kid": "local-" + os.urandom(4).hex(), "privateKey": pem.decode()}


def _discord_keys() -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"DISCORD_PUBLIC_KEY": public.hex(), TEST_SIGNING_KEY: seed.hex()}


TEST_SIGNING_KEY = "DISCORD_TEST_SIGNING_KEY"


def _generate() -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        **_discord_keys(),
        "DISCORD_BOT_TOKEN": "local-bot." + os.urandom(18).hex(),
        "DISCORD_CLIENT_SECRET": "local-oauth-" + os.urandom(12).hex(),
        "LIVEKIT_URL": "ws://127.0.0.1:7880",
        "LIVEKIT_API_KEY": "devkey",
        "LIVEKIT_API_SECRET": "secret",
        "WS_SIGNING_KEYS": json.dumps([_ed25519_key()]),
        "INVITATIONS_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "VROID_CLIENT_ID": "local-client",
        "VROID_CLIENT_SECRET": "local-secret",
        "VROID_REFRESH_TOKEN": "local-refresh-token",
    }


def local_secrets(state_dir: Path) -> dict[str, str]:
    path = state_dir / "secrets.json"
    existing: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    generated = _generate()
    # Keep what exists (rotations done by hand stay), add what a newer version of the stack needs.
    merged = {**generated, **existing}
    if merged != existing:
        state_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(merged, indent=2) + "\n")
        path.chmod(0o600)
    return merged
