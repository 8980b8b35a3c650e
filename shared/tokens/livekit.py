"""LiveKit access tokens: the JWT LiveKit's server SDKs mint (`AccessToken.to_jwt`), signed here with
PyJWT so the function does not import the whole LiveKit SDK (and its protobufs) on a cold start.

Claims, as LiveKit reads them: `iss` = API key, `sub` = participant identity, `nbf`, `exp`, `name`,
`metadata` (a string), `video` grant in lower camel case. HS256 with the API secret.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.config import settings

MAX_TTL = timedelta(hours=1)


@dataclass(frozen=True)
class LiveKitCredentials:
    url: str
    api_key: str
    api_secret: str

    @classmethod
    def from_settings(cls) -> LiveKitCredentials:
        """Read at first use: a missing key or secret is a ConfigError, never a token signed with ''."""
        config = settings()
        return cls(
            url=config.livekit_url, api_key=config.livekit_api_key, api_secret=config.livekit_api_secret
        )


@dataclass(frozen=True)
class RoomGrant:
    room: str  # the LiveKit room name (rooms/{id}.livekitRoomName)
    can_publish: bool = True
    can_subscribe: bool = True
    can_publish_data: bool = True

    def claim(self) -> dict[str, object]:
        return {
            "roomJoin": True,
            "room": self.room,
            "canPublish": self.can_publish,
            "canSubscribe": self.can_subscribe,
            "canPublishData": self.can_publish_data,
        }


def livekit_claims(
    credentials: LiveKitCredentials,
    identity: str,
    name: str,
    grant: RoomGrant,
    metadata: dict[str, object],
    not_before: datetime,
    expires_at: datetime,
) -> dict[str, object]:
    if not identity or not grant.room:
        raise ValueError("identity and room must be set when joining a room")
    if expires_at <= not_before or expires_at - not_before > MAX_TTL:
        raise ValueError("a LiveKit token lives more than 0 s and at most an hour")
    return {
        "iss": credentials.api_key,
        "sub": identity,
        "nbf": int(not_before.timestamp()),
        "exp": int(expires_at.timestamp()),
        "name": name,
        "video": grant.claim(),
        "metadata": json.dumps(metadata, separators=(",", ":"), sort_keys=True),
    }


def sign_livekit(credentials: LiveKitCredentials, claims: dict[str, object]) -> str:
    import jwt

    return jwt.encode(claims, credentials.api_secret, algorithm="HS256")
