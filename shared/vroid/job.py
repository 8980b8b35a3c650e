"""The scheduled `vrm-sync` job: configuration, the curator's refresh token, one sync run.

Config (env; the three secrets come from Secret Manager in production):
- VROID_API_URL (https://hub.vroid.com), VROID_CLIENT_ID, VROID_CLIENT_SECRET, VROID_REFRESH_TOKEN
- VROID_PAGE_SIZE (1..100, default 100), VRM_SYNC_BATCH_SIZE (1..500, default 500)
- VRM_SYNC_FULL_COMPARE_H (0..8760, default 24): how old the last full compare may get before a run
  compares every listed document again instead of trusting the content index (0: every run)

VRoid Hub can rotate the refresh token on every grant and revoke the old one, which would strand the
secret after the first run. The rotated token is therefore kept in the server-only document
`serverState/vroidHub` together with a fingerprint of the secret it descends from: when an operator
stores a new secret (re-authorization), the fingerprint no longer matches and the secret wins.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from shared import vocab
from shared.config import settings
from shared.vroid.client import Credentials, VroidHubClient
from shared.vroid.sync import IndexPolicy, SyncReport, run_sync

if TYPE_CHECKING:
    from google.cloud import firestore

STATE_DOCUMENT = (vocab.SERVER_STATE, "vroidHub")


def api_url() -> str:
    return settings().vroid_api_url


def _fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class RefreshTokenStore:
    """The newest refresh token descending from the configured secret, kept in Firestore."""

    def __init__(self, db: firestore.Client, secret: str) -> None:
        self._ref = db.collection(STATE_DOCUMENT[0]).document(STATE_DOCUMENT[1])
        self._secret = secret

    def current(self) -> str:
        snapshot = self._ref.get()
        state = snapshot.to_dict() if snapshot.exists else None
        if state and state.get("seedFingerprint") == _fingerprint(self._secret):
            token = state.get("refreshToken")
            if isinstance(token, str) and token:
                return token
        return self._secret

    def save(self, token: str) -> None:
        self._ref.set(
            {
                "refreshToken": token,
                "seedFingerprint": _fingerprint(self._secret),
                "rotatedAt": datetime.now(UTC),
            }
        )


def index_policy(full_compare_requested: bool = False) -> IndexPolicy:
    hours = settings().vrm_sync_full_compare_h
    return IndexPolicy(
        full_compare_every=timedelta(hours=hours) if hours else None,
        full_compare_requested=full_compare_requested,
    )


def run(db: firestore.Client, now: datetime | None = None, *, full_compare: bool = False) -> SyncReport:
    cfg = settings()
    secret = cfg.vroid_refresh_token
    store = RefreshTokenStore(db, secret)
    credentials = Credentials(cfg.vroid_client_id, cfg.vroid_client_secret, store.current())
    client = VroidHubClient(api_url(), credentials, on_refresh_token=store.save)
    try:
        return run_sync(
            db,
            client,
            now or datetime.now(UTC),
            page_size=cfg.vroid_page_size,
            batch_size=cfg.vrm_sync_batch_size,
            policy=index_policy(full_compare),
        )
    finally:
        client.close()
