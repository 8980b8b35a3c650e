// Generated from docs/openapi/matching_api.yaml by `npm run generate` (clients/web): do not edit.
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
    "/queue": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Join the random queue, or refresh the caller's ticket (idempotent, keeps the place)
         * @description Budget RATE_LIMIT_QUEUE_PER_MIN (30) a minute per user, shared with DELETE /queue.
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
                    "application/json": components["schemas"]["QueueRequest"];
                };
            };
            responses: {
                /** @description queued; a worker will create the room and set users/{uid}.currentRoomId */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Ticket"];
                    };
                };
                400: components["responses"]["BadRequest"];
                401: components["responses"]["Unauthenticated"];
                403: components["responses"]["Forbidden"];
                409: components["responses"]["AlreadyInRoom"];
                413: components["responses"]["TooLarge"];
                415: components["responses"]["NotJson"];
                429: components["responses"]["TooMany"];
                503: components["responses"]["Busy"];
            };
        };
        /** Leave the random queue (idempotent) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description removed is false when there was nothing to remove */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            removed: boolean;
                        };
                    };
                };
                401: components["responses"]["Unauthenticated"];
                429: components["responses"]["TooMany"];
                503: components["responses"]["Busy"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/rooms": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Create a select room; the caller is its first participant
         * @description Budget RATE_LIMIT_ROOM_CREATE_PER_MIN (10) a minute per user.
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
                    "application/json": {
                        maxParticipants: number;
                    };
                };
            };
            responses: {
                /** @description created */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["SelectRoom"];
                    };
                };
                400: components["responses"]["BadRequest"];
                401: components["responses"]["Unauthenticated"];
                403: components["responses"]["Forbidden"];
                409: components["responses"]["AlreadyInRoom"];
                413: components["responses"]["TooLarge"];
                415: components["responses"]["NotJson"];
                429: components["responses"]["TooMany"];
                503: components["responses"]["Busy"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/rooms/join": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Join a select room by its code (transactional; never over-fills)
         * @description A full room, a closed one and a code nobody holds all answer the same 404, so codes cannot
         *     be probed. Budget RATE_LIMIT_ROOM_JOIN_PER_MIN (10) a minute per user: the tight one, since
         *     this is where codes could be guessed.
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
                    "application/json": {
                        /**
                         * @description six characters of 23456789ABCDEFGHJKMNPQRSTUVWXYZ; case, spaces and dashes are ignored
                         * @example K7M-Q2X
                         */
                        roomCode: string;
                    };
                };
            };
            responses: {
                /** @description joined (or already a participant) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            roomId: components["schemas"]["RoomId"];
                        };
                    };
                };
                400: components["responses"]["BadRequest"];
                401: components["responses"]["Unauthenticated"];
                403: components["responses"]["Forbidden"];
                404: components["responses"]["NoRoomWithThisCode"];
                409: components["responses"]["AlreadyInRoom"];
                413: components["responses"]["TooLarge"];
                415: components["responses"]["NotJson"];
                429: components["responses"]["TooMany"];
                503: components["responses"]["Busy"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/rooms/{roomId}/leave": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Leave a room (idempotent); the room closes when it can no longer go on
         * @description Removes the caller from participants and clears their currentRoomId; an active room left
         *     with one person (or a waiting room with none) closes in the same step, its call session
         *     ends and the others are released. Budget RATE_LIMIT_ROOM_LEAVE_PER_MIN (30) a minute per user.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    roomId: components["schemas"]["RoomId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description left is false when the caller was not in the room */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            roomId: components["schemas"]["RoomId"];
                            left: boolean;
                        };
                    };
                };
                400: components["responses"]["BadRequest"];
                401: components["responses"]["Unauthenticated"];
                404: components["responses"]["NoSuchRoom"];
                429: components["responses"]["TooMany"];
                503: components["responses"]["Busy"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/presence": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Heartbeat (every ~20 s); Firestore is written on a change or at most once a minute
         * @description Budget RATE_LIMIT_PRESENCE_PER_MIN (12) a minute per user.
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
                    "application/json": {
                        /** @enum {string} */
                        status: "online" | "offline";
                    };
                };
            };
            responses: {
                /** @description the effective status ('online' does not override in_call or matching) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            status: "online" | "offline" | "in_call" | "matching";
                            /** @description whether users/{uid} was written */
                            written: boolean;
                        };
                    };
                };
                400: components["responses"]["BadRequest"];
                401: components["responses"]["Unauthenticated"];
                413: components["responses"]["TooLarge"];
                415: components["responses"]["NotJson"];
                429: components["responses"]["TooMany"];
                503: components["responses"]["Busy"];
            };
        };
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
        QueueRequest: {
            preferences?: {
                /**
                 * @description the gender the caller wants to meet; leave it out to meet anyone
                 * @enum {string}
                 */
                gender?: "male" | "female" | "other";
            };
        };
        Ticket: {
            userId: string;
            preferences: {
                /** @enum {string} */
                gender?: "male" | "female" | "other";
            };
            priority: number;
            /** @description the caller's place in the queue */
            createdAt: components["schemas"]["Time"];
            /** @description refresh with another POST /queue before this */
            expiresAt: components["schemas"]["Time"];
            /** @enum {string} */
            state: "queued" | "claimed";
        };
        SelectRoom: {
            roomId: components["schemas"]["RoomId"];
            roomCode: string;
            maxParticipants: number;
            expiresAt: components["schemas"]["Time"];
        };
        Health: {
            function: string;
            /** @enum {string} */
            status: "ok" | "degraded";
            stores: Record<string, never>;
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
        /** @description missing or invalid ID token (code `unauthenticated`) */
        Unauthenticated: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /**
         * @description `adult_confirmation_required`: users/{uid}.adultConfirmedAt is not set (the client sets it
         *     once, as serverTimestamp()); `suspended`: the account is suspended (account_api), with
         *     `until` in the error object (RFC 3339, or null until staff lift it).
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
        /** @description no such room (code `not_found`) */
        NoSuchRoom: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /**
         * @description no open room with a free place has this code (code `not_found`); also the answer when the
         *     caller and someone in the room blocked one another: a block is not revealed
         */
        NoRoomWithThisCode: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description the caller is in a room; leave it first (code `already_in_room`) */
        AlreadyInRoom: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description the caller's budget for this route is spent (code `rate_limited`), or another request of theirs is under way (code `concurrent_request`) */
        TooMany: {
            headers: {
                "Retry-After": components["headers"]["RetryAfter"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description the documents stayed contended for the whole transaction budget (code `busy`) */
        Busy: {
            headers: {
                "Retry-After": components["headers"]["RetryAfter"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
    };
    parameters: never;
    requestBodies: never;
    headers: {
        /** @description seconds to wait before trying again */
        RetryAfter: number;
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
