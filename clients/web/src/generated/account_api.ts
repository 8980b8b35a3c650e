// Generated from docs/openapi/account_api.yaml by `npm run generate` (clients/web): do not edit.
// tests/test_web_client.py fails when this file and the document disagree.

export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Health of the stores this function uses (Firestore, Redis, Pub/Sub, Firebase Auth) */
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
                    content?: never;
                };
                /** @description a store is down */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
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
    "/blocks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The users the caller blocked, newest first */
        get: {
            parameters: {
                query?: {
                    limit?: components["parameters"]["Limit"];
                    /** @description the previous page's nextCursor (opaque); left out for the first page; one this API did not return is a 422 */
                    cursor?: components["parameters"]["Cursor"];
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description one page */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            items: components["schemas"]["Block"][];
                            nextCursor: components["schemas"]["NextCursor"];
                        };
                    };
                };
                400: components["responses"]["BadRequest"];
                401: components["responses"]["Unauthenticated"];
                422: components["responses"]["Unprocessable"];
                429: components["responses"]["RateLimited"];
            };
        };
        put?: never;
        /**
         * Block a user (idempotent; one at a time; budget RATE_LIMIT_BLOCKS_PER_MIN)
         * @description From now on the two are never paired by random matching, and neither can join a select room
         *     the other is in (the answer is the same 404 as for a full room). When both are in the same
         *     room now, both leave it: a pair's room closes. The caller needs a profile (users/{uid}).
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
                        userId: components["schemas"]["UserId"];
                    };
                };
            };
            responses: {
                /** @description already blocked (the existing block) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Block"];
                    };
                };
                /** @description blocked */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Block"];
                    };
                };
                400: components["responses"]["BadRequest"];
                401: components["responses"]["Unauthenticated"];
                /** @description `profile_required`: the caller has no profile document yet */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                404: components["responses"]["NotFound"];
                /** @description `too_many_blocks`: the caller holds MAX_BLOCKS_PER_USER blocks (default 1000) */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                429: components["responses"]["RateLimited"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/blocks/{userId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Remove the caller's block of a user (idempotent; budget RATE_LIMIT_BLOCKS_PER_MIN)
         * @description The pair stays apart while the other user still blocks the caller.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    userId: components["schemas"]["UserId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description removed is false when there was no such block */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            userId: string;
                            removed: boolean;
                        };
                    };
                };
                400: components["responses"]["BadRequest"];
                401: components["responses"]["Unauthenticated"];
                429: components["responses"]["RateLimited"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/reports": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Staff - reports in one status, newest first */
        get: {
            parameters: {
                query?: {
                    status?: "open" | "resolved";
                    limit?: components["parameters"]["Limit"];
                    /** @description the previous page's nextCursor (opaque); left out for the first page; one this API did not return is a 422 */
                    cursor?: components["parameters"]["Cursor"];
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description one page */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            items: components["schemas"]["StaffReport"][];
                            nextCursor: components["schemas"]["NextCursor"];
                        };
                    };
                };
                400: components["responses"]["BadRequest"];
                401: components["responses"]["Unauthenticated"];
                403: components["responses"]["StaffOnly"];
                422: components["responses"]["Unprocessable"];
                429: components["responses"]["RateLimited"];
            };
        };
        put?: never;
        /**
         * Report a user who shared a room with the caller (budget RATE_LIMIT_REPORTS_PER_MIN)
         * @description Only about someone the room's call session lists beside the caller (a call can be reported for
         *     RETENTION_CALL_SESSION_DAYS, 30 by default); once per reporter, user and room. Open reports
         *     from REPORTS_SUSPEND_THRESHOLD (3) distinct users within REPORTS_SUSPEND_WINDOW_H (24) hours
         *     suspend the reported user until staff have resolved them.
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
                        roomId: components["schemas"]["RoomId"];
                        userId: components["schemas"]["UserId"];
                        reason: components["schemas"]["ReportReason"];
                        note?: components["schemas"]["Note"];
                    };
                };
            };
            responses: {
                /** @description filed */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Report"];
                    };
                };
                400: components["responses"]["BadRequest"];
                401: components["responses"]["Unauthenticated"];
                /**
                 * @description `permission_denied`: the caller and that user did not share this room (or it never became
                 *     a call, or its session is past retention); `profile_required`: the caller has no profile
                 */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description `already_reported`: the caller already reported this user for this room */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                429: components["responses"]["RateLimited"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/reports/{reportId}/resolve": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Staff - resolve a report (budget RATE_LIMIT_STAFF_ACTIONS_PER_MIN)
         * @description When the last open report about a user is resolved, an automatic review suspension on them
         *     ends (a staff suspension stays). A resolved report is deleted RETENTION_RESOLVED_REPORT_DAYS
         *     (365) later.
         */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    reportId: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @enum {string} */
                        resolution: "dismissed" | "actioned";
                        note?: components["schemas"]["Note"];
                    };
                };
            };
            responses: {
                /** @description resolved */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["StaffReport"];
                    };
                };
                400: components["responses"]["BadRequest"];
                401: components["responses"]["Unauthenticated"];
                403: components["responses"]["StaffOnly"];
                404: components["responses"]["NotFound"];
                /** @description `already_resolved` */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                429: components["responses"]["RateLimited"];
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/users/{userId}/suspension": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Staff - suspend a user, or ban them (until null); replaces any suspension in force
         * @description Takes effect at once: the user leaves the queue and their room (a pair's room closes), and
         *     the queue, select rooms, pairing and both token routes refuse them with 403 `suspended`
         *     (`until` in the error). A ban (`until: null`) also disables the Firebase Auth account; lifting
         *     it, or replacing it by a suspension with an end, enables it again. Budget
         *     RATE_LIMIT_STAFF_ACTIONS_PER_MIN.
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    userId: components["schemas"]["UserId"];
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * Format: date-time
                         * @description RFC 3339 with a zone, in the future (else 422), at most 3650 days ahead (else 422); null = a ban without end (required, nullable)
                         */
                        until: string | null;
                        /** @description one line, not blank; shown to the user in their export */
                        reason: string;
                    };
                };
            };
            responses: {
                /** @description the suspension in force */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Suspension"];
                    };
                };
                400: components["responses"]["BadRequest"];
                401: components["responses"]["Unauthenticated"];
                403: components["responses"]["StaffOnly"];
                404: components["responses"]["NotFound"];
                422: components["responses"]["Unprocessable"];
                429: components["responses"]["RateLimited"];
            };
        };
        post?: never;
        /** Staff - lift a user's suspension (idempotent; budget RATE_LIMIT_STAFF_ACTIONS_PER_MIN) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    userId: components["schemas"]["UserId"];
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description lifted is false when there was none */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            userId: string;
                            lifted: boolean;
                        };
                    };
                };
                400: components["responses"]["BadRequest"];
                401: components["responses"]["Unauthenticated"];
                403: components["responses"]["StaffOnly"];
                429: components["responses"]["RateLimited"];
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /**
         * Delete the caller's account (202; one at a time; budget RATE_LIMIT_ACCOUNT_PER_MIN)
         * @description Records the request and starts the `account_deletion` job, which removes the caller from the
         *     queue and their room and deletes or pseudonymises everything of them in Firestore, Redis and
         *     PostgreSQL, then the Firebase Auth user (docs/account.md, "Deletion policy"). Idempotent:
         *     asking again restarts the same job.
         */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description accepted; the job finishes within seconds unless a store is down (it retries) */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            status: "pending";
                            requestedAt: components["schemas"]["Time"];
                        };
                    };
                };
                401: components["responses"]["Unauthenticated"];
                429: components["responses"]["RateLimited"];
                /** @description `unavailable`: recorded but not started; call again (Retry-After) */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/me/export": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Everything Firestore holds about the caller, as JSON (budget RATE_LIMIT_ACCOUNT_PER_MIN)
         * @description The profile and its subcollections (private, vrmSettings, sessions, blocks), the matching
         *     request, the call sessions the caller took part in (without the other participants' ids),
         *     the reports the caller filed and the caller's suspension. The invitations database is served
         *     by invitations_api (GET /me/participations, GET /tickets/mine).
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description the export (Content-Disposition attachment) */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            userId: string;
                            exportedAt: components["schemas"]["Time"];
                            profile: Record<string, never> | null;
                            private: Record<string, never>;
                            vrmSettings: Record<string, never>;
                            sessions: Record<string, never>;
                            blocks: Record<string, never>;
                            matchingRequest: Record<string, never> | null;
                            callSessions: Record<string, never>[];
                            reportsFiled: Record<string, never>[];
                            suspension: Record<string, never> | null;
                        };
                    };
                };
                401: components["responses"]["Unauthenticated"];
                429: components["responses"]["RateLimited"];
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
        /** @description a Firebase uid; not `.`, `..` or `__…__` */
        UserId: string;
        /** @description not `__…__` */
        RoomId: string;
        /**
         * Format: date-time
         * @description RFC 3339, UTC, milliseconds
         */
        Time: string;
        /** @enum {string} */
        ReportReason: "harassment" | "nudity" | "violence" | "hate" | "spam" | "underage" | "other";
        /** @description optional, not nullable, not blank; line breaks and tabs allowed, other control characters not */
        Note: string;
        /** @description null on the last page */
        NextCursor: string | null;
        Block: {
            userId: string;
            createdAt: components["schemas"]["Time"];
        };
        Report: {
            id: string;
            roomId: string;
            /** @description the reported user */
            userId: string;
            reason: components["schemas"]["ReportReason"];
            note: string | null;
            /** @enum {string} */
            status: "open" | "resolved";
            createdAt: components["schemas"]["Time"];
        };
        StaffReport: components["schemas"]["Report"] & {
            reporterId: string;
            /** @enum {string|null} */
            resolution: "dismissed" | "actioned" | "account_deleted" | null;
            resolvedBy: string | null;
            resolvedAt: components["schemas"]["Time"] | null;
            staffNote: string | null;
        };
        Suspension: {
            userId: string;
            /** @enum {string} */
            kind: "temporary" | "ban" | "review";
            until: components["schemas"]["Time"] | null;
            reason: string;
            /** @description the staff uid */
            createdBy: string;
            createdAt: components["schemas"]["Time"];
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
        /** @description invalid input (`invalid_argument` or `invalid_json`); `field` names it (413 beyond 64 KiB, 415 for a body that is not JSON) */
        BadRequest: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description the request matches this document but cannot be carried out (code `unprocessable`): a time that must be in the future, a cursor this API did not return; `field` names it */
        Unprocessable: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description missing or invalid ID token */
        Unauthenticated: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description `permission_denied`: the caller's token has no `staff` claim */
        StaffOnly: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description no such user (or report) */
        NotFound: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description `rate_limited` (the budget is spent) or `concurrent_request` (another request of the caller holds its lock); retry after Retry-After seconds */
        RateLimited: {
            headers: {
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
    };
    parameters: {
        Limit: number;
        /** @description the previous page's nextCursor (opaque); left out for the first page; one this API did not return is a 422 */
        Cursor: string;
    };
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
