// Generated from docs/openapi/issue_tokens.yaml by `npm run generate` (clients/web): do not edit.
// tests/test_web_client.py fails when this file and the document disagree.

export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Health of the stores this function uses */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description all stores answer */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Health"];
                    };
                };
                /** @description a store is down */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Health"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/livekit-token": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A LiveKit access token for a room the caller is a participant of
         * @description Reused from the Redis cache while more than half of its lifetime is left; lifetime at most
         *     1 hour and never past the room's expiresAt. Limited to RATE_LIMIT_LIVEKIT_PER_MIN (30) a
         *     minute per user.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": components["schemas"]["RoomRequest"];
                };
            };
            responses: {
                /** @description a token LiveKit accepts (HS256 with the API secret) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["LiveKitToken"];
                    };
                };
                400: components["responses"]["BadRequest"];
                401: components["responses"]["Unauthenticated"];
                403: components["responses"]["Forbidden"];
                404: components["responses"]["NotFound"];
                409: components["responses"]["RoomClosed"];
                413: components["responses"]["TooLarge"];
                415: components["responses"]["NotJson"];
                429: components["responses"]["RateLimited"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/ws-token": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A WebSocket server token (EdDSA, at most 5 minutes), optionally bound to a room
         * @description Limited to RATE_LIMIT_WS_PER_MIN (60) a minute per user.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: {
                content: {
                    "application/json": {
                        /** @description checked like /livekit-token and put in the `room` claim */
                        roomId?: components["schemas"]["RoomId"];
                    };
                };
            };
            responses: {
                /** @description the token; its claims are iss, aud, sub, jti, iat, exp and room when asked */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            token: string;
                            expiresAt: components["schemas"]["Time"];
                        };
                    };
                };
                400: components["responses"]["BadRequest"];
                401: components["responses"]["Unauthenticated"];
                403: components["responses"]["Forbidden"];
                404: components["responses"]["NotFound"];
                409: components["responses"]["RoomClosed"];
                413: components["responses"]["TooLarge"];
                415: components["responses"]["NotJson"];
                429: components["responses"]["RateLimited"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/.well-known/jwks.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The public keys of the WebSocket tokens, newest first (old and new during a rotation) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description a JWK Set; `Cache-Control: public, max-age=300` */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            keys: {
                                /** @enum {string} */
                                kty: "OKP" | "EC";
                                /** @enum {string} */
                                crv?: "Ed25519" | "P-256";
                                x?: string;
                                y?: string;
                                kid: string;
                                /** @enum {string} */
                                alg: "EdDSA" | "ES256";
                                /** @enum {string} */
                                use: "sig";
                            }[];
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description a Firestore auto id or the matching's pair id; never a reserved `__name__` */
        RoomId: string;
        /**
         * Format: date-time
         * @description RFC 3339, UTC, milliseconds
         */
        Time: string;
        Health: {
            function: string;
            /** @enum {string} */
            status: "ok" | "degraded";
            stores: Record<string, never>;
        };
        RoomRequest: {
            roomId: components["schemas"]["RoomId"];
        };
        LiveKitToken: {
            /** @description claims: iss = API key, sub = uid, nbf, exp, name, video grant, metadata */
            token: string;
            /** @description the LiveKit server to connect to */
            url: string;
            /** @description the LiveKit room name */
            room: string;
            /** @description the caller's uid */
            identity: string;
            expiresAt: components["schemas"]["Time"];
        };
        Error: {
            error: {
                code: string;
                message: string;
                /** @description the offending request field (400 only) */
                field?: string;
            };
        };
    };
    responses: {
        /** @description the request does not match this document (code `invalid_argument` or `invalid_json`); `field` names it */
        BadRequest: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description the body is over 64 KB (code `payload_too_large`) */
        TooLarge: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description the body is not `application/json` (code `unsupported_media_type`) */
        NotJson: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description missing, expired, forged or otherwise invalid Firebase ID token */
        Unauthenticated: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /**
         * @description `permission_denied`: the caller is not a participant of the room; `suspended`: the caller's
         *     account is suspended (account_api), with `until` in the error object (RFC 3339, or null until
         *     staff lift it). A suspended user also gets no WebSocket token without a room.
         */
        Forbidden: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"] & {
                    error?: {
                        /** @description code suspended only */
                        until?: components["schemas"]["Time"] | null;
                    };
                };
            };
        };
        /** @description no such room (code not_found) */
        NotFound: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description the room is closed or past its expiresAt (code room_closed) */
        RoomClosed: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description too many requests (code rate_limited); retry after the Retry-After header's seconds */
        RateLimited: {
            headers: {
                "Retry-After": number;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
    };
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
