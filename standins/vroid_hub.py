"""A stand-in VRoid Hub for the local stack: OAuth2 token endpoint and the list APIs the sync uses.

VRoid Hub is unreachable from here, so this serves what its public API documents (developer.vroid.com,
API version 11): `POST /oauth/token` (refresh-token grant, Doorkeeper-style rotating refresh tokens),
`GET /api/staff_picks` and `GET /api/hearts` paged with `max_id` / `count` in the envelope
`{data, error, _links: {next: {href}}}`; every API call must send `X-Api-Version: 11` and a bearer token.

The catalog is generated from a seed, so every run serves the same models: VRM 0.x models with
VRoid Hub's `license` vocabulary, VRM 1.0 models with `latest_character_model_version.vrm_meta`,
R18/R15 models, models not available to other users, and malformed entries (missing fields, wrong
types, huge strings) at fixed positions.

Tests script faults through `POST /_control` (see `Control.apply`): queued HTTP errors (429 with
Retry-After, 500, 401 "token expired"), catalog size, removed and patched models, page size cap, token
lifetime, refresh-token rotation/revocation. `GET /_control/catalog` dumps the entries listed now.
`GET /_control` returns the state and the request log; `POST /_control {"reset": true}` restores the
defaults. Run: `python -m standins.vroid_hub --port 8090`.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import random
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

API_VERSION = "11"
CLIENT_ID = "local-client"  # the values devstack/secrets.py generates for VROID_CLIENT_ID / _SECRET
CLIENT_SECRET = "local-secret"
SEED_REFRESH_TOKEN = "local-refresh-token"
MAX_COUNT = 100  # VRoid Hub caps `count` per page
DEFAULT_COUNT = 24

ID_BASE = 9_100_000_000_000_000_000  # VRoid Hub ids are 19-digit decimal strings
ID_STEP = 104_729
IMAGE_HOST = "https://vroid-hub.pximg.net"

log = logging.getLogger("standins.vroid_hub")


# -- catalog ----------------------------------------------------------------------------------------


@dataclass
class Catalog:
    """Staff picks are models [0, staff_picks); hearts are the next `hearts` models starting `overlap`
    models before the end of the staff picks, so `overlap` models are in both lists."""

    seed: int = 7
    staff_picks: int = 120
    hearts: int = 80
    overlap: int = 20
    defect_every: int = 17  # every n-th model is malformed (0: none)
    max_count: int = MAX_COUNT  # page size cap; tests lower it to get more pages
    removed: set[str] = field(default_factory=set)
    patches: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> fields to overwrite

    def hearts_start(self) -> int:
        return max(0, self.staff_picks - self.overlap)

    def indices(self, source: str) -> range:
        if source == "staff_picks":
            return range(0, self.staff_picks)
        start = self.hearts_start()
        return range(start, start + self.hearts)


def model_id(index: int) -> str:
    return str(ID_BASE - index * ID_STEP)


def index_of(raw_id: str) -> int | None:
    try:
        offset = ID_BASE - int(raw_id)
    except ValueError:
        return None
    return offset // ID_STEP if offset >= 0 else None


WORDS = ["sakura", "neon", "kitsune", "hoshi", "midnight", "cafe", "idol", "maid", "ranger", "witch"]
TAGS = [
    "VRoid",
    "VRM",
    "オリジナル",
    "女の子",
    "男の子",
    "ケモミミ",
    "ロボット",
    "制服",
    "和服",
    "ファンタジー",
]
VRM0_LICENSES = [
    # (modification, redistribution, credit, characterization_allowed_user,
    #  sexual_expression, violent_expression, corporate_commercial_use, personal_commercial_use)
    ("default", "default", "default", "default", "default", "default", "default", "default"),
    ("allow", "allow", "unnecessary", "everyone", "disallow", "disallow", "allow", "profit"),
    ("allow", "disallow", "necessary", "everyone", "disallow", "allow", "disallow", "nonprofit"),
    ("disallow", "disallow", "necessary", "author", "disallow", "disallow", "disallow", "disallow"),
]
VRM1_METAS = [
    {
        "modification": "prohibited",
        "allowRedistribution": False,
        "creditNotation": "required",
        "avatarPermission": "everyone",
        "commercialUsage": "personalNonProfit",
        "licenseUrl": "https://vrm.dev/licenses/1.0/",
    },
    {
        "modification": "allowModificationRedistribution",
        "allowRedistribution": True,
        "creditNotation": "unnecessary",
        "avatarPermission": "everyone",
        "commercialUsage": "corporation",
        "licenseUrl": "https://vrm.dev/licenses/1.0/",
    },
    {
        "modification": "allowModification",
        "allowRedistribution": False,
        "creditNotation": "required",
        "avatarPermission": "onlySeparatelyLicensedPerson",
        "commercialUsage": "personalProfit",
        "licenseUrl": "https://vrm.dev/licenses/1.0/",
        "otherLicenseUrl": "https://example.com/terms",
    },
]
DEFECTS = [
    "missing_name",
    "download_count_not_int",
    "huge_name",
    "huge_description",
    "missing_id",
    "tags_not_list",
    "no_portrait_image",
    "age_limit_not_object",
]


def _image(kind: str, raw_id: str, width: int, height: int) -> dict[str, Any]:
    url = f"{IMAGE_HOST}/c/{width}x{height}_a2_g5/images/{kind}/{raw_id}.png"
    return {"url": url, "url2x": url.replace(".png", "@2x.png"), "width": width, "height": height}


def build_model(catalog: Catalog, index: int) -> dict[str, Any]:
    """The `character_model` VRoid Hub would list at `index` (deterministic for a seed)."""
    rng = random.Random(f"{catalog.seed}:{index}")
    raw_id = model_id(index)
    character_name = f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} #{index}"
    user_id = str(10_000_000 + rng.randrange(90_000_000))
    created = 1_600_000_000 + index * 3_600
    iso = time.strftime("%Y-%m-%dT%H:%M:%S.000+09:00", time.gmtime(created + 9 * 3600))
    vrm1 = index % 5 == 4
    version: dict[str, Any] = {
        "id": str(ID_BASE // 2 - index),
        "created_at": iso,
        "spec_version": "1.0" if vrm1 else "0.0",
        "exporter_version": "VRoid Studio-1.29.0" if vrm1 else "UniVRM-0.99.1",
        "triangle_count": 30_000 + rng.randrange(40_000),
        "mesh_count": 5,
        "vrm_meta": dict(VRM1_METAS[index % len(VRM1_METAS)]) if vrm1 else None,
    }
    model: dict[str, Any] = {
        "id": raw_id,
        "name": None if index % 3 == 0 else f"{character_name} ({rng.choice(['通常', '私服', 'Ver.2'])})",
        "description": f"{character_name} です。" if index % 4 else "",
        "is_private": False,
        "is_downloadable": index % 6 != 0,
        "is_comment_off": False,
        "is_other_users_available": index % 19 != 18,
        "is_other_users_allow_viewer_preview": True,
        "is_hearted": True,
        "portrait_image": {
            "is_default_image": False,
            "original": _image("portrait_images", raw_id, 600, 600),
            "sq600": _image("portrait_images", raw_id, 600, 600),
            "sq300": _image("portrait_images", raw_id, 300, 300),
            "sq150": _image("portrait_images", raw_id, 150, 150),
            "w300": _image("portrait_images", raw_id, 300, 400),
        },
        "full_body_image": {
            "is_default_image": False,
            "original": _image("full_body_images", raw_id, 600, 800),
            "w600": _image("full_body_images", raw_id, 600, 800),
            "w300": _image("full_body_images", raw_id, 300, 400),
        },
        "license": None
        if vrm1
        else dict(
            zip(
                (
                    "modification",
                    "redistribution",
                    "credit",
                    "characterization_allowed_user",
                    "sexual_expression",
                    "violent_expression",
                    "corporate_commercial_use",
                    "personal_commercial_use",
                ),
                VRM0_LICENSES[index % len(VRM0_LICENSES)],
                strict=True,
            )
        ),
        "created_at": iso,
        "published_at": iso,
        "heart_count": rng.randrange(50_000),
        "download_count": rng.randrange(200_000),
        "usage_count": rng.randrange(10_000),
        "view_count": rng.randrange(1_000_000),
        "tags": [
            {"name": tag, "locale": None, "en_name": None, "ja_name": None}
            for tag in rng.sample(TAGS, k=rng.randrange(0, 5))
        ],
        "age_limit": {"is_r18": index % 11 == 10, "is_r15": index % 7 == 6, "is_adult": index % 11 == 10},
        "character": {
            "id": str(ID_BASE // 3 - index),
            "name": character_name,
            "is_private": False,
            "created_at": iso,
            "published_at": iso,
            "user": {
                "id": user_id,
                "pixiv_user_id": user_id,
                "name": f"creator_{user_id[-4:]}",
                "icon": {"is_default_image": True, "sq170": _image("icons", user_id, 170, 170)},
            },
        },
        "latest_character_model_version": version,
    }
    if catalog.defect_every and index % catalog.defect_every == catalog.defect_every - 1:
        _break(model, DEFECTS[(index // catalog.defect_every) % len(DEFECTS)])
    model.update(catalog.patches.get(raw_id, {}))
    return model


def _break(model: dict[str, Any], defect: str) -> None:
    if defect == "missing_name":
        model["name"] = None
        model["character"].pop("name")
    elif defect == "download_count_not_int":
        model["download_count"] = "12k"
    elif defect == "huge_name":
        model["name"] = "長" * 100_000
    elif defect == "huge_description":
        model["description"] = "x" * 300_000
    elif defect == "missing_id":
        model.pop("id")
    elif defect == "tags_not_list":
        model["tags"] = "VRoid,VRM"
    elif defect == "no_portrait_image":
        model["portrait_image"] = None
    elif defect == "age_limit_not_object":
        model["age_limit"] = "R18"
    model["_defect"] = defect  # not a VRoid Hub field; lets tests name what they expect skipped


def listed(catalog: Catalog, source: str) -> list[int]:
    return [i for i in catalog.indices(source) if model_id(i) not in catalog.removed]


# -- state and control ------------------------------------------------------------------------------


@dataclass
class Fault:
    status: int
    path: str = "*"  # "*", "/oauth/token", "/api/staff_picks", "/api/hearts"
    times: int = 1
    retry_after: str | None = None
    code: str | None = None


@dataclass
class Tokens:
    ttl_s: int = 3600
    rotate_refresh_tokens: bool = True
    revoke_rotated: bool = False  # Doorkeeper: the previous refresh token dies once the new one is used
    refresh_tokens: dict[str, str | None] = field(default_factory=dict)  # token -> predecessor
    access_tokens: dict[str, tuple[float, str]] = field(default_factory=dict)  # token -> (expiry, refresh)
    revoked: set[str] = field(default_factory=set)


class Control:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.reset()

    def reset(self) -> None:
        self.catalog = Catalog(seed=self.seed)
        self.tokens = Tokens(refresh_tokens={SEED_REFRESH_TOKEN: None})
        self.faults: list[Fault] = []
        self.requests: list[dict[str, Any]] = []
        self.counters = {"token_grants": 0, "api_calls": 0, "faults_served": 0}

    def snapshot(self) -> dict[str, Any]:
        return {
            "catalog": {
                "seed": self.catalog.seed,
                "staff_picks": self.catalog.staff_picks,
                "hearts": self.catalog.hearts,
                "overlap": self.catalog.overlap,
                "defect_every": self.catalog.defect_every,
                "max_count": self.catalog.max_count,
                "removed": sorted(self.catalog.removed),
                "patches": self.catalog.patches,
            },
            "tokens": {
                "ttl_s": self.tokens.ttl_s,
                "rotate_refresh_tokens": self.tokens.rotate_refresh_tokens,
                "revoke_rotated": self.tokens.revoke_rotated,
                "revoked_refresh_tokens": len(self.tokens.revoked),
            },
            "faults": [vars(f) for f in self.faults],
            "counters": dict(self.counters),
            "requests": self.requests[-2000:],
        }

    def apply(self, body: dict[str, Any]) -> None:
        if body.get("reset"):
            self.reset()
        catalog = body.get("catalog") or {}
        for key in ("seed", "staff_picks", "hearts", "overlap", "defect_every", "max_count"):
            if key in catalog:
                setattr(self.catalog, key, int(catalog[key]))
        self.catalog.removed |= {str(i) for i in catalog.get("remove", [])}
        self.catalog.removed -= {str(i) for i in catalog.get("restore", [])}
        for raw_id, fields in (catalog.get("patch") or {}).items():
            self.catalog.patches.setdefault(str(raw_id), {}).update(dict(fields))
        tokens = body.get("tokens") or {}
        if "ttl_s" in tokens:
            self.tokens.ttl_s = int(tokens["ttl_s"])
        for key in ("rotate_refresh_tokens", "revoke_rotated"):
            if key in tokens:
                setattr(self.tokens, key, bool(tokens[key]))
        if tokens.get("expire_access_tokens"):
            self.tokens.access_tokens = {k: (0.0, r) for k, (_, r) in self.tokens.access_tokens.items()}
        for raw in body.get("faults", []):
            self.faults.append(
                Fault(
                    status=int(raw["status"]),
                    path=str(raw.get("path", "*")),
                    times=int(raw.get("times", 1)),
                    retry_after=None if raw.get("retry_after") is None else str(raw["retry_after"]),
                    code=raw.get("code"),
                )
            )
        if body.get("clear_log"):
            self.requests.clear()

    def take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.path in ("*", path):
                fault.times -= 1
                self.faults = [f for f in self.faults if f.times > 0]
                self.counters["faults_served"] += 1
                return fault
        return None


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"data": None, "error": {"code": code, "message": message}}, status=status, headers=headers
    )


def _fingerprint(token: str | None) -> str | None:
    return hashlib.sha256(token.encode()).hexdigest()[:12] if token else None


# -- handlers ---------------------------------------------------------------------------------------


class StandIn:
    def __init__(self, control: Control) -> None:
        self.control = control

    def _log(self, request: web.Request, status: int, **extra: Any) -> None:
        auth = request.headers.get("Authorization", "")
        self.control.requests.append(
            {
                "at": time.time(),
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "apiVersion": request.headers.get("X-Api-Version"),
                "token": _fingerprint(auth.removeprefix("Bearer ").strip() or None),
                "status": status,
                **extra,
            }
        )
        del self.control.requests[:-5000]

    def _fault_response(self, request: web.Request) -> web.Response | None:
        fault = self.control.take_fault(request.path)
        if fault is None:
            return None
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
        if fault.status == 401:
            headers = {"WWW-Authenticate": 'Bearer error="invalid_token", error_description="expired"'}
            response = _error(401, fault.code or "UNAUTHORIZED", "The access token expired", headers)
        elif fault.status == 429:
            response = _error(429, fault.code or "TOO_MANY_REQUESTS", "Rate limit exceeded", headers)
        else:
            response = _error(
                fault.status, fault.code or "INTERNAL_SERVER_ERROR", "Scripted failure", headers
            )
        self._log(request, fault.status, fault=True)
        return response

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        faulted = self._fault_response(request)
        if faulted is not None:
            return faulted
        tokens = self.control.tokens
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            self._log(request, 401)
            return web.json_response(
                {"error": "invalid_client", "error_description": "Client authentication failed"}, status=401
            )
        if form.get("grant_type") != "refresh_token":
            self._log(request, 400)
            return web.json_response(
                {"error": "unsupported_grant_type", "error_description": "only refresh_token here"},
                status=400,
            )
        refresh = str(form.get("refresh_token") or "")
        if refresh not in tokens.refresh_tokens or refresh in tokens.revoked:
            self._log(request, 400)
            return web.json_response(
                {"error": "invalid_grant", "error_description": "The refresh token is invalid or revoked"},
                status=400,
            )
        access = secrets.token_urlsafe(24)
        new_refresh = refresh
        if tokens.rotate_refresh_tokens:
            new_refresh = secrets.token_urlsafe(24)
            tokens.refresh_tokens[new_refresh] = refresh
        tokens.access_tokens[access] = (time.time() + tokens.ttl_s, new_refresh)
        self.control.counters["token_grants"] += 1
        self._log(request, 200, refreshToken=_fingerprint(refresh), rotated=new_refresh != refresh)
        return web.json_response(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": tokens.ttl_s,
                "refresh_token": new_refresh,
                "scope": "default",
                "created_at": int(time.time()),
            }
        )

    def _authenticate(self, request: web.Request) -> web.Response | None:
        if request.headers.get("X-Api-Version") != API_VERSION:
            self._log(request, 400)
            return _error(400, "API_VERSION_REQUIRED", f"send X-Api-Version: {API_VERSION}")
        auth = request.headers.get("Authorization", "")
        access = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else ""
        tokens = self.control.tokens
        entry = tokens.access_tokens.get(access)
        if entry is None or entry[0] < time.time():
            self._log(request, 401)
            return _error(
                401,
                "UNAUTHORIZED",
                "The access token is invalid" if entry is None else "The access token expired",
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        predecessor = tokens.refresh_tokens.get(entry[1])
        if tokens.revoke_rotated and predecessor is not None:
            tokens.revoked.add(predecessor)  # Doorkeeper revokes the old refresh token on first use
        return None

    async def list_models(self, request: web.Request) -> web.Response:
        source = request.path.removeprefix("/api/")
        denied = self._authenticate(request)
        if denied is not None:
            return denied
        faulted = self._fault_response(request)
        if faulted is not None:
            return faulted
        self.control.counters["api_calls"] += 1
        try:
            requested = int(request.query.get("count", DEFAULT_COUNT))
            count = min(self.control.catalog.max_count, max(1, requested))
        except ValueError:
            self._log(request, 400)
            return _error(400, "BAD_REQUEST", "count must be an integer")
        indices = listed(self.control.catalog, source)
        max_id = request.query.get("max_id")
        if max_id is not None:
            boundary = index_of(max_id)
            if boundary is None:
                self._log(request, 400)
                return _error(400, "BAD_REQUEST", "max_id must be a model id")
            indices = [i for i in indices if i > boundary]
        page = indices[:count]
        data = [build_model(self.control.catalog, i) for i in page]
        links: dict[str, Any] = {}
        if len(indices) > count:
            query = urlencode({"max_id": model_id(page[-1]), "count": count})
            links["next"] = {"href": f"/api/{source}?{query}"}
        self._log(request, 200, items=len(data))
        return web.json_response({"data": data, "error": None, "_links": links})

    async def control_get(self, request: web.Request) -> web.Response:
        return web.json_response(self.control.snapshot())

    async def control_post(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            self.control.apply(body)
        except (ValueError, KeyError, TypeError) as exc:
            return web.json_response({"error": f"bad control request: {exc}"}, status=400)
        return web.json_response(self.control.snapshot())

    async def catalog(self, request: web.Request) -> web.Response:
        """The raw entries currently listed per source (for tests and for reading the fixtures)."""
        catalog = self.control.catalog
        return web.json_response(
            {
                source: [build_model(catalog, i) for i in listed(catalog, source)]
                for source in ("staff_picks", "hearts")
            }
        )

    async def healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})


def make_app(seed: int = 7) -> web.Application:
    standin = StandIn(Control(seed))
    app = web.Application(client_max_size=1024**2)
    app.router.add_post("/oauth/token", standin.token)
    app.router.add_get("/api/staff_picks", standin.list_models)
    app.router.add_get("/api/hearts", standin.list_models)
    app.router.add_get("/_control", standin.control_get)
    app.router.add_post("/_control", standin.control_post)
    app.router.add_get("/_control/catalog", standin.catalog)
    app.router.add_get("/healthz", standin.healthz)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    web.run_app(make_app(args.seed), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
